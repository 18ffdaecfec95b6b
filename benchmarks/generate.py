"""Generating with a key/value cache against recomputing the whole window for every token.

Run from the repository root (one BLAS thread gives steadier numbers on a busy machine)::

    OPENBLAS_NUM_THREADS=1 python benchmarks/generate.py

Three measurements on the committed checkpoints, each with and without the cache, taking
turns so that a busy moment slows both alike; the tokens must be the same both ways:

* the baby GPT writing ``block_size - 1`` characters after a one-character prompt: the
  window grows, and the cache computes one token per step;
* the baby GPT writing 2,000 characters: once the window is full it slides, every position
  changes, and the cache must start again at every step (no gain is expected);
* the Transformer writing 250 held-out numbers in words (greedy decoding, batched).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from companion import load_checkpoint
from companion.data.number_words import NumberWords

ROOT = Path(__file__).resolve().parent.parent


def timed(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    """The median seconds of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/")
    args = parser.parse_args()
    gpt, tokenizer, _ = load_checkpoint(ROOT / "checkpoints" / "baby_gpt_shakespeare_char.npz")
    transformer, _, info = load_checkpoint(ROOT / "checkpoints" / "transformer_number_words.npz")
    task = NumberWords(info["extra"]["task"]["max_digits"])
    _, held_out = task.split(info["extra"]["task"]["n_test"], info["extra"]["options"]["seed"])
    sources = task.sources(held_out[:250])
    prompt = tokenizer.encode("\n")
    block = gpt.config.block_size
    cases: dict[str, tuple[int, Callable[[bool], object]]] = {
        f"GPT, {block - 1} tokens (the window grows)": (
            block - 1,
            lambda cache: gpt.generate(prompt, block - 1, temperature=0, use_cache=cache),
        ),
        "GPT, 2,000 tokens (the window slides)": (
            2000,
            lambda cache: gpt.generate(prompt, 2000, temperature=0, use_cache=cache),
        ),
        "Transformer, 250 numbers in words": (
            0,  # counted from the result below
            lambda cache: transformer.greedy_decode(
                sources, task.bos, task.eos, task.tgt_block_size, use_cache=cache
            ),
        ),
    }
    print(f"median of {args.repeats} runs each, taking turns; one BLAS thread advised")
    recorded = {}
    for name, (n_tokens, run) in cases.items():
        with_cache, without = [], []
        results = {}
        for _ in range(args.repeats):  # in turns: a busy moment slows both
            for cache, times in ((True, with_cache), (False, without)):
                seconds, results[cache] = timed(lambda: run(cache), 1)  # noqa: B023
                times.append(seconds)
        assert results[True] == results[False], f"{name}: the cache changed the tokens"
        if n_tokens == 0:
            n_tokens = sum(len(ids) + 1 for ids in results[True])  # the words and the end
        fast, slow = statistics.median(with_cache), statistics.median(without)
        print(
            f"{name}: with the cache {n_tokens / fast:,.0f} tokens/s ({fast:.2f} s), "
            f"without {n_tokens / slow:,.0f} tokens/s ({slow:.2f} s): {slow / fast:.1f}x; "
            "the same tokens"
        )
        recorded[name] = {"tokens": n_tokens, "with_cache_s": fast, "without_cache_s": slow}
    if args.record:
        from record import record

        record("generate", recorded)


if __name__ == "__main__":
    main()
