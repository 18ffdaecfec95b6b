"""Gradients by nudging, and a check that formula gradients agree with them.

The article finds a gradient by nudging: change one parameter a little and watch how the
loss moves. :func:`numerical_gradient` does exactly that for every number of an array
(central differences, nudging up and down by ``h``). :func:`gradcheck` compares it with the
gradient a backward pass computed, using a normalised error that does not depend on the
gradients' size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from companion.checks import describe


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Estimate d f / d x by nudging each number of ``x`` up and down by ``h``.

    ``f`` takes no arguments: it reads ``x`` (changed in place, then restored), so it can
    be "run the whole model and return the loss".

    Parameters
    ----------
    f : callable
        Returns the loss, a number, for the current contents of ``x``.
    x : numpy.ndarray
        A float array that ``f`` depends on; left exactly as it was on return.
    h : float
        The nudge. With float64, 1e-5 balances rounding against curvature.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``: ``(f(x + h) - f(x - h)) / (2 h)`` for each number.

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent.
    """
    if not callable(f):
        raise TypeError(
            f"f must be a function of no arguments returning the loss; got {describe(f)}"
        )
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a float array that f reads; got {describe(x)}")
    if not (isinstance(h, float | int) and np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a positive number; got {h!r}")
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views: nudging flat_x nudges x
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so it can be nudged in place")
    for i in range(flat_x.size):
        saved = flat_x[i]
        flat_x[i] = saved + h
        up = float(f())
        flat_x[i] = saved - h
        down = float(f())
        flat_x[i] = saved
        flat_grad[i] = (up - down) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised error ``||a - b|| / (||a|| + ||b||)`` (Euclidean norms; 0 when both are 0).

    It is between 0 and 1 whatever the size of the gradients: 1e-7 means the two agree to
    about seven digits.

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def gradcheck(
    f: Callable[[], float],
    x: np.ndarray,
    analytic: np.ndarray,
    *,
    h: float = 1e-5,
    tol: float = 1e-6,
) -> float:
    """Compare an analytic gradient with nudging; return the error, raise if above ``tol``.

    Parameters
    ----------
    f : callable
        Returns the loss for the current contents of ``x``.
    x : numpy.ndarray
        The float64 array the gradient is taken with respect to.
    analytic : numpy.ndarray
        The gradient a backward pass computed, same shape as ``x``.
    h, tol : float
        The nudge, and the largest normalised error accepted.

    Returns
    -------
    float
        The normalised error (see :func:`relative_error`).

    Raises
    ------
    AssertionError
        If the error is larger than ``tol``.

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """
    analytic = np.asarray(analytic)
    if analytic.shape != x.shape:
        raise ValueError(f"analytic must have the shape of x, {x.shape}; got {analytic.shape}")
    error = relative_error(analytic, numerical_gradient(f, x, h))
    if not error <= tol:
        raise AssertionError(f"gradient check failed: normalised error {error:.2e} > {tol:.0e}")
    return error
