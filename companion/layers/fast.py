"""Speed tricks, all in one place: each computes a formula of the book, only faster.

The layers read like their formulas. Where the plain NumPy expression of a formula was
measurably slow in a training step of the GPT, the layer calls the function here instead;
its docstring names the plain formula it replaces and how much faster it is, and
``tests/test_fast.py`` checks that the two agree in float32 and float64. Reading the
course, you may skip this module: every function in it is the formula it names.

The figures below were measured with ``benchmarks/gpt_step.py`` and the micro-benchmarks
named, on the course's 2-core machine with one BLAS thread, at the sizes of nanoGPT's
"baby GPT" (batch 12, block 64, width 128).
"""

from __future__ import annotations

import numpy as np

from companion.layers import activations  # the formulas and their constants


def matmul_rows(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``x @ W`` for ``x`` of shape ``[..., n_in]``, as one product over all the rows.

    NumPy multiplies a ``[B, T, n_in]`` array by a matrix as ``B`` separate ``[T, n_in]``
    products; stacking the rows into one ``[B*T, n_in]`` matrix gives the BLAS library
    one large product, 10 to 50 % faster at the GPT's sizes (``dout @ W.T`` at
    768 x 512 x 128: 0.78 ms against 1.16 ms).

    Examples
    --------
    >>> x, W = np.ones((2, 3, 4)), np.ones((4, 5))
    >>> bool(np.array_equal(matmul_rows(x, W), x @ W))
    True
    """
    rows = x.reshape(-1, x.shape[-1])  # [..., n_in] -> [N, n_in]
    out: np.ndarray = rows @ W  # [N, n_in] @ [n_in, n_out] -> [N, n_out]
    return out.reshape(*x.shape[:-1], W.shape[-1])  # [N, n_out] -> [..., n_out]


def gelu_in_place(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~companion.layers.activations.gelu` of ``x``, and the ``tanh`` inside it.

    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, computed step by step inside two
    arrays instead of making a new array at every operation. In the GPT's MLP the arrays
    are four times as wide as the model; making fresh ones for each of the formula's nine
    operations took most of the time. The ``tanh`` is returned so that the backward pass
    need not compute it again.

    Returns
    -------
    out : numpy.ndarray
        ``gelu(x)``, the shape and dtype of ``x``.
    t : numpy.ndarray
        ``tanh(sqrt(2/pi) (x + 0.044715 x^3))``, for :func:`gelu_backward_in_place`.
    """
    f = x.dtype.type  # every constant in x's dtype: float32 stays float32
    t = x * x  # becomes the tanh below
    t *= f(activations.GELU_C)
    t += f(1)
    t *= x
    t *= f(activations.SQRT_2_OVER_PI)  # sqrt(2/pi) (x + 0.044715 x^3)
    np.tanh(t, out=t)
    out = t + f(1)
    out *= x
    out *= f(0.5)  # 0.5 x (1 + tanh(...))
    return out, t


def gelu_backward_in_place(dout: np.ndarray, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``dout * gelu_grad(x)``, reusing the forward pass's ``t``; in one new array.

    The slope is ``0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)``
    (:func:`~companion.layers.activations.gelu_grad`).
    """
    f = x.dtype.type
    d: np.ndarray = x * x
    d *= f(3 * activations.GELU_C)
    d += f(1)
    d *= f(activations.SQRT_2_OVER_PI)  # sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    s = t * t
    np.subtract(f(1), s, out=s)
    s *= x  # x (1 - t^2)
    d *= s
    d += t
    d += f(1)
    d *= f(0.5)  # the slope
    d *= dout
    return d


def add_rows_at(table: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> None:
    """``np.add.at(table, ids, rows)``: add each row of ``rows`` to ``table[id]``, in place.

    An id that appears several times collects the sum of its rows. ``np.add.at`` does
    exactly this, one row at a time; sorting the rows by id and summing each run of equal
    ids with ``np.add.reduceat`` is 5 times as fast for the baby GPT's embedding gradient
    (768 ids of 65, width 128: 0.21 ms against 1.2 ms; ``benchmarks/embedding_backward.py``).

    Parameters
    ----------
    table : numpy.ndarray, shape [V, C]
        Changed in place.
    ids : numpy.ndarray of int, shape [N]
    rows : numpy.ndarray, shape [N, C]
    """
    order = np.argsort(ids, kind="stable")  # positions grouped by id, [N]
    sorted_ids = ids[order]  # [N]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # [n_distinct]
    sums = np.add.reduceat(rows[order], starts, axis=0)  # [N, C] -> [n_distinct, C]
    table[sorted_ids[starts]] += sums  # each id once: a plain += is safe


def row_sum(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """``a.sum(axis=-1, keepdims=True)``, or that of ``a * b``, without a temporary array.

    ``np.einsum`` sums short rows (the 64 keys of an attention row, the 128 numbers of a
    token's vector) about 4 times as fast as ``sum(axis=-1)`` does, and multiplies
    ``a * b`` as it goes (attention's weights: 24 us against 103 us).
    """
    if b is None:
        total: np.ndarray = np.einsum("...i->...", a)
    else:
        total = np.einsum("...i,...i->...", a, b)
    return total[..., None]  # [...] -> [..., 1]


def normalize(x: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """``(x - mean) / std`` over the last axis, and ``std = sqrt(var + eps)``: LayerNorm's.

    Returns ``x_hat`` (the shape of ``x``) and ``std`` (``[..., 1]``). The two means are
    row sums by :func:`row_sum`, twice as fast as ``mean`` for LayerNorm's 128 numbers.

    A vector whose numbers are so large that their squares do not fit in ``x``'s dtype (a
    float32 1e20, a float64 1e200) is normalized too, rather than turned into zeros: such
    rows are divided by their largest number first, in float64, which changes nothing in
    ``(x - mean) / std`` but the size of the numbers squared (``eps`` is scaled alike).
    """
    n = x.dtype.type(x.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        mean = row_sum(x) / n  # [..., 1]
        centred = x - mean  # [..., C]
        var = row_sum(centred, centred) / n  # [..., 1]
    if np.isfinite(var).all():
        std: np.ndarray = np.sqrt(var + eps)  # [..., 1]
        return centred / std, std
    # a sum or a square overflowed: divide each row by its largest number, in float64
    x64 = x.astype(np.float64)
    scale = np.abs(x64).max(axis=-1, keepdims=True)  # [..., 1], > 0: x is finite
    scale[scale == 0] = 1.0
    y = x64 / scale  # every number in [-1, 1]: nothing overflows
    with np.errstate(over="ignore", under="ignore"):
        y_std = np.sqrt(y.var(axis=-1, keepdims=True) + eps / scale**2)  # std / scale
        x_hat = (y - y.mean(axis=-1, keepdims=True)) / y_std
        std = (scale * y_std).astype(x.dtype)  # may be inf for float64 1e308: dx is then 0
    return x_hat.astype(x.dtype), std
