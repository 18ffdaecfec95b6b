"""Exercises of chapter 1, Numbers in, numbers out."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register
from companion.models.network import (
    LEAF,
    SUNFLOWER,
    Network,
    forward,
    interpret,
    leaf_flower_network,
)

#: Two afternoons for exercise 1.3: humidity %, cloud cover %, pressure drop (hPa), wind km/h.
MUGGY_AFTERNOON = np.array([90.0, 95.0, 8.0, 30.0])
CLEAR_AFTERNOON = np.array([30.0, 5.0, 0.0, 10.0])
WEATHER_LABELS = ("rain in an hour", "sunny in an hour")


@register("1.1", "The value of hidden neuron 3 for the leaf (one number).")
def _hidden_three(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    hidden = forward(LEAF).hidden
    if close(got, hidden[2], 0.05):
        return Verdict(True, f"Hidden neuron 3 is {hidden[2]:.2f}.")
    for k in (0, 1):
        if close(got, hidden[k], 0.05):
            return Verdict(False, f"That is hidden neuron {k + 1}; use the third row of W1.")
    W1 = leaf_flower_network().W1
    partial = LEAF[:2] @ W1[2, :2]
    if close(got, partial, 0.05):
        return Verdict(False, "You used R and G only: B and volume have weights too.")
    return Verdict(False, "Multiply each input by the weight on its line into neuron 3, then add.")


@register("1.2", "The two output numbers for the sunflower (leaf, flower).")
def _sunflower_outputs(answer: object) -> Verdict:
    got = as_numbers(answer, (2,))
    if isinstance(got, Verdict):
        return got
    outputs = forward(SUNFLOWER).outputs
    if close(got, outputs, 0.05):
        return Verdict(True, f"The outputs are {outputs[0]:.2f} and {outputs[1]:.2f}: a flower.")
    if close(got[::-1], outputs, 0.05):
        return Verdict(False, "The right numbers in the wrong order: output 1 is 'leaf'.")
    return Verdict(False, "First compute the three hidden neurons, then feed them to the outputs.")


@register("1.3", "Weights (W1, W2) that read the muggy afternoon as rain and the clear one as sun.")
def _weather(answer: object) -> Verdict:
    if not isinstance(answer, tuple | list) or len(answer) != 2:
        return Verdict(
            False, "Answer with a pair (W1, W2): W1 of shape [3, 4] and W2 of shape [2, 3]."
        )
    W1 = as_numbers(answer[0], (3, 4))
    if isinstance(W1, Verdict):
        return Verdict(False, "W1: " + W1.message)
    W2 = as_numbers(answer[1], (2, 3))
    if isinstance(W2, Verdict):
        return Verdict(False, "W2: " + W2.message)
    net = Network(W1=W1, W2=W2)
    muggy = interpret(forward(MUGGY_AFTERNOON, net).outputs, WEATHER_LABELS)
    clear = interpret(forward(CLEAR_AFTERNOON, net).outputs, WEATHER_LABELS)
    if muggy == "rain in an hour" and clear == "sunny in an hour":
        return Verdict(True, "Same network shape, new meaning: the numbers are ours to read.")
    return Verdict(
        False,
        f"Your network says '{muggy}' for the muggy afternoon and '{clear}' for the clear one. "
        "Try a hidden neuron that grows with humidity and cloud cover, and a large weight "
        "from it to output 1 (rain).",
    )
