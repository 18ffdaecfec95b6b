"""What every tokenizer offers, and the file format they share.

A tokenizer turns text into token ids and back: ``encode``, ``decode``, and ``vocab_size``
(how many ids there are: the rows of an embedding table). ``save`` writes it to a JSON
file that ``load`` reads back, so that a trained model keeps its ids.
"""

from __future__ import annotations

import json
import os
from collections.abc import Container, Iterable
from typing import Any, Protocol

from companion.checks import describe
from companion.files import read_json, write_text


class Tokenizer(Protocol):
    """Anything with ``vocab_size``, ``encode(text) -> ids``, ``decode(ids) -> text``, ``save``.

    :class:`~companion.tokenizers.char.CharTokenizer` and
    :class:`~companion.tokenizers.bpe.BPETokenizer` are the two of the course.
    """

    @property
    def vocab_size(self) -> int: ...  # pragma: no cover

    def encode(self, text: str) -> list[int]: ...  # pragma: no cover

    def decode(self, ids: Iterable[int]) -> str: ...  # pragma: no cover

    def save(self, path: str | os.PathLike[str]) -> None: ...  # pragma: no cover


def check_text(text: object, name: str = "text") -> str:
    """``text`` if it is a str that UTF-8 can encode, else a clear error."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str; got {describe(text)}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{name} has a character UTF-8 cannot encode: {text[error.start]!r} at index "
            f"{error.start} (a lone surrogate)"
        ) from None
    return text


def check_known_ids(ids: list[int], known: Container[int], expected: str) -> None:
    """Raise a ValueError listing the ids of ``ids`` that are not in ``known``."""
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown:
        shown = ", ".join(str(i) for i in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise ValueError(
            f"ids has token ids the tokenizer does not know: {shown}{more} (known ids: {expected})"
        )


def write_tokenizer_file(path: object, data: dict[str, Any]) -> None:
    """Write a tokenizer's fields as JSON, one field a line, atomically.

    Non-ASCII characters are written as ``\\u`` escapes, so any str can be saved.
    """
    fields = [f"{json.dumps(key)}: {json.dumps(value)}" for key, value in data.items()]
    write_text(path, "{\n" + ",\n".join(fields) + "\n}\n")


def read_tokenizer_file(path: object, format_name: str, version: int) -> dict[str, Any]:
    """The JSON object of a tokenizer file, after checking its format name and version."""
    data = read_json(path, f"{format_name} file")
    found = data.get("format") if isinstance(data, dict) else None
    if found != format_name:
        raise ValueError(
            f"{path} is not a {format_name} file: its format is {found!r}, expected {format_name!r}"
        )
    if data.get("version") != version:
        raise ValueError(
            f"{path} is a {format_name} file of version {data.get('version')!r}; "
            f"this companion reads version {version}"
        )
    return dict(data)
