"""Position: telling the model where in the sequence each token stands.

Self-attention treats its inputs as a set, so "dog bites man" and "man bites dog" would
look alike. Adding a different vector for each position fixes that. The vectors can be
learned (:class:`PositionalEmbedding`, as in GPT) or fixed sines and cosines
(:func:`sinusoidal_encoding`, as in the original Transformer).
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array, as_generator, float_dtype, positive_int
from companion.embedding import INIT_STD
from companion.module import Module


class PositionalEmbedding(Module):
    """A learned vector for each position ``0 .. block_size - 1``, added to the input.

    Parameters
    ----------
    block_size : int
        The longest sequence the model can read (rows of ``W``).
    n_embd : int
        Numbers per vector; the last axis of the input.
    rng : numpy.random.Generator or int
        For the random initial vectors (normal, standard deviation 0.02 as in GPT-2); an
        int is a seed.
    dtype : numpy.float32 or numpy.float64
        Of ``W``; inputs are converted to it.

    Attributes
    ----------
    params : dict
        ``"W"``, shape ``[block_size, n_embd]``: row ``t`` is added at position ``t``.

    Notes
    -----
    ``forward(x)`` with ``x`` of shape ``[B, T, n_embd]`` returns ``x + W[:T]`` (the same
    position vectors for every sequence of the batch); ``T`` may not exceed
    ``block_size``. ``backward(dout)`` adds ``dout`` summed over the batch to
    ``grads["W"][:T]`` and returns ``dout`` unchanged (a copy): adding does not change
    the gradient.

    Taught in chapter 14, Positional encoding and embedding.
    """

    def __init__(
        self,
        block_size: int,
        n_embd: int,
        *,
        rng: np.random.Generator | int,
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        self.block_size = positive_int(block_size, "block_size")
        self.n_embd = positive_int(n_embd, "n_embd")
        dtype = float_dtype(dtype)
        table = INIT_STD * as_generator(rng).standard_normal((block_size, n_embd))
        self.add_parameter("W", table.astype(dtype))
        self.x_shape: tuple[int, ...] | None = None

    def forward(self, x: object) -> np.ndarray:
        """``x`` of shape ``[B, T, n_embd]`` -> ``x + W[:T]``, the same shape."""
        W = self.params["W"]
        x = as_float_array(
            x, "x", shapes=[("B", "T", self.n_embd)], meaning=f"n_embd = {self.n_embd}"
        ).astype(W.dtype, copy=False)
        T = x.shape[1]
        if T > self.block_size:
            raise ValueError(
                f"x must have at most block_size = {self.block_size} positions (axis 1); "
                f"got T = {T}"
            )
        self.x_shape = x.shape
        return x + W[:T]  # [B, T, C] + [T, C] -> [B, T, C]

    def backward(self, dout: object) -> np.ndarray:
        """Add ``dout`` summed over the batch to ``grads["W"][:T]``; return ``dout``."""
        if self.x_shape is None:
            raise RuntimeError("PositionalEmbedding.backward needs a forward pass first")
        dout = as_float_array(dout, "dout", shapes=[self.x_shape])
        dout = dout.astype(self.params["W"].dtype, copy=False)
        T = self.x_shape[1]
        self.grads["W"][:T] += dout.sum(axis=0)  # [B, T, C] -> [T, C]
        return dout.copy()  # a copy, so that no later layer can change the caller's dout

    def __repr__(self) -> str:
        return f"PositionalEmbedding({self.block_size}, {self.n_embd})"


def sinusoidal_encoding(T: int, n_embd: int, *, dtype: type = np.float32) -> np.ndarray:
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
        Numbers per vector; must be even (sines and cosines come in pairs).
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
    T = positive_int(T, "T")
    n_embd = positive_int(n_embd, "n_embd")
    if n_embd % 2:
        raise ValueError(f"n_embd must be even (sines and cosines come in pairs); got {n_embd}")
    dtype = float_dtype(dtype)
    pos = np.arange(T, dtype=np.float64)[:, None]  # [T, 1]
    two_i = np.arange(0, n_embd, 2, dtype=np.float64)  # [n_embd / 2]
    angle = pos / 10000.0 ** (two_i / n_embd)  # [T, 1] / [n_embd / 2] -> [T, n_embd / 2]
    PE = np.empty((T, n_embd))
    PE[:, 0::2] = np.sin(angle)  # even columns
    PE[:, 1::2] = np.cos(angle)  # odd columns
    return PE.astype(dtype)
