"""The encoder-decoder Transformer (companion.models.transformer).

Gradients against nudging (float64), the count of parameters from the sizes, what the
decoder may see, greedy decoding against a hand-written loop, and the model's door.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from companion import Transformer, TransformerConfig, numerical_gradient, relative_error
from companion.models.transformer import DecoderBlock

F64 = np.float64
TINY = TransformerConfig(5, 6, src_block_size=4, tgt_block_size=5, n_layer=1, n_head=2, n_embd=4)


def unit_tables(model: Transformer) -> Transformer:
    """Scale the four std-0.02 tables to spread 1, for honest nudging.

    With 0.02 tables the first LayerNorm divides by about 0.03 and the loss curves so
    sharply that central differences are themselves off by ~1e-6. (They also make a
    random model's greedy output vary.)
    """
    for table in (model.src_wte, model.src_wpe, model.tgt_wte, model.tgt_wpe):
        table.params["W"] *= 50.0
    return model


def batch(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sources [2, 4], target inputs [2, 3] and target outputs [2, 3] with one -1 (padding)."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 5, size=(2, 4))
    src[0, :2] = 3  # a repeated id: its embedding gradients add up
    tgt, targets = rng.integers(0, 6, size=(2, 3)), rng.integers(0, 6, size=(2, 3))
    targets[1, 2] = -1
    return src, tgt, targets


def nudging_errors(model: Transformer, names: set[str] | None = None) -> dict[str, float]:
    """Normalised errors of model.backward() against nudging, for the parameters named."""
    src, tgt, targets = batch()

    def loss() -> float:
        return model.forward(src, tgt, targets)[1]

    loss()
    model.zero_grad()
    model.backward()
    return {
        name: relative_error(g, numerical_gradient(loss, p))
        for name, p, g in model.named_parameters()
        if names is None or name in names
    }


# -- gradients against nudging (float64) --------------------------------------------------


def test_every_parameter_of_the_whole_model_matches_nudging():
    """Tables, encoder, decoder (self- and cross-attention), head; with a padded target."""
    model = unit_tables(Transformer(TINY, rng=0, dtype=F64))
    errors = nudging_errors(model)
    # 4 tables; encoder block 2 norms (4) + attention (4) + MLP (4); ln_enc (2);
    # decoder block 3 norms (6) + attention (4) + cross-attention (6) + MLP (4); ln_dec (2); head
    assert len(errors) == 4 + 12 + 2 + 20 + 2 + 1
    assert max(errors.values()) < 1e-7, errors


def test_the_encoder_gets_the_sum_of_every_decoder_blocks_memory_gradient():
    """Two decoder blocks read the same memory: the source side's gradients need both."""
    config = TransformerConfig(5, 6, 4, 5, n_layer=2, n_head=2, n_embd=4)
    model = unit_tables(Transformer(config, rng=2, dtype=F64))
    errors = nudging_errors(model, {"src_wte.W", "src_wpe.W", "ln_enc.gamma", "ln_enc.beta"})
    assert len(errors) == 4
    assert max(errors.values()) < 1e-7, errors


def test_a_decoder_block_returns_the_gradients_of_x_and_of_the_memory():
    """backward(dout) -> (d x, d memory), both as nudging finds them."""
    block = DecoderBlock(TINY, rng=np.random.default_rng(0), dtype=F64)
    rng = np.random.default_rng(1)
    x, memory = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    w = rng.standard_normal(x.shape)  # d loss / d output

    def loss() -> float:
        return float(np.sum(w * block.forward(x, memory)))

    loss()
    dx, dmemory = block.backward(w)
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-7
    assert relative_error(dmemory, numerical_gradient(loss, memory)) < 1e-7


# -- sizes --------------------------------------------------------------------------------


def test_the_config_counts_the_parameters_of_random_small_models():
    """TransformerConfig.n_parameters(), from the sizes alone, equals the model's count."""
    rng = np.random.default_rng(0)
    for _ in range(5):
        n_head = int(rng.integers(1, 4))
        config = TransformerConfig(
            *(int(n) for n in rng.integers(1, 20, size=4)),
            n_layer=int(rng.integers(1, 3)),
            n_head=n_head,
            n_embd=n_head * int(rng.integers(1, 5)),
            bias=bool(rng.integers(0, 2)),
        )
        assert Transformer(config, rng=0).n_parameters == config.n_parameters(), config


def test_the_parameter_count_by_hand():
    """TINY (C = 4) counted from its layers, written out."""
    C = 4
    tables = (5 + 4) * C + (6 + 5) * C  # source ids and positions, target ids and positions: 80
    norms = 2 * 2 * C  # ln_1, ln_2: gamma and beta
    attention = (C * 3 * C + 3 * C) + (C * C + C)  # c_attn, c_proj: 60 + 20
    mlp = (C * 4 * C + 4 * C) + (4 * C * C + C)  # c_fc, c_proj: 80 + 68
    encoder = norms + attention + mlp  # 16 + 80 + 148 = 244
    cross = (C * C + C) + (C * 2 * C + 2 * C) + (C * C + C)  # c_q, c_kv, c_proj: 20 + 40 + 20
    decoder = encoder + 2 * C + cross  # a third LayerNorm and the cross-attention: 332
    by_hand = tables + encoder + decoder + 2 * 2 * C + C * 6  # ln_enc, ln_dec; the head
    assert by_hand == 80 + 244 + 332 + 16 + 24 == 696
    assert Transformer(TINY, rng=0).n_parameters == by_hand


# -- what the model computes --------------------------------------------------------------


def test_the_decoder_is_causal_and_every_source_token_reaches_every_output():
    """Target token t changes logits t and later only; any source token changes them all."""
    model = Transformer(TINY, rng=4, dtype=F64)
    src, tgt, _ = batch()
    logits, _ = model(src, tgt)
    for t in range(3):
        changed = tgt.copy()
        changed[:, t] = (changed[:, t] + 1) % 6
        new, _ = model(src, changed)
        np.testing.assert_array_equal(new[:, :t], logits[:, :t])
        assert np.all(np.abs(new[:, t:] - logits[:, t:]).max(axis=-1) > 1e-9)
    for s in range(4):
        changed = src.copy()
        changed[:, s] = (changed[:, s] + 1) % 5
        new, _ = model(changed, tgt)
        assert np.all(np.abs(new - logits).max(axis=-1) > 1e-9)


def test_a_float32_model_stays_float32():
    """Logits, parameters and gradients of the default model are float32."""
    model = Transformer(TINY, rng=0)
    src, tgt, targets = batch()
    logits, _ = model(src, tgt, targets)
    model.backward()
    assert logits.dtype == np.float32
    assert {g.dtype for g in model.gradients().values()} == {np.dtype(np.float32)}


def greedy_by_hand(model: Transformer, src: np.ndarray, bos: int, eos: int, max_len: int):
    """One source at a time: append the argmax of the last position until eos or max_len."""
    written = []
    for row in src:
        tgt = [bos]
        for _ in range(max_len):
            logits, _ = model(row[None], np.array([tgt]))
            next_id = int(logits[0, -1].argmax())
            if next_id == eos:
                break
            tgt.append(next_id)
        written.append(tgt[1:])
    return written


def test_greedy_decode_equals_a_hand_written_loop():
    """For each source: the argmax, token after token, stopping before eos or at max_len."""
    model = unit_tables(Transformer(TINY, rng=1, dtype=F64))
    src = np.array([[1, 2, 3, 4], [4, 3, 0, 0], [2, 2, 2, 2]])
    without_eos = greedy_by_hand(model, src, 0, 5, 5)
    assert model.greedy_decode(src, 0, 5, 5) == without_eos
    eos = max(without_eos, key=len)[-1]  # an id a source writes: decoding must stop there
    with_eos = greedy_by_hand(model, src, 0, eos, 5)
    assert with_eos != without_eos
    assert model.greedy_decode(src, 0, eos, 5) == with_eos


# -- the door -----------------------------------------------------------------------------


def test_source_ids_outside_the_vocabulary_are_refused():
    """Source id 5 in a source vocabulary of 5."""
    with pytest.raises(ValueError, match=re.escape("src must be ids in [0, 5); got 5 at index")):
        Transformer(TINY, rng=0)([[1, 5]], [[0]])


def test_a_target_longer_than_tgt_block_size_is_refused():
    """6 target tokens for tgt_block_size 5."""
    message = "tgt must have at most tgt_block_size = 5 positions; got 6"
    with pytest.raises(ValueError, match=re.escape(message)):
        Transformer(TINY, rng=0)([[1, 2]], np.zeros((1, 6), dtype=int))


def test_the_target_batch_must_match_the_source_batch():
    """Target b is written for source b: two sources, one target."""
    message = "tgt must have shape [2, positions] (batch, positions); got shape (1, 3)"
    with pytest.raises(ValueError, match=re.escape(message)):
        Transformer(TINY, rng=0)([[1, 2], [3, 4]], [[0, 1, 2]])


def test_targets_must_have_the_shape_of_tgt():
    """One target output per target input."""
    message = "targets must have shape [1, 2] (the shape of tgt); got shape (1, 3)"
    with pytest.raises(ValueError, match=re.escape(message)):
        Transformer(TINY, rng=0)([[1, 2]], [[0, 1]], [[1, 2, 3]])


def test_backward_needs_a_loss():
    """Without targets there is no loss to start from."""
    model = Transformer(TINY, rng=0)
    model([[1, 2]], [[0, 1]])
    with pytest.raises(RuntimeError, match=re.escape("backward() needs a loss")):
        model.backward()


def test_greedy_decode_refuses_more_tokens_than_the_target_block():
    """max_len counts target tokens, which the positional table limits."""
    message = "max_len must be at most tgt_block_size = 5; got 6"
    with pytest.raises(ValueError, match=re.escape(message)):
        Transformer(TINY, rng=0).greedy_decode([[1, 2]], 0, 1, 6)


def test_greedy_decoding_with_the_cache_gives_the_same_ids():
    """The decoder's own keys and values, and the memory's, are computed once."""
    config = TransformerConfig(
        7, 9, src_block_size=5, tgt_block_size=8, n_layer=2, n_head=2, n_embd=8
    )
    model = Transformer(config, rng=1)
    src = np.random.default_rng(2).integers(0, 7, size=(4, 5))
    cached = model.greedy_decode(src, 0, 8, max_len=8, use_cache=True)
    assert cached == model.greedy_decode(src, 0, 8, max_len=8, use_cache=False)
