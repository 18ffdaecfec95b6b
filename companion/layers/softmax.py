"""Softmax: turn any output numbers into probabilities; and its logarithm."""

from __future__ import annotations

import numpy as np

from companion.checks import as_array


def _scores_and_axis(z: object, axis: object) -> tuple[np.ndarray, int]:
    """``z`` as an array of at least one axis, and ``axis`` if it names one of them."""
    z = as_array(z, "z", shape=(..., "n"), meaning="scores along the last axis")
    if isinstance(axis, bool) or not isinstance(axis, int) or not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis must be an int from {-z.ndim} to {z.ndim - 1}; got {axis!r}")
    return z, axis


def softmax(z: object, axis: int = -1) -> np.ndarray:
    """Exponentiate, then divide by the sum: positive numbers that add up to 1.

    Subtracting the largest value first changes nothing in the result (the factor
    ``e^(-max)`` cancels in the division) but keeps ``e^z`` from overflowing.

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
    z, axis = _scores_and_axis(z, axis)
    e = np.exp(z - z.max(axis=axis, keepdims=True))  # the largest becomes e^0 = 1
    probabilities: np.ndarray = e / e.sum(axis=axis, keepdims=True)
    return probabilities


def log_softmax(z: object, axis: int = -1) -> np.ndarray:
    """The logarithm of :func:`softmax`, without ever taking the log of a tiny number.

    ``log softmax(z)_i = z_i - log(sum_j e^(z_j))``. With ``m = max(z)`` the sum is written
    ``m + log(sum_j e^(z_j - m))``: every ``e^(...)`` is at most 1 and the largest is
    exactly 1, so the logarithm never sees 0. The result is finite for any finite input,
    even where softmax itself rounds to 0 (``[1000, -1000]`` gives ``[0, -2000]``).

    Examples
    --------
    >>> log_softmax([1000.0, -1000.0]).tolist()
    [0.0, -2000.0]

    Notes
    -----
    Taught in chapter 9, Softmax, again (used by the cross-entropy loss of chapter 3).
    """
    z, axis = _scores_and_axis(z, axis)
    shifted = z - z.max(axis=axis, keepdims=True)  # the largest becomes 0
    log_probabilities: np.ndarray = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return log_probabilities  # the sum is at least 1: its log is at least 0
