"""Cutting a text into chunks before byte-pair encoding, so no token spans two chunks.

GPT-2 and GPT-4 first cut their text with a regular expression into words, numbers,
punctuation and runs of spaces; BPE then merges inside each chunk only. Their split
patterns are :data:`GPT2_SPLIT_PATTERN` and :data:`GPT4_SPLIT_PATTERN`.

:class:`SplitPattern` applies a pattern with two safeguards:

* **Nothing is lost.** Characters that the pattern does not match become chunks of their
  own, so the chunks always add up to the text.
* **Nothing hangs.** A pattern may *backtrack* for ever: ``(?:a|aa)+$`` tries every way of
  cutting ``"a" * 40 + "b"`` into a's and aa's before it gives up. Each use of the pattern
  gets a time limit (see :data:`SPLIT_SECONDS`), and a TimeoutError names the pattern.
  Compiling cannot be timed, and counted repetitions make it slow and large:
  ``(?:x{2000}){2000}`` takes seconds and a gigabyte. So the counts ``{m,n}`` of a pattern,
  multiplied together, may not exceed :data:`MAX_REPEATS` (GPT-4's pattern has one,
  ``{1,3}``).
"""

from __future__ import annotations

import regex  # type: ignore[import-untyped]  # \p{L} and \p{N}: Unicode letters and numbers

from companion.checks import describe

#: The split pattern of GPT-2, for contractions, words, numbers, punctuation and spaces.
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
#: The split pattern of GPT-4 (tiktoken's cl100k_base), with numbers of at most 3 digits.
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s+"""
)

#: The time a split pattern may take to cut a text is half a second, plus a second for every
#: 100,000 characters (GPT-4's pattern needs about a fortieth of that). A text of a few
#: words needs microseconds.
SPLIT_SECONDS = 0.5
#: The second part of that time limit, per character of the text.
SPLIT_SECONDS_PER_CHARACTER = 1e-5
#: The largest product of a pattern's repetition counts ``{m,n}``, and its longest length.
MAX_REPEATS, MAX_LENGTH = 10_000, 10_000
_COUNT = regex.compile(r"(?<!\\)\{(\d+)(?:,(\d*))?\}")  # {m}, {m,} or {m,n}


class SplitPattern:
    """A split pattern, checked once; :meth:`split` cuts a text into chunks.

    Parameters
    ----------
    pattern : str or None
        A regular expression in the syntax of the ``regex`` module, or ``None`` to keep
        the whole text as one chunk.

    Raises
    ------
    ValueError
        If ``pattern`` is not a regular expression, or has capturing groups ``(...)``
        (``findall`` would return the groups instead of the chunks; write ``(?:...)``).

    Examples
    --------
    >>> SplitPattern(r"\\w+").split("hello, world!")
    ['hello', ', ', 'world', '!']

    Notes
    -----
    What :class:`~companion.tokenizers.bpe.BPETokenizer` cuts its text with; chapter 7,
    Sub-word tokenizers, calls ``regex.findall`` directly.
    """

    def __init__(self, pattern: str | None) -> None:
        if pattern is not None and not isinstance(pattern, str):
            raise TypeError(f"pattern must be a str or None; got {describe(pattern)}")
        self.pattern = pattern
        if pattern is not None:
            _check_size(pattern)
        try:
            self._compiled = None if pattern is None else regex.compile(pattern)
        except regex.error as error:
            raise ValueError(f"pattern is not a valid regular expression: {error}") from None
        if self._compiled is not None and self._compiled.groups:
            raise ValueError(
                f"pattern {self._shown()} has {self._compiled.groups} capturing group(s), so "
                "findall would return the groups, not the chunks; write (?:...) for (...)"
            )

    def split(self, text: str) -> list[str]:
        """The chunks of ``text``: the matches of the pattern and what lies between them.

        Raises
        ------
        TimeoutError
            If the pattern takes longer than :data:`SPLIT_SECONDS` plus
            :data:`SPLIT_SECONDS_PER_CHARACTER` per character of ``text``.
        """
        if self._compiled is None:
            return [text] if text else []
        seconds = SPLIT_SECONDS + SPLIT_SECONDS_PER_CHARACTER * len(text)
        try:
            chunks: list[str] = self._compiled.findall(text, timeout=seconds)
            if sum(len(chunk) for chunk in chunks) == len(text):  # nothing was skipped
                return [chunk for chunk in chunks if chunk]  # r"\w*" also matches ""
            chunks, end = [], 0  # end: where the last match ended
            for match in self._compiled.finditer(text, timeout=seconds):
                start, stop = match.span()
                if start > end:
                    chunks.append(text[end:start])  # characters the pattern skipped
                if stop > start:
                    chunks.append(text[start:stop])
                end = stop
        except TimeoutError:
            raise TimeoutError(
                f"the split pattern {self._shown()} took more than {seconds:.1f} s to cut a "
                f"text of {len(text):,} characters into chunks; it probably backtracks without "
                "end (a repetition of overlapping choices, such as (?:a|aa)+); use a simpler "
                "pattern"
            ) from None
        if end < len(text):
            chunks.append(text[end:])  # skipped at the end
        return chunks

    def _shown(self) -> str:
        """The pattern for an error message, cut short if it is long."""
        pattern = self.pattern
        return repr(pattern if pattern is None or len(pattern) <= 60 else pattern[:57] + "...")


def _check_size(pattern: str) -> None:
    """Refuse a pattern that would take long or much memory to compile (see the module notes)."""
    if len(pattern) > MAX_LENGTH:
        raise ValueError(f"pattern must be at most {MAX_LENGTH:,} characters; got {len(pattern):,}")
    product = 1
    for low, high in _COUNT.findall(pattern):
        product *= max(int(low), int(high or 0))
    if product > MAX_REPEATS:
        raise ValueError(
            f"pattern's repetition counts {{m,n}} multiply to {product:,}, more than the "
            f"{MAX_REPEATS:,} a split pattern may have (compiling it would take long and much "
            "memory)"
        )
