"""Loss: one number that says how far the outputs are from the outputs we wanted.

Two losses, each as a function that returns the number and as a class whose ``backward``
starts the backward pass:

* the mean squared error, for outputs that should equal given numbers (the article's
  desired 0.8 / 0.2 against the actual 0.6 / 0.4);
* the cross-entropy, for scores ("logits") over ``V`` classes or tokens of which one is
  right: minus the log of the probability that softmax gives the right one.

A loss is not a layer: it takes the targets as a second argument, has no parameters, and
its ``backward()`` takes no ``dout`` (the loss is where the chain starts, d loss / d loss
= 1).
"""

from __future__ import annotations

import numpy as np

from companion._validate import as_float_array, as_ids, describe
from companion.softmax import log_softmax

# -- mean squared error -----------------------------------------------------------------------


def mean_squared_error(prediction: object, targets: object) -> float:
    """The mean, over every number, of ``(prediction - targets) ** 2``.

    Squaring makes every difference count as positive (so +0.2 and -0.2 do not cancel)
    and makes large misses cost more than small ones.

    Parameters
    ----------
    prediction : array_like
        The network's outputs, any shape.
    targets : array_like
        The outputs we wanted, the same shape.

    Returns
    -------
    float
        The loss.

    Examples
    --------
    The article's example: wanted 0.8 and 0.2, got 0.6 and 0.4.

    >>> round(mean_squared_error([0.6, 0.4], [0.8, 0.2]), 10)
    0.04

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent.
    """
    prediction, targets = _prediction_and_targets(prediction, targets)
    return float(np.mean((prediction - targets) ** 2))


class MSELoss:
    """Mean squared error with a backward pass; see :func:`mean_squared_error`.

    ``backward()`` returns ``2 (prediction - targets) / n``, with ``n`` the number of
    numbers in ``prediction``.

    Examples
    --------
    >>> loss = MSELoss()
    >>> round(loss.forward([0.6, 0.4], [0.8, 0.2]), 10)
    0.04
    >>> loss.backward().round(10).tolist()
    [-0.2, 0.2]

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent (the backward pass in chapter 4,
    Gradients from formulas).
    """

    def __init__(self) -> None:
        self.difference: np.ndarray | None = None

    def forward(self, prediction: object, targets: object) -> float:
        """Return the loss and keep ``prediction - targets`` for :meth:`backward`."""
        prediction, targets = _prediction_and_targets(prediction, targets)
        self.difference = prediction - targets
        return float(np.mean(self.difference**2))

    def backward(self) -> np.ndarray:
        """d loss / d prediction, the shape and dtype of ``prediction``."""
        if self.difference is None:
            raise RuntimeError("MSELoss.backward needs a forward pass first")
        d = self.difference
        return d.dtype.type(2 / d.size) * d

    def __call__(self, prediction: object, targets: object) -> float:
        return self.forward(prediction, targets)


def _prediction_and_targets(prediction: object, targets: object) -> tuple[np.ndarray, np.ndarray]:
    prediction = as_float_array(prediction, "prediction")
    targets = as_float_array(targets, "targets", shapes=[prediction.shape])
    return prediction, targets.astype(prediction.dtype, copy=False)


# -- cross-entropy ----------------------------------------------------------------------------


def cross_entropy(logits: object, targets: object, ignore_index: int | None = None) -> float:
    """Mean of ``-log softmax(logits)[target]`` over the positions that count.

    Parameters
    ----------
    logits : array_like, shape [N, V] or [B, T, V]
        Scores for ``V`` classes (characters, tokens) at each position.
    targets : array_like of int, shape [N] or [B, T]
        The id of the right class at each position, in ``[0, V)``.
    ignore_index : int, optional
        Positions whose target equals it (padding, for example) count neither in the
        loss nor in the mean; their id need not be in ``[0, V)``.

    Returns
    -------
    float
        The loss: 0 when the right class gets probability 1, ``log V`` when all classes
        are equally likely.

    Raises
    ------
    ValueError
        If every target equals ``ignore_index``: there is nothing to average over (the
        loss would be 0 / 0).

    Examples
    --------
    Logits ``[0, log 3]`` give probabilities 1/4 and 3/4; the right class is 1, so the
    loss is ``-log(3/4)``:

    >>> bool(np.isclose(cross_entropy([[0.0, np.log(3.0)]], [1]), -np.log(0.75)))
    True

    Notes
    -----
    The log-probabilities come from :func:`companion.softmax.log_softmax`, never from
    ``log(softmax(...))``: a probability that rounds to 0 would make that ``-inf``.

    Taught in chapter 3, Loss and gradient descent.
    """
    log_probs, targets, counted, _ = _log_probs_and_targets(logits, targets, ignore_index)
    rows = np.flatnonzero(counted)  # the positions that count, [n_counted]
    return -float(log_probs[rows, targets[rows]].mean())  # [N, V] -> [n_counted] -> mean


class CrossEntropyLoss:
    """Cross-entropy with the fused backward pass; see :func:`cross_entropy`.

    Softmax and the logarithm are differentiated together: d loss / d logits is
    ``(softmax(logits) - one_hot(targets)) / n_counted``, and 0 at ignored positions.

    Parameters
    ----------
    ignore_index : int, optional
        Targets equal to it are left out of the loss and of the mean.

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent (the backward pass in chapter 4,
    Gradients from formulas; used for next-character prediction in chapter 5).
    """

    def __init__(self, ignore_index: int | None = None) -> None:
        self.ignore_index = _check_ignore_index(ignore_index)
        self.log_probs: np.ndarray | None = None
        self.targets: np.ndarray | None = None
        self.counted: np.ndarray | None = None
        self.logits_shape: tuple[int, ...] = ()

    def forward(self, logits: object, targets: object) -> float:
        """Return the loss and keep the log-probabilities for :meth:`backward`."""
        log_probs, targets, counted, shape = _log_probs_and_targets(
            logits, targets, self.ignore_index
        )
        self.log_probs, self.targets, self.counted = log_probs, targets, counted
        self.logits_shape = shape
        rows = np.flatnonzero(counted)  # [n_counted]
        return -float(log_probs[rows, targets[rows]].mean())  # [N, V] -> [n_counted] -> mean

    def backward(self) -> np.ndarray:
        """d loss / d logits, the shape and dtype of ``logits``."""
        if self.log_probs is None or self.targets is None or self.counted is None:
            raise RuntimeError("CrossEntropyLoss.backward needs a forward pass first")
        rows = np.flatnonzero(self.counted)  # [n_counted]
        dlogits = np.exp(self.log_probs)  # softmax(logits), [N, V]
        dlogits[rows, self.targets[rows]] -= 1  # minus the one-hot of the right class
        dlogits[~self.counted] = 0  # ignored positions get no gradient
        dlogits /= dlogits.dtype.type(rows.size)  # the mean over the counted positions
        return dlogits.reshape(self.logits_shape)  # [N, V] -> [B, T, V] (or [N, V])

    def __call__(self, logits: object, targets: object) -> float:
        return self.forward(logits, targets)


def _check_ignore_index(ignore_index: object) -> int | None:
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool | np.bool_) or not isinstance(ignore_index, int | np.integer):
        raise TypeError(f"ignore_index must be an int or None; got {describe(ignore_index)}")
    return int(ignore_index)


def _log_probs_and_targets(
    logits: object, targets: object, ignore_index: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """Check the inputs; return log-probabilities ``[N, V]``, targets ``[N]``, which of
    them count, and the shape of ``logits``."""
    ignore_index = _check_ignore_index(ignore_index)
    logits = as_float_array(logits, "logits")
    if logits.ndim not in (2, 3):
        raise ValueError(
            f"logits must have shape [N, V] or [B, T, V] (V scores per position); "
            f"got shape {logits.shape}"
        )
    V = logits.shape[-1]
    targets = as_ids(
        targets,
        "targets",
        V,
        shape=logits.shape[:-1],
        meaning="the shape of logits without its last axis",
        ignore_index=ignore_index,
    ).reshape(-1)  # [B, T] -> [N]
    log_probs = log_softmax(logits).reshape(-1, V)  # [B, T, V] -> [N, V]
    counted = targets != ignore_index if ignore_index is not None else np.full(targets.shape, True)
    if not counted.any():
        raise ValueError(
            f"targets must have at least one position to count; every target equals "
            f"ignore_index ({ignore_index}), so the mean would be 0 / 0"
        )
    return log_probs, targets, counted, logits.shape
