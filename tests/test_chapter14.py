"""Chapter 14, Positional encoding and embedding: the chapter's few lines equal the
companion's, the answers for the exercise checkers (judged in test_exercises.py), and the numbers
the prose states hold."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # the chapter's figures, drawn without a screen

import nbformat
import numpy as np
import pytest
from conftest import BOOK, ROOT, chapter_function, run_chapter

from companion import (
    GPT,
    Embedding,
    GPTConfig,
    SelfAttention,
    attention,
    check,
    load_checkpoint,
    sinusoidal_encoding,
)
from companion.aids.exercises.chapter14 import (
    BLOCK_SIZE_14_2,
    D_14_4,
    D_14_5,
    IDS_14_3,
    N_EMBD_14_2,
    PAIR_14_5,
    POSITION_TABLE_14_3,
    SENTENCE_14_1,
    SHUFFLED_14_1,
    TOKEN_TABLE_14_3,
)

CH14 = "14_positional_encoding.ipynb"
CHECKPOINT = ROOT / "checkpoints" / "baby_gpt_shakespeare_char.npz"
RNG = np.random.default_rng(14)


@pytest.fixture(scope="module")
def by_hand():
    return chapter_function(CH14, "sinusoidal_by_hand")


@pytest.fixture(scope="module")
def chapter():
    """The chapter's code cells, run as Jupyter runs them: their namespace and glued values."""
    return run_chapter(CH14)


def _plain_cosine(a, b):
    """The cosine similarity of two vectors, with plain Python arithmetic."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def _plain_attention(x, W_q, W_k, W_v, causal=False):
    """Chapter 8's formula, one query at a time: softmax(q k / sqrt(d)) weighs the values."""
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    out = np.zeros((len(x), v.shape[1]))
    for t in range(len(x)):
        seen = range(t + 1) if causal else range(len(x))
        scores = [float(q[t] @ k[s]) / math.sqrt(k.shape[1]) for s in seen]
        top = max(scores)
        e = [math.exp(s - top) for s in scores]
        for s, w in zip(seen, e, strict=True):
            out[t] += w / sum(e) * v[s]
    return out


# -- (a) the chapter's few lines equal the companion --------------------------------------------
def test_sinusoidal_by_hand_equals_the_companion_on_random_sizes(by_hand):
    for _ in range(200):
        T = int(RNG.integers(1, 40))
        d = 2 * int(RNG.integers(1, 40))
        np.testing.assert_allclose(
            by_hand(T, d), sinusoidal_encoding(T, d, dtype=np.float64), rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(by_hand(T, d), sinusoidal_encoding(T, d), atol=1e-6)


def test_sinusoidal_by_hand_gives_the_values_worked_out_by_hand(by_hand):
    # d = 4: pair 0 divides by 10000^0 = 1, pair 1 by 10000^(2/4) = 100.
    np.testing.assert_allclose(by_hand(2, 4)[0], [0, 1, 0, 1])
    np.testing.assert_allclose(
        by_hand(2, 4)[1], [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)]
    )
    # d = 8: the divisors 1, 10, 100, 1000, so position 3 turns by 3, 0.3, 0.03, 0.003.
    angles = [3, 0.3, 0.03, 0.003]
    row = by_hand(4, 8)[3]
    np.testing.assert_allclose(row[0::2], [math.sin(a) for a in angles])
    np.testing.assert_allclose(row[1::2], [math.cos(a) for a in angles])


def test_the_chapter_similarity_equals_a_plain_cosine(chapter):
    namespace, _ = chapter
    similarity, by_distance = namespace["similarity"], namespace["by_distance"]
    for _ in range(20):
        T, C = (int(n) for n in RNG.integers(2, 9, size=2))
        table = RNG.normal(size=(T, C))
        sim = similarity(table)
        for s in range(T):
            for t in range(T):
                assert sim[s, t] == pytest.approx(_plain_cosine(table[s], table[t]))
        np.testing.assert_allclose(similarity(table * RNG.uniform(0.1, 9, size=(T, 1))), sim)
        # by_distance: the average over the pairs (s, s + k).
        for k in range(T):
            pairs = [_plain_cosine(table[s], table[s + k]) for s in range(T - k)]
            assert by_distance(sim)[k] == pytest.approx(sum(pairs) / len(pairs))


def test_the_chapter_embed_is_token_row_plus_position_row(chapter):
    namespace, _ = chapter
    embed, wte, wpe, vocab = (namespace[n] for n in ("embed", "wte", "wpe", "vocab"))
    x = embed("man bites dog")
    for t, word in enumerate(["man", "bites", "dog"]):
        row = wte.params["W"][vocab.index(word)] + wpe.params["W"][t]  # counted from 0
        np.testing.assert_array_equal(x[t], row)


def test_the_gpt_adds_position_rows_0_to_T_minus_1_as_the_chapter_shows():
    config = GPTConfig(vocab_size=7, block_size=8, n_layer=1, n_head=1, n_embd=4)
    model = GPT(config, rng=0, dtype=np.float64)
    seen = []
    block = model.blocks[0]
    forward = block.forward
    block.forward = lambda x: seen.append(x.copy()) or forward(x)
    ids = np.array([[3, 1, 3, 6, 0], [2, 2, 2, 2, 2]])
    model(ids)
    W_tok, W_pos = model.wte.params["W"], model.wpe.params["W"]
    np.testing.assert_array_equal(seen[0], W_tok[ids] + W_pos[:5])  # rows 0..4, every sequence
    with pytest.raises(ValueError, match="block_size = 8"):
        model(np.zeros((1, 9), dtype=int))


# -- (c) what the prose claims ------------------------------------------------------------------
def test_attention_without_positions_is_permutation_equivariant():
    for _ in range(100):
        T, C, d = (int(n) for n in RNG.integers(1, 9, size=3))
        x = RNG.normal(size=(T, C))
        W_q, W_k, W_v = RNG.normal(size=(3, C, d))
        order = RNG.permutation(T)
        out = _plain_attention(x, W_q, W_k, W_v)
        np.testing.assert_allclose(_plain_attention(x[order], W_q, W_k, W_v), out[order])
        out_c, _ = attention(x[order] @ W_q, x[order] @ W_k, x[order] @ W_v)
        np.testing.assert_allclose(out_c, out[order], atol=1e-12)
        head = SelfAttention(C, d, causal=False, rng=0, dtype=np.float64)
        np.testing.assert_allclose(head(x[order][None])[0], head(x[None])[0][order], atol=1e-12)


def test_the_causal_mask_hides_the_order_of_the_earlier_words():
    for _ in range(100):
        T, C, d = (int(n) for n in RNG.integers(2, 9, size=3))
        x = RNG.normal(size=(T, C))
        W_q, W_k, W_v = RNG.normal(size=(3, C, d))
        order = np.append(RNG.permutation(T - 1), T - 1)  # shuffle all but the last word
        last = _plain_attention(x, W_q, W_k, W_v, causal=True)[-1]
        np.testing.assert_allclose(_plain_attention(x[order], W_q, W_k, W_v, True)[-1], last)


def test_position_vectors_break_the_symmetry():
    for seed in range(50):
        rng = np.random.default_rng(seed)
        T, C = int(rng.integers(2, 9)), 4
        x = rng.normal(size=(T, C))
        W_q, W_k, W_v = rng.normal(size=(3, C, C))
        positions = rng.normal(size=(T, C))
        order = np.roll(np.arange(T), 1)  # every word moves
        plain = _plain_attention(x + positions, W_q, W_k, W_v)
        shuffled = _plain_attention(x[order] + positions, W_q, W_k, W_v)
        assert not np.allclose(shuffled, plain[order])


def test_the_shuffled_sentences_as_the_chapter_prints_them(chapter):
    namespace, glued = chapter
    wte, ids, embed = namespace["wte"], namespace["ids"], namespace["embed"]
    W = [namespace[n] for n in ("W_q", "W_k", "W_v")]
    a = _plain_attention(wte(ids("dog bites man")), *W)
    b = _plain_attention(wte(ids("man bites dog")), *W)
    np.testing.assert_allclose(b, a[::-1])  # the same outputs, rows reversed
    a = _plain_attention(wte(ids("dog bites man today")), *W, causal=True)
    b = _plain_attention(wte(ids("man bites dog today")), *W, causal=True)
    np.testing.assert_allclose(a[3], b[3])  # "today": the same
    assert np.abs(a[1] - b[1]).max() > 0.01  # "bites": saw dog, then man
    a = _plain_attention(embed("dog bites man"), *W)
    b = _plain_attention(embed("man bites dog"), *W)
    change = np.abs(b - a[::-1]).max(axis=1)  # per word: the largest change of a number
    assert glued["smallest_change"] == pytest.approx(change.min())
    assert change.min() > 0.1  # "every output changes", "bites" included


def test_the_sine_and_cosine_numbers_of_the_prose():
    assert f"{math.sin(1):.3f} {math.cos(1):.3f}" == "0.841 0.540"
    assert round(0.841**2, 3) == 0.707 and round(0.540**2, 3) == 0.292
    assert f"{2 * math.pi:.3f} {math.pi / 2:.3f}" == "6.283 1.571"
    assert 1 / (2 * math.pi) < 1 / 6  # an angle of 1: a little less than a sixth of a turn
    for i, power in enumerate([1, 10, 100, 1000]):  # d = 8
        assert 10000 ** (2 * i / 8) == pytest.approx(power)


def test_the_clock_numbers_of_the_prose(chapter):
    _, glued = chapter
    # 44 positions: 7 turns of 2 pi = 43.98, so the fast pair has turned by 0.0177 only.
    assert f"{7 * 2 * math.pi:.2f}" == "43.98"
    assert glued["fast_sin"] == pytest.approx(math.sin(44 - 14 * math.pi))
    assert glued["fast_cos"] == pytest.approx(math.cos(44 - 14 * math.pi))
    assert abs(glued["fast_sin"]) < 0.02 and glued["fast_cos"] > 0.999  # next to (0, 1)
    assert (glued["slow_sin"], glued["slow_cos"]) == pytest.approx((math.sin(4.4), math.cos(4.4)))
    # Wavelength 2 pi 10000^(2i/d), d = 128: i = 0 and i = 63.
    assert glued["wave_first"] == pytest.approx(2 * math.pi)
    assert glued["wave_last"] == pytest.approx(2 * math.pi * 10000 ** (126 / 128))


def test_a_pair_comes_back_after_its_wavelength(by_hand):
    d, T = 16, 400
    table = by_hand(T, d)
    for i in range(3):  # wavelengths 6.3, 19.9, 62.8: several turns within 400 positions
        wavelength = 2 * math.pi * 10000 ** (2 * i / d)
        for pos in (0, 5, 17):
            later = pos + wavelength  # not a whole number: use the formula itself
            angle = later / 10000 ** (2 * i / d)
            assert math.sin(angle) == pytest.approx(table[pos, 2 * i], abs=1e-9)
            assert math.cos(angle) == pytest.approx(table[pos, 2 * i + 1], abs=1e-9)


def test_the_baby_gpt_numbers(chapter):
    _, glued = chapter
    # checkpoints/README.md: 804,096 parameters, 795,904 without the position table; a context
    # of 64 characters, width 128, 65 symbols.
    assert glued["n_params"] == 804_096
    assert glued["n_position_params"] == 804_096 - 795_904 == 64 * 128
    assert (glued["block_size"], glued["last_position"], glued["n_embd"]) == (64, 63, 128)
    assert glued["vocab_size"] == 65


def test_the_similarity_numbers_of_the_prose(chapter):
    _, glued = chapter
    learned = load_checkpoint(CHECKPOINT)[0].wpe.params["W"].astype(np.float64)

    def average(table, k):
        pairs = [_plain_cosine(table[s], table[s + k]) for s in range(len(table) - k)]
        return sum(pairs) / len(pairs)

    for k in (1, 20, 60):
        assert glued[f"learned_{k}"] == pytest.approx(average(learned, k))
    assert glued["learned_1"] > 0.6 and glued["learned_20"] < 0.3 and glued["learned_60"] < -0.5
    assert abs(average(learned, 1) - average(learned, 2)) < 0.02  # "no more alike"
    # Sinusoidal: each row has length sqrt(d / 2) (sin^2 + cos^2 = 1 in each pair), and the
    # dot product of rows p and p + k is the sum over the pairs of cos(k w_i), since
    # sin a sin b + cos a cos b = cos(a - b). So the similarity depends on k only.
    w = [1 / 10000 ** (2 * i / 128) for i in range(64)]

    def fixed(k):
        return sum(math.cos(k * wi) for wi in w) / 64

    assert glued["fixed_1"] == pytest.approx(fixed(1))
    assert glued["fixed_min"] == pytest.approx(min(fixed(k) for k in range(64)))
    table = sinusoidal_encoding(64, 128, dtype=np.float64)
    for p, k in ((0, 5), (30, 5), (3, 40), (60, 3)):
        assert _plain_cosine(table[p], table[p + k]) == pytest.approx(fixed(k))
    # Before training: the run's model drawn again with its seed, 1337 (checkpoints/README.md),
    # at the distances the chapter prints.
    model = load_checkpoint(CHECKPOINT)[0]
    start = GPT(model.config, rng=1337).wpe.params["W"].astype(np.float64)
    worst = max(abs(average(start, k)) for k in (1, 2, 10, 20, 40, 60))
    assert glued["start_max"] == pytest.approx(worst) and worst < 0.05
    assert np.abs(model.wpe.params["W"] - start).max() > 0.1  # training moved the table


def test_the_exercises_state_the_constants_of_the_checkers():
    nb = nbformat.read(BOOK / CH14, as_version=4)
    text = "\n".join(c.source for c in nb.cells if "{exercise}" in c.source).replace("−", "-")
    text = " ".join(text.split())  # lines joined

    def vector(v):
        return f"({v[0]:g}, {v[1]:g})"

    assert f'"{" ".join(SENTENCE_14_1)}"' in text and f'"{" ".join(SHUFFLED_14_1)}"' in text
    assert f"at most {BLOCK_SIZE_14_2} tokens" in text and f"vector of {N_EMBD_14_2}" in text
    rows = ", ".join(vector(r) for r in TOKEN_TABLE_14_3[:-1])
    assert f"rows {rows} and {vector(TOKEN_TABLE_14_3[-1])} for the ids 0, 1, 2" in text
    rows = ", ".join(vector(r) for r in POSITION_TABLE_14_3[:-1])
    assert f"rows {rows} and {vector(POSITION_TABLE_14_3[-1])} for the positions 0 to 3" in text
    assert "the ids {}, {}, {}".format(*IDS_14_3) in text
    assert f"$d = {D_14_4}$" in text and f"$d = {D_14_5}$" in text and f"$i = {PAIR_14_5}$" in text


# -- (b) the exercises ---------------------------------------------------------------------------
RIGHT = {
    # "sat the down cat": sat stood at 2, the at 0, down at 3, cat at 1.
    "14.1": [2, 0, 3, 1],
    "14.2": (64, 128),
    # Rows 2, 0, 2 of the token table plus rows 0, 1, 2 of the position table:
    # (-1 + 0.5, 1 + 0.5), (1 + 0, 0 - 1), (-1 + 2, 1 + 0).
    "14.3": [[-0.5, 1.5], [1.0, -1.0], [1.0, 1.0]],
    # Pair 0 divides by 10000^0 = 1: sin 1 and cos 1 (0.84147, 0.54030).
    "14.4": (0.84147, 0.54030),
    # 10000^(64/128) = 100 positions per unit of angle; 2 pi of them: 628.3185.
    "14.5": 628.3185,
}

WRONG_WITH_HINT = [
    ("14.1", [1, 3, 0, 2], "where each old output went"),  # the inverse shuffle
    ("14.1", [0, 1, 2, 3], "do not stay in place"),
    ("14.1", [3, 1, 4, 2], "from 0"),
    ("14.1", [2, 2, 3, 1], "exactly once"),
    ("14.1", [3, 2, 1, 0], "find where it stood"),
    ("14.1", ["sat", "the", "down", "cat"], "shuffled words"),
    ("14.1", ["o2", "o0", "o3", "o1"], "not words"),
    ("14.1", [2.5, 0, 3, 1], "whole numbers"),
    ("14.2", (128, 64), "swapped"),
    ("14.2", (65, 128), "64 of them"),
    ("14.2", (64, 64), "as long as a token's vector"),
    ("14.2", 8192, "how many numbers"),
    ("14.2", 64, "Expected a shape"),
    ("14.2", np.zeros((64, 128)), "answer with its shape"),
    ("14.2", (32, 128), "One row per position of the context"),
    # counted from 1: rows 1, 2, 3 of the position table.
    ("14.3", [[-1.0, 0.0], [3.0, 0.0], [0.0, 2.0]], "counted the positions from 1"),
    ("14.3", [[-1.0, 1.0], [1.0, 0.0], [-1.0, 1.0]], "token vectors alone"),
    # rows 0, 1, 2 of the token table plus rows 2, 0, 2 of the position table.
    ("14.3", [[3.0, 0.0], [0.5, 2.5], [1.0, 1.0]], "Roles swapped"),
    ("14.3", [[0.5, 0.5], [0.0, -1.0], [2.0, 0.0]], "position vectors alone"),
    ("14.3", [[-1, 1, 0.5, 0.5], [1, 0, 0, -1], [-1, 1, 2, 0]], "side by side"),
    ("14.3", [[0, 0], [0, 0], [0, 0]], "row ids[t]"),
    ("14.4", (0.0, 1.0), "position 0"),
    ("14.4", (0.54030, 0.84147), "Swapped"),
    ("14.4", (0.017452, 0.99985), "1 degree"),  # sin and cos of pi / 180
    ("14.4", (0.84147, math.cos(1 / 10000 ** (1 / 512))), "one pair"),  # cos(0.98217)
    ("14.4", (0.90930, -0.41615), "position 2"),
    ("14.4", (0.5, 0.5), "angle is 1"),
    ("14.5", 100, "a full turn is 2π"),
    ("14.5", 0.01, "a speed"),
    ("14.5", 2 * math.pi / 100, "a speed"),
    ("14.5", 2 * math.pi * 10, "not i/d"),  # 10000^(32/128) = 10
    ("14.5", 36000, "Degrees"),
    ("14.5", 100 * math.pi, "half a turn"),
    ("14.5", 1000, "turns by 1/10000^(2i/d)"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [np.zeros((2, 2), dtype=int), [1.5, 2.0, 3.0, 4.0, 5.0, 6.0], b"\xff"]


def test_right_answers_match_the_companion():
    x = RNG.normal(size=(4, 3))
    W_q, W_k, W_v = RNG.normal(size=(3, 3, 3))
    order = RIGHT["14.1"]
    out, _ = attention(x @ W_q, x @ W_k, x @ W_v)
    shuffled = x[order]  # "sat the down cat" from "the cat sat down"
    assert [SENTENCE_14_1[i] for i in order] == list(SHUFFLED_14_1)
    out_s, _ = attention(shuffled @ W_q, shuffled @ W_k, shuffled @ W_v)
    np.testing.assert_allclose(out_s, out[order])
    config = GPTConfig(
        vocab_size=65, block_size=BLOCK_SIZE_14_2, n_layer=1, n_head=1, n_embd=N_EMBD_14_2
    )
    assert GPT(config, rng=0).wpe.params["W"].shape == RIGHT["14.2"]
    wte, wpe = Embedding(3, 2, rng=0, dtype=np.float64), Embedding(4, 2, rng=0, dtype=np.float64)
    wte.params["W"][...], wpe.params["W"][...] = TOKEN_TABLE_14_3, POSITION_TABLE_14_3
    x = wte(list(IDS_14_3)) + wpe(np.arange(len(IDS_14_3)))
    np.testing.assert_allclose(x, RIGHT["14.3"])
    np.testing.assert_allclose(
        sinusoidal_encoding(2, D_14_4, dtype=np.float64)[1, :2], RIGHT["14.4"], atol=1e-5
    )
    wavelength = 2 * math.pi * 10000 ** (2 * PAIR_14_5 / D_14_5)
    assert wavelength == pytest.approx(RIGHT["14.5"], abs=1e-4)


def test_other_spellings_of_right_answers_pass():
    assert check("14.1", np.array([2, 0, 3, 1])) and check("14.1", (2.0, 0.0, 3.0, 1.0))
    assert check("14.2", [64, 128]) and check("14.2", np.array([64, 128]))
    assert check("14.2", np.zeros((64, 128)).shape)
    assert check("14.3", np.array(RIGHT["14.3"]).reshape(1, 3, 2))
    assert check("14.4", [np.sin(1), np.cos(1)]) and check("14.4", (0.841, 0.540))
    assert check("14.5", 200 * np.pi) and check("14.5", [628.3]) and check("14.5", 628)
