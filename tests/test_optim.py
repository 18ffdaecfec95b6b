"""Optimisers, gradient clipping and the learning-rate schedule, checked by hand."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from companion.attention import SelfAttention
from companion.optim import SGD, Adam, AdamW, clip_grad_norm, lr_schedule


def one(value):
    return {"w": np.array(value, dtype=np.float64)}


# -- steps worked out by hand -------------------------------------------------------------


def test_sgd_step_by_hand():
    params = one([1.0, -2.0])
    SGD(params, lr=0.1).step(one([0.5, 1.0]))
    np.testing.assert_allclose(params["w"], [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 1.0])


def test_sgd_momentum_over_two_steps_by_hand():
    params = one([0.0])
    opt = SGD(params, lr=0.1, momentum=0.9)
    opt.step(one([1.0]))  # velocity 1.0, w = 0 - 0.1 * 1.0
    np.testing.assert_allclose(params["w"], [-0.1])
    opt.step(one([2.0]))  # velocity 0.9 * 1.0 + 2.0 = 2.9, w = -0.1 - 0.29
    np.testing.assert_allclose(params["w"], [-0.39])
    np.testing.assert_allclose(opt.velocity["w"], [2.9])


def test_adams_first_step_moves_every_parameter_by_about_lr():
    # Gradients from 1e-3 to 300: the first step is lr * g / |g| whatever their size.
    g = np.array([1e-3, -5.0, 300.0, -0.2])
    params = one([1.0, 1.0, 1.0, 1.0])
    Adam(params, lr=0.01).step({"w": g})
    np.testing.assert_allclose(1.0 - params["w"], 0.01 * np.sign(g), rtol=1e-4)


def test_adam_two_steps_by_hand():
    params = one([0.0])
    opt = Adam(params, lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    opt.step(one([2.0]))
    # m = 0.2, v = 0.004; m_hat = 0.2 / 0.1 = 2, v_hat = 0.004 / 0.001 = 4: a step of 2 / 2
    w1 = -0.1 * 2 / (2 + 1e-8)
    np.testing.assert_allclose(params["w"], [w1], rtol=1e-12)
    opt.step(one([-1.0]))
    m = 0.9 * 0.2 + 0.1 * -1.0  # 0.08
    v = 0.999 * 0.004 + 0.001 * 1.0  # 0.004996
    step = (m / (1 - 0.9**2)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(params["w"], [w1 - 0.1 * step], rtol=1e-12)
    np.testing.assert_allclose(opt.m["w"], [m])
    np.testing.assert_allclose(opt.v["w"], [v])
    assert opt.t == 2


def test_adamw_differs_from_adam_by_exactly_lr_times_decay_times_p():
    p0 = np.array([[1.5, -2.0, 0.25], [3.0, 0.0, -0.5]])
    g = np.array([[0.1, -0.3, 2.0], [0.0, 1.0, -1.0]])
    adam, adamw = {"w": p0.copy()}, {"w": p0.copy()}
    Adam(adam, lr=0.01).step({"w": g})
    AdamW(adamw, lr=0.01, weight_decay=0.1).step({"w": g})
    np.testing.assert_allclose(adam["w"] - adamw["w"], 0.01 * 0.1 * p0, rtol=1e-9, atol=1e-15)


def test_adamw_without_weight_decay_is_adam():
    p0, grads = np.array([1.0, -2.0, 3.0]), [np.array([0.3, -1.0, 2.0]), np.array([1.0, 1.0, -5.0])]
    adam, adamw = {"w": p0.copy()}, {"w": p0.copy()}
    opt, optw = Adam(adam, lr=0.05), AdamW(adamw, lr=0.05, weight_decay=0.0)
    for g in grads:
        opt.step({"w": g})
        optw.step({"w": g})
    np.testing.assert_array_equal(adam["w"], adamw["w"])


def test_learning_rate_zero_from_a_schedule_changes_nothing():
    params = one([1.0, 2.0])
    opt = SGD(params, lr=0.1)
    opt.lr = 0.0
    opt.step(one([5.0, 5.0]))
    np.testing.assert_array_equal(params["w"], [1.0, 2.0])


# -- the model sees the change; float32 stays float32 -------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1, momentum=0.9),
        lambda p: Adam(p, lr=0.1),
        lambda p: AdamW(p, lr=0.1, weight_decay=0.1),
    ],
    ids=["SGD", "Adam", "AdamW"],
)
def test_optimiser_changes_the_models_own_arrays_and_keeps_float32(make):
    head = SelfAttention(4, 3, rng=np.random.default_rng(0))
    before = {name: p.copy() for name, p in head.parameters().items()}
    same_arrays = dict(head.parameters())
    opt = make(head.parameters())
    x = np.random.default_rng(1).standard_normal((2, 5, 4)).astype(np.float32)
    for _ in range(2):
        head.zero_grad()
        head.backward(np.ones_like(head.forward(x)))
        opt.step(head.gradients())
    for name, p in head.parameters().items():
        assert p is same_arrays[name]
        assert p.dtype == np.float32
        assert not np.allclose(p, before[name])
    state = [getattr(opt, attr) for attr in ("velocity", "m", "v") if hasattr(opt, attr)]
    assert state and all(s.dtype == np.float32 for d in state for s in d.values())


def test_float64_gradients_do_not_promote_float32_parameters_or_state():
    params = {"w": np.ones(3, dtype=np.float32)}
    opt = AdamW(params, lr=0.1)
    opt.step({"w": np.array([1.0, -2.0, 3.0])})  # float64 gradient
    assert params["w"].dtype == np.float32
    assert opt.m["w"].dtype == np.float32 and opt.v["w"].dtype == np.float32


# -- each optimiser minimises a quadratic -------------------------------------------------

A = np.array([1.0, 10.0, 0.5])
TARGET = np.array([3.0, -2.0, 0.5])


def quadratic_gradient(p):
    """Gradient of 0.5 * sum(A * (p - TARGET)**2), whose minimum is at TARGET."""
    return A * (p - TARGET)


@pytest.mark.parametrize(
    ("make", "steps", "lr"),
    [
        (lambda p, lr: SGD(p, lr=lr), 300, 0.1),
        (lambda p, lr: SGD(p, lr=lr, momentum=0.9), 300, 0.02),
        (lambda p, lr: Adam(p, lr=lr), 1000, 0.1),
        (lambda p, lr: AdamW(p, lr=lr, weight_decay=1e-4), 1000, 0.1),
    ],
    ids=["SGD", "SGD-momentum", "Adam", "AdamW"],
)
def test_each_optimiser_minimises_a_quadratic(make, steps, lr):
    params = {"w": np.zeros(3)}
    opt = make(params, lr)
    for step in range(steps):
        opt.lr = lr_schedule(step, lr, warmup_steps=10, total_steps=steps)
        opt.step({"w": quadratic_gradient(params["w"])})
    np.testing.assert_allclose(params["w"], TARGET, atol=1e-3)


# -- clipping -----------------------------------------------------------------------------


def test_clip_grad_norm_by_hand():
    grads = {"a": np.array([3.0]), "b": np.array([[0.0, 4.0]])}  # global norm 5
    arrays = dict(grads)
    assert clip_grad_norm(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6])
    np.testing.assert_allclose(grads["b"], [[0.0, 0.8]])
    assert grads["a"] is arrays["a"] and grads["b"] is arrays["b"]  # in place


def test_clip_grad_norm_leaves_small_gradients_alone():
    grads = {"a": np.array([3.0]), "b": np.array([[0.0, 4.0]])}
    assert clip_grad_norm(grads, 5.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(grads["a"], [3.0])
    np.testing.assert_array_equal(grads["b"], [[0.0, 4.0]])


def test_clip_grad_norm_keeps_float32():
    grads = {"a": np.full(4, 10.0, dtype=np.float32)}
    assert clip_grad_norm(grads, 2.0) == pytest.approx(20.0)
    assert grads["a"].dtype == np.float32
    np.testing.assert_allclose(grads["a"], 1.0, rtol=1e-6)


# -- schedule -----------------------------------------------------------------------------


def test_lr_schedule_warm_up_then_cosine():
    lr = {
        s: lr_schedule(s, 1e-3, warmup_steps=10, total_steps=110, min_lr=1e-4) for s in range(200)
    }
    assert lr[0] == pytest.approx(1e-4)  # 1e-3 * 1 / 10
    assert lr[4] == pytest.approx(5e-4)  # 1e-3 * 5 / 10
    assert lr[9] == pytest.approx(1e-3)  # end of warm-up
    assert lr[10] == pytest.approx(1e-3)  # the cosine starts at the top
    assert lr[35] == pytest.approx(1e-4 + 0.5 * 9e-4 * (1 + math.cos(math.pi / 4)))
    assert lr[60] == pytest.approx(5.5e-4)  # half-way: the average of max and min
    assert lr[110] == pytest.approx(1e-4)  # the end
    assert lr[199] == pytest.approx(1e-4)  # stays at min_lr after
    values = [lr[s] for s in range(10, 111)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))  # never rises


def test_lr_schedule_without_warm_up_starts_at_max_lr():
    assert lr_schedule(0, 0.5, warmup_steps=0, total_steps=4) == pytest.approx(0.5)
    assert lr_schedule(2, 0.5, warmup_steps=0, total_steps=4) == pytest.approx(0.25)
    assert lr_schedule(4, 0.5, warmup_steps=0, total_steps=4) == 0.0


# -- bad input ----------------------------------------------------------------------------

P = {"w": np.zeros((2, 3))}


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: SGD(P, lr=0), ValueError, "lr must be > 0; got 0"),
        (lambda: SGD(P, lr=-0.1), ValueError, "lr must be > 0; got -0.1"),
        (lambda: SGD(P, lr=float("nan")), ValueError, "lr must be > 0; got nan"),
        (lambda: SGD(P, lr="0.1"), TypeError, "lr must be a number; got the string '0.1'"),
        (
            lambda: SGD(P, lr=0.1, momentum=-0.5),
            ValueError,
            "momentum must be >= 0 and < 1; got -0.5",
        ),
        (
            lambda: SGD(P, lr=0.1, momentum=1.0),
            ValueError,
            "momentum must be >= 0 and < 1; got 1.0",
        ),
        (
            lambda: Adam(P, lr=0.1, betas=(0.9, 1.0)),
            ValueError,
            "betas[1] must be >= 0 and < 1; got 1.0",
        ),
        (
            lambda: Adam(P, lr=0.1, betas=(-0.1, 0.999)),
            ValueError,
            "betas[0] must be >= 0 and < 1; got -0.1",
        ),
        (
            lambda: Adam(P, lr=0.1, betas=0.9),
            TypeError,
            "betas must be a pair (beta1, beta2); got float 0.9",
        ),
        (lambda: Adam(P, lr=0.1, eps=0.0), ValueError, "eps must be > 0; got 0.0"),
        (
            lambda: AdamW(P, lr=0.1, weight_decay=-0.01),
            ValueError,
            "weight_decay must be >= 0; got -0.01",
        ),
        (
            lambda: SGD([np.zeros(3)], lr=0.1),
            TypeError,
            "params must be a dict of parameter arrays such as model.parameters(); "
            "got a list of 1 item(s)",
        ),
        (
            lambda: SGD(SelfAttention(4, 2, rng=np.random.default_rng(0)), lr=0.1),
            TypeError,
            "params must be a dict of parameter arrays such as model.parameters(); "
            "got SelfAttention",
        ),
        (
            lambda: SGD({}, lr=0.1),
            ValueError,
            "params must hold at least one parameter; got an empty dict",
        ),
        (
            lambda: SGD({"w": np.zeros(3, dtype=int)}, lr=0.1),
            TypeError,
            "params['w'] must be a float array; got an array of shape (3,) and dtype int64",
        ),
        (
            lambda: SGD({"w": [0.0, 1.0]}, lr=0.1),
            TypeError,
            "params['w'] must be a float array; got a list of 2 item(s)",
        ),
    ],
)
def test_optimisers_refuse_bad_settings(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


@pytest.mark.parametrize("make", [SGD, Adam, AdamW], ids=["SGD", "Adam", "AdamW"])
@pytest.mark.parametrize(
    ("grads", "error", "message"),
    [
        (
            {},
            ValueError,
            "grads must have the names of the parameters; missing ['w'], not parameters []",
        ),
        ({"w": np.zeros((2, 3)), "b": np.zeros(3)}, ValueError, "missing [], not parameters ['b']"),
        ({"W": np.zeros((2, 3))}, ValueError, "missing ['w'], not parameters ['W']"),
        (
            {"w": np.zeros((3, 2))},
            ValueError,
            "grads['w'] must have the shape of its parameter, (2, 3); got (3, 2)",
        ),
        (
            {"w": np.full((2, 3), np.inf)},
            ValueError,
            "grads['w'] must be finite; "
            "got inf (the loss may have blown up: try a smaller learning rate)",
        ),
        (
            {"w": [[0.0] * 3] * 2},
            TypeError,
            "grads['w'] must be a float array; got a list of 2 item(s)",
        ),
        (
            [np.zeros((2, 3))],
            TypeError,
            "grads must be a dict of gradient arrays such as model.gradients(); "
            "got a list of 1 item(s)",
        ),
    ],
)
def test_step_refuses_gradients_that_do_not_match_the_parameters(make, grads, error, message):
    params = {"w": np.ones((2, 3))}
    opt = make(params, lr=0.1)
    with pytest.raises(error, match=re.escape(message)):
        opt.step(grads)
    np.testing.assert_array_equal(params["w"], 1.0)  # nothing changed


def test_setting_a_bad_learning_rate_is_refused():
    opt = SGD({"w": np.zeros(2)}, lr=0.1)
    with pytest.raises(ValueError, match=re.escape("lr must be >= 0; got -0.001")):
        opt.lr = -0.001


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: clip_grad_norm({"a": np.ones(2)}, 0.0),
            ValueError,
            "max_norm must be > 0; got 0.0",
        ),
        (lambda: clip_grad_norm({"a": np.ones(2)}, -1), ValueError, "max_norm must be > 0; got -1"),
        (
            lambda: clip_grad_norm({}, 1.0),
            ValueError,
            "grads must hold at least one gradient; got an empty dict",
        ),
        (
            lambda: clip_grad_norm(np.ones(2), 1.0),
            TypeError,
            "grads must be a dict of gradient arrays such as model.gradients(); "
            "got an array of shape (2,)",
        ),
        (
            lambda: clip_grad_norm({"a": [1.0, 2.0]}, 1.0),
            TypeError,
            "grads['a'] must be a float array; got a list of 2 item(s)",
        ),
        (
            lambda: clip_grad_norm({"a": np.array([1.0, np.nan])}, 1.0),
            ValueError,
            "grads['a'] must be finite; got nan",
        ),
        (lambda: lr_schedule(-1, 0.1, 10, 100), ValueError, "step must be an int >= 0; got int -1"),
        (
            lambda: lr_schedule(1.5, 0.1, 10, 100),
            ValueError,
            "step must be an int >= 0; got float 1.5",
        ),
        (
            lambda: lr_schedule(0, 0.1, -2, 100),
            ValueError,
            "warmup_steps must be an int >= 0; got int -2",
        ),
        (
            lambda: lr_schedule(0, 0.1, 10, 10),
            ValueError,
            "total_steps must be larger than warmup_steps; got total_steps=10 and warmup_steps=10",
        ),
        (lambda: lr_schedule(0, 0.0, 10, 100), ValueError, "max_lr must be > 0; got 0.0"),
        (
            lambda: lr_schedule(0, 0.1, 10, 100, min_lr=-0.1),
            ValueError,
            "min_lr must be >= 0; got -0.1",
        ),
        (
            lambda: lr_schedule(0, 0.1, 10, 100, min_lr=0.2),
            ValueError,
            "min_lr must be <= max_lr (0.1); got 0.2",
        ),
    ],
)
def test_clipping_and_schedule_refuse_bad_input(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
