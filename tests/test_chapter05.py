"""Chapter 5, Predicting the next character: the chapter's code, its exercises, and
companion.models.generate (sampling with a temperature, the generation loop) and the widget."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import chapter_function  # noqa: E402

from companion import (  # noqa: E402
    CharTokenizer,
    Embedding,
    check,
    generate,
    letter_number,
    nursery_rhymes,
    sample_next,
    softmax,
    softmax_with_temperature,
)
from companion.aids.exercises.chapter05 import (  # noqa: E402
    ALPHABET,
    NEXT_LOGITS,
    SMALL_LOGITS,
    WINDOW_TEXT,
    WORDS,
)
from companion.aids.widgets_generation import generation_widget  # noqa: E402

CH5 = "05_predicting_the_next_character.ipynb"
RNG = np.random.default_rng(2026)
V = 27


def _chapter(name, **names):
    """A function of the chapter, with the chapter's global names it needs."""
    function = chapter_function(CH5, name)
    function.__globals__.update(names)
    return function


def _random_model(seed, context_length=12, vocab=V):
    """A fixed random 'network': window [1, T] -> logits [1, V]."""
    W = np.random.default_rng(seed).normal(scale=2.0, size=(context_length * vocab, vocab))

    def model(window):
        window = np.asarray(window)
        one_hot = np.eye(vocab)[window].reshape(len(window), -1)  # [1, T * V]
        return one_hot @ W  # [1, V]

    return model


# -- (a) the chapter's few lines equal the companion ---------------------------------------


def test_numbers_by_hand_is_letter_number_and_the_char_tokenizer():
    numbers_by_hand = _chapter("numbers_by_hand", ALPHABET=ALPHABET)
    text = nursery_rhymes(lowercase_letters_only=True)
    tok = CharTokenizer.from_text(text)
    assert numbers_by_hand("humpty dumpt") == [8, 21, 13, 16, 20, 25, 0, 4, 21, 13, 16, 20]
    for _ in range(20):
        start = int(RNG.integers(0, len(text) - 40))
        piece = text[start : start + 40]
        expected = [0 if ch == " " else letter_number(ch) for ch in piece]
        assert numbers_by_hand(piece) == expected == tok.encode(piece)


def test_sliding_windows_are_the_article_s_and_the_training_pairs():
    sliding_windows = _chapter("sliding_windows")
    all_windows = _chapter("all_windows", CONTEXT=12)
    line = "humpty dumpty sat on a wall"
    windows = sliding_windows(line, 12)
    assert len(windows) == len(line) - 12 == 15
    assert windows[0] == ("humpty dumpt", "y")
    assert windows[1] == ("umpty dumpty", " ")  # the "h" has slid out
    assert all(len(w) == 12 and line.find(w + c) >= 0 for w, c in windows)
    tok = CharTokenizer(ALPHABET)
    ids = np.array(tok.encode(line))
    X, y = all_windows(ids)
    assert [(tok.decode(w.tolist()), tok.decode([n])) for w, n in zip(X, y, strict=True)] == (
        windows
    )


def test_write_greedy_equals_generate_at_temperature_zero():
    write_greedy = _chapter("write_greedy")
    for seed in range(10):
        model = _random_model(seed)
        prompt = RNG.integers(0, V, size=int(RNG.integers(12, 20))).tolist()
        ours = write_greedy(model, prompt, 30, 12)
        assert ours == generate(model, prompt, 30, context_length=12, temperature=0)
        assert ours[: len(prompt)] == prompt and len(ours) == len(prompt) + 30


def test_sample_by_hand_equals_sample_next():
    sample_by_hand = _chapter("sample_by_hand")
    for trial in range(40):
        logits = RNG.normal(scale=3.0, size=int(RNG.integers(2, 40)))
        temperature = [0, 0.1, 0.5, 0.8, 1.0, 1.5, 3.0][trial % 7]
        seed = int(RNG.integers(0, 1000))
        rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
        ours = [sample_by_hand(logits, temperature, rng_a) for _ in range(50)]
        assert ours == [sample_next(logits, temperature, rng_b) for _ in range(50)]


def test_one_hot_times_weights_is_an_embedding_lookup():
    one_hot_inputs = _chapter("one_hot_inputs", N_CHARS=V)
    windows = RNG.integers(0, V, size=(5, 12))
    x = one_hot_inputs(windows)
    assert x.shape == (5, 12 * V) and x.sum() == 5 * 12
    table = Embedding(V, 8, rng=0, dtype=np.float64)
    W = table.params["W"]  # [27, 8]
    np.testing.assert_allclose(x.reshape(5, 12, V) @ W, table.forward(windows), rtol=1e-12)


# -- (b) the exercises -----------------------------------------------------------------------

RIGHT = {
    "5.1": [ALPHABET.index(ch) for ch in WORDS],
    "5.2": [WINDOW_TEXT[i : i + 12] for i in range(len(WINDOW_TEXT) - 12)],
    "5.3": (ALPHABET[int(np.argmax(NEXT_LOGITS))], float(softmax(NEXT_LOGITS).max())),
    "5.4": np.stack([softmax(SMALL_LOGITS / 0.5), softmax(SMALL_LOGITS / 2.0)]),
}

_letters = [ALPHABET.index(ch) for ch in WORDS if ch != " "]
_windows = RIGHT["5.2"]
_best = int(np.argmax(NEXT_LOGITS))

WRONG_WITH_HINT = [
    ("5.1", _letters, "spaces count"),
    ("5.1", [max(n - 1, 0) for n in RIGHT["5.1"]], "Off by one"),
    ("5.1", [ord(ch) for ch in WORDS], "ord(ch)"),
    ("5.1", [n if n else 27 for n in RIGHT["5.1"]], "space the number 0"),
    ("5.1", [1] * len(WORDS), "place in the alphabet"),
    ("5.2", [*_windows, WINDOW_TEXT[-12:]], "no next character"),
    ("5.2", _windows[1:], "first window"),
    ("5.2", _windows[::-1], "wrong order"),
    ("5.2", [w[:11] for w in _windows], "exactly 12"),
    ("5.2", [1, 2, 3], "list of strings"),
    ("5.3", ALPHABET[_best], "probability too"),
    ("5.3", (_best, 0.46), "not its number"),
    ("5.3", (ALPHABET[int(np.argmin(NEXT_LOGITS))], 0.01), "least likely"),
    ("5.3", (ALPHABET[_best - 1], 0.46), "Off by one"),
    ("5.3", (ALPHABET[_best], float(NEXT_LOGITS[_best])), "logit"),
    ("5.3", (ALPHABET[_best], 0.9), "softmax(logits)"),
    ("5.3", (ALPHABET[_best], None), "probability"),
    ("5.4", RIGHT["5.4"][::-1], "do not multiply"),
    ("5.4", np.stack([softmax(SMALL_LOGITS)] * 2), "temperature 1"),
    ("5.4", np.exp(np.stack([SMALL_LOGITS / 0.5, SMALL_LOGITS / 2])), "add up to 1"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [[], np.array(3.0), ("a", "b", "c"), [None, None]]


def test_other_right_forms_pass():
    assert check("5.1", np.array(RIGHT["5.1"]))
    assert check("5.2", tuple(RIGHT["5.2"]))
    assert check("5.3", list(RIGHT["5.3"]))
    assert check("5.3", (RIGHT["5.3"][0], np.float32(RIGHT["5.3"][1])))
    assert check("5.4", RIGHT["5.4"].tolist())


# -- (c) companion.models.generate and the widget --------------------------------------------
#: What the companion says of a bug it still has: the test shows the behaviour wanted.


def test_softmax_with_temperature_known_values_and_limits():
    z = np.array([2.0, 1.0, 0.0])
    np.testing.assert_allclose(softmax_with_temperature(z, 1.0), softmax(z), rtol=1e-12)
    e = np.exp([4.0, 2.0, 0.0])
    np.testing.assert_allclose(softmax_with_temperature(z, 0.5), e / e.sum(), rtol=1e-12)
    assert softmax_with_temperature(z, 0).tolist() == [1.0, 0.0, 0.0]
    assert softmax_with_temperature([1.0, 3.0, 3.0], 0).tolist() == [0.0, 1.0, 0.0]  # first tie
    cold = softmax_with_temperature(z, 1e-3)
    np.testing.assert_allclose(cold, [1.0, 0.0, 0.0], atol=1e-12)
    hot = softmax_with_temperature(z, 1e6)
    np.testing.assert_allclose(hot, [1 / 3] * 3, atol=1e-5)
    for T in (0.3, 1.0, 2.5):  # the order is kept, the sum is 1
        p = softmax_with_temperature(z, T)
        assert p[0] > p[1] > p[2] and math.isclose(p.sum(), 1.0)
    # a lower temperature always gives the top token more
    tops = [softmax_with_temperature(z, T)[0] for T in (0.25, 0.5, 1.0, 2.0, 4.0)]
    assert tops == sorted(tops, reverse=True)


def test_sample_next_greedy_and_frequencies():
    logits = np.array([0.5, 2.0, -1.0, 2.0])
    assert sample_next(logits, 0) == 1  # the first of two equal maxima
    assert sample_next(logits, temperature=0.0, rng=np.random.default_rng(0)) == 1
    assert isinstance(sample_next(logits, 1.0, np.random.default_rng(0)), int)
    for T in (0.5, 1.0, 2.0):
        rng = np.random.default_rng(7)
        draws = np.array([sample_next(logits, T, rng) for _ in range(20000)])
        counts = np.bincount(draws, minlength=4) / len(draws)
        np.testing.assert_allclose(counts, softmax_with_temperature(logits, T), atol=0.015)


def test_sample_next_accepts_float32_and_lists_and_is_reproducible():
    logits = np.linspace(-2, 2, 27).astype(np.float32)
    a = [sample_next(logits, 0.8, np.random.default_rng(3)) for _ in range(5)]
    b = [sample_next(logits.tolist(), 0.8, np.random.default_rng(3)) for _ in range(5)]
    assert a == b
    assert sample_next([5.0], 1.0, np.random.default_rng(0)) == 0  # a vocabulary of one


@pytest.mark.parametrize(
    ("temperature", "error"),
    [
        (-0.5, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        ("0.8", TypeError),
        (None, TypeError),
        (True, TypeError),
        ([0.8], TypeError),
    ],
)
def test_bad_temperatures_are_refused(temperature, error):
    message = r"temperature .*must be a finite number >= 0; got "
    with pytest.raises(error, match=message):
        sample_next([1.0, 2.0], temperature, np.random.default_rng(0))
    with pytest.raises(error, match=message):
        softmax_with_temperature([1.0, 2.0], temperature)
    with pytest.raises(error, match=message):
        generate(
            _random_model(0, 2, 2), [0, 1], 3, context_length=2, temperature=temperature, rng=0
        )


def test_sample_next_bad_logits_and_rng():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"logits must have shape \[V\] \(one score per token"):
        sample_next([[1.0, 2.0]], 1.0, rng)
    with pytest.raises(ValueError, match="logits must not be empty"):
        sample_next([], 1.0, rng)
    with pytest.raises(ValueError, match="logits must hold finite float64 numbers; got nan"):
        sample_next([1.0, float("nan")], 1.0, rng)
    with pytest.raises(TypeError, match="logits must be numbers .*not text"):
        sample_next("abc", 1.0, rng)
    with pytest.raises(ValueError, match="rng is needed to sample at temperature 0.8"):
        sample_next([1.0, 2.0], 0.8)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        sample_next([1.0, 2.0], 0.8, rng="42")


def test_an_int_seed_is_the_generator_of_that_seed():
    logits = np.linspace(-2.0, 2.0, 27)
    draws = [sample_next(logits, 1.0, rng=seed) for seed in range(30)]
    assert draws == [sample_next(logits, 1.0, np.random.default_rng(s)) for s in range(30)]
    model = _random_model(3)
    a = generate(model, list(range(12)), 20, context_length=12, temperature=1.0, rng=9)
    b = generate(
        model, list(range(12)), 20, context_length=12, temperature=1.0, rng=np.random.default_rng(9)
    )
    assert a == b


def test_generate_slides_a_window_of_context_length():
    seen = []

    def model(window):
        seen.append(window.tolist())
        return np.eye(10)[(window[:, -1] + 1) % 10]  # [1, T] -> [1, 10]: count upwards

    out = generate(model, [3, 4, 5], max_new_tokens=4, context_length=2, temperature=0)
    assert out == [3, 4, 5, 6, 7, 8, 9]
    assert seen == [[[4, 5]], [[5, 6]], [[6, 7]], [[7, 8]]]  # the oldest id drops out
    assert all(np.asarray(w).dtype == np.int64 for w in seen)
    assert generate(model, [3], 0, context_length=2, temperature=0) == [3]  # nothing new


def test_generate_pads_short_prompts_on_the_left_only_for_the_model():
    seen = []

    def model(window):
        seen.append(window[0].tolist())
        return np.zeros((1, 5))

    out = generate(model, [2], max_new_tokens=2, context_length=4, temperature=0, pad_id=0)
    assert out == [2, 0, 0]  # the padding is not part of the text
    assert seen == [[0, 0, 0, 2], [0, 0, 2, 0]]
    seen.clear()
    generate(model, [2], max_new_tokens=1, context_length=4, temperature=0)  # shorter window
    assert seen == [[2]]
    seen.clear()
    generate(model, [], max_new_tokens=1, context_length=3, temperature=0, pad_id=4)
    assert seen == [[4, 4, 4]]


def test_generate_reads_a_prediction_at_every_position_at_the_last_one():
    def per_position(window):  # like a GPT: a prediction after every position, [1, T, V]
        T = window.shape[1]
        out = np.zeros((1, T, 6))
        out[0, -1, 5] = 1.0  # only the last position matters
        out[0, :-1, 2] = 9.0
        return out

    assert generate(per_position, [1, 1], 2, context_length=3, temperature=0) == [1, 1, 5, 5]


def test_generate_writes_a_batch_of_prompts_each_as_if_alone():
    model = _random_model(2)
    prompts = RNG.integers(0, V, size=(3, 12))
    out = generate(model, prompts, 15, context_length=12, temperature=0)
    assert isinstance(out, np.ndarray) and out.shape == (3, 12 + 15) and out.dtype == np.int64
    np.testing.assert_array_equal(out[:, :12], prompts)
    for row, prompt in zip(out, prompts, strict=True):
        alone = generate(model, prompt.tolist(), 15, context_length=12, temperature=0)
        assert row.tolist() == alone  # one prompt as a list gives a list


def test_generate_same_seed_same_text_and_a_different_seed_differs():
    model = _random_model(1)
    prompt = list(range(12))

    def write(seed):
        rng = np.random.default_rng(seed)
        return generate(model, prompt, 50, context_length=12, temperature=1.0, rng=rng)

    a, b, c = write(5), write(5), write(6)
    assert a == b and a != c
    assert all(0 <= i < V for i in a)


def test_generate_with_top_k_1_is_greedy_at_any_temperature():
    model = _random_model(4)
    prompt = list(range(12))
    greedy = generate(model, prompt, 30, context_length=12, temperature=0)
    hot = generate(model, prompt, 30, context_length=12, temperature=5.0, top_k=1, rng=0)
    assert hot == greedy


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "net"}, TypeError, "model must be callable"),
        ({"ids": "humpty"}, TypeError, "ids must be integer ids, not text"),
        ({"ids": [1.5, 2.0]}, TypeError, "ids must hold int token ids; got float 1.5"),
        ({"ids": [True, False]}, TypeError, "ids must hold int token ids; got bool True"),
        ({"ids": [-1]}, ValueError, "ids must .*>= 0"),
        ({"ids": np.array([[0, -1]])}, ValueError, r"ids must be ids in \[0, "),
        ({"ids": np.zeros((2, 2, 2), int)}, ValueError, r"ids must have shape \[B, T\]"),
        ({"ids": np.zeros(2, int)}, ValueError, r"ids must have shape \[B, T\]"),
        ({"ids": [[0, 1], [2]]}, TypeError, "ids must be a rectangular array"),
        ({"ids": []}, ValueError, "ids must hold at least one id"),
        ({"max_new_tokens": -1}, ValueError, "max_new_tokens must be an int >= 0; got -1"),
        ({"max_new_tokens": 2.0}, TypeError, "max_new_tokens must be an int >= 0; got float"),
        ({"context_length": 0}, ValueError, "context_length must be an int >= 1; got 0"),
        ({"context_length": "12"}, TypeError, "context_length must be an int >= 1; got the str"),
        ({"pad_id": -1}, ValueError, "pad_id must be an int >= 0; got -1"),
        ({"pad_id": 1.0}, TypeError, "pad_id must be an int >= 0; got float 1.0"),
        ({"top_k": 0}, ValueError, "top_k must be an int >= 1; got 0"),
        ({"temperature": 1.0}, ValueError, "rng is needed to sample at temperature 1"),
        ({"temperature": 1.0, "rng": "0"}, TypeError, "rng must be a numpy Generator"),
        ({"temperature": 1.0, "rng": -3}, ValueError, "rng, as a seed, must be an int >= 0"),
    ],
)
def test_generate_refuses_bad_arguments(kwargs, error, message):
    arguments = {
        "model": _random_model(0, 2, 3),
        "ids": [0, 1],
        "max_new_tokens": 2,
        "context_length": 2,
        "temperature": 0,
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        generate(**arguments)


def test_generate_takes_everything_after_the_third_argument_by_name():
    with pytest.raises(TypeError, match="positional argument"):
        generate(_random_model(0, 2, 3), [0, 1], 2, 2)  # the old order: context_length third


@pytest.mark.parametrize(
    "output",
    [
        np.zeros((2, 5)),
        np.zeros((1, 3, 5)),
        np.zeros(()),
        "abc",
        np.zeros(5),
        np.array([[1.0, np.nan]]),
    ],
    ids=["two rows", "wrong T", "scalar", "text", "[V] without B", "nan"],
)
def test_generate_explains_a_model_with_the_wrong_output(output):
    with pytest.raises(ValueError, match="model must return"):
        generate(lambda w: output, [0, 1], 1, context_length=2, temperature=0)


# -- the widget ------------------------------------------------------------------------------


def _tiny_setting():
    tok = CharTokenizer(ALPHABET)

    def model(window):  # always suggests the letter after the last one
        return np.eye(V)[(window[:, -1] % 26) + 1] * 5.0  # [1, T] -> [1, 27]

    return tok, model


def _controls(widget):
    (text_box, seed_box), (heat, length) = (box.children for box in widget.children[:2])
    return text_box, seed_box, heat, length, widget.children[2]


def test_widget_writes_and_follows_its_controls():
    tok, model = _tiny_setting()
    widget = generation_widget(model, tok, 3, prompt="abc", max_new_tokens=5, temperature=0)
    text_box, seed_box, heat, length, written = _controls(widget)
    assert "<b>abc</b>defgh" in written.value
    length.value = 2
    assert "<b>abc</b>de<" in written.value
    text_box.value = "x"
    assert "<b>x</b>yz" in written.value
    heat.value = 2.0
    seed_box.value = 3
    assert "<b>x</b>" in written.value and "Cannot" not in written.value
    text_box.value = "Humpty!"  # characters the tokenizer does not know
    assert "Cannot generate" in written.value and "does not know" in written.value
    plt.close("all")


def test_widget_writes_what_generate_writes_with_the_same_seed():
    tok = CharTokenizer(ALPHABET)
    model = _random_model(8)
    widget = generation_widget(
        model, tok, 12, prompt="humpty dumpt", max_new_tokens=40, temperature=0.8, seed=3
    )
    ids = tok.encode("humpty dumpt")
    out = generate(model, ids, 40, context_length=12, temperature=0.8, rng=3)
    expected = tok.decode(out[len(ids) :])
    assert f"<b>humpty dumpt</b>{expected}</div>" in widget.children[2].value
    plt.close("all")


def test_widget_reports_a_model_that_does_not_fit_the_tokenizer():
    tok, _ = _tiny_setting()
    widget = generation_widget(lambda w: np.zeros((1, 40)), tok, 3, prompt="abc", temperature=0)
    assert "Cannot generate" in widget.children[2].value  # 40 outputs, 27 characters
    widget = generation_widget(lambda w: np.zeros((2, 27)), tok, 3, prompt="abc", temperature=0)
    assert "model must return logits" in widget.children[2].value
    plt.close("all")


def test_widget_pads_short_prompts():
    tok, model = _tiny_setting()
    widget = generation_widget(model, tok, 12, prompt="", max_new_tokens=3, temperature=0, pad_id=0)
    assert "<b></b>abc" in widget.children[2].value  # after padding spaces: a, b, c
    widget = generation_widget(model, tok, 12, prompt="", max_new_tokens=3, temperature=0)
    assert "Cannot generate" in widget.children[2].value  # no prompt and no padding
    plt.close("all")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"context_length": 0}, ValueError, "context_length must be an int >= 1"),
        ({"max_new_tokens": 0}, ValueError, "max_new_tokens must be an int >= 1"),
        ({"temperature": -1.0}, ValueError, "temperature must be a finite number >= 0 and <= 2"),
        ({"temperature": 3.0}, ValueError, "temperature must be a finite number >= 0 and <= 2"),
        ({"seed": -2}, ValueError, "seed must be an int >= 0"),
        ({"tokenizer": "abc"}, TypeError, "tokenizer must"),
        ({"model": 3}, TypeError, "model must be callable"),
        ({"pad_id": -1}, ValueError, "pad_id must be an int >= 0"),
        ({"prompt": 12}, TypeError, "prompt must be a str"),
    ],
)
def test_widget_refuses_bad_arguments(kwargs, error, message):
    tok, model = _tiny_setting()
    arguments = {"model": model, "tokenizer": tok, "context_length": 3}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        generation_widget(**arguments)


# -- (d) what the prose claims -------------------------------------------------------------


def test_train_hands_back_the_parameters_of_the_lowest_validation_loss():
    """The chapter's `train` keeps a copy at the best validation loss and restores it."""
    from companion import (
        Adam,
        CrossEntropyLoss,
        Linear,
        ReLU,
        Sequential,
        cross_entropy,
        get_batch,
        train_val_split,
    )

    ids = np.array(CharTokenizer(ALPHABET).encode(nursery_rhymes(lowercase_letters_only=True)))
    train_ids, val_ids = train_val_split(ids, val_fraction=0.1)
    all_windows = _chapter("all_windows", CONTEXT=12)
    X_train, y_train = all_windows(train_ids)
    X_val, y_val = all_windows(val_ids)
    one_hot_inputs = _chapter("one_hot_inputs", N_CHARS=V)
    shared = {
        "Adam": Adam,
        "CrossEntropyLoss": CrossEntropyLoss,
        "get_batch": get_batch,
        "cross_entropy": cross_entropy,
        "Sequential": Sequential,
        "Linear": Linear,
        "ReLU": ReLU,
        "HIDDEN": 128,
        "N_CHARS": V,
        "CONTEXT": 12,
        "train_ids": train_ids,
        "X_train": X_train,
        "y_train": y_train,
        "X_val": X_val,
        "y_val": y_val,
    }
    losses = _chapter("losses", **shared)
    make_network = _chapter("make_network", **shared)
    train = _chapter("train", losses=losses, make_network=make_network, **shared)
    net, history = train(one_hot_inputs, 12 * V, steps=400, lr=1e-2)
    assert history.shape == (400 // 50 + 1, 3) and history[0, 0] == 0
    best = int(np.argmin(history[:, 2]))
    assert 0 < best < len(history) - 1  # the one-hot network overfits within 400 steps
    assert history[-1, 2] > history[best, 2] + 0.1  # so restoring the best copy matters
    train_loss, val_loss = losses(net, one_hot_inputs)
    np.testing.assert_allclose([train_loss, val_loss], history[best, 1:], rtol=1e-6)
