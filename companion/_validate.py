"""Input checks shared by the companion's public functions.

Every public function turns its arguments into arrays through :func:`as_float_array`, so a
learner who passes three numbers instead of four, a string, or a NaN gets a message that
names the argument, the shape it expected and what it was given, instead of a NumPy
traceback three frames down.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar

import numpy as np

#: The companion computes in float32 unless it is handed float64 arrays.
DEFAULT_DTYPE = np.float32

ShapeSpec = Sequence[int | str | None]

_INSIDE_MODEL: ContextVar[bool] = ContextVar("inside_model", default=False)


@contextlib.contextmanager
def inside_model() -> Iterator[None]:
    """While it lasts, :func:`as_float_array` does not scan float arrays for NaN.

    A model (the GPT, the Transformer) checks what it is given, then passes arrays it
    made itself from layer to layer; scanning each of them again for NaN and infinity
    took about 5 % of a training step. Shapes are still checked, and the loss still
    checks the logits, so a model that diverges is still stopped with a clear error.
    """
    token = _INSIDE_MODEL.set(True)
    try:
        yield
    finally:
        _INSIDE_MODEL.reset(token)


def describe(value: object) -> str:
    """Say briefly what ``value`` is, for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:17] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    return f"{type(value).__name__} {value!r}"


def format_shape(shape: ShapeSpec) -> str:
    """Write a shape the way the book does: ``[batch, 4]``."""
    return "[" + ", ".join("any" if s is None else str(s) for s in shape) + "]"


def as_float_array(
    value: object,
    name: str,
    *,
    shapes: Sequence[ShapeSpec] | None = None,
    meaning: str = "",
) -> np.ndarray:
    """Return ``value`` as a finite floating-point array, or raise a clear error.

    Parameters
    ----------
    value
        A number, a (nested) list of numbers or an array.
    name
        The argument's name, used in error messages.
    shapes
        Accepted shapes; each is a sequence whose items are an exact size, a name such
        as ``"batch"`` or ``None`` (any size). ``None`` accepts any shape.
    meaning
        What the last axis holds, for the message (for example ``"R, G, B, volume"``).

    Returns
    -------
    numpy.ndarray
        float64 input stays float64; everything else becomes float32.

    Raises
    ------
    TypeError
        If ``value`` is a string, holds non-numbers, or is ragged.
    ValueError
        If it is empty, has another shape, or holds NaN or infinity.
    """
    if (
        _INSIDE_MODEL.get()
        and isinstance(value, np.ndarray)
        and value.dtype in (np.float32, np.float64)
        and value.size > 0
        and (shapes is None or any(_matches(value.shape, s) for s in shapes))
    ):
        return value  # an array the model made itself: see inside_model
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be numbers, not text; got {describe(value)}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise TypeError(
            f"{name} must be a rectangular array of numbers; got {describe(value)} ({error})"
        ) from None
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold numbers (int or float); got {describe(value)}"
            + (f" with dtype {array.dtype}" if not isinstance(value, np.ndarray) else "")
        )
    if array.dtype != np.float64:
        array = array.astype(DEFAULT_DTYPE, copy=False)  # float32 input is not copied
    if shapes is not None and not any(_matches(array.shape, s) for s in shapes):
        expected = " or ".join(format_shape(s) for s in shapes)
        about = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must have shape {expected}{about}; got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(
            f"{name} must be finite; got {array[where]} at index {where if array.ndim else ()}"
        )
    return array


def _matches(actual: tuple[int, ...], spec: ShapeSpec) -> bool:
    if len(actual) != len(spec):
        return False
    return all(not isinstance(s, int) or a == s for a, s in zip(actual, spec, strict=True))


# -- sizes, dtypes, random generators and integer ids, for the layers ---------------------


def positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int if it is a whole number >= 1, or raise a clear error."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a positive int; got {describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return int(value)


def float_dtype(dtype: object) -> type:
    """Accept ``np.float32`` or ``np.float64`` (or their names); return the NumPy type."""
    try:
        resolved = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        resolved = None
    if dtype is None or resolved not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64; got {describe(dtype)}")
    return resolved.type


def as_generator(rng: object) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a generator or an int seed (never unseeded)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng, as a seed, must be an int >= 0; got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be a numpy Generator (np.random.default_rng(seed)) or an int seed; "
        f"got {describe(rng)}"
    )


def as_ids(
    value: object,
    name: str,
    n: int,
    *,
    shape: tuple[int, ...] | None = None,
    meaning: str = "",
    ignore_index: int | None = None,
) -> np.ndarray:
    """Return ``value`` as an integer array of ids in ``[0, n)``, or raise a clear error.

    Ids equal to ``ignore_index`` may lie outside the range. Used for the targets of
    :func:`cross_entropy` and the token ids of :class:`companion.embedding.Embedding`.
    """
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be integer ids, not text; got {describe(value)}")
    try:
        ids = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists
        raise TypeError(
            f"{name} must be a rectangular array of integer ids; got {describe(value)}"
        ) from None
    if ids.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {ids.shape}")
    if ids.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer ids (an int array); got {describe(value)}"
            + (f" with dtype {ids.dtype}" if not isinstance(value, np.ndarray) else "")
        )
    if shape is not None and ids.shape != tuple(shape):
        raise ValueError(
            f"{name} must have shape {format_shape(shape)}"
            + (f" ({meaning})" if meaning else "")
            + f"; got shape {ids.shape}"
        )
    outside = (ids < 0) | (ids >= n)
    if ignore_index is not None:
        outside &= ids != ignore_index
    if outside.any():
        where = tuple(int(i) for i in np.argwhere(outside)[0])
        allowed = f"[0, {n})" + ("" if ignore_index is None else f" or {ignore_index}")
        raise ValueError(f"{name} must be ids in {allowed}; got {ids[where]} at index {where}")
    return ids


def as_token_list(ids: object, name: str = "ids") -> list[int]:
    """``ids`` as a list of Python ints, or a TypeError naming what was given."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        raise TypeError(f"{name} must be a list of int token ids; got {describe(ids)}")
    if isinstance(ids, np.ndarray) and ids.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {ids.shape}")
    result = []
    for i in ids:
        if isinstance(i, bool | np.bool_) or not isinstance(i, int | np.integer):
            raise TypeError(f"{name} must hold int token ids; got {describe(i)}")
        result.append(int(i))
    return result
