"""ReLU, logistic and softmax: known values, properties and bad input (chapter 2)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from companion.activation import logistic, relu
from companion.softmax import softmax


def test_relu_known_values():
    assert relu([-26.6, -47.1, 0.0, 3.5]).tolist() == [0.0, 0.0, 0.0, 3.5]


def test_softmax_of_one_two_three_by_hand():
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(np.array([1.0, 2.0, 3.0])), e / e.sum())
    expected = [0.09003057, 0.24472847, 0.66524096]
    np.testing.assert_allclose(softmax(np.array([1.0, 2.0, 3.0])), expected, rtol=1e-7)


def test_softmax_is_positive_sums_to_one_and_keeps_order():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=10, size=(50, 7))
    p = softmax(z)
    assert np.all(p > 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(np.argsort(p, axis=-1), np.argsort(z, axis=-1))


def test_softmax_does_not_overflow():
    p = softmax(np.array([1000.0, 999.0, -1000.0]))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, softmax(np.array([1.0, 0.0, -1999.0])))


def test_softmax_along_another_axis():
    z = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(softmax(z, axis=0).sum(axis=0), 1.0)


def test_softmax_of_z_and_zero_is_logistic():
    z = np.linspace(-30, 30, 61)
    pairs = softmax(np.stack([z, np.zeros_like(z)], axis=1))
    np.testing.assert_allclose(pairs[:, 0], logistic(z), rtol=1e-12)


def test_logistic_known_values_and_no_overflow():
    np.testing.assert_allclose(logistic(np.array([0.0])), [0.5])
    np.testing.assert_allclose(logistic(np.array([2.0])), [1 / (1 + np.exp(-2.0))])
    big = logistic(np.array([-1000.0, 1000.0]))
    assert big.tolist() == [0.0, 1.0]


def test_float32_stays_float32():
    z = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    assert softmax(z).dtype == np.float32
    assert logistic(z).dtype == np.float32
    assert relu(z).dtype == np.float32


@pytest.mark.parametrize("function", [relu, logistic, softmax])
@pytest.mark.parametrize(
    ("z", "error", "message"),
    [
        ([], ValueError, "z must not be empty; got shape (0,)"),
        ("1, 2, 3", TypeError, "z must be numbers, not text"),
        (["1", "2"], TypeError, "z must hold numbers"),
        ([1.0, float("nan")], ValueError, "z must be finite; got nan at index (1,)"),
        ([[1.0, 2.0], [3.0]], TypeError, "z must be a rectangular array of numbers"),
    ],
)
def test_bad_input_names_the_argument(function, z, error, message):
    with pytest.raises(error, match=re.escape(message)):
        function(z)


def test_softmax_refuses_a_bad_axis():
    with pytest.raises(ValueError, match=re.escape("axis must be an int in [-1, 1); got 1")):
        softmax([1.0, 2.0], axis=1)
