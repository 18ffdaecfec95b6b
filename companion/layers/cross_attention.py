"""Cross-attention: the decoder's queries look at the encoder's output.

In the original Transformer the decoder attends twice. Its masked self-attention is the
multi-head attention of chapter 13. Its cross-attention takes the *queries* from the
decoder's own sequence ``x`` (``T`` positions) and the *keys and values* from the
encoder's output, the ``memory`` (``S`` positions, which may differ from ``T``). Every
decoder position may look at every encoder position, so there is no mask.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, as_generator
from companion.layers.attention import attention, attention_backward
from companion.layers.linear import Linear
from companion.layers.module import Module
from companion.layers.multihead import check_heads, merge_heads, split_heads


class CrossAttention(Module):
    """Multi-head attention with queries from ``x`` and keys and values from ``memory``.

    ``q = c_q(x)``; ``k, v = split(c_kv(memory))``; every head attends without a mask;
    the heads are concatenated; ``out = c_proj(concat)``. ``backward(dout)`` returns
    ``(dx, dmemory)``: a gradient for each of the two inputs.

    Parameters
    ----------
    n_embd : int
        Numbers per vector of ``x``, of ``memory`` and of the output, ``C``.
    n_head : int
        Number of heads; must divide ``n_embd``.
    bias : bool
        Whether the three linear layers have biases.
    rng : numpy.random.Generator or int
        Draws the initial weights.
    dtype : numpy.float32 or numpy.float64
        Of the parameters; inputs are converted to it.

    Examples
    --------
    >>> cross = CrossAttention(8, 2, rng=0)
    >>> cross(np.ones((3, 5, 8)), np.ones((3, 7, 8))).shape, cross.u.shape
    ((3, 5, 8), (3, 2, 5, 7))

    Notes
    -----
    After a forward pass, ``u`` holds the weights, ``[B, n_head, T, S]``: which
    source positions each target position looked at.

    Taught in chapter 16, The Transformer architecture.
    """

    def __init__(
        self,
        n_embd: int,
        n_head: int,
        bias: bool = True,
        *,
        rng: np.random.Generator | int,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        self.n_embd, self.n_head = check_heads(n_embd, n_head)
        C, rng = self.n_embd, as_generator(rng)
        self.c_q = Linear(C, C, bias, rng=rng, dtype=dtype)  # queries, from x
        self.c_kv = Linear(C, 2 * C, bias, rng=rng, dtype=dtype)  # keys and values, from memory
        self.c_proj = Linear(C, C, bias, rng=rng, dtype=dtype)  # mixes the heads

    def __call__(self, x: object, memory: object) -> np.ndarray:
        """Check ``x`` ``[B, T, C]`` and ``memory`` ``[B, S, C]`` at the door, then attend."""
        C, dtype = self.n_embd, self.c_q.dtype
        x = as_array(x, "x", shape=("B", "T", C), dtype=dtype)
        memory = as_array(
            memory, "memory", shape=(x.shape[0], "S", C), dtype=dtype, meaning="the batch size of x"
        )
        return self.forward(x, memory)

    def forward(self, x: np.ndarray, memory: np.ndarray) -> np.ndarray:
        q = split_heads(self.c_q.forward(x), self.n_head)  # [B, T, C] -> [B, nh, T, hs]
        kv = self.c_kv.forward(memory)  # [B, S, C] -> [B, S, 2C]
        k, v = (split_heads(a, self.n_head) for a in np.split(kv, 2, axis=-1))  # [B, nh, S, hs]
        y, self.u = attention(q, k, v)  # [B, nh, T, hs], [B, nh, T, S]
        self.q, self.k, self.v = q, k, v  # kept for backward
        return self.c_proj.forward(merge_heads(y))  # [B, T, C]

    def forward_cached(
        self, x: np.ndarray, memory: np.ndarray, cache: dict[str, np.ndarray]
    ) -> np.ndarray:
        """:meth:`forward` for the newest target positions ``x``, reusing ``cache``.

        The memory's keys and values do not change while a target is written: they are
        computed at the first call and kept in ``cache`` (``"k"``, ``"v"``). For generating
        only: there is no backward pass.

        Notes
        -----
        Taught in chapter 16, The Transformer architecture.
        """
        if not cache:
            kv = self.c_kv.forward(memory)  # [B, S, C] -> [B, S, 2C], once
            cache["k"], cache["v"] = (split_heads(a, self.n_head) for a in np.split(kv, 2, axis=-1))
        q = split_heads(self.c_q.forward(x), self.n_head)  # [B, t, C] -> [B, nh, t, hs]
        y, self.u = attention(q, cache["k"], cache["v"])  # [B, nh, t, hs], [B, nh, t, S]
        return self.c_proj.forward(merge_heads(y))  # [B, t, C]

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dy = split_heads(self.c_proj.backward(dout), self.n_head)  # [B, nh, T, hs]
        dq, dk, dv = attention_backward(dy, self.q, self.k, self.v, self.u)
        dx = self.c_q.backward(merge_heads(dq))  # [B, T, C]
        dmemory = self.c_kv.backward(np.concatenate([merge_heads(dk), merge_heads(dv)], axis=-1))
        return dx, dmemory  # [B, T, C], [B, S, C]
