"""The GPT model of chapter 15: gradients, tying, initialisation, counts, generation, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from companion.generation import sample_next
from companion.gpt import GPT, GPTConfig
from companion.gradcheck import gradcheck

TINY = GPTConfig(vocab_size=11, block_size=6, n_layer=2, n_head=2, n_embd=8)
BABY = GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128)


def tiny(seed: int = 0, dtype: type = np.float64, **changes: object) -> GPT:
    import dataclasses

    return GPT(dataclasses.replace(TINY, **changes), rng=seed, dtype=dtype)  # type: ignore[arg-type]


# -- gradients -------------------------------------------------------------------------------


def test_the_whole_model_passes_the_gradient_check():
    model = tiny(seed=1)
    # std-0.02 tables make the first LayerNorm divide by ~0.03: the loss curves so sharply
    # that central differences are off by ~1e-6 (see tests/test_module.py). Unit size.
    model.wte.params["W"] *= 50.0
    model.wpe.params["W"] *= 50.0
    # std-0.02 W_q and W_k make their gradients ~1e-5 times the others: rounding in the
    # differences then gives errors ~6e-6. Weights of std 1 / sqrt(n_in) give ~4e-10.
    for block in model.blocks:
        for _, p, _ in block.named_parameters():
            if p.ndim == 2:
                p *= 1 / np.sqrt(p.shape[0]) / p.std()
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 11, size=(2, 6))
    ids[0, :3] = 7  # repeated ids: embedding and head gradients must add up
    targets = rng.integers(0, 11, size=(2, 6))

    def f() -> float:
        return model.loss(ids, targets)

    f()
    model.zero_grad()
    model.backward()
    params, grads = model.parameters(), model.gradients()
    assert len(params) == 2 + 2 * 13 + 2  # tables, 2 blocks of 13, final norm
    errors = {name: gradcheck(f, p, grads[name]) for name, p in params.items()}
    worst = max(errors.values())
    print(f"worst normalised gradient error {worst:.2e} ({max(errors, key=errors.__getitem__)})")
    assert worst <= 1e-8


def test_backward_accumulates_and_accepts_dlogits():
    model = tiny(seed=3)
    ids = np.array([[1, 2, 3], [4, 5, 6]])
    targets = np.array([[2, 3, 4], [5, 6, 7]])
    model.loss(ids, targets)
    model.zero_grad()
    model.backward()
    once = {k: v.copy() for k, v in model.gradients().items()}
    dlogits = model.criterion.backward()
    model.forward(ids)
    model.backward(dlogits)  # the same gradient again, from dlogits
    for name, g in model.gradients().items():
        np.testing.assert_allclose(g, 2 * once[name], rtol=1e-12, atol=1e-15)


# -- weight tying, initialisation and counts ----------------------------------------------------


def test_the_head_is_the_token_table_and_its_gradient_adds_to_it():
    model = tiny(seed=4)
    assert "wte.W" in model.parameters()
    assert not any("head" in name for name in model.parameters())
    ids = np.array([[0, 1, 2]])
    logits = model.forward(ids)
    E = model.wte.params["W"]
    np.testing.assert_allclose(logits, model.x_final @ E.T)
    E[3] += np.arange(8.0)  # the table changes: the logit of token 3 changes, no copy
    assert not np.allclose(model.forward(ids)[..., 3], logits[..., 3])
    # token 10 never appears: its row gets only the head's gradient, x^T dlogits[:, 10]
    model.zero_grad()
    dlogits = np.zeros((1, 3, 11))
    dlogits[0, :, 10] = 1.0
    model.backward(dlogits)
    np.testing.assert_allclose(model.wte.grads["W"][10], model.x_final[0].sum(axis=0))


def test_initial_weights_follow_gpt2():
    config = GPTConfig(vocab_size=50, block_size=16, n_layer=6, n_head=4, n_embd=256)
    model = GPT(config, rng=0)
    small = 0.02 / np.sqrt(2 * 6)
    for block in model.blocks:
        assert block.attn.params["W_o"].std() == pytest.approx(small, rel=0.02)
        assert block.proj.params["W"].std() == pytest.approx(small, rel=0.02)
        assert block.fc.params["W"].std() == pytest.approx(0.02, rel=0.02)
        assert block.attn.params["W_q"].std() == pytest.approx(0.02, rel=0.02)
        assert np.all(block.fc.params["b"] == 0) and np.all(block.attn.params["b_o"] == 0)
        assert np.all(block.ln_1.params["gamma"] == 1) and np.all(block.ln_2.params["beta"] == 0)
    assert model.wte.params["W"].std() == pytest.approx(0.02, rel=0.05)


def test_parameter_count_by_hand():
    # per block: 2 norms 4C, attention 4C^2 + C, MLP 8C^2 + 5C = 12C^2 + 10C
    C, L, V, T = 8, 2, 11, 6
    by_hand = V * C + T * C + L * (12 * C * C + 10 * C) + 2 * C
    model = tiny()
    assert model.n_parameters == by_hand == 1848
    assert model.count_parameters(include_positions=False) == by_hand - T * C
    no_bias = tiny(bias=False)  # the MLP's two biases go: 4C + C per block
    assert no_bias.n_parameters == by_hand - L * 5 * C
    assert "blocks.0.fc.b" not in no_bias.parameters()


def test_baby_config_parameter_count():
    model = GPT(BABY, rng=0)
    C = 128
    assert model.n_parameters == 65 * C + 64 * C + 4 * (12 * C * C + 10 * C) + 2 * C == 808_320
    assert model.count_parameters(include_positions=False) == 800_128


def test_float32_stays_float32():
    model = GPT(TINY, rng=0)  # float32 by default
    ids = np.array([[1, 2, 3, 4]])
    model.loss(ids, ids)
    model.backward()
    assert model.forward(ids).dtype == np.float32
    assert {p.dtype for p in model.parameters().values()} == {np.dtype(np.float32)}
    assert {g.dtype for g in model.gradients().values()} == {np.dtype(np.float32)}
    dropping = GPT(GPTConfig(11, 6, 1, 2, 8, dropout=0.2), rng=0)
    assert dropping.forward(ids).dtype == np.float32


def test_causality_later_tokens_do_not_change_earlier_logits():
    model = tiny(seed=5)
    ids = np.array([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]])
    before = model.forward(ids)
    changed = ids.copy()
    changed[:, 4:] = [[9, 9], [0, 0]]
    after = model.forward(changed)
    np.testing.assert_array_equal(after[:, :4], before[:, :4])
    assert not np.allclose(after[:, 4:], before[:, 4:])


def test_dropout_is_on_in_training_and_off_in_eval():
    model = GPT(GPTConfig(11, 6, 2, 2, 8, dropout=0.5), rng=0)
    ids = np.array([[1, 2, 3]])
    assert not np.array_equal(model.forward(ids), model.forward(ids))  # new masks
    model.eval()
    np.testing.assert_array_equal(model.forward(ids), model.forward(ids))
    assert not model.blocks[0].mlp_dropout.training


# -- generation --------------------------------------------------------------------------------


def test_greedy_generation_is_deterministic_and_picks_the_argmax():
    model = tiny(seed=6)
    prompt = np.array([[1, 2], [3, 4]])
    out = model.generate(prompt, 5, greedy=True)
    assert out.shape == (2, 7) and out.dtype == np.int64
    np.testing.assert_array_equal(out[:, :2], prompt)
    np.testing.assert_array_equal(out, model.generate(prompt, 5, greedy=True))
    first = model.forward(prompt)[:, -1].argmax(axis=-1)
    np.testing.assert_array_equal(out[:, 2], first)


def test_seeded_sampling_is_reproducible_and_top_k_1_is_greedy():
    model = tiny(seed=7)
    prompt = [[1, 2, 3]]
    a = model.generate(prompt, 8, temperature=1.5, rng=np.random.default_rng(0))
    b = model.generate(prompt, 8, temperature=1.5, rng=0)
    np.testing.assert_array_equal(a, b)
    greedy = model.generate(prompt, 8, greedy=True)
    np.testing.assert_array_equal(model.generate(prompt, 8, top_k=1, rng=3), greedy)
    assert model.generate(prompt, 0, rng=0).tolist() == [[1, 2, 3]]


def test_a_prompt_longer_than_block_size_is_cropped():
    model = tiny(seed=8)
    long_prompt = np.array([[3, 1, 4, 1, 5, 9, 2, 6, 5]])  # 9 tokens, block_size 6
    out = model.generate(long_prompt, 3, greedy=True)
    assert out.shape == (1, 12)
    cropped = model.generate(long_prompt[:, -6:], 3, greedy=True)
    np.testing.assert_array_equal(out[:, -3:], cropped[:, -3:])


def test_generation_restores_the_training_mode():
    model = GPT(GPTConfig(11, 6, 1, 2, 8, dropout=0.5), rng=0)
    model.generate([[1]], 2, greedy=True)
    assert model.training and model.blocks[0].attn_dropout.training


def test_sample_next_top_k_only_draws_the_k_largest():
    logits = np.array([0.0, 3.0, 1.0, 2.0, -1.0])
    rng = np.random.default_rng(0)
    draws = np.array([sample_next(logits, 5.0, rng, top_k=2) for _ in range(4000)])
    assert set(draws.tolist()) == {1, 3}
    # the two kept share all the probability: p(1) = 1 / (1 + exp(-1 / 5))
    assert np.mean(draws == 1) == pytest.approx(1 / (1 + np.exp(-0.2)), abs=0.025)
    assert sample_next(logits, 0, top_k=3) == 1  # greedy: top_k changes nothing
    assert sample_next(logits, 1.0, np.random.default_rng(1), top_k=1) == 1
    draws_all = {sample_next(logits, 5.0, rng, top_k=5) for _ in range(500)}
    assert draws_all == {0, 1, 2, 3, 4}
    ties = {sample_next([1.0, 1.0, 0.0], 1.0, rng, top_k=1) for _ in range(200)}
    assert ties == {0, 1}  # a tie with the k-th largest is kept


def test_temperature_sharpens_the_draws():
    model = tiny(seed=9)
    model.wte.params["W"] *= 50.0  # logits of unit size, so temperature matters
    prompt = np.zeros((1, 1), dtype=np.int64)
    cold = model.generate(np.repeat(prompt, 200, axis=0), 1, temperature=0.05, rng=0)[:, 1]
    hot = model.generate(np.repeat(prompt, 200, axis=0), 1, temperature=50.0, rng=0)[:, 1]
    best = int(model.forward(prompt)[0, -1].argmax())
    assert np.mean(cold == best) > 0.9
    assert len(set(hot.tolist())) >= 9  # nearly uniform over 11 tokens


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"vocab_size": 0}, ValueError, "vocab_size must be a positive int; got 0"),
        ({"block_size": 2.5}, TypeError, "block_size must be a positive int; got float 2.5"),
        ({"n_layer": -1}, ValueError, "n_layer must be a positive int; got -1"),
        ({"n_head": 3}, ValueError, "got n_embd=8 and n_head=3"),
        ({"dropout": 1.0}, ValueError, "dropout must be in [0, 1) (1 would drop everything)"),
        ({"dropout": "0.1"}, TypeError, "dropout must be a number in [0, 1)"),
        ({"bias": 1}, TypeError, "bias must be True or False; got int 1"),
    ],
)
def test_bad_configs(changes, error, message):
    settings = {"vocab_size": 11, "block_size": 6, "n_layer": 2, "n_head": 2, "n_embd": 8}
    with pytest.raises(error, match=re.escape(message)):
        GPTConfig(**(settings | changes))


def test_bad_model_arguments():
    with pytest.raises(TypeError, match=re.escape("config must be a GPTConfig; got dict")):
        GPT({"vocab_size": 11}, rng=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("dtype must be np.float32 or np.float64")):
        GPT(TINY, rng=0, dtype=np.int32)
    with pytest.raises(TypeError, match=re.escape("rng must be a numpy Generator")):
        GPT(TINY, rng="seed")  # type: ignore[arg-type]


def test_bad_forward_loss_and_backward():
    model = tiny()
    with pytest.raises(RuntimeError, match=re.escape("needs a forward pass (or loss) first")):
        model.backward()
    with pytest.raises(ValueError, match=re.escape("at most block_size = 6 tokens per sequence")):
        model.forward(np.zeros((1, 7), dtype=np.int64))
    with pytest.raises(ValueError, match=re.escape("ids must be ids in [0, 11); got 11")):
        model.forward([[1, 11]])
    with pytest.raises(ValueError, match=re.escape("ids must be ids in [0, 11); got -1")):
        model.forward([[-1, 2]])
    with pytest.raises(ValueError, match=re.escape("ids must have shape [B, T]")):
        model.forward([1, 2, 3])
    with pytest.raises(TypeError, match=re.escape("ids must hold integer ids")):
        model.forward([[1.0, 2.0]])
    with pytest.raises(ValueError, match=re.escape("targets must have shape [1, 2]")):
        model.loss([[1, 2]], [[1, 2, 3]])
    with pytest.raises(ValueError, match=re.escape("targets must be ids in [0, 11); got 12")):
        model.loss([[1, 2]], [[1, 12]])
    model.forward([[1, 2]])
    with pytest.raises(RuntimeError, match=re.escape("needs loss(ids, targets) first")):
        model.backward()
    with pytest.raises(ValueError, match=re.escape("dlogits must have shape [1, 2, 11]")):
        model.backward(np.zeros((1, 2, 10)))


def test_bad_generation_arguments():
    model = tiny()
    with pytest.raises(ValueError, match=re.escape("max_new_tokens must be an int >= 0; got -1")):
        model.generate([[1]], -1, greedy=True)
    with pytest.raises(TypeError, match=re.escape("max_new_tokens must be an int >= 0")):
        model.generate([[1]], 2.0, greedy=True)  # type: ignore[arg-type]
    for bad in (0, -0.5, float("nan")):
        with pytest.raises(ValueError, match=re.escape("temperature must be a finite number > 0")):
            model.generate([[1]], 2, temperature=bad, rng=0)
    for bad_k in (0, 12):
        message = f"top_k must be None or an int in [1, 11] (the vocabulary size); got {bad_k}"
        with pytest.raises(ValueError, match=re.escape(message)):
            model.generate([[1]], 2, top_k=bad_k, rng=0)
    with pytest.raises(TypeError, match=re.escape("top_k must be None or an int in [1, 11]")):
        model.generate([[1]], 2, top_k=2.0, rng=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("rng is needed to sample")):
        model.generate([[1]], 2)
    with pytest.raises(TypeError, match=re.escape("greedy must be True or False")):
        model.generate([[1]], 2, greedy=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("ids must have shape [B, T]")):
        model.generate([1, 2], 2, greedy=True)


def test_bad_top_k_in_sample_next():
    for bad in (0, 4, -1):
        message = f"top_k must be None or an int in [1, 3] (the vocabulary size); got {bad}"
        with pytest.raises(ValueError, match=re.escape(message)):
            sample_next([0.0, 1.0, 2.0], 1.0, np.random.default_rng(0), top_k=bad)
    with pytest.raises(TypeError, match=re.escape("top_k must be None or an int in [1, 3]")):
        sample_next([0.0, 1.0, 2.0], 1.0, np.random.default_rng(0), top_k=True)


def test_inside_the_model_arrays_are_not_rescanned_but_nan_is_still_caught():
    from companion._validate import as_float_array, inside_model
    from companion.layernorm import LayerNorm

    bad = np.array([[1.0, np.nan]])
    with pytest.raises(ValueError, match=re.escape("x must be finite; got nan at index (0, 1)")):
        LayerNorm(2).forward(bad)  # a layer called by a reader checks everything
    with inside_model():
        assert as_float_array(bad, "x") is bad  # the model's own arrays pass as they are
        with pytest.raises(ValueError, match=re.escape("x must have shape [any, 3]; got")):
            as_float_array(bad, "x", shapes=[(None, 3)])  # shapes are still checked
        with pytest.raises(ValueError, match=re.escape("x must be finite")):
            as_float_array([1.0, np.nan], "x")  # and anything that is not a float array
    assert as_float_array(np.ones(2), "x") is not None
    with pytest.raises(ValueError, match=re.escape("x must be finite")):
        as_float_array(bad, "x")  # the context is over
    model = GPT(TINY, rng=0)
    model.parameters()["blocks.0.fc.W"][0, 0] = np.nan  # a diverged model
    with pytest.raises(ValueError, match=re.escape("logits must be finite; got nan")):
        model.loss(np.zeros((1, 3), dtype=int), np.zeros((1, 3), dtype=int))


def test_complete_continues_a_text_prompt_and_names_unknown_characters():
    from companion.char_tokenizer import CharTokenizer

    tokenizer = CharTokenizer("abcdefghijk")  # 11 characters: TINY's vocabulary
    model = GPT(TINY, rng=0)
    text = model.complete(tokenizer, "abc", 5, greedy=True)
    ids = model.generate([tokenizer.encode("abc")], 5, greedy=True)[0]
    assert text == tokenizer.decode(ids.tolist()) and text.startswith("abc") and len(text) == 8
    sampled = model.complete(tokenizer, "abc", 5, temperature=0.8, top_k=3, rng=1)
    assert sampled == model.complete(tokenizer, "abc", 5, temperature=0.8, top_k=3, rng=1)
    message = "prompt has characters the tokenizer does not know: 'z', '!'"
    with pytest.raises(ValueError, match=re.escape(message)):
        model.complete(tokenizer, "abz!", 3, greedy=True)
    with pytest.raises(ValueError, match=re.escape("prompt must hold at least one character")):
        model.complete(tokenizer, "", 3, greedy=True)
    with pytest.raises(TypeError, match=re.escape("prompt must be a str; got")):
        model.complete(tokenizer, [1, 2], 3, greedy=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("tokenizer must have the model's vocab_size")):
        model.complete(CharTokenizer("ab"), "ab", 3, greedy=True)
    with pytest.raises(ValueError, match=re.escape("temperature must be a finite number > 0")):
        model.complete(tokenizer, "abc", 3, temperature=0.0, rng=0)
    with pytest.raises(ValueError, match=re.escape("max_new_tokens must be an int >= 0; got -2")):
        model.complete(tokenizer, "abc", -2, greedy=True)
    with pytest.raises(ValueError, match=re.escape("top_k must be None or an int in [1, 11]")):
        model.complete(tokenizer, "abc", 3, top_k=12, rng=0)
