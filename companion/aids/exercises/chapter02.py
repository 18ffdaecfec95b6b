"""Exercises of chapter 2, Activation, bias and softmax."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register
from companion.layers.activations import relu
from companion.layers.softmax import softmax
from companion.models.network import LEAF, SUNFLOWER, collapse, forward, leaf_flower_network

#: The scores of exercise 2.4.
SCORES = np.array([2.0, 1.0, -1.0])


@register("2.1", "The sunflower's three hidden neurons after ReLU.")
def _relu_hidden(answer: object) -> Verdict:
    got = as_numbers(answer, (3,))
    if isinstance(got, Verdict):
        return got
    before = forward(SUNFLOWER).hidden
    after = relu(before)
    if close(got, after, 0.01):
        return Verdict(True, "ReLU switches off two of the sunflower's three neurons.")
    if close(got, before, 0.01):
        return Verdict(False, "These are the values before ReLU: set the negative ones to 0.")
    if np.any(got < 0):
        return Verdict(False, "ReLU never gives a negative number.")
    return Verdict(False, "Compute the hidden layer as in chapter 1, then apply ReLU.")


@register("2.2", "The collapsed one-layer weight from G to output 1.")
def _collapsed_g(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    W, _ = collapse(leaf_flower_network())
    if close(got, W[0, 1], 5e-4):
        return Verdict(True, f"It is {W[0, 1]:.4f}: a tiny weight from three bigger ones.")
    if close(got, W[0, 0], 5e-4):
        return Verdict(False, "That is the R weight from the chapter; use the G column of W1.")
    if close(got, -W[0, 1], 5e-4):
        return Verdict(False, "Check the signs: (-0.29) x (-0.17) is positive.")
    return Verdict(False, "Multiply each hidden neuron's G weight by its weight to output 1, add.")


@register("2.3", "The bias of hidden neuron 1 that makes the leaf's value exactly 0.")
def _zero_bias(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    needed = -forward(LEAF).hidden[0]
    if close(got, needed, 0.01):
        return Verdict(True, f"A bias of {needed:.3f} cancels the weighted sum exactly.")
    if close(got, -needed, 0.01):
        return Verdict(False, "Right size, wrong sign: the bias must cancel a negative sum.")
    return Verdict(False, "The bias is added to the weighted sum; what must be added to reach 0?")


@register("2.4", "softmax of the scores [2, 1, -1].")
def _softmax(answer: object) -> Verdict:
    got = as_numbers(answer, (3,))
    if isinstance(got, Verdict):
        return got
    if close(got, softmax(SCORES), 1e-3):
        return Verdict(True, "Positive, in the scores' order, and they add up to 1.")
    if close(got, SCORES / SCORES.sum(), 1e-3):
        return Verdict(
            False, "That divides by the sum: a negative score stays negative. Exponentiate first."
        )
    if close(got, np.exp(SCORES), 1e-3):
        return Verdict(False, "Now divide each exponential by their sum.")
    if not close(got.sum(), 1.0, 1e-3):
        return Verdict(False, "Probabilities must add up to 1.")
    return Verdict(False, "exp(score) / sum of exp(all scores), one score at a time.")
