"""A Transformer block: the unit a GPT stacks, and the Transformer's encoder too.

Two branches, each added to the "residual stream" ``x`` (chapter 10) and each starting
with a layer normalization (chapter 11)::

    x = x + attn(ln_1(x))    # multi-head attention, chapter 13 (causal in a GPT)
    x = x + mlp(ln_2(x))     # the feed-forward layer, chapter 15
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array
from companion.layers.layernorm import LayerNorm
from companion.layers.mlp import MLP
from companion.layers.module import Module
from companion.layers.multihead import MultiHeadAttention


class Block(Module):
    """One Transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``.

    Parameters
    ----------
    n_embd, n_head : int
        ``C``, and the attention heads (which must divide it).
    causal : bool
        Whether the attention is masked (the GPT's and the decoder's) or sees every
        position (the Transformer's encoder).
    bias : bool
        Biases in the linear layers and shifts in the layer normalizations.
    dropout : float
        Probability of dropping a number at the end of each branch while training.
    rng : numpy.random.Generator
        For the initial weights and the dropout masks.
    std, proj_std : float, optional
        The spread of the initial weights, and of the two projections that end a branch.
    dtype : numpy.float32 or numpy.float64

    Notes
    -----
    The backward pass mirrors the forward pass line for line, in reverse: the gradient
    reaching ``x`` is the gradient of the output (the residual's straight path) plus what
    comes back through the branch.

    Taught in chapter 15, The GPT architecture.
    """

    def __init__(
        self,
        n_embd: int,
        n_head: int,
        causal: bool = True,
        bias: bool = True,
        dropout: float = 0.0,
        *,
        rng: np.random.Generator,
        std: float | None = None,
        proj_std: float | None = None,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        C, stds = n_embd, {"std": std, "proj_std": proj_std}
        self.ln_1 = LayerNorm(C, bias, dtype=dtype)
        self.attn = MultiHeadAttention(
            C, n_head, causal, bias, dropout, rng=rng, dtype=dtype, **stds
        )
        self.ln_2 = LayerNorm(C, bias, dtype=dtype)
        self.mlp = MLP(C, bias, dropout, rng=rng, dtype=dtype, **stds)

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` (shape ``[B, T, n_embd]``) at the door, then :meth:`forward`."""
        C, dtype = self.ln_1.n_embd, self.ln_1.dtype
        return self.forward(as_array(x, "x", shape=("B", "T", C), dtype=dtype))

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = x + self.attn.forward(self.ln_1.forward(x))  # [B, T, C]
        x = x + self.mlp.forward(self.ln_2.forward(x))  # [B, T, C]
        return x

    def forward_cached(self, x: np.ndarray, cache: dict[str, np.ndarray]) -> np.ndarray:
        """:meth:`forward` for the newest positions, the attention reusing ``cache``.

        Notes
        -----
        Taught in chapter 15, The GPT architecture (generating with a key/value cache).
        """
        x = x + self.attn.forward_cached(self.ln_1.forward(x), cache)  # [B, t, C]
        x = x + self.mlp.forward(self.ln_2.forward(x))  # [B, t, C]
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx: np.ndarray = dout + self.ln_2.backward(self.mlp.backward(dout))  # [B, T, C]
        dx = dx + self.ln_1.backward(self.attn.backward(dx))  # [B, T, C]
        return dx
