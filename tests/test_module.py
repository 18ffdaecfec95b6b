"""The contract every layer keeps (companion.layers.module), and Sequential.

Parameters and gradients are found in nested layers under dotted names and are the layers'
own arrays; ``zero_grad``, ``train`` and ``eval`` reach every layer inside; ``backward``
adds to the gradients; a model holds each of its layers once.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from companion import (
    GELU,
    GPT,
    CrossEntropyLoss,
    Dropout,
    GPTConfig,
    LayerNorm,
    Linear,
    Module,
    Residual,
    Sequential,
    Transformer,
    TransformerConfig,
    numerical_gradient,
    relative_error,
)

F64 = np.float64


def nested() -> Sequential:
    """A linear layer, then a residual block holding a Sequential with dropout inside."""
    inner = Sequential(LayerNorm(3), Linear(3, 3, bias=False, rng=1), Dropout(0.5, rng=2))
    return Sequential(Linear(4, 3, rng=0), Residual(inner))


def test_parameters_of_nested_layers_have_dotted_names():
    """layers.1.inner.layers.0.gamma: the path of attributes (and list positions) to it."""
    assert list(nested().parameters()) == [
        "layers.0.W",
        "layers.0.b",
        "layers.1.inner.layers.0.gamma",
        "layers.1.inner.layers.0.beta",
        "layers.1.inner.layers.1.W",
    ]
    # 4 x 3 + 3, then 3 + 3, then 3 x 3
    assert nested().n_parameters == 15 + 6 + 9


def test_parameters_and_gradients_are_the_layers_own_arrays():
    """Changing model.parameters()[name] in place changes the layer: optimisers rely on it."""
    model = nested()
    gamma = model.layers[1].inner.layers[0]
    assert model.parameters()["layers.1.inner.layers.0.gamma"] is gamma.params["gamma"]
    assert model.gradients()["layers.1.inner.layers.0.gamma"] is gamma.grads["gamma"]
    assert list(model.gradients()) == list(model.parameters())


def test_zero_grad_reaches_every_layer_inside():
    """After a backward pass every gradient is set to 0, nested ones included."""
    model = nested()
    model.backward(np.ones_like(model(np.ones((2, 4)))))
    assert all(g.any() for g in model.gradients().values())
    model.zero_grad()
    assert not any(g.any() for g in model.gradients().values())


def test_train_and_eval_reach_every_layer_inside():
    """eval() turns off the dropout nested two levels down; train() turns it back on."""
    model = nested()
    dropout = model.layers[1].inner.layers[2]
    x = np.ones((50, 4))
    assert model.eval() is model and not dropout.training
    np.testing.assert_array_equal(model(x), model(x))  # no mask: the same twice
    model.train()
    assert dropout.training
    assert not np.array_equal(model(x), model(x))  # a new mask each time


def test_backward_adds_to_the_gradients():
    """Two backward passes without zero_grad give twice the gradient (accumulation)."""
    layer = Linear(3, 2, rng=0, dtype=F64)
    x, dout = np.ones((4, 3)), np.ones((4, 2))
    layer(x)
    layer.backward(dout)
    once = {name: g.copy() for name, g in layer.gradients().items()}
    layer.backward(dout)
    for name, g in layer.gradients().items():
        np.testing.assert_array_equal(g, 2 * once[name])


def test_sequential_gradients_match_nudging_end_to_end():
    """A stack of layers with a loss: every parameter's gradient from backward, in reverse."""
    rng = np.random.default_rng(0)
    model = Sequential(
        Linear(4, 6, rng=rng, dtype=F64),
        GELU(),
        LayerNorm(6, dtype=F64),
        Residual(Linear(6, 6, rng=rng, dtype=F64)),
        Linear(6, 3, rng=rng, dtype=F64),
    )
    x, targets = rng.standard_normal((2, 5, 4)), rng.integers(0, 3, size=(2, 5))
    loss_fn = CrossEntropyLoss()

    def loss() -> float:
        return loss_fn.forward(model.forward(x), targets)

    loss()
    model.zero_grad()
    dx = model.backward(loss_fn.backward())
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-7
    errors = {
        name: relative_error(g, numerical_gradient(loss, p))
        for name, p, g in model.named_parameters()
    }
    assert len(errors) == 2 + 2 + 2 + 2
    assert max(errors.values()) < 1e-7, errors


def test_sequential_checks_its_input_at_the_first_layers_door():
    """Calling the stack checks x as the first layer would: its shape [..., 4]."""
    with pytest.raises(ValueError, match=re.escape("x must have shape [..., 4] (n_in last)")):
        nested()(np.ones((2, 5)))


def test_sequential_refuses_something_that_is_not_a_layer():
    """A string where a layer should be is named by its position."""
    message = "layers[1] must be a companion Module; got the string 'relu'"
    with pytest.raises(TypeError, match=re.escape(message)):
        Sequential(Linear(2, 2, rng=0), "relu")


def test_a_layer_without_forward_says_so():
    """A Module subclass must write its own forward and backward."""

    class Unfinished(Module):
        pass

    with pytest.raises(NotImplementedError, match="Unfinished must implement forward"):
        Unfinished()(np.ones(2))


@pytest.mark.parametrize(
    "model",
    [
        lambda: GPT(GPTConfig(11, 6, n_layer=2, n_head=2, n_embd=8), rng=0),
        lambda: Transformer(TransformerConfig(7, 9, 5, 4, n_layer=2, n_head=2, n_embd=8), rng=0),
    ],
    ids=["GPT", "Transformer"],
)
def test_a_model_holds_each_parameter_once(model):
    """No array appears twice in named_parameters (a layer reachable by two attributes would)."""
    model = model()
    arrays = [p for _, p, _ in model.named_parameters()]
    grads = [g for _, _, g in model.named_parameters()]
    assert len({id(p) for p in arrays}) == len(arrays)
    assert len({id(g) for g in grads}) == len(grads)
    assert not any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[:i])
