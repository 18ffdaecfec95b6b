"""Layer normalization: bring each vector to mean 0 and spread 1, then scale and shift.

For each vector of ``n_embd`` numbers (one token at one position), subtract its mean and
divide by its standard deviation, so that the numbers entering the next layer have the
same size whatever happened before; then multiply by a learned ``gamma`` and add a learned
``beta``, so the layer can undo the normalization where that helps.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, flag, float_dtype, number, positive_int
from companion.layers import fast
from companion.layers.module import Module


class LayerNorm(Module):
    """``gamma * (x - mean) / std + beta``, with ``mean`` and ``std`` over the last axis.

    Parameters
    ----------
    n_embd : int
        Numbers per vector (the last axis of ``x``).
    bias : bool
        Whether to learn the shift ``beta``; without it the layer only scales (nanoGPT's
        ``bias=False``).
    eps : float
        Added to the variance before the square root, so that a vector whose numbers are
        all equal does not divide by 0.
    dtype : numpy.float32 or numpy.float64
        Of ``gamma`` and ``beta``; inputs are converted to it.

    Attributes
    ----------
    params : dict
        ``"gamma"`` (ones) and, with ``bias``, ``"beta"`` (zeros), both of shape
        ``[n_embd]``.

    Notes
    -----
    ``mean`` and ``std`` are the article's M and D: each number ``x`` becomes
    ``(x - M) / D``. Here ``D = sqrt(var + eps)`` with ``var = mean((x - M)^2)`` (dividing
    by ``n_embd``, not ``n_embd - 1``), as GPT-2 and PyTorch do.
    :func:`companion.layers.fast.normalize` computes it, faster, and without overflow for a
    vector of numbers so large (1e20) that their squares do not fit in float32. With
    ``x_hat = (x - M) / D`` and ``g = dout * gamma``, the backward pass is
    ``dx = (g - mean(g) - x_hat * mean(g * x_hat)) / D``.

    Taught in chapter 11, Layer normalization.
    """

    def __init__(
        self, n_embd: int, bias: bool = True, eps: float = 1e-5, *, dtype: object = np.float32
    ) -> None:
        super().__init__()
        self.n_embd = positive_int(n_embd, "n_embd")
        self.eps = number(eps, "eps", low=0, low_open=True)
        self.dtype = float_dtype(dtype)
        self.add_parameter("gamma", np.ones(n_embd, dtype=self.dtype))
        if flag(bias, "bias"):
            self.add_parameter("beta", np.zeros(n_embd, dtype=self.dtype))

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` (shape ``[..., n_embd]``) at the door, then :meth:`forward`."""
        return self.forward(as_array(x, "x", shape=(..., self.n_embd), dtype=self.dtype))

    def forward(self, x: np.ndarray) -> np.ndarray:
        # (x - M) / D, with M and D over the last axis: see fast.normalize
        self.x_hat, self.std = fast.normalize(x, self.eps)  # [..., C] and [..., 1]
        out: np.ndarray = self.x_hat * self.params["gamma"]  # scale, [..., C]
        if "beta" in self.params:
            out += self.params["beta"]  # and shift
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x_hat, C = self.x_hat, self.n_embd
        dout_rows = dout.reshape(-1, C)  # [..., C] -> [N, C]
        self.grads["gamma"] += (dout_rows * x_hat.reshape(-1, C)).sum(axis=0)  # [N, C] -> [C]
        if "beta" in self.params:
            self.grads["beta"] += dout_rows.sum(axis=0)  # [N, C] -> [C]
        g = dout * self.params["gamma"]  # d loss / d x_hat, [..., C]
        g_mean = fast.row_sum(g) / C  # mean(g), [..., 1]
        gx_mean = fast.row_sum(g, x_hat) / C  # mean(g * x_hat), [..., 1]
        dx: np.ndarray = (g - g_mean - x_hat * gx_mean) / self.std  # [..., C]
        return dx

    def __repr__(self) -> str:
        return f"LayerNorm({self.n_embd}, bias={'beta' in self.params}, eps={self.eps})"
