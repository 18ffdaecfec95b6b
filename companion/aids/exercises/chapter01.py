"""Exercises of chapter 1, Numbers in, numbers out."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register
from companion.models.network import (
    LEAF,
    SUNFLOWER,
    Network,
    forward,
    leaf_flower_network,
)

#: The red rose of exercises 1.1 and 1.2: R 200, G 30, B 50, volume 8 (the chapter never
#: computes it, so its numbers are not printed anywhere before the exercises).
ROSE = np.array([200.0, 30.0, 50.0, 8.0])
#: Two afternoons for exercise 1.3: humidity %, cloud cover %, pressure drop (hPa), wind km/h.
MUGGY_AFTERNOON = np.array([90.0, 95.0, 8.0, 30.0])
CLEAR_AFTERNOON = np.array([30.0, 5.0, 0.0, 10.0])
WEATHER_LABELS = ("rain in an hour", "sunny in an hour")


@register("1.1", "The rose's first hidden neuron (one number).")
def _rose_hidden_one(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    W1 = leaf_flower_network().W1
    hidden = W1 @ ROSE
    if close(got, hidden[0], 0.05):
        return Verdict(True, f"Hidden neuron 1 of the rose is {hidden[0]:.2f}.")
    for k in (1, 2):
        if close(got, hidden[k], 0.05):
            return Verdict(
                False, f"That is hidden neuron {k + 1}; use the first row of W1, net.W1[0]."
            )
    if close(got, LEAF @ W1[0], 0.05):
        return Verdict(False, "That is the leaf's hidden neuron 1: use the rose's numbers.")
    if close(got, ROSE[:3] @ W1[0, :3], 0.05):
        return Verdict(False, "You left out the volume: 8 x 0.46 belongs to the sum too.")
    if close(got, ROSE @ np.abs(W1[0]), 0.05):
        return Verdict(False, "Check the signs: 30 x (-0.29) and 50 x (-0.07) are negative.")
    return Verdict(
        False, "Multiply R, G, B and volume by 0.10, -0.29, -0.07 and 0.46, then add the four."
    )


@register("1.2", "The rose's two outputs (leaf, flower).")
def _rose_outputs(answer: object) -> Verdict:
    got = as_numbers(answer, (2,))
    if isinstance(got, Verdict):
        return got
    net = leaf_flower_network()
    outputs = forward(ROSE, net).outputs
    if close(got, outputs, 0.05):
        return Verdict(
            True, f"The outputs are {outputs[0]:.2f} and {outputs[1]:.2f}: the network says flower."
        )
    if close(got[::-1], outputs, 0.05):
        return Verdict(False, "The right numbers in the wrong order: output 1 is 'leaf'.")
    for name, x in (("leaf", LEAF), ("sunflower", SUNFLOWER)):
        if close(got, forward(x, net).outputs, 0.05):
            return Verdict(False, f"Those are the {name}'s outputs: use the rose's numbers.")
    if close(got, net.W2 @ np.maximum(net.W1 @ ROSE, 0), 0.05):
        return Verdict(False, "No ReLU yet: chapter 1's network keeps negative hidden values.")
    return Verdict(
        False,
        "First the three hidden neurons (net.W1 @ rose), then each output is a row of net.W2 "
        "times the hidden neurons, added up.",
    )


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
    muggy = forward(MUGGY_AFTERNOON, net).outputs
    clear = forward(CLEAR_AFTERNOON, net).outputs
    if muggy[0] > muggy[1] and clear[1] > clear[0]:
        return Verdict(True, "Same network, new meaning: the numbers are ours to read.")
    if not np.any(W1) or not np.any(W2):
        return Verdict(
            False,
            "Every output is 0, a tie. Step 1 of the method: W1[0, 1] = 1 copies the cloud "
            "cover into hidden neuron 1, and W2[0, 0] = 1 copies it into output 1 (rain).",
        )
    where = []
    if not muggy[0] > muggy[1]:
        where.append(f"the muggy afternoon gets rain {muggy[0]:.3g}, sun {muggy[1]:.3g}")
    if not clear[1] > clear[0]:
        where.append(f"the clear afternoon gets rain {clear[0]:.3g}, sun {clear[1]:.3g}")
    return Verdict(
        False,
        "Your network is wrong where " + " and ".join(where) + ". Output 1 (rain) should "
        "follow the cloud cover (95 and 5); output 2 (sun) needs a number below 95 on the "
        "muggy afternoon and above 5 on the clear one, such as half the humidity.",
    )
