"""Self-attention: each position's output is a weighted average of every position's values.

For three inputs the article writes ``output = u1·x1 + u2·x2 + u3·x3``. The weights ``u``
come from comparing a *query* ``q = W_q x`` with the *key* ``k = W_k x`` of every position
(a dot product), softmax makes them positive and sum to 1, and what gets averaged are the
*values* ``v = W_v x``. With a causal mask a position only looks at itself and the
positions before it, which is what predicting the next token needs.

:func:`attention` is the formula (any leading axes, so the multi-head layer of chapter 13
and the cross-attention of chapter 16 use it too) and :func:`attention_backward` its
backward pass; :class:`SelfAttention` is one head as a layer, with the parameters ``W_k``,
``W_q`` and ``W_v``.
"""

from __future__ import annotations

import math

import numpy as np

from companion.checks import as_array, as_generator, flag, float_dtype, positive_int
from companion.layers.module import Module, normal


def causal_mask(T: int, dtype: object = np.float32, *, n_keys: int | None = None) -> np.ndarray:
    """``[T, T]``: 0 where query ``t`` may look at key ``s`` (``s <= t``), ``-inf`` above.

    Added to the scores before softmax: ``e^(-inf) = 0``, so a query gives no weight to
    the keys after it. With ``n_keys`` ``S > T``, the ``T`` queries are the last ``T`` of
    ``S`` positions (generating with a key/value cache): ``[T, S]``.

    Examples
    --------
    >>> causal_mask(3).tolist()
    [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
    >>> causal_mask(1, n_keys=3).tolist()  # the newest position sees all three
    [[0.0, 0.0, 0.0]]

    Notes
    -----
    Taught in chapter 8, Self-attention.
    """
    S = T if n_keys is None else n_keys
    future = np.full((T, S), -np.inf, dtype=float_dtype(dtype))  # [T, S]
    return np.triu(future, k=S - T + 1)  # -inf above the (shifted) diagonal


def attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``u = softmax(q k^T / sqrt(d))``, then ``out = u v``: every query's weighted average.

    The formula only; the layers that call it check their inputs at the door.

    Parameters
    ----------
    q : numpy.ndarray, shape [..., T, d]
        Queries.
    k : numpy.ndarray, shape [..., S, d]
        Keys (``S = T`` for self-attention).
    v : numpy.ndarray, shape [..., S, d_v]
        Values.
    causal : bool
        Add :func:`causal_mask`: query ``t`` sees keys ``0 .. t`` only (with ``S > T`` the
        queries are the last ``T`` positions).

    Returns
    -------
    out : numpy.ndarray, shape [..., T, d_v]
    u : numpy.ndarray, shape [..., T, S]
        The attention weights; every row adds up to 1.

    Examples
    --------
    >>> q = k = np.eye(2)
    >>> v = np.array([[1.0], [3.0]])
    >>> out, u = attention(q, k, v, causal=True)
    >>> u.round(3).tolist(), out.round(3).tolist()
    ([[1.0, 0.0], [0.33, 0.67]], [[1.0], [2.34]])

    Notes
    -----
    Dividing by ``sqrt(d)`` keeps the scores from growing with the size ``d`` of the
    vectors, which would push softmax towards giving one key all the weight (chapter 9).

    Taught in chapter 8, Self-attention.
    """
    scores = q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1])  # [..., T, d] @ [..., d, S]
    if causal:
        T, S = scores.shape[-2:]
        scores += causal_mask(T, scores.dtype, n_keys=S)  # [..., T, S] + [T, S]
    u = np.exp(scores - scores.max(axis=-1, keepdims=True))  # softmax along the keys...
    u /= u.sum(axis=-1, keepdims=True)  # ...so each row adds up to 1
    return u @ v, u  # [..., T, S] @ [..., S, d_v] -> [..., T, d_v]


def attention_backward(
    dout: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`attention` for its queries, keys and values.

    ``out = u v`` gives ``du = dout v^T`` and ``dv = u^T dout``; softmax's backward, row by
    row, is ``dscores = u * (du - sum(du * u))``; the scores ``q k^T / sqrt(d)`` give
    ``dq = dscores k / sqrt(d)`` and ``dk = dscores^T q / sqrt(d)``. A masked weight is 0,
    so no gradient flows through it: the mask needs nothing more.

    Returns
    -------
    dq, dk, dv : numpy.ndarray
        The shapes of ``q``, ``k`` and ``v``.

    Notes
    -----
    Taught in chapter 8, Self-attention.
    """
    du = dout @ v.swapaxes(-1, -2)  # [..., T, d_v] @ [..., d_v, S] -> [..., T, S]
    dv = u.swapaxes(-1, -2) @ dout  # [..., S, T] @ [..., T, d_v] -> [..., S, d_v]
    dscores = u * (du - (du * u).sum(axis=-1, keepdims=True))  # softmax backward, [..., T, S]
    dscores /= math.sqrt(q.shape[-1])
    dq = dscores @ k  # [..., T, S] @ [..., S, d] -> [..., T, d]
    dk = dscores.swapaxes(-1, -2) @ q  # [..., S, T] @ [..., T, d] -> [..., S, d]
    return dq, dk, dv


class SelfAttention(Module):
    """One self-attention head with the parameters ``W_k``, ``W_q`` and ``W_v``.

    ``k = x W_k``, ``q = x W_q``, ``v = x W_v``; ``out, u = attention(q, k, v, causal)``.
    After a forward pass, ``u`` holds the attention weights (``[B, T, T]``) for
    plotting.

    Parameters
    ----------
    n_embd : int
        Numbers per input vector, ``C``.
    head_size : int
        Numbers per key, query, value and output vector.
    causal : bool
        Whether position ``t`` only attends to positions ``<= t``.
    rng : numpy.random.Generator or int
        Draws the initial weights (spread ``1 / sqrt(n_embd)``).
    dtype : numpy.float32 or numpy.float64
        Of the parameters; inputs are converted to it.

    Examples
    --------
    >>> head = SelfAttention(4, 2, rng=0)
    >>> head(np.ones((1, 3, 4))).shape, head.u.shape
    ((1, 3, 2), (1, 3, 3))

    Notes
    -----
    Taught in chapter 8, Self-attention.
    """

    def __init__(
        self,
        n_embd: int,
        head_size: int,
        causal: bool = True,
        *,
        rng: np.random.Generator | int,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        self.n_embd = positive_int(n_embd, "n_embd")
        self.head_size = positive_int(head_size, "head_size")
        self.causal, self.dtype = flag(causal, "causal"), float_dtype(dtype)
        rng, std = as_generator(rng), 1 / np.sqrt(n_embd)
        for name in ("W_k", "W_q", "W_v"):  # [C, head_size] each
            self.add_parameter(name, normal(rng, (n_embd, head_size), std, self.dtype))

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` (shape ``[B, T, n_embd]``) at the door, then :meth:`forward`."""
        x = as_array(x, "x", shape=("B", "T", self.n_embd), dtype=self.dtype)
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        p = self.params
        k = x @ p["W_k"]  # [B, T, C] @ [C, hs] -> [B, T, hs]
        q = x @ p["W_q"]  # [B, T, C] @ [C, hs] -> [B, T, hs]
        v = x @ p["W_v"]  # [B, T, C] @ [C, hs] -> [B, T, hs]
        out, self.u = attention(q, k, v, self.causal)  # [B, T, hs], [B, T, T]
        self.x, self.k, self.q, self.v = x, k, q, v  # kept for backward
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x, p, g = self.x, self.params, self.grads
        dq, dk, dv = attention_backward(dout, self.q, self.k, self.v, self.u)  # [B, T, hs]
        x_rows = x.reshape(-1, self.n_embd)  # [B, T, C] -> [N, C]
        for name, d in (("W_k", dk), ("W_q", dq), ("W_v", dv)):
            g[name] += x_rows.T @ d.reshape(-1, self.head_size)  # [C, N] @ [N, hs] -> [C, hs]
        dx: np.ndarray = dk @ p["W_k"].T + dq @ p["W_q"].T + dv @ p["W_v"].T  # [B, T, C]
        return dx
