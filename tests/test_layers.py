"""The layers: each gradient against nudging, values worked by hand, and the door's messages.

Gradients are checked in float64 against :func:`companion.numerical_gradient` (central
differences); values are worked by hand in a comment or computed by a second, plainly
written formula inside the test. The door (``layer(x)``) gets one case per kind of mistake,
with the message checked. Attention layers are in ``test_attention.py``, the functions
(activations, softmax, losses) in ``test_functions.py``, the speed tricks in
``test_fast.py``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

from companion import (
    GELU,
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    Module,
    ReLU,
    Residual,
    gelu,
    numerical_gradient,
    relative_error,
    sinusoidal_encoding,
)
from companion.layers.mlp import MLP

F64 = np.float64
#: Normalised error accepted between a backward pass and nudging, in float64.
TOL = 1e-7


def gradient_errors(
    layer: Module, *inputs: np.ndarray, before_forward: Callable[[], None] = lambda: None
) -> dict[str, float]:
    """Normalised errors of ``layer.backward`` against nudging, per float input and parameter.

    The loss is ``sum(w * layer.forward(*inputs))`` for a fixed random ``w``, so that
    d loss / d output is ``w``: the gradient ``backward(w)`` must equal. Keys: ``"input 0"``,
    ``"input 1"``, ... and the parameters' names. Integer inputs (ids) must get ``None``.
    """

    def output() -> np.ndarray:
        before_forward()
        return layer.forward(*inputs)

    w = np.random.default_rng(99).standard_normal(np.shape(output()))

    def loss() -> float:
        return float(np.sum(w * output()))

    layer.zero_grad()
    output()
    dinputs = layer.backward(w)
    dinputs = dinputs if isinstance(dinputs, tuple) else (dinputs,)
    errors = {}
    for i, (x, dx) in enumerate(zip(inputs, dinputs, strict=True)):
        if x.dtype.kind == "f":
            errors[f"input {i}"] = relative_error(dx, numerical_gradient(loss, x))
        else:
            assert dx is None, "token ids have no gradient"
    for name, p, g in layer.named_parameters():
        errors[name] = relative_error(g.copy(), numerical_gradient(loss, p))
    return errors


def normal(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# -- every layer's backward pass against nudging (float64) --------------------------------


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_linear_gradients_match_nudging(bias):
    """Linear's backward gives d x, d W (and d b) for a batch of sequences [B, T, n_in]."""
    errors = gradient_errors(Linear(4, 3, bias, rng=0, dtype=F64), normal(2, 3, 4))
    assert set(errors) == ({"input 0", "W", "b"} if bias else {"input 0", "W"})
    assert max(errors.values()) < TOL, errors


def test_relu_gradient_matches_nudging():
    """ReLU's backward lets the gradient through where the input was positive."""
    assert gradient_errors(ReLU(), normal(3, 5))["input 0"] < TOL


def test_gelu_layer_gradient_matches_nudging():
    """The GELU layer's backward (the in-place slope, reusing forward's tanh) is right."""
    assert gradient_errors(GELU(), 2 * normal(3, 5))["input 0"] < TOL


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_layernorm_gradients_match_nudging(bias):
    """LayerNorm's backward gives d x, d gamma (and d beta), with gamma and beta not 1 and 0."""
    layer = LayerNorm(5, bias, dtype=F64)
    for p in layer.parameters().values():
        p[:] = normal(5, seed=2)
    errors = gradient_errors(layer, normal(2, 3, 5))
    assert set(errors) == ({"input 0", "gamma", "beta"} if bias else {"input 0", "gamma"})
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("scale_at", ["training", "inference"])
def test_dropout_gradient_with_a_fixed_mask_matches_nudging(scale_at):
    """In training mode, dropout's backward multiplies by the same mask (and scale) as forward."""
    layer = Dropout(0.4, rng=0, scale_at=scale_at)

    def same_mask() -> None:  # every forward of the check draws the same mask
        layer.rng = np.random.default_rng(7)

    x = normal(4, 6)
    assert gradient_errors(layer, x, before_forward=same_mask)["input 0"] < TOL
    assert np.any(layer.forward(x) == 0), "the mask must drop something for the test to mean it"


def test_embedding_gradient_with_repeated_ids_matches_nudging():
    """An id seen three times collects three rows of gradient; the ids get no gradient."""
    ids = np.array([[1, 3, 1], [1, 0, 4]])  # id 1 three times, id 2 never
    errors = gradient_errors(Embedding(5, 3, rng=0, dtype=F64), ids)
    assert set(errors) == {"W"}
    assert errors["W"] < TOL


def test_residual_gradient_is_the_sum_of_both_paths():
    """Residual's backward adds the straight path's gradient to the inner layer's."""
    errors = gradient_errors(Residual(Linear(4, 4, rng=0, dtype=F64)), normal(3, 4))
    assert set(errors) == {"input 0", "inner.W", "inner.b"}
    assert max(errors.values()) < TOL, errors


def test_mlp_gradients_match_nudging():
    """The feed-forward layer (c_fc, GELU, c_proj) passes the gradient check end to end."""
    errors = gradient_errors(MLP(4, rng=0, dtype=F64), normal(2, 3, 4))
    assert set(errors) == {"input 0", "c_fc.W", "c_fc.b", "c_proj.W", "c_proj.b"}
    assert max(errors.values()) < TOL, errors


# -- what the layers compute, by hand or by a second formula ------------------------------


def test_linear_by_hand():
    """out = x @ W + b: column j of W holds the weights into output j."""
    layer = Linear(2, 3, rng=0, dtype=F64)
    layer.params["W"][:] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    layer.params["b"][:] = [0.5, 0.0, -0.5]
    # [1, -1] @ W = [1 - 4, 2 - 5, 3 - 6] = [-3, -3, -3]; plus b
    assert layer([[1.0, -1.0]]).tolist() == [[-2.5, -3.0, -3.5]]


def test_linear_starts_with_spread_one_over_sqrt_n_in_and_zero_bias():
    """Initial weights have spread 1/sqrt(n_in), so an output is about as large as an input."""
    layer = Linear(400, 300, rng=0)
    assert layer.params["W"].std() == pytest.approx(1 / math.sqrt(400), rel=0.01)
    assert not layer.params["b"].any()


def test_same_seed_gives_the_same_start_in_float32_and_float64():
    """A float32 and a float64 layer made with one seed start from the same numbers (rounded)."""
    w32, w64 = Linear(3, 2, rng=5).params["W"], Linear(3, 2, rng=5, dtype=F64).params["W"]
    assert w32.dtype == np.float32 and w64.dtype == F64
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_relu_layer_by_hand():
    """ReLU's slope is 1 where the input was positive and 0 elsewhere, 0 at exactly 0 too."""
    layer = ReLU()
    assert layer([-26.6, 0.0, 3.0]).tolist() == [0.0, 0.0, 3.0]
    assert layer.backward(np.array([5.0, 5.0, 5.0])).tolist() == [0.0, 0.0, 5.0]


def test_layernorm_of_one_two_three_four_by_hand():
    """[1, 2, 3, 4]: mean 2.5, population variance 1.25, so (x - 2.5) / sqrt(1.25 + eps)."""
    # deviations -1.5, -0.5, 0.5, 1.5; squares 2.25, 0.25, 0.25, 2.25; mean 1.25 (divide by 4)
    std = math.sqrt(1.25 + 1e-5)
    expected = [-1.5 / std, -0.5 / std, 0.5 / std, 1.5 / std]  # about -1.342, -0.447, ...
    np.testing.assert_allclose(LayerNorm(4, dtype=F64)([[1.0, 2.0, 3.0, 4.0]]), [expected])


def test_layernorm_scales_by_gamma_and_shifts_by_beta():
    """After normalising, each number is multiplied by its gamma and shifted by its beta."""
    layer = LayerNorm(2, dtype=F64, eps=1e-12)
    layer.params["gamma"][:] = [2.0, 3.0]
    layer.params["beta"][:] = [1.0, -1.0]
    # [0, 10] normalises to [-1, 1]; then [2 * -1 + 1, 3 * 1 - 1]
    np.testing.assert_allclose(layer([[0.0, 10.0]]), [[-1.0, 2.0]])


def test_layernorm_of_equal_numbers_is_zero_not_nan():
    """A vector whose numbers are all equal has spread 0: eps keeps the division finite."""
    assert LayerNorm(3)([[7.0, 7.0, 7.0]]).tolist() == [[0.0, 0.0, 0.0]]


def test_dropout_drops_about_p_and_scales_the_kept_numbers():
    """While training, a fraction p of the numbers become 0 and the rest 1 / (1 - p) times."""
    out = Dropout(0.25, rng=0)(np.ones(20_000))
    assert set(np.unique(out).tolist()) == {0.0, 1 / 0.75}
    assert np.mean(out == 0) == pytest.approx(0.25, abs=0.01)  # 3 sigma is 0.009
    inference = Dropout(0.25, rng=0, scale_at="inference")(np.ones(10))
    assert set(np.unique(inference).tolist()) <= {0.0, 1.0}  # only drops, no scaling


def test_dropout_is_off_in_evaluation_mode():
    """eval(): everything is kept; with scale_at="inference" everything is scaled by 1 - p."""
    x = np.array([1.0, 2.0, 3.0])
    assert Dropout(0.25, rng=0).eval()(x).tolist() == [1.0, 2.0, 3.0]
    scaled = Dropout(0.25, rng=0, scale_at="inference").eval()(x)
    np.testing.assert_allclose(scaled, [0.75, 1.5, 2.25])


def test_dropout_of_zero_passes_the_input_through():
    """p_drop = 0 in training mode changes nothing, forward or backward."""
    x = np.array([1.0, -2.0])
    layer = Dropout(0.0, rng=0)
    assert layer(x).tolist() == [1.0, -2.0] and layer.backward(x).tolist() == [1.0, -2.0]


def test_embedding_lookup_is_a_one_hot_vector_times_the_table():
    """Looking up id i equals multiplying the one-hot vector of i by W."""
    table = Embedding(5, 3, rng=0, dtype=F64)
    ids = np.array([[4, 0, 4]])
    one_hot = np.eye(5)[ids]  # [1, 3, 5]
    np.testing.assert_array_equal(table(ids), one_hot @ table.params["W"])


def test_sinusoidal_encoding_by_hand():
    """PE[pos, 2i] = sin(pos / 10000^(2i/4)), PE[pos, 2i+1] = cos(...): speeds 1 and 1/100."""
    by_hand = [
        [math.sin(0), math.cos(0), math.sin(0), math.cos(0)],
        [math.sin(1), math.cos(1), math.sin(1 / 100), math.cos(1 / 100)],
        [math.sin(2), math.cos(2), math.sin(2 / 100), math.cos(2 / 100)],
    ]
    np.testing.assert_allclose(sinusoidal_encoding(3, 4, dtype=F64), by_hand, atol=1e-15)


def test_residual_by_hand():
    """x + relu(x): the straight path and the inner path, forward and backward."""
    block = Residual(ReLU())
    assert block([-2.0, 3.0]).tolist() == [-2.0, 6.0]  # [-2 + 0, 3 + 3]
    assert block.backward(np.array([1.0, 1.0])).tolist() == [1.0, 2.0]  # [1 + 0, 1 + 1]


def test_mlp_is_c_proj_of_gelu_of_c_fc():
    """The MLP equals gelu(x W1 + b1) W2 + b2, written out with its own parameters."""
    mlp = MLP(3, rng=0, dtype=F64)
    p = mlp.parameters()
    x = normal(2, 4, 3)
    plain = gelu(x @ p["c_fc.W"] + p["c_fc.b"]) @ p["c_proj.W"] + p["c_proj.b"]
    np.testing.assert_allclose(mlp(x), plain, rtol=1e-12)


def test_a_float32_layer_computes_in_float32_whatever_it_is_given():
    """float64 input to a float32 layer is converted; output and gradients stay float32."""
    layer = Linear(3, 2, rng=0)
    out = layer(normal(4, 3))
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert layer.grads["W"].dtype == np.float32


# -- the door: one case per kind of mistake, the message naming the argument -------------


def test_wrong_shape_names_x_and_the_shape_expected():
    """Five numbers per row for a layer of four inputs: the message gives [..., 4]."""
    message = "x must have shape [..., 4] (n_in last); got shape (2, 5)"
    with pytest.raises(ValueError, match=re.escape(message)):
        Linear(4, 2, rng=0)(np.ones((2, 5)))


def test_text_is_refused_as_not_numbers():
    """A string that looks like numbers is still text."""
    message = "x must be numbers (int or float), not text; got the string '1 2 3 4'"
    with pytest.raises(TypeError, match=re.escape(message)):
        Linear(4, 2, rng=0)("1 2 3 4")


def test_an_array_of_other_things_than_numbers_is_refused_with_its_dtype():
    """True/False are not numbers to a layer: the message gives the shape and dtype."""
    message = "x must hold numbers (int or float); got an array of shape (1, 2) and dtype bool"
    with pytest.raises(TypeError, match=re.escape(message)):
        LayerNorm(2)(np.array([[True, False]]))


def test_ragged_lists_are_refused():
    """Rows of different lengths are not an array."""
    message = "x must be a rectangular array of numbers (int or float); got a list of 2 item(s)"
    with pytest.raises(TypeError, match=re.escape(message)):
        Linear(2, 2, rng=0)([[1.0, 2.0], [3.0]])


def test_an_empty_batch_is_refused():
    """No rows at all: there is nothing to compute."""
    with pytest.raises(ValueError, match=re.escape("x must not be empty; got shape (0, 4)")):
        Linear(4, 2, rng=0)(np.ones((0, 4)))


def test_nan_is_refused_naming_where_it_is():
    """A NaN anywhere in x: the message says finite numbers were expected and where."""
    message = "x must hold finite float32 numbers; got nan at index (0, 1)"
    with pytest.raises(ValueError, match=re.escape(message)):
        LayerNorm(3)([[1.0, np.nan, 2.0]])


def test_nan_is_not_called_too_large():
    """A NaN was never a large number: the message must not blame the float32 range."""
    with pytest.raises(ValueError) as refused:
        LayerNorm(3)([[1.0, np.nan, 2.0]])
    assert "too large" not in str(refused.value)


def test_float64_input_too_large_for_float32_is_refused():
    """1e308 is finite in float64 but infinity once cast to the layer's float32."""
    message = "x must hold finite float32 numbers; got 1e+308 at index (0, 0) (too large for"
    with pytest.raises(ValueError, match=re.escape(message)):
        Linear(4, 2, rng=0)(np.array([[1e308, 0.0, 0.0, 0.0]]))


def test_out_of_range_id_is_refused_naming_the_range():
    """Id 5 in a table of 5 rows (ids 0 to 4)."""
    message = "ids must be ids in [0, 5); got 5 at index (0, 1)"
    with pytest.raises(ValueError, match=re.escape(message)):
        Embedding(5, 3, rng=0)([[1, 5]])


def test_float_ids_are_refused():
    """Ids are whole numbers: 1.0 is refused rather than silently truncated."""
    with pytest.raises(TypeError, match=re.escape("ids must hold integer ids; got a list")):
        Embedding(5, 3, rng=0)([[1.0, 2.0]])


def test_residual_refuses_an_inner_layer_that_changes_the_shape():
    """x + inner(x) needs inner(x) of x's shape."""
    message = "inner must keep the shape of its input to be added to it: x has shape (2, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        Residual(Linear(4, 3, rng=0))(np.ones((2, 4)))


def test_a_size_must_be_a_positive_int():
    """Constructors check their sizes: a layer of 0 inputs is refused."""
    with pytest.raises(ValueError, match=re.escape("n_in must be an int >= 1; got 0")):
        Linear(0, 2, rng=0)


def test_dropout_of_one_is_refused():
    """p_drop = 1 would drop everything (and divide by 0)."""
    with pytest.raises(ValueError, match=re.escape("p_drop must be a finite number >= 0 and < 1")):
        Dropout(1, rng=0)
