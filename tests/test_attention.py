"""Attention: worked by hand, against explicit loops, gradients against nudging, the door.

The second implementation here is attention written as Python loops over sequences,
heads and positions, with ``math.exp`` for softmax: what chapters 8 and 13 describe, one
number at a time. The layers must compute the same thing with matrix products.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from companion import (
    CrossAttention,
    Module,
    MultiHeadAttention,
    SelfAttention,
    attention,
    causal_mask,
    merge_heads,
    numerical_gradient,
    relative_error,
    split_heads,
)

F64 = np.float64
TOL = 1e-7


def normal(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def attention_by_loops(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    """One head of one sequence, q [T, d], k [S, d], v [S, d_v], one number at a time."""
    T, d = q.shape
    out = np.zeros((T, v.shape[1]))
    for t in range(T):
        seen = range(t + 1) if causal else range(len(k))  # the keys query t may look at
        scores = [sum(q[t, i] * k[s, i] for i in range(d)) / math.sqrt(d) for s in seen]
        e = [math.exp(score - max(scores)) for score in scores]
        for s, weight in zip(seen, e, strict=True):
            out[t] += weight / sum(e) * v[s]
    return out


def multihead_by_loops(
    layer: MultiHeadAttention | CrossAttention, x: np.ndarray, memory: np.ndarray | None = None
) -> np.ndarray:
    """Multi-head (or cross-) attention as loops over sequences and heads, from the weights.

    Head h owns the columns h * hs to (h + 1) * hs of the queries, keys and values; the
    heads' outputs are concatenated and multiplied by c_proj.
    """
    C, nh = layer.n_embd, layer.n_head
    hs = C // nh
    if memory is None:  # self-attention: c_attn makes queries, keys and values from x
        qkv = x @ layer.c_attn.params["W"] + layer.c_attn.params["b"]
        q, k, v = qkv[..., :C], qkv[..., C : 2 * C], qkv[..., 2 * C :]
        causal = layer.causal
    else:  # cross-attention: queries from x, keys and values from the memory
        q = x @ layer.c_q.params["W"] + layer.c_q.params["b"]
        kv = memory @ layer.c_kv.params["W"] + layer.c_kv.params["b"]
        k, v, causal = kv[..., :C], kv[..., C:], False
    out = np.zeros(x.shape)
    for b in range(len(x)):
        heads = [
            attention_by_loops(q[b, :, cols], k[b, :, cols], v[b, :, cols], causal)
            for cols in (slice(h * hs, (h + 1) * hs) for h in range(nh))
        ]
        out[b] = np.concatenate(heads, axis=-1) @ layer.c_proj.params["W"]
    return out + layer.c_proj.params["b"]


def gradient_errors(layer: Module, *inputs: np.ndarray) -> dict[str, float]:
    """Normalised errors of ``layer.backward`` against nudging, for each input and parameter.

    The loss is ``sum(w * layer.forward(*inputs))`` for a fixed random ``w``.
    """
    w = np.random.default_rng(99).standard_normal(layer.forward(*inputs).shape)

    def loss() -> float:
        return float(np.sum(w * layer.forward(*inputs)))

    layer.zero_grad()
    loss()
    dinputs = layer.backward(w)
    dinputs = dinputs if isinstance(dinputs, tuple) else (dinputs,)
    errors = {
        f"input {i}": relative_error(dx, numerical_gradient(loss, x))
        for i, (x, dx) in enumerate(zip(inputs, dinputs, strict=True))
    }
    for name, p, g in layer.named_parameters():
        errors[name] = relative_error(g.copy(), numerical_gradient(loss, p))
    return errors


# -- by hand ------------------------------------------------------------------------------


def test_the_articles_weights_a_half_a_quarter_a_quarter():
    """Scores ln 2, 0, 0 (after the 1/sqrt(d) scale, d = 1): softmax gives 2/4, 1/4, 1/4."""
    q = np.array([[1.0]])
    k = np.array([[math.log(2)], [0.0], [0.0]])
    v = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    out, u = attention(q, k, v)
    np.testing.assert_allclose(u, [[0.5, 0.25, 0.25]])
    # 0.5 [1, 0] + 0.25 [0, 1] + 0.25 [2, 2] = [1, 0.75]
    np.testing.assert_allclose(out, [[1.0, 0.75]])


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "not-causal"])
def test_attention_with_q_equal_to_k_equal_to_the_identity_by_hand(causal):
    """q = k = I (d = 2), v = [1, 3]: the scores are I / sqrt(2); softmax row by row."""
    u_self = 1 / (1 + math.exp(-1 / math.sqrt(2)))  # e^(1/sqrt2) / (e^(1/sqrt2) + e^0): 0.6698
    if causal:  # row 0 sees only itself; row 1 scores [0, 1/sqrt2]
        u = [[1.0, 0.0], [1 - u_self, u_self]]
    else:  # row 0 scores [1/sqrt2, 0]; row 1 scores [0, 1/sqrt2]
        u = [[u_self, 1 - u_self], [1 - u_self, u_self]]
    out, weights = attention(np.eye(2), np.eye(2), np.array([[1.0], [3.0]]), causal)
    np.testing.assert_allclose(weights, u, rtol=1e-15)
    # causal row 1: 0.3302 * 1 + 0.6698 * 3 = 2.3396
    np.testing.assert_allclose(out, [[u[0][0] + 3 * u[0][1]], [u[1][0] + 3 * u[1][1]]])


def test_causal_mask_by_hand():
    """0 where query t may look at key s <= t, -inf above the diagonal."""
    assert causal_mask(3).tolist() == [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]]


# -- against the loops --------------------------------------------------------------------


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "not-causal"])
def test_attention_equals_the_loops_over_positions(causal):
    """The matrix formula on [B, nh, T, d] arrays equals the loops, sequence by sequence."""
    q, k, v = normal(2, 3, 4, 5, seed=1), normal(2, 3, 4, 5, seed=2), normal(2, 3, 4, 2, seed=3)
    out, u = attention(q, k, v, causal)
    for b in range(2):
        for h in range(3):
            expected = attention_by_loops(q[b, h], k[b, h], v[b, h], causal)
            np.testing.assert_allclose(out[b, h], expected, rtol=1e-12)
    np.testing.assert_allclose(u.sum(axis=-1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "not-causal"])
def test_multihead_attention_equals_the_loops_over_heads(causal):
    """All heads at once (one c_attn, a reshape) equals each head on its own columns."""
    layer = MultiHeadAttention(6, 3, causal, rng=0, dtype=F64)
    layer.c_attn.params["b"][:] = normal(18, seed=4)  # biases that are not 0
    x = normal(2, 4, 6)
    np.testing.assert_allclose(layer(x), multihead_by_loops(layer, x), rtol=1e-11)


def test_multihead_attention_is_self_attention_heads_side_by_side():
    """Chapter 13 from chapter 8: n_head SelfAttention heads, concatenated, then c_proj."""
    layer = MultiHeadAttention(6, 2, bias=False, rng=0, dtype=F64)
    W = layer.c_attn.params["W"]  # [C, 3C]: the queries', keys' and values' columns
    x = normal(2, 5, 6)
    heads = []
    for h in range(2):
        head = SelfAttention(6, 3, causal=True, rng=0, dtype=F64)
        for name, third in (("W_q", 0), ("W_k", 1), ("W_v", 2)):
            head.params[name][:] = W[:, 6 * third + 3 * h : 6 * third + 3 * h + 3]
        heads.append(head(x))
    by_heads = np.concatenate(heads, axis=-1) @ layer.c_proj.params["W"]
    np.testing.assert_allclose(layer(x), by_heads, rtol=1e-12)


def test_cross_attention_equals_the_loops_with_another_source_length():
    """Queries from x (T = 3), keys and values from a memory of S = 5 positions, no mask."""
    layer = CrossAttention(4, 2, rng=0, dtype=F64)
    for linear in (layer.c_q, layer.c_kv, layer.c_proj):
        linear.params["b"][:] = normal(linear.n_out, seed=5)
    x, memory = normal(2, 3, 4, seed=6), normal(2, 5, 4, seed=7)
    out = layer(x, memory)
    assert out.shape == (2, 3, 4) and layer.u.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(out, multihead_by_loops(layer, x, memory), rtol=1e-11)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SelfAttention(4, 3, rng=0, dtype=F64),
        lambda: MultiHeadAttention(4, 2, rng=0, dtype=F64),
    ],
    ids=["SelfAttention", "MultiHeadAttention"],
)
def test_a_causal_layer_does_not_look_ahead(make):
    """Changing the input at position 3 leaves the outputs at positions 0 to 2 exactly alone."""
    layer = make()
    x = normal(2, 5, 4)
    before = layer(x)
    x[:, 3:] += 1.0
    after = layer(x)
    np.testing.assert_array_equal(after[:, :3], before[:, :3])
    assert not np.allclose(after[:, 3:], before[:, 3:])


def test_split_and_merge_heads_are_inverses():
    """[B, T, C] -> [B, nh, T, hs] -> [B, T, C] gives back the same array; head 1 is columns 2-3."""
    x = np.arange(24.0).reshape(2, 3, 4)
    heads = split_heads(x, 2)
    np.testing.assert_array_equal(heads[:, 1], x[..., 2:4])
    np.testing.assert_array_equal(merge_heads(heads), x)


# -- gradients against nudging (float64) --------------------------------------------------


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "not-causal"])
def test_self_attention_gradients_match_nudging(causal):
    """One head: d x and d W_k, d W_q, d W_v through scores, softmax and the weighted sum."""
    errors = gradient_errors(SelfAttention(4, 3, causal, rng=0, dtype=F64), normal(2, 4, 4))
    assert set(errors) == {"input 0", "W_k", "W_q", "W_v"}
    assert max(errors.values()) < TOL, errors


def test_multihead_attention_gradients_match_nudging():
    """Two heads: d x and the gradients of c_attn and c_proj (weights and biases)."""
    errors = gradient_errors(MultiHeadAttention(4, 2, rng=0, dtype=F64), normal(2, 3, 4))
    assert set(errors) == {"input 0", "c_attn.W", "c_attn.b", "c_proj.W", "c_proj.b"}
    assert max(errors.values()) < TOL, errors


def test_cross_attention_gradients_of_both_inputs_match_nudging():
    """backward returns (d x, d memory): the queries' input and the keys' and values' input."""
    layer = CrossAttention(4, 2, rng=0, dtype=F64)
    errors = gradient_errors(layer, normal(2, 3, 4, seed=2), normal(2, 5, 4, seed=3))
    assert {"input 0", "input 1", "c_q.W", "c_kv.W", "c_proj.W"} <= set(errors)
    assert max(errors.values()) < TOL, errors


# -- the door -----------------------------------------------------------------------------


def test_heads_must_divide_the_width():
    """8 numbers cannot be shared by 3 heads: the message shows the division."""
    message = "n_embd must be divisible by n_head so every head gets the same size; got n_embd=8"
    with pytest.raises(ValueError, match=re.escape(message)):
        MultiHeadAttention(8, 3, rng=0)


def test_attention_input_must_be_a_batch_of_sequences():
    """A single [T, C] sequence is refused: the layer wants [B, T, C]."""
    message = "x must have shape [B, T, 4]; got shape (3, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        SelfAttention(4, 2, rng=0)(np.ones((3, 4)))


def test_memory_must_have_the_batch_size_of_x():
    """Cross-attention pairs sequence b of x with sequence b of the memory."""
    message = "memory must have shape [2, S, 8] (the batch size of x); got shape (3, 4, 8)"
    with pytest.raises(ValueError, match=re.escape(message)):
        CrossAttention(8, 2, rng=0)(np.ones((2, 3, 8)), np.ones((3, 4, 8)))
