"""Chapter 15, The GPT architecture: the chapter's few lines equal the companion's, the
answers for the exercise checkers (judged in test_exercises.py), and the numbers the prose states
hold."""

from __future__ import annotations

import json
import math
import os
import re

import matplotlib

matplotlib.use("Agg")  # the chapter's figures, drawn without a screen

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from conftest import BOOK, ROOT, chapter_definitions

from companion import (
    GPT,
    AdamW,
    CharTokenizer,
    GPTConfig,
    check,
    clip_grad_norm,
    gelu,
    get_batch,
    load_checkpoint,
    lr_schedule,
    nursery_rhymes,
    tiny_shakespeare,
)
from companion.aids.exercises.chapter15 import (
    BATCH_15_2,
    CONFIG_15_1,
    GPT2_15_3,
    PROMPT_15_4,
    SCHEDULE_15_5,
    STEP_15_5,
    STEPS_15_4,
)
from companion.layers.mlp import MLP
from companion.models.generate import _probabilities
from companion.models.kv_cache import KeyValueCache
from companion.train.loop import TrainOptions, make_optimizers, train_step

CH15 = "15_gpt_architecture.ipynb"
CHECKPOINTS = ROOT / "checkpoints"
BABY = CHECKPOINTS / "baby_gpt_shakespeare_char.npz"
RNG = np.random.default_rng(15)


def chapter_functions(names, **namespace):
    """The functions ``names`` of the chapter's code cells, defined with NumPy and ``namespace``
    at hand; a function may call another one of ``names``."""
    found = chapter_definitions(CH15, names, {"np": np, **namespace})
    return [found[name] for name in names]


@pytest.fixture(scope="module")
def chapter():
    """Run the chapter's code cells (not the set-up, not the widget, not the timings) and
    record its glue. The cells run in book/, as Jupyter runs them (the paths are relative).
    Returns the cells' namespace, a dict of every glued name and value, and what they printed.
    """
    import contextlib
    import io

    nb = nbformat.read(BOOK / CH15, as_version=4)
    glued: dict[str, object] = {}
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    here, show = os.getcwd(), plt.show
    os.chdir(BOOK)
    plt.show = lambda *args, **kwargs: None  # Agg cannot show; the figures are not looked at
    try:
        for cell in nb.cells:
            tags = set(cell.metadata.get("tags", []))
            if cell.cell_type != "code" or tags & {"hide-cell", "nbval-ignore-output"}:
                continue
            with contextlib.redirect_stdout(printed):
                exec(compile(cell.source, CH15, "exec"), namespace)
            namespace["glue"] = lambda name, value, display=True: glued.__setitem__(name, value)
    finally:
        os.chdir(here)
        plt.show = show
    plt.close("all")
    return namespace, glued, printed.getvalue()


@pytest.fixture(scope="module")
def baby():
    model, tokenizer, info = load_checkpoint(BABY)
    return model, tokenizer, info


def _count_arrays(model):
    """A model's parameters, counted from its arrays (the tied table once)."""
    return sum(p.size for p in model.parameters().values())


def _random_config(rng, bias=None):
    n_head = int(rng.integers(1, 4))
    return GPTConfig(
        vocab_size=int(rng.integers(2, 30)),
        block_size=int(rng.integers(2, 12)),
        n_layer=int(rng.integers(1, 4)),
        n_head=n_head,
        n_embd=n_head * int(rng.integers(1, 5)),
        bias=bool(rng.integers(0, 2)) if bias is None else bias,
    )


# -- (a) the chapter's few lines equal the companion -------------------------------------------
def test_gelu_by_hand_equals_the_companion_on_random_numbers():
    (gelu_by_hand,) = chapter_functions(["gelu_by_hand"])
    for scale in (0.1, 1.0, 3.0, 30.0):
        x = RNG.normal(scale=scale, size=500)
        np.testing.assert_allclose(gelu_by_hand(x), gelu(x), rtol=1e-12, atol=1e-15)
    x32 = RNG.normal(size=200).astype(np.float32)
    np.testing.assert_allclose(gelu_by_hand(x32), gelu(x32), rtol=1e-5, atol=1e-6)


def test_gelu_by_hand_is_the_formula_worked_by_hand():
    (gelu_by_hand,) = chapter_functions(["gelu_by_hand"])
    for x in (-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0):
        gate = 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))
        assert gelu_by_hand(np.array(x)) == pytest.approx(x * gate, abs=1e-15)


def test_mlp_by_hand_equals_the_companion_mlp():
    gelu_by_hand, mlp_by_hand = chapter_functions(["gelu_by_hand", "mlp_by_hand"])
    for seed in range(30):
        rng = np.random.default_rng(seed)
        C = int(rng.integers(1, 12))
        mlp = MLP(C, bias=False, rng=seed, dtype=np.float64)
        assert mlp.c_fc.params["W"].shape == (C, 4 * C)
        x = rng.normal(size=(int(rng.integers(1, 4)), int(rng.integers(1, 6)), C))
        out = mlp_by_hand(x, mlp.c_fc.params["W"], mlp.c_proj.params["W"])
        np.testing.assert_allclose(out, mlp(x), rtol=1e-10, atol=1e-12)


def test_the_mlp_treats_each_position_on_its_own():
    mlp = MLP(6, rng=0, dtype=np.float64)
    x = RNG.normal(size=(2, 7, 6))
    whole = mlp(x)
    for t in range(7):
        np.testing.assert_allclose(mlp(x[:, t : t + 1]), whole[:, t : t + 1], atol=1e-12)


def test_gpt_forward_by_hand_equals_the_companion_gpt_on_random_models():
    (gpt_forward_by_hand,) = chapter_functions(["gpt_forward_by_hand"])
    for seed in range(25):
        rng = np.random.default_rng(seed)
        config = _random_config(rng)
        model = GPT(config, rng=seed, dtype=np.float64)
        for p in model.parameters().values():  # not the initial 0s and 1s: test them all
            p[...] = rng.normal(scale=0.3, size=p.shape)
        B, T = int(rng.integers(1, 4)), int(rng.integers(1, config.block_size + 1))
        ids = rng.integers(0, config.vocab_size, size=(B, T))
        logits, _ = model(ids)
        np.testing.assert_allclose(gpt_forward_by_hand(model, ids), logits, rtol=1e-9, atol=1e-10)


def test_gpt_forward_by_hand_on_the_baby_gpt(baby):
    (gpt_forward_by_hand,) = chapter_functions(["gpt_forward_by_hand"])
    model, tokenizer, _ = baby
    ids = np.array([tokenizer.encode("ROMEO:\nBut soft, what light")])
    np.testing.assert_allclose(gpt_forward_by_hand(model, ids), model(ids)[0], atol=2e-5)


def test_count_by_hand_equals_the_config_and_the_arrays():
    (count_by_hand,) = chapter_functions(["count_by_hand"])
    for seed in range(40):
        config = _random_config(np.random.default_rng(seed))
        c = config
        hand = count_by_hand(c.vocab_size, c.block_size, c.n_layer, c.n_embd, c.bias)
        assert hand == config.n_parameters()
        model = GPT(config, rng=seed)
        assert hand == model.n_parameters == _count_arrays(model)
        positions = c.block_size * c.n_embd
        assert model.count_parameters(include_positions=False) == hand - positions


def test_step_by_hand_equals_train_step():
    (step_by_hand,) = chapter_functions(["step_by_hand"], clip_grad_norm=clip_grad_norm)
    text = nursery_rhymes()
    tok = CharTokenizer.from_text(text)
    ids = np.array(tok.encode(text))
    for seed, grad_clip in ((0, 1.0), (1, 0.05), (2, 1e9)):
        config = GPTConfig(tok.vocab_size, 8, 1, 2, 8, bias=bool(seed % 2))
        options = TrainOptions(max_iters=20, warmup_iters=3, learning_rate=1e-2, seed=seed)
        mine, theirs = GPT(config, rng=seed), GPT(config, rng=seed)
        opt_mine, opt_theirs = make_optimizers(mine, options), make_optimizers(theirs, options)
        rng = np.random.default_rng(seed)
        for step in range(5):
            x, y = get_batch(ids, 4, 8, rng)
            a = step_by_hand(mine, x, y, opt_mine, options.lr(step), grad_clip)
            b = train_step(theirs, (x, y), opt_theirs, options.lr(step), grad_clip)
            assert a == b
        for name, p in mine.parameters().items():
            np.testing.assert_array_equal(p, theirs.parameters()[name])


def test_next_probabilities_are_those_sample_next_draws_from(baby):
    model, tokenizer, _ = baby
    (next_probabilities,) = chapter_functions(
        ["next_probabilities"], model=model, tokenizer=tokenizer
    )
    for prompt in ("ROMEO:\nBut soft, what light", "\n", "First Citizen:\nBefore we"):
        logits = model(np.array([tokenizer.encode(prompt)]))[0][0, -1].astype(np.float64)
        for temperature in (0.3, 1.0, 1.7):
            for top_k in (1, 3, 10, 64, 65):
                np.testing.assert_allclose(
                    next_probabilities(prompt, temperature, top_k),
                    _probabilities(logits, temperature, top_k),
                    atol=1e-12,
                )


# -- (c) what the prose claims -----------------------------------------------------------------
def test_the_parameter_counts_of_the_prose(chapter):
    _, glued, _ = chapter
    # Baby GPT: per block 12 x 128^2 + 2 x 128 = 196,608 + 256 = 196,864; four blocks 787,456;
    # tables (65 + 64) x 128 = 16,512; ln_f 128: 787,456 + 16,512 + 128 = 804,096; without the
    # position table (64 x 128 = 8,192): 795,904 (checkpoints/README.md states both).
    assert glued["baby_block"] == 196_864 and glued["baby_blocks"] == 787_456
    assert glued["baby_tables"] == 16_512
    assert glued["n_baby"] == 804_096 and glued["n_baby_without"] == 795_904
    # The MLP's 8C^2 of 12C^2 + 2C: 131,072 / 196,864 = 66.6 %; an untied head 65 x 128 = 8,320,
    # 8,320 / 804,096 = 1.03 %.
    assert glued["mlp_share"] == pytest.approx(100 * 131_072 / 196_864)
    assert glued["baby_head"] == 8_320 and round(glued["baby_head_share"]) == 1
    # GPT-2 small, with biases: per block 12 x 768^2 + 13 x 768 = 7,077,888 + 9,984 = 7,087,872;
    # 12 blocks 85,054,464; tables (50,257 + 1,024) x 768 = 39,383,808; ln_f 2 x 768 = 1,536.
    assert glued["n_gpt2"] == 85_054_464 + 39_383_808 + 1_536 == 124_439_808


def test_the_baby_gpt_has_the_sizes_the_prose_gives(baby):
    model, tokenizer, info = baby
    c = model.config
    assert (c.vocab_size, c.block_size, c.n_layer, c.n_head, c.n_embd, c.bias) == (
        65, 64, 4, 4, 128, False)  # fmt: skip
    assert model.n_parameters == 804_096 and tokenizer.vocab_size == 65
    assert model.blocks[0].mlp.c_fc.params["W"].shape == (128, 512)
    assert info["extra"]["task"]["characters"] == len(tiny_shakespeare())


def test_the_gelu_numbers_of_the_prose(chapter):
    _, glued, printed = chapter
    # tanh 1 = (e - 1/e) / (e + 1/e) = 2.3504 / 3.0862 = 0.7616.
    assert (math.e - 1 / math.e) / (math.e + 1 / math.e) == pytest.approx(0.7616, abs=1e-4)
    assert math.sqrt(2 / math.pi) == pytest.approx(0.7979, abs=1e-4)
    assert math.tanh(0.8336) == pytest.approx(0.6824, abs=1e-4)
    assert 0.5 * (1 + 0.6824) == pytest.approx(0.8412)
    assert float(gelu(1.0)) == pytest.approx(0.8412, abs=1e-4)

    # GELU's lowest value: its slope crosses 0 between -0.76 and -0.74 (plain nudging).
    def slope(x, h=1e-6):
        return (float(gelu(x + h)) - float(gelu(x - h))) / (2 * h)

    assert slope(-0.76) < 0 < slope(-0.74)
    assert glued["gelu_argmin"] == pytest.approx(-0.75, abs=0.01)
    assert glued["gelu_min"] == pytest.approx(float(gelu(-0.75)), abs=1e-4)
    assert "gelu: [-0.0036 -0.1588  0.      0.8412  2.9964]" in printed


def test_the_small_run_learns_and_begins_to_overfit(chapter):
    namespace, glued, _ = chapter
    history = namespace["history"]
    # A model that knows nothing gives each of the 59 characters 1/59: -log(1/59) = log 59.
    assert glued["small_vocab"] == 59 and glued["log_small_vocab"] == pytest.approx(4.0775, 1e-4)
    assert abs(glued["small_val_start"] - math.log(59)) < 0.1
    assert glued["small_val_end"] < glued["small_val_start"] - 1.5
    assert glued["small_gap"] == pytest.approx(glued["small_val_end"] - glued["small_train_end"])
    assert glued["small_gap"] > 0.3  # "the training loss fell further"
    gaps = [r["val_loss"] - r["train_loss"] for r in history]
    assert gaps[-1] > gaps[1] > 0  # the gap grows
    assert glued["n_train_chars"] == int(len(nursery_rhymes()) * 0.9)  # the first 90 %
    assert glued["small_params"] == namespace["run"].model.n_parameters


def test_the_adamw_and_clipping_examples_of_the_prose():
    # AdamW's first step: w <- w (1 - lr x decay) - lr x g / (|g| + eps): 1 x 0.99 - 0.1 and
    # -2 x 0.99 - 0.1, whatever the size of g.
    p = {"w": np.array([1.0, -2.0])}
    AdamW(p, lr=0.1, weight_decay=0.1).step({"w": np.array([0.003, 300.0])})
    np.testing.assert_allclose(p["w"], [0.89, -2.08], atol=1e-6)
    # Gradients 6 and 8: size sqrt(36 + 64) = 10; clipped to 1: 0.6 and 0.8.
    grads = {"a": np.array([6.0]), "b": np.array([8.0])}
    assert clip_grad_norm(grads, 1.0) == 10.0
    np.testing.assert_allclose([grads["a"][0], grads["b"][0]], [0.6, 0.8])


def test_the_schedule_of_the_prose(chapter):
    namespace, _, printed = chapter
    options = namespace["options"]
    # Warm-up over 10 steps: 3e-3 x (step + 1) / 10; halfway through the cosine (step 105 of
    # 10 to 200): the average of 3e-3 and 3e-4, 1.65e-3; at step 200: min_lr = 3e-4.
    expected = {0: 3e-4, 4: 1.5e-3, 9: 3e-3, 105: 1.65e-3, 200: 3e-4}
    for step, rate in expected.items():
        assert options.lr(step) == pytest.approx(rate)
        assert f"step {step}: {rate:.2e}" in printed
    # The formula of the prose, at every step of the decay.
    for step in range(10, 201):
        progress = (step - 10) / 190
        formula = 3e-4 + 0.5 * (3e-3 - 3e-4) * (1 + math.cos(math.pi * progress))
        assert options.lr(step) == pytest.approx(formula)


def test_the_command_is_the_one_of_checkpoints_readme(chapter):
    _, _, printed = chapter

    def flags(text):
        lines = text.split("python -m companion.train", 1)[1].splitlines()
        last = next(i for i, line in enumerate(lines) if not line.rstrip().endswith("\\"))
        words = " ".join(lines[: last + 1]).replace("\\", " ").split()
        found, i = {}, 0
        while i < len(words):
            if i + 1 < len(words) and not words[i + 1].startswith("--"):
                value = words[i + 1]
                try:
                    found[words[i]] = float(value)
                except ValueError:
                    found[words[i]] = value
                i += 2
            else:
                found[words[i]] = True
                i += 1
        return found

    readme = (CHECKPOINTS / "README.md").read_text()
    baby_part = readme.split("## `baby_gpt_shakespeare_char.npz`")[1].split("## `transformer")[0]
    assert flags(printed) == flags(baby_part)


def test_the_times_and_losses_come_from_the_committed_files(chapter):
    _, glued, _ = chapter
    history = [json.loads(s) for s in (CHECKPOINTS / "baby_gpt_shakespeare_char.history.jsonl")
               .read_text().splitlines()]  # fmt: skip
    torch = [json.loads(s) for s in (CHECKPOINTS / "baby_gpt_shakespeare_char.pytorch.jsonl")
             .read_text().splitlines()]  # fmt: skip
    log = (CHECKPOINTS / "baby_gpt_shakespeare_char.log").read_text()
    real = re.search(r"real\s+(\d+)m([\d.]+)s", log)
    assert (glued["wall_minutes"], glued["wall_seconds"]) == (
        int(real.group(1)), round(float(real.group(2))))  # fmt: skip
    assert glued["train_seconds"] == history[-1]["elapsed"]
    assert f"{history[-1]['elapsed']:.1f} s" in log  # the log's last line says the same
    assert glued["baby_steps"] == 2000 and glued["n_evals"] == len(history) == 9
    assert glued["baby_val"] == history[-1]["val_loss"]
    assert f"{glued['baby_val']:.4f}" == "1.9058" and f"{glued['baby_train']:.4f}" == "1.7833"
    worst = max(abs(a[k] - b[k]) for a, b in zip(history, torch, strict=True)
                for k in ("train_loss", "val_loss"))  # fmt: skip
    assert glued["torch_difference"] == worst and worst <= 2.4e-7  # checkpoints/README.md
    assert glued["baby_p"] == pytest.approx(math.exp(-history[-1]["val_loss"]))
    assert glued["guess_p"] == pytest.approx(1 / 65)
    assert glued["log65"] == pytest.approx(4.1744, 1e-4)


def test_the_texts_the_prose_describes(chapter):
    _, _, printed = chapter
    greedy = printed.split("-- temperature 0.0, top_k None --\n")[1].split("\n\n")[0]
    # "Greedy decoding soon repeats itself": some stretch of 10 characters comes back 3 times.
    assert any(greedy.count(greedy[i : i + 10]) >= 3 for i in range(len(greedy) - 10))
    assert "all others 0.000" in printed.split("top_k =  3:")[1].split("\n")[0]


def test_top_k_shares_the_probability_among_the_k_best(baby):
    model, tokenizer, _ = baby
    (next_probabilities,) = chapter_functions(
        ["next_probabilities"], model=model, tokenizer=tokenizer
    )
    prompt = "ROMEO:\nBut soft, what light"
    every, three = next_probabilities(prompt, 1.0, 65), next_probabilities(prompt, 1.0, 3)
    best = np.argsort(every)[::-1][:3]
    np.testing.assert_allclose(three[best], every[best] / every[best].sum())
    assert np.count_nonzero(three) == 3 and three.sum() == pytest.approx(1.0)


def test_the_cache_picture_and_counts(chapter):
    namespace, glued, _ = chapter
    # Window of 6, a prompt of 1, 9 steps: 6 steps of one new token (the first: the prompt),
    # then 3 steps of the whole slid window.
    assert namespace["calls"] == [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1)] + [(0, 6)] * 3
    # Growing from 1 to 63 tokens: without the cache 1 + 2 + ... + 63 = 63 x 64 / 2 = 2,016.
    assert glued["pos_grow_without"] == 2016 and glued["pos_grow_with"] == 63
    assert glued["pos_ratio"] == 32
    assert glued["pos_slide"] == 30 * 64  # the window is full from the start: 64 every step


def test_the_cache_writes_the_same_tokens_as_without_it(baby):
    model, tokenizer, _ = baby
    for seed, prompt, n in ((0, "\n", 70), (1, "KING RICHARD III:\nNow", 30), (2, "A", 5)):
        start = tokenizer.encode(prompt)
        for temperature, top_k in ((0.0, None), (0.9, 7), (1.3, None)):
            cached = model.generate(start, n, temperature=temperature, top_k=top_k, rng=seed)
            plain = model.generate(
                start, n, temperature=temperature, top_k=top_k, rng=seed, use_cache=False
            )
            assert cached == plain


def test_key_value_cache_keeps_one_key_per_position_and_head(baby):
    model, tokenizer, _ = baby
    cache = KeyValueCache(model)
    ids = np.array([tokenizer.encode("ROMEO:\nBut soft, what")])
    for T in range(1, ids.shape[1] + 1):
        logits = cache(ids[:, :T])
        for block_cache in cache.caches:
            assert block_cache["k"].shape == block_cache["v"].shape == (1, 4, T, 32)
        np.testing.assert_allclose(logits, model(ids[:, :T])[0][:, -1], atol=1e-4)


def test_the_positions_a_cached_step_computes_by_a_second_count(baby):
    model, tokenizer, _ = baby
    counted = []
    compute = model.forward_cached
    model.forward_cached = lambda ids, start, caches: (
        counted.append(ids.shape[1]) or compute(ids, start, caches))  # fmt: skip
    try:
        model.generate(tokenizer.encode("ROMEO:\nBut"), 80, temperature=0)
    finally:
        del model.forward_cached
    assert len(tokenizer.encode("ROMEO:\nBut")) == PROMPT_15_4 == 10
    # Step k reads 10 + k - 1 tokens: the whole prompt at k = 1, one new token up to k = 55
    # (a window of 64), then all 64 once the window slides.
    assert counted == [10] + [1] * 54 + [64] * 25
    assert tuple(counted[k - 1] for k in STEPS_15_4) == RIGHT["15.4"]


def test_every_glued_value_is_a_plain_number():
    # The book formats {glue:text}`name:.2f` from the stored text: "np.float64(...)" breaks it.
    nb = nbformat.read(BOOK / CH15, as_version=4)
    records = [
        (out.metadata["scrapbook"]["name"], out.data["application/papermill.record/text/plain"])
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "scrapbook" in out.get("metadata", {})
    ]
    assert len(records) > 40
    for name, text in records:
        assert re.fullmatch(r"-?\d+(\.\d+)?(e[-+]\d+)?", text), (name, text)


def test_the_mermaid_diagram_names_a_chapter_in_every_box():
    nb = nbformat.read(BOOK / CH15, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    diagram = re.search(r"```\{mermaid\}\nflowchart TB\n(.*?)```", text, re.S).group(1)
    boxes = re.findall(r'\w+\["([^"]+)"\]', diagram)
    assert len(boxes) >= 10
    unlabelled = [b for b in boxes if "ch. " not in b and not b.startswith("positions")]
    assert not unlabelled, unlabelled
    for n in (6, 8, 10, 11, 12, 13, 14, 15):
        assert f"ch. {n}" in diagram or f", {n}" in diagram, n


def test_the_exercises_state_the_constants_of_the_checkers():
    nb = nbformat.read(BOOK / CH15, as_version=4)
    text = " ".join(" ".join(c.source for c in nb.cells if "{exercise}" in c.source).split())
    c = CONFIG_15_1
    assert (
        f"a vocabulary of {c['vocab_size']} tokens, a block size of {c['block_size']}, "
        f"{c['n_layer']} blocks of {c['n_head']} heads and width {c['n_embd']}, without biases"
    ) in text and c["bias"] is False
    assert "a batch of {} windows of {} characters".format(*BATCH_15_2) in text
    assert GPT2_15_3["bias"] is True and "(a matrix, no bias)" in text
    assert f"a prompt of {PROMPT_15_4} characters" in text
    assert "the 1st new character, the {}th and the {}th".format(*STEPS_15_4[1:]) in text
    s = SCHEDULE_15_5
    assert f"over {s['warmup_steps']} steps to a rate of {s['max_lr']:g}" in text
    assert f"decays to {s['min_lr']:.4f} at step {s['total_steps']}" in text
    assert f"at step {STEP_15_5}" in text


def test_gpt2_sizes_are_the_published_ones():
    # Radford et al. (2019) and the released "gpt2" model: 50,257 tokens, a context of 1,024,
    # 12 layers of 12 heads, width 768, with biases.
    assert GPT2_15_3 == {
        "vocab_size": 50257, "block_size": 1024, "n_layer": 12, "n_head": 12, "n_embd": 768,
        "bias": True}  # fmt: skip


# -- (b) the exercises -------------------------------------------------------------------------
RIGHT = {
    # Per block 12 x 64^2 + 2 x 64 = 49,152 + 128 = 49,280; 2 blocks 98,560; tables
    # (100 + 32) x 64 = 8,448; ln_f 64: 98,560 + 8,448 + 64 = 107,072.
    "15.1": 107_072,
    # [B, T, V]: 8 windows, 50 positions, 65 characters.
    "15.2": (8, 50, 65),
    # The head's own matrix: 768 x 50,257 = 38,597,376; 124,439,808 + 38,597,376 = 163,037,184.
    "15.3": (38_597_376, 163_037_184),
    # Step 1: the prompt (10); step 20: a window of 29 that grew by one (1); step 80: 89 > 64,
    # the window slid (64).
    "15.4": (10, 1, 64),
    # progress = (1050 - 100) / (2000 - 100) = 0.5, cos(pi / 2) = 0: 1e-4 + 0.5 x 9e-4.
    "15.5": 5.5e-4,
}

WRONG_WITH_HINT = [
    ("15.1", 105_024, "position table"),  # 107,072 - 32 x 64
    ("15.1", 113_472, "tied"),  # + 100 x 64
    ("15.1", 108_544, "bias=False"),  # + 2 x 11 x 64 + 64
    ("15.1", 106_752, "scales"),  # - 5 x 64
    ("15.1", 107_008, "ln_f"),  # - 64
    ("15.1", 106_816, "every block"),  # - 4 x 64
    ("15.1", 41_536, "attention only"),  # 8,448 + 2 x (4 x 4,096 + 128) + 64
    ("15.1", 57_920, "widens to 4C"),  # 8,448 + 2 x (6 x 4,096 + 128) + 64
    ("15.1", 74_304, "both of the MLP's"),  # 8,448 + 2 x (8 x 4,096 + 128) + 64
    ("15.1", 98_880, "output projection"),  # 8,448 + 2 x (11 x 4,096 + 128) + 64
    ("15.1", 57_792, "2 blocks"),  # 8,448 + 49,280 + 64
    ("15.1", 205_632, "heads share"),  # 8,448 + 2 x 2 x 49,280 + 64
    ("15.1", 1000, "Per block"),
    ("15.1", 107_072.5, "whole number"),
    ("15.2", (8, 65), "last position only"),
    ("15.2", (8, 50), "shape of the ids"),
    ("15.2", (50, 65), "batch axis"),
    ("15.2", (8, 50, 128), "before the head"),
    ("15.2", (8, 64, 65), "block_size"),
    ("15.2", (8, 65, 50), "Positions first"),
    ("15.2", (50, 8, 65), "batch axis comes first"),
    ("15.2", (8, 50, 59), "65 characters"),
    ("15.2", np.zeros((8, 50, 65)), "That is an array"),
    ("15.2", (1, 2, 3), "One score per character"),
    ("15.2", (8, 50.5, 65), "whole numbers"),
    ("15.2", (1, 2, 3, 4), "Expected shape [3]"),
    ("15.3", (163_037_184, 38_597_376), "Swapped"),
    ("15.3", (38_597_376 + 50_257, 163_037_184 + 50_257), "no bias"),
    ("15.3", (786_432, 125_226_240), "position table"),  # 1,024 x 768
    ("15.3", (589_824, 125_029_632), "768 numbers to one score"),  # 768 x 768
    ("15.3", (77_194_752, 201_634_560), "counts once"),
    ("15.3", (8_320, 124_448_128), "baby GPT"),
    ("15.3", (38_597_376, 124_439_808), "as it is, tied"),
    # Without biases: 124,439,808 - 12 x 11 x 768 - 768 = 124,337,664; + 38,597,376.
    ("15.3", (38_597_376, 162_935_040), "biases"),
    ("15.3", (38_597_376, 162_250_752), "position table in the total"),  # - 786,432
    ("15.3", (38_597_376, 1), "The saving is right"),
    ("15.3", (1, 2), "one more V x C"),
    ("15.3", 38_597_376, "Expected two numbers"),
    ("15.4", (10, 29, 64), "without the cache"),
    ("15.4", (10, 1, 1), "slides"),
    ("15.4", (1, 1, 64), "cache is empty"),
    ("15.4", (1, 1, 1), "whole prompt"),
    ("15.4", (10, 1, 89), "at most block_size"),
    ("15.4", (10, 0, 64), "goes through the model"),
    ("15.4", (11, 1, 64), "prompt alone"),
    ("15.4", (1, 20, 80), "not the characters written"),
    ("15.4", (5, 5, 5), "min(64, 10 + k - 1)"),
    ("15.4", (10, 1), "Expected shape [3]"),
    ("15.5", 5e-4, "not to 0"),
    ("15.5", 1e-3, "warm-up ended"),
    ("15.5", 1e-4, "end of the decay"),
    ("15.5", 1.051e-2, "only holds before step 100"),  # 1e-3 x 1,051 / 100
    # progress 1,050 / 2,000 = 0.525: 1e-4 + 4.5e-4 x (1 + cos(0.525 pi)) = 5.147e-4.
    ("15.5", 5.147e-4, "from the end of the warm-up"),
    # cos(90) in radians is -0.448: 1e-4 + 4.5e-4 x 0.552 = 3.484e-4.
    ("15.5", 3.484e-4, "radians"),
    ("15.5", 0.3, "lr = min_lr"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [np.zeros((2, 2), dtype=int), [1.5, 2.0, 3.0, 4.0, 5.0, 6.0], b"\xff"]


def test_right_answers_match_the_companion(baby):
    model, _, _ = baby
    assert GPTConfig(**CONFIG_15_1).n_parameters() == RIGHT["15.1"]
    assert _count_arrays(GPT(GPTConfig(**CONFIG_15_1), rng=0)) == RIGHT["15.1"]
    logits, _ = model(np.zeros(BATCH_15_2, dtype=np.int64))
    assert logits.shape == RIGHT["15.2"]
    tied = GPTConfig(**GPT2_15_3).n_parameters()
    saved = GPT2_15_3["vocab_size"] * GPT2_15_3["n_embd"]
    assert (saved, tied + saved) == RIGHT["15.3"]
    assert lr_schedule(STEP_15_5, **SCHEDULE_15_5) == pytest.approx(RIGHT["15.5"])


def test_other_spellings_of_right_answers_pass():
    assert check("15.1", 107072.0) and check("15.1", np.int64(107_072)) and check("15.1", [107072])
    assert check("15.2", [8, 50, 65]) and check("15.2", np.array([8, 50, 65]))
    assert check("15.2", np.zeros((8, 50, 65)).shape)
    assert check("15.3", [38_597_376, 163_037_184]) and check("15.3", np.array(RIGHT["15.3"]))
    assert check("15.4", [10, 1, 64]) and check("15.4", np.array([10.0, 1.0, 64.0]))
    assert check("15.5", 0.00055) and check("15.5", np.float32(5.5e-4)) and check("15.5", [5.5e-4])


@pytest.mark.parametrize("label", sorted(RIGHT))
def test_complex_answers_are_refused(label):
    answer = RIGHT[label]
    twin = [complex(a) for a in answer] if isinstance(answer, tuple) else complex(answer)
    assert "Complex numbers are not expected" in str(check(label, twin))
