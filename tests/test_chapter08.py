"""Chapter 8, Self-attention: the chapter's few lines equal the companion's, the answers
for the exercise checkers (judged in test_exercises.py), and the numbers the prose states hold."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # the chapter's figure, drawn without a screen

import nbformat
import numpy as np
import pytest
from conftest import BOOK, chapter_function, run_chapter

from companion import SelfAttention, attention, causal_mask, check
from companion.aids.exercises.chapter08 import (
    HEAD_SIZE_8_4,
    K_8_1,
    N_EMBD_8_4,
    Q_8_1,
    SCORES_8_2,
    V_8_1,
    W_K_8_3,
    W_Q_8_3,
    WORDS_8_4,
    X_8_3,
)

CH8 = "08_self_attention.ipynb"
RNG = np.random.default_rng(8)


def _random_case(rng):
    """A sentence of T vectors of C numbers and three [C, d] matrices."""
    T, C, d = (int(n) for n in rng.integers(1, 10, size=3))
    x = rng.normal(size=(T, C))
    W_q, W_k, W_v = rng.normal(size=(3, C, d))
    return x, W_q, W_k, W_v


@pytest.fixture(scope="module")
def by_hand():
    return chapter_function(CH8, "self_attention_by_hand")


@pytest.fixture(scope="module")
def chapter():
    """The chapter's code cells, run as Jupyter runs them: their namespace and glued values."""
    return run_chapter(CH8)


# -- (a) the chapter's few lines equal the companion ------------------------------------------
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "no mask"])
def test_by_hand_equals_attention_on_random_inputs(by_hand, causal):
    for _ in range(200):
        x, W_q, W_k, W_v = _random_case(RNG)
        out, u = by_hand(x, W_q, W_k, W_v, causal=causal)
        out_c, u_c = attention(x @ W_q, x @ W_k, x @ W_v, causal=causal)
        np.testing.assert_allclose(u, u_c, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(out, out_c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "no mask"])
def test_by_hand_equals_the_self_attention_layer(by_hand, causal):
    for seed in range(100):
        x, W_q, W_k, W_v = _random_case(np.random.default_rng(seed))
        C, d = W_q.shape
        head = SelfAttention(C, d, causal=causal, rng=seed, dtype=np.float64)
        for name, W in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v)):
            head.params[name][...] = W
        out, u = by_hand(x, W_q, W_k, W_v, causal=causal)
        np.testing.assert_allclose(head(x[None])[0], out, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(head.u[0], u, rtol=1e-10, atol=1e-14)


def test_by_hand_works_out_the_article_example_as_the_text_does(by_hand):
    # x1 = (1, 0), x2 = (0, 2), x3 = (2, 2); k = x @ W_k gives (1, 1), (0, -2), (2, 0);
    # q3 = (1, 1); scores 2, -2, 2, divided by sqrt(2) in the chapter's function.
    x = np.array([[1.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    W_k = np.array([[1.0, 1.0], [0.0, -1.0]])
    W_q = np.array([[0.5, 0.0], [0.0, 0.5]])
    W_v = np.array([[1.0, 0.0], [1.0, 1.0]])
    _, u = by_hand(x, W_q, W_k, W_v)
    a = np.exp(2 / np.sqrt(2))  # e^1.414 = 4.113
    np.testing.assert_allclose(u[2], [a, 1 / a, a] / (2 * a + 1 / a))
    # Row 2: q2 = (0, 1), k1·q2 = 1 and k2·q2 = -2, divided by sqrt(2).
    row_2 = np.exp(np.array([1, -2]) / np.sqrt(2))
    np.testing.assert_allclose(u[1, :2], row_2 / row_2.sum())
    assert u[0].tolist() == [1.0, 0.0, 0.0] and u[1, 2] == 0.0


# -- (c) what the prose claims ------------------------------------------------------------------
def test_masked_weights_are_exactly_zero_and_rows_add_up_to_one(by_hand):
    for _ in range(50):
        x, W_q, W_k, W_v = _random_case(RNG)
        for u in (by_hand(x, W_q, W_k, W_v)[1], attention(x @ W_q, x @ W_k, x @ W_v, True)[1]):
            assert (np.triu(u, k=1) == 0).all()
            np.testing.assert_allclose(u.sum(axis=1), 1.0)


def test_a_word_cannot_see_the_words_after_it(by_hand):
    for _ in range(50):
        x, W_q, W_k, W_v = _random_case(RNG)
        t = int(RNG.integers(0, len(x)))
        changed = x.copy()
        changed[t + 1 :] = RNG.normal(size=changed[t + 1 :].shape)  # new later words
        before, after = by_hand(x, W_q, W_k, W_v)[0], by_hand(changed, W_q, W_k, W_v)[0]
        np.testing.assert_allclose(before[: t + 1], after[: t + 1])
        _, free = by_hand(x, W_q, W_k, W_v, causal=False)  # without the mask, word t
        assert (free[t, t + 1 :] > 0).all()  # gives the later words some weight


def test_causal_mask_is_minus_infinity_above_the_diagonal():
    mask = causal_mask(4)
    assert (mask[np.triu_indices(4, k=1)] == -np.inf).all()
    assert (mask[np.tril_indices(4)] == 0).all()


def test_the_number_of_parameters_does_not_depend_on_the_sentence():
    head = SelfAttention(4, 3, rng=0)
    assert head.n_parameters == 3 * 4 * 3 == 36
    for T in (1, 6, 26):
        assert head(np.ones((1, T, 4))).shape == (1, T, 3)
    assert head.n_parameters == 36


def test_the_glued_numbers(chapter):
    _, glued = chapter
    # "Damian had a secret child a girl": girl is word 7 of 26, so 26 - 6 = 20 words back.
    assert (glued["n_words"], glued["girl_word"], glued["girl_distance"]) == (26, 7, 20)
    # Two words more push "Damian had" out of the 26-word window: girl moves from 7 to 5.
    assert glued["moved_girl"] == 5
    # softmax(2, -2, 2) = (e^2, e^-2, e^2) / (2 e^2 + e^-2).
    total = 2 * np.exp(2) + np.exp(-2)
    assert glued["u_big"] == pytest.approx(np.exp(2) / total)
    assert glued["u_small"] == pytest.approx(np.exp(-2) / total)
    a = np.exp(np.sqrt(2))  # the same scores divided by sqrt(2)
    assert glued["u_last_big"] == pytest.approx(a / (2 * a + 1 / a))
    assert glued["u_last_big"] < glued["u_big"]  # "a little less decided"
    assert glued["head_params"] == 36


def test_the_hand_set_head_finds_the_child(chapter):
    _, glued = chapter
    # "to" asks (0, 6): 'child' and 'girl' score 6 / sqrt(2), the 24 other words 0.
    e = np.exp(6 / np.sqrt(2))
    total = 2 * e + 24
    assert glued["to_girl"] == pytest.approx(e / total)
    assert glued["to_child_words"] == pytest.approx(2 * e / total)
    assert glued["to_female"] == pytest.approx(e / total)  # only 'girl' is female
    assert glued["to_male"] == pytest.approx(4 / total)  # Damian, he, his, his


def test_the_clue_is_found_at_any_distance(chapter):
    namespace, _ = chapter
    head, embed = namespace["hand_set"], namespace["embed"]
    filler = ["the"] * 10
    weights = []
    for where in range(11):  # 'girl' anywhere among ten neutral words, then 'to'
        words = filler[:where] + ["girl"] + filler[where:] + ["to"]
        head(embed(words))
        weights.append(head.u[0, -1, where])
    np.testing.assert_allclose(weights, weights[0])
    e = np.exp(6 / np.sqrt(2))  # 'girl' scores 6 / sqrt(2), the 11 other words 0
    assert weights[0] == pytest.approx(e / (e + 11))


def test_fixed_weights_fail_where_the_chapter_says(chapter):
    namespace, _ = chapter
    vote, words, moved = namespace["vote"], namespace["words"], namespace["moved"]
    seventh, equal, by_content = namespace["seventh"], namespace["equal"], namespace["by_content"]
    # Genders: Damian -1, girl +1, he -1, his -1 (twice): the sum is -3 over 26 words.
    assert vote(words, equal) == (round(-3 / 26, 2), "him")
    assert vote(words, seventh) == (1.0, "her")
    assert moved[6] == "he" and vote(moved, seventh) == (-1.0, "him")
    assert vote(words, by_content(words))[1] == vote(moved, by_content(moved))[1] == "her"


def test_the_exercises_state_the_constants_of_the_checkers():
    nb = nbformat.read(BOOK / CH8, as_version=4)
    text = "\n".join(c.source for c in nb.cells if "{exercise}" in c.source).replace("−", "-")

    def pair(v):
        return f"({v[0]:g}, {v[1]:g})"

    def matrix(W):
        return "[" + ", ".join(f"[{r[0]:g}, {r[1]:g}]" for r in W) + "]"

    assert f"q_3 = {pair(Q_8_1)}" in text
    for i in range(3):
        assert f"k_{i + 1} = {pair(K_8_1[i])}" in text
        assert f"v_{i + 1} = {pair(V_8_1[i])}" in text
        assert f"x_{i + 1} = {pair(X_8_3[i])}" in text
    assert "are {:g}, {:g}, {:g} and {:g}".format(*SCORES_8_2) in text
    assert f"`W_Q_8_3` = {matrix(W_Q_8_3)}" in text and f"`W_K_8_3` = {matrix(W_K_8_3)}" in text
    assert f"vectors of {N_EMBD_8_4} numbers" in text
    assert f"values of\n{HEAD_SIZE_8_4} numbers" in text
    assert f"a sentence of {WORDS_8_4} words" in text


# -- (b) the exercises ---------------------------------------------------------------------------
RIGHT = {
    # Scores 0, 1, 2; e^0, e^1, e^2 = 1, 2.71828, 7.38906, sum 11.10734; weights 0.09003,
    # 0.24473, 0.66524; output (0.09003 + 0.66524, 0.24473 + 0.66524).
    "8.1": (0.75527, 0.90997),
    # e^1, e^0, e^1 over 2.71828 + 1 + 2.71828 = 6.43656; word 4 masked.
    "8.2": (0.42232, 0.15536, 0.42232, 0.0),
    # q3 = (1, 2) @ W_q = (-1, 2); keys (0, 2), (-1, 0), (-2, 2):
    # 0·(-1) + 2·2 = 4, (-1)·(-1) + 0·2 = 1, (-2)·(-1) + 2·2 = 6.
    "8.3": (4, 1, 6),
    # Three [12, 4] matrices.
    "8.4": 144,
}

WRONG_WITH_HINT = [
    ("8.1", (2, 3), "raw scores"),  # 0·v1 + 1·v2 + 2·v3
    ("8.1", (2 / 3, 1), "divided the scores by their sum"),  # weights 0, 1/3, 2/3
    ("8.1", (0.71601, 0.85997), "√2"),  # softmax of (0, 0.7071, 1.4142)
    ("8.1", (0.75527, 0.81994), "added up the keys"),  # the weights times k1, k2, k3
    ("8.1", (2 / 3, 2 / 3), "plain average"),
    ("8.1", (0.09003, 0.24473, 0.66524), "right weights"),
    ("8.1", (0, 1, 2), "These are the scores"),
    ("8.1", (1, 1, 1), "Expected the output"),
    ("8.1", (1, 1), "softmax them; then"),
    ("8.2", (0.10249, 0.03770, 0.10249, 0.75731), "before softmax"),  # no mask: e^3 in the sum
    ("8.2", (0.10249, 0.03770, 0.10249, 0.0), "no longer add up to 1"),
    ("8.2", (0.0, 0.0, 0.11920, 0.88080), "looks forward"),  # e^1, e^3 over their sum
    ("8.2", (0.73106, 0.26894, 0.0, 0.0), "itself too"),  # e^1, e^0 over their sum
    ("8.2", (0.25, 0.25, 0.25, 0.25), "exactly 0"),
    ("8.2", (0.5, 0.2, 0.2, 0.0), "add up to 1"),
    ("8.2", (0.2, 0.3, 0.5, 0.0), "Softmax of the scores of words 1 to 3"),
    ("8.3", (-2, -2, -6), "x @ W_k"),  # W_k @ x_i and W_q @ x3
    ("8.3", (4 / 2**0.5, 1 / 2**0.5, 6 / 2**0.5), "No division"),
    ("8.3", (2, 2, 6), "Roles swapped"),  # q_i·k3
    ("8.3", (0, 1, 2), "You used q1"),  # q1 = (-1, 0)
    ("8.3", (2, 0, 2), "You used q2"),  # q2 = (0, 1)
    ("8.3", (1, 2, 5), "dotted the x's"),  # x_i·x3
    ("8.3", (4, -1, 2), "One matrix is missing"),  # k_i·x3
    ("8.3", (-1, 2, 3), "One matrix is missing"),  # x_i·q3
    ("8.3", (0, 0, 0), "multiply number by number"),
    ("8.4", 144 * 26, "does not depend"),
    ("8.4", 48, "three matrices"),
    ("8.4", 96, "three matrices"),
    ("8.4", 3 * (48 + 4), "no biases"),
    ("8.4", 100, "how many weights"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [np.zeros((2, 2), dtype=int), [1.5, 2.0, 3.0, 4.0, 5.0, 6.0], b"\xff"]


def test_right_answers_match_the_companion():
    out, _ = attention(np.sqrt(2) * Q_8_1[None], K_8_1, V_8_1)  # sqrt(2) undoes the division
    np.testing.assert_allclose(out[0], RIGHT["8.1"], atol=1e-5)
    # With one-hot queries, q_t·k_s = k_s[t]: every row of k_s holds 2 x the score of word s,
    # and attention divides by sqrt(4) = 2, so every query sees the exercise's scores.
    q, k = np.eye(4), 2 * np.repeat(SCORES_8_2[:, None], 4, axis=1)
    _, u = attention(q, k, np.zeros((4, 1)), causal=True)
    np.testing.assert_allclose(u[2], RIGHT["8.2"], atol=1e-5)
    np.testing.assert_allclose((X_8_3 @ W_K_8_3) @ (X_8_3[2] @ W_Q_8_3), RIGHT["8.3"])
    assert SelfAttention(N_EMBD_8_4, HEAD_SIZE_8_4, rng=0).n_parameters == RIGHT["8.4"]


def test_other_spellings_of_right_answers_pass():
    assert check("8.1", np.array([[0.7553, 0.91]])) and check("8.1", [0.755, 0.91])
    assert check("8.2", np.array([0.4223, 0.1554, 0.4223, 0.0]))
    assert check("8.3", np.array([4.0, 1.0, 6.0])) and check("8.3", [[4, 1, 6]])
    assert check("8.4", np.int64(144)) and check("8.4", 144.0)
