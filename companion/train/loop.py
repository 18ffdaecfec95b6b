"""The training loop: the same for the GPT and the Transformer (nanoGPT's).

Each step: set the learning rate from the warm-up-then-cosine schedule, compute the loss on
a random batch, backpropagate, clip the gradients' global norm, take an AdamW step (weight
decay on the weight matrices and tables only, none on biases and layer-norm scales). Every
``eval_interval`` steps the run is measured and, with an ``out_dir``, saved:

* ``<name>.resume.npz``: the model with the optimisers' state and the random generators'
  positions, from which ``--resume`` continues exactly as an uninterrupted run would;
* ``<name>.history.jsonl``: one JSON line per evaluation;
* ``<name>.npz``: at the end, the final model without the optimisers' state.

Ctrl-C stops the run after the current step and saves ``<name>.resume.npz`` first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from companion.checks import number, positive_int, whole_number
from companion.files import as_path, remove_temporaries, write_text
from companion.train.checkpoint import restore_optimizers, save_checkpoint
from companion.train.optim import AdamW, clip_grad_norm, lr_schedule
from companion.train.runs import Run


@dataclass(frozen=True)
class TrainOptions:
    """How to train: batches, schedule, optimiser, evaluation, output. Checked when made.

    Parameters
    ----------
    batch_size : int
        Examples per step, ``B``.
    max_iters : int
        Steps to train in all (a resumed run continues up to it).
    learning_rate : float
        Peak learning rate, after the warm-up.
    min_lr : float, optional
        Learning rate at the end of the decay; ``learning_rate / 10`` by default.
    warmup_iters : int
        Steps of linear warm-up.
    lr_decay_iters : int, optional
        Step at which the cosine decay reaches ``min_lr``; ``max_iters`` by default.
    weight_decay : float
        AdamW's decay of the weight matrices and tables.
    beta1, beta2 : float
        AdamW's averaging rates.
    grad_clip : float
        Largest global gradient norm; 0 turns clipping off.
    eval_interval : int
        Steps between evaluations (and checkpoints).
    eval_iters : int
        Fixed seeded batches per split in each evaluation.
    seed : int
        Seeds the initial weights, the dropout masks and the batches.
    out_dir : str, optional
        Folder of the files of the module notes; nothing is written when None.
    name : str
        The files' names: ``<name>.npz``, ``<name>.resume.npz``, ``<name>.history.jsonl``.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """

    batch_size: int = 12
    max_iters: int = 2000
    learning_rate: float = 1e-3
    min_lr: float | None = None
    warmup_iters: int = 100
    lr_decay_iters: int | None = None
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_interval: int = 250
    eval_iters: int = 200
    seed: int = 1337
    out_dir: str | None = None
    name: str = "ckpt"

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_iters", "eval_interval", "eval_iters"):
            positive_int(getattr(self, name), name)
        whole_number(self.warmup_iters, "warmup_iters")
        whole_number(self.seed, "seed")
        number(self.learning_rate, "learning_rate", low=0, low_open=True)
        number(self.final_lr, "min_lr", low=0, high=self.learning_rate)
        whole_number(self.decay_iters, "lr_decay_iters", low=self.warmup_iters + 1)
        number(self.weight_decay, "weight_decay", low=0)
        number(self.beta1, "beta1", low=0, high=1, high_open=True)
        number(self.beta2, "beta2", low=0, high=1, high_open=True)
        number(self.grad_clip, "grad_clip", low=0)
        if self.out_dir is not None:
            as_path(self.out_dir, "out_dir")
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise ValueError(f"name must be a file name without '/'; got {self.name!r}")

    @property
    def final_lr(self) -> float:
        """``min_lr``, or ``learning_rate / 10`` when it is not given."""
        return self.learning_rate / 10 if self.min_lr is None else self.min_lr

    @property
    def decay_iters(self) -> int:
        """``lr_decay_iters``, or ``max_iters`` when it is not given."""
        return self.max_iters if self.lr_decay_iters is None else self.lr_decay_iters

    def lr(self, step: int) -> float:
        """The learning rate of ``step``: warm-up, then cosine decay to ``final_lr``."""
        return lr_schedule(
            step, self.learning_rate, self.warmup_iters, self.decay_iters, self.final_lr
        )

    def files(self) -> dict[str, Path] | None:
        """The files the run writes, by kind (``None`` without an ``out_dir``)."""
        if self.out_dir is None:
            return None
        folder = Path(self.out_dir)
        names = {"final": ".npz", "resume": ".resume.npz", "history": ".history.jsonl"}
        return {kind: folder / f"{self.name}{ending}" for kind, ending in names.items()}


class Interrupted(Exception):
    """Ctrl-C stopped a run after a whole step; ``resume`` is the file to continue from."""

    def __init__(self, step: int, resume: Path | None) -> None:
        self.step, self.resume = step, resume
        where = f"; continue with --resume {resume}" if resume else " (nothing was saved)"
        super().__init__(f"stopped after step {step}{where}")


def make_optimizers(model: Any, options: TrainOptions) -> list[AdamW]:
    """nanoGPT's two groups: decay the matrices and tables, not biases and LayerNorm.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    params = model.parameters()
    betas, lr = (options.beta1, options.beta2), options.learning_rate
    decay = {name: p for name, p in params.items() if p.ndim >= 2}
    no_decay = {name: p for name, p in params.items() if p.ndim < 2}
    groups = [AdamW(decay, lr, betas, weight_decay=options.weight_decay)]
    return groups + ([AdamW(no_decay, lr, betas, weight_decay=0.0)] if no_decay else [])


def train(
    run: Run,
    options: TrainOptions,
    *,
    resumed: dict[str, Any] | None = None,
    on_eval: Callable[[dict[str, Any]], None] | None = None,
    on_step: Callable[[int, float], None] | None = None,
) -> list[dict[str, Any]]:
    """Train ``run.model`` as the module notes say; return the history of evaluations.

    Parameters
    ----------
    run : Run
        The model, its batches and its evaluation (:mod:`companion.train.runs`).
    options : TrainOptions
    resumed : dict, optional
        The ``info`` of a resume checkpoint
        (:func:`~companion.train.checkpoint.load_checkpoint`), whose model is
        ``run.model``: the run goes on from its step.
    on_eval : callable, optional
        Called with each new history record (``step``, the measurements, ``lr``,
        ``elapsed`` seconds of training).
    on_step : callable, optional
        Called after each step with the step number and its loss (a progress bar).

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    model = run.model
    optimizers = make_optimizers(model, options)
    batch_rng = np.random.default_rng(options.seed + 1)
    start, history = 0, []
    if resumed is not None:
        restore_optimizers(optimizers, resumed["optimizers"])
        batch_rng.bit_generator.state = resumed["extra"]["batch_rng"]
        model.rng.bit_generator.state = resumed["extra"]["model_rng"]
        start, history = resumed["step"], list(resumed["extra"]["history"])
    save = _saver(run, options, optimizers, batch_rng, history)
    files = options.files()
    resume_file = files["resume"] if files is not None else None
    t0 = time.perf_counter() - (history[-1]["elapsed"] if history else 0.0)

    def evaluate(step: int) -> None:
        record = {"step": step, **run.evaluate(), "lr": options.lr(step)}
        history.append(record | {"elapsed": round(time.perf_counter() - t0, 3)})
        if on_eval is not None:
            on_eval(history[-1])
        save(step, final=False)

    model.train()
    if start == 0:
        evaluate(0)
    with _stop_on_ctrl_c() as stop_requested:
        for step in range(start, options.max_iters):
            batch = run.batch(batch_rng)  # the inputs and targets of one batch
            loss = train_step(model, batch, optimizers, options.lr(step), options.grad_clip)
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"the loss is {loss} at step {step}: lower the learning rate"
                )
            done = step + 1
            if on_step is not None:
                on_step(done, loss)
            if done % options.eval_interval == 0 or done == options.max_iters:
                evaluate(done)  # measures, and saves the resume file
            if stop_requested():
                save(done, final=False)
                raise Interrupted(done, resume_file)
    save(options.max_iters, final=True)  # also when a resumed run had nothing left to do
    return history


def train_step(
    model: Any, batch: tuple[np.ndarray, ...], optimizers: list[AdamW], lr: float, grad_clip: float
) -> float:
    """One step of the loop: the loss on ``batch``, backpropagation, clipping, an update.

    Returns the loss (before the update). ``benchmarks/gpt_step.py`` times this function.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    for optimizer in optimizers:
        optimizer.lr = lr
    model.zero_grad()
    _, loss = model(*batch)
    model.backward()
    grads = model.gradients()
    if grad_clip > 0:
        clip_grad_norm(grads, grad_clip)
    for optimizer in optimizers:
        optimizer.step(grads)
    return float(loss)


def _saver(
    run: Run,
    options: TrainOptions,
    optimizers: list[AdamW],
    batch_rng: np.random.Generator,
    history: list[dict[str, Any]],
) -> Callable[..., None]:
    """A function ``save(step, final)`` writing the run's files (doing nothing without out_dir)."""
    files = options.files()
    if files is None:
        return lambda step, final: None
    folder = files["final"].parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"out_dir {folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    remove_temporaries(folder, options.name)  # left by a run that was killed while writing
    run_options = {
        k: v for k, v in dataclasses.asdict(options).items() if k not in ("out_dir", "name")
    }
    run_options |= {"min_lr": options.final_lr, "lr_decay_iters": options.decay_iters}  # as run

    def save(step: int, final: bool) -> None:
        last = history[-1] if history else {}
        extra = {k: v for k, v in last.items() if k.endswith(("loss", "accuracy"))}
        common: dict[str, Any] = {"tokenizer": run.tokenizer, "step": step}
        if final:
            extra |= {"options": run_options, "task": run.task}
            save_checkpoint(files["final"], run.model, extra=extra, **common)
            return
        extra |= {
            "options": run_options,
            "task": run.task,
            "history": history,
            "batch_rng": batch_rng.bit_generator.state,
            "model_rng": run.model.rng.bit_generator.state,
        }
        save_checkpoint(files["resume"], run.model, optimizers=optimizers, extra=extra, **common)
        write_text(files["history"], "".join(json.dumps(r) + "\n" for r in history))

    return save


@contextlib.contextmanager
def _stop_on_ctrl_c() -> Iterator[Callable[[], bool]]:
    """While it lasts, a first Ctrl-C only asks the loop to stop after the current step.

    A second Ctrl-C stops at once, as usual. Outside the main thread (where Python cannot
    catch signals) nothing changes.
    """
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested.is_set
        return

    def ask(signum: int, frame: object) -> None:
        if requested.is_set():
            raise KeyboardInterrupt
        requested.set()

    previous = signal.signal(signal.SIGINT, ask)
    try:
        yield requested.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
