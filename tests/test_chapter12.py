"""Chapter 12, Dropout: the chapter's few-line dropout equals the companion's, the prose's
claims hold, and the answers for the exercise checkers (judged in test_exercises.py)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import chapter_definitions

from companion import (
    Adam,
    CharTokenizer,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Linear,
    Module,
    ReLU,
    Sequential,
    check,
    cross_entropy,
    get_batch,
    numerical_gradient,
    nursery_rhymes,
    train_val_split,
)
from companion.aids.exercises.chapter12 import (
    COUNT_P,
    COUNT_UNITS,
    FACTOR_P,
    MASK_DOUT,
    MASK_KEEP,
    MASK_P,
    MASK_X,
    UNIT_P,
    UNIT_VALUE,
)

CH12 = "12_dropout.ipynb"
RNG = np.random.default_rng(1212)


@pytest.fixture(scope="module")
def by_hand() -> dict:
    return chapter_definitions(CH12, ["dropout_forward", "dropout_backward"], {"np": np})


# -- (a) the chapter's versions equal the companion's ---------------------------------------


def test_dropout_forward_equals_the_companion_dropout_for_the_same_generator_state(by_hand):
    for _ in range(200):
        shape = tuple(int(n) for n in RNG.integers(1, 7, size=int(RNG.integers(1, 4))))
        x = RNG.normal(size=shape)
        p_drop = float(RNG.choice([0.0, 0.1, 0.25, 0.5, 0.9, RNG.uniform(0, 0.99)]))
        seed = int(RNG.integers(0, 10_000))
        out, multiplier = by_hand["dropout_forward"](x, p_drop, np.random.default_rng(seed))
        layer = Dropout(p_drop, rng=np.random.default_rng(seed))
        np.testing.assert_array_equal(layer(x), out)
        # the multiplier holds only 0 and 1 / (1 - p_drop)
        assert set(np.unique(multiplier)) <= {0.0, 1 / (1 - p_drop)}


def test_dropout_forward_equals_the_companion_in_float32(by_hand):
    for seed in range(20):
        x = RNG.normal(size=(5, 8)).astype(np.float32)
        out, _ = by_hand["dropout_forward"](x, 0.3, np.random.default_rng(seed))
        np.testing.assert_allclose(Dropout(0.3, rng=seed)(x), out, rtol=1e-6)


def test_dropout_backward_equals_the_companion_backward_and_nudging(by_hand):
    forward, backward = by_hand["dropout_forward"], by_hand["dropout_backward"]
    for seed in range(30):
        x, dout = RNG.normal(size=(3, 5)), RNG.normal(size=(3, 5))
        p_drop = float(RNG.uniform(0, 0.9))
        _, multiplier = forward(x, p_drop, np.random.default_rng(seed))
        layer = Dropout(p_drop, rng=np.random.default_rng(seed))
        layer(x)
        np.testing.assert_array_equal(layer.backward(dout), backward(dout, multiplier))

        def loss(x=x, multiplier=multiplier, dout=dout):
            return float((x * multiplier * dout).sum())

        np.testing.assert_allclose(
            numerical_gradient(loss, x), backward(dout, multiplier), atol=1e-8
        )


def test_make_model_puts_dropout_between_the_input_layer_and_the_hidden_layer():
    ns = chapter_definitions(
        CH12,
        ["Flatten", "make_model"],
        {
            "np": np,
            "Module": Module,
            "Sequential": Sequential,
            "Embedding": Embedding,
            "Dropout": Dropout,
            "Linear": Linear,
            "ReLU": ReLU,
            "V": 27,
            "C": 10,
            "CONTEXT": 12,
            "HIDDEN": 16,
        },
    )
    ids = RNG.integers(0, 27, size=(4, 12))
    plain, dropping = ns["make_model"](0.0), ns["make_model"](0.5)
    kinds = [type(layer).__name__ for layer in dropping.layers]
    assert kinds == ["Embedding", "Flatten", "Dropout", "Linear", "ReLU", "Linear"]
    # p_drop = 0 drops nothing, so it is the same model as without the layer
    without = Sequential(*[layer for layer in plain.layers if not isinstance(layer, Dropout)])
    np.testing.assert_array_equal(plain(ids), without(ids))
    # the same initial weights with and without dropout; outputs agree in evaluation mode
    dropping.eval()
    np.testing.assert_array_equal(dropping(ids), plain(ids))
    dropping.train()
    assert not np.array_equal(dropping(ids), plain(ids))
    # Flatten's backward undoes its forward's reshape
    flat = ns["Flatten"]()
    x = RNG.normal(size=(4, 12, 10))
    assert flat.forward(x).shape == (4, 120)
    np.testing.assert_array_equal(flat.backward(flat.forward(x)), x)


def test_windows_are_every_window_of_12_and_the_id_after_it():
    windows = chapter_definitions(CH12, ["windows"], {"np": np, "CONTEXT": 12})["windows"]
    ids = RNG.integers(0, 27, size=50)
    X, Y = windows(ids)
    assert X.shape == (38, 12) and Y.shape == (38,)
    for s in range(38):
        np.testing.assert_array_equal(X[s], ids[s : s + 12])
        assert Y[s] == ids[s + 12]


# -- (c) what the prose claims -----------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.8])
@pytest.mark.parametrize("x", [3.0, -1.5, 4.0])
def test_expected_value_by_hand_and_by_many_draws(p, x):
    # By hand: the unit gives x * scale with probability 1 - p and 0 with probability p.
    expected = {"inference": (1 - p) * x + p * 0, "training": (1 - p) * x / (1 - p) + p * 0}
    assert expected["training"] == pytest.approx(x)
    for scale_at, value in expected.items():
        layer = Dropout(p, rng=int(p * 100), scale_at=scale_at)
        draws = layer(np.full(400_000, x))
        spread = abs(x) * np.sqrt(p / (1 - p)) if scale_at == "training" else abs(x)
        assert abs(draws.mean() - value) < 5 * spread / np.sqrt(400_000)
        assert layer.eval()(np.array([x]))[0] == pytest.approx(value)  # inference = average


def test_each_number_is_kept_with_probability_one_minus_p():
    for p in (0.1, 0.5, 0.9):
        keep = np.random.default_rng(0).random(200_000) >= p
        assert abs(keep.mean() - (1 - p)) < 0.005


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_the_two_modes_differ_by_the_factor_one_minus_p_for_the_same_masks(p):
    x = RNG.normal(size=(6, 9))
    article = Dropout(p, rng=11, scale_at="inference")
    inverted = Dropout(p, rng=11, scale_at="training")
    a, b = article(x), inverted(x)
    np.testing.assert_allclose(a, (1 - p) * b, rtol=1e-12)
    np.testing.assert_array_equal(a == 0, b == 0)  # the same numbers dropped
    np.testing.assert_allclose(article.eval()(x), (1 - p) * inverted.eval()(x), rtol=1e-12)
    # the next layer's weights absorb the factor: W / (1 - p) after the article's rule
    after_article = Linear(9, 4, rng=0, dtype=np.float64)
    after_inverted = Linear(9, 4, rng=0, dtype=np.float64)
    after_article.params["W"][...] = after_inverted.params["W"] / (1 - p)
    after_article.params["b"][...] = after_inverted.params["b"] + RNG.normal(size=4)
    after_inverted.params["b"][...] = after_article.params["b"]
    np.testing.assert_allclose(after_article(a), after_inverted(b), rtol=1e-10, atol=1e-12)


def test_the_article_rule_and_inverted_dropout_agree_in_a_network_in_evaluation_mode():
    # A network trained with the article's rule, its next layer's weights divided by 1 - p,
    # gives at inference exactly what the inverted network gives.
    p = 0.4
    inverted = Sequential(
        Linear(5, 7, rng=1, dtype=np.float64),
        ReLU(),
        Dropout(p, rng=2),
        Linear(7, 3, rng=3, dtype=np.float64),
    )
    article = Sequential(
        Linear(5, 7, rng=1, dtype=np.float64),
        ReLU(),
        Dropout(p, rng=2, scale_at="inference"),
        Linear(7, 3, rng=3, dtype=np.float64),
    )
    article.layers[3].params["W"][...] /= 1 - p
    x = RNG.normal(size=(8, 5))
    inverted.eval()
    article.eval()
    np.testing.assert_allclose(article(x), inverted(x), rtol=1e-12)


def test_a_dropout_of_zero_draws_no_random_numbers_and_passes_everything():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    x = RNG.normal(size=(4, 4))
    np.testing.assert_array_equal(Dropout(0.0, rng=rng)(x), x)
    assert rng.bit_generator.state == state


def test_training_mode_changes_the_output_and_evaluation_mode_does_not():
    model = Sequential(Linear(4, 16, rng=0), ReLU(), Dropout(0.5, rng=1), Linear(16, 3, rng=2))
    x = np.ones((1, 4))
    model.train()
    outputs = [model(x) for _ in range(5)]
    assert any(not np.array_equal(outputs[0], o) for o in outputs[1:])
    model.eval()
    np.testing.assert_array_equal(model(x), model(x))


def _rhymes_experiment(seed: int, p_drop: float) -> np.ndarray:
    """The chapter's measurement, written again without the notebook, with other seeds:
    [steps / 100, 3] rows of step, training loss, validation loss."""
    text = nursery_rhymes(lowercase_letters_only=True)
    ids = np.array(CharTokenizer.from_text(text).encode(text))
    train_ids, val_ids = train_val_split(ids, val_fraction=0.1)

    def windows(a):
        X = np.array([a[s : s + 12] for s in range(len(a) - 12)])
        return X, a[12:]

    (X_t, Y_t), (X_v, Y_v) = windows(train_ids), windows(val_ids)
    embed, drop = Embedding(27, 10, rng=seed + 3), Dropout(p_drop, rng=seed + 4)
    hidden, relu, out = Linear(120, 256, rng=seed + 1), ReLU(), Linear(256, 27, rng=seed + 2)

    def forward(x):
        e = embed.forward(x)
        return out.forward(relu.forward(hidden.forward(drop.forward(e.reshape(len(x), -1)))))

    layers = {"e": embed, "h": hidden, "o": out}
    params = {f"{k}.{n}": p for k, m in layers.items() for n, p in m.params.items()}
    grads = {f"{k}.{n}": g for k, m in layers.items() for n, g in m.grads.items()}
    optimizer, loss_fn = Adam(params, lr=3e-3), CrossEntropyLoss()
    rng, history = np.random.default_rng(seed), []
    for step in range(1, 1501):
        x, y = get_batch(train_ids, 32, 12, rng)
        drop.training = True
        for g in grads.values():
            g.fill(0)
        loss_fn(forward(x), y[:, -1])
        d = hidden.backward(relu.backward(out.backward(loss_fn.backward())))  # [B, 120]
        embed.backward(drop.backward(d).reshape(len(x), 12, 10))
        optimizer.step(grads)
        if step % 100 == 0:
            drop.training = False
            history.append(
                (step, cross_entropy(forward(X_t), Y_t), cross_entropy(forward(X_v), Y_v))
            )
    return np.array(history)


@pytest.mark.parametrize("seed", [1, 2])
def test_with_other_seeds_dropout_shrinks_the_gap_and_beats_the_best_point_without(seed):
    without, with_dropout = _rhymes_experiment(seed, 0.0), _rhymes_experiment(seed, 0.5)
    gap_without = without[-1, 2] - without[-1, 1]
    gap_with = with_dropout[-1, 2] - with_dropout[-1, 1]
    assert gap_without > 3 * gap_with  # overfitting without, much less with
    assert without[-1, 2] > without[:, 2].min() + 0.5  # the validation loss climbs back up
    assert with_dropout[-1, 2] < without[:, 2].min() - 0.05  # better than the best point


def test_the_exercise_data_are_the_numbers_the_exercises_state():
    assert (UNIT_VALUE, UNIT_P, FACTOR_P, MASK_P) == (4.0, 0.25, 0.2, 0.2)
    np.testing.assert_array_equal(MASK_X, [2, -1, 0.5, 3, 4])
    np.testing.assert_array_equal(MASK_KEEP, [1, 0, 1, 1, 0])
    np.testing.assert_array_equal(MASK_DOUT, [1, 2, -1, 0.5, 3])
    assert (COUNT_UNITS, COUNT_P) == (1000, 0.1)


# -- (b) the exercise checkers ----------------------------------------------------------

# Worked by hand:
# 12.1: the article's rule: 0.75 x 4 + 0.25 x 0 = 3; inverted: 0.75 x (4 / 0.75) = 4.
# 12.2: the article scales by 1 - 0.2 = 0.8 at inference; inverted by 1 (nothing).
# 12.3: kept 2, 0.5, 3 divided by 0.8: 2.5, 0.625, 3.75; dropped -1 and 4 give 0.
# 12.4: dout kept at 1, -1, 0.5 times 1.25: 1.25, -1.25, 0.625; the others 0.
# 12.5: 1000 x 0.1 = 100.
RIGHT = {
    "12.1": (3.0, 4.0),
    "12.2": (0.8, 1.0),
    "12.3": np.array([2.5, 0.0, 0.625, 3.75, 0.0]),
    "12.4": np.array([1.25, 0.0, -1.25, 0.625, 0.0]),
    "12.5": 100,
}

WRONG_WITH_HINT = [
    ("12.1", 3.0, "Give two numbers"),
    ("12.1", 4, "Give two numbers"),
    ("12.1", (4.0, 3.0), "swapped"),
    ("12.1", (4.0, 4.0), "does not scale while training"),
    ("12.1", (1.0, 4.0), "probability of being dropped"),
    ("12.1", (2.0, 4.0), "each possible output times its probability"),
    ("12.1", (3.0, 16 / 3), "what a kept unit gives"),
    ("12.1", (3.0, 3.0), "divides the kept 4"),
    ("12.1", (3.0, 5.0), "weight it by the probability of being kept"),
    ("12.1", (3.0, 4.0, 5.0), "shape [2]"),
    ("12.2", 0.8, "Give two numbers"),
    ("12.2", (1.0, 0.8), "swapped"),
    ("12.2", (0.2, 1.0), "share that was dropped"),
    ("12.2", (1.25, 1.0), "scale them down"),
    ("12.2", (1.0, 1.0), "scale down"),
    ("12.2", (0.5, 1.0), "probability of keeping"),
    ("12.2", (0.8, 1.25), "while training, not at inference"),
    ("12.2", (0.8, 0.8), "nothing is left"),
    ("12.3", [2.0, 0.0, 0.5, 3.0, 0.0], "now divide the kept numbers"),
    ("12.3", [1.6, 0.0, 0.4, 2.4, 0.0], "article's rule at inference"),
    ("12.3", [10.0, 0.0, 2.5, 15.0, 0.0], "not by p"),
    ("12.3", [0.0, -1.25, 0.0, 0.0, 5.0], "1 means kept"),
    ("12.3", [0.0, -1.0, 0.0, 0.0, 4.0], "1 means kept"),
    ("12.3", [2.5, -1.25, 0.625, 3.75, 5.0], "Set the dropped numbers"),
    ("12.3", [2.0, -1.0, 0.5, 3.0, 4.0], "Set the dropped numbers"),
    ("12.3", [1.0, 1.0, 1.0, 1.0, 1.0], "its mask number"),
    ("12.3", [2.5, 0.0, 0.625], "shape [5]"),
    ("12.4", [2.5, 0.0, 0.625, 3.75, 0.0], "forward output of exercise 12.3"),
    ("12.4", [2.5, 0.0, -0.625, 1.875, 0.0], "x does not enter"),
    ("12.4", [1.0, 0.0, -1.0, 0.5, 0.0], "now divide the kept gradients"),
    ("12.4", [0.8, 0.0, -0.8, 0.4, 0.0], "article's rule"),
    ("12.4", [1.0, 2.0, -1.0, 0.5, 3.0], "Set the dropped gradients"),
    ("12.4", [0.0, 2.5, 0.0, 0.0, 3.75], "1 means kept"),
    ("12.4", [9.0, 9.0, 9.0, 9.0, 9.0], "its mask number"),
    ("12.5", 900, "how many are kept"),
    ("12.5", 0.1, "That is the share"),
    ("12.5", 10, "10 % of the units"),
    ("12.5", 50, "dropped with probability 0.1"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [[1, 2, 3, 4, 5, 6, 7]]


def test_right_answers_pass_in_other_forms():
    assert check("12.1", [3, 4]) and check("12.1", np.array([3.0, 4.0]))
    assert check("12.1", (3.0004, 4))
    assert check("12.2", [0.8, 1]) and check("12.2", np.array([0.8, 1.0]))
    assert check("12.3", RIGHT["12.3"].tolist()) and check("12.3", MASK_X * MASK_KEEP / 0.8)
    assert check("12.4", tuple(RIGHT["12.4"])) and check("12.4", MASK_DOUT * MASK_KEEP * 1.25)
    assert check("12.5", 100.0) and check("12.5", np.int64(100)) and check("12.5", [100])


def test_a_string_answer_gets_told_to_drop_the_quotes():
    assert "drop the quotes" in str(check("12.5", "100"))
    assert "drop the quotes" in str(check("12.1", "(3, 4)"))
