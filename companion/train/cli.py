"""The terminal command ``python -m companion.train``: options in, a trained checkpoint out.

Its defaults train nanoGPT's "baby GPT" on Tiny Shakespeare; ``--model transformer``
trains the encoder-decoder that writes numbers in words. ``--resume FILE`` continues a run
from its ``.resume.npz`` file, with the run's own options (an option given again must agree,
except ``--max-iters`` and ``--eval-interval``). Errors are reported in one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from companion.data.number_words import NumberWords
from companion.data.shakespeare import tiny_shakespeare
from companion.models.gpt import GPTConfig
from companion.models.transformer import TransformerConfig
from companion.tokenizers.bpe import BPETokenizer
from companion.tokenizers.char import CharTokenizer
from companion.train.checkpoint import load_checkpoint
from companion.train.loop import Interrupted, TrainOptions, train
from companion.train.runs import Run, gpt_run, transformer_run

PROG = "python -m companion.train"
#: The model's sizes, and the training options where a model's defaults differ.
DEFAULTS: dict[str, dict[str, Any]] = {
    "gpt": {
        "n_layer": 4,
        "n_head": 4,
        "n_embd": 128,
        "block_size": 64,
        "dropout": 0.0,
        "bias": False,
    },
    "transformer": {
        "n_layer": 2,
        "n_head": 4,
        "n_embd": 64,
        "max_digits": 6,
        "n_test": 1000,
        "batch_size": 64,
        "max_iters": 1500,
        "learning_rate": 3e-3,
        "weight_decay": 0.01,
        "eval_iters": 10,
    },
}
ONLY = {
    "gpt": ("block_size", "dropout", "bias", "tokenizer", "vocab_size"),
    "transformer": ("max_digits", "n_test"),
}
SIZES = ("n_layer", "n_head", "n_embd", "block_size", "dropout", "bias")
#: Options a resumed run may change.
CHANGEABLE = ("max_iters", "eval_interval")


def build_parser() -> argparse.ArgumentParser:
    """The command's options; every default is ``None`` so that given options are known.

    Notes
    -----
    Used by :func:`main`, the training command of chapters 15 and 16.
    """
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--model", choices=["gpt", "transformer"], default="gpt")
    add("--tokenizer", choices=["char", "bpe"], help="char (gpt only)")
    add("--vocab-size", type=int, help="for --tokenizer bpe")
    kinds = {"dropout": float}
    for name in ("n_layer", "n_head", "n_embd", "block_size", "dropout", "max_digits", "n_test"):
        shown = "; ".join(f"{m} {d[name]}" for m, d in DEFAULTS.items() if name in d)
        add(f"--{name.replace('_', '-')}", type=kinds.get(name, int), help=shown)
    add("--bias", action=argparse.BooleanOptionalAction, help="False, as nanoGPT (gpt only)")
    for field in dataclasses.fields(TrainOptions):
        if field.name in ("out_dir", "name"):
            continue
        kind = (
            float
            if field.name == "min_lr"
            else int
            if "iters" in field.name
            else type(field.default)
        )
        shown = str(field.default)
        if field.name in DEFAULTS["transformer"]:
            shown += f"; transformer {DEFAULTS['transformer'][field.name]}"
        add(f"--{field.name.replace('_', '-')}", type=kind, help=shown)
    add("--out-dir", help="where the files go (out, or the folder of --resume)")
    add("--name", help="files <name>.npz, <name>.resume.npz, <name>.history.jsonl (ckpt)")
    add("--resume", help="a <name>.resume.npz file to continue (the same run)")
    add("--no-progress", action="store_true", help="one line per evaluation, no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run the command; return the history. Raises the errors that :func:`run` reports.

    Notes
    -----
    The training command (``python -m companion.train``) that chapters 15 and 16 print.
    """
    args = build_parser().parse_args(argv)
    given = {
        k: v for k, v in vars(args).items() if v is not None and k not in ("model", "no_progress")
    }
    other = "transformer" if args.model == "gpt" else "gpt"
    for name in ONLY[other]:
        if name in given:
            raise ValueError(f"--{name.replace('_', '-')} is only for --model {other}")
    loaded = load_checkpoint(args.resume) if args.resume is not None else None
    resumed = loaded[2] if loaded is not None else None
    if resumed is not None and resumed["kind"] != args.model:
        raise ValueError(
            f"--resume {args.resume} is a {resumed['kind']} run; add --model {resumed['kind']}"
        )
    options, setup = _options_and_setup(args.model, given, resumed)
    run = _make_run(args.model, setup, options, loaded)
    print(f"{run.model!r}; task {json.dumps(run.task)}", flush=True)
    print(json.dumps(dataclasses.asdict(options)), flush=True)
    if args.no_progress:
        history = train(
            run, options, resumed=resumed, on_eval=lambda r: print(_describe(r), flush=True)
        )
    else:
        from tqdm import tqdm  # type: ignore[import-untyped]  # only the terminal shows a bar

        start = resumed["step"] if resumed else 0
        with tqdm(total=options.max_iters, initial=start, unit="step", dynamic_ncols=True) as bar:

            def advance(step: int, loss: float) -> None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}")

            history = train(
                run,
                options,
                resumed=resumed,
                on_eval=lambda r: bar.write(_describe(r)),
                on_step=advance,
            )
    print(f"done: {_describe(history[-1])}", flush=True)
    return history


def _options_and_setup(
    model: str, given: dict[str, Any], resumed: dict[str, Any] | None
) -> tuple[TrainOptions, dict[str, Any]]:
    """The training options and the set-up (sizes, task), from defaults or the checkpoint."""
    option_names = {f.name for f in dataclasses.fields(TrainOptions)}
    if resumed is None:
        chosen = DEFAULTS[model] | given
    else:
        saved = resumed["config"] | resumed["extra"]["options"] | resumed["extra"]["task"]
        for name, value in given.items():
            if name in saved and name not in CHANGEABLE and value != saved[name]:
                raise ValueError(
                    f"--{name.replace('_', '-')} must be the checkpoint's ({saved[name]!r}) to "
                    f"resume the same run; got {value!r}"
                )
        folder = Path(given["resume"]).parent
        name = Path(given["resume"]).name.removesuffix(".npz").removesuffix(".resume")
        chosen = saved | {"out_dir": str(folder), "name": name} | given
    chosen.setdefault("out_dir", "out")
    options = TrainOptions(**{k: v for k, v in chosen.items() if k in option_names})
    return options, {k: v for k, v in chosen.items() if k not in option_names}


def _make_run(model: str, setup: dict[str, Any], options: TrainOptions, loaded: Any) -> Run:
    """The run to train: a new model, or the one of a resumed checkpoint."""
    common = {"batch_size": options.batch_size, "eval_iters": options.eval_iters}
    trained = loaded[0] if loaded is not None else None
    if model == "transformer":
        task = NumberWords(setup["max_digits"])
        config = TransformerConfig(
            task.source.vocab_size,
            task.target.vocab_size,
            task.src_block_size,
            task.tgt_block_size,
            **{k: setup[k] for k in ("n_layer", "n_head", "n_embd")},
        )
        return transformer_run(
            config, task, n_test=setup["n_test"], seed=options.seed, model=trained, **common
        )
    text = tiny_shakespeare()
    tokenizer = loaded[1] if loaded is not None else _tokenizer(text, setup)
    gpt_config = GPTConfig(vocab_size=tokenizer.vocab_size, **{k: setup[k] for k in SIZES})
    return gpt_run(gpt_config, text, tokenizer, seed=options.seed, model=trained, **common)


def _tokenizer(text: str, setup: dict[str, Any]) -> CharTokenizer | BPETokenizer:
    """The text's characters, or byte pairs learned from the training part (the first 90 %)."""
    if setup.get("tokenizer", "char") == "char":
        if "vocab_size" in setup:
            raise ValueError("--vocab-size is only for --tokenizer bpe")
        return CharTokenizer.from_text(text)
    tokenizer = BPETokenizer()
    tokenizer.train(text[: int(len(text) * 0.9)], setup.get("vocab_size", 512))
    return tokenizer


def _describe(record: dict[str, Any]) -> str:
    text = f"step {record['step']}: train loss {record['train_loss']:.4f}"
    text += f", val loss {record['val_loss']:.4f}"
    if "val_accuracy" in record:
        text += f", held-out exact match {record['val_accuracy']:.1%}"
    return text + f", lr {record['lr']:.2e}, {record['elapsed']:.1f} s"


def run(argv: Sequence[str] | None = None) -> int:
    """:func:`main`, with every error reported in one line; returns the exit status."""
    try:
        main(argv)
    except Interrupted as stop:
        print(f"{PROG}: interrupted: {stop}", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, FloatingPointError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    return 0
