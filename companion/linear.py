"""The linear layer: every output neuron is a weighted sum of the inputs plus a bias.

This is the layer of chapter 1 written for many examples at once: a batch of inputs
``x`` (one per row, or ``[B, T, C]`` for a batch of sequences) times a weight matrix
``W``, plus a bias ``b``. Its backward pass (chapter 4) is three matrix formulas.
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array, as_generator, describe, float_dtype, positive_int
from companion.module import Module


def matmul_rows(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``x @ W`` for ``x`` of shape ``[..., n_in]``, as one product over all the rows.

    The result is that of ``x @ W``; only the speed differs. NumPy multiplies a
    ``[B, T, n_in]`` array by a matrix as ``B`` separate ``[T, n_in]`` products; stacking
    the rows into one ``[B*T, n_in]`` matrix gives the BLAS library one large product,
    which it does 10 to 50 % faster at the GPT's sizes.

    Parameters
    ----------
    x : numpy.ndarray, shape [..., n_in]
    W : numpy.ndarray, shape [n_in, n_out]

    Returns
    -------
    numpy.ndarray, shape [..., n_out]

    Examples
    --------
    >>> x, W = np.ones((2, 3, 4)), np.ones((4, 5))
    >>> bool(np.array_equal(matmul_rows(x, W), x @ W))
    True

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    rows = x.reshape(-1, x.shape[-1])  # [..., n_in] -> [N, n_in]
    return (rows @ W).reshape(*x.shape[:-1], W.shape[-1])  # [N, n_out] -> [..., n_out]


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
        Where the random initial weights come from (an int is used as a seed).
    dtype : numpy.float32 or numpy.float64
        Of the parameters (float64 for gradient checks); inputs are converted to it.

    Attributes
    ----------
    params : dict
        ``"W"``, shape ``[n_in, n_out]``: column ``j`` holds the weights into output ``j``
        (the transpose of chapter 1's ``W1``, so that a batch of rows multiplies from the
        left); ``"b"``, shape ``[n_out]``, when ``bias`` is true.

    Notes
    -----
    The initial weights are drawn from a normal distribution with standard deviation
    ``1 / sqrt(n_in)``: then an output has about the spread of one input, however many
    inputs are summed.

    Taught in chapter 1, Numbers in, numbers out (the backward pass in chapter 4,
    Gradients from formulas).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        bias: bool = True,
        *,
        rng: np.random.Generator | int,
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        self.n_in = positive_int(n_in, "n_in")
        self.n_out = positive_int(n_out, "n_out")
        if not isinstance(bias, bool | np.bool_):
            raise TypeError(f"bias must be True or False; got {describe(bias)}")
        dtype = float_dtype(dtype)
        rng = as_generator(rng)
        std = 1.0 / np.sqrt(self.n_in)
        self.add_parameter("W", (std * rng.standard_normal((n_in, n_out))).astype(dtype))
        if bias:
            self.add_parameter("b", np.zeros(n_out, dtype=dtype))
        self.x: np.ndarray | None = None

    def forward(self, x: object) -> np.ndarray:
        """``x`` of shape ``[..., n_in]`` (any leading axes) -> ``[..., n_out]``."""
        W = self.params["W"]
        x = as_float_array(x, "x").astype(W.dtype, copy=False)
        if x.ndim == 0 or x.shape[-1] != self.n_in:
            raise ValueError(
                f"x must have shape [..., {self.n_in}] (its last axis holds the n_in = "
                f"{self.n_in} inputs); got shape {x.shape}"
            )
        self.x = x
        out = matmul_rows(x, W)  # [..., n_in] -> [..., n_out]
        if "b" in self.params:
            out += self.params["b"]  # [n_out] is added to every row
        return out

    def backward(self, dout: object) -> np.ndarray:
        """Add ``x^T dout`` to ``grads["W"]``, ``dout`` summed over rows to ``grads["b"]``;
        return ``dout @ W^T``."""
        if self.x is None:
            raise RuntimeError("Linear.backward needs a forward pass first")
        dout = as_float_array(dout, "dout", shapes=[(*self.x.shape[:-1], self.n_out)])
        W = self.params["W"]
        dout = dout.astype(W.dtype, copy=False)
        x_rows = self.x.reshape(-1, self.n_in)  # [..., n_in] -> [N, n_in]
        dout_rows = dout.reshape(-1, self.n_out)  # [..., n_out] -> [N, n_out]
        self.grads["W"] += x_rows.T @ dout_rows  # [n_in, N] @ [N, n_out] -> [n_in, n_out]
        if "b" in self.params:
            self.grads["b"] += dout_rows.sum(axis=0)  # [N, n_out] -> [n_out]
        return matmul_rows(dout, W.T)  # [..., n_out] @ [n_out, n_in] -> [..., n_in]

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, bias={'b' in self.params})"
