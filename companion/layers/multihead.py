"""Multi-head attention: several attention heads side by side, then one output projection.

Each head has its own ``W_q``, ``W_k`` and ``W_v`` of chapter 8. The layer keeps them all
in one linear layer, ``c_attn``, of ``n_embd`` inputs and ``3 * n_embd`` outputs (as GPT-2
and nanoGPT do): its output splits into the queries, keys and values of every head, and
head ``h`` owns the columns ``h * head_size`` to ``(h + 1) * head_size`` of each third. One
matrix product thus computes every head's queries, keys and values at once; a reshape puts
the heads on their own axis, ``[B, n_head, T, head_size]``, and
:func:`~companion.layers.attention.attention` works on all heads together, with no Python
loop. The heads' outputs are concatenated back to
``n_embd`` numbers and mixed by a second linear layer, ``c_proj``.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, as_generator, flag, positive_int
from companion.layers.attention import attention, attention_backward
from companion.layers.dropout import Dropout
from companion.layers.linear import Linear
from companion.layers.module import Module


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
    B, T, C = x.shape
    return x.reshape(B, T, n_head, C // n_head).transpose(0, 2, 1, 3)  # -> [B, nh, T, hs]


def merge_heads(x: np.ndarray) -> np.ndarray:
    """Concatenate the heads: ``[B, n_head, T, head_size]`` -> ``[B, T, n_head * head_size]``.

    The inverse of :func:`split_heads`.

    Notes
    -----
    Taught in chapter 13, Multi-head attention.
    """
    B, nh, T, hs = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, nh * hs)  # [B, T, nh, hs] -> [B, T, C]


def check_heads(n_embd: object, n_head: object) -> tuple[int, int]:
    """``n_embd`` and ``n_head`` if the channels split evenly into the heads, else an error.

    Examples
    --------
    >>> check_heads(128, 4)
    (128, 4)
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

    ``q, k, v = split(c_attn(x))``, each ``[B, T, n_embd]`` cut into heads of
    ``head_size = n_embd / n_head`` numbers; every head attends as in chapter 8; the
    heads' outputs are concatenated back to ``[B, T, n_embd]``; ``out = c_proj(concat)``,
    followed by dropout when ``dropout > 0`` (nanoGPT's ``resid_dropout``).

    Parameters
    ----------
    n_embd : int
        Numbers per input and output vector, ``C``.
    n_head : int
        Number of heads; must divide ``n_embd``.
    causal : bool
        Whether position ``t`` only attends to positions ``<= t``.
    bias : bool
        Whether ``c_attn`` and ``c_proj`` have biases.
    dropout : float
        Probability of dropping an output number while training.
    rng : numpy.random.Generator or int
        Draws the initial weights (and the dropout masks).
    std, proj_std : float, optional
        The spread of the initial weights of ``c_attn`` and ``c_proj``; by default
        ``1 / sqrt(n_embd)`` (:class:`~companion.layers.linear.Linear`'s).
    dtype : numpy.float32 or numpy.float64
        Of the parameters; inputs are converted to it.

    Examples
    --------
    >>> mha = MultiHeadAttention(8, 2, rng=0)
    >>> mha(np.ones((3, 5, 8))).shape, mha.u.shape
    ((3, 5, 8), (3, 2, 5, 5))

    Notes
    -----
    After a forward pass, ``u`` holds every head's attention weights,
    ``[B, n_head, T, T]``.

    Taught in chapter 13, Multi-head attention.
    """

    def __init__(
        self,
        n_embd: int,
        n_head: int,
        causal: bool = True,
        bias: bool = True,
        dropout: float = 0.0,
        *,
        rng: np.random.Generator | int,
        std: float | None = None,
        proj_std: float | None = None,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        self.n_embd, self.n_head = check_heads(n_embd, n_head)
        self.causal, rng = flag(causal, "causal"), as_generator(rng)
        C = self.n_embd
        self.c_attn = Linear(C, 3 * C, bias, rng=rng, std=std, dtype=dtype)  # q, k, v
        self.c_proj = Linear(C, C, bias, rng=rng, std=proj_std, dtype=dtype)  # mixes the heads
        self.resid_dropout = Dropout(dropout, rng=rng)

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` (shape ``[B, T, n_embd]``) at the door, then :meth:`forward`."""
        dtype = self.c_attn.dtype
        return self.forward(as_array(x, "x", shape=("B", "T", self.n_embd), dtype=dtype))

    def forward(self, x: np.ndarray) -> np.ndarray:
        qkv = self.c_attn.forward(x)  # [B, T, C] -> [B, T, 3C]
        q, k, v = (split_heads(a, self.n_head) for a in np.split(qkv, 3, axis=-1))
        y, self.u = attention(q, k, v, self.causal)  # [B, nh, T, hs], [B, nh, T, T]
        self.q, self.k, self.v = q, k, v  # [B, nh, T, hs] each, kept for backward
        y = merge_heads(y)  # [B, nh, T, hs] -> [B, T, C]
        return self.resid_dropout.forward(self.c_proj.forward(y))  # [B, T, C]

    def forward_cached(self, x: np.ndarray, cache: dict[str, np.ndarray]) -> np.ndarray:
        """:meth:`forward` for the newest positions ``x`` ``[B, t, C]``, reusing ``cache``.

        ``cache`` holds the keys and values of the positions before (``"k"``, ``"v"``,
        ``[B, n_head, T, head_size]``; empty at the start) and gets the new ones appended, so
        each position's key and value are computed once while generating. The result equals
        :meth:`forward` on the whole sequence, at its last ``t`` positions. For generating
        only: there is no backward pass, and no dropout.

        Notes
        -----
        Taught in chapter 15, The GPT architecture.
        """
        qkv = self.c_attn.forward(x)  # [B, t, C] -> [B, t, 3C]
        q, k, v = (split_heads(a, self.n_head) for a in np.split(qkv, 3, axis=-1))
        if cache:
            k = np.concatenate([cache["k"], k], axis=2)  # [B, nh, T + t, hs]
            v = np.concatenate([cache["v"], v], axis=2)
        cache["k"], cache["v"] = k, v
        y, self.u = attention(q, k, v, self.causal)  # [B, nh, t, hs], [B, nh, t, T + t]
        return self.c_proj.forward(merge_heads(y))  # [B, t, C]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dy = self.c_proj.backward(self.resid_dropout.backward(dout))  # [B, T, C]
        dy = split_heads(dy, self.n_head)  # [B, T, C] -> [B, nh, T, hs]
        dq, dk, dv = attention_backward(dy, self.q, self.k, self.v, self.u)
        dqkv = np.concatenate([merge_heads(d) for d in (dq, dk, dv)], axis=-1)  # [B, T, 3C]
        return self.c_attn.backward(dqkv)  # [B, T, 3C] -> [B, T, C]
