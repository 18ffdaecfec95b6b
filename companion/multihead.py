"""Multi-head attention: several self-attention heads side by side, then one output projection.

Each head has its own ``W_k``, ``W_q`` and ``W_v`` of chapter 8. Instead of keeping
``n_head`` small matrices, the layer keeps three ``[n_embd, n_embd]`` matrices whose
columns, ``head_size`` at a time, are the heads' matrices: columns ``h * head_size`` to
``(h + 1) * head_size`` of ``W_q`` are head ``h``'s ``W_q``. One matrix product then
computes the queries of every head at once; a reshape puts the heads on their own axis,
``[B, n_head, T, head_size]``, and batched matrix products attend in every head together,
with no Python loop over heads or tokens. The heads' outputs are concatenated and mixed
by ``W_o`` with bias ``b_o``.
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array, as_generator, describe, float_dtype, positive_int
from companion.attention import (
    _attention,
    _attention_backward,
    _init_weight,
)
from companion.linear import matmul_rows
from companion.module import Module


def split_heads(x: np.ndarray, n_head: int) -> np.ndarray:
    """Put the heads on their own axis: ``[B, T, C]`` -> ``[B, n_head, T, C / n_head]``.

    Examples
    --------
    >>> split_heads(np.arange(8.0).reshape(1, 2, 4), 2)[0].tolist()
    [[[0.0, 1.0], [4.0, 5.0]], [[2.0, 3.0], [6.0, 7.0]]]

    Notes
    -----
    Taught in chapter 13, Multi-head attention.
    """
    if not isinstance(x, np.ndarray) or x.ndim != 3:
        raise ValueError(f"x must be an array of shape [B, T, C]; got {describe(x)}")
    B, T, C = x.shape
    n_head = positive_int(n_head, "n_head")
    if C % n_head:
        raise ValueError(f"the {C} channels of x do not split into n_head={n_head} heads")
    x = x.reshape(B, T, n_head, C // n_head)  # [B, T, C] -> [B, T, nh, hs]
    return x.transpose(0, 2, 1, 3)  # [B, T, nh, hs] -> [B, nh, T, hs]


def merge_heads(x: np.ndarray) -> np.ndarray:
    """Concatenate the heads: ``[B, n_head, T, head_size]`` -> ``[B, T, n_head * head_size]``.

    The inverse of :func:`split_heads`.

    Notes
    -----
    Taught in chapter 13, Multi-head attention.
    """
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError(
            f"x must be an array of shape [B, n_head, T, head_size]; got {describe(x)}"
        )
    B, nh, T, hs = x.shape
    x = x.transpose(0, 2, 1, 3)  # [B, nh, T, hs] -> [B, T, nh, hs]
    return x.reshape(B, T, nh * hs)  # [B, T, nh, hs] -> [B, T, C]


def check_heads(n_embd: object, n_head: object) -> tuple[int, int]:
    """Check that ``n_embd`` channels split evenly into ``n_head`` heads; return both.

    Notes
    -----
    Taught in chapter 13, Multi-head attention.
    """
    C, nh = positive_int(n_embd, "n_embd"), positive_int(n_head, "n_head")
    if C % nh:
        raise ValueError(
            f"n_embd must be divisible by n_head so every head gets the same size; "
            f"got n_embd={C} and n_head={nh} ({C} / {nh} = {C / nh:g})"
        )
    return C, nh


class MultiHeadAttention(Module):
    """``n_head`` self-attention heads computed together, concatenated, then projected.

    ``k = x W_k``, ``q = x W_q``, ``v = x W_v`` (each ``[B, T, n_embd]``, split into heads
    of ``head_size = n_embd / n_head`` channels); every head attends as in chapter 8; the
    heads' outputs are concatenated back to ``[B, T, n_embd]``; ``out = concat W_o + b_o``.
    After :meth:`forward`, :attr:`weights` holds every head's attention weights, shape
    ``[B, n_head, T, T]``.

    Parameters
    ----------
    n_embd : int
        Channels of the input and of the output, ``C``.
    n_head : int
        Number of heads; must divide ``n_embd``.
    causal : bool
        Whether position ``t`` only attends to positions ``<= t``.
    rng : numpy.random.Generator
        Draws the initial weights (normal, std ``1 / sqrt(n_embd)``; ``b_o`` starts at 0).
    dtype : np.float32 or np.float64
        Of the parameters; inputs are converted to it.

    Examples
    --------
    >>> mha = MultiHeadAttention(8, 2, rng=np.random.default_rng(0))
    >>> mha.forward(np.ones((3, 5, 8))).shape, mha.weights.shape
    ((3, 5, 8), (3, 2, 5, 5))

    Notes
    -----
    Taught in chapter 13, Multi-head attention.
    """

    def __init__(
        self,
        n_embd: int,
        n_head: int,
        causal: bool = True,
        *,
        rng: np.random.Generator | int,
        dtype: type[np.floating] | np.dtype = np.float32,
    ) -> None:
        super().__init__()
        self.n_embd, self.n_head = check_heads(n_embd, n_head)
        self.head_size = self.n_embd // self.n_head
        if not isinstance(causal, bool):
            raise TypeError(f"causal must be True or False; got {describe(causal)}")
        self.causal = causal
        self.dtype = np.dtype(float_dtype(dtype))
        rng = as_generator(rng)
        C = self.n_embd
        for name in ("W_k", "W_q", "W_v", "W_o"):
            self.add_parameter(name, _init_weight(rng, C, C, self.dtype))  # [C, C]
        self.add_parameter("b_o", np.zeros(C, dtype=self.dtype))  # [C]
        self.weights: np.ndarray | None = None
        self._cache: tuple[np.ndarray, ...] | None = None
        self._self_attention = True  # whether the last forward pass had no separate context

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Attend in every head: ``x`` ``[B, T, n_embd]`` -> output ``[B, T, n_embd]``."""
        x = as_float_array(x, "x", shapes=[("batch", "T", self.n_embd)])
        return self._attend(x, None)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return d loss / d x; add the gradients of ``W_k, W_q, W_v, W_o, b_o``."""
        dx, _ = self._attend_backward(dout)  # dx holds both the query and key/value paths
        return dx

    def _attend(self, x: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        """Queries from ``x`` ``[B, T, C]``, keys and values from ``context`` ``[B, S, C]``.

        ``context=None`` is self-attention: the keys and values come from ``x`` too, and
        the three projections are one product with ``[W_q | W_k | W_v]`` (``[C, 3C]``),
        which is faster than three products with ``[C, C]``.
        """
        x = x.astype(self.dtype, copy=False)
        p, nh, C = self.params, self.n_head, self.n_embd
        if context is None:
            W_qkv = np.concatenate([p["W_q"], p["W_k"], p["W_v"]], axis=1)  # [C, 3C]
            qkv = matmul_rows(x, W_qkv)  # [B, T, C] @ [C, 3C] -> [B, T, 3C]
            q = split_heads(qkv[..., :C], nh)  # [B, T, C] -> [B, nh, T, hs]
            k = split_heads(qkv[..., C : 2 * C], nh)  # [B, T, C] -> [B, nh, T, hs]
            v = split_heads(qkv[..., 2 * C :], nh)  # [B, T, C] -> [B, nh, T, hs]
        else:
            context = context.astype(self.dtype, copy=False)
            # q: [B, T, C] -> [B, nh, T, hs]; k and v: [B, S, C] -> [B, nh, S, hs]
            q = split_heads(matmul_rows(x, p["W_q"]), nh)
            k = split_heads(matmul_rows(context, p["W_k"]), nh)
            v = split_heads(matmul_rows(context, p["W_v"]), nh)
        heads, u = _attention(q, k, v, self.causal)  # [B, nh, T, hs], [B, nh, T, S]
        concat = merge_heads(heads)  # [B, nh, T, hs] -> [B, T, C]
        out = matmul_rows(concat, p["W_o"])  # [B, T, C] @ [C, C] -> [B, T, C]
        out += p["b_o"]
        self.weights = u
        self._self_attention = context is None
        self._cache = (x, x if context is None else context, k, q, v, u, concat)
        return out

    def _attend_backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return ``(d x, d context)`` and add the gradients of every parameter.

        After self-attention (``context=None``) ``d x`` already holds what went through
        the keys and values, and ``d context`` is None.
        """
        if self._cache is None:
            raise RuntimeError("call forward before backward: backward needs its inputs")
        x, context, k, q, v, u, concat = self._cache
        B, T, C = x.shape
        dout = as_float_array(dout, "dout", shapes=[(B, T, C)])
        dout = dout.astype(self.dtype, copy=False)
        p, g = self.params, self.grads
        dout2 = dout.reshape(B * T, C)  # [B, T, C] -> [B*T, C]
        g["W_o"] += concat.reshape(B * T, C).T @ dout2  # [C, B*T] @ [B*T, C] -> [C, C]
        g["b_o"] += dout2.sum(axis=0)  # [B*T, C] -> [C]
        dconcat = matmul_rows(dout, p["W_o"].T)  # [B, T, C] @ [C, C] -> [B, T, C]
        dheads = split_heads(dconcat, self.n_head)  # [B, T, C] -> [B, nh, T, hs]
        dq, dk, dv = _attention_backward(dheads, q, k, v, u)  # [B, nh, T|S|S, hs]
        x2 = x.reshape(B * T, C)  # [B, T, C] -> [B*T, C]
        if self._self_attention:  # the three gradients side by side, as in the forward pass
            dqkv = np.empty((B, T, 3 * C), dtype=x.dtype)  # [B, T, 3C]
            for i, d in enumerate((dq, dk, dv)):
                dqkv[..., i * C : (i + 1) * C] = merge_heads(d)  # [B, nh, T, hs] -> [B, T, C]
            g_qkv = x2.T @ dqkv.reshape(B * T, 3 * C)  # [C, B*T] @ [B*T, 3C] -> [C, 3C]
            for i, name in enumerate(("W_q", "W_k", "W_v")):
                g[name] += g_qkv[:, i * C : (i + 1) * C]
            W_qkv = np.concatenate([p["W_q"], p["W_k"], p["W_v"]], axis=1)  # [C, 3C]
            return matmul_rows(dqkv, W_qkv.T), None  # [B, T, 3C] @ [3C, C] -> [B, T, C]
        S = context.shape[1]
        dq, dk, dv = merge_heads(dq), merge_heads(dk), merge_heads(dv)  # -> [B, T|S|S, C]
        context2 = context.reshape(B * S, C)  # [B, S, C] -> [B*S, C]
        g["W_q"] += x2.T @ dq.reshape(B * T, C)  # [C, B*T] @ [B*T, C] -> [C, C]
        g["W_k"] += context2.T @ dk.reshape(B * S, C)  # [C, B*S] @ [B*S, C] -> [C, C]
        g["W_v"] += context2.T @ dv.reshape(B * S, C)  # [C, B*S] @ [B*S, C] -> [C, C]
        dx = matmul_rows(dq, p["W_q"].T)  # [B, T, C] @ [C, C] -> [B, T, C]
        dcontext = matmul_rows(dk, p["W_k"].T)  # [B, S, C] @ [C, C] -> [B, S, C]
        dcontext += matmul_rows(dv, p["W_v"].T)
        return dx, dcontext
