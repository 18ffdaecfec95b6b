"""Residual connections: add a layer's input to its output.

``x + inner(x)`` lets the inner layer learn only a *change* to ``x``. In the backward pass
the gradient reaches ``x`` twice: straight through the addition (unchanged, however deep
the network) and through the inner layer. That straight path is why very deep stacks of
layers still train.
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array, describe
from companion.module import Module


class Residual(Module):
    """``out = x + inner(x)``; ``d x = dout + inner.backward(dout)``.

    Parameters
    ----------
    inner : Module
        Any layer (or :class:`companion.module.Sequential`) whose output has the shape of
        its input. Its parameters are the residual block's parameters, named
        ``"inner.<name>"``.

    Examples
    --------
    >>> from companion.activation import ReLU
    >>> block = Residual(ReLU())
    >>> block.forward([-2.0, 3.0]).tolist()
    [-2.0, 6.0]
    >>> block.backward([1.0, 1.0]).tolist()
    [1.0, 2.0]

    Notes
    -----
    Taught in chapter 10, Residual connections.
    """

    def __init__(self, inner: Module) -> None:
        super().__init__()
        if not isinstance(inner, Module):
            raise TypeError(f"inner must be a companion Module; got {describe(inner)}")
        self.inner = inner
        self.x_shape: tuple[int, ...] | None = None

    def forward(self, x: object) -> np.ndarray:
        """``x + inner(x)``, the shape of ``x``."""
        x = as_float_array(x, "x")
        inner_out = self.inner.forward(x)
        if np.shape(inner_out) != x.shape:
            raise ValueError(
                f"inner must keep the shape of its input to be added to it: x has shape "
                f"{x.shape}, inner(x) has shape {np.shape(inner_out)}"
            )
        self.x_shape = x.shape
        return x + inner_out  # the skip path plus the inner path

    def backward(self, dout: object) -> np.ndarray:
        """The gradient of both paths: ``dout`` (skip) plus ``inner.backward(dout)``."""
        if self.x_shape is None:
            raise RuntimeError("Residual.backward needs a forward pass first")
        dout = as_float_array(dout, "dout", shapes=[self.x_shape])
        return dout + self.inner.backward(dout)

    def __repr__(self) -> str:
        return f"Residual({self.inner!r})"
