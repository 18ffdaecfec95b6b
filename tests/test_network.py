"""Chapter 1 and 2 numbers, worked out by hand, and the network's bad-input messages."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from companion.network import (
    LEAF,
    SUNFLOWER,
    Network,
    collapse,
    forward,
    interpret,
    leaf_flower_network,
)

NET = leaf_flower_network()
W1, W2 = np.zeros((3, 4)), np.zeros((2, 3))


def test_first_hidden_neuron_of_the_leaf_is_the_articles_minus_26_6():
    by_hand = 32 * 0.10 + 107 * -0.29 + 56 * -0.07 + 11.2 * 0.46
    hidden = forward(LEAF, NET).hidden
    assert hidden[0] == pytest.approx(by_hand)
    assert round(float(hidden[0]), 1) == -26.6


def test_second_hidden_neuron_of_the_leaf_is_the_articles_minus_47_1():
    assert round(float(forward(LEAF, NET).hidden[1]), 1) == -47.1


def test_weights_the_article_gives_are_kept():
    np.testing.assert_array_equal(NET.W1[0], [0.10, -0.29, -0.07, 0.46])
    np.testing.assert_array_equal(NET.W1[1, :2], [0.12, -0.05])
    np.testing.assert_array_equal(NET.W1[2, :2], [-0.36, -0.21])
    np.testing.assert_array_equal(NET.W2[0], [-0.17, 0.39, 0.1])


def test_leaf_is_read_as_leaf_and_sunflower_as_flower():
    assert interpret(forward(LEAF, NET).outputs) == "leaf"
    assert interpret(forward(SUNFLOWER, NET).outputs) == "flower"
    batch = forward(np.stack([LEAF, SUNFLOWER]), NET).outputs
    assert interpret(batch) == ["leaf", "flower"]


def test_batch_forward_equals_one_at_a_time():
    batch = forward(np.stack([LEAF, SUNFLOWER]), NET)
    for row, x in enumerate((LEAF, SUNFLOWER)):
        np.testing.assert_allclose(batch.outputs[row], forward(x, NET).outputs)


def test_bias_of_a_quarter_gives_minus_26_35():
    biased = dataclasses.replace(NET, b1=[0.25, 0.0, 0.0])
    assert round(float(forward(LEAF, biased).hidden[0]), 2) == -26.35


def test_relu_zeroes_the_negative_hidden_neurons():
    relu_net = dataclasses.replace(NET, activation="relu")
    result = forward(LEAF, relu_net)
    assert result.hidden.tolist() == [0.0, 0.0, 0.0]
    assert result.hidden_before_activation[0] == pytest.approx(-26.598)


def test_collapse_gives_the_articles_r_weight_and_the_same_outputs():
    W, b = collapse(NET)
    assert W[0, 0] == pytest.approx(0.10 * -0.17 + 0.12 * 0.39 + -0.36 * 0.1)
    assert W[0, 1] == pytest.approx(-0.29 * -0.17 + -0.05 * 0.39 + -0.21 * 0.1)
    for x in (LEAF, SUNFLOWER):
        np.testing.assert_allclose(W @ x + b, forward(x, NET).outputs)


def test_collapse_refuses_a_network_with_relu():
    with pytest.raises(ValueError, match="activation 'none'"):
        collapse(dataclasses.replace(NET, activation="relu"))


def test_parameter_count():
    assert NET.n_parameters == 3 * 4 + 3 + 2 * 3 + 2


def test_float32_in_float32_out():
    x = LEAF.astype(np.float32)
    net32 = Network(W1=NET.W1.astype(np.float32), W2=NET.W2.astype(np.float32))
    assert forward(x, net32).outputs.dtype == np.float32


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (
            [32, 107, 56],
            ValueError,
            "x must have shape [4] or [batch, 4] (R, G, B, volume); got shape (3,)",
        ),
        (np.zeros((2, 3)), ValueError, "got shape (2, 3)"),
        (np.zeros((2, 2, 4)), ValueError, "got shape (2, 2, 4)"),
        ("leaf", TypeError, "x must be numbers, not text; got the string 'leaf'"),
        (["32", "107", "56", "11.2"], TypeError, "x must hold numbers"),
        ([32, 107, [56], 11.2], TypeError, "x must be a rectangular array of numbers"),
        ([32, 107, float("nan"), 11.2], ValueError, "x must be finite; got nan at index (2,)"),
        ([32, 107, 56, float("inf")], ValueError, "x must be finite; got inf at index (3,)"),
        ([], ValueError, "got shape (0,)"),
        (np.zeros((0, 4)), ValueError, "x must not be empty"),
        (None, TypeError, "x must hold numbers"),
        ([True, False, True, False], TypeError, "x must hold numbers"),
    ],
)
def test_forward_refuses_bad_x_with_a_message_naming_it(x, error, message):
    with pytest.raises(error, match=re.escape(message)):
        forward(x, NET)


def test_forward_refuses_something_that_is_not_a_network():
    with pytest.raises(TypeError, match="net must be a companion Network; got dict"):
        forward(LEAF, {"W1": NET.W1})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"W1": W1, "W2": np.zeros((2, 4))}, "W2 must have shape [any, 3]"),
        ({"W1": np.zeros(4), "W2": W2}, "W1 must have shape [n_hidden, n_inputs]"),
        ({"W1": W1, "W2": W2, "b1": [0.25]}, "b1 must have shape [3]"),
        ({"W1": W1, "W2": W2, "b2": np.zeros(3)}, "b2 must have shape [2]"),
        ({"W1": W1, "W2": W2, "activation": "tanh"}, "activation must be one of"),
        ({"W1": [["a"] * 4] * 3, "W2": W2}, "W1 must hold numbers"),
        ({"W1": W1, "W2": [[0.1, float("nan"), 0.2]] * 2}, "W2 must be finite"),
    ],
)
def test_network_refuses_mismatched_weights(fields, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        Network(**fields)


def test_interpret_checks_its_labels_and_outputs():
    with pytest.raises(ValueError, match=re.escape("outputs must have shape [2] or [batch, 2]")):
        interpret([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="labels must be a tuple of strings"):
        interpret([1.0, 2.0], labels=(1, 2))
    assert interpret([1.0, 2.0], labels=("sunny", "rain")) == "rain"
