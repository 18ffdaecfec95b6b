"""Byte-pair encoding (BPE): a sub-word tokenizer learned from text.

A text becomes UTF-8 bytes, so every text is made of the 256 byte tokens (ids 0 to 255).
Training then repeats one step: find the most frequent pair of neighbouring tokens and give
it a new token id (256, 257, ...), replacing the pair everywhere. The list of these merges,
in order, *is* the tokenizer: encoding replays them, decoding looks up the bytes of each id.

Before counting, a regular expression may cut the text into chunks (words, numbers,
punctuation, runs of spaces), so no token ever spans two chunks: " cat" and "s" can become
tokens, "t. The" cannot. The split patterns of GPT-2 and GPT-4 are given as constants;
:mod:`~companion.tokenizers.split` applies them.

The two steps of training, :func:`pair_counts` and :func:`merge`, live in
:mod:`~companion.tokenizers.bpe_training`, with the fast version of the training loop: it
learns the same merges as recounting the whole text after every merge, in a fraction of the
time (``benchmarks/bpe_train.py`` compares the two).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable

from companion.checks import describe, token_list
from companion.tokenizers.base import (
    check_known_ids,
    check_text,
    read_tokenizer_file,
    write_tokenizer_file,
)
from companion.tokenizers.bpe_training import Pair, learn_merges, merge, pair_counts, replay_merges
from companion.tokenizers.split import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, SplitPattern

__all__ = ["GPT2_SPLIT_PATTERN", "GPT4_SPLIT_PATTERN", "BPETokenizer", "merge", "pair_counts"]

FORMAT = "companion-bpe"
VERSION = 1
_CACHE_LIMIT = 100_000  # encoded chunks kept in memory
_CACHE_LONGEST = 200  # longer chunks (no split pattern) go to replay_merges, uncached


class BPETokenizer:
    """A byte-level BPE tokenizer: ``train``, ``encode``, ``decode``, ``save``, ``load``.

    Parameters
    ----------
    pattern : str or None
        The regular expression (``regex`` syntax) that cuts text into chunks before
        counting and encoding; :data:`~companion.tokenizers.split.GPT4_SPLIT_PATTERN` by
        default. ``None`` keeps the whole text as one chunk, so merges may span words and
        spaces.

    Raises
    ------
    ValueError
        If ``pattern`` is not a regular expression, or has capturing groups: write
        ``(?:...)`` instead of ``(...)``, so that each match is one whole chunk.

    Notes
    -----
    **Nothing is lost.** The text is cut at the matches of the pattern; characters that
    the pattern skips are kept as chunks of their own. With ``r"\\w+"``, ``"hello, world!"``
    becomes the chunks ``"hello"``, ``", "``, ``"world"`` and ``"!"``, so
    ``decode(encode(text)) == text`` whatever the pattern. A pattern that takes too long
    (see :data:`~companion.tokenizers.split.SPLIT_SECONDS`) raises a TimeoutError naming it.

    **Ties.** When several pairs are equally frequent, the pair *first seen* in the
    training text wins. "First seen" means: read the chunks in the order they occur in the
    text, each chunk as its current token sequence (after the merges so far), pairs left to
    right inside a chunk and never across two chunks; the winning pair is the one met first.
    Because a chunk that occurs many times is first met at its first occurrence, this is the
    same as ordering the distinct chunks by first occurrence, then by position inside the
    chunk. Training is therefore deterministic.

    Taught in chapter 7, Sub-word tokenizers.
    """

    def __init__(self, pattern: str | None = GPT4_SPLIT_PATTERN) -> None:
        self._split = SplitPattern(pattern)  # checks the pattern
        self._merges: dict[Pair, int] = {}  # (a, b) -> new id, in the order learned
        self._special: dict[str, int] = {}  # "<|endoftext|>" -> id
        self._rebuild()

    # -- what the tokenizer knows --------------------------------------------------------
    @property
    def pattern(self) -> str | None:
        """The split pattern, or ``None`` when the text is not split."""
        return self._split.pattern

    @property
    def merges(self) -> dict[Pair, int]:
        """The learned merges, ``(a, b) -> new id``, in the order they were learned."""
        return dict(self._merges)

    @property
    def vocab(self) -> dict[int, bytes]:
        """The bytes of every ordinary token id (bytes 0-255, then one id per merge)."""
        return dict(self._vocab)

    @property
    def special_tokens(self) -> dict[str, int]:
        """The registered special tokens, name -> id."""
        return dict(self._special)

    @property
    def vocab_size(self) -> int:
        """One more than the largest token id, the rows an embedding table needs."""
        return max([len(self._vocab) - 1, *self._special.values()]) + 1

    def _rebuild(self) -> None:
        """Recompute the vocabulary from the merges; forget encoded chunks."""
        self._vocab = {i: bytes([i]) for i in range(256)}
        for (a, b), new_id in self._merges.items():
            self._vocab[new_id] = self._vocab[a] + self._vocab[b]
        self._id_bytes = dict(self._vocab)
        self._id_bytes.update((i, name.encode("utf-8")) for name, i in self._special.items())
        self._cache: dict[str, list[int]] = {}

    # -- training ------------------------------------------------------------------------
    def train(self, text: str, vocab_size: int, verbose: bool = False) -> None:
        """Learn ``vocab_size - 256`` merges from ``text``, replacing any learned before.

        Parameters
        ----------
        text : str
            The training text. Special-token names in it are treated as ordinary text.
        vocab_size : int
            The number of ordinary tokens wanted, at least 256. Training stops earlier if
            no pair of neighbouring tokens is left.
        verbose : bool
            Show a progress bar (in the terminal, removed when done).

        Examples
        --------
        >>> tok = BPETokenizer()
        >>> tok.train("aaabdaaabac", vocab_size=259)
        >>> tok.merges
        {(97, 97): 256, (256, 97): 257, (257, 98): 258}
        >>> tok.encode("aaabdaaabac")
        [258, 100, 258, 97, 99]

        Notes
        -----
        Taught in chapter 7, Sub-word tokenizers.
        """
        check_text(text)
        if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
            raise TypeError(f"vocab_size must be an int; got {describe(vocab_size)}")
        if vocab_size < 256:
            raise ValueError(
                f"vocab_size must be at least 256 (one token per byte); got {vocab_size}"
            )
        clashes = sorted(name for name, i in self._special.items() if i < vocab_size)
        if clashes:
            raise ValueError(
                f"special tokens {clashes} have ids below vocab_size={vocab_size}, which the "
                "merges will use; register special tokens after training"
            )
        # Distinct chunks in order of first occurrence, and how often each occurs.
        chunks: dict[bytes, int] = {}
        for chunk in self._split.split(text):
            key = chunk.encode("utf-8")
            chunks[key] = chunks.get(key, 0) + 1
        self._merges = learn_merges(chunks, vocab_size, verbose)
        self._rebuild()

    # -- special tokens ------------------------------------------------------------------
    def register_special_tokens(self, special_tokens: dict[str, int]) -> None:
        """Give names such as ``"<|endoftext|>"`` ids of their own (replacing earlier ones).

        Parameters
        ----------
        special_tokens : dict of str to int
            Name -> id. Ids must differ from each other and from the ordinary tokens
            (so they are at least ``256 + len(merges)``).

        Raises
        ------
        TypeError, ValueError
            If a name is empty or not UTF-8 (a lone surrogate), or an id is not an int,
            is taken or repeated. Nothing is registered then.

        Notes
        -----
        Chapter 7, Sub-word tokenizers, needs none; GPT-2 ends each document of its
        training text with one, ``<|endoftext|>``.
        """
        if not isinstance(special_tokens, dict):
            raise TypeError(
                f"special_tokens must be a dict of name -> id; got {describe(special_tokens)}"
            )
        for name, i in special_tokens.items():  # check them all before registering any
            if not isinstance(name, str) or not name:
                raise ValueError(f"special token names must be non-empty str; got {name!r}")
            check_text(name, f"special token name {name!r}")  # it is saved as UTF-8
            if not isinstance(i, int) or isinstance(i, bool):
                raise TypeError(f"special token {name!r} must have an int id; got {describe(i)}")
            if i in self._vocab or i < 0:
                raise ValueError(
                    f"special token {name!r} has id {i}, but ids 0 to {len(self._vocab) - 1} "
                    f"are the ordinary tokens; use an id >= {len(self._vocab)}"
                )
        ids = list(special_tokens.values())
        if len(set(ids)) != len(ids):
            raise ValueError(f"special tokens must have different ids; got {special_tokens}")
        self._special = dict(special_tokens)
        self._rebuild()

    def _allowed(self, allowed_special: object, text: str) -> dict[str, int]:
        """The special tokens to encode as such, from the ``allowed_special`` argument."""
        if allowed_special == "all":
            return dict(self._special)
        if allowed_special == "none":
            return {}
        if allowed_special == "none_raise":
            found = [name for name in self._special if name in text]
            if found:
                raise ValueError(
                    f"text contains the special token(s) {found}; pass allowed_special='all' "
                    "to encode them as special tokens, or allowed_special='none' to encode "
                    "them as ordinary text"
                )
            return {}
        if isinstance(allowed_special, str) or not isinstance(allowed_special, Collection):
            raise TypeError(
                "allowed_special must be 'all', 'none', 'none_raise' or a set of special "
                f"token names; got {describe(allowed_special)}"
            )
        unknown = [name for name in allowed_special if name not in self._special]
        if unknown:
            raise ValueError(
                f"allowed_special names tokens that are not registered: {unknown}; "
                f"registered: {sorted(self._special)}"
            )
        return {name: self._special[name] for name in allowed_special}

    # -- encoding and decoding -----------------------------------------------------------
    def encode(self, text: str, allowed_special: str | Collection[str] = "none_raise") -> list[int]:
        """The token ids of ``text``.

        Parameters
        ----------
        text : str
        allowed_special : {"none_raise", "none", "all"} or set of str
            Which registered special tokens to encode as their own id: ``"all"``, a set
            of names (the others are encoded as ordinary text), or ``"none"`` (their text
            is encoded as ordinary bytes).
            ``"none_raise"`` (the default) raises a ValueError if the text contains one,
            so a special token never slips in from user text unnoticed.

        Returns
        -------
        list of int

        Notes
        -----
        Taught in chapter 7, Sub-word tokenizers.
        """
        check_text(text)
        special = self._allowed(allowed_special, text)
        if not special:
            return self._encode_ordinary(text)
        names = sorted(special, key=len, reverse=True)  # the longest name wins
        parts = re.split("(" + "|".join(re.escape(n) for n in names) + ")", text)
        ids: list[int] = []
        for k, part in enumerate(parts):  # ordinary, special, ordinary, special, ...
            if k % 2:
                ids.append(special[part])
            else:
                ids.extend(self._encode_ordinary(part))
        return ids

    def _encode_ordinary(self, text: str) -> list[int]:
        ids: list[int] = []
        for chunk in self._split.split(text):
            ids.extend(self._encode_chunk(chunk))
        return ids

    def _encode_chunk(self, chunk: str) -> list[int]:
        """Apply the merges to one chunk, earliest-learned pair first (cached per chunk)."""
        if len(chunk) > _CACHE_LONGEST:  # a long chunk (no split pattern, say)
            return replay_merges(chunk.encode("utf-8"), self._merges)
        cached = self._cache.get(chunk)
        if cached is not None:
            return cached
        ids = list(chunk.encode("utf-8"))
        never = len(self._merges) + 256  # larger than every merge's id
        while len(ids) >= 2:
            pair = min(
                zip(ids[:-1], ids[1:], strict=True), key=lambda p: self._merges.get(p, never)
            )
            if pair not in self._merges:
                break  # no pair left that was merged in training
            ids = merge(ids, pair, self._merges[pair])
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[chunk] = ids
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text of the token ids ``ids``.

        Bytes that do not form valid UTF-8 (a token list cut in the middle of a character)
        become the replacement character U+FFFD.

        Notes
        -----
        Taught in chapter 7, Sub-word tokenizers.
        """
        ids = token_list(ids)
        special = f", special: {sorted(self._special.values())}" if self._special else ""
        check_known_ids(ids, self._id_bytes, f"0 to {len(self._vocab) - 1}{special}")
        return b"".join(self._id_bytes[i] for i in ids).decode("utf-8", errors="replace")

    # -- saving and loading --------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the pattern, the merges in order and the special tokens to a JSON file.

        Notes
        -----
        Taught in chapter 7, Sub-word tokenizers.
        """
        data = {
            "format": FORMAT,
            "version": VERSION,
            "pattern": self._split.pattern,
            "merges": [list(pair) for pair in self._merges],  # merge k makes id 256 + k
            "special_tokens": self._special,
        }
        write_tokenizer_file(path, data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BPETokenizer:
        """Read a tokenizer written by :meth:`save`: ``tok = BPETokenizer.load(path)``.

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        ValueError
            If the file is not JSON, is a file of another format or version, or one of its
            fields is malformed; the message names the path and the field.

        Notes
        -----
        Taught in chapter 7, Sub-word tokenizers.
        """
        data = read_tokenizer_file(path, FORMAT, VERSION)
        try:
            tokenizer = cls(pattern=data.get("pattern"))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: 'pattern': {error}") from None
        merges = data.get("merges")
        if not isinstance(merges, list):
            raise ValueError(f"{path}: 'merges' must be a list of [a, b] pairs")
        for k, pair in enumerate(merges):
            new_id = 256 + k
            if not (
                isinstance(pair, list)
                and len(pair) == 2
                and all(type(i) is int and 0 <= i < new_id for i in pair)
            ):
                raise ValueError(
                    f"{path}: merge {k} must be a pair of token ids below {new_id}; got {pair!r}"
                )
            tokenizer._merges[(pair[0], pair[1])] = new_id
        if len(tokenizer._merges) != len(merges):
            raise ValueError(f"{path}: 'merges' lists the same pair twice")
        tokenizer._rebuild()
        try:
            tokenizer.register_special_tokens(data.get("special_tokens", {}))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: 'special_tokens': {error}") from None
        return tokenizer

    def __repr__(self) -> str:
        pattern = self._split.pattern
        names = {GPT4_SPLIT_PATTERN: "GPT4_SPLIT_PATTERN", GPT2_SPLIT_PATTERN: "GPT2_SPLIT_PATTERN"}
        if pattern is None or pattern in names:
            shown = names.get(pattern, "None") if pattern is not None else "None"
        else:  # a pattern of one's own, cut short if it is long
            shown = repr(pattern if len(pattern) <= 30 else pattern[:27] + "...")
        return (
            f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self._merges)}, "
            f"special_tokens={len(self._special)}, pattern={shown})"
        )
