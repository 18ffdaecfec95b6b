"""Losses: one number that says how far the outputs are from the outputs we wanted.

* The mean squared error, for outputs that should equal given numbers (the article's
  desired 0.8 / 0.2 against the actual 0.6 / 0.4).
* The cross-entropy, for scores ("logits") over ``V`` classes or tokens of which one is
  right: minus the logarithm of the probability that softmax gives the right one.

Each is a function that returns the number, and a class whose ``backward()`` starts the
backward pass. A loss has no parameters and its ``backward`` takes no ``dout``: the loss is
where the chain starts (d loss / d loss = 1). Calling it, ``loss_fn(outputs, targets)``,
checks both at the door; a model that computes its own loss calls ``forward``.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_array, as_ids, describe
from companion.layers.module import Module


class MSELoss(Module):
    """The mean, over every number, of ``(prediction - targets)^2``, with its backward pass.

    Squaring makes every difference count as positive (so +0.2 and -0.2 do not cancel)
    and makes large misses cost more than small ones. ``backward()`` returns
    ``2 (prediction - targets) / n``, with ``n`` the number of numbers.

    Examples
    --------
    The article's example: wanted 0.8 and 0.2, got 0.6 and 0.4.

    >>> loss_fn = MSELoss()
    >>> round(loss_fn([0.6, 0.4], [0.8, 0.2]), 6)
    0.04
    >>> loss_fn.backward().round(6).tolist()
    [-0.2, 0.2]

    Notes
    -----
    Taught in chapter 4, Gradients from formulas (the loss of chapter 3 as a layer).
    """

    def __call__(self, prediction: object, targets: object) -> float:
        """Check both at the door (the same shape), then :meth:`forward`."""
        prediction = as_array(prediction, "prediction")
        targets = as_array(targets, "targets", shape=prediction.shape, dtype=prediction.dtype)
        return self.forward(prediction, targets)

    def forward(self, prediction: np.ndarray, targets: np.ndarray) -> float:
        self.difference = prediction - targets  # kept for backward
        return float(np.mean(self.difference**2))

    def backward(self) -> np.ndarray:
        d = self.difference
        dprediction: np.ndarray = d * (2 / d.size)
        return dprediction


def mean_squared_error(prediction: object, targets: object) -> float:
    """The loss of :class:`MSELoss`, as a function.

    Examples
    --------
    >>> round(mean_squared_error([0.6, 0.4], [0.8, 0.2]), 6)
    0.04

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent.
    """
    return MSELoss()(prediction, targets)


class CrossEntropyLoss(Module):
    """Mean of ``-log softmax(logits)[target]`` over the positions that count.

    ``backward()`` returns d loss / d logits, ``(softmax(logits) - one_hot(targets)) / n``
    (softmax and the logarithm differentiated together), and 0 at ignored positions.

    Parameters
    ----------
    ignore_index : int, optional
        Positions whose target equals it (padding, for example) count neither in the loss
        nor in the mean; their id need not be a class.

    Notes
    -----
    ``logits`` have shape ``[N, V]`` or ``[B, T, V]``: ``V`` scores per position;
    ``targets`` the shape without the last axis, each the id of the right class. The loss
    is 0 when the right class gets probability 1, and ``log V`` when all ``V`` classes are
    equally likely. The log-probabilities are computed as in
    :func:`companion.layers.softmax.log_softmax`, never as ``log(softmax(...))``: a
    probability that rounds to 0 would make that ``-inf``.

    Taught in chapter 4, Gradients from formulas (the loss of chapter 3 as a layer).
    """

    def __init__(self, ignore_index: int | None = None) -> None:
        super().__init__()
        if ignore_index is not None and (
            isinstance(ignore_index, bool) or not isinstance(ignore_index, int | np.integer)
        ):
            raise TypeError(f"ignore_index must be an int or None; got {describe(ignore_index)}")
        self.ignore_index = ignore_index

    def __call__(self, logits: object, targets: object) -> float:
        """Check both at the door, then :meth:`forward`."""
        logits = as_array(logits, "logits")
        if logits.ndim not in (2, 3):
            raise ValueError(
                f"logits must have shape [N, V] or [B, T, V] (V scores per position); "
                f"got shape {logits.shape}"
            )
        V = logits.shape[-1]
        meaning = "the shape of logits without its last axis"
        targets = as_ids(
            targets,
            "targets",
            V,
            shape=logits.shape[:-1],
            meaning=meaning,
            ignore_index=self.ignore_index,
        )
        if self.ignore_index is not None and np.all(targets == self.ignore_index):
            raise ValueError(
                f"targets must have a position to count; all equal ignore_index "
                f"({self.ignore_index}), so the mean would be 0 / 0"
            )
        return self.forward(logits, targets)

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        V = logits.shape[-1]
        z = logits.reshape(-1, V)  # [B, T, V] -> [N, V]
        y = targets.reshape(-1)  # [B, T] -> [N]
        shifted = z - z.max(axis=1, keepdims=True)  # the largest score of each row is 0
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # [N, V]
        counted = y != self.ignore_index if self.ignore_index is not None else y >= 0
        rows = np.flatnonzero(counted)  # the positions that count, [n]
        self.log_probs, self.y, self.rows, self.shape = log_probs, y, rows, logits.shape
        return -float(log_probs[rows, y[rows]].mean())  # [N, V] -> [n] -> the mean

    def backward(self) -> np.ndarray:
        rows, y = self.rows, self.y
        dlogits: np.ndarray = np.zeros_like(self.log_probs)  # [N, V]: 0 where ignored
        dlogits[rows] = np.exp(self.log_probs[rows])  # softmax(logits) where counted
        dlogits[rows, y[rows]] -= 1  # minus the one-hot of the right class
        dlogits /= rows.size  # the mean over the counted positions
        return dlogits.reshape(self.shape)  # [N, V] -> [B, T, V]


def cross_entropy(logits: object, targets: object, ignore_index: int | None = None) -> float:
    """The loss of :class:`CrossEntropyLoss`, as a function.

    Examples
    --------
    Logits ``[0, log 3]`` give probabilities 1/4 and 3/4; the right class is 1, so the loss
    is ``-log(3/4)``:

    >>> bool(np.isclose(cross_entropy([[0.0, np.log(3.0)]], [1]), -np.log(0.75)))
    True

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent.
    """
    return CrossEntropyLoss(ignore_index)(logits, targets)
