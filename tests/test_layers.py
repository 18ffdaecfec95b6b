"""The layers: gradients against nudging (float64), values by hand, float32 kept, bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from companion.activation import GELU, ReLU, gelu, gelu_derivative
from companion.dropout import Dropout
from companion.embedding import Embedding
from companion.gradcheck import gradcheck
from companion.layernorm import LayerNorm
from companion.linear import Linear
from companion.loss import CrossEntropyLoss
from companion.module import Module, Sequential
from companion.positional import PositionalEmbedding, sinusoidal_encoding
from companion.residual import Residual

F64 = np.float64


def gradient_errors(layer: Module, x: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Gradient-check ``sum(w * layer(x))`` w.r.t. ``x`` and every parameter; return errors.

    Each check raises if its normalised error exceeds 1e-6.
    """
    w = np.random.default_rng(seed).normal(size=layer.forward(x).shape)

    def loss() -> float:
        return float(np.sum(w * layer.forward(x)))

    layer.zero_grad()
    layer.forward(x)
    dx = layer.backward(w)
    errors = {"x": gradcheck(loss, x, dx)}
    for name, param, grad in layer.named_parameters():
        errors[name] = gradcheck(loss, param, grad.copy())
    return errors


def _x(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


# -- Linear -------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
def test_linear_gradients_match_nudging(bias, shape):
    layer = Linear(4, 5, bias=bias, rng=0, dtype=F64)
    errors = gradient_errors(layer, _x(*shape))
    assert set(errors) == ({"x", "W", "b"} if bias else {"x", "W"})


def test_linear_by_hand():
    layer = Linear(2, 2, dtype=F64, rng=0)
    layer.params["W"][...] = [[1.0, 2.0], [3.0, 4.0]]
    layer.params["b"][...] = [0.5, -0.5]
    # [1, 1] @ W = [1 + 3, 2 + 4]; plus b
    assert layer.forward(np.array([1.0, 1.0])).tolist() == [4.5, 5.5]
    assert layer.backward(np.array([1.0, 0.0])).tolist() == [1.0, 3.0]  # dout @ W^T


def test_linear_init_scale_seed_and_dtype():
    layer = Linear(400, 300, rng=np.random.default_rng(0))
    assert layer.params["W"].dtype == np.float32 and layer.params["b"].dtype == np.float32
    assert layer.params["W"].std() == pytest.approx(1 / math.sqrt(400), rel=0.02)
    assert np.all(layer.params["b"] == 0)
    np.testing.assert_array_equal(Linear(400, 300, rng=0).params["W"], layer.params["W"])
    assert Linear(4, 3, dtype=np.float64, rng=0).params["W"].dtype == np.float64
    assert set(Linear(4, 3, bias=False, rng=0).params) == {"W"}


def test_linear_backward_adds_to_the_gradients():
    layer = Linear(3, 2, rng=0, dtype=F64)
    x, dout = _x(4, 3), _x(4, 2, seed=2)
    layer.forward(x)
    layer.backward(dout)
    once = layer.grads["W"].copy()
    layer.backward(dout)
    np.testing.assert_allclose(layer.grads["W"], 2 * once)
    np.testing.assert_allclose(layer.grads["b"], 2 * dout.sum(axis=0))


# -- ReLU and GELU ------------------------------------------------------------------------


def test_relu_layer_gradient_matches_nudging():
    x = _x(3, 4)
    x[np.abs(x) < 0.01] = 0.5  # stay away from the kink at 0
    gradient_errors(ReLU(), x)


def test_relu_layer_by_hand():
    layer = ReLU()
    assert layer.forward(np.array([-26.6, -47.1, 2.0])).tolist() == [0.0, 0.0, 2.0]
    assert layer.backward(np.array([5.0, 6.0, 7.0])).tolist() == [0.0, 0.0, 7.0]


def test_gelu_layer_gradient_matches_nudging_and_function():
    x = _x(2, 3, 4)
    layer = GELU()
    np.testing.assert_allclose(layer.forward(x), gelu(x), rtol=1e-13, atol=1e-15)
    gradient_errors(layer, x)


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-13), (np.float32, 2e-6)])
def test_gelu_layer_computes_the_two_functions_in_place(dtype, rtol):
    """The layer's step-by-step in-place arithmetic equals gelu and dout * gelu_derivative."""
    rng = np.random.default_rng(7)
    x = (3 * rng.standard_normal((4, 5, 16))).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    x_before, dout_before = x.copy(), dout.copy()
    layer = GELU()
    out = layer.forward(x)
    dx = layer.backward(dout)
    assert out.dtype == dx.dtype == dtype
    np.testing.assert_allclose(out, gelu(x), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(dx, dout * gelu_derivative(x), rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(x, x_before)  # neither input is changed in place
    np.testing.assert_array_equal(dout, dout_before)


# -- Embedding ----------------------------------------------------------------------------

IDS = np.array([[1, 3, 1], [3, 3, 0]])  # 1 twice, 3 three times, 2 and 4 never


def test_embedding_gradient_with_repeated_ids_matches_nudging():
    layer = Embedding(5, 4, rng=0, dtype=F64)
    w = _x(2, 3, 4, seed=3)
    layer.forward(IDS)
    assert layer.backward(w) is None  # ids have no gradient
    gradcheck(
        lambda: float(np.sum(w * layer.forward(IDS))), layer.params["W"], layer.grads["W"].copy()
    )
    np.testing.assert_allclose(layer.grads["W"][3], w[0, 1] + w[1, 0] + w[1, 1])
    assert np.all(layer.grads["W"][[2, 4]] == 0)  # never looked up


def test_embedding_lookup_is_one_hot_times_w():
    layer = Embedding(5, 4, rng=0)
    one_hot = np.eye(5, dtype=np.float32)[IDS]  # [2, 3] -> [2, 3, 5]
    np.testing.assert_allclose(layer.forward(IDS), one_hot @ layer.params["W"], rtol=1e-6)
    assert layer.forward(IDS).shape == (2, 3, 4) and layer.params["W"].dtype == np.float32


@pytest.mark.parametrize("vocab_size", [65, 512])
def test_embedding_gradient_equals_np_add_at(vocab_size):
    rng = np.random.default_rng(4)
    ids = rng.integers(0, vocab_size, size=(16, 128))
    dout = rng.normal(size=(16, 128, 64)).astype(np.float32)
    layer = Embedding(vocab_size, 64, rng=0)
    layer.forward(ids)
    layer.backward(dout)
    layer.backward(dout)  # adds again
    expected = np.zeros((vocab_size, 64))
    np.add.at(expected, ids.reshape(-1), dout.reshape(-1, 64).astype(np.float64))
    np.testing.assert_allclose(layer.grads["W"], 2 * expected, rtol=1e-4, atol=1e-4)
    assert layer.grads["W"].dtype == np.float32


# -- positions ----------------------------------------------------------------------------


def test_positional_embedding_gradient_matches_nudging():
    layer = PositionalEmbedding(5, 4, rng=0, dtype=F64)
    gradient_errors(layer, _x(2, 3, 4))
    assert np.all(layer.grads["W"][3:] == 0)  # positions 3 and 4 were not used


def test_positional_embedding_adds_the_same_rows_to_each_sequence():
    layer = PositionalEmbedding(8, 4, rng=0)
    x = np.zeros((2, 3, 4), dtype=np.float32)
    out = layer.forward(x)
    np.testing.assert_array_equal(out[0], layer.params["W"][:3])
    np.testing.assert_array_equal(out[1], layer.params["W"][:3])
    dout = np.ones((2, 3, 4), dtype=np.float32)
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dx, dout)
    assert dx is not dout


def test_sinusoidal_encoding_by_hand():
    PE = sinusoidal_encoding(3, 4, dtype=F64)
    # position 0: sin 0, cos 0, sin 0, cos 0; columns 2, 3 turn at 1 / 10000**(2/4) = 0.01
    np.testing.assert_allclose(PE[0], [0, 1, 0, 1])
    np.testing.assert_allclose(PE[1], [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)])
    np.testing.assert_allclose(PE[2], [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)])
    assert sinusoidal_encoding(16, 8).shape == (16, 8)
    assert sinusoidal_encoding(16, 8).dtype == np.float32


# -- LayerNorm ----------------------------------------------------------------------------


def test_layernorm_of_one_two_three_four_by_hand():
    # mean M = 2.5; variance = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25 (divide by 4, not 3)
    D = math.sqrt(1.25 + 1e-5)
    expected = [-1.5 / D, -0.5 / D, 0.5 / D, 1.5 / D]
    out = LayerNorm(4, dtype=F64).forward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    assert round(float(out[3]), 4) == 1.3416


def test_layernorm_output_has_mean_zero_and_spread_one_then_gamma_beta():
    x = _x(2, 3, 8) * 5 + 3
    layer = LayerNorm(8, dtype=F64)
    out = layer.forward(x)
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=-1), 1, rtol=1e-5)
    layer.params["gamma"][...] = 2.0
    layer.params["beta"][...] = 1.0
    np.testing.assert_allclose(layer.forward(x), 2 * out + 1, rtol=1e-12)


def test_layernorm_of_a_constant_vector_is_zero_not_nan():
    out = LayerNorm(3).forward(np.full((1, 3), 7.0, dtype=np.float32))
    assert out.tolist() == [[0.0, 0.0, 0.0]]


def test_layernorm_gradients_match_nudging():
    layer = LayerNorm(6, dtype=F64)
    rng = np.random.default_rng(5)
    layer.params["gamma"][...] = rng.normal(size=6)  # so that d / d gamma and d / d beta matter
    layer.params["beta"][...] = rng.normal(size=6)
    errors = gradient_errors(layer, _x(2, 3, 6))
    assert set(errors) == {"x", "gamma", "beta"}


# -- Dropout ------------------------------------------------------------------------------


@pytest.mark.parametrize("scale_at", ["training", "inference"])
def test_dropout_gradient_with_a_fixed_mask_matches_nudging(scale_at):
    x = _x(4, 5)
    layer = Dropout(0.4, rng=0, scale_at=scale_at)
    w = _x(4, 5, seed=6)

    def loss() -> float:  # the same random state, so the same mask, at every call
        layer.rng = np.random.default_rng(7)
        return float(np.sum(w * layer.forward(x)))

    loss()
    dx = layer.backward(w)
    assert layer.keep is not None and 0 < layer.keep.sum() < x.size
    assert np.all(dx[~layer.keep] == 0)
    gradcheck(loss, x, dx)


def test_dropout_drops_about_p_and_scales_the_kept_numbers():
    x = np.ones((200, 500), dtype=np.float32)
    out = Dropout(0.25, rng=0).forward(x)
    assert out.dtype == np.float32
    assert set(np.unique(out).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert np.mean(out == 0) == pytest.approx(0.25, abs=0.005)  # 100 000 draws: sd 0.0014
    kept_unscaled = Dropout(0.25, rng=0, scale_at="inference").forward(x)
    assert set(np.unique(kept_unscaled).tolist()) == {0.0, 1.0}


def test_dropout_in_evaluation_mode():
    x = _x(3, 4)
    layer = Dropout(0.3, rng=0).eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    article = Dropout(0.3, rng=0, scale_at="inference").eval()
    np.testing.assert_allclose(article.forward(x), 0.7 * x, rtol=1e-15)


@pytest.mark.parametrize("scale_at", ["training", "inference"])
def test_both_variants_agree_with_evaluation_mode_on_average(scale_at):
    x = np.array([1.0, -2.0, 3.0, 0.5])
    layer = Dropout(0.5, rng=0, scale_at=scale_at)
    n = 40_000
    mean_in_training = layer.forward(np.tile(x, (n, 1))).mean(axis=0)  # n samples of x
    at_inference = layer.eval().forward(x)
    # each sample has sd |x| * scale * 0.5; the mean of n of them is within 5 sd of it
    scale = 2.0 if scale_at == "training" else 1.0
    tolerance = 5 * np.abs(x) * scale * 0.5 / math.sqrt(n)
    assert np.all(np.abs(mean_in_training - at_inference) < tolerance)


def test_dropout_of_zero_is_the_identity_and_same_seed_same_mask():
    x = _x(3, 4)
    np.testing.assert_array_equal(Dropout(0.0, rng=0).forward(x), x)
    a, b = Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=3).forward(x)
    np.testing.assert_array_equal(a, b)


# -- Residual -----------------------------------------------------------------------------


def test_residual_around_linear_gradients_match_nudging():
    block = Residual(Linear(4, 4, rng=0, dtype=F64))
    errors = gradient_errors(block, _x(2, 3, 4))
    assert set(errors) == {"x", "inner.W", "inner.b"}


def test_residual_adds_input_and_gradient_paths():
    inner = Linear(2, 2, bias=False, dtype=F64, rng=0)
    inner.params["W"][...] = [[1.0, 0.0], [0.0, 2.0]]
    block = Residual(inner)
    assert block.forward(np.array([3.0, 4.0])).tolist() == [6.0, 12.0]  # [3, 4] + [3, 8]
    assert block.backward(np.array([1.0, 1.0])).tolist() == [2.0, 3.0]  # [1, 1] + [1, 2]


# -- float32 all the way ------------------------------------------------------------------


def test_float32_stays_float32_through_a_small_model():
    rng = np.random.default_rng(8)
    model = Sequential(Linear(8, 16, rng=rng), GELU(), LayerNorm(16), Linear(16, 5, rng=rng))
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    targets = rng.integers(0, 5, size=(2, 3))
    logits = model.forward(x)
    assert logits.dtype == np.float32
    loss = CrossEntropyLoss()
    assert isinstance(loss.forward(logits, targets), float)
    dlogits = loss.backward()
    assert dlogits.dtype == np.float32
    assert model.backward(dlogits).dtype == np.float32
    for name, param, grad in model.named_parameters():
        assert param.dtype == np.float32 and grad.dtype == np.float32, name
        assert np.any(grad != 0), name
    for layer in (ReLU(), Dropout(0.1, rng=0), Residual(GELU())):
        assert layer.forward(x).dtype == np.float32
        assert layer.backward(x).dtype == np.float32
    assert PositionalEmbedding(3, 8, rng=0).forward(x).dtype == np.float32
    x64 = x.astype(np.float64)  # inputs are converted to the dtype of the parameters
    for layer in (Linear(8, 4, rng=0), LayerNorm(8), PositionalEmbedding(3, 8, rng=0)):
        assert layer.forward(x64).dtype == np.float32
        assert layer.backward(layer.forward(x64).astype(np.float64)).dtype == np.float32
    assert Embedding(5, 8, rng=0).forward(targets).dtype == np.float32


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Linear(0, 3, rng=0), ValueError, "n_in must be a positive int; got 0"),
        (lambda: Linear(4, -2, rng=0), ValueError, "n_out must be a positive int; got -2"),
        (
            lambda: Linear("4", 3, rng=0),
            TypeError,
            "n_in must be a positive int; got the string '4'",
        ),
        (lambda: Linear(2.5, 3, rng=0), TypeError, "n_in must be a positive int; got float 2.5"),
        (lambda: Linear(True, 3, rng=0), TypeError, "n_in must be a positive int; got bool True"),
        (lambda: Linear(4, 3, bias="yes", rng=0), TypeError, "bias must be True or False"),
        (lambda: Linear(4, 3, rng="seed"), TypeError, "rng must be a numpy Generator"),
        (
            lambda: Linear(4, 3, rng=None),
            TypeError,
            "rng must be a numpy Generator (np.random.default_rng(seed)) or an int seed; "
            "got NoneType None",
        ),
        (lambda: Embedding(5, 4, rng=1.5), TypeError, "rng must be a numpy Generator"),
        (lambda: Dropout(0.1, rng=None), TypeError, "rng must be a numpy Generator"),
        (lambda: Linear(4, 3, rng=-1), ValueError, "rng, as a seed, must be an int >= 0; got -1"),
        (
            lambda: Linear(4, 3, dtype=np.int32, rng=0),
            ValueError,
            "dtype must be np.float32 or np.float64",
        ),
        (
            lambda: Linear(4, 3, dtype=None, rng=0),
            ValueError,
            "dtype must be np.float32 or np.float64",
        ),
        (
            lambda: Linear(4, 3, dtype="oops", rng=0),
            ValueError,
            "dtype must be np.float32 or np.float64",
        ),
        (lambda: Embedding(0, 4, rng=0), ValueError, "vocab_size must be a positive int; got 0"),
        (
            lambda: Embedding(5, 4.0, rng=0),
            TypeError,
            "n_embd must be a positive int; got float 4.0",
        ),
        (lambda: PositionalEmbedding(0, 4, rng=0), ValueError, "block_size must be a positive int"),
        (lambda: sinusoidal_encoding(4, 5), ValueError, "n_embd must be even"),
        (lambda: sinusoidal_encoding(0, 4), ValueError, "T must be a positive int; got 0"),
        (lambda: LayerNorm(0), ValueError, "n_embd must be a positive int; got 0"),
        (lambda: LayerNorm(4, eps=0), ValueError, "eps must be a small positive number; got 0"),
        (lambda: LayerNorm(4, eps=-1e-5), ValueError, "eps must be a small positive number"),
        (lambda: LayerNorm(4, eps=float("nan")), ValueError, "got nan"),
        (lambda: LayerNorm(4, eps="1e-5"), TypeError, "eps must be a small positive number"),
        (
            lambda: Dropout(1, rng=0),
            ValueError,
            "p_drop must be in [0, 1) (1 would drop everything); got 1",
        ),
        (lambda: Dropout(1.0, rng=0), ValueError, "p_drop must be in [0, 1)"),
        (
            lambda: Dropout(-0.1, rng=0),
            ValueError,
            "p_drop must be in [0, 1) (1 would drop everything); got -0.1",
        ),
        (lambda: Dropout(float("nan"), rng=0), ValueError, "p_drop must be in [0, 1)"),
        (
            lambda: Dropout("a", rng=0),
            TypeError,
            "p_drop must be a number in [0, 1); got the string 'a'",
        ),
        (
            lambda: Dropout(True, rng=0),
            TypeError,
            "p_drop must be a number in [0, 1); got bool True",
        ),
        (
            lambda: Dropout(0.1, scale_at="test", rng=0),
            ValueError,
            "scale_at must be 'training' or 'inference'; got the string 'test'",
        ),
        (lambda: Residual(np.sum), TypeError, "inner must be a companion Module"),
    ],
)
def test_constructors_refuse_bad_arguments(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


@pytest.mark.parametrize(
    ("layer", "x", "error", "message"),
    [
        (
            Linear(4, 3, rng=0),
            np.zeros((2, 5)),
            ValueError,
            "x must have shape [..., 4] (its last axis holds the n_in = 4 inputs); "
            "got shape (2, 5)",
        ),
        (Linear(4, 3, rng=0), 1.0, ValueError, "x must have shape [..., 4]"),
        (
            Linear(4, 3, rng=0),
            [[1, 2, 3, float("nan")]],
            ValueError,
            "x must be finite; got nan at index (0, 3)",
        ),
        (Linear(4, 3, rng=0), "1234", TypeError, "x must be numbers, not text"),
        (ReLU(), [], ValueError, "x must not be empty"),
        (GELU(), [float("inf")], ValueError, "x must be finite; got inf"),
        (
            Embedding(5, 4, rng=0),
            [[1.0, 2.0]],
            TypeError,
            "ids must hold integer ids (an int array); got a list of 1 item(s) with dtype float64",
        ),
        (
            Embedding(5, 4, rng=0),
            [[1, 5]],
            ValueError,
            "ids must be ids in [0, 5); got 5 at index (0, 1)",
        ),
        (
            Embedding(5, 4, rng=0),
            [-1],
            ValueError,
            "ids must be ids in [0, 5); got -1 at index (0,)",
        ),
        (Embedding(5, 4, rng=0), [[1, 2], [3]], TypeError, "ids must be a rectangular array"),
        (Embedding(5, 4, rng=0), "hello", TypeError, "ids must be integer ids, not text"),
        (
            PositionalEmbedding(8, 4, rng=0),
            np.zeros((3, 4)),
            ValueError,
            "x must have shape [B, T, 4] (n_embd = 4); got shape (3, 4)",
        ),
        (PositionalEmbedding(8, 4, rng=0), np.zeros((2, 3, 5)), ValueError, "got shape (2, 3, 5)"),
        (
            PositionalEmbedding(2, 4, rng=0),
            np.zeros((1, 3, 4)),
            ValueError,
            "x must have at most block_size = 2 positions (axis 1); got T = 3",
        ),
        (
            LayerNorm(4),
            np.zeros((2, 3)),
            ValueError,
            "x must have shape [..., 4] (its last axis holds the n_embd = 4 numbers to normalize); "
            "got shape (2, 3)",
        ),
        (Dropout(0.1, rng=0), [1.0, float("nan")], ValueError, "x must be finite; got nan"),
        (
            Residual(Linear(4, 3, rng=0)),
            np.zeros((2, 4)),
            ValueError,
            "inner must keep the shape of its input to be added to it: x has shape (2, 4), "
            "inner(x) has shape (2, 3)",
        ),
    ],
)
def test_forward_refuses_bad_input(layer, x, error, message):
    with pytest.raises(error, match=re.escape(message)):
        layer.forward(x)


X3 = np.zeros((1, 2, 3))
LAYERS = {
    "Linear": (lambda: Linear(4, 3, rng=0), np.zeros((2, 4))),
    "ReLU": (ReLU, X3),
    "GELU": (GELU, X3),
    "Embedding": (lambda: Embedding(5, 3, rng=0), [[1, 2]]),
    "PositionalEmbedding": (lambda: PositionalEmbedding(8, 3, rng=0), X3),
    "LayerNorm": (lambda: LayerNorm(3), X3),
    "Dropout": (lambda: Dropout(0.5, rng=0), X3),
    "Residual": (lambda: Residual(Linear(3, 3, rng=0)), X3),
}


@pytest.mark.parametrize("name", LAYERS)
def test_backward_checks_dout_and_needs_forward_first(name):
    make, x = LAYERS[name]
    with pytest.raises(RuntimeError, match=re.escape(f"{name}.backward needs a forward pass")):
        make().backward(np.zeros(3))
    layer = make()
    out = layer.forward(x)
    wrong = np.zeros((*out.shape[:-1], out.shape[-1] + 1))
    message = f"dout must have shape [{', '.join(map(str, out.shape))}]; got shape {wrong.shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        layer.backward(wrong)
    with pytest.raises(ValueError, match="dout must be finite"):
        layer.backward(np.full(out.shape, np.nan))
