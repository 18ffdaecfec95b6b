"""The feed-forward layer of a Transformer block (the "MLP"), as in GPT-2 and nanoGPT.

Attention mixes information *between* positions; the MLP then works on each position on
its own: a linear layer widens each vector from ``C`` to ``4 C`` numbers, GELU bends them,
and a second linear layer brings them back to ``C``.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, as_generator, positive_int
from companion.layers.activations import GELU
from companion.layers.dropout import Dropout
from companion.layers.linear import Linear
from companion.layers.module import Module


class MLP(Module):
    """The feed-forward layer: ``c_proj(gelu(c_fc(x)))``, then dropout.

    Each position on its own: ``C`` numbers widen to ``4 C``, pass GELU, and narrow back.

    Examples
    --------
    >>> mlp = MLP(8, rng=0)
    >>> mlp(np.ones((2, 3, 8))).shape
    (2, 3, 8)

    Parameters
    ----------
    n_embd : int
        ``C``.
    bias : bool
        Whether the two linear layers have biases.
    dropout : float
        Probability of dropping an output number while training.
    rng : numpy.random.Generator or int
        Draws the initial weights and the dropout masks.
    std, proj_std : float, optional
        The spread of the initial weights of ``c_fc`` and ``c_proj`` (by default
        :class:`~companion.layers.linear.Linear`'s).
    dtype : numpy.float32 or numpy.float64

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """

    def __init__(
        self,
        n_embd: int,
        bias: bool = True,
        dropout: float = 0.0,
        *,
        rng: np.random.Generator | int,
        std: float | None = None,
        proj_std: float | None = None,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        C, rng = positive_int(n_embd, "n_embd"), as_generator(rng)
        self.c_fc = Linear(C, 4 * C, bias, rng=rng, std=std, dtype=dtype)
        self.gelu = GELU()
        self.c_proj = Linear(4 * C, C, bias, rng=rng, std=proj_std, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` (shape ``[..., n_embd]``) at the door, then :meth:`forward`."""
        C, dtype = self.c_fc.n_in, self.c_fc.dtype
        return self.forward(as_array(x, "x", shape=(..., C), dtype=dtype))

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.c_fc.forward(x)  # [B, T, C] -> [B, T, 4C]
        x = self.gelu.forward(x)
        x = self.c_proj.forward(x)  # [B, T, 4C] -> [B, T, C]
        return self.dropout.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        d = self.dropout.backward(dout)
        d = self.c_proj.backward(d)  # [B, T, C] -> [B, T, 4C]
        d = self.gelu.backward(d)
        return self.c_fc.backward(d)  # [B, T, 4C] -> [B, T, C]
