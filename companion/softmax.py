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


def log_softmax(z: object, axis: int = -1) -> np.ndarray:
    """The logarithm of :func:`softmax`, computed without ever taking ``log`` of a tiny number.

    ``log softmax(z)_i = z_i - log(sum_j exp(z_j))``. With ``m = max(z)`` the sum is
    written ``m + log(sum_j exp(z_j - m))`` (the "logsumexp"): every ``exp`` is at most 1,
    and the largest term is exactly 1, so the logarithm never sees 0. The result is finite
    for any finite input, even where softmax itself rounds to 0 (``[1000, -1000]`` gives
    ``[0, -2000]``).

    Parameters
    ----------
    z : array_like
        Scores ("logits"), any shape; the distribution runs along ``axis``.
    axis : int
        The axis that holds one distribution.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``z``; ``exp`` of it is ``softmax(z)``.

    Examples
    --------
    >>> log_softmax([1000.0, -1000.0]).tolist()
    [0.0, -2000.0]

    Notes
    -----
    Taught in chapter 9, Softmax, again (used by the cross-entropy loss of chapter 3, Loss
    and gradient descent).
    """
    z = as_float_array(z, "z")
    if not isinstance(axis, int | np.integer) or not -z.ndim <= axis < max(z.ndim, 1):
        raise ValueError(f"axis must be an int in [{-z.ndim}, {z.ndim}); got {axis!r}")
    shifted = z - z.max(axis=axis, keepdims=True)  # largest becomes 0
    log_sum = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))  # sum >= 1: log >= 0
    return shifted - log_sum
