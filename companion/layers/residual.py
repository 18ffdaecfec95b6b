"""Residual connections: add a layer's input to its output.

``x + inner(x)`` lets the inner layer learn only a *change* to ``x``. In the backward pass
the gradient reaches ``x`` along two paths: straight through the addition (unchanged,
however deep the network) and through the inner layer. That straight path is why very
deep stacks of layers still train.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, describe
from companion.layers.module import Module


class Residual(Module):
    """``out = x + inner(x)``; ``dx = dout + inner.backward(dout)``.

    Parameters
    ----------
    inner : Module
        Any layer whose output has the shape of its input. Its parameters are the
        residual block's, named ``"inner.<name>"``.

    Examples
    --------
    >>> from companion.layers.activations import ReLU
    >>> block = Residual(ReLU())
    >>> block([-2.0, 3.0]).tolist()
    [-2.0, 6.0]
    >>> block.backward(np.array([1.0, 1.0])).tolist()
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

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` at the door, and that ``inner`` keeps its shape; then add."""
        x = as_array(x, "x")
        inner = self.inner(x)  # checks x at the inner layer's door
        if np.shape(inner) != x.shape:
            raise ValueError(
                f"inner must keep the shape of its input to be added to it: x has shape "
                f"{x.shape}, inner(x) has shape {np.shape(inner)}"
            )
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = x + self.inner.forward(x)  # the straight path plus the inner path
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx: np.ndarray = dout + self.inner.backward(dout)  # both paths' gradients
        return dx

    def __repr__(self) -> str:
        return f"Residual({self.inner!r})"
