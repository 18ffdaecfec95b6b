"""Embeddings: each token id looks up its own row of learned numbers.

An embedding table ``W`` has one row per id of the vocabulary. Looking up id ``i`` is the
same as multiplying a one-hot vector (1 at position ``i``, 0 elsewhere) by ``W``, so the
table is a linear layer whose input is an id; looking up is just much faster.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_generator, as_ids, float_dtype, number, positive_int
from companion.layers import fast
from companion.layers.module import Module, normal


class Embedding(Module):
    """A learned vector of ``n_embd`` numbers for each of ``vocab_size`` token ids.

    ``forward(ids)`` takes integer ids of any shape, ``[B, T]`` for example, and returns
    their rows ``W[ids]``, shape ``[B, T, n_embd]``. ``backward(dout)`` adds each row of
    ``dout`` to the gradient of the row it came from (an id seen three times collects three
    rows) and returns ``None``: ids are not numbers that could be nudged, so they have no
    gradient. An embedding is therefore the first layer of a model.

    Parameters
    ----------
    vocab_size : int
        How many different ids there are (rows of ``W``).
    n_embd : int
        Numbers per embedding vector (columns of ``W``).
    rng : numpy.random.Generator or int
        For the random initial table (an int is a seed).
    std : float
        The spread of the initial numbers (0.02, as in GPT-2).
    dtype : numpy.float32 or numpy.float64
        Of the table (and so of the output).

    Examples
    --------
    >>> table = Embedding(27, 10, rng=0)
    >>> table([[1, 2, 3]]).shape
    (1, 3, 10)

    Notes
    -----
    Taught in chapter 6, Embeddings.
    """

    def __init__(
        self,
        vocab_size: int,
        n_embd: int,
        *,
        rng: np.random.Generator | int,
        std: float = 0.02,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        self.vocab_size = positive_int(vocab_size, "vocab_size")
        self.n_embd = positive_int(n_embd, "n_embd")
        std = number(std, "std", low=0)
        table = normal(as_generator(rng), (vocab_size, n_embd), std, float_dtype(dtype))
        self.add_parameter("W", table)  # [V, C]: row i is the vector of id i

    def __call__(self, ids: object) -> np.ndarray:
        """Check ``ids`` at the door (whole numbers in ``[0, vocab_size)``), then look up."""
        return self.forward(as_ids(ids, "ids", self.vocab_size))

    def forward(self, ids: np.ndarray) -> np.ndarray:
        self.ids = ids  # kept for backward
        out: np.ndarray = self.params["W"][ids]  # [B, T] -> [B, T, C]
        return out

    def backward(self, dout: np.ndarray) -> None:
        rows = dout.reshape(-1, self.n_embd)  # [B, T, C] -> [N, C]
        fast.add_rows_at(self.grads["W"], self.ids.reshape(-1), rows)  # np.add.at, faster
        return None  # ids have no gradient

    def __repr__(self) -> str:
        return f"Embedding({self.vocab_size}, {self.n_embd})"
