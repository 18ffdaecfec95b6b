"""Chapter 13, Multi-head attention: the chapter's loop and batched layer equal the companion's
``MultiHeadAttention``, the answers for the exercise checkers (judged in test_exercises.py), and
the numbers the prose states hold (the hand-set heads, the parameter counts, the trained
model's heads measured by a second, independent implementation)."""

from __future__ import annotations

import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")  # the chapter's figure, drawn without a screen

import nbformat
import numpy as np
import pytest
from conftest import BOOK, ROOT, chapter_function, run_chapter

from companion import MultiHeadAttention, attention, check, merge_heads, split_heads
from companion.aids.exercises.chapter13 import (
    HEAD_13_2,
    N_EMBD_13_1,
    N_EMBD_13_2,
    N_EMBD_13_4,
    N_HEAD_13_1,
    N_HEAD_13_2,
    N_HEAD_13_3,
    N_HEAD_13_4,
    SHAPE_13_3,
    W_O_13_5,
    Y0_13_5,
    Y1_13_5,
)

CH13 = "13_multi_head_attention.ipynb"
CHECKPOINT = "checkpoints/baby_gpt_shakespeare_char.npz"
RNG = np.random.default_rng(13)


@pytest.fixture(scope="module")
def by_hand():
    return chapter_function(CH13, "multi_head_by_hand", attention=attention)


@pytest.fixture(scope="module")
def batched():
    return chapter_function(CH13, "multi_head_batched", attention=attention)


@pytest.fixture(scope="module")
def chapter():
    """The chapter's code cells, run as Jupyter runs them: their namespace and glued values."""
    return run_chapter(CH13)


def _random_case(rng):
    """A batch [B, T, C], per-head matrices [n_head, C, hs] and W_o [C, C]."""
    n_head, hs = int(rng.integers(1, 5)), int(rng.integers(1, 6))
    B, T, C = int(rng.integers(1, 4)), int(rng.integers(1, 9)), n_head * hs
    x = rng.normal(size=(B, T, C))
    W_q, W_k, W_v = rng.normal(size=(3, n_head, C, hs))
    return x, W_q, W_k, W_v, rng.normal(size=(C, C))


def _companion_layer(W_q, W_k, W_v, W_o):
    n_head, C, _ = W_q.shape
    mha = MultiHeadAttention(C, n_head, bias=False, rng=0, dtype=np.float64)
    mha.c_attn.params["W"][...] = np.hstack([*W_q, *W_k, *W_v])  # [C, 3C]
    mha.c_proj.params["W"][...] = W_o
    return mha


# -- (a) the chapter's few lines equal the companion ------------------------------------------
def test_the_loop_over_heads_equals_multi_head_attention(by_hand):
    for _ in range(200):
        x, W_q, W_k, W_v, W_o = _random_case(RNG)
        mha = _companion_layer(W_q, W_k, W_v, W_o)
        out = mha(x)
        for b in range(len(x)):
            mine, u = by_hand(x[b], W_q, W_k, W_v, W_o)
            np.testing.assert_allclose(mine, out[b], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(u, mha.u[b], rtol=1e-10, atol=1e-14)


def test_the_batched_layer_equals_multi_head_attention(batched):
    for _ in range(200):
        x, W_q, W_k, W_v, W_o = _random_case(RNG)
        mha = _companion_layer(W_q, W_k, W_v, W_o)
        out, u = batched(x, np.hstack([*W_q, *W_k, *W_v]), W_o, len(W_q))
        np.testing.assert_allclose(out, mha(x), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(u, mha.u, rtol=1e-10, atol=1e-14)


def test_one_head_is_chapter_8s_attention_then_w_o(by_hand):
    for _ in range(50):
        x, W_q, W_k, W_v, W_o = _random_case(RNG)
        head = (W_q[:1], W_k[:1], W_v[:1])
        hs = W_q.shape[2]
        out, _ = by_hand(x[0], *head, W_o[:hs, :hs])
        single, _ = attention(x[0] @ W_q[0], x[0] @ W_k[0], x[0] @ W_v[0], causal=True)
        np.testing.assert_allclose(out, single @ W_o[:hs, :hs], rtol=1e-10, atol=1e-12)


def test_a_later_word_changes_no_earlier_output(batched):
    for _ in range(30):
        x, W_q, W_k, W_v, W_o = _random_case(RNG)
        W_attn, T = np.hstack([*W_q, *W_k, *W_v]), x.shape[1]
        t = int(RNG.integers(0, T))
        changed = x.copy()
        changed[:, t + 1 :] = RNG.normal(size=changed[:, t + 1 :].shape)
        before = batched(x, W_attn, W_o, len(W_q))[0]
        after = batched(changed, W_attn, W_o, len(W_q))[0]
        np.testing.assert_allclose(before[:, : t + 1], after[:, : t + 1], rtol=1e-10, atol=1e-12)


# -- (c) what the prose claims ------------------------------------------------------------------
def test_the_two_hand_set_heads(chapter):
    namespace, glued = chapter
    # Head 0: "he" scores 6 with "and" (the word before it), 0 with the others; / sqrt(4) = 3.
    e3 = np.exp(3.0)
    assert glued["u_sharp"] == pytest.approx(e3 / (e3 + 3))
    u = namespace["u"]
    np.testing.assert_allclose(u[0, 3], np.array([1, 1, e3, 1]) / (e3 + 3))
    np.testing.assert_allclose(u[1, 3], np.array([e3, 1, 1, 1]) / (e3 + 3))  # on "Tom"
    # The output of "he": head 0 carries "and" (joins), head 1 "Tom" (person); 1/(e^3+3) of
    # each other word's "what" numbers: Tom is a person, ran a verb, he needs a person.
    small, big = 1 / (e3 + 3), e3 / (e3 + 3)
    np.testing.assert_allclose(
        namespace["out"][3], [small, small, big, small, big, small, small, small]
    )
    # One head of 8 numbers: "Tom" and "and" both score 6 + 0, divided by sqrt(8).
    a = np.exp(6 / np.sqrt(8))
    assert glued["u_one"] == pytest.approx(a / (2 * a + 2))
    assert glued["u_one"] < 0.5 < glued["u_sharp"]  # "splits its weight"


def test_the_one_head_adds_the_two_heads_scores(chapter):
    namespace, _ = chapter
    x, W_q, W_k = namespace["x"], namespace["W_q"], namespace["W_k"]
    one_q, one_k = namespace["one_q"], namespace["one_k"]
    added = sum((x @ W_q[h]) @ (x @ W_k[h]).T for h in range(2))
    np.testing.assert_allclose((x @ one_q) @ (x @ one_k).T, added)


def test_split_heads_on_twelve_numbers():
    demo = np.arange(12).reshape(1, 2, 6)
    # Word 1 is 0..5, word 2 is 6..11; head 0 takes the first three numbers of each word.
    expected = [[[0, 1, 2], [6, 7, 8]], [[3, 4, 5], [9, 10, 11]]]
    assert split_heads(demo, 2)[0].tolist() == expected
    assert merge_heads(split_heads(demo, 2)).tolist() == demo.tolist()


def test_c_attn_holds_each_head_in_its_columns(chapter):
    namespace, _ = chapter
    W_attn, W_q, W_k, W_v = (namespace[n] for n in ("W_attn", "W_q", "W_k", "W_v"))
    C, hs = 8, 4
    for h in range(2):
        for third, W in enumerate((W_q, W_k, W_v)):
            start = third * C + h * hs
            np.testing.assert_array_equal(W_attn[:, start : start + hs], W[h])


def test_heads_cost_no_parameters(chapter):
    _, glued = chapter
    # C = 128: c_attn 128 x 384 = 49,152 weights, c_proj 128 x 128 = 16,384: 65,536 in all;
    # biases 384 + 128 = 512.
    assert glued["weights_128"] == 65_536 and glued["params_128"] == 65_536 + 512
    for n_head in (1, 2, 4, 8, 16, 32, 64, 128):
        assert MultiHeadAttention(128, n_head, rng=0).n_parameters == 66_048
        assert MultiHeadAttention(128, n_head, bias=False, rng=0).n_parameters == 65_536


def test_the_checkpoint_is_in_the_repository():
    path = ROOT / CHECKPOINT
    assert path.is_file() and path.stat().st_size > 1_000_000
    nb = nbformat.read(BOOK / CH13, as_version=4)
    assert any(f'"../{CHECKPOINT}"' in c.source for c in nb.cells if c.cell_type == "code")
    assert (BOOK / ".." / CHECKPOINT).resolve() == path.resolve()
    if (ROOT / ".git").exists() and shutil.which("git"):
        tracked = subprocess.run(
            ["git", "ls-files", "--error-unmatch", CHECKPOINT],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        assert tracked.returncode == 0, "the checkpoint is not committed"


def test_the_baby_gpts_attention(chapter):
    namespace, _ = chapter
    model, attn = namespace["model"], namespace["attn"]
    assert len(model.blocks) == 4 and all(
        isinstance(b.attn, MultiHeadAttention) for b in model.blocks
    )
    assert (attn.n_head, attn.n_embd) == (4, 128)
    assert attn.n_parameters == 4 * 128 * 128  # no biases in this model


def _measure_vectorized(u, ids, alphabet):
    """The chapter's five measures, computed with array operations instead of loops."""
    chars = np.array(list(alphabet))[ids]  # [N, T]
    T = ids.shape[1]
    t = np.arange(T)
    is_space = np.isin(chars, [" ", "\n"])
    last_space = np.maximum.accumulate(np.where(is_space, t, -1), axis=1)  # [N, T]
    n, s = np.nonzero(~is_space & (last_space >= 0))  # letters with a space before them
    result = {
        "previous": u[:, :, t[1:], t[1:] - 1].mean(axis=(0, 2)),
        "word start": u[n, :, s, last_space[n, s]].mean(axis=0),
    }
    for rule, mask in (
        ("vowels", np.isin(chars, list("aeiouAEIOU"))),
        ("line starts", chars == "\n"),
    ):
        on_them = (u * mask[:, None, None, :]).sum(axis=-1)  # [N, H, T]
        seen = np.maximum.accumulate(mask, axis=1)  # [N, T]: one seen at or before t
        result[rule] = on_them.transpose(0, 2, 1)[seen].mean(axis=0)
    result["how far back"] = (u * (t[:, None] - t[None, :])).sum(axis=-1).mean(axis=(0, 2))
    return result


def test_the_measures_of_the_heads_by_a_second_implementation(chapter):
    namespace, glued = chapter
    model, ids, tokenizer = namespace["model"], namespace["ids"], namespace["tokenizer"]
    assert ids.shape == (64, 64)
    model(ids)
    u = model.blocks[1].attn.u
    mine = _measure_vectorized(u, ids, tokenizer.alphabet)
    table = namespace["measure"](u, namespace["windows"])
    for rule, values in mine.items():
        np.testing.assert_allclose(table[rule], values, rtol=1e-5, atol=1e-6)
        for h in range(4):
            assert glued[f"{rule.replace(' ', '_')}_{h}"] == pytest.approx(values[h], rel=1e-5)
    # What the prose says of each head, against an even spread.
    even = np.broadcast_to(np.tril(np.ones((64, 64))) / np.arange(1, 65)[:, None], (64, 1, 64, 64))
    spread = _measure_vectorized(even, ids, tokenizer.alphabet)
    assert mine["word start"][0] > 0.5 > 10 * spread["word start"][0]
    assert mine["vowels"][1] == mine["vowels"].max() > spread["vowels"][0] + 0.1
    assert mine["how far back"][3] == mine["how far back"].max()
    assert mine["line starts"][3] > 5 * spread["line starts"][0]
    assert mine["previous"].max() < 0.3


def test_the_even_spread(chapter):
    namespace, glued = chapter
    # Query t spreads 1 / (t + 1) over distances 0..t: t / 2 back on average; the mean of
    # t / 2 over t = 0..63 is 31.5 / 2.
    assert glued["how_far_back_even"] == pytest.approx(15.75)
    # The previous character gets 1 / (t + 1), for t = 1..63.
    assert glued["previous_even"] == pytest.approx(sum(1 / (t + 1) for t in range(1, 64)) / 63)


def test_the_other_blocks_as_the_widget_text_says(chapter):
    namespace, glued = chapter
    model, ids, windows = namespace["model"], namespace["ids"], namespace["windows"]
    model(ids)
    back = _measure_vectorized(model.blocks[0].attn.u, ids, namespace["tokenizer"].alphabet)
    assert glued["block0_back_max"] == pytest.approx(back["how far back"].max(), rel=1e-5)
    assert back["how far back"].max() < 5
    colon = [
        model.blocks[3].attn.u[n, 1, t, text.rindex(":", 0, t)]
        for n, text in enumerate(windows)
        for t in range(len(text))
        if ":" in text[:t]
    ]
    assert glued["colon_3_1"] == pytest.approx(np.mean(colon), rel=1e-5)
    assert glued["colon_3_1"] > 5 * glued["colon_even"]


def test_the_exercises_state_the_constants_of_the_checkers():
    nb = nbformat.read(BOOK / CH13, as_version=4)
    text = " ".join("\n".join(c.source for c in nb.cells if "{exercise}" in c.source).split())
    assert f"`N_EMBD_13_1` = {N_EMBD_13_1}" in text and f"`N_HEAD_13_1` = {N_HEAD_13_1}" in text
    assert f"$C = {N_EMBD_13_2}$, {N_HEAD_13_2} heads" in text
    assert f"$W_k$ of head {HEAD_13_2}" in text
    B, T, C = SHAPE_13_3
    assert f"{B} windows of {T} characters, {C} numbers each" in text
    assert f"with {N_HEAD_13_3} heads" in text
    assert f"MultiHeadAttention({N_EMBD_13_4}, {N_HEAD_13_4}, rng=0)" in text
    pairs = [f"({r[0]:g}, {r[1]:g})" for r in (*Y0_13_5, *Y1_13_5)]
    assert "head 0 gives {} and {}".format(*pairs[:2]) in text
    assert "head 1 gives {} and {}".format(*pairs[2:]) in text
    rows = ", ".join("[" + ", ".join(f"{v:g}" for v in row) + "]" for row in W_O_13_5)
    assert f"[{rows}]" in text


# -- (b) the exercises ---------------------------------------------------------------------------
RIGHT = {
    "13.1": 64,  # 384 / 6
    # The keys are columns 128 to 255; head 2 owns 2 x 32 = 64 onwards: 192 to 223.
    "13.2": slice(192, 224),
    "13.3": (12, 4, 64, 32),  # [B, n_head, T, 128 / 4]
    # c_attn: 64 x 192 = 12,288 + 192 biases; c_proj: 64 x 64 = 4,096 + 64: 16,640.
    "13.4": 16_640,
    # Rows (1, 0, 0, 3) and (2, 1, 1, 1); times W_o: 1 x (1, 0, 0, 1) + 3 x (1, 0, 0, 0) =
    # (4, 0, 0, 1), and 2 x (1, 0, 0, 1) + (0, 1, 0, 0) + (0, 0, 1, 1) + (1, 0, 0, 0) =
    # (3, 1, 1, 3).
    "13.5": [[4, 0, 0, 1], [3, 1, 1, 3]],
}

WRONG_WITH_HINT = [
    ("13.1", 2304, "do not multiply"),
    ("13.1", 384, "full size"),
    ("13.1", 192, "q, k and v together"),
    ("13.1", 1152, "columns of c_attn"),
    ("13.1", 6, "number of heads"),
    ("13.1", 50, "equal groups"),
    ("13.1", 64.5, "whole number"),
    ("13.2", slice(192, 223), "stop is not included"),
    ("13.2", (64, 96), "W_q"),
    ("13.2", (320, 352), "W_v"),
    ("13.2", (160, 192), "head 1"),
    ("13.2", (224, 256), "head 3"),
    ("13.2", (256, 384), "whole third"),
    ("13.2", (192, 288), "start is right"),
    ("13.2", (100, 132), "32 columns is right"),
    ("13.2", (0, 10), "keys' third starts"),
    ("13.2", slice(192, 224, 2), "no step"),
    ("13.2", [192, 194, 196], "one run of neighbours"),
    ("13.2", (192.5, 224), "whole numbers"),
    ("13.2", np.zeros((2, 2)), "array of shape"),
    ("13.3", (12, 64, 4, 32), "after the reshape"),
    ("13.3", (4, 12, 64, 32), "batch axis stays first"),
    ("13.3", (12, 4, 64, 128), "not all 128"),
    ("13.3", (12, 4, 32, 64), "positions first"),
    ("13.3", (12, 4, 64, 96), "not all 3C"),
    ("13.3", (12, 64, 128), "not three"),
    ("13.3", np.zeros((12, 4, 64, 32)), "its shape"),
    ("13.3", (1, 2, 3, 4), "Four axes"),
    ("13.4", 16_384, "add the biases"),
    ("13.4", 12_288, "c_attn alone"),
    ("13.4", 12_480, "c_attn alone"),
    ("13.4", 8 * 16_640, "not full size"),
    ("13.4", 8 * 16_384, "not full size"),
    ("13.4", 3 * 64 * 8, "one head's"),
    ("13.4", 3 * 64 * 8 + 64 * 64, "one head's"),
    ("13.4", 16_384 + 128, "biases again"),
    ("13.4", 16_384 + 64, "biases again"),
    ("13.4", 100, "Count c_attn"),
    ("13.4", 16_640.5, "whole number"),
    ("13.5", [[1, 0, 0, 3], [2, 1, 1, 1]], "multiply it by W_o"),
    ("13.5", [[0, 3, 1, 1], [2, 1, 2, 3]], "Head 0's numbers come first"),  # [Y1 | Y0] @ W_o
    ("13.5", [[4, 0, 3, 1], [3, 1, 2, 2]], "turned on its side"),  # concat @ W_o.T
    ("13.5", [[1, 0], [2, 1], [0, 3], [1, 1]], "one below the other"),
    ("13.5", [[1, 3], [3, 2]], "not added"),
    ("13.5", [[0, 0, 0, 0], [0, 0, 0, 0]], "Row t"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [
    np.zeros((2, 2), dtype=int),
    [1.5, 2.0, 3.0, 4.0, 5.0, 6.0],
    b"\xff",
    slice(None, None),
    True,
]


def test_right_answers_match_the_companion():
    assert N_EMBD_13_1 // N_HEAD_13_1 == RIGHT["13.1"]
    mha = MultiHeadAttention(N_EMBD_13_2, N_HEAD_13_2, bias=False, rng=0, dtype=np.float64)
    x = RNG.normal(size=(1, 5, N_EMBD_13_2))
    k = x @ mha.c_attn.params["W"][:, RIGHT["13.2"]]
    mha(x)
    np.testing.assert_allclose(k[0], mha.k[0, HEAD_13_2])  # the layer's head 2 keys
    assert split_heads(np.zeros(SHAPE_13_3), N_HEAD_13_3).shape == RIGHT["13.3"]
    assert MultiHeadAttention(N_EMBD_13_4, N_HEAD_13_4, rng=0).n_parameters == RIGHT["13.4"]
    heads = np.stack([Y0_13_5, Y1_13_5])[None]  # [B = 1, n_head = 2, T = 2, hs = 2]
    np.testing.assert_array_equal(merge_heads(heads)[0] @ W_O_13_5, RIGHT["13.5"])


def test_other_spellings_of_right_answers_pass():
    assert check("13.1", np.int64(64)) and check("13.1", 64.0) and check("13.1", [64])
    for spelling in (range(192, 224), (192, 224), [192.0, 224.0], np.arange(192, 224)):
        assert check("13.2", spelling), spelling
    assert check("13.2", list(range(192, 224))) and check("13.2", slice(192, 224, 1))
    assert check("13.3", [12, 4, 64, 32]) and check("13.3", np.array([12, 4, 64, 32]))
    assert check("13.3", split_heads(np.zeros(SHAPE_13_3), N_HEAD_13_3).shape)
    assert check("13.4", np.int64(16_640)) and check("13.4", 16_640.0)
    assert check("13.5", np.array(RIGHT["13.5"], dtype=float))
