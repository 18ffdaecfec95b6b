"""Exercises of chapter 12, Dropout."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register

#: Exercise 12.1: a unit's value and the dropout rate p (the probability of dropping it).
UNIT_VALUE = 4.0
UNIT_P = 0.25

#: Exercise 12.2: the dropout rate a network was trained with.
FACTOR_P = 0.2

#: Exercises 12.3 and 12.4: a layer's numbers, the mask drawn for them (1 kept, 0 dropped),
#: the dropout rate, and the gradient d loss / d output that arrives from the layers above.
MASK_X = np.array([2.0, -1.0, 0.5, 3.0, 4.0])
MASK_KEEP = np.array([1, 0, 1, 1, 0])
MASK_P = 0.2
MASK_DOUT = np.array([1.0, 2.0, -1.0, 0.5, 3.0])

#: Exercise 12.5: how many units a layer has, and its dropout rate.
COUNT_UNITS = 1000
COUNT_P = 0.1


def _is(value: object, expected: float, tol: float = 1e-3) -> bool:
    """True when ``value`` is one number within ``tol`` of ``expected`` (never raises)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return False
    return bool(abs(float(value) - expected) <= tol)


@register(
    "12.1",
    "The average output of a unit of value 4 at p = 0.25 while training: "
    "(the article's rule, inverted dropout).",
)
def _expected_output(answer: object) -> Verdict:
    x, p = UNIT_VALUE, UNIT_P
    article, inverted = (1 - p) * x, x  # (1 - p) x + p 0, and (1 - p) x / (1 - p) + p 0
    if _is(answer, article) or _is(answer, inverted):
        return Verdict(False, "Give two numbers, (the article's rule, inverted dropout).")
    got = as_numbers(answer, (2,))
    if isinstance(got, Verdict):
        return got
    a, b = float(got[0]), float(got[1])
    if close(got, np.array([article, inverted]), 1e-3):
        return Verdict(
            True,
            f"The article's rule: {1 - p:g} x {x:g} + {p:g} x 0 = {article:g}, as at inference "
            f"with the factor {1 - p:g}. Inverted dropout: {1 - p:g} x {x / (1 - p):.4g} = "
            f"{inverted:g}, the unit itself, as at inference.",
        )
    if close(got, np.array([inverted, article]), 1e-3):
        return Verdict(False, "The two numbers are swapped: the article's rule first.")
    if abs(a - article) > 1e-3:
        if abs(a - x) <= 1e-3:
            return Verdict(
                False,
                f"The article's rule does not scale while training: the unit is {x:g} with "
                f"probability {1 - p:g} and 0 with probability {p:g}. Average the two.",
            )
        if abs(a - p * x) <= 1e-3:
            return Verdict(
                False,
                f"{p:g} is the probability of being dropped; {x:g} comes out with the "
                f"probability of being kept, {1 - p:g}.",
            )
        return Verdict(
            False,
            "For the article's rule, add up each possible output times its probability: "
            f"{x:g} x (1 - p) + 0 x p.",
        )
    if abs(b - x / (1 - p)) <= 1e-3:
        return Verdict(
            False,
            f"{x / (1 - p):.4g} is what a kept unit gives; it is kept only with probability "
            f"{1 - p:g}, and gives 0 otherwise.",
        )
    if abs(b - article) <= 1e-3:
        return Verdict(
            False,
            f"Inverted dropout divides the kept {x:g} by 1 - p = {1 - p:g} while training, "
            "which makes up for the dropped ones.",
        )
    return Verdict(
        False,
        f"For inverted dropout a kept unit gives {x:g} / (1 - p); weight it by the "
        "probability of being kept.",
    )


@register(
    "12.2",
    "The factor by which a layer's outputs are multiplied at inference, "
    "p = 0.2: (the article's rule, inverted dropout).",
)
def _inference_factor(answer: object) -> Verdict:
    p = FACTOR_P
    if _is(answer, 1 - p) or _is(answer, 1.0):
        return Verdict(False, "Give two numbers, (the article's rule, inverted dropout).")
    got = as_numbers(answer, (2,))
    if isinstance(got, Verdict):
        return got
    a, b = float(got[0]), float(got[1])
    if close(got, np.array([1 - p, 1.0]), 1e-6):
        return Verdict(
            True,
            f"The article's rule keeps everything and scales by 1 - p = {1 - p:g}; inverted "
            f"dropout already divided by {1 - p:g} while training, so it leaves the outputs "
            "as they are.",
        )
    if close(got, np.array([1.0, 1 - p]), 1e-6):
        return Verdict(False, "The two numbers are swapped: the article's rule first.")
    if abs(a - (1 - p)) > 1e-6:
        if abs(a - p) <= 1e-6:
            return Verdict(
                False,
                f"{p:g} is the share that was dropped; scale by the share that was kept.",
            )
        if abs(a - 1 / (1 - p)) <= 1e-6:
            return Verdict(
                False,
                f"1 / (1 - p) = {1 / (1 - p):g} would make the outputs larger; without dropout "
                "they are already larger than in training, so scale them down.",
            )
        if abs(a - 1) <= 1e-6:
            return Verdict(
                False,
                f"With every unit kept, the next layer would receive 1 / {1 - p:g} times what "
                "it received on average while training: scale down.",
            )
        return Verdict(False, "The article's rule: multiply by the probability of keeping a unit.")
    if abs(b - 1 / (1 - p)) <= 1e-6:
        return Verdict(
            False,
            f"Inverted dropout divides by {1 - p:g} while training, not at inference.",
        )
    return Verdict(
        False,
        "Inverted dropout scaled the kept units while training; at inference nothing is left "
        "to do.",
    )


def _mask_hints(got: np.ndarray, right: np.ndarray, other: np.ndarray, what: str) -> Verdict:
    """Hints shared by 12.3 and 12.4: ``other`` is the array the mask multiplies."""
    keep, p = MASK_KEEP, MASK_P
    if close(got, other * keep, 1e-6):
        return Verdict(False, f"Dropped right; now divide the kept {what} by 1 - p = {1 - p:g}.")
    if close(got, other * keep * (1 - p), 1e-6):
        return Verdict(
            False,
            f"Multiplying by 1 - p is the article's rule at inference; inverted dropout "
            f"divides the kept {what} by 1 - p while training.",
        )
    if close(got, other * keep / p, 1e-6):
        return Verdict(False, f"Divide by 1 - p = {1 - p:g}, the share kept, not by p.")
    if close(got, other * (1 - keep) / (1 - p), 1e-6) or close(got, other * (1 - keep), 1e-6):
        return Verdict(False, "In the mask, 1 means kept and 0 means dropped.")
    if close(got, other / (1 - p), 1e-6) or close(got, other, 1e-6):
        return Verdict(False, f"Set the dropped {what} (mask 0) to 0.")
    return Verdict(False, f"Multiply each of the {what} by its mask number, then divide by 1 - p.")


@register("12.3", "The output of inverted dropout for MASK_X with the mask MASK_KEEP, p = 0.2.")
def _mask_forward(answer: object) -> Verdict:
    got = as_numbers(answer, MASK_X.shape)
    if isinstance(got, Verdict):
        return got
    right = MASK_X * MASK_KEEP / (1 - MASK_P)
    if close(got, right, 1e-6):
        return Verdict(
            True,
            f"Dropped numbers become 0; kept ones are divided by {1 - MASK_P:g}, that is "
            f"multiplied by {1 / (1 - MASK_P):g}.",
        )
    return _mask_hints(got, right, MASK_X, "numbers")


@register("12.4", "d loss / d x for the dropout of exercise 12.3, given MASK_DOUT.")
def _mask_backward(answer: object) -> Verdict:
    got = as_numbers(answer, MASK_DOUT.shape)
    if isinstance(got, Verdict):
        return got
    multiplier = MASK_KEEP / (1 - MASK_P)
    right = MASK_DOUT * multiplier
    if close(got, right, 1e-6):
        return Verdict(
            True,
            "The same numbers as forward: a dropped number had no effect on the loss "
            f"(gradient 0), a kept one moves its output {1 / (1 - MASK_P):g} times as fast.",
        )
    if close(got, MASK_X * multiplier, 1e-6):
        return Verdict(
            False,
            "That is the forward output of exercise 12.3; backward multiplies the gradient "
            "MASK_DOUT, not x.",
        )
    if close(got, MASK_DOUT * MASK_X * multiplier, 1e-6):
        return Verdict(
            False,
            "The output is x times a fixed number, so its slope is that number alone; x does "
            "not enter.",
        )
    return _mask_hints(got, right, MASK_DOUT, "gradients")


@register("12.5", "How many units of 1,000 are dropped on average at p = 0.1.")
def _count_dropped(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    n, p = COUNT_UNITS, COUNT_P
    value = float(got)
    if abs(value - n * p) <= 1e-6:
        return Verdict(
            True,
            f"Each unit is dropped with probability {p:g}: {n:,} x {p:g} = {n * p:g} on "
            "average (a different set, and a slightly different count, at every step).",
        )
    if abs(value - n * (1 - p)) <= 1e-6:
        return Verdict(False, f"That is how many are kept; {p:g} is the probability of dropping.")
    if abs(value - p) <= 1e-9:
        return Verdict(False, f"That is the share; how many units of {n:,} is that?")
    if abs(value - 100 * p) <= 1e-9:
        return Verdict(False, f"{100 * p:g} % of the units, and {n:,} units: how many is that?")
    return Verdict(False, f"Each of the {n:,} units is dropped with probability {p:g}.")
