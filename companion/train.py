"""Train a GPT on Tiny Shakespeare: ``python -m companion.train``.

The loop is nanoGPT's: sample a batch of windows, compute the loss, backpropagate, clip
the gradients' global norm, set the learning rate from the warm-up-then-cosine schedule
and take an AdamW step (weight decay on the weight matrices and tables only, none on
biases and LayerNorm). Every ``eval_interval`` steps the mean loss on fixed seeded
batches of both splits is measured, a line is added to the history and a checkpoint is
written (atomically); ``--resume`` continues a run from its checkpoint with the same step
count, optimiser state, schedule and random batches, so an interrupted run ends exactly
as an uninterrupted one would.

Example (the nanoGPT "baby GPT", character level)::

    python -m companion.train --out-dir checkpoints --name baby_gpt_shakespeare_char

The same loop trains the encoder-decoder :class:`~companion.transformer.Transformer` on a
translation task, numbers written in digits to English words
(:mod:`companion.data.number_words`), with ``--model transformer``; its evaluations also
measure the exact-match accuracy of greedy decoding on held-out numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from companion._validate import describe, positive_int
from companion.bpe import BPETokenizer
from companion.char_tokenizer import CharTokenizer
from companion.checkpoint import (
    Model,
    Tokenizer,
    load_checkpoint,
    load_transformer_checkpoint,
    restore_optimizers,
    save_checkpoint,
)
from companion.data import get_batch, tiny_shakespeare, train_val_split
from companion.data.number_words import IGNORE, NumberWords
from companion.gpt import GPT, GPTConfig
from companion.optim import AdamW, _check_number, clip_grad_norm, lr_schedule
from companion.transformer import Transformer, TransformerConfig

#: Options that define the run: a resumed run must use the same ones.
RUN_OPTIONS = (
    "batch_size",
    "learning_rate",
    "min_lr",
    "warmup_iters",
    "lr_decay_iters",
    "weight_decay",
    "beta1",
    "beta2",
    "grad_clip",
    "eval_iters",
    "seed",
)


@dataclass(frozen=True)
class TrainOptions:
    """How to train: batches, schedule, optimiser, evaluation, output. Checked when made.

    Parameters
    ----------
    batch_size : int
        Windows per step, ``B``.
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
        Folder of the checkpoint and the history; nothing is written when None.
    name : str
        Files in ``out_dir``: ``<name>.resume.npz``, the checkpoint of each evaluation
        with the optimiser state (for ``resume``); ``<name>.npz``, the final model
        without it; ``<name>.history.jsonl``, one JSON line per evaluation.
    resume : str, optional
        A checkpoint to continue from.
    progress : bool
        Show a tqdm progress bar (the terminal command does; tests and notebooks do not).

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
    resume: str | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_iters", "eval_interval", "eval_iters"):
            positive_int(getattr(self, name), name)
        for name in ("warmup_iters", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0; got {describe(value)}")
        _check_number(self.learning_rate, "learning_rate", low=0.0, low_open=True)
        if self.min_lr is not None:
            _check_number(self.min_lr, "min_lr", low=0.0, high=self.learning_rate * (1 + 1e-12))
        if self.lr_decay_iters is not None:
            positive_int(self.lr_decay_iters, "lr_decay_iters")
        if self.decay_iters <= self.warmup_iters:
            raise ValueError(
                f"lr_decay_iters (or max_iters) must be larger than warmup_iters "
                f"({self.warmup_iters}); got {self.decay_iters}"
            )
        _check_number(self.weight_decay, "weight_decay", low=0.0)
        _check_number(self.beta1, "beta1", low=0.0, high=1.0)
        _check_number(self.beta2, "beta2", low=0.0, high=1.0)
        _check_number(self.grad_clip, "grad_clip", low=0.0)
        for name in ("out_dir", "resume"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a str (a path) or None; got {describe(value)}")
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise ValueError(f"name must be a file name without '/'; got {describe(self.name)}")
        if not isinstance(self.progress, bool):
            raise TypeError(f"progress must be True or False; got {describe(self.progress)}")

    @property
    def final_lr(self) -> float:
        """``min_lr``, or ``learning_rate / 10`` when it is not given."""
        return self.learning_rate / 10 if self.min_lr is None else float(self.min_lr)

    @property
    def decay_iters(self) -> int:
        """``lr_decay_iters``, or ``max_iters`` when it is not given."""
        return self.max_iters if self.lr_decay_iters is None else self.lr_decay_iters

    def lr(self, step: int) -> float:
        """The learning rate of ``step`` (warm-up, then cosine decay to ``final_lr``)."""
        return lr_schedule(
            step, self.learning_rate, self.warmup_iters, self.decay_iters, self.final_lr
        )


def make_tokenizer(text: str, kind: str = "char", vocab_size: int | None = None) -> Tokenizer:
    """A character tokenizer of ``text``, or a byte-pair tokenizer trained on it.

    Parameters
    ----------
    text : str
        The text to learn the tokens of (for BPE, pass the training part only).
    kind : {"char", "bpe"}
    vocab_size : int, optional
        Needed for ``"bpe"`` (>= 256); not allowed for ``"char"``.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    if kind == "char":
        if vocab_size is not None:
            raise ValueError(
                f"vocab_size is only for the bpe tokenizer (the characters of the text "
                f"make the char vocabulary); got vocab_size={vocab_size}"
            )
        return CharTokenizer.from_text(text)
    if kind == "bpe":
        if vocab_size is None or isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
            raise ValueError(
                f"vocab_size must be an int >= 256 for bpe; got {describe(vocab_size)}"
            )
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be an int >= 256 for bpe; got {vocab_size}")
        tokenizer = BPETokenizer()
        tokenizer.train(text, vocab_size)
        return tokenizer
    raise ValueError(f"tokenizer must be 'char' or 'bpe'; got {describe(kind)}")


def estimate_loss(
    model: GPT, data: np.ndarray, *, batch_size: int, eval_iters: int, seed: int
) -> float:
    """Mean loss of ``model`` over ``eval_iters`` batches drawn with ``seed`` (no dropout).

    The same seed gives the same batches, so evaluations at different steps compare the
    model on the same text.

    Parameters
    ----------
    model : GPT
    data : numpy.ndarray of int, shape [N]
        Token ids of one split.
    batch_size : int
        Windows per batch; each is ``model.config.block_size`` long.
    eval_iters : int
        Batches to average over.
    seed : int
        Seeds the batches.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model must be a GPT; got {describe(model)}")
    positive_int(eval_iters, "eval_iters")
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    try:
        losses = []
        for _ in range(eval_iters):
            x, y = get_batch(data, batch_size, model.config.block_size, rng)  # [B, T] each
            losses.append(model.loss(x, y))
    finally:
        model.train(was_training)
    return float(np.mean(losses))


def _optimizers(model: Model, options: TrainOptions) -> list[AdamW]:
    """nanoGPT's two groups: decay the matrices and tables, not biases and LayerNorm."""
    params = model.parameters()
    decay = {name: p for name, p in params.items() if p.ndim >= 2}
    no_decay = {name: p for name, p in params.items() if p.ndim < 2}
    betas = (options.beta1, options.beta2)
    lr = options.learning_rate
    groups = [AdamW(decay, lr, betas, weight_decay=options.weight_decay)]
    if no_decay:
        groups.append(AdamW(no_decay, lr, betas, weight_decay=0.0))
    return groups


def _optimizers_and_batches(
    model: Model, options: TrainOptions, resumed: dict[str, Any] | None
) -> tuple[list[AdamW], np.random.Generator]:
    """The optimisers and the batch generator of the run, in their saved state if resumed."""
    optimizers = _optimizers(model, options)
    batch_rng = np.random.default_rng(options.seed + 1)
    if resumed is not None:
        restore_optimizers(optimizers, resumed["optimizers"])
        batch_rng.bit_generator.state = resumed["extra"]["batch_rng"]
    return optimizers, batch_rng


def _run_options(options: TrainOptions) -> dict[str, Any]:
    """The options that define the run, with the schedule's defaults filled in."""
    run = {name: getattr(options, name) for name in RUN_OPTIONS}
    return run | {"min_lr": options.final_lr, "lr_decay_iters": options.decay_iters}


def train(
    config: GPTConfig,
    options: TrainOptions,
    *,
    text: str | None = None,
    tokenizer: Tokenizer | None = None,
    on_eval: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train a GPT of ``config`` on ``text`` (Tiny Shakespeare by default); return the history.

    Parameters
    ----------
    config : GPTConfig
        The model's sizes; ``vocab_size`` must be the tokenizer's.
    options : TrainOptions
        How to train; with ``options.resume``, the checkpoint's config and run options
        must be these.
    text : str, optional
        The corpus; Tiny Shakespeare when None. Split 90/10 into train and validation.
    tokenizer : CharTokenizer or BPETokenizer, optional
        By default the characters of ``text`` (or the checkpoint's when resuming).
    on_eval : callable, optional
        Called with each new history record.

    Returns
    -------
    list of dict
        One record per evaluation (including those before a resume): ``step``,
        ``train_loss``, ``val_loss``, ``lr``, ``elapsed`` (seconds of training so far).

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    if not isinstance(config, GPTConfig):
        raise TypeError(f"config must be a GPTConfig; got {describe(config)}")
    if not isinstance(options, TrainOptions):
        raise TypeError(f"options must be a TrainOptions; got {describe(options)}")
    if text is None:
        text = tiny_shakespeare()
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {describe(text)}")
    start, elapsed_before = 0, 0.0
    history: list[dict[str, Any]] = []
    if options.resume is not None:
        model, tokenizer, info = load_checkpoint(options.resume, rng=options.seed)
        start, history, elapsed_before = _check_resume(config, options, info)
    else:
        if tokenizer is None:
            tokenizer = make_tokenizer(text)
        model = GPT(config, rng=options.seed)
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(
            f"config.vocab_size must be the tokenizer's, {tokenizer.vocab_size}; "
            f"got {config.vocab_size}"
        )
    ids = np.array(tokenizer.encode(text), dtype=np.int64)  # [N]
    train_ids, val_ids = train_val_split(ids, 0.1)
    resumed = info if options.resume is not None else None
    optimizers, batch_rng = _optimizers_and_batches(model, options, resumed)
    if resumed is not None:
        if model.drop is not None:  # every dropout layer shares the model's generator
            model.drop.rng.bit_generator.state = info["extra"]["dropout_rng"]
    dropout_rng = model.drop.rng if model.drop is not None else None

    def measure() -> dict[str, float]:
        kwargs = {"batch_size": options.batch_size, "eval_iters": options.eval_iters}
        return {
            "train_loss": estimate_loss(model, train_ids, seed=options.seed + 2, **kwargs),
            "val_loss": estimate_loss(model, val_ids, seed=options.seed + 3, **kwargs),
        }

    def step_loss() -> float:
        x, y = get_batch(train_ids, options.batch_size, config.block_size, batch_rng)  # [B, T]
        return model.loss(x, y)

    def rng_states() -> dict[str, Any]:
        dropout = None if dropout_rng is None else dropout_rng.bit_generator.state
        return {"batch_rng": batch_rng.bit_generator.state, "dropout_rng": dropout}

    return _fit(
        model,
        optimizers,
        options,
        tokenizer=tokenizer,
        step_loss=step_loss,
        measure=measure,
        rng_states=rng_states,
        start=start,
        history=history,
        elapsed_before=elapsed_before,
        on_eval=on_eval,
    )


def exact_match(
    model: Transformer, task: NumberWords, numbers: Sequence[int] | np.ndarray, chunk: int = 250
) -> float:
    """The fraction of ``numbers`` whose words greedy decoding writes exactly right.

    Parameters
    ----------
    model : Transformer
    task : NumberWords
        Its tokenizers and block sizes must be the model's.
    numbers : sequence of int
        Numbers to translate, decoded ``chunk`` at a time.
    chunk : int
        How many sources are decoded together.

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """
    if not isinstance(model, Transformer):
        raise TypeError(f"model must be a Transformer; got {describe(model)}")
    positive_int(chunk, "chunk")
    numbers = np.asarray(numbers).reshape(-1)
    if numbers.size == 0:
        raise ValueError("numbers must hold at least one number; got none")
    was_training = model.training
    model.eval()
    right = 0
    try:
        for i in range(0, len(numbers), chunk):
            part = numbers[i : i + chunk]
            written = model.greedy_decode(
                task.sources(part), task.bos, task.eos, task.tgt_block_size
            )
            right += sum(
                task.target.decode(ids) == task.answer(int(n))
                for ids, n in zip(written, part, strict=True)
            )
    finally:
        model.train(was_training)
    return right / len(numbers)


def translation_loss(
    model: Transformer,
    task: NumberWords,
    numbers: np.ndarray,
    *,
    batch_size: int,
    eval_iters: int,
    seed: int,
) -> float:
    """Mean loss over ``eval_iters`` batches of ``numbers`` drawn with ``seed``.

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """
    positive_int(eval_iters, "eval_iters")
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(eval_iters):
        src, tgt_in, tgt_out = task.batch(rng.choice(numbers, batch_size))
        losses.append(model.loss(src, tgt_in, tgt_out, ignore_index=IGNORE))
    return float(np.mean(losses))


def train_transformer(
    config: TransformerConfig,
    options: TrainOptions,
    *,
    task: NumberWords,
    n_test: int = 1000,
    on_eval: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train a Transformer of ``config`` to write numbers in words; return the history.

    The numbers ``0 .. task.limit - 1`` are shuffled with ``options.seed``; the first
    ``n_test`` are held out, and the model trains only on the others. Each evaluation
    records ``train_loss``, ``val_loss`` (on held-out numbers) and ``val_accuracy``, the
    fraction of all held-out numbers that greedy decoding writes exactly right.

    Parameters
    ----------
    config : TransformerConfig
        Its vocabulary and block sizes must be the task's.
    options : TrainOptions
        As for :func:`train`.
    task : NumberWords
        The task (its ``max_digits``).
    n_test : int
        Held-out numbers.
    on_eval : callable, optional
        Called with each new history record.

    Returns
    -------
    list of dict
        One record per evaluation.

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"config must be a TransformerConfig; got {describe(config)}")
    if not isinstance(options, TrainOptions):
        raise TypeError(f"options must be a TrainOptions; got {describe(options)}")
    if not isinstance(task, NumberWords):
        raise TypeError(f"task must be a NumberWords; got {describe(task)}")
    sizes = {
        "src_vocab_size": task.source.vocab_size,
        "tgt_vocab_size": task.target.vocab_size,
        "src_block_size": task.src_block_size,
        "tgt_block_size": task.tgt_block_size,
    }
    for name, size in sizes.items():
        if getattr(config, name) != size:
            raise ValueError(
                f"config.{name} must be the task's, {size}; got {getattr(config, name)}"
            )
    train_numbers, test_numbers = task.split(n_test, options.seed)
    task_info = {"name": "number_words", "max_digits": task.max_digits, "n_test": n_test}
    start, elapsed_before = 0, 0.0
    history: list[dict[str, Any]] = []
    if options.resume is not None:
        model, _, info = load_transformer_checkpoint(options.resume)
        start, history, elapsed_before = _check_resume(config, options, info)
        if info["extra"].get("task") != task_info:
            raise ValueError(
                f"the task must be the checkpoint's to resume {options.resume}; "
                f"got {task_info}, saved {info['extra'].get('task')}"
            )
    else:
        model = Transformer(config, rng=options.seed)
    resumed = info if options.resume is not None else None
    optimizers, batch_rng = _optimizers_and_batches(model, options, resumed)

    def measure() -> dict[str, float]:
        kwargs = {"batch_size": options.batch_size, "eval_iters": options.eval_iters}
        was_training = model.training
        model.eval()
        try:
            return {
                "train_loss": translation_loss(
                    model, task, train_numbers, seed=options.seed + 2, **kwargs
                ),
                "val_loss": translation_loss(
                    model, task, test_numbers, seed=options.seed + 3, **kwargs
                ),
                "val_accuracy": exact_match(model, task, test_numbers),
            }
        finally:
            model.train(was_training)

    def step_loss() -> float:
        src, tgt_in, tgt_out = task.batch(batch_rng.choice(train_numbers, options.batch_size))
        return model.loss(src, tgt_in, tgt_out, ignore_index=IGNORE)  # [B, S], [B, T] x 2

    def rng_states() -> dict[str, Any]:
        return {"batch_rng": batch_rng.bit_generator.state, "task": task_info}

    return _fit(
        model,
        optimizers,
        options,
        tokenizer=(task.source, task.target),
        step_loss=step_loss,
        measure=measure,
        rng_states=rng_states,
        start=start,
        history=history,
        elapsed_before=elapsed_before,
        on_eval=on_eval,
    )


def _check_resume(
    config: GPTConfig | TransformerConfig, options: TrainOptions, info: dict[str, Any]
) -> tuple[int, list[dict[str, Any]], float]:
    """Check that ``options.resume`` continues this run; return its step, history, time."""
    saved = info["extra"]
    if dataclasses.asdict(config) != info["config"]:
        raise ValueError(
            f"config must be the checkpoint's to resume {options.resume}; "
            f"got {dataclasses.asdict(config)}, saved {info['config']}"
        )
    current = _run_options(options)
    for name, value in saved.get("run_options", {}).items():
        if current[name] != value:
            raise ValueError(
                f"options.{name} must be the checkpoint's to resume {options.resume} "
                f"(the same run); got {current[name]!r}, saved {value!r}"
            )
    if not info["optimizers"]:
        raise ValueError(
            f"{options.resume} holds no optimiser state (a final, weights-only "
            "checkpoint); resume from the <name>.resume.npz file of the run"
        )
    start, history = info["step"], list(saved.get("history", []))
    if start > options.max_iters:
        raise ValueError(
            f"max_iters must be >= the checkpoint's step {start} to resume; got {options.max_iters}"
        )
    return start, history, history[-1]["elapsed"] if history else 0.0


def _fit(
    model: Model,
    optimizers: list[AdamW],
    options: TrainOptions,
    *,
    tokenizer: Tokenizer | tuple[Tokenizer, Tokenizer],
    step_loss: Callable[[], float],
    measure: Callable[[], dict[str, float]],
    rng_states: Callable[[], dict[str, Any]],
    start: int,
    history: list[dict[str, Any]],
    elapsed_before: float,
    on_eval: Callable[[dict[str, Any]], None] | None,
) -> list[dict[str, Any]]:
    """The loop both models share: step, clip, update; evaluate, record and save."""
    out = Path(options.out_dir) if options.out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def evaluate(step: int, elapsed: float) -> None:
        record: dict[str, Any] = {"step": step, **measure()}
        record |= {"lr": options.lr(step), "elapsed": round(elapsed, 3)}  # lr of the next step
        history.append(record)
        if on_eval is not None:
            on_eval(record)
        if out is None:
            return
        extra = {
            name: value for name, value in record.items() if name.endswith(("loss", "accuracy"))
        }
        extra |= {
            "run_options": _run_options(options),
            "max_iters": options.max_iters,
            "eval_interval": options.eval_interval,
            "history": history,
            **rng_states(),
        }
        common: dict[str, Any] = {"tokenizer": tokenizer, "step": step, "extra": extra}
        save_checkpoint(out / f"{options.name}.resume.npz", model, optimizers=optimizers, **common)
        if step == options.max_iters:  # the final model: weights only, a third of the size
            save_checkpoint(out / f"{options.name}.npz", model, **common)
        lines = "".join(json.dumps(r) + "\n" for r in history)
        _write_text_atomically(out / f"{options.name}.history.jsonl", lines)

    bar = None
    if options.progress:
        from tqdm import tqdm  # type: ignore[import-untyped]  # only the terminal shows a bar

        bar = tqdm(total=options.max_iters, initial=start, unit="step", dynamic_ncols=True)
    model.train()
    grads = model.gradients()
    t0 = time.perf_counter()
    if start == 0:
        evaluate(0, 0.0)
    for step in range(start, options.max_iters):
        lr = options.lr(step)
        for optimizer in optimizers:
            optimizer.lr = lr
        model.zero_grad()
        loss = step_loss()
        model.backward()
        if options.grad_clip > 0:
            clip_grad_norm(grads, options.grad_clip)
        for optimizer in optimizers:
            optimizer.step({name: grads[name] for name in optimizer.params})
        done = step + 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}")
        if done % options.eval_interval == 0 or done == options.max_iters:
            evaluate(done, elapsed_before + time.perf_counter() - t0)
            if bar is not None:
                bar.write(f"{_describe(history[-1])}, {history[-1]['elapsed']:.0f} s")
    if bar is not None:
        bar.close()
    return history


def _describe(record: dict[str, Any]) -> str:
    text = (
        f"step {record['step']}: train loss {record['train_loss']:.4f}, "
        f"val loss {record['val_loss']:.4f}"
    )
    if "val_accuracy" in record:
        text += f", held-out exact match {record['val_accuracy']:.1%}"
    return text


def _print_record(record: dict[str, Any]) -> None:
    print(f"{_describe(record)}, lr {record['lr']:.2e}, {record['elapsed']:.1f} s", flush=True)


def _write_text_atomically(path: Path, content: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


# -- the terminal command --------------------------------------------------------------------
_CONFIG_DEFAULTS = {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64, "dropout": 0.0}
#: The Transformer's sizes and the options where its defaults differ from the GPT's.
_TRANSFORMER_DEFAULTS = {"n_layer": 2, "n_head": 4, "n_embd": 64}
_TRANSFORMER_OPTIONS = {
    "batch_size": 64,
    "max_iters": 1500,
    "learning_rate": 3e-3,
    "weight_decay": 0.01,
    "eval_iters": 10,
}
#: Options that only the GPT has.
_GPT_ONLY = ("block_size", "dropout", "bias", "vocab_size")
_TASK_DEFAULTS = {"max_digits": 6, "n_test": 1000}


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m companion.train`` options (defaults: nanoGPT's baby GPT).

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    parser = argparse.ArgumentParser(
        prog="python -m companion.train",
        description=(
            "Train a GPT on Tiny Shakespeare (defaults: nanoGPT's baby GPT), or with "
            "--model transformer an encoder-decoder that writes numbers in words."
        ),
    )
    add = parser.add_argument
    add("--model", choices=["gpt", "transformer"], default="gpt")
    add("--tokenizer", choices=["char", "bpe"], default=None, help="char (gpt only)")
    add("--vocab-size", type=int, default=None, help="for --tokenizer bpe")
    for name, value in _CONFIG_DEFAULTS.items():
        other = _TRANSFORMER_DEFAULTS.get(name)
        helps = f"{value}" + (f"; transformer {other}" if other is not None else " (gpt only)")
        add(f"--{name.replace('_', '-')}", type=type(value), default=None, help=helps)
    add(
        "--bias",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="False, as nanoGPT (gpt only)",
    )
    for name, value in _TASK_DEFAULTS.items():
        add(f"--{name.replace('_', '-')}", type=int, default=None, help=f"{value} (transformer)")
    for field in dataclasses.fields(TrainOptions):
        if field.name in ("resume", "progress", "out_dir", "name"):
            continue
        kind = float if field.name in ("min_lr",) else type(field.default)
        if field.name == "lr_decay_iters":
            kind = int
        helps = f"{field.default}"
        if field.name in _TRANSFORMER_OPTIONS:
            helps += f"; transformer {_TRANSFORMER_OPTIONS[field.name]}"
        add(f"--{field.name.replace('_', '-')}", type=kind, default=None, help=helps)
    add("--out-dir", default="out", help="where the checkpoint and the history go")
    add("--name", default="ckpt", help="files <name>.npz, <name>.resume.npz, <name>.history.jsonl")
    add("--resume", default=None, help="a <name>.resume.npz to continue (same run)")
    add("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run the terminal command; return the history.

    With ``--resume``, the config, the tokenizer and the run options come from the
    checkpoint; an option given on the command line must agree with them (``--max-iters``
    may grow).

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    args = build_parser().parse_args(argv)
    given = {key: value for key, value in vars(args).items() if value is not None}
    if args.model == "transformer":
        return _main_transformer(args, given)
    for name in _TASK_DEFAULTS:
        if name in given:
            raise ValueError(f"--{name.replace('_', '-')} is only for --model transformer")
    text = tiny_shakespeare()
    tokenizer: Tokenizer | None = None
    if args.resume is not None:
        _, tokenizer, info = load_checkpoint(args.resume)
        config = GPTConfig(**info["config"])
        _check_given_config(config, given, [*_CONFIG_DEFAULTS, "bias"])
        run = _saved_run(info)
    else:
        if args.tokenizer in (None, "char"):
            tokenizer = make_tokenizer(text, "char", args.vocab_size)
        else:
            n_train = int(len(text) * 0.9)  # learn the merges from the training part only
            tokenizer = make_tokenizer(text[:n_train], "bpe", args.vocab_size)
        sizes = {name: given.get(name, value) for name, value in _CONFIG_DEFAULTS.items()}
        config = GPTConfig(vocab_size=tokenizer.vocab_size, bias=given.get("bias", False), **sizes)
        run = {}
    options = _options(args, run, given)
    print(f"{GPT(config, rng=0)!r}; {len(text):,} characters, tokenizer {tokenizer!r}")
    print(json.dumps(dataclasses.asdict(options)))
    report = None if options.progress else _print_record  # the bar prints them otherwise
    history = train(config, options, text=text, tokenizer=tokenizer, on_eval=report)
    print(f"done: {_describe(history[-1])}, {history[-1]['elapsed']:.1f} s")
    return history


def _main_transformer(args: argparse.Namespace, given: dict[str, Any]) -> list[dict[str, Any]]:
    """``--model transformer``: numbers in digits -> English words."""
    for name in (*_GPT_ONLY, "tokenizer"):
        if name in given:
            raise ValueError(f"--{name.replace('_', '-')} is only for --model gpt")
    if args.resume is not None:
        _, _, info = load_transformer_checkpoint(args.resume)
        config = TransformerConfig(**info["config"])
        _check_given_config(config, given, list(_TRANSFORMER_DEFAULTS))
        saved_task = info["extra"].get("task", {})
        for name in _TASK_DEFAULTS:
            if name in given and given[name] != saved_task.get(name):
                raise ValueError(
                    f"--{name.replace('_', '-')} must be the checkpoint's "
                    f"({saved_task.get(name)}) to resume; got {given[name]}"
                )
        task, n_test = NumberWords(saved_task["max_digits"]), saved_task["n_test"]
        run = _saved_run(info)
    else:
        task = NumberWords(given.get("max_digits", _TASK_DEFAULTS["max_digits"]))
        n_test = given.get("n_test", _TASK_DEFAULTS["n_test"])
        sizes = {name: given.get(name, value) for name, value in _TRANSFORMER_DEFAULTS.items()}
        config = TransformerConfig(
            task.source.vocab_size,
            task.target.vocab_size,
            task.src_block_size,
            task.tgt_block_size,
            **sizes,
        )
        run = dict(_TRANSFORMER_OPTIONS)
    options = _options(args, run, given)
    print(f"{Transformer(config, rng=0)!r}; task {task!r}, {n_test} held-out numbers")
    print(json.dumps(dataclasses.asdict(options)))
    report = None if options.progress else _print_record
    history = train_transformer(config, options, task=task, n_test=n_test, on_eval=report)
    print(f"done: {_describe(history[-1])}, {history[-1]['elapsed']:.1f} s")
    return history


def _check_given_config(
    config: GPTConfig | TransformerConfig, given: dict[str, Any], names: list[str]
) -> None:
    for name in names:
        if name in given and given[name] != getattr(config, name):
            raise ValueError(
                f"--{name.replace('_', '-')} must be the checkpoint's ({getattr(config, name)})"
                f" to resume; got {given[name]}"
            )


def _saved_run(info: dict[str, Any]) -> dict[str, Any]:
    """The run options saved in a checkpoint (``max_iters``, ``eval_interval`` may change)."""
    run = dict(info["extra"].get("run_options", {}))
    for name in ("max_iters", "eval_interval"):  # may be changed on the command line
        run[name] = info["extra"].get(name, getattr(TrainOptions, name))
    return run


def _options(args: argparse.Namespace, run: dict[str, Any], given: dict[str, Any]) -> TrainOptions:
    fields = {f.name for f in dataclasses.fields(TrainOptions)}
    chosen = run | {key: value for key, value in given.items() if key in fields}
    chosen |= {"out_dir": args.out_dir, "name": args.name, "progress": not args.no_progress}
    return TrainOptions(**chosen)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (ValueError, TypeError, FileNotFoundError) as error:  # a bad option or file
        print(f"python -m companion.train: error: {error}", file=sys.stderr)
        sys.exit(2)
