"""Exercises of chapter 6, Embeddings."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register

#: Exercise 6.1: a model that reads 64 characters and gives each a vector of 32 numbers.
CONTEXT_6_1, LENGTH_6_1 = 64, 32

#: Exercise 6.2: a tiny embedding matrix for the alphabet " abc" (ids 0, 1, 2, 3), one row
#: per character, and the word to look up.
TABLE_6_2 = np.array(
    [
        [0.0, 0.0, 1.0],  # " " (id 0)
        [2.0, -1.0, 0.0],  # "a" (id 1)
        [1.0, 3.0, -2.0],  # "b" (id 2)
        [-1.0, 0.0, 4.0],  # "c" (id 3)
    ]
)
WORD_6_2 = "cab"

#: Exercise 6.3: the word "aba" (ids 1, 2, 1) and the gradient of the loss with respect to
#: its three looked-up vectors, one row per position.
WORD_6_3 = "aba"
DOUT_6_3 = np.array(
    [
        [0.1, -0.2, 0.3],  # position 0, "a"
        [0.5, 0.5, 0.5],  # position 1, "b"
        [-0.4, 0.1, 0.2],  # position 2, "a"
    ]
)

#: Exercise 6.4: the chapter's embedding model with vectors of 16 numbers instead of 10.
VOCAB_6_4, LENGTH_6_4, CONTEXT_6_4, HIDDEN_6_4 = 27, 16, 12, 64


def _ids(word: str) -> list[int]:
    """Ids in the alphabet " abc": the space is 0, a = 1, b = 2, c = 3."""
    return [" abc".index(c) for c in word]


@register("6.1", "The size of the input layer for 64 characters of 32 numbers each.")
def _input_size(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    right = CONTEXT_6_1 * LENGTH_6_1
    if close(got, right, 0.0):
        return Verdict(True, f"{CONTEXT_6_1} vectors of {LENGTH_6_1} numbers: {right} inputs.")
    if close(got, CONTEXT_6_1 + LENGTH_6_1, 0.0):
        return Verdict(
            False,
            "You added the two sizes; each of the 64 characters brings a whole "
            "vector of 32 numbers.",
        )
    if close(got, CONTEXT_6_1, 0.0) or close(got, LENGTH_6_1, 0.0):
        return Verdict(
            False,
            "That is only one of the two sizes: every character of the context "
            "brings its own vector.",
        )
    if close(got, 120.0, 0.0):
        return Verdict(False, "120 is the chapter's model (12 x 10); use 64 characters and 32.")
    return Verdict(False, "Count the characters in the context, and the numbers in each vector.")


def _as_lookup(answer: object) -> np.ndarray | Verdict:
    """The answer of 6.2 as 9 numbers; a [3, 3] stack of vectors is accepted too."""
    stacked = as_numbers(answer, (3, 3))
    if not isinstance(stacked, Verdict):
        return stacked.reshape(-1)  # [3, 3] -> [9]
    return as_numbers(answer, (9,))


@register("6.2", "The 9 input numbers of the word 'cab', looked up in the tiny table.")
def _lookup(answer: object) -> Verdict:
    right = TABLE_6_2[_ids(WORD_6_2)]  # [3, 3]
    one = as_numbers(answer, (3,))
    if not isinstance(one, Verdict):  # three numbers: a single vector, or a sum of them
        if close(one, right.sum(axis=0), 1e-6):
            return Verdict(
                False,
                "You added the three vectors; the input layer holds them one "
                "after the other: 9 numbers.",
            )
        return Verdict(
            False,
            "Three numbers are one vector; the word has three characters, so "
            "the input holds 3 x 3 = 9 numbers.",
        )
    got = _as_lookup(answer)
    if isinstance(got, Verdict):
        return got
    if close(got, right.reshape(-1), 1e-6):
        return Verdict(True, "Rows 3, 1 and 2 of the table, one after the other.")
    if close(got, right[::-1].reshape(-1), 1e-6):
        return Verdict(
            False, "The right rows in the wrong order: keep the order of the word, c first."
        )
    shifted = TABLE_6_2[[i - 1 for i in _ids(WORD_6_2)]]  # a = row 0: the space's row forgotten
    if close(got, shifted.reshape(-1), 1e-6):
        return Verdict(False, "Row 0 is the space, so 'a' is row 1, 'b' row 2 and 'c' row 3.")
    return Verdict(
        False, "Look up the row of each character (c, a, b) and write the rows one after the other."
    )


@register("6.3", "The gradient of the row of 'a' after the word 'aba'.")
def _row_gradient(answer: object) -> Verdict:
    got = as_numbers(answer, (3,))
    if isinstance(got, Verdict):
        return got
    right = DOUT_6_3[0] + DOUT_6_3[2]
    if close(got, right, 1e-6):
        return Verdict(True, "'a' appears twice, so its row collects both positions' gradients.")
    if close(got, DOUT_6_3[0], 1e-6) or close(got, DOUT_6_3[2], 1e-6):
        return Verdict(
            False,
            "That is one position only; 'a' appears twice, and each use adds "
            "its gradient to the row.",
        )
    if close(got, right / 2, 1e-6):
        return Verdict(
            False,
            "That is the mean; the row's gradient is the sum over the positions where 'a' appears.",
        )
    if close(got, DOUT_6_3.sum(axis=0), 1e-6):
        return Verdict(
            False, "You included position 1, which is 'b': only the positions of 'a' count."
        )
    if close(got, -right, 1e-6):
        return Verdict(False, "Right size, wrong sign: the gradients are added as they are.")
    return Verdict(False, "Add the rows of DOUT_6_3 at the positions where 'a' appears.")


@register("6.4", "The number of parameters of the chapter's model with vectors of 16 numbers.")
def _parameters(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    table = VOCAB_6_4 * LENGTH_6_4
    hidden_w, hidden_b = CONTEXT_6_4 * LENGTH_6_4 * HIDDEN_6_4, HIDDEN_6_4
    out_w, out_b = HIDDEN_6_4 * VOCAB_6_4, VOCAB_6_4
    right = table + hidden_w + hidden_b + out_w + out_b
    if close(got, right, 0.0):
        return Verdict(True, f"{right} numbers, of which the embedding table holds {table}.")
    if close(got, right - table, 0.0):
        return Verdict(False, "The embedding table is learned too: add its 27 x 16 numbers.")
    if close(got, right - hidden_b - out_b, 0.0):
        return Verdict(False, "Don't forget the biases: one per hidden neuron and per output.")
    if close(got, 9769.0, 0.0):
        return Verdict(False, "That is the chapter's model, with vectors of 10 numbers; use 16.")
    return Verdict(
        False,
        "Add the table (27 x 16), the hidden layer's weights and biases "
        "((12 x 16) x 64 + 64) and the output layer's (64 x 27 + 27).",
    )
