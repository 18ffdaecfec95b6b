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

from companion._validate import as_float_array, as_generator, describe
from companion.module import Module

SCALE_AT = ("training", "inference")


class Dropout(Module):
    """Zero each number with probability ``p_drop`` while training; see the module notes.

    Parameters
    ----------
    p_drop : float
        Probability of dropping a number, in ``[0, 1)``. (1 would drop everything.)
    rng : numpy.random.Generator or int
        Where the random masks come from (an int is a seed). Two layers built with the
        same seed drop the same numbers.
    scale_at : {"training", "inference"}
        Where the factor ``1 - p_drop`` is applied (see the module notes).

    Attributes
    ----------
    keep : numpy.ndarray of bool or None
        After a training-mode ``forward``, which numbers were kept (``None`` in
        evaluation mode); ``backward`` uses the same mask.

    Notes
    -----
    In training mode ``forward(x)`` returns ``x * keep * scale`` with
    ``scale = 1 / (1 - p_drop)`` (``scale_at="training"``) or 1 (``"inference"``); in
    evaluation mode (``layer.eval()``) it returns ``x`` or ``x * (1 - p_drop)``
    respectively. ``backward(dout)`` multiplies ``dout`` by the same numbers.

    Taught in chapter 12, Dropout.
    """

    def __init__(
        self,
        p_drop: float,
        *,
        rng: np.random.Generator | int,
        scale_at: str = "training",
    ) -> None:
        super().__init__()
        if isinstance(p_drop, bool | np.bool_) or not isinstance(
            p_drop, float | int | np.floating | np.integer
        ):
            raise TypeError(f"p_drop must be a number in [0, 1); got {describe(p_drop)}")
        if not 0 <= p_drop < 1:  # also refuses NaN
            raise ValueError(f"p_drop must be in [0, 1) (1 would drop everything); got {p_drop}")
        if not isinstance(scale_at, str) or scale_at not in SCALE_AT:
            raise ValueError(
                f"scale_at must be 'training' or 'inference'; got {describe(scale_at)}"
            )
        self.p_drop = float(p_drop)
        self.scale_at = scale_at
        self.rng = as_generator(rng)
        self.keep: np.ndarray | None = None
        self.multiplier: np.ndarray | np.floating | None = None
        self.x_shape: tuple[int, ...] = ()

    def forward(self, x: object) -> np.ndarray:
        """Drop (training mode) or scale (evaluation mode); same shape as ``x``."""
        x = as_float_array(x, "x")
        one = x.dtype.type(1)
        if self.training:
            self.keep = self.rng.random(x.shape) >= self.p_drop  # True with prob 1 - p_drop
            scale = one / (one - x.dtype.type(self.p_drop)) if self.scale_at == "training" else one
            self.multiplier = self.keep * scale  # 0 where dropped, scale where kept
        else:
            self.keep = None
            at_inference = self.scale_at == "inference"
            self.multiplier = one - x.dtype.type(self.p_drop) if at_inference else one
        self.x_shape = x.shape
        return x * self.multiplier

    def backward(self, dout: object) -> np.ndarray:
        """``dout`` times the numbers ``forward`` multiplied by (the same mask)."""
        if self.multiplier is None:
            raise RuntimeError("Dropout.backward needs a forward pass first")
        dout = as_float_array(dout, "dout", shapes=[self.x_shape])
        return dout * self.multiplier

    def __repr__(self) -> str:
        return f"Dropout({self.p_drop}, scale_at={self.scale_at!r})"
