"""Softmax: turn any output numbers into probabilities."""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array


def softmax(z: object, axis: int = -1) -> np.ndarray:
    """Exponentiate, then divide by the sum: positive numbers that add up to 1.

    Subtracting the largest value first changes nothing in the result (it cancels in the
    division) but keeps ``exp`` from overflowing.

    Parameters
    ----------
    z : array_like
        Scores ("logits"), any shape; softmax runs along ``axis``.
    axis : int
        The axis that holds one distribution.

    Examples
    --------
    >>> softmax([1.0, 2.0, 3.0]).round(4).tolist()
    [0.09, 0.2447, 0.6652]

    Notes
    -----
    Taught in chapter 2, Activation, bias and softmax.
    """
    z = as_float_array(z, "z")
    if not isinstance(axis, int | np.integer) or not -z.ndim <= axis < max(z.ndim, 1):
        raise ValueError(f"axis must be an int in [{-z.ndim}, {z.ndim}); got {axis!r}")
    shifted = z - z.max(axis=axis, keepdims=True)  # largest becomes 0: exp <= 1
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)
