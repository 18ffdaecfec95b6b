"""The GPT (companion.models.gpt) and text generation (companion.models.generate).

Gradients of a block and of the whole model against nudging (float64), the parameter
count from the sizes, generation against a hand-written loop, sampling frequencies, and
the model's door.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys

import numpy as np
import pytest

from companion import (
    GPT,
    CharTokenizer,
    GPTConfig,
    LayerNorm,
    Transformer,
    TransformerConfig,
    checks,
    generate,
    numerical_gradient,
    relative_error,
    sample_next,
    softmax_with_temperature,
)
from companion.models.gpt import Block

F64 = np.float64
TINY = GPTConfig(vocab_size=7, block_size=5, n_layer=2, n_head=2, n_embd=4)


def tiny(seed: int = 0, dtype: type = F64, **changes: object) -> GPT:
    return GPT(dataclasses.replace(TINY, **changes), rng=seed, dtype=dtype)


def unit_sized(model: GPT | Block) -> GPT | Block:
    """Give the tables spread 1 and every other weight matrix 1 / sqrt(n_in), not 0.02.

    With GPT-2's 0.02 the first LayerNorm divides by about 0.03, the loss curves so sharply
    that central differences are themselves off by ~1e-6, and the gradients of the queries
    and keys are 1e-5 times the others. Unit-sized weights keep nudging honest; the
    formulas checked are the same. (They also make a random model's greedy text vary.)
    """
    for name, p, _ in model.named_parameters():
        if p.ndim == 2:
            p *= (1.0 if name in ("wte.W", "wpe.W") else 1 / math.sqrt(p.shape[0])) / p.std()
    return model


# -- gradients against nudging (float64) --------------------------------------------------


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "not-causal"])
def test_a_blocks_backward_mirrors_its_forward(causal):
    """x + attn(ln_1(x)), then x + mlp(ln_2(x)); the GPT's block and the encoder's (no mask)."""
    block = unit_sized(Block(4, 2, causal, rng=np.random.default_rng(0), dtype=F64))
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    w = np.random.default_rng(2).standard_normal(x.shape)

    def loss() -> float:
        return float(np.sum(w * block.forward(x)))

    loss()
    block.zero_grad()
    dx = block.backward(w)
    errors = {"x": relative_error(dx, numerical_gradient(loss, x))}
    for name, p, g in block.named_parameters():
        errors[name] = relative_error(g, numerical_gradient(loss, p))
    # x; two norms (gamma, beta); two linear layers (W, b) in attn and two in mlp
    assert len(errors) == 1 + 2 * 2 + 2 * 2 + 2 * 2
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_whole_gpt_gradients_match_nudging_with_an_ignored_target(bias):
    """Every parameter, the tied token table included, with a repeated id and a -1 target."""
    model = unit_sized(tiny(seed=1, bias=bias))
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 7, size=(2, 4))  # 4 positions of 5: the last position row unused
    ids[0, :3] = 3  # a repeated id: its embedding gradients add up
    targets = rng.integers(0, 7, size=(2, 4))
    targets[1, 2] = -1  # padding: left out of the loss and of its mean

    def loss() -> float:
        return model.forward(ids, targets)[1]

    loss()
    model.zero_grad()
    model.backward()
    errors = {
        n: relative_error(g, numerical_gradient(loss, p)) for n, p, g in model.named_parameters()
    }
    # wte, wpe; per block ln_1, ln_2 (gamma, beta) and four linear layers (W, b); ln_f
    assert len(errors) == (2 + 2 * 12 + 2 if bias else 2 + 2 * 6 + 1)
    assert max(errors.values()) < 1e-7, errors


# -- sizes and initial weights ------------------------------------------------------------


def test_the_baby_gpt_without_biases_has_804096_parameters():
    """nanoGPT's baby GPT (65 characters, 64 positions, 4 blocks of width 128, bias=False)."""
    V, T, L, C = 65, 64, 4, 128
    per_block = (
        C  # ln_1.gamma
        + C * 3 * C  # attn.c_attn.W: queries, keys and values of every head
        + C * C  # attn.c_proj.W
        + C  # ln_2.gamma
        + C * 4 * C  # mlp.c_fc.W
        + 4 * C * C  # mlp.c_proj.W
    )  # = 12 C^2 + 2 C = 196,864
    by_hand = V * C + T * C + L * per_block + C  # wte (also the head), wpe, blocks, ln_f
    assert by_hand == 8_320 + 8_192 + 787_456 + 128 == 804_096
    config = GPTConfig(V, T, L, 4, C, bias=False)
    model = GPT(config, rng=0)
    assert model.n_parameters == config.n_parameters() == by_hand
    assert model.count_parameters(include_positions=False) == by_hand - T * C == 795_904


def test_the_config_counts_the_parameters_of_random_small_models():
    """GPTConfig.n_parameters(), from the sizes alone, equals the count of the model's arrays."""
    rng = np.random.default_rng(0)
    for _ in range(6):
        n_head = int(rng.integers(1, 4))
        config = GPTConfig(
            vocab_size=int(rng.integers(2, 40)),
            block_size=int(rng.integers(1, 20)),
            n_layer=int(rng.integers(1, 4)),
            n_head=n_head,
            n_embd=n_head * int(rng.integers(1, 6)),
            bias=bool(rng.integers(0, 2)),
        )
        assert GPT(config, rng=0).n_parameters == config.n_parameters(), config


def test_initial_weights_follow_gpt2():
    """Weights N(0, 0.02); the projections ending a branch N(0, 0.02 / sqrt(2 L)); biases 0."""
    model = GPT(GPTConfig(200, 64, n_layer=3, n_head=4, n_embd=128), rng=0, dtype=F64)
    small = 0.02 / math.sqrt(2 * 3)
    for name, p in model.parameters().items():
        if name.endswith("c_proj.W"):
            assert p.std() == pytest.approx(small, rel=0.03), name
        elif p.ndim == 2:
            assert p.std() == pytest.approx(0.02, rel=0.03), name
        elif name.endswith("gamma"):
            assert np.all(p == 1), name
        else:
            assert np.all(p == 0), name  # biases and LayerNorm shifts


def test_the_head_is_the_token_table():
    """Weight tying: logits = ln_f(x) E^T with E = wte.W, and no head parameter of its own."""
    model = tiny()
    logits, _ = model([[1, 2, 3]])
    np.testing.assert_allclose(logits, model.x @ model.wte.params["W"].T, rtol=1e-12)
    assert not any("head" in name for name in model.parameters())


# -- what the model computes ----------------------------------------------------------------


def test_later_tokens_do_not_change_earlier_logits():
    """The model is causal: changing tokens 3 and 4 leaves the logits at 0 to 2 exactly alone."""
    model = unit_sized(tiny(seed=5))
    ids = np.array([[1, 2, 3, 4, 5], [6, 5, 4, 3, 2]])
    before, _ = model(ids)
    ids[:, 3:] = [[0, 0], [1, 1]]
    after, _ = model(ids)
    np.testing.assert_array_equal(after[:, :3], before[:, :3])
    assert not np.allclose(after[:, 3:], before[:, 3:])


def test_dropout_is_on_in_training_and_off_in_evaluation():
    """With dropout 0.5 two training forwards differ (new masks); two evaluation forwards agree."""
    model = tiny(dropout=0.5)
    ids = [[1, 2, 3]]
    assert not np.array_equal(model(ids)[0], model(ids)[0])
    model.eval()
    np.testing.assert_array_equal(model(ids)[0], model(ids)[0])


def test_a_float32_model_stays_float32():
    """Parameters, logits and gradients are float32 in the default model; the loss a float."""
    model = tiny(dtype=np.float32)
    logits, loss = model([[1, 2, 3]], [[2, 3, 4]])
    model.backward()
    assert logits.dtype == np.float32 and isinstance(loss, float)
    assert {p.dtype for p in model.parameters().values()} == {np.dtype(np.float32)}
    assert {g.dtype for g in model.gradients().values()} == {np.dtype(np.float32)}


def test_the_model_checks_at_its_door_and_not_inside(monkeypatch):
    """A forward and backward convert no array with as_array: only the ids are checked."""
    calls = []
    real = checks.as_array

    def counting(value, name, **kwargs):
        calls.append(name)
        return real(value, name, **kwargs)

    for module in list(sys.modules.values()):
        if module.__name__.startswith("companion") and getattr(module, "as_array", 0) is real:
            monkeypatch.setattr(module, "as_array", counting)
    LayerNorm(3)([[1.0, 2.0, 3.0]])
    assert calls == ["x"], "a layer called by a reader checks its input"
    calls.clear()
    model = tiny()
    model([[1, 2, 3]], [[2, 3, 4]])
    model.backward()
    transformer = Transformer(TransformerConfig(5, 6, 4, 5, n_layer=1, n_head=2, n_embd=4), rng=0)
    transformer([[1, 2]], [[0, 1]], [[1, 2]])
    transformer.backward()
    transformer.greedy_decode([[1, 2]], 0, 1, 3)
    assert calls == []


# -- generation -----------------------------------------------------------------------------


def test_greedy_generation_equals_a_hand_written_loop():
    """Temperature 0: append the argmax of the last position's logits, the window sliding."""
    model = unit_sized(tiny(seed=4))
    prompt = np.array([[1, 2, 3], [4, 4, 0]])
    ids = prompt.copy()
    for _ in range(8):  # 3 + 8 tokens: the window of block_size 5 slides
        logits, _ = model(ids[:, -5:])
        ids = np.concatenate([ids, logits[:, -1].argmax(axis=-1)[:, None]], axis=1)
    np.testing.assert_array_equal(model.generate(prompt, 8, temperature=0), ids)
    assert model.generate([1, 2, 3], 8, temperature=0) == ids[0].tolist()  # a list for a list


def test_the_same_seed_gives_the_same_tokens():
    """Sampling is reproducible: a seed or a generator made from it give the same text."""
    model = unit_sized(tiny(seed=4))
    first = model.generate([1, 2], 10, temperature=1.0, rng=7)
    assert model.generate([1, 2], 10, temperature=1.0, rng=np.random.default_rng(7)) == first


def test_top_k_one_is_greedy_at_any_temperature():
    """Only the largest score can be drawn when k = 1."""
    model = unit_sized(tiny(seed=4))
    greedy = model.generate([1, 2], 6, temperature=0)
    assert model.generate([1, 2], 6, temperature=5.0, top_k=1, rng=0) == greedy


def test_top_k_never_draws_outside_the_top_k_and_keeps_their_odds():
    """top_k=2 of scores [0, 3, 1, 2, -1] at temperature 2: only ids 1 and 3, at 62 / 38 %."""
    logits = [0.0, 3.0, 1.0, 2.0, -1.0]
    rng = np.random.default_rng(0)
    draws = np.array([sample_next(logits, 2.0, rng, top_k=2) for _ in range(4000)])
    assert set(draws.tolist()) == {1, 3}
    # e^(3/2) / (e^(3/2) + e^(2/2)) = 1 / (1 + e^-0.5) = 0.6225; 4000 draws: sigma 0.008
    assert np.mean(draws == 1) == pytest.approx(1 / (1 + math.exp(-0.5)), abs=0.03)


def test_the_model_samples_only_its_top_k_tokens_at_their_odds():
    """GPT.generate with top_k=2: 2000 draws after one prompt give only its two likeliest."""
    model = unit_sized(tiny(seed=4))
    prompt = np.array([[1, 2, 3]])
    last = model(prompt)[0][0, -1]  # the logits of the next token
    second, first = np.argsort(last)[-2:]
    # temperature 4 flattens the scores: without top_k the other five would get about half
    drawn = model.generate(np.repeat(prompt, 2000, axis=0), 1, temperature=4.0, top_k=2, rng=0)
    assert set(drawn[:, -1].tolist()) == {first, second}
    # softmax over the two kept logits: p(first) = 1 / (1 + e^((second - first) / 4))
    p_first = 1 / (1 + math.exp((last[second] - last[first]) / 4))
    assert np.mean(drawn[:, -1] == first) == pytest.approx(p_first, abs=0.04)  # sigma 0.01


def test_softmax_with_temperature_by_hand():
    """[2, 1, 0] at temperature 0.5 is softmax([4, 2, 0]); at 0 the largest gets everything."""
    total = math.exp(4) + math.exp(2) + 1
    expected = [math.exp(4) / total, math.exp(2) / total, 1 / total]  # 0.867, 0.117, 0.016
    np.testing.assert_allclose(softmax_with_temperature([2.0, 1.0, 0.0], 0.5), expected)
    assert softmax_with_temperature([2.0, 1.0, 0.0], 0).tolist() == [1.0, 0.0, 0.0]


def test_generate_pads_a_short_prompt_on_the_left_and_leaves_the_padding_out():
    """With pad_id, the model always sees context_length ids; the result is prompt + new ids."""
    windows = []

    def count_up(window: np.ndarray) -> np.ndarray:  # scores the id after the last one highest
        windows.append(window.tolist())
        return np.eye(10)[(window[:, -1] + 1) % 10]

    assert generate(count_up, [8], 3, context_length=3, temperature=0, pad_id=0) == [8, 9, 0, 1]
    assert windows == [[[0, 0, 8]], [[0, 8, 9]], [[8, 9, 0]]]


def test_generation_restores_training_mode():
    """generate() runs in evaluation mode and leaves the model as it found it."""
    model = tiny(dropout=0.5)
    model.generate([1], 2, temperature=0)
    assert model.training and model.drop.training


def test_complete_continues_a_text_prompt():
    """complete() = encode, generate, decode: the prompt followed by the new characters."""
    tokenizer = CharTokenizer("abcdefg")  # 7 characters: TINY's vocabulary
    model = unit_sized(tiny(seed=4))
    text = model.complete(tokenizer, "abc", 5, temperature=0)
    assert text == tokenizer.decode(model.generate(tokenizer.encode("abc"), 5, temperature=0))
    assert text.startswith("abc") and len(text) == 8


def test_complete_names_the_characters_the_tokenizer_does_not_know():
    """A prompt with 'z' and '!' outside the alphabet: both are named, as the prompt's."""
    model = tiny()
    message = "prompt has characters the tokenizer does not know: 'z', '!'"
    with pytest.raises(ValueError, match=re.escape(message)):
        model.complete(CharTokenizer("abcdefg"), "abz!", 3, temperature=0)


# -- the door -------------------------------------------------------------------------------


def test_ids_outside_the_vocabulary_are_refused():
    """Id 7 in a vocabulary of 7 (ids 0 to 6)."""
    with pytest.raises(ValueError, match=re.escape("ids must be ids in [0, 7); got 7 at index")):
        tiny()([[1, 7]])


def test_more_tokens_than_block_size_are_refused():
    """6 tokens for a model of block_size 5."""
    message = "ids must have at most block_size = 5 tokens per sequence; got T = 6"
    with pytest.raises(ValueError, match=re.escape(message)):
        tiny()(np.zeros((1, 6), dtype=int))


def test_targets_must_have_the_shape_of_the_ids():
    """One target per input token."""
    message = "targets must have shape [1, 2] (the shape of ids); got shape (1, 3)"
    with pytest.raises(ValueError, match=re.escape(message)):
        tiny()([[1, 2]], [[1, 2, 3]])


def test_backward_needs_a_loss():
    """After model(ids) without targets there is no loss to start backward from."""
    model = tiny()
    model([[1, 2]])
    with pytest.raises(RuntimeError, match=re.escape("backward() needs a loss")):
        model.backward()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vocab_size": 0}, "vocab_size must be an int >= 1; got 0"),
        ({"n_head": 3}, "n_embd must be divisible by n_head"),
        ({"dropout": 1.0}, "dropout must be a finite number >= 0 and < 1; got 1.0"),
    ],
    ids=["size", "heads", "dropout"],
)
def test_a_config_is_checked_when_it_is_made(changes, message):
    """A size of 0, heads that do not divide the width, dropout of 1."""
    with pytest.raises(ValueError, match=re.escape(message)):
        dataclasses.replace(TINY, **changes)


def test_sampling_needs_a_random_generator():
    """Temperature above 0 draws at random: without rng the call says how to give one."""
    with pytest.raises(ValueError, match=re.escape("rng is needed to sample at temperature 1")):
        tiny().generate([1], 2)


def test_top_k_larger_than_the_vocabulary_is_refused():
    """top_k counts tokens: there are only 3."""
    message = "top_k must be at most the vocabulary size 3; got 4"
    with pytest.raises(ValueError, match=re.escape(message)):
        sample_next([0.0, 1.0, 2.0], 1.0, 0, top_k=4)


# -- generating with a key/value cache ---------------------------------------------------------


def test_cached_logits_equal_the_whole_windows_logits():
    """The cache only avoids recomputing: token by token it gives forward's logits."""
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8), rng=3)
    ids = np.random.default_rng(4).integers(0, 11, size=(2, 7))
    whole, _ = model(ids)  # [2, 7, 11]
    caches: list[dict] = [{} for _ in model.blocks]
    first = model.forward_cached(ids[:, :4], 0, caches)  # four tokens at once, then one by one
    rest = [model.forward_cached(ids[:, t : t + 1], t, caches) for t in range(4, 7)]
    np.testing.assert_allclose(np.concatenate([first, *rest], axis=1), whole, atol=1e-5)
    assert caches[0]["k"].shape == (2, 2, 7, 4)  # [B, n_head, T, head_size]: every position


@pytest.mark.parametrize(("temperature", "rng"), [(0, None), (0.9, 5)])
def test_generating_with_the_cache_gives_the_same_tokens(temperature, rng):
    """Also past block_size, where the window slides and the cache starts again."""
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8), rng=3)
    kwargs = {"temperature": temperature, "rng": rng}
    cached = model.generate([1, 2, 3], 20, use_cache=True, **kwargs)
    assert cached == model.generate([1, 2, 3], 20, use_cache=False, **kwargs)
    assert len(cached) == 23  # 3 + 20 > block_size 8
