"""Generating with a key/value cache: each new token reuses the keys and values before it.

Without a cache, every new token runs the whole window through the model again, although
the keys and values of the tokens before it have not changed: their positions and their
earlier tokens are the same (attention is causal). The cache keeps them, one set per block,
so each step computes one token instead of the whole window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from companion.models.gpt import GPT


class KeyValueCache:
    """A GPT's next-token logits for :func:`~companion.models.generate.generate`, cached.

    ``cache(window)`` returns the logits after each sequence of ``window`` ``[B, T]``. When
    the window is the previous one plus one token, only that token goes through the model
    (:meth:`~companion.models.gpt.GPT.forward_cached`), its attention reading the keys and
    values kept from the tokens before. Otherwise (the first call, or a window that slid past
    ``block_size``, so that every token's position changed) the whole window is computed
    again.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """

    def __init__(self, model: GPT) -> None:
        self.model = model
        self.seen: np.ndarray | None = None  # the last window, [B, T]
        self.caches: list[dict[str, np.ndarray]] = []

    def __call__(self, window: np.ndarray) -> np.ndarray:
        seen = self.seen
        grew = (
            seen is not None
            and window.shape == (seen.shape[0], seen.shape[1] + 1)
            and np.array_equal(window[:, :-1], seen)
        )
        if grew:
            assert seen is not None
            logits = self.model.forward_cached(window[:, -1:], seen.shape[1], self.caches)
        else:  # start again: every position of the window is new
            self.caches = [{} for _ in self.model.blocks]
            logits = self.model.forward_cached(window, 0, self.caches)
        self.seen = window
        return logits[:, -1]  # [B, V]: the prediction after the last token
