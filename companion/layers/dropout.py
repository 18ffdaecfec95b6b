"""Dropout: while training, switch off a random fraction ``p_drop`` of the numbers.

Each training step then trains a slightly different, thinned network, a little like
training many models and averaging them (an "ensemble"). At inference every number is
kept, and one scale factor makes the outputs as large on average as they were in
training. Where that factor goes is a choice:

* ``scale_at="training"`` ("inverted dropout", what GPT-2 and PyTorch do): while
  training, divide the kept numbers by ``1 - p_drop``; at inference do nothing.
* ``scale_at="inference"`` (the article's description): while training, only drop; at
  inference multiply everything by ``1 - p_drop``.

Both give the same output on average; they differ only by where the constant factor
sits, which the next layer's weights absorb.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, as_generator, number, one_of
from companion.layers.module import Module


class Dropout(Module):
    """Zero each number with probability ``p_drop`` while training; see the module notes.

    In training mode ``forward(x)`` returns ``x * keep * scale``, where ``keep`` is a
    random mask (1 with probability ``1 - p_drop``) and ``scale`` is ``1 / (1 - p_drop)``
    (``scale_at="training"``) or 1 (``"inference"``). In evaluation mode
    (``layer.eval()``) it returns ``x``, or ``x * (1 - p_drop)`` for ``"inference"``.
    ``backward(dout)`` multiplies ``dout`` by the same numbers.

    Parameters
    ----------
    p_drop : float
        Probability of dropping a number, in ``[0, 1)`` (1 would drop everything).
    rng : numpy.random.Generator or int
        Where the random masks come from (an int is a seed). Layers given the same
        generator draw their masks from it in turn.
    scale_at : {"training", "inference"}
        Where the factor ``1 - p_drop`` is applied (see the module notes).

    Examples
    --------
    Half the numbers are dropped, the others doubled: the mean stays about 1.

    >>> drop = Dropout(0.5, rng=0)
    >>> out = drop(np.ones(10_000))
    >>> sorted(set(out.tolist())), round(float(out.mean()), 1)
    ([0.0, 2.0], 1.0)
    >>> drop.eval()(np.ones(3)).tolist()
    [1.0, 1.0, 1.0]

    Notes
    -----
    Taught in chapter 12, Dropout.
    """

    def __init__(
        self, p_drop: float, *, rng: np.random.Generator | int, scale_at: str = "training"
    ) -> None:
        super().__init__()
        self.p_drop = number(p_drop, "p_drop", low=0, high=1, high_open=True)
        self.scale_at = one_of(scale_at, "scale_at", ("training", "inference"))
        self.rng = as_generator(rng)

    def __call__(self, x: object) -> np.ndarray:
        """Check ``x`` at the door, then :meth:`forward`."""
        return self.forward(as_array(x, "x"))

    def forward(self, x: np.ndarray) -> np.ndarray:
        p, f = self.p_drop, x.dtype.type
        self.multiplier: np.ndarray | np.floating | None = None  # None: x passes unchanged
        if self.training and p > 0:
            keep = self.rng.random(x.shape) >= p  # True with probability 1 - p
            scale = 1 / (1 - p) if self.scale_at == "training" else 1.0
            self.multiplier = keep * f(scale)  # 0 where dropped, scale where kept
        elif not self.training and self.scale_at == "inference":
            self.multiplier = f(1 - p)  # everything kept, scaled down
        if self.multiplier is None:
            return x
        out: np.ndarray = x * self.multiplier
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.multiplier is None:
            return dout
        dx: np.ndarray = dout * self.multiplier  # the same numbers as forward
        return dx

    def __repr__(self) -> str:
        return f"Dropout({self.p_drop}, scale_at={self.scale_at!r})"
