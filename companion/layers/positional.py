"""Position: telling the model where in the sequence each token stands.

Self-attention treats its inputs as a set, so "dog bites man" and "man bites dog" would
look alike. Adding a different vector at each position fixes that. The vectors can be
learned, as in GPT: an :class:`~companion.layers.embedding.Embedding` whose ids are the
positions 0, 1, 2, ... (the models' ``wpe``); or fixed sines and cosines, as in the
original Transformer: :func:`sinusoidal_encoding`.
"""

from __future__ import annotations

import numpy as np

from companion.checks import float_dtype, positive_int


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
