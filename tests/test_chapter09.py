"""Chapter 9, Softmax, again: its few-line softmax and log-softmax equal the companion's,
its answers for the exercise checkers (judged in test_exercises.py), and what its prose claims
holds."""

from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pytest
from conftest import BOOK, chapter_function

from companion import (
    attention,
    check,
    cross_entropy,
    log_softmax,
    logistic,
    sample_next,
    softmax,
    softmax_with_temperature,
)
from companion.aids.exercises.chapter09 import (
    ATTENTION_D,
    ATTENTION_SCORES,
    BIG_SCORES,
    LOSS_LOGITS,
    LOSS_TARGET,
    PAIR,
    SPREAD_D,
    SPREAD_PAIRS,
    SPREAD_SEED,
)

matplotlib.use("Agg")

CH9 = "09_softmax_again.ipynb"
RNG = np.random.default_rng(909)


def plain_softmax(z):
    """A second softmax, written from the definition in Python floats (no NumPy exp)."""
    m = max(z)
    e = [math.exp(x - m) for x in z]
    return np.array([x / sum(e) for x in e])


def random_scores(rng, n=200):
    """Rows of scores of every size from 1 to 9 and of spread 0.1 to 3000."""
    for _ in range(n):
        yield rng.normal(scale=rng.choice([0.1, 1, 30, 300, 3000]), size=int(rng.integers(1, 10)))


@pytest.fixture(scope="module")
def notebook():
    return json.loads((BOOK / CH9).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def glued(notebook):
    """Every number the notebook glues, by name."""
    values = {}
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                values[name] = float(out["data"]["application/papermill.record/text/plain"])
    return values


# -- (a) the chapter's few lines equal the companion ----------------------------------------
def test_softmax_stable_equals_companion_softmax():
    softmax_stable = chapter_function(CH9, "softmax_stable")
    for z in random_scores(RNG):
        np.testing.assert_allclose(softmax_stable(z), softmax(z), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(softmax(z), plain_softmax(z), rtol=1e-9, atol=1e-300)
    # By hand: [1000, 999] is [1, 0] shifted; 1 / (1 + e^-1) = 0.7310585786300049.
    np.testing.assert_allclose(softmax_stable([1000.0, 999.0]), [0.7310585786, 0.2689414214])


def test_softmax_naive_agrees_on_small_scores_and_gives_nan_on_large_ones():
    softmax_naive = chapter_function(CH9, "softmax_naive")
    for z in random_scores(RNG):
        if np.abs(z).max() < 100:
            np.testing.assert_allclose(softmax_naive(z), softmax(z), rtol=1e-12)
    with np.errstate(over="ignore", invalid="ignore"):
        for z in ([1000.0, 999.0], [-1000.0, -999.0]):
            assert np.all(np.isnan(softmax_naive(z)))


def test_log_softmax_by_hand_equals_companion_log_softmax():
    log_softmax_by_hand = chapter_function(CH9, "log_softmax_by_hand")
    for z in random_scores(RNG):
        np.testing.assert_allclose(log_softmax_by_hand(z), log_softmax(z), rtol=1e-12, atol=1e-9)
        if np.abs(z).max() < 30:  # where the log of softmax is safe, it is the same number
            np.testing.assert_allclose(log_softmax(z), np.log(plain_softmax(z)), atol=1e-9)
    assert log_softmax_by_hand([0.0, 800.0]).tolist() == [-800.0, 0.0]


# -- (c) what the prose claims ------------------------------------------------------------------
def test_e_to_the_709_fits_and_710_overflows():
    with np.errstate(over="ignore"):
        assert np.isfinite(np.exp(709.0)) and np.exp(710.0) == np.inf
    assert np.exp(-1000.0) == 0.0


def test_subtracting_the_same_number_from_every_score_changes_nothing():
    for z in random_scores(RNG, 50):
        c = RNG.normal(scale=500)
        np.testing.assert_allclose(softmax(z - c), softmax(z), rtol=1e-9, atol=1e-300)
    p = softmax([3.0, 1.0])
    assert math.isclose(p[0] / p[1], math.e**2)  # e^3 / e^1 = e^2


def test_softmax_of_two_scores_is_the_logistic_of_their_difference():
    for _ in range(200):
        a, b = RNG.normal(scale=5, size=2)
        assert math.isclose(softmax([a, b])[0], logistic(a - b), rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(softmax([a, 0.0])[0], 1 / (1 + math.exp(-a)), rel_tol=1e-9)
    assert round(1 / (1 + math.exp(-2)), 3) == 0.881  # the prose's 7.389 / 8.389


def test_a_confident_mistake_costs_800_not_infinity():
    assert softmax([0.0, 800.0])[0] == 0.0  # e^-800 rounds to 0...
    assert cross_entropy([[0.0, 800.0]], [0]) == 800.0  # ...but the loss never takes log 0


def test_dot_products_of_d_random_numbers_spread_like_the_square_root_of_d():
    rng = np.random.default_rng(5)
    for d in (4, 16, 64, 256):
        q, k = rng.normal(size=(2, 4000, d))
        dots = np.einsum("ij,ij->i", q, k)  # another way to the same dot products
        assert abs(dots.std() / math.sqrt(d) - 1) < 0.05
        assert abs((dots / math.sqrt(d)).std() - 1) < 0.05


def test_without_the_division_softmax_saturates_and_with_it_does_not():
    rng = np.random.default_rng(6)
    plain, divided = [], []
    for d in (4, 16, 64, 256):
        q = rng.normal(size=(500, 1, d))
        k = rng.normal(size=(500, 8, d))
        _, u = attention(q, k, np.zeros((500, 8, 1)))
        scores = (q @ k.swapaxes(1, 2))[:, 0]  # [500, 8]
        np.testing.assert_allclose(u[:, 0], [plain_softmax(r / math.sqrt(d)) for r in scores])
        for row in range(3):
            np.testing.assert_allclose(
                u[row, 0], softmax_with_temperature(scores[row], math.sqrt(d))
            )
        plain.append(np.mean([plain_softmax(r).max() for r in scores]))
        divided.append(u[:, 0].max(axis=1).mean())
    assert plain == sorted(plain) and plain[-1] > 0.9  # one key takes almost everything
    assert max(divided) - min(divided) < 0.05 and min(divided) > 2 / 8  # steady, above 1/8


def test_a_saturated_softmax_hardly_reacts_to_a_nudge():
    for top, slope in ((0.99, 0.99 * 0.01), (0.5, 0.25)):  # the slope of p is p (1 - p)
        z = [math.log(top / (1 - top)), 0.0]  # softmax gives [top, 1 - top]
        moved = (softmax([z[0] + 1e-6, 0.0])[0] - softmax(z)[0]) / 1e-6
        assert math.isclose(moved, slope, rel_tol=1e-4)


def test_sample_next_draws_each_token_as_often_as_its_probability():
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    rng = np.random.default_rng(7)
    n = 20_000
    for temperature in (1.0, 0.5):
        e = [math.exp(x / temperature) for x in logits]
        probs = np.array(e) / sum(e)
        draws = [sample_next(logits, temperature, rng) for _ in range(n)]
        freq = np.bincount(draws, minlength=4) / n
        assert np.all(np.abs(freq - probs) <= 5 * np.sqrt(probs * (1 - probs) / n) + 1e-12)


def test_the_glued_numbers_say_what_the_prose_says(glued):
    for d in (4, 16, 64, 256):
        assert abs(glued[f"spread_{d}"] / math.sqrt(d) - 1) < 0.05
        assert abs(glued[f"scaled_spread_{d}"] - 1) < 0.05
    assert glued["top_plain_4"] < glued["top_plain_256"] and glued["top_plain_256"] > 0.9
    assert 1 / 8 < glued["top_scaled_min"] <= glued["top_scaled_max"] < glued["top_plain_4"]
    assert glued["moved_divided"] > 3 * glued["moved_no"]  # "a small fraction of the signal"
    assert glued["gap_10000"] < glued["gap_100"] and glued["gap_cold"] < 0.01
    assert glued["e709"] < glued["float_max"]


def test_the_exercises_print_the_data_the_checkers_use(notebook):
    prose = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")

    def shown(numbers):
        return "[" + ", ".join(f"{x:g}".replace("-", "−") for x in numbers) + "]"

    assert shown(BIG_SCORES) in prose  # [1000, 998, 995]
    assert f"({PAIR[0]}, {PAIR[1]})" in prose
    assert shown(LOSS_LOGITS) in prose and f"token is token {LOSS_TARGET}" in prose
    assert shown(ATTENTION_SCORES) in prose and f"$d = {ATTENTION_D}$" in prose
    assert f"default_rng({SPREAD_SEED})" in prose and f"$d = {SPREAD_D}$" in prose
    assert f"{SPREAD_PAIRS:,}" in prose


# -- the widget --------------------------------------------------------------------------------
def test_widget_draws_the_row_divided_by_the_chosen_temperature():
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    drawn = []

    def keep(fig):
        ax = fig.axes[0]
        drawn.append((ax.get_title(), [[p.get_height() for p in c] for c in ax.containers]))
        plt.close(fig)

    widget = chapter_function(CH9, "attention_row_widget")
    rng = np.random.default_rng(8)
    rows = {d: (None, None, rng.normal(scale=math.sqrt(d), size=(3, 8))) for d in (4, 16, 64)}
    widget.__globals__.update(
        widgets=widgets, plt=plt, show=keep, softmax=softmax, rows=rows, DIMS=(4, 16, 64), N_KEYS=8
    )
    box = widget(d=16, T=4.0)
    (pick_d, pick_T), _ = box.children[0].children, box.children[1]
    scores = rows[16][2][0]
    title, (grey, blue) = drawn[-1]
    np.testing.assert_allclose(grey, plain_softmax(scores))
    np.testing.assert_allclose(blue, plain_softmax(scores / 4))
    assert title.startswith("d = 16: largest weight") and f"{max(blue):.2f}" in title
    pick_T.value = 1.0
    np.testing.assert_allclose(drawn[-1][1][1], plain_softmax(scores))
    pick_d.value = 64
    np.testing.assert_allclose(drawn[-1][1][1], plain_softmax(rows[64][2][0]))
    assert drawn[-1][0].startswith("d = 64")


# -- (b) the exercises -------------------------------------------------------------------------
def _by_hand_softmax(exponents):
    e = [math.exp(x) for x in exponents]
    return [x / sum(e) for x in e]


RIGHT = {
    "9.1": _by_hand_softmax([0, -2, -5]),  # [1000, 998, 995] minus 1000
    "9.2": 1 / (1 + math.exp(-2)),  # logistic(3.5 - 1.5)
    "9.3": 700.0,  # -((-250 - 450) - log(1 + e^-448 + e^-700)), and that log is 0
    "9.4": _by_hand_softmax([2, 1, 0, -1]),  # [8, 4, 0, -4] / sqrt(16)
    "9.5": 6.0,  # sqrt(36)
}

WRONG_WITH_HINT = [
    ("9.1", [float("nan")] * 3, "Subtract the largest score"),
    ("9.1", [np.inf, np.inf, np.inf], "overflowed"),
    ("9.1", [0.0, -2.0, -5.0], "shifted scores"),
    ("9.1", [1.0, math.exp(-2), math.exp(-5)], "divide them by their sum"),
    ("9.1", _by_hand_softmax([0, 2, 5]), "not max - z"),
    ("9.1", [1000 / 2993, 998 / 2993, 995 / 2993], "exponentiate first"),
    ("9.1", [0.5, 0.4, 0.3], "add up to 1"),
    ("9.1", [0.5, 0.3, 0.2], "Subtract 1000"),
    ("9.2", 1 / (1 + math.exp(-3.5)), "second score is 1.5"),
    ("9.2", 1 / (1 + math.exp(2)), "z1 - z2, not z2 - z1"),
    ("9.2", 2.0, "put it through logistic"),
    ("9.2", [0.8808, 0.1192], "one number"),
    ("9.2", 0.5, "logistic(z1 - z2)"),
    ("9.3", float("inf"), "Use log_softmax"),
    ("9.3", np.float64(np.inf), "Use log_softmax"),
    ("9.3", -700.0, "minus it"),
    ("9.3", 250.0, "Subtract the largest score first"),
    ("9.3", 200.0, "do not add it"),
    ("9.3", [-452.0, -700.0, 0.0], "minus its entry for token 1"),
    ("9.3", 1.0, "log S close to 0"),
    ("9.4", _by_hand_softmax([8, 4, 0, -4]), "without the division"),
    ("9.4", _by_hand_softmax([0.5, 0.25, 0, -0.25]), "not by d itself"),
    ("9.4", _by_hand_softmax([32, 16, 0, -16]), "do not multiply"),
    ("9.4", [2.0, 1.0, 0.0, -1.0], "take their softmax"),
    ("9.4", [0.5, 0.5, 0.5, 0.5], "add up to 1"),
    ("9.4", [0.4, 0.3, 0.2, 0.1], "then take the softmax"),
    ("9.4", [np.nan] * 4, "nan or inf"),
    ("9.5", 36.0, "square root"),
    ("9.5", 35.2, "variance"),
    ("9.5", 1.0, "already divided"),
    ("9.5", 0.01, "the average"),
    ("9.5", list(range(SPREAD_PAIRS)), "These are the dot products"),
    ("9.5", 12.0, "np.std"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [True, np.zeros((2, 2)), b"\xff", [np.nan, 1.0]]


def test_right_answers_match_the_companion():
    np.testing.assert_allclose(RIGHT["9.1"], softmax(BIG_SCORES))
    assert math.isclose(RIGHT["9.2"], softmax(PAIR)[0])
    assert RIGHT["9.3"] == cross_entropy([LOSS_LOGITS], [LOSS_TARGET])
    np.testing.assert_allclose(RIGHT["9.4"], softmax_with_temperature(ATTENTION_SCORES, 4.0))
    rng = np.random.default_rng(SPREAD_SEED)
    q = rng.normal(size=(SPREAD_PAIRS, SPREAD_D))
    k = rng.normal(size=(SPREAD_PAIRS, SPREAD_D))
    measured = float(np.einsum("ij,ij->i", q, k).std())
    assert abs(measured - RIGHT["9.5"]) < 0.1 and check("9.5", measured)


def test_other_spellings_of_right_answers_pass():
    assert check("9.1", np.array(RIGHT["9.1"])) and check("9.1", tuple(RIGHT["9.1"]))
    assert check("9.2", np.float64(RIGHT["9.2"])) and check("9.2", [RIGHT["9.2"]])
    assert check("9.3", 700) and check("9.3", np.float32(700.0))
    assert check("9.4", np.round(RIGHT["9.4"], 4))
    assert check("9.5", 5.9) and check("9.5", np.float64(6.1))


@pytest.mark.parametrize("label", sorted(RIGHT))
def test_complex_twins_and_iterators_of_right_answers_are_refused(label):
    right = RIGHT[label]
    twin = complex(right) if isinstance(right, float) else [complex(x) for x in right]
    assert "Complex numbers are not expected" in str(check(label, twin))
    if isinstance(right, list):
        assert "iterator" in str(check(label, iter(right)))
