"""A character tokenizer: one token id per character of a fixed alphabet.

Chapter 5 numbers the letters by hand (a = 1, b = 2, ...); chapter 6 gives every character
of a corpus an id and an embedding vector. :class:`CharTokenizer` is that second step: it
collects the characters of a text, sorts them, and uses a character's place in the sorted
alphabet as its id. The ids mean nothing by themselves; they only have to stay fixed, so the
tokenizer can be saved next to a trained model and loaded again.

"""

from __future__ import annotations

import os
from collections.abc import Iterable

from companion.checks import describe, token_list
from companion.tokenizers.base import (
    check_known_ids,
    check_text,
    read_tokenizer_file,
    write_tokenizer_file,
)

FORMAT = "companion-char-tokenizer"
VERSION = 1


def letter_number(ch: str) -> int:
    """The chapter-5 numbering of a letter: a = 1, b = 2, ..., z = 26 (case ignored).

    Parameters
    ----------
    ch : str
        One letter of the English alphabet, lower or upper case.

    Returns
    -------
    int
        Its place in the alphabet, from 1 to 26.

    Examples
    --------
    >>> [letter_number(c) for c in "Humpty"]
    [8, 21, 13, 16, 20, 25]

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    if not isinstance(ch, str):
        raise TypeError(f"ch must be a one-letter str; got {describe(ch)}")
    if len(ch) != 1 or not (ch.isascii() and ch.isalpha()):
        raise ValueError(f"ch must be one letter from a to z; got {ch!r}")
    return ord(ch.lower()) - ord("a") + 1


class CharTokenizer:
    """Turn text into token ids and back, one id per character.

    Parameters
    ----------
    chars : str or iterable of str
        The characters the tokenizer knows (its alphabet), in any order and with repeats
        allowed: they are de-duplicated and sorted, and a character's id is its place in
        the sorted alphabet.

    Examples
    --------
    >>> tok = CharTokenizer.from_text("humpty dumpty")
    >>> tok.alphabet
    ' dhmptuy'
    >>> tok.encode("dump")
    [1, 6, 3, 4]
    >>> tok.decode([1, 6, 3, 4])
    'dump'

    Notes
    -----
    Taught in chapter 6, Embeddings.
    """

    def __init__(self, chars: str | Iterable[str]) -> None:
        if isinstance(chars, bytes) or not isinstance(chars, Iterable):
            raise TypeError(f"chars must be a str or an iterable of str; got {describe(chars)}")
        items = list(chars)
        for item in items:
            if not isinstance(item, str) or len(item) != 1:
                raise ValueError(f"chars must hold single characters; got {describe(item)}")
        if not items:
            raise ValueError("chars must hold at least one character; got none")
        self._itos: list[str] = sorted(set(items))  # id -> character
        self._stoi: dict[str, int] = {c: i for i, c in enumerate(self._itos)}  # character -> id

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """Build the tokenizer whose alphabet is every character that occurs in ``text``.

        Parameters
        ----------
        text : str
            The training text, for example the whole corpus.

        Returns
        -------
        CharTokenizer

        Notes
        -----
        Taught in chapter 6, Embeddings.
        """
        check_text(text)
        if not text:
            raise ValueError("text must hold at least one character; got an empty string")
        return cls(text)

    @property
    def alphabet(self) -> str:
        """The known characters in id order (``alphabet[i]`` is the character of id ``i``)."""
        return "".join(self._itos)

    @property
    def vocab_size(self) -> int:
        """How many different token ids there are (the size of an embedding table)."""
        return len(self._itos)

    def encode(self, text: str) -> list[int]:
        """The token id of every character of ``text``.

        Parameters
        ----------
        text : str

        Returns
        -------
        list of int

        Raises
        ------
        ValueError
            If ``text`` holds characters outside the alphabet; the message lists them.

        Notes
        -----
        Taught in chapter 6, Embeddings.
        """
        check_text(text)
        unknown = [c for c in dict.fromkeys(text) if c not in self._stoi]
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise ValueError(f"text has characters the tokenizer does not know: {shown}{more}")
        return [self._stoi[c] for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        """The text whose token ids are ``ids``.

        Parameters
        ----------
        ids : iterable of int
            Token ids, each from 0 to ``vocab_size - 1`` (a list, or a 1-D integer array).

        Returns
        -------
        str

        Notes
        -----
        Taught in chapter 6, Embeddings.
        """
        ids = token_list(ids)
        check_known_ids(ids, range(self.vocab_size), f"0 to {self.vocab_size - 1}")
        return "".join(self._itos[i] for i in ids)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the alphabet to a JSON file that :meth:`load` reads back.

        Notes
        -----
        Chapter 6, Embeddings, builds this tokenizer; a checkpoint
        (:func:`~companion.train.checkpoint.save_checkpoint`) saves it with the model.
        """
        write_tokenizer_file(path, {"format": FORMAT, "version": VERSION, "chars": self._itos})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CharTokenizer:
        """Read a tokenizer written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        ValueError
            If the file is not JSON, is a file of another format or version, or its
            alphabet is malformed; the message names the path.

        Notes
        -----
        Chapter 6, Embeddings, builds this tokenizer; a checkpoint
        (:func:`~companion.train.checkpoint.load_checkpoint`) loads it with the model.
        """
        data = read_tokenizer_file(path, FORMAT, VERSION)
        chars = data.get("chars")
        if (
            not isinstance(chars, list)
            or not all(isinstance(c, str) for c in chars)
            or len(set(chars)) != len(chars)
        ):
            raise ValueError(f"{path}: 'chars' must be a list of distinct characters")
        try:
            tokenizer = cls(chars)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: {error}") from None
        if tokenizer._itos != chars:
            raise ValueError(f"{path}: 'chars' must be sorted")
        return tokenizer

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"
