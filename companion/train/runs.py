"""What a training run trains on: a model, its batches and how it is measured.

The loop of :mod:`companion.train.loop` is the same for every model. What differs is set
up here, once per model, as a :class:`Run`:

* :func:`gpt_run`: a GPT reading a text (Tiny Shakespeare by default), split 90/10 into
  training and validation text; a batch is ``batch_size`` random windows of
  ``block_size`` tokens and the tokens that follow them;
* :func:`transformer_run`: the encoder-decoder writing numbers in words
  (:mod:`companion.data.number_words`); ``n_test`` numbers are held out, and each
  evaluation also counts how many of them greedy decoding writes exactly right.

Both measure the loss on the same seeded batches at every evaluation, so that the numbers
of different steps compare the model on the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from companion.checks import describe, positive_int
from companion.data.batches import get_batch, train_val_split
from companion.data.number_words import NumberWords
from companion.models.gpt import GPT, GPTConfig
from companion.models.transformer import Transformer, TransformerConfig
from companion.tokenizers.base import Tokenizer


@dataclass
class Run:
    """Everything the training loop needs besides its options.

    Attributes
    ----------
    model : GPT or Transformer
    tokenizer : tokenizer, or (source, target)
        Saved with the model.
    batch : callable
        ``batch(rng)`` -> the model's inputs and targets for one step.
    evaluate : callable
        ``evaluate()`` -> the measurements of one evaluation (``train_loss``,
        ``val_loss``, ...), in evaluation mode.
    task : dict
        What the run trains on, saved in the checkpoint so a resumed run can check it.

    Notes
    -----
    Used by :func:`~companion.train.loop.train` (chapter 15); built by :func:`gpt_run` and
    :func:`transformer_run`.
    """

    model: GPT | Transformer
    tokenizer: Tokenizer | tuple[Tokenizer, Tokenizer]
    batch: Callable[[np.random.Generator], tuple[np.ndarray, ...]]
    evaluate: Callable[[], dict[str, float]]
    task: dict[str, Any] = field(default_factory=dict)


def mean_loss(model: GPT | Transformer, batches: Sequence[tuple[np.ndarray, ...]]) -> float:
    """The model's mean loss over ``batches``, in evaluation mode (no dropout).

    Notes
    -----
    Used by the evaluations of :func:`gpt_run` (chapter 15) and :func:`transformer_run`.
    """
    was_training = model.training
    model.eval()
    losses = []
    try:
        for batch in batches:
            _, loss = model(*batch)
            assert loss is not None  # a batch holds the targets
            losses.append(loss)
    finally:
        model.train(was_training)
    return float(np.mean(losses))


def gpt_run(
    config: GPTConfig,
    text: str,
    tokenizer: Tokenizer,
    *,
    batch_size: int,
    eval_iters: int,
    seed: int,
    model: GPT | None = None,
) -> Run:
    """A GPT of ``config`` learning to continue ``text``, read by ``tokenizer``.

    Parameters
    ----------
    config : GPTConfig
        Its ``vocab_size`` must be the tokenizer's, and its ``block_size`` shorter than
        the validation text.
    text : str
        The corpus: the first 90 % to train on, the rest to validate.
    tokenizer : CharTokenizer or BPETokenizer
    batch_size, eval_iters, seed : int
        Windows per batch; batches per split in an evaluation; seeds the initial weights
        (when no ``model`` is given) and the evaluation batches.
    model : GPT, optional
        A model to go on training (a resumed run); a new one by default.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(
            f"config.vocab_size must be the tokenizer's, {tokenizer.vocab_size}; "
            f"got {config.vocab_size}"
        )
    train_ids, val_ids = train_val_split(np.array(tokenizer.encode(text), dtype=np.int64))
    if config.block_size >= len(val_ids):
        raise ValueError(
            f"block_size must be shorter than the validation text ({len(val_ids):,} tokens); "
            f"got {config.block_size}"
        )
    B, T, n = (
        positive_int(batch_size, "batch_size"),
        config.block_size,
        positive_int(eval_iters, "eval_iters"),
    )
    rng_train, rng_val = np.random.default_rng(seed + 2), np.random.default_rng(seed + 3)
    fixed = {
        "train_loss": [get_batch(train_ids, B, T, rng_train) for _ in range(n)],
        "val_loss": [get_batch(val_ids, B, T, rng_val) for _ in range(n)],
    }
    gpt = GPT(config, rng=seed) if model is None else model
    return Run(
        model=gpt,
        tokenizer=tokenizer,
        batch=lambda rng: get_batch(train_ids, B, T, rng),  # x, y: [B, T] each
        evaluate=lambda: {name: mean_loss(gpt, batches) for name, batches in fixed.items()},
        task={"name": "text", "characters": len(text), "tokenizer": repr(tokenizer)},
    )


def exact_match(
    model: Transformer, task: NumberWords, numbers: Sequence[int] | np.ndarray, chunk: int = 250
) -> float:
    """The fraction of ``numbers`` whose words greedy decoding writes exactly right.

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """
    numbers = np.asarray(numbers).reshape(-1)
    if numbers.size == 0:
        raise ValueError("numbers must hold at least one number; got none")
    right = 0
    for i in range(0, len(numbers), positive_int(chunk, "chunk")):
        part = numbers[i : i + chunk]
        written = model.greedy_decode(task.sources(part), task.bos, task.eos, task.tgt_block_size)
        right += sum(
            task.target.decode(ids) == task.answer(int(n))
            for ids, n in zip(written, part, strict=True)
        )
    return right / len(numbers)


def transformer_run(
    config: TransformerConfig,
    task: NumberWords,
    *,
    n_test: int,
    batch_size: int,
    eval_iters: int,
    seed: int,
    model: Transformer | None = None,
) -> Run:
    """A Transformer of ``config`` learning ``task``, with ``n_test`` numbers held out.

    The numbers ``0 .. task.limit - 1`` are shuffled with ``seed``; the first ``n_test`` are
    held out and never trained on. Each evaluation measures ``train_loss``, ``val_loss`` (on
    held-out numbers) and ``val_accuracy``, the fraction of all held-out numbers that
    greedy decoding writes exactly right.

    Notes
    -----
    Used by the training command ``python -m companion.train transformer``, whose result
    chapter 16 loads.
    """
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
    train_numbers, test_numbers = task.split(n_test, seed)
    B, n = positive_int(batch_size, "batch_size"), positive_int(eval_iters, "eval_iters")
    rng_train, rng_val = np.random.default_rng(seed + 2), np.random.default_rng(seed + 3)
    fixed = {
        "train_loss": [task.batch(rng_train.choice(train_numbers, B)) for _ in range(n)],
        "val_loss": [task.batch(rng_val.choice(test_numbers, B)) for _ in range(n)],
    }
    transformer = Transformer(config, rng=seed) if model is None else model

    def evaluate() -> dict[str, float]:
        losses = {name: mean_loss(transformer, batches) for name, batches in fixed.items()}
        return losses | {"val_accuracy": exact_match(transformer, task, test_numbers)}

    return Run(
        model=transformer,
        tokenizer=(task.source, task.target),
        batch=lambda rng: task.batch(rng.choice(train_numbers, B)),  # src, tgt_in, tgt_out
        evaluate=evaluate,
        task={"name": "number_words", "max_digits": task.max_digits, "n_test": n_test},
    )
