"""The exercise checkers: right answers pass, wrong ones get a hint, nothing crashes."""

from __future__ import annotations

import numpy as np
import pytest

from companion.exercises import check, exercises
from companion.exercises.chapter01 import CLEAR_AFTERNOON, MUGGY_AFTERNOON
from companion.network import LEAF, SUNFLOWER, collapse, forward, leaf_flower_network
from companion.softmax import softmax

NET = leaf_flower_network()

RIGHT = {
    "1.1": float(LEAF @ NET.W1[2]),
    "1.2": NET.W2 @ (NET.W1 @ SUNFLOWER),
    "1.3": (
        np.array([[0.01, 0.02, 0, 0], [0.01, 0, 0, 0], [0, 0, 0, 0]]),
        np.array([[1.0, 0, 0], [-1.0, 4.0, 0]]),
    ),
    "2.1": np.maximum(NET.W1 @ SUNFLOWER, 0),
    "2.2": -0.29 * -0.17 + -0.05 * 0.39 + -0.21 * 0.1,
    "2.3": -float(LEAF @ NET.W1[0]),
    "2.4": softmax(np.array([2.0, 1.0, -1.0])),
}

# Wrong answers that each exercise recognises, with a word its hint must contain.
WRONG_WITH_HINT = [
    ("1.1", -26.598, "hidden neuron 1"),
    ("1.1", float(LEAF[:2] @ NET.W1[2, :2]), "B and volume"),
    ("1.2", (NET.W2 @ (NET.W1 @ SUNFLOWER))[::-1], "wrong order"),
    ("1.3", (np.zeros((3, 4)), np.zeros((2, 3))), "humidity"),
    ("1.3", (np.zeros((4, 3)), np.zeros((2, 3))), "W1"),
    ("2.1", NET.W1 @ SUNFLOWER, "before ReLU"),
    ("2.2", collapse(NET)[0][0, 0], "R weight"),
    ("2.3", float(LEAF @ NET.W1[0]), "wrong sign"),
    ("2.4", np.array([2.0, 1.0, -1.0]) / 2.0, "divides by the sum"),
]

# Answers of the wrong kind: every checker must say so without raising.
BAD_KINDS = ["abc", None, [1, 2, 3, 4, 5], {"a": 1}, [[1, 2], [3]], float("nan"), Ellipsis, ()]


def test_every_exercise_of_part_one_has_a_right_answer_here():
    assert set(RIGHT) == {label for label in exercises() if label.split(".")[0] in ("1", "2")}


@pytest.mark.parametrize("label", sorted(RIGHT))
def test_right_answers_pass(label):
    result = check(label, RIGHT[label])
    assert result.right is True and bool(result)
    assert repr(result).startswith(f"Exercise {label}: Right!")


@pytest.mark.parametrize(("label", "answer", "hint"), WRONG_WITH_HINT)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result
    assert "Not yet." in str(result) and hint in str(result)


@pytest.mark.parametrize("label", sorted(RIGHT))
@pytest.mark.parametrize("answer", BAD_KINDS, ids=lambda a: type(a).__name__ + repr(a)[:12])
def test_wrong_types_and_shapes_never_crash(label, answer):
    assert check(label, answer).right is False


def test_lists_are_accepted_like_arrays():
    assert check("1.2", list(RIGHT["1.2"]))
    assert check("2.4", RIGHT["2.4"].tolist())


def test_unknown_label_lists_the_labels():
    with pytest.raises(KeyError, match="1.1"):
        check("9.9", 1.0)


def test_exercise_1_3_really_runs_the_network():
    W1, W2 = RIGHT["1.3"]
    swapped = (W1, W2[::-1])
    assert not check("1.3", swapped)
    from companion.network import Network

    net = Network(W1=W1, W2=W2)
    assert forward(MUGGY_AFTERNOON, net).outputs.argmax() == 0
    assert forward(CLEAR_AFTERNOON, net).outputs.argmax() == 1
