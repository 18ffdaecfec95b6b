"""Activation functions: the non-linear step between two layers."""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array


def relu(z: object) -> np.ndarray:
    """Rectified linear unit: negative numbers become 0, others stay as they are.

    Parameters
    ----------
    z : array_like
        Any shape.

    Examples
    --------
    >>> relu([-26.6, -47.1, 3.0]).tolist()
    [0.0, 0.0, 3.0]

    Notes
    -----
    Taught in chapter 2, Activation, bias and softmax.
    """
    z = as_float_array(z, "z")
    return np.maximum(z, z.dtype.type(0))


def logistic(z: object) -> np.ndarray:
    """The logistic (sigmoid) function ``1 / (1 + exp(-z))``: any number into (0, 1).

    It keeps the order of its inputs. Computed without overflow for large ``|z|``.

    Notes
    -----
    Taught in chapter 2, Activation, bias and softmax.
    """
    z = as_float_array(z, "z")
    e = np.exp(-np.abs(z))  # never overflows: -|z| <= 0
    one = z.dtype.type(1)
    return np.where(z >= 0, one / (one + e), e / (one + e))
