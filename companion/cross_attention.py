"""Cross-attention: the decoder's queries look at the encoder's output.

In the original Transformer the decoder attends twice. Its masked self-attention is the
multi-head attention of chapter 13; its cross-attention takes the *queries* from the
decoder's own sequence ``x`` (``T`` positions) and the *keys and values* from the encoder's
output, the ``context`` (``S`` positions, which may differ from ``T``). Every decoder
position may look at every encoder position, so there is no causal mask.
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array, as_generator, float_dtype
from companion.attention import (
    _attention,
    _attention_backward,
    _init_weight,
)
from companion.module import Module
from companion.multihead import check_heads, merge_heads, split_heads


class CrossAttention(Module):
    """Multi-head attention with queries from ``x`` and keys and values from ``context``.

    ``q = x W_q``; ``k = context W_k``; ``v = context W_v``; each of the ``n_head`` heads
    attends without a mask; the heads are concatenated; ``out = concat W_o + b_o``. The
    parameters are laid out as in :class:`~companion.multihead.MultiHeadAttention`. After
    :meth:`forward`, :attr:`weights` has shape ``[B, n_head, T, S]``.

    Parameters
    ----------
    n_embd : int
        Channels of ``x``, of ``context`` and of the output, ``C``.
    n_head : int
        Number of heads; must divide ``n_embd``.
    rng : numpy.random.Generator
        Draws the initial weights (normal, std ``1 / sqrt(n_embd)``; ``b_o`` starts at 0).
    dtype : np.float32 or np.float64
        Of the parameters; inputs are converted to it.

    Examples
    --------
    >>> cross = CrossAttention(8, 2, rng=np.random.default_rng(0))
    >>> cross.forward(np.ones((3, 5, 8)), np.ones((3, 7, 8))).shape, cross.weights.shape
    ((3, 5, 8), (3, 2, 5, 7))

    Notes
    -----
    Taught in chapter 16, The Transformer architecture.
    """

    def __init__(
        self,
        n_embd: int,
        n_head: int,
        *,
        rng: np.random.Generator | int,
        dtype: type[np.floating] | np.dtype = np.float32,
    ) -> None:
        super().__init__()
        self.n_embd, self.n_head = check_heads(n_embd, n_head)
        self.head_size = self.n_embd // self.n_head
        self.dtype = np.dtype(float_dtype(dtype))
        rng = as_generator(rng)
        C = self.n_embd
        for name in ("W_k", "W_q", "W_v", "W_o"):
            self.add_parameter(name, _init_weight(rng, C, C, self.dtype))  # [C, C]
        self.add_parameter("b_o", np.zeros(C, dtype=self.dtype))  # [C]
        self.weights: np.ndarray | None = None
        self._cache: tuple[np.ndarray, ...] | None = None

    # Cross-attention has two inputs, so its forward and backward differ from Module's.
    def forward(self, x: np.ndarray, context: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """Attend from ``x`` ``[B, T, n_embd]`` to ``context`` ``[B, S, n_embd]``.

        Returns the output, shape ``[B, T, n_embd]``.
        """
        C = self.n_embd
        x = as_float_array(x, "x", shapes=[("batch", "T", C)], meaning=f"{C} = n_embd channels")
        context = as_float_array(
            context, "context", shapes=[("batch", "S", C)], meaning=f"{C} = n_embd channels"
        )
        if context.shape[0] != x.shape[0]:
            raise ValueError(
                f"context must have the batch size of x, {x.shape[0]}; "
                f"got {context.shape[0]} (x {x.shape}, context {context.shape})"
            )
        x = x.astype(self.dtype, copy=False)
        context = context.astype(self.dtype, copy=False)
        p, nh = self.params, self.n_head
        q = split_heads(x @ p["W_q"], nh)  # [B, T, C] -> [B, T, C] -> [B, nh, T, hs]
        k = split_heads(context @ p["W_k"], nh)  # [B, S, C] -> [B, S, C] -> [B, nh, S, hs]
        v = split_heads(context @ p["W_v"], nh)  # [B, S, C] -> [B, S, C] -> [B, nh, S, hs]
        heads, u = _attention(q, k, v, causal=False)  # [B, nh, T, hs], [B, nh, T, S]
        concat = merge_heads(heads)  # [B, nh, T, hs] -> [B, T, C]
        out = concat @ p["W_o"] + p["b_o"]  # [B, T, C] @ [C, C] -> [B, T, C]
        self.weights = u
        self._cache = (x, context, k, q, v, u, concat)
        return out

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[override]
        """Return ``(dx, dcontext)``; add the gradients of ``W_k, W_q, W_v, W_o, b_o``."""
        if self._cache is None:
            raise RuntimeError("call forward before backward: backward needs its inputs")
        x, context, k, q, v, u, concat = self._cache
        (B, T, C), S = x.shape, context.shape[1]
        dout = as_float_array(dout, "dout", shapes=[(B, T, C)])
        dout = dout.astype(self.dtype, copy=False)
        p, g = self.params, self.grads
        dout2 = dout.reshape(B * T, C)  # [B, T, C] -> [B*T, C]
        g["W_o"] += concat.reshape(B * T, C).T @ dout2  # [C, B*T] @ [B*T, C] -> [C, C]
        g["b_o"] += dout2.sum(axis=0)  # [B*T, C] -> [C]
        dheads = split_heads(dout @ p["W_o"].T, self.n_head)  # [B, T, C] -> [B, nh, T, hs]
        dq, dk, dv = _attention_backward(dheads, q, k, v, u)  # [B, nh, T|S|S, hs]
        dq, dk, dv = merge_heads(dq), merge_heads(dk), merge_heads(dv)  # -> [B, T|S|S, C]
        x2 = x.reshape(B * T, C)  # [B, T, C] -> [B*T, C]
        context2 = context.reshape(B * S, C)  # [B, S, C] -> [B*S, C]
        g["W_q"] += x2.T @ dq.reshape(B * T, C)  # [C, B*T] @ [B*T, C] -> [C, C]
        g["W_k"] += context2.T @ dk.reshape(B * S, C)  # [C, B*S] @ [B*S, C] -> [C, C]
        g["W_v"] += context2.T @ dv.reshape(B * S, C)  # [C, B*S] @ [B*S, C] -> [C, C]
        dx = dq @ p["W_q"].T  # [B, T, C] @ [C, C] -> [B, T, C]
        dcontext = dk @ p["W_k"].T + dv @ p["W_v"].T  # [B, S, C] @ [C, C] -> [B, S, C]
        return dx, dcontext

    def __call__(self, x: np.ndarray, context: np.ndarray) -> np.ndarray:  # type: ignore[override]
        return self.forward(x, context)
