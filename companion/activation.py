"""Activation functions: the non-linear step between two layers, as functions and as layers."""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array
from companion.module import Module


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


# -- GELU: the activation of GPT-2 -------------------------------------------------------

#: sqrt(2 / pi), the constant of the tanh approximation of GELU.
_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
#: The cubic coefficient of the tanh approximation of GELU.
_GELU_CUBIC = 0.044715


def gelu(z: object) -> np.ndarray:
    """Gaussian error linear unit, in the tanh approximation that GPT-2 uses.

    ``gelu(z) = 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z**3)))``. Like ReLU it lets large
    positive numbers through and turns large negative numbers into (almost) 0, but it is
    smooth around 0. (The exact GELU is ``z * Phi(z)`` with ``Phi`` the normal distribution
    function; the approximation differs from it by less than 1e-3.)

    Parameters
    ----------
    z : array_like
        Any shape.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``z`` (float32 unless ``z`` is float64).

    Examples
    --------
    >>> gelu([-3.0, 0.0, 1.0, 3.0]).round(4).tolist()
    [-0.0036, 0.0, 0.8412, 2.9964]

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    z = as_float_array(z, "z")
    one, half = z.dtype.type(1), z.dtype.type(0.5)
    z3 = z * z * z  # not z**3: NumPy's float32 power has no fast path (about 80x slower)
    t = np.tanh(z.dtype.type(_SQRT_2_OVER_PI) * (z + z.dtype.type(_GELU_CUBIC) * z3))
    return half * z * (one + t)


def gelu_derivative(z: object) -> np.ndarray:
    """d gelu(z) / d z for the tanh approximation, number by number.

    With ``u = sqrt(2/pi) (z + 0.044715 z**3)`` and ``t = tanh(u)``:
    ``0.5 (1 + t) + 0.5 z (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 z**2)``.

    Parameters
    ----------
    z : array_like
        Any shape.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``z``.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    z = as_float_array(z, "z")
    one, half = z.dtype.type(1), z.dtype.type(0.5)
    c, a = z.dtype.type(_SQRT_2_OVER_PI), z.dtype.type(_GELU_CUBIC)
    z2 = z * z  # products, not powers: see gelu
    t = np.tanh(c * (z + a * z2 * z))
    du_dz = c * (one + z.dtype.type(3) * a * z2)
    return half * (one + t) + half * z * (one - t * t) * du_dz


# -- the same functions as layers ----------------------------------------------------------


class ReLU(Module):
    """ReLU as a layer: ``forward`` keeps which numbers were positive, ``backward`` uses it.

    The slope of ReLU is 1 where the input was positive and 0 elsewhere (0 at exactly 0, by
    convention), so the gradient passes through the positive numbers and stops at the rest.

    Examples
    --------
    >>> layer = ReLU()
    >>> layer.forward([-26.6, 3.0]).tolist()
    [0.0, 3.0]
    >>> layer.backward([1.0, 1.0]).tolist()
    [0.0, 1.0]

    Notes
    -----
    Taught in chapter 2, Activation, bias and softmax (the backward pass in chapter 4,
    Gradients from formulas).
    """

    def __init__(self) -> None:
        super().__init__()
        self.positive: np.ndarray | None = None

    def forward(self, x: object) -> np.ndarray:
        x = as_float_array(x, "x")
        self.positive = x > 0  # where the slope is 1
        return np.maximum(x, x.dtype.type(0))

    def backward(self, dout: object) -> np.ndarray:
        if self.positive is None:
            raise RuntimeError("ReLU.backward needs a forward pass first")
        dout = as_float_array(dout, "dout", shapes=[self.positive.shape])
        return np.where(self.positive, dout, dout.dtype.type(0))


class GELU(Module):
    """GELU (tanh approximation, as in GPT-2) as a layer; see :func:`gelu`.

    ``forward`` keeps its input and ``t = tanh(u)``; ``backward`` multiplies ``dout`` by
    :func:`gelu_derivative`, reusing that ``t``. Both compute the same formulas as the two
    functions, but step by step inside one or two arrays (``out=`` and in-place
    operators) instead of a new array at every operation: in the GPT's MLP the arrays are
    4 times as wide as the model, and making and filling fresh ones took most of the time.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """

    def __init__(self) -> None:
        super().__init__()
        self.x: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: object) -> np.ndarray:
        z = as_float_array(x, "x")
        f = z.dtype.type  # every constant in the input's dtype: float32 stays float32
        t = z * z  # [...]: becomes u, then tanh(u)
        t *= f(_GELU_CUBIC)
        t += f(1)
        t *= z
        t *= f(_SQRT_2_OVER_PI)  # u = sqrt(2/pi) (z + 0.044715 z^3)
        np.tanh(t, out=t)
        out = t + f(1)
        out *= z
        out *= f(0.5)  # 0.5 z (1 + tanh(u))
        self.x, self.t = z, t
        return out

    def backward(self, dout: object) -> np.ndarray:
        if self.x is None or self.t is None:
            raise RuntimeError("GELU.backward needs a forward pass first")
        z, t, f = self.x, self.t, self.x.dtype.type
        dout = as_float_array(dout, "dout", shapes=[z.shape]).astype(z.dtype, copy=False)
        d = z * z
        d *= f(3 * _GELU_CUBIC)
        d += f(1)
        d *= f(_SQRT_2_OVER_PI)  # du/dz = sqrt(2/pi) (1 + 3 * 0.044715 z^2)
        s = t * t
        np.subtract(f(1), s, out=s)
        s *= z  # z (1 - t^2)
        d *= s
        d += t
        d += f(1)
        d *= f(0.5)  # 0.5 (1 + t) + 0.5 z (1 - t^2) du/dz
        d *= dout
        return d
