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
from companion.checkpoint import Tokenizer, load_checkpoint, restore_optimizers, save_checkpoint
from companion.data import get_batch, tiny_shakespeare, train_val_split
from companion.gpt import GPT, GPTConfig
from companion.optim import AdamW, _check_number, clip_grad_norm, lr_schedule

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


def _optimizers(model: GPT, options: TrainOptions) -> list[AdamW]:
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
    start, history, elapsed_before = 0, [], 0.0
    if options.resume is not None:
        model, tokenizer, info = load_checkpoint(options.resume, rng=options.seed)
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
        elapsed_before = history[-1]["elapsed"] if history else 0.0
        if start > options.max_iters:
            raise ValueError(
                f"max_iters must be >= the checkpoint's step {start} to resume; "
                f"got {options.max_iters}"
            )
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
    batch_rng = np.random.default_rng(options.seed + 1)
    optimizers = _optimizers(model, options)
    if options.resume is not None:
        restore_optimizers(optimizers, info["optimizers"])
        batch_rng.bit_generator.state = saved["batch_rng"]
        if model.drop is not None:  # every dropout layer shares the model's generator
            model.drop.rng.bit_generator.state = saved["dropout_rng"]
    dropout_rng = model.drop.rng if model.drop is not None else None
    out = Path(options.out_dir) if options.out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def evaluate(step: int, elapsed: float) -> None:
        kwargs = {"batch_size": options.batch_size, "eval_iters": options.eval_iters}
        record = {
            "step": step,
            "train_loss": estimate_loss(model, train_ids, seed=options.seed + 2, **kwargs),
            "val_loss": estimate_loss(model, val_ids, seed=options.seed + 3, **kwargs),
            "lr": options.lr(step),  # the rate of the next step
            "elapsed": round(elapsed, 3),
        }
        history.append(record)
        if on_eval is not None:
            on_eval(record)
        if out is None:
            return
        extra = {
            "val_loss": record["val_loss"],
            "train_loss": record["train_loss"],
            "run_options": _run_options(options),
            "max_iters": options.max_iters,
            "eval_interval": options.eval_interval,
            "history": history,
            "batch_rng": batch_rng.bit_generator.state,
            "dropout_rng": None if dropout_rng is None else dropout_rng.bit_generator.state,
        }
        common: dict[str, Any] = {"tokenizer": tokenizer, "step": step, "extra": extra}
        save_checkpoint(out / f"{options.name}.resume.npz", model, optimizers=optimizers, **common)
        if step == options.max_iters:  # the final model: weights only, a third of the size
            save_checkpoint(out / f"{options.name}.npz", model, **common)
        lines = "".join(json.dumps(r) + "\n" for r in history)
        _write_text_atomically(out / f"{options.name}.history.jsonl", lines)

    steps = range(start, options.max_iters)
    bar = None
    if options.progress:
        from tqdm import tqdm  # type: ignore[import-untyped]  # only the terminal shows a bar

        bar = tqdm(total=options.max_iters, initial=start, unit="step", dynamic_ncols=True)
    model.train()
    grads = model.gradients()
    t0 = time.perf_counter()
    if start == 0:
        evaluate(0, 0.0)
    for step in steps:
        lr = options.lr(step)
        for optimizer in optimizers:
            optimizer.lr = lr
        x, y = get_batch(train_ids, options.batch_size, config.block_size, batch_rng)  # [B, T]
        model.zero_grad()
        loss = model.loss(x, y)
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
                r = history[-1]
                bar.write(
                    f"step {done}: train loss {r['train_loss']:.4f}, "
                    f"val loss {r['val_loss']:.4f}, {r['elapsed']:.0f} s"
                )
    if bar is not None:
        bar.close()
    return history


def _print_record(record: dict[str, Any]) -> None:
    print(
        f"step {record['step']}: train loss {record['train_loss']:.4f}, "
        f"val loss {record['val_loss']:.4f}, lr {record['lr']:.2e}, {record['elapsed']:.1f} s",
        flush=True,
    )


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


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m companion.train`` options (defaults: nanoGPT's baby GPT).

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    parser = argparse.ArgumentParser(
        prog="python -m companion.train",
        description="Train a GPT on Tiny Shakespeare (defaults: nanoGPT's baby GPT).",
    )
    add = parser.add_argument
    add("--tokenizer", choices=["char", "bpe"], default="char")
    add("--vocab-size", type=int, default=None, help="for --tokenizer bpe")
    for name, value in _CONFIG_DEFAULTS.items():
        add(f"--{name.replace('_', '-')}", type=type(value), default=None, help=f"{value}")
    add("--bias", action=argparse.BooleanOptionalAction, default=None, help="True")
    for field in dataclasses.fields(TrainOptions):
        if field.name in ("resume", "progress", "out_dir", "name"):
            continue
        kind = float if field.name in ("min_lr",) else type(field.default)
        if field.name == "lr_decay_iters":
            kind = int
        add(f"--{field.name.replace('_', '-')}", type=kind, default=None, help=f"{field.default}")
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
    text = tiny_shakespeare()
    tokenizer: Tokenizer | None = None
    if args.resume is not None:
        _, tokenizer, info = load_checkpoint(args.resume)
        config = GPTConfig(**info["config"])
        for name in list(_CONFIG_DEFAULTS) + ["bias"]:
            if name in given and given[name] != getattr(config, name):
                raise ValueError(
                    f"--{name.replace('_', '-')} must be the checkpoint's ({getattr(config, name)})"
                    f" to resume; got {given[name]}"
                )
        run = dict(info["extra"].get("run_options", {}))
        for name in ("max_iters", "eval_interval"):  # may be changed on the command line
            run[name] = info["extra"].get(name, getattr(TrainOptions, name))
    else:
        if args.tokenizer == "char":
            tokenizer = make_tokenizer(text, "char", args.vocab_size)
        else:
            n_train = int(len(text) * 0.9)  # learn the merges from the training part only
            tokenizer = make_tokenizer(text[:n_train], "bpe", args.vocab_size)
        sizes = {name: given.get(name, value) for name, value in _CONFIG_DEFAULTS.items()}
        config = GPTConfig(vocab_size=tokenizer.vocab_size, bias=given.get("bias", True), **sizes)
        run = {}
    fields = {f.name for f in dataclasses.fields(TrainOptions)}
    chosen = run | {key: value for key, value in given.items() if key in fields}
    chosen |= {"out_dir": args.out_dir, "name": args.name, "progress": not args.no_progress}
    options = TrainOptions(**chosen)
    print(f"{GPT(config, rng=0)!r}; {len(text):,} characters, tokenizer {tokenizer!r}")
    print(json.dumps(dataclasses.asdict(options)))
    report = None if options.progress else _print_record  # the bar prints them otherwise
    history = train(config, options, text=text, tokenizer=tokenizer, on_eval=report)
    last = history[-1]
    print(
        f"done: step {last['step']}, train loss {last['train_loss']:.4f}, "
        f"val loss {last['val_loss']:.4f}, {last['elapsed']:.1f} s"
    )
    return history


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (ValueError, TypeError, FileNotFoundError) as error:  # a bad option or file
        print(f"python -m companion.train: error: {error}", file=sys.stderr)
        sys.exit(2)
