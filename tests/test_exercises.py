"""The exercise checkers: right answers pass, wrong ones get a hint, nothing crashes.

The answers of chapters 1 and 2 are written here; those of chapters 3 to 16 in each
chapter's test file (``RIGHT``, ``WRONG_WITH_HINT`` and ``MORE_BAD_KINDS``), where they sit next to
the tests that derive them from the companion. Every checker is judged here, on all of them,
with the same rules: a right answer passes, a typical wrong one gets its specific hint, an
answer of the wrong kind gets a hint and never a crash; and no complex numbers, no iterators,
clear errors for a bad label.
"""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest

from companion import (
    LEAF,
    SUNFLOWER,
    Network,
    check,
    collapse,
    forward,
    leaf_flower_network,
    softmax,
)
from companion.aids.exercises import exercises
from companion.aids.exercises.chapter01 import CLEAR_AFTERNOON, MUGGY_AFTERNOON, ROSE

NET = leaf_flower_network()

RIGHT = {
    "1.1": 200 * 0.10 + 30 * -0.29 + 50 * -0.07 + 8 * 0.46,  # the rose, by hand: 11.48
    "1.2": NET.W2 @ (NET.W1 @ ROSE),
    "1.3": (  # the chapter's method: rain = cloud cover, sun = half the humidity
        np.array([[0, 1.0, 0, 0], [1.0, 0, 0, 0], [0, 0, 0, 0]]),
        np.array([[1.0, 0, 0], [0, 0.5, 0]]),
    ),
    "2.1": np.maximum(NET.W1 @ SUNFLOWER, 0),
    "2.2": -0.29 * -0.17 + -0.05 * 0.39 + -0.21 * 0.1,
    "2.3": -float(LEAF @ NET.W1[0]),
    "2.4": softmax(np.array([2.0, 1.0, -1.0])),
}

# Wrong answers that each exercise recognises, with a word its hint must contain.
WRONG_WITH_HINT = [
    ("1.1", float(NET.W1[1] @ ROSE), "hidden neuron 2"),
    ("1.1", -26.598, "the leaf's"),
    ("1.1", 20 - 8.7 - 3.5, "volume"),
    ("1.1", 20 + 8.7 + 3.5 + 3.68, "signs"),
    ("1.1", 1.0, "0.10, -0.29, -0.07 and 0.46"),
    ("1.2", (NET.W2 @ (NET.W1 @ ROSE))[::-1], "wrong order"),
    ("1.2", NET.W2 @ (NET.W1 @ SUNFLOWER), "sunflower's outputs"),
    ("1.2", NET.W2 @ np.maximum(NET.W1 @ ROSE, 0), "No ReLU"),
    ("1.2", NET.W1 @ ROSE, "shape [2]"),
    ("1.3", (np.zeros((3, 4)), np.zeros((2, 3))), "W1[0, 1] = 1"),
    ("1.3", (np.zeros((4, 3)), np.zeros((2, 3))), "W1"),
    ("1.3", (np.eye(3, 4), np.eye(2, 3)), "clear afternoon gets rain 30, sun 5"),
    ("2.1", NET.W1 @ SUNFLOWER, "before ReLU"),
    ("2.2", collapse(NET)[0][0, 0], "R weight"),
    ("2.3", float(LEAF @ NET.W1[0]), "wrong sign"),
    ("2.4", np.array([2.0, 1.0, -1.0]) / 2.0, "divides by the sum"),
]

# Answers of the wrong kind: every checker must say so without raising.
BAD_KINDS = ["abc", None, [1, 2, 3, 4, 5], {"a": 1}, [[1, 2], [3]], float("nan"), Ellipsis, ()]


#: Each chapter's test file, from chapter 3 on, with its answers.
CHAPTER_TESTS = {n: importlib.import_module(f"test_chapter{n:02d}") for n in range(3, 17)}

EVERY_RIGHT = RIGHT | {
    label: answer for tests in CHAPTER_TESTS.values() for label, answer in tests.RIGHT.items()
}
EVERY_WRONG = WRONG_WITH_HINT + [
    wrong for tests in CHAPTER_TESTS.values() for wrong in tests.WRONG_WITH_HINT
]
EVERY_BAD = [(label, bad) for label in sorted(RIGHT) for bad in BAD_KINDS] + [
    (label, bad)
    for tests in CHAPTER_TESTS.values()
    for label in sorted(tests.RIGHT)
    for bad in [*BAD_KINDS, *getattr(tests, "MORE_BAD_KINDS", [])]
]


def _chapter(label: str) -> int:
    return int(label.split(".")[0])


@pytest.mark.parametrize("chapter", range(1, 17))
def test_every_exercise_of_each_chapter_has_a_right_answer_in_its_tests(chapter):
    tests = CHAPTER_TESTS[chapter].RIGHT if chapter >= 3 else {}
    here = {label for label in RIGHT if _chapter(label) == chapter}
    assert set(tests) | here == {label for label in exercises() if _chapter(label) == chapter}
    assert all(_chapter(label) == chapter for label in tests)


@pytest.mark.parametrize("label", sorted(EVERY_RIGHT))
def test_right_answers_pass(label):
    result = check(label, EVERY_RIGHT[label])
    assert result.right is True and bool(result)
    assert str(result).startswith(f"Exercise {label}: Right!")


@pytest.mark.parametrize(("label", "answer", "hint"), EVERY_WRONG)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result
    assert "Not yet." in str(result) and hint in str(result), str(result)


@pytest.mark.parametrize(
    ("label", "answer"),
    EVERY_BAD,
    ids=[f"{label}-{type(a).__name__}{repr(a)[:12]}" for label, a in EVERY_BAD],
)
def test_wrong_types_and_shapes_never_crash(label, answer):
    result = check(label, answer)
    assert result.right is False
    assert "Could not read" not in str(result)  # a hint, not a caught crash
    assert len(str(result)) > len(f"Exercise {label}: Not yet. ")


def test_lists_are_accepted_like_arrays():
    assert check("1.2", list(RIGHT["1.2"]))
    assert check("2.4", RIGHT["2.4"].tolist())


def test_an_unknown_label_is_not_yet_and_names_the_labels_of_its_chapter():
    result = check("1.9", 1.0)
    assert not result and str(result).startswith("Exercise 1.9: Not yet.")
    assert "chapter 1's are 1.1, 1.2, 1.3" in str(result)
    other = str(check("99.1", 1.0))
    assert "no exercise '99.1'" in other and '"1.1"' in other and "chapters 1 to 16" in other
    assert "chapter 1's are" in str(check("1.", 1.0))


def test_exercise_1_3_really_runs_the_network():
    W1, W2 = RIGHT["1.3"]
    swapped = (W1, W2[::-1])
    assert not check("1.3", swapped)
    net = Network(W1=W1, W2=W2)
    assert forward(MUGGY_AFTERNOON, net).outputs.argmax() == 0
    assert forward(CLEAR_AFTERNOON, net).outputs.argmax() == 1


# -- rules for every exercise ----------------------------------------------------------------


def _complex(answer):
    """The same answer with every number made complex (imaginary part 0); text unchanged."""
    if isinstance(answer, np.ndarray):
        return answer.astype(np.complex128)
    if isinstance(answer, list | tuple):
        items = [_complex(a) for a in answer]
        unchanged = all(new is old for new, old in zip(items, answer, strict=True))
        return answer if unchanged else type(answer)(items)
    if isinstance(answer, int | float | np.number):
        return complex(answer)
    return answer


FIRST_SEVEN = {label: a for label, a in EVERY_RIGHT.items() if _chapter(label) <= 7}
WITH_NUMBERS = sorted(label for label, a in FIRST_SEVEN.items() if _complex(a) is not a)


def test_the_complex_twins_cover_every_exercise_with_numbers():
    assert set(FIRST_SEVEN) - set(WITH_NUMBERS) == {"5.2", "7.4"}  # answers made of text


@pytest.mark.parametrize("label", WITH_NUMBERS)
@pytest.mark.parametrize("kind", ["python", "numpy"])
def test_a_complex_answer_is_refused_even_when_its_real_part_is_right(label, kind):
    answer = _complex(FIRST_SEVEN[label])
    if kind == "numpy":  # NumPy would drop the imaginary part without a word
        answer = np.asarray(answer) if not isinstance(answer, tuple) else answer
        if isinstance(answer, complex):
            answer = np.complex128(answer)
    result = check(label, answer)
    assert result.right is False
    assert "Complex numbers are not expected" in str(result), str(result)


def test_complex_numbers_are_refused_whatever_their_imaginary_part():
    hidden_3 = float(LEAF @ NET.W1[2])
    for answer in (complex(hidden_3, 0), complex(hidden_3, 5), -26.6 + 0j, [hidden_3 + 0j]):
        assert "Complex numbers are not expected" in str(check("1.1", answer))
    pair = ("l", 1j)  # exercise 5.3: a character and a complex "probability"
    assert "Complex numbers are not expected" in str(check("5.3", pair))


class CountingIterator:
    """An endless iterator that counts the items taken from it, and stops a runaway reader."""

    def __init__(self, limit=1000):
        self.taken = 0
        self.limit = limit
        self.numbers = itertools.count()

    def __iter__(self):
        return self

    def __next__(self):
        if self.taken >= self.limit:  # a checker that reads everything would hang here
            raise StopIteration
        self.taken += 1
        return next(self.numbers)


@pytest.mark.parametrize("label", sorted(exercises()))  # of every chapter
def test_an_endless_iterator_is_refused_without_reading_it(label):
    endless = CountingIterator()
    result = check(label, endless)
    assert result.right is False
    assert "iterator" in str(result) and "list(...)" in str(result), str(result)
    assert endless.taken == 0
    assert not check(label, itertools.count())  # the real thing: returns at once


@pytest.mark.parametrize("label", ["1.2", "2.4", "5.1", "7.2"])
def test_a_finite_iterator_of_the_right_answer_is_refused_and_its_list_passes(label):
    right = list(EVERY_RIGHT[label])
    for answer in (iter(right), (x for x in right), map(lambda x: x, right)):
        result = check(label, answer)
        assert not result and "iterator" in str(result)
    assert check(label, list(iter(right)))


@pytest.mark.parametrize("answer", [range(10**7), range(10**20), np.zeros(200_001), [0] * 10**6])
def test_answers_with_too_many_items_are_refused_before_reading(answer):
    for label in ("1.2", "7.2"):
        result = check(label, answer)
        assert not result and "more than 100,000 items" in str(result)


@pytest.mark.parametrize("label", [["1.1"], {"1.1"}, {"1.1": 1}, 1.1, None, b"1.1", 11])
def test_a_label_that_is_not_a_str_is_not_yet_and_says_to_quote_it(label):
    result = check(label, RIGHT["1.1"])  # even with the right answer to 1.1
    assert not result
    assert 'written as text in quotes, such as check("1.1", answer)' in str(result)
    assert f"got {label!r}, a {type(label).__name__}." in str(result)


def test_a_notebook_shows_the_sentence_in_lines_that_fit_the_page():
    from IPython.lib.pretty import pretty

    result = check("99.1", 1.0)  # a long sentence: the labels' explanation
    assert len(str(result)) > 79 and "\n" not in str(result)
    shown = pretty(result)
    assert max(map(len, shown.splitlines())) <= 79 and len(shown.splitlines()) > 1
    assert " ".join(shown.split()) == " ".join(str(result).split())  # the same words
