"""GELU, log-softmax and the losses: values by hand, gradients against nudging, bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from companion.activation import gelu, gelu_derivative
from companion.gradcheck import gradcheck
from companion.loss import CrossEntropyLoss, MSELoss, cross_entropy, mean_squared_error
from companion.softmax import log_softmax, softmax

# -- GELU ---------------------------------------------------------------------------------


def test_gelu_known_values_by_hand():
    c = math.sqrt(2 / math.pi)
    by_hand = [0.5 * z * (1 + math.tanh(c * (z + 0.044715 * z**3))) for z in (-3.0, 1.0, 2.0)]
    np.testing.assert_allclose(gelu(np.array([-3.0, 1.0, 2.0])), by_hand, rtol=1e-14)
    assert gelu(np.array([0.0])).tolist() == [0.0]
    assert round(float(gelu(np.array([1.0]))[0]), 4) == 0.8412


def test_gelu_is_close_to_the_exact_gelu_and_to_relu_far_from_zero():
    z = np.linspace(-6, 6, 241)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in z])
    assert np.max(np.abs(gelu(z) - exact)) < 1e-3
    far = np.array([-20.0, 20.0])
    np.testing.assert_allclose(gelu(far), [0.0, 20.0], atol=1e-12)


def test_gelu_derivative_matches_nudging():
    rng = np.random.default_rng(1)
    z = rng.normal(scale=2, size=(4, 6))
    w = rng.normal(size=z.shape)
    error = gradcheck(lambda: float(np.sum(w * gelu(z))), z, w * gelu_derivative(z))
    assert error <= 1e-6


def test_gelu_keeps_float32():
    z = np.array([-1.0, 0.5, 2.0], dtype=np.float32)
    assert gelu(z).dtype == np.float32
    assert gelu_derivative(z).dtype == np.float32


# -- log-softmax --------------------------------------------------------------------------


def test_log_softmax_is_the_log_of_softmax():
    z = np.random.default_rng(2).normal(scale=3, size=(5, 7))
    np.testing.assert_allclose(log_softmax(z), np.log(softmax(z)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)).sum(axis=-1), 1.0, rtol=1e-12)


def test_log_softmax_of_one_two_three_by_hand():
    log_sum = math.log(math.e + math.e**2 + math.e**3)
    expected = [1 - log_sum, 2 - log_sum, 3 - log_sum]
    np.testing.assert_allclose(log_softmax(np.array([1.0, 2.0, 3.0])), expected, rtol=1e-14)


def test_log_softmax_of_huge_logits_is_finite_and_right():
    # softmax([1000, -1000]) is [1, 0] in floating point: log would give -inf.
    assert log_softmax(np.array([1000.0, -1000.0])).tolist() == [0.0, -2000.0]
    assert log_softmax(np.array([1000.0, 1000.0])).tolist() == pytest.approx(
        [-math.log(2), -math.log(2)], rel=1e-15
    )
    out32 = log_softmax(np.array([1000.0, -1000.0], dtype=np.float32))
    assert out32.dtype == np.float32 and out32.tolist() == [0.0, -2000.0]


def test_log_softmax_along_axis_zero():
    z = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(log_softmax(z, axis=0), log_softmax(z.T).T, rtol=1e-14)


def test_log_softmax_gradient_matches_nudging():
    # d/dz sum(w * log_softmax(z)) = w - softmax(z) * sum(w), row by row.
    rng = np.random.default_rng(3)
    z = rng.normal(size=(3, 5))
    w = rng.normal(size=z.shape)
    analytic = w - softmax(z) * w.sum(axis=-1, keepdims=True)
    assert gradcheck(lambda: float(np.sum(w * log_softmax(z))), z, analytic) <= 1e-6


@pytest.mark.parametrize("function", [gelu, gelu_derivative, log_softmax])
@pytest.mark.parametrize(
    ("z", "error", "message"),
    [
        ([], ValueError, "z must not be empty; got shape (0,)"),
        ("1, 2", TypeError, "z must be numbers, not text"),
        ([1.0, float("nan")], ValueError, "z must be finite; got nan at index (1,)"),
        ([1.0, float("-inf")], ValueError, "z must be finite; got -inf at index (1,)"),
    ],
)
def test_functions_refuse_bad_z(function, z, error, message):
    with pytest.raises(error, match=re.escape(message)):
        function(z)


def test_log_softmax_refuses_a_bad_axis():
    with pytest.raises(ValueError, match=re.escape("axis must be an int in [-2, 2); got 2")):
        log_softmax(np.zeros((2, 3)), axis=2)


# -- mean squared error -------------------------------------------------------------------


def test_mean_squared_error_of_the_articles_example():
    # wanted 0.8 / 0.2, got 0.6 / 0.4: ((-0.2)**2 + 0.2**2) / 2 = 0.04
    assert mean_squared_error([0.6, 0.4], [0.8, 0.2]) == pytest.approx(0.04, rel=1e-12)
    assert MSELoss().forward([0.6, 0.4], [0.8, 0.2]) == pytest.approx(0.04, rel=1e-12)


def test_mse_backward_by_hand_and_against_nudging():
    loss = MSELoss()
    loss.forward(np.array([0.6, 0.4]), np.array([0.8, 0.2]))
    np.testing.assert_allclose(loss.backward(), [-0.2, 0.2], rtol=1e-12)  # 2 * diff / 2
    rng = np.random.default_rng(4)
    prediction, targets = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    loss.forward(prediction, targets)
    error = gradcheck(lambda: loss.forward(prediction, targets), prediction, loss.backward())
    assert error <= 1e-6


def test_mse_keeps_the_dtype_of_the_prediction():
    loss = MSELoss()
    loss(np.ones(3, dtype=np.float32), np.zeros(3))  # float64 targets
    assert loss.backward().dtype == np.float32


def test_mse_refuses_mismatched_shapes_and_backward_first():
    with pytest.raises(ValueError, match=re.escape("targets must have shape [2]; got shape (3,)")):
        mean_squared_error([0.6, 0.4], [0.8, 0.2, 0.0])
    with pytest.raises(ValueError, match=re.escape("prediction must be finite; got nan")):
        MSELoss().forward([float("nan")], [0.0])
    with pytest.raises(RuntimeError, match="needs a forward pass first"):
        MSELoss().backward()


# -- cross-entropy ------------------------------------------------------------------------


def test_cross_entropy_of_a_tiny_example_by_hand():
    # row 0: softmax([0, log 3]) = [1/4, 3/4], right class 1: -log(3/4)
    # row 1: softmax([log 2, log 2]) = [1/2, 1/2], right class 0: -log(1/2)
    logits = np.log([[1.0, 3.0], [2.0, 2.0]])
    by_hand = (math.log(4 / 3) + math.log(2)) / 2
    assert cross_entropy(logits, [1, 0]) == pytest.approx(by_hand, rel=1e-14)
    assert CrossEntropyLoss()(logits, [1, 0]) == pytest.approx(by_hand, rel=1e-14)


def test_cross_entropy_of_equal_logits_is_log_v():
    assert cross_entropy(np.zeros((4, 65)), [0, 1, 2, 64]) == pytest.approx(math.log(65))


def test_cross_entropy_backward_by_hand():
    loss = CrossEntropyLoss()
    loss.forward(np.log([[1.0, 3.0], [2.0, 2.0]]), [1, 0])
    expected = np.array([[0.25, 0.75 - 1], [0.5 - 1, 0.5]]) / 2  # (softmax - one_hot) / N
    np.testing.assert_allclose(loss.backward(), expected, rtol=1e-14, atol=1e-15)


def test_cross_entropy_of_huge_logits_is_finite_and_right():
    logits = np.array([[1000.0, -1000.0]])
    assert cross_entropy(logits, [0]) == 0.0
    assert cross_entropy(logits, [1]) == 2000.0  # log(p + eps) would cap this
    loss = CrossEntropyLoss()
    loss(logits.astype(np.float32), [1])
    np.testing.assert_array_equal(loss.backward(), [[1.0, -1.0]])


def _batch(seed=5, B=2, T=3, V=5):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=2, size=(B, T, V)), rng.integers(0, V, size=(B, T))


def test_cross_entropy_gradient_matches_nudging_on_b_t_v():
    logits, targets = _batch()
    loss = CrossEntropyLoss()
    loss.forward(logits, targets)
    dlogits = loss.backward()
    assert dlogits.shape == logits.shape
    assert gradcheck(lambda: loss.forward(logits, targets), logits, dlogits) <= 1e-6


@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_with_ignore_index_matches_nudging(ignore_index):
    logits, targets = _batch(6)
    targets[0, 1] = targets[1, 2] = ignore_index
    loss = CrossEntropyLoss(ignore_index=ignore_index)
    loss.forward(logits, targets)
    dlogits = loss.backward()
    assert np.all(dlogits[0, 1] == 0) and np.all(dlogits[1, 2] == 0)
    assert gradcheck(lambda: loss.forward(logits, targets), logits, dlogits) <= 1e-6


def test_ignored_positions_count_neither_in_loss_nor_in_mean():
    logits, targets = _batch(7)
    targets[1, :] = -100
    kept = cross_entropy(logits[0], targets[0])  # the first row alone, [T, V]
    assert cross_entropy(logits, targets, ignore_index=-100) == pytest.approx(kept, rel=1e-14)
    logits[1] += 50.0  # changing ignored positions changes nothing
    assert cross_entropy(logits, targets, ignore_index=-100) == pytest.approx(kept, rel=1e-14)


def test_cross_entropy_of_n_v_equals_b_t_v_flattened():
    logits, targets = _batch(8)
    flat = cross_entropy(logits.reshape(-1, 5), targets.reshape(-1))
    assert cross_entropy(logits, targets) == pytest.approx(flat, rel=1e-14)


def test_cross_entropy_when_every_target_is_ignored_is_an_error():
    logits, _ = _batch()
    message = "every target equals ignore_index (-100), so the mean would be 0 / 0"
    with pytest.raises(ValueError, match=re.escape(message)):
        cross_entropy(logits, np.full((2, 3), -100), ignore_index=-100)


@pytest.mark.parametrize(
    ("logits", "targets", "error", "message"),
    [
        (np.zeros(5), [1], ValueError, "logits must have shape [N, V] or [B, T, V]"),
        (np.zeros((1, 2, 3, 5)), [[1]], ValueError, "got shape (1, 2, 3, 5)"),
        (
            np.zeros((2, 3, 5)),
            np.ones((2, 4), int),
            ValueError,
            "targets must have shape [2, 3] (the shape of logits without its last axis); "
            "got shape (2, 4)",
        ),
        (
            np.zeros((2, 5)),
            [1.0, 2.0],
            TypeError,
            "targets must hold integer ids (an int array); got a list of 2 item(s) "
            "with dtype float64",
        ),
        (np.zeros((2, 5)), [True, False], TypeError, "targets must hold integer ids"),
        (np.zeros((2, 5)), "ab", TypeError, "targets must be integer ids, not text"),
        (np.zeros((2, 5)), [], ValueError, "targets must not be empty; got shape (0,)"),
        (
            np.zeros((2, 5)),
            [1, 5],
            ValueError,
            "targets must be ids in [0, 5); got 5 at index (1,)",
        ),
        (
            np.zeros((2, 5)),
            [-1, 0],
            ValueError,
            "targets must be ids in [0, 5); got -1 at index (0,)",
        ),
        ([[0.0, float("nan")]], [0], ValueError, "logits must be finite; got nan at index (0, 1)"),
    ],
)
def test_cross_entropy_refuses_bad_input(logits, targets, error, message):
    with pytest.raises(error, match=re.escape(message)):
        cross_entropy(logits, targets)
    with pytest.raises(error, match=re.escape(message)):
        CrossEntropyLoss().forward(logits, targets)


def test_cross_entropy_range_message_names_ignore_index():
    message = "targets must be ids in [0, 5) or -100; got -1 at index (1,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        cross_entropy(np.zeros((2, 5)), [-100, -1], ignore_index=-100)


@pytest.mark.parametrize("ignore_index", [1.5, "pad", True])
def test_ignore_index_must_be_an_int(ignore_index):
    with pytest.raises(TypeError, match=re.escape("ignore_index must be an int or None")):
        CrossEntropyLoss(ignore_index=ignore_index)
    with pytest.raises(TypeError, match=re.escape("ignore_index must be an int or None")):
        cross_entropy(np.zeros((1, 3)), [0], ignore_index=ignore_index)


def test_cross_entropy_backward_needs_forward_first():
    with pytest.raises(RuntimeError, match="CrossEntropyLoss.backward needs a forward pass first"):
        CrossEntropyLoss().backward()
