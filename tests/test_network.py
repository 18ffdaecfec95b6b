"""The leaf/flower network of chapters 1 to 3: the article's numbers worked by hand."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from companion import (
    LEAF,
    SUNFLOWER,
    Network,
    collapse,
    forward,
    interpret,
    leaf_flower_network,
    numerical_gradient,
)

NET = leaf_flower_network()


def test_first_hidden_neuron_of_the_leaf_is_the_articles_minus_26_6():
    """32 x 0.10 + 107 x (-0.29) + 56 x (-0.07) + 11.2 x 0.46 = -26.598, about -26.6."""
    by_hand = 32 * 0.10 + 107 * -0.29 + 56 * -0.07 + 11.2 * 0.46
    assert by_hand == pytest.approx(3.2 - 31.03 - 3.92 + 5.152) == pytest.approx(-26.598)
    assert forward(LEAF, NET).hidden[0] == pytest.approx(by_hand)


def test_second_hidden_neuron_of_the_leaf_is_the_articles_minus_47_1():
    """32 x 0.12 + 107 x (-0.05) + 56 x (-0.78) + 11.2 x (-0.17) = -47.094."""
    assert forward(LEAF, NET).hidden[1] == pytest.approx(3.84 - 5.35 - 43.68 - 1.904)


def test_the_leaf_output_by_hand_and_the_leaf_is_read_as_a_leaf():
    """Hidden [-26.598, -47.094, -20.662] times [-0.17, 0.39, 0.10] is -15.911: the larger."""
    # hidden 3: 32 x (-0.36) + 107 x (-0.21) + 56 x 0.15 + 11.2 x 0.44 = -20.662
    leaf_output = -0.17 * -26.598 + 0.39 * -47.094 + 0.10 * -20.662
    outputs = forward(LEAF, NET).outputs
    assert outputs[0] == pytest.approx(leaf_output) == pytest.approx(-15.9112)
    assert interpret(outputs) == "leaf"
    assert interpret(forward(SUNFLOWER, NET).outputs) == "flower"


def test_a_batch_gives_the_rows_one_at_a_time_would():
    """Both objects in one [2, 4] batch: the same outputs as two single passes."""
    batch = forward(np.stack([LEAF, SUNFLOWER]), NET)
    for row, x in enumerate((LEAF, SUNFLOWER)):
        np.testing.assert_allclose(batch.outputs[row], forward(x, NET).outputs, rtol=1e-14)
    assert interpret(batch.outputs) == ["leaf", "flower"]


def test_a_bias_of_a_quarter_moves_the_first_hidden_neuron_to_minus_26_35():
    """-26.598 + 0.25 = -26.348."""
    biased = dataclasses.replace(NET, b1=[0.25, 0.0, 0.0])
    assert forward(LEAF, biased).hidden[0] == pytest.approx(-26.348)


def test_relu_zeroes_the_negative_hidden_neurons():
    """All three hidden neurons of the leaf are negative: after ReLU they are 0."""
    result = forward(LEAF, dataclasses.replace(NET, activation="relu"))
    assert result.hidden.tolist() == [0.0, 0.0, 0.0]
    assert result.hidden_before_activation[0] == pytest.approx(-26.598)


def test_two_layers_without_activation_collapse_into_one():
    """W = W2 W1: the R weight of the leaf output is the sum over the hidden neurons."""
    W, b = collapse(NET)
    # -0.17 x 0.10 + 0.39 x 0.12 + 0.10 x (-0.36) = -0.017 + 0.0468 - 0.036 = -0.0062
    assert W[0, 0] == pytest.approx(-0.0062)
    for x in (LEAF, SUNFLOWER):
        np.testing.assert_allclose(W @ x + b, forward(x, NET).outputs, rtol=1e-12)


def test_a_network_with_relu_does_not_collapse():
    """ReLU between the layers is what makes two layers more than one."""
    with pytest.raises(ValueError, match=re.escape("net must have activation 'none'")):
        collapse(dataclasses.replace(NET, activation="relu"))


def test_the_articles_nudge_on_the_output_weights():
    """Chapter 3: nudging W2 for loss sum((out - [0.8, 0.2])^2) gives 2 (out - target) h^T."""
    W2 = NET.W2.copy()

    def loss() -> float:
        out = forward(LEAF, Network(W1=NET.W1, W2=W2)).outputs
        return float(np.sum((out - [0.8, 0.2]) ** 2))

    result = forward(LEAF, NET)
    by_formula = 2 * np.outer(result.outputs - [0.8, 0.2], result.hidden)
    np.testing.assert_allclose(numerical_gradient(loss, W2), by_formula, rtol=1e-6)


def test_the_parameter_count():
    """3 x 4 weights and 3 biases into the hidden layer, 2 x 3 and 2 into the outputs."""
    assert NET.n_parameters == 12 + 3 + 6 + 2


def test_three_numbers_for_four_inputs_are_refused_naming_the_inputs():
    """The message says what the four numbers mean."""
    message = "x must have shape [..., 4] (R, G, B, volume); got shape (3,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        forward([32, 107, 56], NET)


def test_weights_that_do_not_fit_together_are_refused():
    """W2 needs one column per hidden neuron of W1 (3), not 4."""
    message = "W2 must have shape [n_outputs, 3] (one column per hidden neuron of W1)"
    with pytest.raises(ValueError, match=re.escape(message)):
        Network(W1=np.zeros((3, 4)), W2=np.zeros((2, 4)))


def test_interpret_needs_one_output_per_label():
    """Three outputs cannot be read as leaf or flower."""
    message = "outputs must have shape [..., 2] (one number per label); got shape (3,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        interpret([1.0, 2.0, 3.0])
