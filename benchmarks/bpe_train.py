"""How much faster is the companion's BPE training than recounting every pair after each merge?

Usage::

    python benchmarks/bpe_train.py [FALLBACK_TEXT_FILE] [--vocab-size 512] [--prefix N]
    python benchmarks/bpe_train.py --no-split      # the whole text as one chunk

Both trainers run in the same process on the same text: Tiny Shakespeare from
``companion.data.tiny_shakespeare()``, or the text file given as argument if that module
cannot be imported. The reference below is the straightforward algorithm of the chapter:
pre-split the text (or, with ``--no-split``, keep it whole, as ``BPETokenizer(pattern=None)``
does), then before every merge count all pairs of the whole text again and replace the
winner everywhere. Its ties go to the pair first seen in the text, the rule
:class:`companion.tokenizers.bpe.BPETokenizer` documents, so both must learn the very same
merges; the script checks that, and that decoding the encoded text gives it back, and exits
with status 1 if not.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import regex  # type: ignore[import-untyped]

from companion.tokenizers.bpe import GPT4_SPLIT_PATTERN, BPETokenizer


def reference_train(text: str, vocab_size: int, pattern: str | None) -> dict[tuple[int, int], int]:
    """Recount every pair of the whole (pre-split) text before each merge."""
    pieces = regex.findall(pattern, text) if pattern is not None else [text]
    chunks = [list(chunk.encode("utf-8")) for chunk in pieces]
    merges: dict[tuple[int, int], int] = {}
    for new_id in range(256, vocab_size):
        counts: dict[tuple[int, int], int] = {}
        for ids in chunks:  # every chunk, every time
            for pair in zip(ids[:-1], ids[1:], strict=True):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = max(counts, key=counts.__getitem__)  # first of equals = first seen
        merges[best] = new_id
        new_chunks = []
        for ids in chunks:
            merged, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and ids[i] == best[0] and ids[i + 1] == best[1]:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(ids[i])
                    i += 1
            new_chunks.append(merged)
        chunks = new_chunks
    return merges


def load_text(fallback: str | None) -> tuple[str, str]:
    """The benchmark text and where it came from."""
    try:
        from companion.data import tiny_shakespeare
    except ImportError as error:
        if fallback is None:
            sys.exit(f"companion.data is not importable ({error}); give a text file as argument")
        return Path(fallback).read_text(encoding="utf-8"), f"{fallback} ({error})"
    return tiny_shakespeare(), "Tiny Shakespeare (companion.data.tiny_shakespeare())"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fallback", nargs="?", help="text file used if companion.data is missing")
    parser.add_argument("--vocab-size", type=int, default=512)
    parser.add_argument(
        "--prefix", type=int, default=None, help="train both on the first N characters only"
    )
    parser.add_argument(
        "--no-split",
        action="store_true",
        help="no split pattern: the whole text is one chunk (BPETokenizer(pattern=None))",
    )
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/")
    args = parser.parse_args()

    full, source = load_text(args.fallback)
    text = full if args.prefix is None else full[: args.prefix]
    which = "the full text" if len(text) == len(full) else f"its first {len(text):,} characters"
    pattern = None if args.no_split else GPT4_SPLIT_PATTERN
    print(f"text: {source}")
    print(f"both train on {which} (of {len(full):,}), vocab_size {args.vocab_size}")
    if pattern is None:
        print("split pattern: none (pattern=None), the whole text is one chunk")
    else:
        print("split pattern: GPT-4 (GPT4_SPLIT_PATTERN), the BPETokenizer default")

    start = time.perf_counter()
    tok = BPETokenizer(pattern=pattern)
    tok.train(text, args.vocab_size)
    fast = time.perf_counter() - start

    start = time.perf_counter()
    expected = reference_train(text, args.vocab_size, pattern)
    slow = time.perf_counter() - start

    same = tok.merges == expected
    print(f"companion BPETokenizer.train (incremental counts): {fast:8.2f} s")
    print(f"reference (recount the whole text per merge):      {slow:8.2f} s")
    print(f"merges identical: {'yes' if same else 'NO'} ({len(expected)} merges)")
    print(f"speed-up: {slow / fast:.1f}x (goal: at least 5x)")

    start = time.perf_counter()
    ids = tok.encode(text)
    encode = time.perf_counter() - start
    size = len(text.encode("utf-8"))
    print(f"encoding the text: {encode:.2f} s, {size:,} bytes -> {len(ids):,} tokens")
    if tok.decode(ids) != text:
        print("decode(encode(text)) differs from the text")
        return 1
    if args.record and same:
        from record import record

        name = "bpe_train_no_split" if pattern is None else "bpe_train_gpt4_split"
        sizes = {"characters": len(text), "vocab_size": args.vocab_size, "tokens": len(ids)}
        record(name, sizes | {"companion_s": fast, "recount_s": slow, "encode_s": encode})
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
