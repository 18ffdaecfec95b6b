"""Layer normalization: bring each vector to mean 0 and spread 1, then scale and shift.

For each vector of ``n_embd`` numbers (one token at one position), subtract its mean and
divide by its standard deviation, so that the numbers entering the next layer have the
same size whatever happened before; then multiply by learned ``gamma`` and add learned
``beta``, so the layer can undo the normalization where that helps.
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array, describe, float_dtype, positive_int
from companion.module import Module


class LayerNorm(Module):
    """``gamma * (x - mean) / std + beta``, with ``mean`` and ``std`` over the last axis.

    Parameters
    ----------
    n_embd : int
        Numbers per vector (the last axis of ``x``).
    eps : float
        Added to the variance before the square root, so a vector whose numbers are all
        equal does not divide by 0.
    dtype : numpy.float32 or numpy.float64
        Of ``gamma`` and ``beta``; inputs are converted to it.

    Attributes
    ----------
    params : dict
        ``"gamma"`` (ones) and ``"beta"`` (zeros), both of shape ``[n_embd]``.

    Notes
    -----
    ``mean`` and ``std`` are the article's M and D: each number ``x`` becomes
    ``(x - M) / D``. Here ``std = sqrt(var + eps)`` with the population variance
    ``var = mean((x - mean)**2)`` (dividing by ``n_embd``, not ``n_embd - 1``), as GPT-2
    and PyTorch do. The backward pass, with ``x_hat = (x - mean) / std`` and
    ``g = dout * gamma``, is ``dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std``
    (means over the last axis).

    Taught in chapter 11, Layer normalization.
    """

    def __init__(self, n_embd: int, eps: float = 1e-5, *, dtype: type = np.float32) -> None:
        super().__init__()
        self.n_embd = positive_int(n_embd, "n_embd")
        if isinstance(eps, bool | np.bool_) or not isinstance(eps, float | int | np.floating):
            raise TypeError(f"eps must be a small positive number; got {describe(eps)}")
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a small positive number; got {eps!r}")
        self.eps = float(eps)
        dtype = float_dtype(dtype)
        self.add_parameter("gamma", np.ones(n_embd, dtype=dtype))
        self.add_parameter("beta", np.zeros(n_embd, dtype=dtype))
        self.x_hat: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def forward(self, x: object) -> np.ndarray:
        """``x`` of shape ``[..., n_embd]`` -> normalized, scaled and shifted, same shape."""
        gamma, beta = self.params["gamma"], self.params["beta"]
        x = as_float_array(x, "x").astype(gamma.dtype, copy=False)
        if x.ndim == 0 or x.shape[-1] != self.n_embd:
            raise ValueError(
                f"x must have shape [..., {self.n_embd}] (its last axis holds the n_embd = "
                f"{self.n_embd} numbers to normalize); got shape {x.shape}"
            )
        C = x.dtype.type(self.n_embd)
        mean = np.einsum("...i->...", x)[..., None] / C  # [..., C] -> [..., 1]
        x_hat = x - mean  # [..., C]; becomes x_hat in place below
        # sums over each row with einsum: faster than mean(axis=-1) for short rows, and the
        # mean of the squares as a dot product of each row with itself (no squares array)
        var = np.einsum("...i,...i->...", x_hat, x_hat)[..., None] / C  # [..., C] -> [..., 1]
        self.std = np.sqrt(var + var.dtype.type(self.eps))  # [..., 1]
        x_hat /= self.std  # [..., C]: mean 0, spread 1
        self.x_hat = x_hat
        out = x_hat * gamma  # scale and shift, [..., C]
        out += beta
        return out

    def backward(self, dout: object) -> np.ndarray:
        """Add to ``grads["gamma"]`` and ``grads["beta"]``; return d loss / d x."""
        if self.x_hat is None or self.std is None:
            raise RuntimeError("LayerNorm.backward needs a forward pass first")
        x_hat, std = self.x_hat, self.std
        dout = as_float_array(dout, "dout", shapes=[x_hat.shape]).astype(x_hat.dtype, copy=False)
        dout_rows = dout.reshape(-1, self.n_embd)  # [..., C] -> [N, C]
        self.grads["gamma"] += (dout_rows * x_hat.reshape(-1, self.n_embd)).sum(axis=0)  # [C]
        self.grads["beta"] += dout_rows.sum(axis=0)  # [N, C] -> [C]
        C = x_hat.dtype.type(self.n_embd)
        g = dout * self.params["gamma"]  # d loss / d x_hat, [..., C]
        g_mean = np.einsum("...i->...", g)[..., None] / C  # [..., 1]
        gx_mean = np.einsum("...i,...i->...", g, x_hat)[..., None] / C  # [..., 1]
        # (g - g_mean - x_hat * gx_mean) / std, in place in g
        g -= g_mean
        g -= x_hat * gx_mean
        g /= std
        return g

    def __repr__(self) -> str:
        return f"LayerNorm({self.n_embd}, eps={self.eps})"
