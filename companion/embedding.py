"""Embeddings: each token id looks up its own row of learned numbers.

An embedding table ``W`` has one row per id in the vocabulary. Looking up id ``i`` is the
same as multiplying a one-hot vector (1 at position ``i``, 0 elsewhere) by ``W``, so the
table is a linear layer whose input is an id; looking up is just much faster.
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array, as_generator, as_ids, float_dtype, positive_int
from companion.module import Module

#: Standard deviation of the initial embeddings (GPT-2 uses 0.02).
INIT_STD = 0.02


class Embedding(Module):
    """A learned vector of ``n_embd`` numbers for each of ``vocab_size`` token ids.

    Parameters
    ----------
    vocab_size : int
        How many different ids there are (rows of ``W``).
    n_embd : int
        Numbers per embedding vector (columns of ``W``).
    rng : numpy.random.Generator or int
        For the random initial table (normal, standard deviation 0.02 as in GPT-2); an
        int is a seed.
    dtype : numpy.float32 or numpy.float64
        Of the table (and so of the output).

    Attributes
    ----------
    params : dict
        ``"W"``, shape ``[vocab_size, n_embd]``: row ``i`` is the embedding of id ``i``.

    Notes
    -----
    ``forward(ids)`` takes integer ids of any shape, ``[B, T]`` for example, and returns
    ``W[ids]``, shape ``[B, T, n_embd]``. ``backward(dout)`` adds ``dout`` to the rows of
    ``grads["W"]`` that were looked up (an id seen three times gets three additions) and
    returns ``None``: ids are not numbers that could be nudged, so they have no gradient.
    An embedding is therefore the first layer of a model.

    Taught in chapter 6, Embeddings.
    """

    def __init__(
        self,
        vocab_size: int,
        n_embd: int,
        *,
        rng: np.random.Generator | int,
        dtype: type = np.float32,
    ) -> None:
        super().__init__()
        self.vocab_size = positive_int(vocab_size, "vocab_size")
        self.n_embd = positive_int(n_embd, "n_embd")
        dtype = float_dtype(dtype)
        table = INIT_STD * as_generator(rng).standard_normal((vocab_size, n_embd))
        self.add_parameter("W", table.astype(dtype))
        self.ids: np.ndarray | None = None

    def forward(self, ids: object) -> np.ndarray:
        """Integer ids of any shape ``[B, T]`` -> their embeddings, ``[B, T, n_embd]``."""
        self.ids = as_ids(ids, "ids", self.vocab_size)
        return self.params["W"][self.ids]  # [B, T] -> [B, T, n_embd]

    def backward(self, dout: object) -> None:  # type: ignore[override]  # ids: no gradient
        """Add ``dout`` into the looked-up rows of ``grads["W"]``; return ``None``.

        An id that appears several times collects the sum of its ``dout`` rows. The rows
        are sorted by id and each run of equal ids is summed with ``np.add.reduceat``.

        Why this way (``benchmarks/embedding_backward.py``, 2048 ids, ``n_embd`` 64 and
        128, float32, 2 shared CPU cores): 3-3.8 times faster than ``np.add.at`` for a
        vocabulary of 65 and 1.4-2.3 times for 512 (float64: 1.1-2.8 times). A one-hot
        matrix product (``one_hot.T @ dout``) was about twice as fast again for 65 ids but
        no faster than ``np.add.at`` for 512, varied tenfold between runs when BLAS threads
        competed, and needs ``B * T * vocab_size`` numbers of memory.
        """
        if self.ids is None:
            raise RuntimeError("Embedding.backward needs a forward pass first")
        dout = as_float_array(dout, "dout", shapes=[(*self.ids.shape, self.n_embd)])
        ids = self.ids.reshape(-1)  # [B, T] -> [N]
        dout_rows = dout.reshape(-1, self.n_embd)  # [B, T, n_embd] -> [N, n_embd]
        order = np.argsort(ids, kind="stable")  # positions grouped by id, [N]
        sorted_ids = ids[order]  # [N]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # [n_distinct]
        sums = np.add.reduceat(dout_rows[order], starts, axis=0)  # [N, C] -> [n_distinct, C]
        self.grads["W"][sorted_ids[starts]] += sums  # distinct rows: plain += is safe
        return None

    def __repr__(self) -> str:
        return f"Embedding({self.vocab_size}, {self.n_embd})"
