"""Self-attention, multi-head attention and cross-attention: gradients, masks, known values."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from companion.attention import (
    SelfAttention,
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from companion.cross_attention import CrossAttention
from companion.gradcheck import gradcheck
from companion.multihead import MultiHeadAttention, merge_heads, split_heads


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def naive_softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def naive_heads(x, context, p, n_head, causal):
    """Multi-head attention with a Python loop over examples and heads, from the formulas."""
    B, T, C = x.shape
    hs = C // n_head
    out = np.zeros_like(x)
    for b in range(B):
        heads = []
        for h in range(n_head):
            cols = slice(h * hs, (h + 1) * hs)  # head h's columns of W_q, W_k, W_v
            q = x[b] @ p["W_q"][:, cols]
            k = context[b] @ p["W_k"][:, cols]
            v = context[b] @ p["W_v"][:, cols]
            scores = q @ k.T / math.sqrt(hs)
            if causal:
                scores[np.triu_indices(T, k=1)] = -np.inf
            heads.append(naive_softmax(scores) @ v)
        out[b] = np.concatenate(heads, axis=1) @ p["W_o"] + p["b_o"]
    return out


# -- gradients against nudging ------------------------------------------------------------


def check_all_gradients(layer, inputs, run):
    """Gradcheck d loss / d every input and every parameter; loss = sum(out * R)."""
    R = rng(99).standard_normal(run().shape)
    layer.zero_grad()
    run()
    d_inputs = layer.backward(R)
    d_inputs = d_inputs if isinstance(d_inputs, tuple) else (d_inputs,)

    def loss():
        return float(np.sum(run() * R))

    errors = {}
    for i, (x, dx) in enumerate(zip(inputs, d_inputs, strict=True)):
        errors[f"input {i}"] = gradcheck(loss, x, dx)
    for name, p in layer.params.items():
        errors[name] = gradcheck(loss, p, layer.grads[name].copy())
    return errors


@pytest.mark.parametrize("causal", [True, False])
def test_self_attention_gradients_match_nudging(causal):
    head = SelfAttention(5, 3, causal=causal, rng=rng(), dtype=np.float64)
    x = rng(1).standard_normal((2, 4, 5))
    check_all_gradients(head, [x], lambda: head.forward(x))


def test_multihead_attention_gradients_match_nudging():
    mha = MultiHeadAttention(6, 2, causal=True, rng=rng(), dtype=np.float64)
    mha.params["b_o"][:] = rng(2).standard_normal(6)
    x = rng(1).standard_normal((2, 4, 6))
    check_all_gradients(mha, [x], lambda: mha.forward(x))


def test_cross_attention_gradients_match_nudging():
    cross = CrossAttention(6, 3, rng=rng(), dtype=np.float64)
    x = rng(1).standard_normal((2, 3, 6))
    context = rng(2).standard_normal((2, 5, 6))
    errors = check_all_gradients(cross, [x, context], lambda: cross.forward(x, context))
    assert set(errors) == {"input 0", "input 1", "W_k", "W_q", "W_v", "W_o", "b_o"}


def test_scaled_dot_product_attention_backward_matches_nudging():
    q = rng(1).standard_normal((2, 3, 4))
    k = rng(2).standard_normal((2, 5, 4))
    v = rng(3).standard_normal((2, 5, 2))
    R = rng(4).standard_normal((2, 3, 2))
    out, u = scaled_dot_product_attention(q, k, v)
    dq, dk, dv = scaled_dot_product_attention_backward(R, q, k, v, u)

    def loss():
        return float(np.sum(scaled_dot_product_attention(q, k, v)[0] * R))

    for array, grad in ((q, dq), (k, dk), (v, dv)):
        gradcheck(loss, array, grad)


def test_backward_adds_to_the_gradients_and_leaves_dout_alone():
    mha = MultiHeadAttention(4, 2, rng=rng(), dtype=np.float64)
    x = rng(1).standard_normal((2, 3, 4))
    dout = rng(2).standard_normal((2, 3, 4))
    saved = dout.copy()
    mha.forward(x)
    mha.backward(dout)
    once = {name: g.copy() for name, g in mha.grads.items()}
    mha.backward(dout)
    for name, g in mha.grads.items():
        np.testing.assert_allclose(g, 2 * once[name])
    np.testing.assert_array_equal(dout, saved)


# -- what attention computes --------------------------------------------------------------


def test_the_articles_weights_half_a_quarter_a_quarter():
    # One query, three keys: scores ln 2, 0, 0 give u = 2/4, 1/4, 1/4 after softmax.
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    q = np.array([[1.0]])
    k = np.array([[math.log(2)], [0.0], [0.0]])
    out, u = scaled_dot_product_attention(q, k, x)
    np.testing.assert_allclose(u, [[0.5, 0.25, 0.25]])
    np.testing.assert_allclose(out, [0.5 * x[0] + 0.25 * x[1] + 0.25 * x[2]])


def test_two_positions_with_a_causal_mask_by_hand():
    q = k = np.eye(2)
    v = np.array([[1.0], [3.0]])
    out, u = scaled_dot_product_attention(q, k, v, causal=True)
    # Row 0 sees only itself. Row 1 has scores 0 and 1/sqrt(2).
    u1 = 1 / (1 + math.exp(-1 / math.sqrt(2)))
    np.testing.assert_allclose(u, [[1.0, 0.0], [1 - u1, u1]])
    np.testing.assert_allclose(out, [[1.0], [(1 - u1) * 1 + u1 * 3]])


@pytest.mark.parametrize("causal", [True, False])
def test_attention_weights_rows_sum_to_one(causal):
    head = SelfAttention(4, 3, causal=causal, rng=rng())
    head.forward(rng(1).standard_normal((2, 6, 4)))
    assert head.weights is not None and head.weights.shape == (2, 6, 6)
    np.testing.assert_allclose(head.weights.sum(axis=-1), 1.0, rtol=1e-6)
    assert np.all(head.weights >= 0)
    above_diagonal = head.weights[:, np.triu_indices(6, k=1)[0], np.triu_indices(6, k=1)[1]]
    assert np.all(above_diagonal == 0) == causal


@pytest.mark.parametrize(
    "make",
    [
        lambda causal: SelfAttention(4, 3, causal=causal, rng=rng(), dtype=np.float64),
        lambda causal: MultiHeadAttention(4, 2, causal=causal, rng=rng(), dtype=np.float64),
    ],
    ids=["SelfAttention", "MultiHeadAttention"],
)
@pytest.mark.parametrize("t", [0, 2, 4])
def test_causal_mask_blocks_the_future(make, t):
    x = rng(1).standard_normal((2, 6, 4))
    changed = x.copy()
    changed[:, t + 1] += rng(2).standard_normal((2, 4))  # change position t + 1 only
    masked = make(True)
    before, after = masked.forward(x), masked.forward(changed)
    np.testing.assert_array_equal(after[:, : t + 1], before[:, : t + 1])
    assert not np.allclose(after[:, t + 1 :], before[:, t + 1 :])
    # Without the mask, the same change reaches the earlier positions: the test can fail.
    unmasked = make(False)
    assert not np.allclose(unmasked.forward(changed)[:, : t + 1], unmasked.forward(x)[:, : t + 1])


def test_multihead_with_one_head_is_self_attention_then_the_output_projection():
    mha = MultiHeadAttention(4, 1, causal=True, rng=rng(), dtype=np.float64)
    mha.params["b_o"][:] = [0.1, -0.2, 0.3, 0.4]
    head = SelfAttention(4, 4, causal=True, rng=rng(5), dtype=np.float64)
    for name in ("W_k", "W_q", "W_v"):
        head.params[name][:] = mha.params[name]
    x = rng(1).standard_normal((2, 5, 4))
    by_hand = head.forward(x) @ mha.params["W_o"] + mha.params["b_o"]
    np.testing.assert_allclose(mha.forward(x), by_hand, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mha.weights[:, 0], head.weights, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("causal", [True, False])
def test_multihead_equals_a_loop_over_heads(causal):
    mha = MultiHeadAttention(12, 3, causal=causal, rng=rng(), dtype=np.float64)
    mha.params["b_o"][:] = rng(3).standard_normal(12)
    x = rng(1).standard_normal((2, 5, 12))
    expected = naive_heads(x, x, mha.params, n_head=3, causal=causal)
    np.testing.assert_allclose(mha.forward(x), expected, rtol=1e-10, atol=1e-12)


def test_cross_attention_equals_a_loop_over_heads_with_other_lengths():
    cross = CrossAttention(8, 2, rng=rng(), dtype=np.float64)
    cross.params["b_o"][:] = rng(3).standard_normal(8)
    x, context = rng(1).standard_normal((3, 2, 8)), rng(2).standard_normal((3, 7, 8))
    out = cross.forward(x, context)
    assert out.shape == (3, 2, 8) and cross.weights.shape == (3, 2, 2, 7)
    expected = naive_heads(x, context, cross.params, n_head=2, causal=False)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_cross_attention_to_itself_is_unmasked_multihead_attention():
    cross = CrossAttention(6, 2, rng=rng(), dtype=np.float64)
    mha = MultiHeadAttention(6, 2, causal=False, rng=rng(), dtype=np.float64)
    x = rng(1).standard_normal((2, 4, 6))
    np.testing.assert_allclose(cross(x, x), mha(x), rtol=1e-12)
    dout = rng(2).standard_normal((2, 4, 6))
    dx, dcontext = cross.backward(dout)
    np.testing.assert_allclose(dx + dcontext, mha.backward(dout), rtol=1e-10, atol=1e-12)


def test_split_then_merge_heads_gives_back_the_input():
    x = np.arange(2 * 3 * 8.0).reshape(2, 3, 8)
    heads = split_heads(x, 4)
    assert heads.shape == (2, 4, 3, 2)
    np.testing.assert_array_equal(heads[1, 2, 0], x[1, 0, 4:6])  # head 2 holds columns 4:6
    np.testing.assert_array_equal(merge_heads(heads), x)


# -- dtypes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "inputs"),
    [
        (lambda: SelfAttention(4, 3, rng=rng()), ((2, 5, 4),)),
        (lambda: MultiHeadAttention(4, 2, rng=rng()), ((2, 5, 4),)),
        (lambda: CrossAttention(4, 2, rng=rng()), ((2, 5, 4), (2, 3, 4))),
    ],
    ids=["SelfAttention", "MultiHeadAttention", "CrossAttention"],
)
def test_float32_in_float32_out_and_float32_gradients(make, inputs):
    layer = make()
    xs = [rng(i).standard_normal(shape).astype(np.float32) for i, shape in enumerate(inputs)]
    out = layer.forward(*xs)
    assert out.dtype == np.float32
    assert all(p.dtype == np.float32 for p in layer.params.values())
    d_inputs = layer.backward(np.ones_like(out))
    d_inputs = d_inputs if isinstance(d_inputs, tuple) else (d_inputs,)
    assert all(d.dtype == np.float32 for d in d_inputs)
    assert all(g.dtype == np.float32 for g in layer.grads.values())
    assert layer.weights.dtype == np.float32


def test_float64_input_is_converted_to_the_layers_float32():
    head = SelfAttention(4, 3, rng=rng())
    x = rng(1).standard_normal((2, 5, 4))
    out = head.forward(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, head.forward(x.astype(np.float32)))


def test_parameter_names_and_shapes():
    head = SelfAttention(8, 3, rng=rng())
    assert {n: p.shape for n, p in head.params.items()} == {
        "W_k": (8, 3),
        "W_q": (8, 3),
        "W_v": (8, 3),
    }
    mha = MultiHeadAttention(8, 2, rng=rng())
    shapes = {n: p.shape for n, p in mha.params.items()}
    assert shapes == {"W_k": (8, 8), "W_q": (8, 8), "W_v": (8, 8), "W_o": (8, 8), "b_o": (8,)}
    assert mha.head_size == 4 and mha.n_parameters == 4 * 64 + 8


def test_same_rng_seed_gives_the_same_layer():
    a, b = MultiHeadAttention(8, 2, rng=rng(7)), MultiHeadAttention(8, 2, rng=rng(7))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: SelfAttention(0, 2, rng=rng()),
            ValueError,
            "n_embd must be a positive int; got 0",
        ),
        (
            lambda: SelfAttention(4, 2.5, rng=rng()),
            TypeError,
            "head_size must be a positive int; got float 2.5",
        ),
        (
            lambda: SelfAttention(4, 2, causal="yes", rng=rng()),
            TypeError,
            "causal must be True or False; got the string 'yes'",
        ),
        (
            lambda: SelfAttention(4, 2, rng="0"),
            TypeError,
            "rng must be a numpy Generator (np.random.default_rng(seed)) or an int seed; "
            "got the string '0'",
        ),
        (
            lambda: SelfAttention(4, 2, rng=rng(), dtype=np.int32),
            ValueError,
            "dtype must be np.float32 or np.float64; got type <class 'numpy.int32'>",
        ),
        (
            lambda: SelfAttention(4, 2, rng=rng(), dtype="float16"),
            ValueError,
            "dtype must be np.float32 or np.float64; got the string 'float16'",
        ),
        (
            lambda: MultiHeadAttention(10, 4, rng=rng()),
            ValueError,
            "n_embd must be divisible by n_head so every head gets the same size; "
            "got n_embd=10 and n_head=4 (10 / 4 = 2.5)",
        ),
        (
            lambda: MultiHeadAttention(8, 0, rng=rng()),
            ValueError,
            "n_head must be a positive int; got 0",
        ),
        (
            lambda: MultiHeadAttention(8, 2, causal=1, rng=rng()),
            TypeError,
            "causal must be True or False; got int 1",
        ),
        (lambda: CrossAttention(6, 4, rng=rng()), ValueError, "got n_embd=6 and n_head=4"),
        (lambda: CrossAttention(6, 2, rng=None), TypeError, "rng must be a numpy Generator"),
    ],
)
def test_constructors_refuse_bad_arguments(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


HEAD = SelfAttention(4, 3, rng=rng())
MHA = MultiHeadAttention(4, 2, rng=rng())
CROSS = CrossAttention(4, 2, rng=rng())
X = np.zeros((2, 5, 4))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: HEAD.forward(np.zeros((2, 5, 3))),
            ValueError,
            "x must have shape [batch, T, 4]; got shape (2, 5, 3)",
        ),
        (
            lambda: HEAD.forward(np.zeros((5, 4))),
            ValueError,
            "x must have shape [batch, T, 4]; got shape (5, 4)",
        ),
        (
            lambda: HEAD.forward(np.full((1, 2, 4), np.nan)),
            ValueError,
            "x must be finite; got nan at index (0, 0, 0)",
        ),
        (lambda: HEAD.forward("text"), TypeError, "x must be numbers, not text"),
        (
            lambda: MHA.forward(np.zeros((2, 5, 8))),
            ValueError,
            "x must have shape [batch, T, 4]; got shape (2, 5, 8)",
        ),
        (
            lambda: CROSS.forward(X, np.zeros((3, 7, 4))),
            ValueError,
            "context must have the batch size of x, 2; got 3 (x (2, 5, 4), context (3, 7, 4))",
        ),
        (
            lambda: CROSS.forward(X, np.zeros((2, 7, 6))),
            ValueError,
            "context must have shape [batch, S, 4] (4 = n_embd channels); got shape (2, 7, 6)",
        ),
        (
            lambda: CROSS.forward(X, np.zeros((7, 4))),
            ValueError,
            "context must have shape [batch, S, 4] (4 = n_embd channels); got shape (7, 4)",
        ),
        (
            lambda: CROSS.forward(np.zeros((2, 5, 6)), X),
            ValueError,
            "x must have shape [batch, T, 4] (4 = n_embd channels); got shape (2, 5, 6)",
        ),
    ],
)
def test_forward_refuses_bad_inputs(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


@pytest.mark.parametrize(
    ("make", "dout_shape", "message"),
    [
        (
            lambda: SelfAttention(4, 3, rng=rng()),
            (2, 5, 4),
            "dout must have shape [2, 5, 3]; got shape (2, 5, 4)",
        ),
        (
            lambda: MultiHeadAttention(4, 2, rng=rng()),
            (2, 4, 4),
            "dout must have shape [2, 5, 4]; got shape (2, 4, 4)",
        ),
        (
            lambda: CrossAttention(4, 2, rng=rng()),
            (2, 7, 4),
            "dout must have shape [2, 5, 4]; got shape (2, 7, 4)",
        ),
    ],
    ids=["SelfAttention", "MultiHeadAttention", "CrossAttention"],
)
def test_backward_refuses_before_forward_and_a_dout_of_another_shape(make, dout_shape, message):
    layer = make()
    with pytest.raises(RuntimeError, match=re.escape("call forward before backward")):
        layer.backward(np.zeros(dout_shape))
    layer.forward(*([X, np.zeros((2, 7, 4))] if isinstance(layer, CrossAttention) else [X]))
    with pytest.raises(ValueError, match=re.escape(message)):
        layer.backward(np.zeros(dout_shape))


Q, K, V = np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 6))
U = np.zeros((2, 3, 5))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: scaled_dot_product_attention(Q, np.zeros((2, 5, 3)), V),
            ValueError,
            "k must have shape [..., S, 4] with the leading axes of q (2,); "
            "got q (2, 3, 4) and k (2, 5, 3)",
        ),
        (
            lambda: scaled_dot_product_attention(Q, K, np.zeros((2, 4, 6))),
            ValueError,
            "v must have shape [..., 5, d_v] like k (2, 5, 4); got (2, 4, 6)",
        ),
        (
            lambda: scaled_dot_product_attention(Q, K, V, causal=True),
            ValueError,
            "a causal mask needs as many keys as queries; got T=3 and S=5",
        ),
        (
            lambda: scaled_dot_product_attention(Q, K, V, causal="no"),
            TypeError,
            "causal must be True or False; got the string 'no'",
        ),
        (
            lambda: scaled_dot_product_attention_backward(np.zeros((2, 3, 5)), Q, K, V, U),
            ValueError,
            "dout must have shape (2, 3, 6) to match q (2, 3, 4), k (2, 5, 4) and v (2, 5, 6); "
            "got (2, 3, 5)",
        ),
        (
            lambda: scaled_dot_product_attention_backward(np.zeros((2, 3, 6)), Q, K, V, U.T),
            ValueError,
            "u must have shape (2, 3, 5)",
        ),
        (
            lambda: scaled_dot_product_attention_backward([[0.0]], Q, K, V, U),
            TypeError,
            "dout must be a float array with 2 or more axes; got a list of 1 item(s)",
        ),
        (
            lambda: split_heads(np.zeros((2, 3, 6)), 4),
            ValueError,
            "the 6 channels of x do not split into n_head=4 heads",
        ),
        (
            lambda: split_heads(np.zeros((3, 6)), 2),
            ValueError,
            "x must be an array of shape [B, T, C]; got an array of shape (3, 6)",
        ),
        (
            lambda: merge_heads(np.zeros((2, 3, 6))),
            ValueError,
            "x must be an array of shape [B, n_head, T, head_size]; "
            "got an array of shape (2, 3, 6)",
        ),
    ],
)
def test_attention_functions_refuse_bad_inputs(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
