"""The linear layer: every output neuron is a weighted sum of the inputs plus a bias.

This is chapter 1's layer written for many examples at once: a batch of inputs ``x`` (one
example per row, or ``[B, T, C]`` for a batch of sequences) times a weight matrix ``W``,
plus a bias ``b``. Its backward pass (chapter 4) is three matrix formulas.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, as_generator, flag, float_dtype, number, positive_int
from companion.layers.fast import matmul_rows
from companion.layers.module import Module, normal


class Linear(Module):
    """``out = x @ W + b``: a fully connected layer.

    Parameters
    ----------
    n_in : int
        Numbers per input (the size of the last axis of ``x``).
    n_out : int
        Numbers per output (output neurons).
    bias : bool
        Whether to add a bias ``b`` (created as zeros).
    rng : numpy.random.Generator or int
        Where the random initial weights come from (an int is a seed).
    std : float, optional
        The spread of the initial weights; ``1 / sqrt(n_in)`` by default, so that an
        output has about the spread of one input however many inputs are summed.
    dtype : numpy.float32 or numpy.float64
        Of the parameters (float64 for gradient checks); inputs are converted to it.

    Attributes
    ----------
    params : dict
        ``"W"``, shape ``[n_in, n_out]``: column ``j`` holds the weights into output ``j``
        (the transpose of chapter 1's ``W1``, so that a batch of rows multiplies from the
        left); ``"b"``, shape ``[n_out]``, when ``bias`` is true.

    Examples
    --------
    >>> layer = Linear(4, 2, rng=0)
    >>> layer(np.ones((3, 4))).shape
    (3, 2)

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        bias: bool = True,
        *,
        rng: np.random.Generator | int,
        std: float | None = None,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        self.n_in, self.n_out = positive_int(n_in, "n_in"), positive_int(n_out, "n_out")
        self.dtype = float_dtype(dtype)
        std = 1 / np.sqrt(n_in) if std is None else number(std, "std", low=0)
        self.add_parameter("W", normal(as_generator(rng), (n_in, n_out), std, self.dtype))
        if flag(bias, "bias"):
            self.add_parameter("b", np.zeros(n_out, dtype=self.dtype))

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` (shape ``[..., n_in]``) at the door, then :meth:`forward`."""
        shape = (..., self.n_in)
        return self.forward(as_array(x, "x", shape=shape, dtype=self.dtype, meaning="n_in last"))

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x  # kept for backward
        out = matmul_rows(x, self.params["W"])  # [..., n_in] @ [n_in, n_out] -> [..., n_out]
        if "b" in self.params:
            out += self.params["b"]  # [n_out], added to every row
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x_rows = self.x.reshape(-1, self.n_in)  # [..., n_in] -> [N, n_in]
        dout_rows = dout.reshape(-1, self.n_out)  # [..., n_out] -> [N, n_out]
        self.grads["W"] += x_rows.T @ dout_rows  # [n_in, N] @ [N, n_out] -> [n_in, n_out]
        if "b" in self.params:
            self.grads["b"] += dout_rows.sum(axis=0)  # [N, n_out] -> [n_out]
        return matmul_rows(dout, self.params["W"].T)  # [..., n_out] -> [..., n_in]

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, bias={'b' in self.params})"
