"""Activation functions: the non-linear step between two layers, as functions and as layers."""

from __future__ import annotations

import numpy as np

from companion.checks import as_array
from companion.layers import fast
from companion.layers.module import Module

#: sqrt(2 / pi) and the cubic coefficient of GELU's tanh approximation (GPT-2's).
SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
GELU_C = 0.044715


def relu(z: object) -> np.ndarray:
    """Rectified linear unit: negative numbers become 0, others stay as they are.

    Examples
    --------
    >>> relu([-26.6, -47.1, 3.0]).tolist()
    [0.0, 0.0, 3.0]

    Notes
    -----
    Taught in chapter 2, Activation, bias and softmax.
    """
    z = as_array(z, "z")
    out: np.ndarray = np.maximum(z, 0)
    return out


def logistic(z: object) -> np.ndarray:
    """The logistic (sigmoid) function ``1 / (1 + e^(-z))``: any number into (0, 1).

    It keeps the order of its inputs. Written so that ``e^(...)`` never overflows: for
    ``z < 0`` it uses the equal form ``e^z / (1 + e^z)``.

    Examples
    --------
    >>> logistic([-1000.0, 0.0, 1000.0]).tolist()
    [0.0, 0.5, 1.0]

    Notes
    -----
    Taught in chapter 2, Activation, bias and softmax.
    """
    z = as_array(z, "z")
    e = np.exp(-np.abs(z))  # e^(-|z|) <= 1: never overflows
    out: np.ndarray = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return out


def gelu(x: object) -> np.ndarray:
    """Gaussian error linear unit, in the tanh approximation that GPT-2 uses.

    ``gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``. Like ReLU it lets
    large positive numbers through and turns large negative numbers into (almost) 0, but
    it is smooth around 0.

    Examples
    --------
    >>> gelu([-3.0, 0.0, 1.0, 3.0]).round(4).tolist()
    [-0.0036, 0.0, 0.8412, 2.9964]

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    x = as_array(x, "x")
    c, a = x.dtype.type(SQRT_2_OVER_PI), x.dtype.type(GELU_C)
    out: np.ndarray = 0.5 * x * (1 + np.tanh(c * (x + a * x * x * x)))  # x*x*x, not x**3:
    return out  # a float32 power is slow


def gelu_grad(x: object) -> np.ndarray:
    """The slope of :func:`gelu` at each number of ``x``.

    With ``t = tanh(sqrt(2/pi) (x + 0.044715 x^3))``, the slope is
    ``0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)`` (the product rule,
    then the chain rule through ``tanh``, whose slope is ``1 - tanh^2``).

    Notes
    -----
    Used by :meth:`GELU.backward` (chapter 15).
    """
    x = as_array(x, "x")
    c, a = x.dtype.type(SQRT_2_OVER_PI), x.dtype.type(GELU_C)
    t = np.tanh(c * (x + a * x * x * x))
    slope: np.ndarray = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * a * x * x)
    return slope


class ReLU(Module):
    """ReLU as a layer: ``forward`` keeps where the input was positive, ``backward`` uses it.

    The slope of ReLU is 1 where the input was positive and 0 elsewhere (0 at exactly 0, by
    convention), so the gradient passes through the positive numbers and stops at the rest.

    Examples
    --------
    >>> layer = ReLU()
    >>> layer([-26.6, 3.0]).tolist()
    [0.0, 3.0]
    >>> layer.backward(np.array([1.0, 1.0])).tolist()
    [0.0, 1.0]

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` at the door, then :meth:`forward`."""
        return self.forward(as_array(x, "x"))

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.positive = x > 0  # where the slope is 1
        out: np.ndarray = np.maximum(x, 0)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx: np.ndarray = dout * self.positive  # slope 1 where x > 0, 0 elsewhere
        return dx


class GELU(Module):
    """GELU as a layer: ``out = gelu(x)``; ``dx = dout * gelu_grad(x)``.

    Both passes compute :func:`gelu` and :func:`gelu_grad` through the in-place versions
    of :mod:`companion.layers.fast` (the MLP's arrays are large; see there).

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` at the door, then :meth:`forward`."""
        return self.forward(as_array(x, "x"))

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.t = fast.gelu_in_place(x)  # = gelu(x); t is the tanh inside it
        self.x = x
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return fast.gelu_backward_in_place(dout, self.x, self.t)  # = dout * gelu_grad(x)
