"""A translation task to train the encoder-decoder on: numbers in digits -> English words.

The source is a number written in digits, ``"4127"``; the target is the same number in
words, ``"four thousand one hundred twenty-seven"``. Both are read one character at a
time. The task has what translation has: the source and the target use different
alphabets, their lengths differ, and the order is not word for word (``"17"`` becomes
``"seventeen"``, ``"70"`` becomes ``"seventy"``), yet every answer can be checked exactly.

A batch follows the usual sequence-to-sequence layout: the sources are padded on the
right with ``PAD``; the decoder's input ``tgt_in`` is ``BOS`` followed by the target, and
the label of each position ``tgt_out`` is the target followed by ``EOS`` (the target
shifted one to the left), padded with ``IGNORE`` so that padding does not count in the
loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from companion.checks import as_generator, describe, positive_int
from companion.tokenizers.char import CharTokenizer

#: The numbers the task covers are 0 <= n < LIMIT.
LIMIT = 1_000_000
#: Padding of the sources (and of ``tgt_in`` after the end).
PAD = "_"
#: Begin and end of a target sentence.
BOS, EOS = "^", "$"
#: The label of padded target positions, which the loss skips.
IGNORE = -1

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_to_words(n: int) -> str:
    """The English words of a whole number ``0 <= n < 1,000,000`` (American style, no "and").

    Parameters
    ----------
    n : int

    Returns
    -------
    str

    Examples
    --------
    >>> number_to_words(4127)
    'four thousand one hundred twenty-seven'
    >>> number_to_words(900017)
    'nine hundred thousand seventeen'

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an int; got {describe(n)}")
    if not 0 <= n < LIMIT:
        raise ValueError(f"n must be in [0, {LIMIT:,}); got {n}")
    if n == 0:
        return "zero"
    thousands, rest = divmod(int(n), 1000)
    words = [] if thousands == 0 else [_below_thousand(thousands), "thousand"]
    if rest:
        words.append(_below_thousand(rest))
    return " ".join(words)


def _below_thousand(n: int) -> str:
    """Words of ``1 <= n <= 999``."""
    hundreds, rest = divmod(n, 100)
    words = [] if hundreds == 0 else [_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(_ONES[rest])
    return " ".join(words)


class NumberWords:
    """The digits -> words task: its two alphabets, its sizes and its batches.

    Parameters
    ----------
    max_digits : int
        The longest source, 1 to 6 digits: the numbers are ``0 <= n < 10**max_digits``.

    Attributes
    ----------
    source, target : CharTokenizer
        The source alphabet (digits and ``PAD``) and the target one (letters, space,
        hyphen, ``BOS``, ``EOS`` and ``PAD``).
    src_block_size, tgt_block_size : int
        The longest source, and the longest target plus one (for ``BOS`` / ``EOS``).

    Examples
    --------
    >>> task = NumberWords(max_digits=3)
    >>> src, tgt_in, tgt_out = task.batch([7, 215])
    >>> task.source.decode(src[1]), task.target.decode(tgt_in[1])
    ('215', '^two hundred fifteen')

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """

    def __init__(self, max_digits: int = 6) -> None:
        positive_int(max_digits, "max_digits")
        if max_digits > 6:
            raise ValueError(
                f"max_digits must be at most 6 (numbers below a million); got {max_digits}"
            )
        self.max_digits = max_digits
        self.limit = 10**max_digits
        letters = "".join(sorted(set("".join(_ONES + _TENS[2:]) + " thousand hundred")))
        self.source = CharTokenizer("0123456789" + PAD)
        self.target = CharTokenizer(letters + "-" + PAD + BOS + EOS)
        self.pad_src = self.source.encode(PAD)[0]
        self.pad_tgt, self.bos, self.eos = self.target.encode(PAD + BOS + EOS)
        self.src_block_size = max_digits
        self.tgt_block_size = _longest_words(self.limit) + 1

    def split(self, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Shuffle ``0 .. limit - 1`` with ``seed``; the first ``n_test`` are held out.

        Returns
        -------
        train, test : numpy.ndarray of int
            Disjoint: the model never trains on a test number.
        """
        positive_int(n_test, "n_test")
        if n_test >= self.limit:
            raise ValueError(f"n_test must be below the {self.limit:,} numbers; got {n_test}")
        numbers = as_generator(seed).permutation(self.limit)  # [limit]
        return numbers[n_test:], numbers[:n_test]

    def batch(
        self, numbers: Sequence[int] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Encode ``numbers`` as ``src [B, S]``, ``tgt_in [B, T]`` and ``tgt_out [B, T]``.

        Sources are always ``src_block_size`` long, padded as in training (the encoder sees
        the padding, so a shorter source would be a different input); targets are as long
        as the longest item of the batch needs.
        """
        items = [int(n) for n in np.asarray(numbers).reshape(-1)]
        if not items:
            raise ValueError("numbers must hold at least one number; got none")
        for n in items:
            if not 0 <= n < self.limit:
                raise ValueError(f"numbers must be in [0, {self.limit:,}); got {n}")
        sources = [str(n) for n in items]
        targets = [self.target.encode(number_to_words(n)) for n in items]
        S, T = self.src_block_size, max(map(len, targets)) + 1
        src = np.full((len(items), S), self.pad_src, dtype=np.int64)  # [B, S]
        tgt_in = np.full((len(items), T), self.pad_tgt, dtype=np.int64)  # [B, T]
        tgt_out = np.full((len(items), T), IGNORE, dtype=np.int64)  # [B, T]
        for i, (digits, ids) in enumerate(zip(sources, targets, strict=True)):
            src[i, : len(digits)] = self.source.encode(digits)
            tgt_in[i, : len(ids) + 1] = [self.bos, *ids]
            tgt_out[i, : len(ids) + 1] = [*ids, self.eos]
        return src, tgt_in, tgt_out

    def sources(self, numbers: Sequence[int] | np.ndarray) -> np.ndarray:
        """Only the ``src [B, S]`` of :meth:`batch`, for decoding."""
        return self.batch(numbers)[0]

    def answer(self, n: int) -> str:
        """The expected words of ``n``."""
        return number_to_words(n)

    def __repr__(self) -> str:
        return (
            f"NumberWords(max_digits={self.max_digits}: {self.source.vocab_size} source and "
            f"{self.target.vocab_size} target symbols, blocks {self.src_block_size} and "
            f"{self.tgt_block_size})"
        )


def _longest_words(limit: int) -> int:
    """Characters in the longest words of a number below ``limit`` (a power of ten)."""
    below = min(limit, 1000)
    longest_rest = max(len(number_to_words(n)) for n in range(below))
    if limit <= 1000:
        return longest_rest
    # "<thousands> thousand <rest>": the two parts are chosen independently
    longest_thousands = max(len(number_to_words(t)) for t in range(1, limit // 1000))
    return longest_thousands + len(" thousand ") + longest_rest
