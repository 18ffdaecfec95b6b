"""The Module base, the Sequential container and the gradient-by-nudging helpers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from companion.activation import GELU
from companion.dropout import Dropout
from companion.gradcheck import gradcheck, numerical_gradient, relative_error
from companion.layernorm import LayerNorm
from companion.linear import Linear
from companion.loss import CrossEntropyLoss
from companion.module import Module, Sequential


def small_net(dtype=np.float64) -> Sequential:
    return Sequential(
        Linear(4, 8, rng=0, dtype=dtype),
        GELU(),
        LayerNorm(8, dtype=dtype),
        Dropout(0.5, rng=1),
        Linear(8, 3, rng=2, dtype=dtype),
    )


def test_parameters_and_gradients_are_collected_by_dotted_name():
    net = small_net()
    names = list(net.parameters())
    assert names == [
        "layers.0.W",
        "layers.0.b",
        "layers.2.gamma",
        "layers.2.beta",
        "layers.4.W",
        "layers.4.b",
    ]
    assert list(net.gradients()) == names
    assert net.n_parameters == 4 * 8 + 8 + 8 + 8 + 8 * 3 + 3
    assert net.parameters()["layers.0.W"] is net.layers[0].params["W"]  # the arrays, not copies


def test_zero_grad_and_train_eval_reach_every_layer():
    net = small_net()
    for grad in net.gradients().values():
        grad += 1.0
    net.zero_grad()
    assert all(not g.any() for g in net.gradients().values())
    net.eval()
    assert not any(layer.training for layer in net.layers) and not net.training
    net.train()
    assert all(layer.training for layer in net.layers)


def test_sequential_backward_equals_nudging_end_to_end():
    rng = np.random.default_rng(0)
    net = small_net().eval()  # dropout off: the loss is a fixed function of the parameters
    x = rng.normal(size=(5, 4))
    targets = rng.integers(0, 3, size=5)
    loss = CrossEntropyLoss()

    def f() -> float:
        return loss.forward(net.forward(x), targets)

    f()
    net.zero_grad()
    dx = net.backward(loss.backward())
    assert gradcheck(f, x, dx) < 1e-6
    for name, p in net.parameters().items():
        assert gradcheck(f, p, net.gradients()[name]) < 1e-6, name


def test_backward_adds_to_the_gradients():
    layer = Linear(3, 2, rng=0, dtype=np.float64)
    x = np.ones((1, 3))
    layer.forward(x)
    layer.backward(np.ones((1, 2)))
    once = layer.grads["W"].copy()
    layer.forward(x)
    layer.backward(np.ones((1, 2)))
    np.testing.assert_allclose(layer.grads["W"], 2 * once)


def test_a_layer_must_implement_forward_and_backward():
    with pytest.raises(NotImplementedError, match="Module must implement forward"):
        Module().forward(np.zeros(2))
    with pytest.raises(NotImplementedError, match="Module must implement backward"):
        Module().backward(np.zeros(2))


def test_bad_parameters_and_layers_are_refused():
    m = Module()
    with pytest.raises(ValueError, match="name must be a Python identifier; got the string 'a.b'"):
        m.add_parameter("a.b", np.zeros(2))
    with pytest.raises(TypeError, match="value of parameter 'W' must be a float array"):
        m.add_parameter("W", np.zeros(2, dtype=int))
    message = "layers[1] must be a companion Module; got the string 'relu'"
    with pytest.raises(TypeError, match=re.escape(message)):
        Sequential(Linear(2, 2, rng=0), "relu")


def test_numerical_gradient_of_a_known_function_and_x_is_restored():
    x = np.array([1.0, -2.0, 3.0])
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x**2)), x)
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_the_articles_nudge_on_one_weight():
    # Chapter 3's idea on chapter 1's network: nudge a weight, watch the loss.
    from companion.network import LEAF, Network, forward, leaf_flower_network

    net = leaf_flower_network()
    W2 = net.W2.copy()

    def loss() -> float:
        out = forward(LEAF, Network(W1=net.W1, W2=W2)).outputs
        return float(np.sum((out - np.array([0.8, 0.2])) ** 2))

    grad = numerical_gradient(loss, W2)
    hidden = forward(LEAF, net).hidden
    out = forward(LEAF, net).outputs
    np.testing.assert_allclose(grad, 2 * np.outer(out - [0.8, 0.2], hidden), rtol=1e-6)


def test_gradcheck_catches_a_wrong_gradient():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match="gradient check failed"):
        gradcheck(lambda: float(np.sum(x**3)), x, 3 * x**2 + 1e-3)
    assert gradcheck(lambda: float(np.sum(x**3)), x, 3 * x**2) < 1e-8


def test_relative_error_is_normalised():
    a = np.array([1e-3, 2e-3])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, 1000 * a / 1000 * 1.01) == pytest.approx(0.01 / 2.01)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match=re.escape("same shape; got (2,) and (3,)")):
        relative_error(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"f": 3.0}, TypeError, "f must be a function of no arguments"),
        ({"x": [1.0, 2.0]}, TypeError, "x must be a float array that f reads"),
        ({"x": np.array([1, 2])}, TypeError, "x must be a float array that f reads"),
        ({"h": 0.0}, ValueError, "h must be a positive number; got 0.0"),
        ({"h": float("nan")}, ValueError, "h must be a positive number"),
    ],
)
def test_numerical_gradient_refuses_bad_input(kwargs, error, message):
    args = {"f": lambda: 0.0, "x": np.zeros(2), "h": 1e-5} | kwargs
    with pytest.raises(error, match=re.escape(message)):
        numerical_gradient(args["f"], args["x"], args["h"])


def test_numerical_gradient_nudges_views_in_place_or_refuses_them():
    evenly_strided = np.zeros((4, 4))[:, ::2]  # flattens to a view: nudging works
    grad = numerical_gradient(lambda: float(np.sum(evenly_strided * 3.0)), evenly_strided)
    np.testing.assert_allclose(grad, 3.0)
    x = np.zeros((3, 4))[:, :3]  # flattening would copy: nudges would not reach f
    with pytest.raises(ValueError, match="x must be contiguous"):
        numerical_gradient(lambda: 0.0, x)


def test_gradcheck_refuses_a_gradient_of_another_shape():
    x = np.zeros(3)
    message = "analytic must have the shape of x, (3,); got (2,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        gradcheck(lambda: 0.0, x, np.zeros(2))


def transformer_block(C: int, n_head: int, seed: int) -> Sequential:
    """Pre-norm block: x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x))."""
    from companion.multihead import MultiHeadAttention
    from companion.residual import Residual

    rng = np.random.default_rng(seed)
    attention = Sequential(
        LayerNorm(C, dtype=np.float64),
        MultiHeadAttention(C, n_head, causal=True, rng=rng, dtype=np.float64),
    )
    mlp = Sequential(
        LayerNorm(C, dtype=np.float64),
        Linear(C, 4 * C, rng=rng, dtype=np.float64),
        GELU(),
        Linear(4 * C, C, rng=rng, dtype=np.float64),
    )
    return Sequential(Residual(attention), Residual(mlp))


def test_a_stack_of_blocks_passes_the_gradient_check_end_to_end():
    from companion.embedding import Embedding
    from companion.positional import PositionalEmbedding

    B, T, C, V = 2, 5, 8, 11
    rng = np.random.default_rng(3)
    embed = Embedding(V, C, rng=rng, dtype=np.float64)
    body = Sequential(
        PositionalEmbedding(T, C, rng=rng, dtype=np.float64),
        transformer_block(C, 2, seed=4),
        transformer_block(C, 2, seed=5),
        LayerNorm(C, dtype=np.float64),
        Linear(C, V, rng=rng, dtype=np.float64),
    )
    # The tables start with std 0.02 (GPT-2's choice); the first LayerNorm then divides by
    # about 0.03 and the loss curves so sharply that nudging by h = 1e-5 is itself off by
    # ~1e-6. Unit-sized embeddings keep the finite differences honest.
    embed.params["W"] *= 50.0
    body.layers[0].params["W"] *= 50.0
    ids = rng.integers(0, V, size=(B, T))
    ids[0, :3] = 7  # repeated ids: their embedding gradients must add up
    targets = rng.integers(0, V, size=(B, T))
    loss = CrossEntropyLoss()

    def f() -> float:
        return loss.forward(body.forward(embed.forward(ids)), targets)

    f()
    embed.zero_grad()
    body.zero_grad()
    embed.backward(body.backward(loss.backward()))
    grads = body.gradients() | {f"embed.{k}": v for k, v in embed.gradients().items()}
    params = body.parameters() | {f"embed.{k}": v for k, v in embed.parameters().items()}
    assert len(params) == 1 + 2 * 13 + 2 + 2 + 1  # positions, 2 blocks, norm, head, tokens
    worst = max(gradcheck(f, p, grads[name]) for name, p in params.items())
    assert worst < 1e-8
