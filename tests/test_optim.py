"""Optimisers, gradient clipping and the learning-rate schedule, worked by hand.

Each step is computed on a parameter of two numbers with the formula written out in the
test (or in a comment), never read back from the optimiser.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from companion import SGD, Adam, AdamW, Linear, clip_grad_norm, lr_schedule


def two(a: float, b: float, dtype: type = np.float64) -> dict[str, np.ndarray]:
    """A parameter (or gradient) of two numbers, named "w"."""
    return {"w": np.array([a, b], dtype=dtype)}


# -- one step by hand ---------------------------------------------------------------------


def test_sgd_step_by_hand():
    """p -= lr * g: [1, -2] - 0.1 * [0.5, 1] = [0.95, -2.1]."""
    params = two(1.0, -2.0)
    SGD(params, lr=0.1).step(two(0.5, 1.0))
    np.testing.assert_allclose(params["w"], [0.95, -2.1], rtol=1e-15)


def test_sgd_momentum_over_two_steps_by_hand():
    """b = mu b + g; p -= lr b: the second step carries 0.9 of the first gradient."""
    params = two(0.0, 1.0)
    opt = SGD(params, lr=0.1, momentum=0.9)
    opt.step(two(1.0, -1.0))  # b = [1, -1]; p = [0, 1] - 0.1 [1, -1] = [-0.1, 1.1]
    opt.step(two(2.0, 0.0))  # b = 0.9 [1, -1] + [2, 0] = [2.9, -0.9]; p -= 0.1 b
    np.testing.assert_allclose(params["w"], [-0.1 - 0.29, 1.1 + 0.09], rtol=1e-14)


def test_adam_first_step_by_hand():
    """m = 0.1 g, v = 0.001 g^2; corrected they are g and g^2: a step of lr * g / |g|."""
    params = two(1.0, -2.0)
    opt = Adam(params, lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    opt.step(two(0.5, -4.0))
    np.testing.assert_allclose(opt.m["w"], [0.05, -0.4], rtol=1e-14)  # (1 - 0.9) g
    np.testing.assert_allclose(opt.v["w"], [0.00025, 0.016], rtol=1e-14)  # (1 - 0.999) g^2
    # m_hat = m / (1 - 0.9) = [0.5, -4]; v_hat = v / (1 - 0.999) = [0.25, 16]
    step = [0.1 * 0.5 / (0.5 + 1e-8), 0.1 * -4.0 / (4.0 + 1e-8)]
    np.testing.assert_allclose(params["w"], [1.0 - step[0], -2.0 - step[1]], rtol=1e-14)
    np.testing.assert_allclose(params["w"], [0.9, -1.9], rtol=1e-7)  # lr each, whatever |g|


def test_adam_second_step_by_hand():
    """At t = 2 the bias corrections are 1 - 0.9^2 and 1 - 0.999^2."""
    params = two(0.0, 0.0)
    opt = Adam(params, lr=0.1)
    opt.step(two(2.0, 1.0))  # p = [-0.1, -0.1] (up to eps)
    opt.step(two(-1.0, 1.0))
    m = np.array([0.9 * 0.2 + 0.1 * -1.0, 0.9 * 0.1 + 0.1 * 1.0])  # [0.08, 0.19]
    v = np.array([0.999 * 0.004 + 0.001 * 1.0, 0.999 * 0.001 + 0.001 * 1.0])
    first = np.array([0.1 * 2 / (2 + 1e-8), 0.1 * 1 / (1 + 1e-8)])
    second = 0.1 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(params["w"], -first - second, rtol=1e-12)


def test_adamw_decays_the_parameters_by_lr_times_weight_decay():
    """With a zero gradient Adam does not move; AdamW still shrinks p by 1 - lr * wd."""
    params = two(1.0, -2.0)
    AdamW(params, lr=0.1, weight_decay=0.5).step(two(0.0, 0.0))
    np.testing.assert_allclose(params["w"], [0.95, -1.9], rtol=1e-15)  # p * (1 - 0.05)


def test_adamw_decay_is_decoupled_from_the_averages():
    """AdamW = Adam's step (from g alone) plus -lr * wd * p: not g + wd * p through Adam."""
    p0, g = np.array([1.5, -2.0]), np.array([0.1, -0.3])
    adam, adamw = {"w": p0.copy()}, {"w": p0.copy()}
    Adam(adam, lr=0.01).step({"w": g})
    AdamW(adamw, lr=0.01, weight_decay=0.1).step({"w": g})
    np.testing.assert_allclose(adam["w"] - adamw["w"], 0.01 * 0.1 * p0, rtol=1e-9)


def test_a_learning_rate_of_zero_changes_nothing():
    """A schedule may set lr to 0 (its end): no optimiser then moves the parameters."""
    for make in (lambda p: SGD(p, lr=0.1), lambda p: Adam(p, lr=0.1), lambda p: AdamW(p, lr=0.1)):
        params = two(1.0, 2.0)
        opt = make(params)
        opt.lr = 0.0
        opt.step(two(5.0, -5.0))
        assert params["w"].tolist() == [1.0, 2.0]


# -- the model's arrays, float32 ----------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1, momentum=0.9),
        lambda p: Adam(p, lr=0.1),
        lambda p: AdamW(p, lr=0.1),
    ],
    ids=["SGD", "Adam", "AdamW"],
)
def test_a_step_changes_the_models_own_float32_arrays(make):
    """The optimiser holds the layer's arrays: the layer sees the step; float32 stays float32."""
    layer = Linear(3, 2, rng=0)
    arrays = layer.parameters()
    before = {name: p.copy() for name, p in arrays.items()}
    opt = make(layer.parameters())
    opt.step({name: np.ones(p.shape) for name, p in arrays.items()})  # float64 gradients
    for name, p in layer.parameters().items():
        assert p is arrays[name] and p.dtype == np.float32
        assert np.all(p < before[name])  # every number stepped against its gradient


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1),
        lambda p: SGD(p, lr=0.02, momentum=0.9),
        lambda p: Adam(p, lr=0.05),
        lambda p: AdamW(p, lr=0.05, weight_decay=1e-4),
    ],
    ids=["SGD", "SGD-momentum", "Adam", "AdamW"],
)
def test_each_optimiser_finds_the_minimum_of_a_quadratic(make):
    """0.5 * sum(a (p - target)^2), curvatures 1 and 10: the gradient is a (p - target)."""
    a, target = np.array([1.0, 10.0]), np.array([3.0, -2.0])
    params = two(0.0, 0.0)
    opt = make(params)
    for _ in range(600):
        opt.step({"w": a * (params["w"] - target)})
    np.testing.assert_allclose(params["w"], target, atol=1e-2)


# -- clipping and the schedule ------------------------------------------------------------


def test_clip_grad_norm_scales_a_3_4_5_triangle_to_the_max_norm():
    """Gradients 3 and 4 have global norm 5; clipped to 1 they become 0.6 and 0.8."""
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert clip_grad_norm(grads, 1.0) == 5.0  # the norm before clipping
    np.testing.assert_allclose([grads["a"][0], grads["b"][0]], [0.6, 0.8], rtol=1e-15)


def test_clip_grad_norm_leaves_gradients_below_the_max_alone():
    """A norm of 5 under a maximum of 10 is not scaled."""
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    clip_grad_norm(grads, 10.0)
    assert grads["a"].tolist() == [3.0] and grads["b"].tolist() == [4.0]


def test_lr_schedule_warm_up_peak_cosine_and_floor_by_hand():
    """max 1, min 0.1, 4 warm-up steps, 12 in all: 0.25, 0.5, 0.75, 1, 1 ... 0.55 ... 0.1."""
    lr = [lr_schedule(step, 1.0, warmup_steps=4, total_steps=12, min_lr=0.1) for step in range(16)]
    assert lr[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])  # (step + 1) / 4
    assert lr[4] == pytest.approx(1.0)  # the cosine starts at the peak
    # step 6 is a quarter of the way from 4 to 12: 0.1 + 0.45 (1 + cos(pi / 4)) = 0.8682
    assert lr[6] == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi / 4)))
    # step 8 is half-way: 0.1 + 0.45 (1 + cos(pi / 2)) = 0.55 = (max + min) / 2
    assert lr[8] == pytest.approx(0.55)
    assert lr[12:] == pytest.approx([0.1] * 4)  # the floor, then it stays there


# -- what an optimiser refuses ------------------------------------------------------------


def test_a_learning_rate_that_overflows_float32_is_refused():
    """lr = 1e300 times a float32 gradient is infinity: the parameters would become inf."""
    message = "lr must be a finite number >= 0 and <= 3.40282e+38; got 1e+300"
    with pytest.raises(ValueError, match=re.escape(message)):
        Adam(two(1.0, 2.0, dtype=np.float32), lr=1e300)
    Adam(two(1.0, 2.0), lr=1e300)  # float64 parameters hold it


def test_a_step_needs_a_gradient_for_every_parameter():
    """The gradients come by the parameters' names; a missing one is named."""
    opt = SGD({"w": np.ones(2), "b": np.ones(1)}, lr=0.1)
    with pytest.raises(KeyError, match=re.escape("missing ['b']")):
        opt.step({"w": np.ones(2)})
