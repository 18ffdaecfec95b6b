"""Exercises of chapter 13, Multi-head attention."""

from __future__ import annotations

from collections.abc import Sized

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register, whole_number

#: Exercise 13.1: nanoGPT's larger Shakespeare model: vectors of 384 numbers, 6 heads.
N_EMBD_13_1, N_HEAD_13_1 = 384, 6

#: Exercise 13.2: the baby GPT's ``c_attn`` (C = 128, 4 heads): the columns of the W_k of
#: head 2, counting the heads from 0.
N_EMBD_13_2, N_HEAD_13_2, HEAD_13_2 = 128, 4, 2

#: Exercise 13.3: the shape [B, T, C] of the queries that go through ``split_heads`` with
#: N_HEAD_13_3 heads: 12 windows of 64 characters, 128 numbers each.
SHAPE_13_3, N_HEAD_13_3 = (12, 64, 128), 4

#: Exercise 13.4: ``MultiHeadAttention(64, 8)``, biases included.
N_EMBD_13_4, N_HEAD_13_4 = 64, 8

#: Exercise 13.5: the outputs of two heads for a sentence of two words (one row per word),
#: and the output projection W_o, [C, C] with C = 4.
Y0_13_5 = np.array([[1.0, 0.0], [2.0, 1.0]])  # head 0
Y1_13_5 = np.array([[0.0, 3.0], [1.0, 1.0]])  # head 1
W_O_13_5 = np.array(
    [
        [1.0, 0.0, 0.0, 1.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 1.0],
        [1.0, 0.0, 0.0, 0.0],
    ]
)


@register("13.1", "head_size for vectors of 384 numbers and 6 heads.")
def _head_size(answer: object) -> Verdict:
    got = whole_number(answer)
    if isinstance(got, Verdict):
        return got
    C, nh = N_EMBD_13_1, N_HEAD_13_1
    if got == C // nh:
        return Verdict(True, f"head_size = n_embd / n_head = {C} / {nh} = {C // nh}.")
    if got == C * nh:
        return Verdict(False, "The heads share the n_embd numbers: divide, do not multiply.")
    if got == C:
        return Verdict(
            False, f"That is one head of full size; {nh} heads split the {C} numbers between them."
        )
    if got == 3 * C // nh:
        return Verdict(
            False, "That counts q, k and v together; each of them has head_size numbers."
        )
    if got == 3 * C:
        return Verdict(False, "That is the number of columns of c_attn, for every head's q, k, v.")
    if got == nh:
        return Verdict(False, "That is the number of heads; how many numbers does each get?")
    return Verdict(False, f"Cut the {C} numbers of a vector into {nh} equal groups.")


def _columns(answer: object) -> tuple[int, int] | Verdict:
    """The answer as (start, stop) of a run of columns, or a Verdict that says what is wrong."""
    if isinstance(answer, slice | range):
        start, stop, step = answer.start, answer.stop, answer.step
        if step not in (None, 1):
            return Verdict(False, "A head's columns are side by side: no step in the slice.")
        parts = [0 if start is None else start, stop]
        if any(isinstance(p, bool) or not isinstance(p, int | np.integer) for p in parts):
            return Verdict(False, f"Expected slice(start, stop) of whole numbers; got {answer!r}.")
        return int(parts[0]), int(parts[1])
    if isinstance(answer, np.ndarray) and answer.ndim != 1:
        return Verdict(
            False, f"Expected slice(start, stop); got an array of shape {list(answer.shape)}."
        )
    if isinstance(answer, str | bytes) or answer is None or not isinstance(answer, Sized):
        return Verdict(
            False, f"Expected slice(start, stop) or the pair (start, stop); got {answer!r}."
        )
    got = as_numbers(answer, (len(answer),)) if len(answer) else None
    if got is None or isinstance(got, Verdict):
        return Verdict(
            False, f"Expected slice(start, stop) or the pair (start, stop); got {answer!r}."
        )
    if not np.all(got == np.round(got)):
        return Verdict(False, "Column numbers are whole numbers.")
    ints = got.astype(int)
    if len(ints) == 2:
        return int(ints[0]), int(ints[1])
    if np.all(np.diff(ints) == 1):  # every column listed: first to last
        return int(ints[0]), int(ints[-1]) + 1
    return Verdict(
        False,
        "A head's columns are one run of neighbours; give slice(start, stop) or (start, stop).",
    )


@register("13.2", "The columns of c_attn (C = 128, 4 heads) that hold head 2's W_k.")
def _head_columns(answer: object) -> Verdict:
    got = _columns(answer)
    if isinstance(got, Verdict):
        return got
    C, nh, h = N_EMBD_13_2, N_HEAD_13_2, HEAD_13_2
    hs = C // nh
    right = (C + h * hs, C + (h + 1) * hs)
    if got == right:
        return Verdict(
            True,
            f"The keys are the second third, columns {C} to {2 * C}; head {h} owns the "
            f"{hs} columns {right[0]} to {right[1] - 1} of it.",
        )
    if got == (right[0], right[1] - 1):
        return Verdict(False, "Almost: as in Python's slices, stop is not included; add 1 to stop.")
    if got == (h * hs, (h + 1) * hs):
        return Verdict(
            False, "Those are head 2's W_q: the first third holds the queries, the keys come next."
        )
    if got == (2 * C + h * hs, 2 * C + (h + 1) * hs):
        return Verdict(
            False, "Those are head 2's W_v: the keys are the second third, not the last."
        )
    if got == (C + (h - 1) * hs, C + h * hs):
        return Verdict(
            False, "That is head 1: count the heads from 0, so head 2 is the third group."
        )
    if got == (C + (h + 1) * hs, C + (h + 2) * hs):
        return Verdict(False, "That is head 3: head 2 starts 2 x 32 columns into the keys' third.")
    if got == (h * C, (h + 1) * C):
        return Verdict(
            False,
            "That is a whole third of C columns; a head owns head_size = C / n_head of them.",
        )
    if got[0] == right[0]:
        return Verdict(False, f"The start is right; a head has head_size = {hs} columns.")
    if got[1] - got[0] == hs:
        return Verdict(
            False,
            f"{hs} columns is right; where do the keys start (after the queries' {C} columns), "
            f"and where does head {h} start within them?",
        )
    return Verdict(
        False, f"The keys' third starts at column {C}; head h owns h x head_size onwards."
    )


@register("13.3", "The shape of split_heads of queries [12, 64, 128] with 4 heads.")
def _split_shape(answer: object) -> Verdict:
    if isinstance(answer, np.ndarray) and answer.ndim > 1:
        return Verdict(False, "That is an array; answer with its shape (.shape), four numbers.")
    B, T, C = SHAPE_13_3
    nh = N_HEAD_13_3
    hs = C // nh
    if isinstance(answer, Sized) and not isinstance(answer, str | bytes) and len(answer) == 3:
        return Verdict(
            False, "split_heads adds an axis for the heads: expect four numbers, not three."
        )
    got = as_numbers(answer, (4,))
    if isinstance(got, Verdict):
        return got
    shape = tuple(int(n) for n in got) if np.all(got == np.round(got)) else None
    if shape == (B, nh, T, hs):
        return Verdict(True, f"[B, n_head, T, head_size] = [{B}, {nh}, {T}, {hs}].")
    if shape == (B, T, nh, hs):
        return Verdict(
            False,
            "That is after the reshape; the transpose then swaps the positions' and the "
            "heads' axes.",
        )
    if shape == (nh, B, T, hs):
        return Verdict(False, "The batch axis stays first: each window keeps its own heads.")
    if shape == (B, nh, T, C):
        return Verdict(False, f"Each head gets head_size = {C} / {nh} numbers, not all {C}.")
    if shape == (B, nh, hs, T):
        return Verdict(False, "Each head gets a [T, head_size] table: positions first.")
    if shape == (B, nh, T, 3 * C // nh):
        return Verdict(
            False, "split_heads gets q, k or v alone, C numbers per position, not all 3C."
        )
    return Verdict(False, "Four axes: the batch, the heads, the positions, head_size.")


@register("13.4", "The parameters of MultiHeadAttention(64, 8), biases included.")
def _parameters(answer: object) -> Verdict:
    got = whole_number(answer)
    if isinstance(got, Verdict):
        return got
    C, nh = N_EMBD_13_4, N_HEAD_13_4
    hs = C // nh
    right = 4 * C * C + 4 * C
    if got == right:
        return Verdict(
            True,
            f"c_attn: {C} x {3 * C} + {3 * C} biases; c_proj: {C} x {C} + {C}: "
            f"4 x {C}^2 + 4 x {C} = {right:,}, however many heads.",
        )
    if got == 4 * C * C:
        return Verdict(
            False, f"Those are the weights; add the biases, one per output: {3 * C} + {C}."
        )
    if got in (3 * C * C, 3 * C * C + 3 * C):
        return Verdict(False, "That is c_attn alone; add c_proj, the output projection W_o.")
    if got in (nh * right, nh * 4 * C * C, nh * (3 * C * C + C * C // nh)):
        return Verdict(
            False,
            f"A head is not full size: its W_q, W_k, W_v have head_size = {hs} columns each.",
        )
    if got in (3 * C * hs, 3 * C * hs + C * C, 3 * C * hs + 3 * hs + C * C + C):
        return Verdict(False, f"That counts one head's W_q, W_k, W_v; there are {nh} heads.")
    if got in (4 * C * C + 2 * C, 4 * C * C + C, 4 * C * C + 3 * C):
        return Verdict(False, f"Count the biases again: {3 * C} for c_attn, {C} for c_proj.")
    return Verdict(
        False,
        "Count c_attn (C x 3C weights and 3C biases) and c_proj (C x C and C); the heads "
        "only share out c_attn's columns.",
    )


def _shape(answer: object) -> tuple[int, ...] | None:
    """The shape of a list, tuple or array of numbers; None for anything else."""
    if not isinstance(answer, np.ndarray | list | tuple):
        return None
    try:
        return tuple(np.asarray(answer, dtype=np.float64).shape)
    except (TypeError, ValueError):  # ragged lists, text, ...
        return None


@register("13.5", "Two heads' outputs concatenated, then multiplied by W_o.")
def _concatenate(answer: object) -> Verdict:
    concat = np.concatenate([Y0_13_5, Y1_13_5], axis=1)  # [2, 4]
    right = concat @ W_O_13_5
    shape = _shape(answer)
    if shape is not None:
        if shape == (4, 2):
            return Verdict(
                False,
                "You put the heads one below the other; each word's row holds head 0's "
                "numbers, then head 1's, side by side (axis=1).",
            )
        if shape == (2, 2):
            return Verdict(
                False,
                "Two numbers per word: the heads are put side by side (4 numbers), not added.",
            )
    got = as_numbers(answer, (2, 4))
    if isinstance(got, Verdict):
        return got
    if close(got, right, 1e-6):
        return Verdict(True, f"Side by side, {concat.tolist()}; times W_o, {right.tolist()}.")
    if close(got, concat, 1e-6):
        return Verdict(False, "That is the concatenation; now multiply it by W_o.")
    if close(got, np.concatenate([Y1_13_5, Y0_13_5], axis=1) @ W_O_13_5, 1e-6):
        return Verdict(False, "Head 0's numbers come first in each row, then head 1's.")
    if close(got, concat @ W_O_13_5.T, 1e-6):
        return Verdict(
            False,
            "You used W_o turned on its side: row t of the output is row t of the "
            "concatenation @ W_o, the rows of W_o weighted by the row's numbers.",
        )
    return Verdict(
        False, "Row t: head 0's two numbers, then head 1's; that row of four numbers @ W_o."
    )
