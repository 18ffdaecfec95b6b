"""Exercises of chapter 4, Gradients from formulas."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register
from companion.models.network import LEAF, forward, leaf_flower_network

#: Exercise 4.2: a weight w on the line from input x into a hidden neuron z (ReLU, z > 0),
#: which feeds two outputs through the weights v; d loss / d output for each output.
CHAIN_X = 3.0
CHAIN_W = 0.5
CHAIN_Z = 2.0
CHAIN_V = np.array([0.4, -0.5])
CHAIN_DLOSS_DOUT = np.array([1.5, 0.2])

#: Exercise 4.3: the factor by which each layer multiplies the gradient, and the layers.
FACTOR = 0.9
N_LAYERS = 30

#: Exercise 4.4: a last layer's hidden neurons (after ReLU) and d loss / d output.
OUTER_H = np.array([2.0, 0.0, 3.0])
OUTER_DY = np.array([0.5, 1.5])


@register("4.1", "d (flower output) / d W2[1, 2] for the leaf, in chapter 1's network.")
def _single_weight(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    net = leaf_flower_network()
    hidden_3 = forward(LEAF, net).hidden[2]
    if close(got, hidden_3, 0.01):
        return Verdict(
            True,
            f"Hidden neuron 3 = {hidden_3:.2f} < 0: lower the weight to raise the flower output.",
        )
    if close(got, -hidden_3, 0.01):
        return Verdict(False, "Right size, wrong sign: the neuron's value is negative.")
    if close(got, net.W2[1, 2], 0.001):
        return Verdict(
            False, "That is the weight itself; its derivative is the value it multiplies."
        )
    if close(got, 0.0, 1e-9):
        return Verdict(
            False, "Chapter 1's network has no ReLU: hidden neuron 3 keeps its negative value."
        )
    if close(got, forward(LEAF, net).outputs[1], 0.01):
        return Verdict(False, "That is the flower output; how much does it move per unit of w?")
    return Verdict(False, "The output is w times hidden neuron 3 plus terms without w.")


@register("4.2", "d loss / d w by the chain rule, for the numbers of exercise 4.2.")
def _chain_rule(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    dloss_dz = float(CHAIN_DLOSS_DOUT @ CHAIN_V)  # both paths, ReLU's slope is 1 (z > 0)
    right = dloss_dz * CHAIN_X
    if close(got, right, 1e-3):
        return Verdict(
            True, f"d loss / d z = {dloss_dz:.2f} (both paths added), times x = {CHAIN_X:g}."
        )
    paths = CHAIN_DLOSS_DOUT * CHAIN_V * CHAIN_X
    for k in (0, 1):
        if close(got, paths[k], 1e-3):
            return Verdict(
                False,
                f"That is the path through output {k + 1} only: z feeds both outputs, "
                "add both paths.",
            )
    if close(got, dloss_dz, 1e-3):
        return Verdict(False, "That is d loss / d z; one more link: d z / d w = x.")
    if close(got, dloss_dz * CHAIN_W, 1e-3):
        return Verdict(False, "d z / d w is the input x on w's line, not w itself.")
    if close(got, 0.0, 1e-9):
        return Verdict(False, "z is positive, so ReLU passes the gradient (its slope is 1).")
    if close(got, -right, 1e-3):
        return Verdict(False, "Right size, wrong sign: check the sign of each product.")
    return Verdict(
        False, "Multiply along each path (d loss / d output x weight), add the paths, times x."
    )


@register("4.3", "The fraction of the gradient's size left after 30 layers of factor 0.9.")
def _vanishing(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    right = FACTOR**N_LAYERS
    if abs(got - right) <= 0.01 * right:
        return Verdict(
            True, f"Only {right:.3f} (about {right:.0%}) is left: the gradient vanishes."
        )
    if abs(got - FACTOR ** (N_LAYERS - 1)) <= 0.01 * right:
        return Verdict(False, "Count again: 30 layers are 30 multiplications by 0.9.")
    if close(got, FACTOR * N_LAYERS, 1e-6):
        return Verdict(False, "The factors multiply, 0.9 x 0.9 x ...: a power, not a product.")
    if close(got, 1 - (1 - FACTOR) * N_LAYERS, 1e-6):
        return Verdict(False, "Each layer keeps 90 % of what is left, not of the first size.")
    if got > 1:
        return Verdict(False, "A factor below 1 at every layer can only shrink the gradient.")
    return Verdict(False, "Multiply 1 by 0.9 once per layer.")


@register("4.4", "dW2 = np.outer(dy, h) for h = (2, 0, 3) and dy = (0.5, 1.5): 2 rows, 3 columns.")
def _outer(answer: object) -> Verdict:
    right = np.outer(OUTER_DY, OUTER_H)  # [2, 3]: row k, column j is dy[k] * h[j]
    turned = as_numbers(answer, (3, 2))
    if not isinstance(turned, Verdict) and close(turned, right.T, 1e-3):
        return Verdict(
            False,
            "Turned on its side: W2 has one row per output (2) and one column per hidden "
            "neuron (3), so dW2 = np.outer(dy, h), dy first.",
        )
    got = as_numbers(answer, (2, 3))
    if isinstance(got, Verdict):
        return got
    if close(got, right, 1e-3):
        return Verdict(
            True,
            "Column 1 is 0: hidden neuron 2 is 0, so the weights leaving it stay put.",
        )
    if close(got, -right, 1e-3):
        return Verdict(
            False,
            "Right size, wrong sign: dW2[k, j] = dy[k] x h[j]; the minus belongs to the "
            "gradient-descent step, not to the gradient.",
        )
    if close(got, right[::-1], 1e-3):
        return Verdict(False, "The rows are swapped: row 0 belongs to output 1, whose rate is 0.5.")
    if close(np.delete(got, 1, axis=1), np.delete(right, 1, axis=1), 1e-3):
        return Verdict(
            False,
            "Look at column 1: hidden neuron 2 is 0, so every weight leaving it multiplies 0 "
            "and its gradient is 0.",
        )
    return Verdict(
        False, "Row k, column j is dy[k] x h[j]: row 0, column 2, for example, is 0.5 x 3 = 1.5."
    )
