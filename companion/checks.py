"""Checks at the door: arguments a learner passes become arrays and numbers, or clear errors.

Every public function, and every layer called as ``layer(x)``, passes its arguments
through these checks once. A learner who gives three numbers instead of four, a string, a
NaN or a negative size gets a message that names the argument, says what was expected and
what came instead, not a NumPy traceback three frames down. Inside a model, layers call
each other's ``forward`` directly and nothing is checked again: the model made those arrays
itself.

Shapes are written as the book writes them: ``[batch, 4]``. In a shape given to
:func:`as_array` an int is an exact size, a str such as ``"batch"`` names a size that may be
anything, and ``...`` (Ellipsis) at the front stands for any number of leading axes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from types import EllipsisType

import numpy as np

#: The companion computes in float32 unless it is handed float64 arrays.
DEFAULT_DTYPE = np.dtype(np.float32)

Shape = Sequence[int | str | EllipsisType]


def describe(value: object) -> str:
    """Say briefly what ``value`` is, for an error message.

    Examples
    --------
    >>> describe(np.zeros((2, 3)))
    'an array of shape (2, 3) and dtype float64'
    >>> describe("hello")
    "the string 'hello'"
    """
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:17] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    return f"{type(value).__name__} {value!r}"


def format_shape(shape: Shape) -> str:
    """Write a shape the way the book does: ``[..., batch, 4]``."""
    return "[" + ", ".join("..." if s is Ellipsis else str(s) for s in shape) + "]"


def _fits(actual: tuple[int, ...], shape: Shape) -> bool:
    """Whether an array of shape ``actual`` has the shape ``shape`` (see the module notes)."""
    if shape and shape[0] is Ellipsis:
        rest = shape[1:]
        return len(actual) >= len(rest) and _fits(actual[len(actual) - len(rest) :], rest)
    if len(actual) != len(shape):
        return False
    return all(not isinstance(s, int) or a == s for a, s in zip(actual, shape, strict=True))


def _numbers(value: object, name: str, kinds: str, what: str) -> np.ndarray:
    """``value`` as an array whose dtype kind is one of ``kinds``, or a TypeError."""
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be {what}, not text; got {describe(value)}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists
        raise TypeError(
            f"{name} must be a rectangular array of {what}; got {describe(value)}"
        ) from None
    if array.dtype.kind not in kinds:
        raise TypeError(
            f"{name} must hold {what}; got {describe(value)}"
            + ("" if isinstance(value, np.ndarray) else f" (dtype {array.dtype})")
        )
    return array


def _check_shape(array: np.ndarray, name: str, shape: Shape | None, meaning: str) -> None:
    if shape is not None and not _fits(array.shape, shape):
        about = f" ({meaning})" if meaning else ""
        raise ValueError(
            f"{name} must have shape {format_shape(shape)}{about}; got shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}")


def as_array(
    value: object,
    name: str,
    *,
    shape: Shape | None = None,
    dtype: object = None,
    meaning: str = "",
) -> np.ndarray:
    """Return ``value`` as a finite floating-point array, or raise a clear error.

    Parameters
    ----------
    value : array_like
        A number, a (nested) list of numbers or an array.
    name : str
        The argument's name, for the messages.
    shape : sequence, optional
        The shape expected (see the module notes); any shape when omitted.
    dtype : numpy.float32 or numpy.float64, optional
        The dtype wanted. By default float64 stays float64 and everything else becomes
        float32. A float32 array is not copied.
    meaning : str
        What the axes hold, for the message (for example ``"R, G, B, volume"``).

    Raises
    ------
    TypeError
        If ``value`` is text, holds something other than numbers, or is ragged.
    ValueError
        If it is empty, has another shape, or holds NaN or infinity (also after the
        conversion to float32, which turns numbers above 3.4e38 into infinity).

    Examples
    --------
    >>> as_array([1, 2], "x").dtype
    dtype('float32')
    >>> as_array([1.0, 2.0, 3.0], "x", shape=("batch", 4))
    Traceback (most recent call last):
    ...
    ValueError: x must have shape [batch, 4]; got shape (3,)
    """
    array = _numbers(value, name, "iuf", "numbers (int or float)")
    if dtype is None:
        target = np.dtype(np.float64) if array.dtype == np.float64 else DEFAULT_DTYPE
    else:
        target = float_dtype(dtype)
    with np.errstate(over="ignore"):  # an overflow becomes inf, which is refused below
        converted = array.astype(target, copy=False)
    _check_shape(converted, name, shape, meaning)
    if not np.isfinite(converted).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(converted))[0])
        given = array[where]
        too_large = f" (too large for {target.name})" if np.isfinite(given) else ""
        raise ValueError(
            f"{name} must hold finite {target.name} numbers; got {given} at index {where}"
            + too_large
        )
    return converted


def as_ids(
    value: object,
    name: str,
    n: int,
    *,
    shape: Shape | None = None,
    meaning: str = "",
    ignore_index: int | None = None,
) -> np.ndarray:
    """Return ``value`` as an array of integer ids in ``[0, n)``, or raise a clear error.

    Ids equal to ``ignore_index`` may lie outside the range (padding that a loss skips).

    Examples
    --------
    >>> as_ids([[1, 2]], "ids", 3).tolist()
    [[1, 2]]
    >>> as_ids([1, 5], "ids", 3)
    Traceback (most recent call last):
    ...
    ValueError: ids must be ids in [0, 3); got 5 at index (1,)
    """
    ids = _numbers(value, name, "iu", "integer ids")
    _check_shape(ids, name, shape, meaning)
    outside = (ids < 0) | (ids >= n)
    if ignore_index is not None:
        outside &= ids != ignore_index
    if outside.any():
        where = tuple(int(i) for i in np.argwhere(outside)[0])
        allowed = f"[0, {n})" + ("" if ignore_index is None else f" or {ignore_index}")
        raise ValueError(f"{name} must be ids in {allowed}; got {ids[where]} at index {where}")
    return ids


def token_list(ids: object, name: str = "ids") -> list[int]:
    """``ids`` (a list or a 1-D array of whole numbers) as a list of Python ints."""
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


def whole_number(value: object, name: str, *, low: int = 0) -> int:
    """``value`` as an int if it is a whole number ``>= low``, or a clear error.

    Examples
    --------
    >>> whole_number(3, "n_layer", low=1)
    3
    >>> whole_number(0, "n_layer", low=1)
    Traceback (most recent call last):
    ...
    ValueError: n_layer must be an int >= 1; got 0
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int >= {low}; got {describe(value)}")
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value}")
    return int(value)


def positive_int(value: object, name: str) -> int:
    """``value`` as an int if it is a whole number ``>= 1`` (a size), or a clear error."""
    return whole_number(value, name, low=1)


def number(
    value: object,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float if it is a finite real number in the range, or a clear error.

    The range is ``[low, high]``; ``low_open`` or ``high_open`` leave out that end.

    Examples
    --------
    >>> number(0.5, "p_drop", low=0, high=1, high_open=True)
    0.5
    >>> number(1, "p_drop", low=0, high=1, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: p_drop must be a finite number >= 0 and < 1; got 1
    """
    lower = "" if low == -math.inf else f" {'>' if low_open else '>='} {low:g}"
    upper = "" if high == math.inf else f" {'<' if high_open else '<='} {high:g}"
    wanted = "a finite number" + lower + (" and" if lower and upper else "") + upper
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {wanted}; got {describe(value)}")
    x = float(value)
    above = x > low if low_open else x >= low
    below = x < high if high_open else x <= high
    if not (math.isfinite(x) and above and below):
        raise ValueError(f"{name} must be {wanted}; got {value!r}")
    return x


def flag(value: object, name: str) -> bool:
    """``value`` if it is ``True`` or ``False``, or a TypeError."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {describe(value)}")
    return bool(value)


def one_of(value: object, name: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of the strings ``choices``, or a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {describe(value)}")
    return value


def float_dtype(dtype: object) -> np.dtype:
    """Accept ``np.float32`` or ``np.float64`` (or their names); return the NumPy dtype."""
    for allowed in (np.dtype(np.float32), np.dtype(np.float64)):
        if dtype is not None and (dtype == allowed or dtype in (allowed.type, allowed.name)):
            return allowed
    raise TypeError(f"dtype must be np.float32 or np.float64; got {describe(dtype)}")


def as_generator(rng: object) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a generator or an int seed (never unseeded)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(whole_number(rng, "rng, as a seed,"))
    raise TypeError(
        "rng must be a numpy Generator (np.random.default_rng(seed)) or an int seed; "
        f"got {describe(rng)}"
    )
