"""Training data for next-token prediction: a train/validation split and random batches.

A corpus, once turned into token ids, is one long 1-D array. Training looks at windows of
``block_size`` (T) consecutive tokens: the input ``x`` is a window and the target ``y`` is the
same window shifted by one, so that ``y[b, t]`` is the token that follows ``x[b, : t + 1]``.
One window thus holds T predictions, with contexts of 1 to T tokens.
"""

from __future__ import annotations

import numbers

import numpy as np

from companion.checks import as_generator, describe, positive_int


def train_val_split(data: object, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Cut a sequence of token ids in two: the first part to train on, the rest to validate.

    The text is not shuffled: the validation part is the end of the corpus, text the model
    has never seen, the usual 90/10 split of char-rnn and nanoGPT.

    Parameters
    ----------
    data : array_like of int, shape [N]
        The token ids of the whole corpus.
    val_fraction : float
        The share kept for validation, strictly between 0 and 1.

    Returns
    -------
    train : numpy.ndarray, shape [int(N * (1 - val_fraction))]
        The first part (a view of ``data`` when ``data`` is an array).
    val : numpy.ndarray
        The rest.

    Examples
    --------
    >>> train, val = train_val_split(np.arange(10))
    >>> train.tolist(), val.tolist()
    ([0, 1, 2, 3, 4, 5, 6, 7, 8], [9])

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    ids = _as_token_ids(data, "data")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real):
        raise TypeError(f"val_fraction must be a number; got {describe(val_fraction)}")
    if not 0 < val_fraction < 1:  # also refuses NaN
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive); got {val_fraction}")
    n_train = int(len(ids) * (1 - val_fraction))
    if n_train == 0 or n_train == len(ids):
        raise ValueError(
            f"data has {len(ids)} token id(s), too few to split with "
            f"val_fraction={val_fraction}: one part would be empty"
        )
    return ids[:n_train], ids[n_train:]  # [N] -> [N_train], [N - N_train]


def get_batch(
    data: object, batch_size: int, block_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``batch_size`` random windows of ``block_size`` tokens and their targets.

    Parameters
    ----------
    data : array_like of int, shape [N]
        Token ids, with N >= block_size + 1.
    batch_size : int
        B, the number of windows.
    block_size : int
        T, the length of a window (the context length).
    rng : numpy.random.Generator or int
        Where the window starts come from, e.g. ``np.random.default_rng(0)`` (an int is a
        seed).

    Returns
    -------
    x : numpy.ndarray of int64, shape [B, T]
        ``x[b] = data[s_b : s_b + T]`` for a start ``s_b`` drawn uniformly from
        ``0 .. N - T - 1``.
    y : numpy.ndarray of int64, shape [B, T]
        The next tokens: ``y[b] = data[s_b + 1 : s_b + T + 1]``.

    Examples
    --------
    >>> x, y = get_batch(np.arange(5), batch_size=2, block_size=4, rng=np.random.default_rng(0))
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2, 3], [0, 1, 2, 3]], [[1, 2, 3, 4], [1, 2, 3, 4]])

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    ids = _as_token_ids(data, "data")
    B = positive_int(batch_size, "batch_size")
    T = positive_int(block_size, "block_size")
    rng = as_generator(rng)
    if len(ids) < T + 1:
        raise ValueError(
            f"data must hold at least block_size + 1 = {T + 1} token ids (a window and the "
            f"token after it); got {len(ids)}"
        )
    starts = rng.integers(0, len(ids) - T, size=B)  # [B], each in 0 .. N - T - 1
    index = starts[:, None] + np.arange(T)  # [B, 1] + [T] -> [B, T]
    x = ids[index].astype(np.int64)  # [B, T]
    y = ids[index + 1].astype(np.int64)  # [B, T], shifted by one
    return x, y


def _as_token_ids(data: object, name: str) -> np.ndarray:
    """``data`` as a 1-D integer array, or a clear error."""
    if isinstance(data, str | bytes):
        raise TypeError(f"{name} must be token ids (encode the text first); got {describe(data)}")
    try:
        ids = np.asarray(data)
    except (ValueError, TypeError):  # ragged nested lists
        raise TypeError(f"{name} must be a 1-D array of token ids; got {describe(data)}") from None
    if ids.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer token ids; got {describe(data)}"
            + (f" with dtype {ids.dtype}" if not isinstance(data, np.ndarray) else "")
        )
    if ids.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, one long sequence of token ids; got shape {ids.shape}"
        )
    return ids
