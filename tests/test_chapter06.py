"""Chapter 6, Embeddings: the chapter's few-line versions equal the companion's, and the
answers for the exercise checkers (judged in test_exercises.py)."""

from __future__ import annotations

import numpy as np
from conftest import chapter_function

from companion import (
    Adam,
    CharTokenizer,
    CrossEntropyLoss,
    Embedding,
    Linear,
    Module,
    ReLU,
    Sequential,
    check,
    cross_entropy,
    get_batch,
    gradcheck,
    letter_number,
    nursery_rhymes,
    train_val_split,
)
from companion.aids.exercises.chapter06 import DOUT_6_3, TABLE_6_2

CH6 = "06_embeddings.ipynb"
RNG = np.random.default_rng(2026)


def _random_case(rng, max_vocab=30, max_len=40, max_dim=12):
    """A vocabulary size, ids with repeats (and possibly absent ids), a table and a dout."""
    V = int(rng.integers(1, max_vocab))
    T = int(rng.integers(1, max_len))
    C = int(rng.integers(1, max_dim))
    ids = rng.integers(0, V, size=T)
    E = rng.normal(size=(V, C))
    dout = rng.normal(size=(T, C))
    return V, C, ids, E, dout


def _companion_embedding(E):
    embedding = Embedding(*E.shape, rng=0, dtype=np.float64)
    embedding.params["W"][...] = E
    return embedding


# -- (a) the chapter's versions equal the companion's ---------------------------------------


def test_lookup_by_hand_equals_companion_embedding_forward():
    lookup_by_hand = chapter_function(CH6, "lookup_by_hand")
    for _ in range(50):
        _, _, ids, E, _ = _random_case(RNG)
        np.testing.assert_array_equal(lookup_by_hand(E, ids), _companion_embedding(E)(ids))


def test_one_hot_times_matrix_equals_the_lookup():
    one_hot = chapter_function(CH6, "one_hot")
    lookup_by_hand = chapter_function(CH6, "lookup_by_hand")
    for _ in range(50):
        V, _, ids, E, _ = _random_case(RNG)
        rows = one_hot(ids, V)
        assert rows.shape == (len(ids), V)
        np.testing.assert_array_equal(rows.sum(axis=1), np.ones(len(ids)))
        np.testing.assert_array_equal(rows.argmax(axis=1), ids)
        np.testing.assert_allclose(rows @ E, lookup_by_hand(E, ids), rtol=0, atol=0)


def test_embedding_grad_by_hand_equals_companion_embedding_backward():
    embedding_grad_by_hand = chapter_function(CH6, "embedding_grad_by_hand")
    one_hot = chapter_function(CH6, "one_hot")
    for _ in range(50):
        V, _, ids, E, dout = _random_case(RNG)
        embedding = _companion_embedding(E)
        embedding.forward(ids)
        assert embedding.backward(dout) is None  # ids get no gradient
        grad = embedding_grad_by_hand(ids, dout, V)
        np.testing.assert_allclose(grad, embedding.grads["W"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(one_hot(ids, V).T @ dout, grad, rtol=1e-12, atol=1e-12)


def test_a_repeated_character_collects_the_sum_and_an_absent_one_nothing():
    embedding_grad_by_hand = chapter_function(CH6, "embedding_grad_by_hand")
    ids = [3, 1, 3, 3]
    dout = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0], [1000.0, 2000.0]])
    grad = embedding_grad_by_hand(ids, dout, 5)
    np.testing.assert_array_equal(grad[3], [1101.0, 2202.0])
    np.testing.assert_array_equal(grad[1], [10.0, 20.0])
    np.testing.assert_array_equal(grad[[0, 2, 4]], np.zeros((3, 2)))
    embedding = _companion_embedding(np.zeros((5, 2)))
    embedding(ids)  # a list of ids, checked at the door and looked up
    embedding.backward(dout)
    np.testing.assert_array_equal(embedding.grads["W"], grad)


def test_the_tokenizer_ids_of_the_rhymes_are_chapter_5s_letter_numbers():
    text = nursery_rhymes(lowercase_letters_only=True)
    ids = CharTokenizer.from_text(text).encode(text)
    assert ids == [0 if c == " " else letter_number(c) for c in text]
    assert CharTokenizer.from_text(text).encode("humpty dumpt") == [
        8,
        21,
        13,
        16,
        20,
        25,
        0,
        4,
        21,
        13,
        16,
        20,
    ]


def test_flatten_lays_vectors_end_to_end_and_back():
    Flatten = chapter_function(CH6, "Flatten", Module=Module)
    flatten = Flatten()
    x = RNG.normal(size=(3, 12, 10))
    out = flatten.forward(x)
    assert out.shape == (3, 120)
    np.testing.assert_array_equal(out[1, 10:20], x[1, 1])  # the second vector of window 1
    np.testing.assert_array_equal(flatten.backward(out), x)


def test_the_chapters_embedding_model_passes_a_gradient_check():
    Flatten = chapter_function(CH6, "Flatten", Module=Module)
    V, C, T = 7, 3, 4
    model = Sequential(
        Embedding(V, C, rng=0, dtype=np.float64),
        Flatten(),
        Linear(T * C, 5, rng=1, dtype=np.float64),
        ReLU(),
        Linear(5, V, rng=2, dtype=np.float64),
    )
    table = model.layers[0].params["W"]
    table[...] = RNG.normal(size=table.shape)  # unit-sized embeddings: nudging is accurate
    ids = np.array([[1, 2, 1, 6], [0, 0, 3, 1]])
    targets = np.array([2, 5])
    loss_fn = CrossEntropyLoss()

    def loss():
        return loss_fn(model.forward(ids), targets)

    model.zero_grad()
    loss()
    model.backward(loss_fn.backward())
    assert not model.gradients()["layers.0.W"][[4, 5]].any()  # ids 4 and 5 are absent
    gradcheck(loss, table, model.gradients()["layers.0.W"].copy())


def test_train_keeps_the_parameters_of_the_lowest_validation_loss():
    """The chapter's `train` hands back the model at its best validation loss."""
    text = nursery_rhymes(lowercase_letters_only=True)
    train_ids, val_ids = train_val_split(np.array(CharTokenizer.from_text(text).encode(text)))
    windows = np.lib.stride_tricks.sliding_window_view
    data = {
        "train_ids": train_ids,
        "X_train": windows(train_ids[:-1], 12),
        "Y_train": train_ids[12:],
        "X_val": windows(val_ids[:-1], 12),
        "Y_val": val_ids[12:],
    }
    names = {"V": 27, "CONTEXT": 12, "Linear": Linear, "ReLU": ReLU}
    mlp = chapter_function(CH6, "mlp")
    as_one_hot = chapter_function(CH6, "as_one_hot")
    train = chapter_function(CH6, "train", STEPS=1500)
    for function in (mlp, as_one_hot, train):
        function.__globals__.update(names, **data)
    train.__globals__.update(
        Adam=Adam,
        CrossEntropyLoss=CrossEntropyLoss,
        get_batch=get_batch,
        cross_entropy=cross_entropy,
    )
    model = Sequential(*mlp(12 * 27))
    history = train(model, as_one_hot, steps=1200)
    assert history.shape == (12, 3) and history[:, 0].tolist() == list(range(100, 1201, 100))
    best = int(np.argmin(history[:, 2]))
    assert best < len(history) - 1  # the one-hot model overfits before step 1200
    val_loss = cross_entropy(model(as_one_hot(data["X_val"])), data["Y_val"])
    np.testing.assert_allclose(val_loss, history[best, 2], rtol=1e-6)


# -- (b) the exercise checkers ----------------------------------------------------------

CAB = TABLE_6_2[[3, 1, 2]]  # [3, 3]
ROW_A = DOUT_6_3[0] + DOUT_6_3[2]
RIGHT = {
    "6.1": 2048,
    "6.2": CAB.reshape(-1),
    "6.3": ROW_A,
    "6.4": 27 * 16 + (12 * 16) * 64 + 64 + 64 * 27 + 27,
}

WRONG_WITH_HINT = [
    ("6.1", 96, "added"),
    ("6.1", 64, "one of the two sizes"),
    ("6.1", 32, "one of the two sizes"),
    ("6.1", 120, "chapter's model"),
    ("6.1", 2000, "Count the characters"),
    ("6.2", CAB[::-1].reshape(-1), "wrong order"),
    ("6.2", TABLE_6_2[[2, 0, 1]].reshape(-1), "Row 0 is the space"),
    ("6.2", CAB.sum(axis=0), "added the three vectors"),
    ("6.2", CAB[0], "one vector"),
    ("6.2", np.zeros(9), "Look up the row"),
    ("6.2", np.zeros(12), "shape [9]"),
    ("6.3", DOUT_6_3[0], "one position only"),
    ("6.3", DOUT_6_3[2], "one position only"),
    ("6.3", ROW_A / 2, "mean"),
    ("6.3", DOUT_6_3.sum(axis=0), "position 1"),
    ("6.3", -ROW_A, "wrong sign"),
    ("6.3", np.zeros(3), "Add the rows"),
    ("6.4", RIGHT["6.4"] - 27 * 16, "embedding table is learned too"),
    ("6.4", RIGHT["6.4"] - 64 - 27, "biases"),
    ("6.4", 9769, "vectors of 10 numbers"),
    ("6.4", 1, "Add the table"),
]


def test_right_answers_pass_in_other_forms():
    assert check("6.1", 2048.0) and check("6.1", np.int64(2048)) and check("6.1", [2048])
    assert check("6.2", CAB)  # the three vectors as a [3, 3] stack
    assert check("6.2", CAB.reshape(-1).tolist())
    assert check("6.3", ROW_A.tolist())
    assert check("6.4", float(RIGHT["6.4"]))
