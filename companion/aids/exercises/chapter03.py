"""Exercises of chapter 3, Loss and gradient descent."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register

#: Exercises 3.1 and 3.2: what we wanted for the leaf (leaf, flower), and what we got.
WANTED = np.array([0.8, 0.2])
GOT = np.array([0.3, 0.9])

#: Exercises 3.3 and 3.4: output ``w * x`` for the input ``X``; loss ``(w * X - TARGET)**2``.
X = 2.0
TARGET = 1.0
W = 0.3  # the weight to start from
H = 0.01  # the nudge
LEARNING_RATE = 0.1


def tiny_loss(w: float) -> float:
    """The squared-error loss of the one-weight network of exercises 3.3 and 3.4."""
    return (w * X - TARGET) ** 2


def _gradient() -> float:
    """The exact gradient of :func:`tiny_loss` at ``W``: ``2 X (W X - TARGET)``."""
    return 2 * X * (W * X - TARGET)


@register("3.1", "The article's loss (differences without signs) for outputs 0.3, 0.9.")
def _loss_ignoring_signs(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    differences = WANTED - GOT  # [0.5, -0.7]
    right = np.abs(differences).sum()
    if close(got, right, 0.005):
        return Verdict(True, f"The loss is {right:.1f}: both misses count, whatever their sign.")
    if close(abs(got), abs(differences.sum()), 0.005):
        return Verdict(
            False,
            "The signs cancel each other here; add the differences without their signs (abs).",
        )
    if any(close(got, abs(d), 0.005) for d in differences):
        return Verdict(False, "That is one of the two differences; add both.")
    squares = differences**2
    if close(got, squares.sum(), 0.005) or close(got, squares.mean(), 0.005):
        return Verdict(
            False,
            "That squares the differences (the next exercise); the article's "
            "loss only drops their signs.",
        )
    if close(got, right / 2, 0.005):
        return Verdict(False, "The article adds the differences; it does not take their mean.")
    return Verdict(False, "Subtract each output from the wanted one, drop the sign, then add.")


@register("3.2", "The mean squared error of outputs 0.3, 0.9 against the wanted 0.8, 0.2.")
def _squared_error(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    differences = GOT - WANTED  # [-0.5, 0.7]
    right = np.mean(differences**2)
    if close(got, right, 1e-3):
        return Verdict(True, f"It is {right:.2f}: the larger miss (0.7) counts for two thirds.")
    if close(got, np.sum(differences**2), 1e-3):
        return Verdict(
            False, "That is the sum of the squares; the mean divides it by their number (2)."
        )
    if close(got, differences.sum() ** 2, 1e-3) or close(got, differences.mean() ** 2, 1e-3):
        return Verdict(
            False,
            "Square each difference first, then add: squaring after adding lets the signs cancel.",
        )
    absolute = np.abs(differences)
    if close(got, absolute.sum(), 1e-3) or close(got, absolute.mean(), 1e-3):
        return Verdict(False, "Square each difference instead of dropping its sign.")
    if close(got, absolute.sum() ** 2, 1e-3) or close(got, absolute.mean() ** 2, 1e-3):
        return Verdict(False, "Square each difference on its own, then take the mean.")
    return Verdict(False, "Square each of the two differences, add, divide by 2.")


@register("3.3", "The gradient of (2w - 1)^2 at w = 0.3, estimated by nudging w by 0.01.")
def _nudged_gradient(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    right = _gradient()  # -1.6
    if close(got, right, 0.05):  # one-sided nudges (-1.56, -1.64) are fine too
        return Verdict(True, f"The gradient is {right:.1f}: negative, so w should grow.")
    if close(got, -right, 0.05):
        return Verdict(
            False,
            "Right size, wrong sign: the loss goes down when w goes up, so "
            "compute loss(w + h) - loss(w - h), in that order.",
        )
    change = tiny_loss(W + H) - tiny_loss(W - H)
    if close(got, change, 2e-3) or close(got, change / 2, 2e-3):
        return Verdict(
            False, "That is the change of the loss; divide it by the change of w, 2h = 0.02."
        )
    if close(got, change / H, 0.05):
        return Verdict(
            False, "w went from 0.29 to 0.31, a change of 2h = 0.02: divide by 0.02, not 0.01."
        )
    if close(got, 2 * (W * X - TARGET), 0.05):
        return Verdict(
            False,
            "That is the slope with respect to the output w x; nudge w "
            "itself and recompute the loss.",
        )
    if close(got, tiny_loss(W), 0.005):
        return Verdict(
            False,
            "That is the loss at w = 0.3; the gradient is how fast it changes when w is nudged.",
        )
    return Verdict(False, "Compute (loss(0.31) - loss(0.29)) / 0.02 with loss(w) = (2w - 1)^2.")


@register("3.4", "The weight after one gradient-descent step from w = 0.3, learning rate 0.1.")
def _one_step(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    gradient = _gradient()  # -1.6
    right = W - LEARNING_RATE * gradient  # 0.46
    if close(got, right, 0.005):
        return Verdict(
            True,
            f"w = {right:.2f}; the loss fell from {tiny_loss(W):.2f} to {tiny_loss(right):.4f}.",
        )
    if close(got, W + LEARNING_RATE * gradient, 0.005):
        return Verdict(
            False,
            "You moved with the gradient, uphill: go against it, w - learning rate x gradient.",
        )
    if close(got, W - gradient, 0.005):
        return Verdict(False, "Scale the step by the learning rate, 0.1.")
    if close(got, W + gradient, 0.005):
        return Verdict(
            False, "Two things: scale the gradient by the learning rate (0.1), and step against it."
        )
    if close(abs(got), abs(LEARNING_RATE * gradient), 0.005):
        return Verdict(False, "That is the step; the new weight is w = 0.3 plus the step.")
    if close(got, TARGET / X, 0.005):
        return Verdict(
            False,
            "0.5 is where the loss is 0, but one step does not get there: "
            "compute 0.3 - 0.1 x gradient.",
        )
    return Verdict(False, "New w = old w - learning rate x gradient, with the gradient of 3.3.")
