"""Exercises of chapter 15, The GPT architecture."""

from __future__ import annotations

import math
from collections.abc import Sized

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, register, whole_number

#: Exercise 15.1: the sizes of a small GPT whose parameters are counted by hand.
CONFIG_15_1 = {
    "vocab_size": 100,
    "block_size": 32,
    "n_layer": 2,
    "n_head": 2,
    "n_embd": 64,
    "bias": False,
}

#: Exercise 15.2: the baby GPT (a vocabulary of 65 characters, a block size of 64) reads a
#: batch of 8 windows of 50 characters each, [B, T].
BATCH_15_2 = (8, 50)
VOCAB_15_2, BLOCK_SIZE_15_2, N_EMBD_15_2 = 65, 64, 128

#: Exercise 15.3: GPT-2 small's published sizes (with biases).
GPT2_15_3 = {
    "vocab_size": 50257,
    "block_size": 1024,
    "n_layer": 12,
    "n_head": 12,
    "n_embd": 768,
    "bias": True,
}

#: Exercise 15.4: the baby GPT generates with a key/value cache after a prompt of 10
#: characters; the steps that write the 1st, the 20th and the 80th new character.
PROMPT_15_4, STEPS_15_4, BLOCK_SIZE_15_4 = 10, (1, 20, 80), 64

#: Exercise 15.5: the baby GPT's schedule (checkpoints/README.md) and the step asked about.
SCHEDULE_15_5 = {"max_lr": 1e-3, "warmup_steps": 100, "total_steps": 2000, "min_lr": 1e-4}
STEP_15_5 = 1050


def _count(
    V: int, T: int, L: int, C: int, bias: bool, ln_scales: bool = True, positions: bool = True
) -> int:
    """A GPT's parameters from its sizes; the switches make the typical slips."""
    per_block = 12 * C * C + (2 * C if ln_scales else 0) + (11 * C if bias else 0)
    final = (C if ln_scales else 0) + (C if bias else 0)
    return V * C + (T * C if positions else 0) + L * per_block + final


def _whole_numbers(answer: object, n: int, what: str) -> tuple[int, ...] | Verdict:
    """``n`` whole numbers, or a Verdict that says what is wrong."""
    if isinstance(answer, np.ndarray) and answer.ndim > 1:
        return Verdict(False, f"That is an array; answer with {what}.")
    got = as_numbers(answer, (n,))
    if isinstance(got, Verdict):
        return got
    if not np.all(got == np.round(got)):
        return Verdict(False, f"Expected whole numbers: {what}.")
    return tuple(int(g) for g in got)


@register("15.1", "The parameters of GPTConfig(100, 32, 2, 2, 64, bias=False), by hand.")
def _small_count(answer: object) -> Verdict:
    got = whole_number(answer)
    if isinstance(got, Verdict):
        return got
    c = CONFIG_15_1
    V, T, L, C = (int(c[k]) for k in ("vocab_size", "block_size", "n_layer", "n_embd"))
    right = _count(V, T, L, C, bias=False)
    if got == right:
        return Verdict(
            True,
            f"Per block 12 x {C}^2 + 2 x {C} = {12 * C * C + 2 * C:,}; {L} blocks "
            f"{L * (12 * C * C + 2 * C):,}; tables ({V} + {T}) x {C} = {(V + T) * C:,}; "
            f"ln_f {C}: {right:,}.",
        )
    hints = {
        _count(V, T, L, C, bias=False, positions=False): "You left out the position table, "
        f"{T} x {C}: it is learned too (nanoGPT's habit of leaving it out is a convention).",
        right + V * C: "The head is tied to the token table: it adds no numbers of its own.",
        _count(V, T, L, C, bias=True): "This GPT has bias=False: no biases, no layer-norm shifts.",
        _count(V, T, L, C, bias=False, ln_scales=False): "Add the layer norms' scales: "
        f"ln_1 and ln_2 in each block ({C} each) and ln_f ({C}).",
        right - C: f"Almost: add ln_f's scale, {C} numbers, after the last block.",
        right - 2 * L * C: f"Add ln_1's and ln_2's scales, {C} numbers each, in every block.",
        V * C + T * C + L * (4 * C * C + 2 * C) + C: "That counts attention only; each block "
        f"also has the MLP, {C} x {4 * C} and {4 * C} x {C}.",
        V * C + T * C + L * (6 * C * C + 2 * C) + C: f"The MLP widens to 4C = {4 * C}: its "
        f"two matrices are {C} x {4 * C} and {4 * C} x {C}, 8C^2 in all.",
        V * C + T * C + L * (8 * C * C + 2 * C) + C: f"Count both of the MLP's matrices, "
        f"{C} x {4 * C} and {4 * C} x {C}, and attention's 4C^2: 12C^2 per block.",
        V * C + T * C + L * (11 * C * C + 2 * C) + C: "Add the attention's output projection "
        f"c_proj, {C} x {C}.",
        V * C + T * C + 12 * C * C + 2 * C + C: f"There are {L} blocks: count each one.",
        V * C + T * C + L * int(c["n_head"]) * (12 * C * C + 2 * C) + C: "The heads share "
        "out the attention's columns: more heads do not add parameters.",
    }
    if got in hints:
        return Verdict(False, hints[got])
    return Verdict(
        False,
        "Per block: 2C (ln_1, ln_2) + 4C^2 (attention) + 8C^2 (MLP); then (V + T) x C for the "
        "two tables and C for ln_f.",
    )


@register("15.2", "The shape of the logits of the baby GPT on 8 windows of 50 characters.")
def _logits_shape(answer: object) -> Verdict:
    B, T = BATCH_15_2
    V, C = VOCAB_15_2, N_EMBD_15_2
    if isinstance(answer, Sized) and not isinstance(answer, str | bytes | np.ndarray):
        if len(answer) == 2:
            pair = _whole_numbers(answer, 2, "a shape")
            if pair == (B, V):
                return Verdict(
                    False,
                    "That is the last position only, what generate reads; the model predicts "
                    "after every position of each window.",
                )
            if pair == (B, T):
                return Verdict(False, "That is the shape of the ids; the logits add an axis.")
            if pair == (T, V):
                return Verdict(False, "Keep the batch axis: each of the 8 windows has its own.")
            return Verdict(False, "Expected three numbers, [B, T, V].")
    got = _whole_numbers(answer, 3, "a shape of three numbers, [B, T, V]")
    if isinstance(got, Verdict):
        return got
    if got == (B, T, V):
        return Verdict(
            True,
            f"[B, T, V] = [{B}, {T}, {V}]: a score for each of the {V} characters, "
            f"after each of the {T} positions of each of the {B} windows.",
        )
    hints = {
        (B, T, C): f"{C} numbers is the vector before the head; the head gives one score per "
        "character of the vocabulary.",
        (B, BLOCK_SIZE_15_2, V): f"The windows hold {T} characters: block_size ({BLOCK_SIZE_15_2}) "
        "is only the most the model can read.",
        (B, V, T): "Positions first, then the scores: [B, T, V].",
        (T, B, V): "The batch axis comes first: [B, T, V].",
        (B, T, 59): "The baby GPT reads Shakespeare: 65 characters, not the rhymes' 59.",
    }
    if got in hints:
        return Verdict(False, hints[got])
    return Verdict(
        False, "One score per character of the vocabulary, at every position: [B, T, V]."
    )


@register("15.3", "GPT-2 small: the numbers weight tying saves, and its size without tying.")
def _tying(answer: object) -> Verdict:
    c = GPT2_15_3
    V, T, L, C = (int(c[k]) for k in ("vocab_size", "block_size", "n_layer", "n_embd"))
    total = _count(V, T, L, C, bias=True)
    saved = V * C
    one = as_numbers(answer, ())
    if not isinstance(one, Verdict):
        return Verdict(False, "Expected two numbers: (numbers saved, parameters without tying).")
    got = _whole_numbers(answer, 2, "two numbers, (saved, total without tying)")
    if isinstance(got, Verdict):
        return got
    if got == (saved, total + saved):
        return Verdict(
            True,
            f"The head would be a {C} x {V} matrix: {saved:,} numbers, "
            f"{saved / (total + saved):.0%} of the {total + saved:,} an untied GPT-2 small "
            f"would have; tied, it has {total:,}.",
        )
    if got == (total + saved, saved):
        return Verdict(False, "Swapped: the numbers saved first, then the total without tying.")
    first = {
        saved + V: "GPT-2's head has no bias: only the matrix, V x C.",
        T * C: f"{T} x {C} is the position table; the head maps {C} numbers to {V} scores.",
        C * C: f"The head maps {C} numbers to one score per token: {C} x {V}.",
        2 * saved: "The table counts once either way; tying saves one copy of V x C.",
        65 * 128: "That is the baby GPT's head; use GPT-2's sizes.",
    }
    if got[0] in first:
        return Verdict(False, first[got[0]])
    if got[0] == saved:
        if got[1] == total:
            return Verdict(
                False, f"{total:,} is GPT-2 small as it is, tied; add the head's own matrix."
            )
        if got[1] == _count(V, T, L, C, bias=False) + saved:
            return Verdict(
                False,
                "GPT-2 has biases and layer-norm shifts: 11C more per block and C more in ln_f.",
            )
        if got[1] == total - T * C + saved:
            return Verdict(False, "Keep the position table in the total: it is learned too.")
        return Verdict(
            False,
            f"The saving is right; the total without tying is the tied total ({total:,}, from "
            "the formula) plus that.",
        )
    return Verdict(False, "An untied head is one more V x C matrix: count that, then add it.")


@register("15.4", "With the cache, positions computed at the steps writing new chars 1, 20, 80.")
def _cached_steps(answer: object) -> Verdict:
    got = _whole_numbers(answer, 3, "three numbers, one per step")
    if isinstance(got, Verdict):
        return got
    P, T = PROMPT_15_4, BLOCK_SIZE_15_4
    windows = tuple(min(T, P + k - 1) for k in STEPS_15_4)  # the window each step reads
    right = tuple(
        w if k == 1 or P + k - 1 > T else 1 for k, w in zip(STEPS_15_4, windows, strict=True)
    )
    if got == right:
        return Verdict(
            True,
            f"First the whole prompt ({P}); then one new token per step while the window "
            f"grows ({right[1]}); once it is full and slides, every position changes and all "
            f"{T} are computed again ({right[2]}).",
        )
    hints = {
        windows: "That is without the cache: the whole window at every step.",
        (P, 1, 1): f"By the 80th character the window is full ({P} + 79 > {T}) and slides: "
        "every token moves to a new position, so the cache must start again.",
        (1, 1, T): "At the first step the cache is empty: the whole prompt goes through.",
        (1, 1, 1): "The first step computes the whole prompt, and once the window slides "
        "every position changes.",
        (P, 1, P + 79): f"The window holds at most block_size = {T} tokens.",
        (P, 0, T): "The newest token has no key and value yet: it goes through the model.",
        (P + 1, 1, T): "The first step reads the prompt alone: nothing is written yet.",
        STEPS_15_4: "Count the positions that go through the model, not the characters written.",
    }
    if got in hints:
        return Verdict(False, hints[got])
    return Verdict(
        False,
        f"Step k reads a window of min({T}, {P} + k - 1) tokens; with the cache it computes "
        "them all only when nothing usable is cached.",
    )


@register("15.5", "The learning rate of the baby GPT's schedule at step 1050.")
def _schedule(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    s = SCHEDULE_15_5
    hi, lo, warm, total = s["max_lr"], s["min_lr"], int(s["warmup_steps"]), int(s["total_steps"])
    step = STEP_15_5

    def cosine(progress: float) -> float:
        return lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * progress))

    right = cosine((step - warm) / (total - warm))
    x = float(got)
    if math.isclose(x, right, rel_tol=1e-3):
        return Verdict(
            True,
            f"progress = ({step} - {warm}) / ({total} - {warm}) = 0.5, cos(pi/2) = 0: halfway "
            f"between {hi:g} and {lo:g}, {right:g}.",
        )
    hints = {
        0.5 * hi: f"Halfway down to min_lr = {lo:g}, not to 0.",
        hi: f"The warm-up ended at step {warm}; by step {step} the cosine has come down.",
        lo: f"{lo:g} is the rate at step {total}, the end of the decay.",
        hi * (step + 1) / warm: f"The warm-up formula only holds before step {warm}.",
        cosine(step / total): f"Progress counts from the end of the warm-up: ({step} - {warm}) "
        f"/ ({total} - {warm}).",
        lo + 0.5 * (hi - lo) * (1 + math.cos(90.0)): "cos takes radians: pi times the "
        "progress, pi / 2 here, not 90.",
    }
    for value, hint in hints.items():
        if math.isclose(x, value, rel_tol=1e-3):
            return Verdict(False, hint)
    return Verdict(
        False, "lr = min_lr + 0.5 (max_lr - min_lr) (1 + cos(pi x progress)), progress from 0 to 1."
    )
