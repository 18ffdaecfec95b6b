"""Exercises of chapter 14, Positional encoding and embedding."""

from __future__ import annotations

import math

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register

#: Exercise 14.1: a sentence and the same words shuffled. Self-attention without positions
#: gives the outputs o0, o1, o2, o3 for the sentence (counting from 0).
SENTENCE_14_1 = ("the", "cat", "sat", "down")
SHUFFLED_14_1 = ("sat", "the", "down", "cat")

#: Exercise 14.2: a GPT with a context (block size) of 64 tokens and vectors of 128 numbers.
BLOCK_SIZE_14_2, N_EMBD_14_2 = 64, 128

#: Exercise 14.3: a token table (one row per token id 0, 1, 2), a position table (one row
#: per position 0, 1, 2, 3) and the ids of a sequence of three tokens.
TOKEN_TABLE_14_3 = np.array(
    [
        [1.0, 0.0],  # token id 0
        [0.0, 2.0],  # token id 1
        [-1.0, 1.0],  # token id 2
    ]
)
POSITION_TABLE_14_3 = np.array(
    [
        [0.5, 0.5],  # position 0
        [0.0, -1.0],  # position 1
        [2.0, 0.0],  # position 2
        [1.0, 1.0],  # position 3
    ]
)
IDS_14_3 = (2, 0, 2)

#: Exercise 14.4: PE[1, 0] and PE[1, 1] of the sinusoidal encoding with d = 512 numbers per
#: position (the width of the original Transformer).
D_14_4 = 512

#: Exercise 14.5: the wavelength of the pair of columns i = 32 of a sinusoidal encoding with
#: d = 128 numbers per position.
PAIR_14_5, D_14_5 = 32, 128


def _permutation(answer: object) -> list[int] | Verdict:
    """The answer as a list of whole numbers, or a Verdict that says what is wrong."""
    if isinstance(answer, str | bytes):
        return Verdict(False, f"Expected four old positions (numbers); got the text {answer!r}.")
    if isinstance(answer, list | tuple) and all(isinstance(w, str) for w in answer):
        if tuple(answer) == SHUFFLED_14_1:
            return Verdict(
                False,
                "These are the shuffled words; for each, give the position (0 to 3) where it "
                "stood in the sentence, so the output it gets.",
            )
        return Verdict(False, "Expected four numbers: old positions 0 to 3, not words.")
    got = as_numbers(answer, (4,))
    if isinstance(got, Verdict):
        return got
    if not np.all(got == np.round(got)):
        return Verdict(False, "Positions are whole numbers, 0 to 3.")
    return [int(g) for g in got]


@register("14.1", "Without positions: which old output does each shuffled position get?")
def _shuffled_outputs(answer: object) -> Verdict:
    got = _permutation(answer)
    if isinstance(got, Verdict):
        return got
    right = [SENTENCE_14_1.index(w) for w in SHUFFLED_14_1]  # [2, 0, 3, 1]
    if got == right:
        return Verdict(
            True,
            "Each word takes its output along: new position j gets the output of the word "
            "that now stands there, o2, o0, o3, o1.",
        )
    where_it_went = [SHUFFLED_14_1.index(w) for w in SENTENCE_14_1]  # [1, 3, 0, 2]
    if got == where_it_went:
        return Verdict(
            False,
            "That says where each old output went (o0 to position 1, ...); the question asks "
            "which old output each new position gets.",
        )
    if got == [0, 1, 2, 3]:
        return Verdict(
            False,
            "The outputs do not stay in place: each word's output moves with the word.",
        )
    if got == [r + 1 for r in right]:
        return Verdict(False, "Count the old positions from 0, as the outputs o0 to o3 are.")
    if sorted(got) != [0, 1, 2, 3]:
        return Verdict(False, "Each old output appears exactly once: use 0, 1, 2, 3 once each.")
    return Verdict(
        False, "For each word of the shuffled sentence, find where it stood in the sentence."
    )


@register("14.2", "The shape of the position table of a GPT with block 64 and width 128.")
def _table_shape(answer: object) -> Verdict:
    rows, cols = BLOCK_SIZE_14_2, N_EMBD_14_2
    if isinstance(answer, np.ndarray) and answer.ndim >= 2:
        return Verdict(
            False,
            f"That is a table of shape {list(answer.shape)}; answer with its shape, two "
            "numbers such as table.shape.",
        )
    one = as_numbers(answer, ())
    if not isinstance(one, Verdict):
        if close(one, rows * cols, 0.0):
            return Verdict(
                False,
                f"{rows * cols} is how many numbers the table holds; answer with its shape, "
                "(rows, columns).",
            )
        return Verdict(False, "Expected a shape: two numbers, (rows, columns).")
    got = as_numbers(answer, (2,))
    if isinstance(got, Verdict):
        return got
    if close(got, np.array([rows, cols]), 0.0):
        return Verdict(
            True,
            f"One row for each of the {rows} positions 0 to {rows - 1}, each as long as a "
            f"token's vector ({cols} numbers).",
        )
    if close(got, np.array([cols, rows]), 0.0):
        return Verdict(
            False,
            "Rows and columns swapped: the article draws a column per position, the "
            "companion stores one row per position, [positions, numbers].",
        )
    if close(got, np.array([rows + 1, cols]), 0.0):
        return Verdict(False, f"The positions are 0 to {rows - 1}: {rows} of them, so {rows} rows.")
    if close(got, np.array([rows, rows]), 0.0) or close(got, np.array([cols, cols]), 0.0):
        return Verdict(
            False,
            f"One row per position ({rows}), and each row as long as a token's vector ({cols}).",
        )
    return Verdict(False, "One row per position of the context, one column per number.")


@register("14.3", "The input x = token vector + position vector of the ids 2, 0, 2.")
def _token_plus_position(answer: object) -> Verdict:
    ids = list(IDS_14_3)
    T = len(ids)
    tokens = TOKEN_TABLE_14_3[ids]  # [3, 2]
    right = tokens + POSITION_TABLE_14_3[:T]
    side_by_side = as_numbers(answer, (T, 4))
    if not isinstance(side_by_side, Verdict):
        return Verdict(
            False,
            "You placed the two vectors side by side (4 numbers a row); GPT adds them, "
            "number by number, keeping 2.",
        )
    got = as_numbers(answer, (T, 2))
    if isinstance(got, Verdict):
        return got
    if close(got, right, 1e-6):
        return Verdict(
            True,
            f"Token {ids[0]} appears twice and gets two different vectors, "
            f"{right[0].tolist()} and {right[2].tolist()}: its position is now part of it.",
        )
    if close(got, tokens + POSITION_TABLE_14_3[1 : T + 1], 1e-6):
        return Verdict(
            False,
            "You counted the positions from 1, as the article does; the code counts from 0, "
            "so the first token gets row 0 of the position table.",
        )
    if close(got, tokens, 1e-6):
        return Verdict(False, "These are the token vectors alone; add each position's vector.")
    if close(got, TOKEN_TABLE_14_3[:T] + POSITION_TABLE_14_3[ids], 1e-6):
        return Verdict(
            False,
            "Roles swapped: the ids pick rows of the token table, the positions 0, 1, 2 rows "
            "of the position table.",
        )
    if close(got, POSITION_TABLE_14_3[:T], 1e-6):
        return Verdict(False, "These are the position vectors alone; add each token's vector.")
    return Verdict(False, "Row t: row ids[t] of the token table + row t of the position table.")


@register("14.4", "PE[1, 0] and PE[1, 1] of the sinusoidal encoding with d = 512.")
def _first_pair(answer: object) -> Verdict:
    got = as_numbers(answer, (2,))
    if isinstance(got, Verdict):
        return got
    tol = 2e-3
    right = np.array([math.sin(1.0), math.cos(1.0)])  # pair i = 0 turns by 1 per position
    if close(got, right, tol):
        return Verdict(
            True,
            "sin 1 and cos 1: pair 0 divides by 10000^0 = 1, so its angle is the position "
            "itself, whatever d is.",
        )
    if close(got, np.array([0.0, 1.0]), tol):
        return Verdict(
            False,
            "That is position 0, where every hand points to 12; position 1 is the second "
            "token (counting from 0), turned by an angle of 1.",
        )
    if close(got, right[::-1], tol):
        return Verdict(False, "Swapped: column 0 (even) is the sine, column 1 (odd) the cosine.")
    degrees = math.radians(1.0)
    if close(got, np.array([math.sin(degrees), math.cos(degrees)]), tol):
        return Verdict(
            False,
            "That is the sine and cosine of 1 degree; the angle is 1 radian (a full turn is "
            "2π ≈ 6.283), which np.sin and np.cos use.",
        )
    if close(got, np.array([math.sin(1.0), math.cos(1.0 / 10000 ** (1 / D_14_4))]), tol):
        return Verdict(
            False,
            "Columns 0 and 1 are one pair, i = 0: the cosine uses the same angle as the sine, "
            "1 / 10000^0 = 1.",
        )
    if close(got, np.array([math.sin(2.0), math.cos(2.0)]), tol):
        return Verdict(False, "That is position 2; the question asks for position 1.")
    return Verdict(
        False, "Pair i = 0 divides by 10000^(0/d) = 1: the angle is 1; take its sin and cos."
    )


@register("14.5", "The wavelength of the pair of columns i = 32 when d = 128.")
def _wavelength(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    tol = 0.5
    divisor = 10000 ** (2 * PAIR_14_5 / D_14_5)  # 10000^0.5 = 100
    right = 2 * math.pi * divisor
    if close(got, right, tol):
        return Verdict(
            True,
            f"The pair turns by 1/{divisor:g} per position; a full turn, 2π, takes "
            f"2π × {divisor:g} ≈ {right:.1f} positions.",
        )
    if close(got, divisor, tol):
        return Verdict(
            False,
            f"After {divisor:g} positions the pair has turned by an angle of 1; a full turn "
            "is 2π ≈ 6.283.",
        )
    if close(got, 1 / divisor, 1e-4) or close(got, 2 * math.pi / divisor, 1e-3):
        return Verdict(
            False,
            "That is an angle per position (a speed); the wavelength is how many positions "
            "a full turn takes.",
        )
    if close(got, 2 * math.pi * 10000 ** (PAIR_14_5 / D_14_5), tol):
        return Verdict(
            False,
            f"The exponent is 2i/d = {2 * PAIR_14_5}/{D_14_5}, not i/d.",
        )
    if close(got, 360 * divisor, tol):
        return Verdict(False, "Degrees: the angles are in radians, a full turn is 2π.")
    if close(got, math.pi * divisor, tol):
        return Verdict(False, "That is half a turn; the wavelength is a full turn, 2π.")
    return Verdict(False, "The pair turns by 1/10000^(2i/d) per position; a full turn is 2π.")
