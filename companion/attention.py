"""Self-attention: each position's output is a weighted average of every position's values.

For three inputs the article writes ``output = u1·x1 + u2·x2 + u3·x3``: the weights ``u``
come from comparing a *query* ``q = W_q x`` with a *key* ``k = W_k x`` of every position,
softmax makes them positive and sum to 1, and what gets averaged are the *values*
``v = W_v x``. With a causal mask a position only looks at itself and the positions before
it, which is what predicting the next token needs.

:func:`scaled_dot_product_attention` is the formula on its own (any leading axes, so the
multi-head layer of chapter 13 and the cross-attention of chapter 16 reuse it), with its
backward pass beside it; :class:`SelfAttention` is one head as a layer with the parameters
``W_k``, ``W_q`` and ``W_v``.
"""

from __future__ import annotations

import functools

import numpy as np

from companion._validate import as_float_array, as_generator, describe, float_dtype, positive_int
from companion.module import Module


def scaled_dot_product_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Attention of queries ``q`` over keys ``k``, averaging values ``v``.

    ``scores = q k^T / sqrt(head_size)``; with ``causal``, the score of a query at position
    ``t`` for a key at position ``s > t`` becomes minus infinity; ``u = softmax(scores)``
    along the keys; ``out = u v``.

    Parameters
    ----------
    q : numpy.ndarray
        Queries, shape ``[..., T, head_size]``.
    k : numpy.ndarray
        Keys, shape ``[..., S, head_size]`` (``S`` may differ from ``T`` without a mask).
    v : numpy.ndarray
        Values, shape ``[..., S, d_v]``.
    causal : bool
        Whether position ``t`` may only attend to positions ``<= t`` (needs ``S == T``).

    Returns
    -------
    out : numpy.ndarray
        Shape ``[..., T, d_v]``.
    u : numpy.ndarray
        The attention weights, shape ``[..., T, S]``; every row sums to 1.

    Examples
    --------
    >>> q = k = np.eye(2)
    >>> v = np.array([[1.0], [3.0]])
    >>> out, u = scaled_dot_product_attention(q, k, v, causal=True)
    >>> u.round(3).tolist(), out.round(3).tolist()
    ([[1.0, 0.0], [0.33, 0.67]], [[1.0], [2.34]])

    Notes
    -----
    Taught in chapter 8, Self-attention.
    """
    q = as_float_array(q, "q")
    k = as_float_array(k, "k")
    v = as_float_array(v, "v")
    if not isinstance(causal, bool):
        raise TypeError(f"causal must be True or False; got {describe(causal)}")
    if q.ndim < 2 or k.shape[:-2] != q.shape[:-2] or k.shape[-1] != q.shape[-1]:
        raise ValueError(
            f"k must have shape [..., S, {q.shape[-1]}] with the leading axes of q "
            f"{q.shape[:-2]}; got q {q.shape} and k {k.shape}"
        )
    if v.shape[:-1] != k.shape[:-1]:
        raise ValueError(
            f"v must have shape [..., {k.shape[-2]}, d_v] like k {k.shape}; got {v.shape}"
        )
    if causal and k.shape[-2] != q.shape[-2]:
        raise ValueError(
            f"a causal mask needs as many keys as queries; got T={q.shape[-2]} and S={k.shape[-2]}"
        )
    return _attention(q, k, v, causal)


def _attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`scaled_dot_product_attention` without the input checks, for the layers.

    Each step works in place on one ``[..., T, S]`` array, the largest in attention: about
    twice as fast as making a new array at every step.
    """
    T = q.shape[-2]
    scale = q.dtype.type(1 / np.sqrt(q.shape[-1]))
    # (q / sqrt(hs)) k^T: scaling q is half the work of scaling the [..., T, S] scores
    scores = (q * scale) @ np.swapaxes(k, -1, -2)  # [..., T, hs] @ [..., hs, S] -> [..., T, S]
    if causal:
        scores += _causal_mask(T, scores.dtype)  # -inf where the key comes after the query
    # softmax of chapter 2, written out: masked scores are -inf and exp(-inf) is exactly 0
    scores -= scores.max(axis=-1, keepdims=True)  # the largest of each row becomes 0
    u = np.exp(scores, out=scores)  # [..., T, S]
    u /= _row_sums(u)  # rows sum to 1
    out = u @ v  # [..., T, S] @ [..., S, d_v] -> [..., T, d_v]
    return out, u


def _row_sums(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """``a.sum(axis=-1, keepdims=True)``, or that of ``a * b``, without a temporary array.

    ``np.einsum`` sums the short rows of attention (64 numbers) about 4 times as fast as
    ``sum(axis=-1)`` does, and multiplies ``a * b`` as it goes.
    """
    if b is None:
        return np.einsum("...i->...", a)[..., None]  # [..., S] -> [..., 1]
    return np.einsum("...i,...i->...", a, b)[..., None]  # [..., S] -> [..., 1]


@functools.lru_cache(maxsize=32)
def _causal_mask(T: int, dtype: np.dtype) -> np.ndarray:
    """``[T, T]``: 0 on and below the diagonal, -inf above; made once per size, read-only."""
    future = np.triu(np.full((T, T), -np.inf, dtype=dtype), k=1)  # [T, T]
    future.flags.writeable = False
    return future


def scaled_dot_product_attention_backward(
    dout: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`scaled_dot_product_attention` for its queries, keys and values.

    Parameters
    ----------
    dout : numpy.ndarray
        d loss / d out, shape ``[..., T, d_v]``.
    q, k, v : numpy.ndarray
        The forward pass's inputs.
    u : numpy.ndarray
        The forward pass's attention weights (masked entries are 0, so no gradient flows
        through them: the mask needs no separate treatment).

    Returns
    -------
    dq, dk, dv : numpy.ndarray
        Shapes of ``q``, ``k`` and ``v``.

    Notes
    -----
    Taught in chapter 8, Self-attention.
    """
    arrays = {"dout": dout, "q": q, "k": k, "v": v, "u": u}
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f" or array.ndim < 2:
            raise TypeError(
                f"{name} must be a float array with 2 or more axes; got {describe(array)}"
            )
    expected = {
        "k": q.shape[:-2] + k.shape[-2:-1] + q.shape[-1:],  # [..., S, hs]
        "v": k.shape[:-1] + v.shape[-1:],  # [..., S, d_v]
        "u": q.shape[:-1] + k.shape[-2:-1],  # [..., T, S]
        "dout": q.shape[:-1] + v.shape[-1:],  # [..., T, d_v]
    }
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise ValueError(
                f"{name} must have shape {shape} to match q {q.shape}, k {k.shape} and "
                f"v {v.shape}; got {arrays[name].shape}"
            )
    return _attention_backward(dout, q, k, v, u)


def _attention_backward(
    dout: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`scaled_dot_product_attention_backward` without the input checks."""
    scale = q.dtype.type(1 / np.sqrt(q.shape[-1]))
    du = dout @ np.swapaxes(v, -1, -2)  # [..., T, d_v] @ [..., d_v, S] -> [..., T, S]
    dv = np.swapaxes(u, -1, -2) @ dout  # [..., S, T] @ [..., T, d_v] -> [..., S, d_v]
    # softmax backward, row by row: dscores = u * (du - sum(du * u)); then the scale
    dscores = du  # reuse the [..., T, S] array in place
    dscores -= _row_sums(du, u)
    dscores *= u  # d loss / d (q k^T / sqrt(hs)); the scale is applied to q and k below
    dq = dscores @ (k * scale)  # [..., T, S] @ [..., S, hs] -> [..., T, hs]
    dk = np.swapaxes(dscores, -1, -2) @ (q * scale)  # [..., S, T] @ [..., T, hs] -> [..., S, hs]
    return dq, dk, dv


def _init_weight(rng: np.random.Generator, n_in: int, n_out: int, dtype: np.dtype) -> np.ndarray:
    """A weight matrix ``[n_in, n_out]`` drawn from a normal with std ``1 / sqrt(n_in)``.

    That spread keeps ``x W`` about as large as ``x``, whatever ``n_in``.
    """
    W = rng.standard_normal((n_in, n_out), dtype=dtype)  # [n_in, n_out]
    W *= dtype.type(1 / np.sqrt(n_in))
    return W


class SelfAttention(Module):
    """One self-attention head with parameters ``W_k``, ``W_q`` and ``W_v``.

    ``k = x W_k``, ``q = x W_q``, ``v = x W_v``; ``u = softmax(q k^T / sqrt(head_size))``,
    causally masked if asked; ``out = u v``. After :meth:`forward`, :attr:`weights` holds
    ``u`` (shape ``[B, T, T]``) for plotting.

    Parameters
    ----------
    n_embd : int
        Channels of the input, ``C``.
    head_size : int
        Channels of keys, queries, values and of the output.
    causal : bool
        Whether position ``t`` only attends to positions ``<= t``.
    rng : numpy.random.Generator
        Draws the initial weights (normal, std ``1 / sqrt(n_embd)``).
    dtype : np.float32 or np.float64
        Of the parameters; inputs are converted to it.

    Examples
    --------
    >>> head = SelfAttention(4, 2, rng=np.random.default_rng(0))
    >>> head.forward(np.ones((1, 3, 4))).shape, head.weights.shape
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
        dtype: type[np.floating] | np.dtype = np.float32,
    ) -> None:
        super().__init__()
        self.n_embd = positive_int(n_embd, "n_embd")
        self.head_size = positive_int(head_size, "head_size")
        if not isinstance(causal, bool):
            raise TypeError(f"causal must be True or False; got {describe(causal)}")
        self.causal = causal
        self.dtype = np.dtype(float_dtype(dtype))
        rng = as_generator(rng)
        C, hs = self.n_embd, self.head_size
        for name in ("W_k", "W_q", "W_v"):
            self.add_parameter(name, _init_weight(rng, C, hs, self.dtype))  # [C, hs]
        self.weights: np.ndarray | None = None
        self._cache: tuple[np.ndarray, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Attend: ``x`` of shape ``[B, T, n_embd]`` -> output ``[B, T, head_size]``."""
        x = as_float_array(x, "x", shapes=[("batch", "T", self.n_embd)])
        x = x.astype(self.dtype, copy=False)
        W_k, W_q, W_v = self.params["W_k"], self.params["W_q"], self.params["W_v"]
        k = x @ W_k  # [B, T, C] @ [C, hs] -> [B, T, hs]
        q = x @ W_q  # [B, T, C] @ [C, hs] -> [B, T, hs]
        v = x @ W_v  # [B, T, C] @ [C, hs] -> [B, T, hs]
        out, u = _attention(q, k, v, self.causal)  # [B, T, hs], [B, T, T]
        self.weights = u
        self._cache = (x, k, q, v, u)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return d loss / d x and add d loss / d ``W_k``, ``W_q``, ``W_v`` to :attr:`grads`."""
        if self._cache is None:
            raise RuntimeError("call forward before backward: backward needs its inputs")
        x, k, q, v, u = self._cache
        B, T, C = x.shape
        dout = as_float_array(dout, "dout", shapes=[(B, T, self.head_size)])
        dout = dout.astype(self.dtype, copy=False)
        dq, dk, dv = _attention_backward(dout, q, k, v, u)  # [B, T, hs] each
        x2 = x.reshape(B * T, C)  # [B, T, C] -> [B*T, C]
        for name, d in (("W_k", dk), ("W_q", dq), ("W_v", dv)):
            self.grads[name] += x2.T @ d.reshape(B * T, -1)  # [C, B*T] @ [B*T, hs] -> [C, hs]
        W_k, W_q, W_v = self.params["W_k"], self.params["W_q"], self.params["W_v"]
        dx = dk @ W_k.T + dq @ W_q.T + dv @ W_v.T  # [B, T, hs] @ [hs, C] -> [B, T, C]
        return dx
