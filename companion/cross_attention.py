"""Cross-attention: the decoder's queries look at the encoder's output.

In the original Transformer the decoder attends twice. Its masked self-attention is the
multi-head attention of chapter 13; its cross-attention takes the *queries* from the
decoder's own sequence ``x`` (``T`` positions) and the *keys and values* from the encoder's
output, the ``context`` (``S`` positions, which may differ from ``T``). Every decoder
position may look at every encoder position, so there is no causal mask. Apart from where
the keys and values come from, it is :class:`~companion.multihead.MultiHeadAttention`.
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array
from companion.multihead import MultiHeadAttention


class CrossAttention(MultiHeadAttention):
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
        super().__init__(n_embd, n_head, causal=False, rng=rng, dtype=dtype)

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
        return self._attend(x, context)

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[override]
        """Return ``(dx, dcontext)``; add the gradients of ``W_k, W_q, W_v, W_o, b_o``."""
        dx, dcontext = self._attend_backward(dout)
        assert dcontext is not None  # forward always passes a context
        return dx, dcontext

    def __call__(self, x: np.ndarray, context: np.ndarray) -> np.ndarray:  # type: ignore[override]
        return self.forward(x, context)
