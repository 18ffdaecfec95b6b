"""Files the companion writes and reads: checkpoints, histories and tokenizers.

Every file is written *atomically*: into a hidden temporary file beside it, flushed to
the disk, then renamed over the old one in a single step. A crash or Ctrl-C while writing
leaves the previous file intact, never half a file. A process killed outright (``kill
-9``) cannot remove its temporary file; :func:`remove_temporaries` does that on the next
run. Reading checks the size first: a file cannot make the program allocate gigabytes.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from companion.checks import describe

#: The largest JSON file (a tokenizer, a checkpoint's description) the companion reads.
MAX_JSON_BYTES = 64 * 2**20


def as_path(path: object, name: str = "path") -> Path:
    """``path`` (a str or a path-like object) as a :class:`pathlib.Path`, or a TypeError."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{name} must be a str or a path; got {describe(path)}")
    if path == "":
        raise ValueError(f"{name} must not be empty (write '.' for the current folder)")
    return Path(path)


def write_atomically(path: object, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    Raises
    ------
    FileNotFoundError
        If the folder of ``path`` does not exist.
    PermissionError, OSError
        If the folder is not writable, or the disk is full (no file is left behind).
    """
    file = as_path(path)
    folder = file.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"the folder of {file} does not exist (or is not a folder)")
    handle, temporary = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=folder)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; our files are not
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, file)
    except BaseException:  # Ctrl-C included: no temporary file is left behind
        Path(temporary).unlink(missing_ok=True)
        raise
    return file


def write_text(path: object, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_atomically(path, lambda out: out.write(text.encode("utf-8")))


def remove_temporaries(folder: object, name: str) -> list[Path]:
    """Delete the temporary files that writing ``name*`` into ``folder`` left behind.

    A process killed while writing cannot clean up after itself; the next run calls this.
    Returns the files removed.
    """
    found = sorted(as_path(folder).glob(f".{name}*.tmp"))
    for leftover in found:
        leftover.unlink(missing_ok=True)
    return found


def read_json(path: object, what: str) -> Any:
    """The JSON value in the file at ``path``, or a clear error naming ``what`` it should be.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If it is larger than :data:`MAX_JSON_BYTES`, or not UTF-8 JSON.
    """
    file = as_path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no {what} at {file}")
    size = file.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ValueError(f"{file} is not a {what}: {size:,} bytes is more than one can hold")
    try:
        return json.loads(file.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{file} is not a {what}: it is not valid JSON ({error})") from None
