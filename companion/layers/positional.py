"""Position: telling the model where in the sequence each token stands.

Self-attention treats its inputs as a set, so "dog bites man" and "man bites dog" would
look alike. Adding a different vector at each position fixes that. The vectors can be
learned (:class:`PositionalEmbedding`, as in GPT) or fixed sines and cosines
(:func:`sinusoidal_encoding`, as in the original Transformer).
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, as_generator, float_dtype, number, positive_int
from companion.layers.module import Module, normal


class PositionalEmbedding(Module):
    """A learned vector for each position ``0 .. block_size - 1``, added to the input.

    ``forward(x)`` with ``x`` of shape ``[B, T, n_embd]`` returns ``x + W[:T]``: the same
    position vectors for every sequence of the batch. ``backward(dout)`` adds ``dout``
    summed over the batch to the gradient of ``W[:T]`` and returns ``dout`` itself:
    adding does not change the gradient.

    Parameters
    ----------
    block_size : int
        The longest sequence the model can read (rows of ``W``).
    n_embd : int
        Numbers per vector; the last axis of the input.
    rng : numpy.random.Generator or int
        For the random initial vectors (an int is a seed).
    std : float
        The spread of the initial numbers (0.02, as in GPT-2).
    dtype : numpy.float32 or numpy.float64
        Of ``W``; inputs are converted to it.

    Examples
    --------
    >>> wpe = PositionalEmbedding(8, 4, rng=0)
    >>> x = np.zeros((2, 3, 4), dtype=np.float32)
    >>> bool(np.array_equal(wpe(x)[1], wpe.params["W"][:3]))
    True

    Notes
    -----
    Taught in chapter 14, Positional encoding and embedding.
    """

    def __init__(
        self,
        block_size: int,
        n_embd: int,
        *,
        rng: np.random.Generator | int,
        std: float = 0.02,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        self.block_size = positive_int(block_size, "block_size")
        self.n_embd = positive_int(n_embd, "n_embd")
        std = number(std, "std", low=0)
        table = normal(as_generator(rng), (block_size, n_embd), std, float_dtype(dtype))
        self.add_parameter("W", table)  # [block_size, C]: row t is added at position t

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` (``[B, T, n_embd]``, ``T <= block_size``) at the door, then add."""
        W = self.params["W"]
        x = as_array(x, "x", shape=("B", "T", self.n_embd), dtype=W.dtype)
        if x.shape[1] > self.block_size:
            raise ValueError(
                f"x must have at most block_size = {self.block_size} positions (axis 1); "
                f"got T = {x.shape[1]}"
            )
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.T = x.shape[1]  # kept for backward
        out: np.ndarray = x + self.params["W"][: self.T]  # [B, T, C] + [T, C] -> [B, T, C]
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.grads["W"][: self.T] += dout.sum(axis=0)  # [B, T, C] -> [T, C]
        return dout  # x + W: d x is dout itself

    def __repr__(self) -> str:
        return f"PositionalEmbedding({self.block_size}, {self.n_embd})"


def sinusoidal_encoding(T: int, n_embd: int, *, dtype: object = np.float32) -> np.ndarray:
    """The fixed position vectors of Vaswani et al. (2017), "Attention is all you need".

    For position ``pos`` and ``i = 0 .. n_embd/2 - 1``::

        PE[pos, 2i]     = sin(pos / 10000 ** (2i / n_embd))
        PE[pos, 2i + 1] = cos(pos / 10000 ** (2i / n_embd))

    Each pair of columns turns at its own speed, from once every ``2 pi`` positions
    (``i = 0``) to almost not at all, like the hands of a clock.

    Parameters
    ----------
    T : int
        Number of positions.
    n_embd : int
        Numbers per vector; even (sines and cosines come in pairs).
    dtype : numpy.float32 or numpy.float64
        Of the result (computed in float64).

    Returns
    -------
    numpy.ndarray
        Shape ``[T, n_embd]``.

    Examples
    --------
    >>> sinusoidal_encoding(2, 4, dtype=np.float64).round(4).tolist()
    [[0.0, 1.0, 0.0, 1.0], [0.8415, 0.5403, 0.01, 1.0]]

    Notes
    -----
    Taught in chapter 14, Positional encoding and embedding.
    """
    T, n_embd = positive_int(T, "T"), positive_int(n_embd, "n_embd")
    if n_embd % 2:
        raise ValueError(f"n_embd must be even (sines and cosines come in pairs); got {n_embd}")
    pos = np.arange(T)[:, None]  # [T, 1]
    two_i = np.arange(0, n_embd, 2)  # [n_embd / 2]
    angle = pos / 10000.0 ** (two_i / n_embd)  # [T, 1] / [n_embd / 2] -> [T, n_embd / 2]
    PE = np.empty((T, n_embd))
    PE[:, 0::2] = np.sin(angle)  # even columns
    PE[:, 1::2] = np.cos(angle)  # odd columns
    return PE.astype(float_dtype(dtype))
