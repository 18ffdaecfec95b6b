"""Exercises of chapter 9, Softmax, again."""

from __future__ import annotations

import math

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register
from companion.layers.activations import logistic
from companion.layers.softmax import log_softmax, softmax

#: Exercise 9.1: scores too large for the plain exponential.
BIG_SCORES = (1000.0, 998.0, 995.0)
#: Exercise 9.2: two scores whose softmax is a logistic function.
PAIR = (3.5, 1.5)
#: Exercise 9.3: a confident, wrong network's scores, and the right token.
LOSS_LOGITS = (2.0, -250.0, 450.0)
LOSS_TARGET = 1
#: Exercise 9.4: one query's dot products with four keys, and the length of the vectors.
ATTENTION_SCORES = (8.0, 4.0, 0.0, -4.0)
ATTENTION_D = 16
#: Exercise 9.5: how many query-key pairs to draw, their length, and the seed.
SPREAD_PAIRS = 10_000
SPREAD_D = 36
SPREAD_SEED = 9


def _one_row(answer: object, n: int) -> np.ndarray | Verdict:
    """The answer as ``n`` numbers; NaN and infinity come back as a hint about overflow."""
    if not isinstance(answer, str | bytes) and answer is not None:
        try:
            array = np.asarray(answer, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is not None and array.size == n and not np.all(np.isfinite(array)):
            return Verdict(
                False,
                "The answer holds nan or inf: an exponential overflowed. Subtract the largest "
                "score from every score before np.exp.",
            )
    return as_numbers(answer, (n,))


def _size(answer: object) -> int:
    """How many numbers a list or array answer holds (-1 when it is not a list of numbers)."""
    if not isinstance(answer, list | tuple | np.ndarray):
        return -1
    try:
        return int(np.asarray(answer, dtype=np.float64).size)
    except (TypeError, ValueError):
        return -1


def _one_number(answer: object) -> float | Verdict:
    """The answer as one float, or a Verdict that says what is wrong."""
    if isinstance(answer, bool | np.bool_):
        return Verdict(False, f"Expected one number; got {answer!r}.")
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    return float(got)


@register("9.1", "softmax of BIG_SCORES = [1000, 998, 995], without overflow.")
def _big_scores(answer: object) -> Verdict:
    got = _one_row(answer, len(BIG_SCORES))
    if isinstance(got, Verdict):
        return got
    z = np.array(BIG_SCORES)
    shifted = z - z.max()  # [0, -2, -5]
    if close(got, softmax(z), 1e-3):
        return Verdict(
            True,
            "The scores minus 1000 are [0, -2, -5]; their exponentials 1, 0.135 and "
            "0.007 fit easily, and the probabilities are those of [1000, 998, 995].",
        )
    if close(got, shifted, 1e-6):
        return Verdict(False, "These are the shifted scores; now take the softmax of them.")
    if close(got, np.exp(shifted), 1e-3):
        return Verdict(False, "These are the exponentials e^(z - max): divide them by their sum.")
    if close(got, softmax(-shifted), 1e-3):
        return Verdict(False, "Subtract the largest score from each score, z - max, not max - z.")
    if close(got, z / z.sum(), 1e-3):
        return Verdict(False, "That divides the scores by their sum: exponentiate first.")
    if not close(got.sum(), 1.0, 1e-3):
        return Verdict(False, "Probabilities add up to 1: divide each exponential by their sum.")
    return Verdict(False, "Subtract 1000 from every score, then np.exp and divide by the sum.")


@register("9.2", "The first probability of softmax(PAIR), PAIR = (3.5, 1.5), with logistic.")
def _logistic_pair(answer: object) -> Verdict:
    got = _one_number(answer)
    if isinstance(got, Verdict):
        if _size(answer) == len(PAIR):
            return Verdict(False, "Answer with one number: the first of the two probabilities.")
        return got
    a, b = PAIR
    right = float(logistic(a - b))
    if abs(got - right) <= 5e-4:
        return Verdict(
            True,
            f"softmax([{a}, {b}])[0] = logistic({a} - {b}) = logistic({a - b:g}) = {right:.4f}.",
        )
    if abs(got - float(logistic(a))) <= 5e-4:
        return Verdict(
            False,
            "logistic(3.5) is softmax([3.5, 0]); the second score is 1.5, not 0. Use the "
            "difference of the two scores.",
        )
    if abs(got - float(logistic(b - a))) <= 5e-4:
        return Verdict(
            False, "That is the second probability: the difference is z1 - z2, not z2 - z1."
        )
    if abs(got - (a - b)) <= 5e-4:
        return Verdict(False, "That is the difference itself; put it through logistic.")
    return Verdict(False, "softmax([z1, z2])[0] = logistic(z1 - z2).")


@register("9.3", "The cross-entropy -log p of token 1 for the scores LOSS_LOGITS.")
def _loss(answer: object) -> Verdict:
    if isinstance(answer, bool | np.bool_):
        return Verdict(False, f"Expected one number; got {answer!r}.")
    if isinstance(answer, float | np.floating | np.ndarray) and np.size(answer) == 1:
        if np.isinf(np.asarray(answer, dtype=np.float64)).all():
            return Verdict(
                False,
                "Infinity: softmax rounded p to 0 and log(0) = -inf. Use log_softmax, which "
                "never takes the log of a rounded 0.",
            )
    got = _one_number(answer)
    if isinstance(got, Verdict):
        if _size(answer) == len(LOSS_LOGITS):
            return Verdict(False, "That is the whole row; the loss is minus its entry for token 1.")
        return got
    z = np.array(LOSS_LOGITS)
    right = -float(log_softmax(z)[LOSS_TARGET])
    if abs(got - right) <= 1e-3:
        return Verdict(
            True,
            f"(-250 - 450) - log S = -700, with S = 1 plus two tiny numbers; the loss is "
            f"{right:g}: huge, but a number.",
        )
    if abs(got + right) <= 1e-3:
        return Verdict(False, "That is log p itself; the loss is minus it, -log p.")
    if abs(abs(got) - abs(z[LOSS_TARGET])) <= 1e-3:
        return Verdict(False, "Subtract the largest score first: z1 - m = -250 - 450.")
    if abs(abs(got) - abs(z[LOSS_TARGET] + z.max())) <= 1e-3:
        return Verdict(False, "Subtract the largest score, m = 450, do not add it: -250 - 450.")
    return Verdict(False, "The loss is -((z1 - m) - log S), with m = 450 and log S close to 0.")


@register("9.4", "The attention weights of the scores [8, 4, 0, -4] with d = 16.")
def _attention_weights(answer: object) -> Verdict:
    got = _one_row(answer, len(ATTENTION_SCORES))
    if isinstance(got, Verdict):
        return got
    z, d = np.array(ATTENTION_SCORES), ATTENTION_D
    if close(got, softmax(z / math.sqrt(d)), 1e-3):
        return Verdict(
            True,
            "Divided by the square root of 16, 4, the scores are [2, 1, 0, -1]: softmax at "
            "temperature 4.",
        )
    if close(got, softmax(z), 1e-3):
        return Verdict(
            False, "That is softmax without the division: divide by the square root of d."
        )
    if close(got, softmax(z / d), 1e-3):
        return Verdict(False, "Divide by the square root of d, 4, not by d itself.")
    if close(got, softmax(z * math.sqrt(d)), 1e-3):
        return Verdict(False, "Divide the scores by 4, do not multiply them.")
    if close(got, z / math.sqrt(d), 1e-6):
        return Verdict(False, "These are the scaled scores; now take their softmax.")
    if not close(got.sum(), 1.0, 1e-3):
        return Verdict(False, "Attention weights add up to 1: finish with softmax.")
    return Verdict(False, "Divide every score by the square root of 16, then take the softmax.")


@register("9.5", "The spread (np.std) of 10,000 dot products of random vectors of 36 numbers.")
def _spread(answer: object) -> Verdict:
    if _size(answer) == SPREAD_PAIRS:
        return Verdict(False, "These are the dot products; answer with their spread, np.std(...).")
    got = _one_number(answer)
    if isinstance(got, Verdict):
        return got
    root = math.sqrt(SPREAD_D)
    if abs(got - root) <= 0.25:
        return Verdict(
            True,
            f"About {root:g}, the square root of {SPREAD_D}: each of the {SPREAD_D} products "
            f"adds 1 to the average square, so the spread is the square root of {SPREAD_D}.",
        )
    if abs(got - SPREAD_D) <= 3:
        return Verdict(False, "That is the average square (the variance); take its square root.")
    if abs(got - 1) <= 0.1:
        return Verdict(
            False,
            "That is the spread of single numbers, or of scores already divided by the square "
            "root of d: take the spread of the plain dot products.",
        )
    if abs(got) <= 0.3:
        return Verdict(
            False, "That looks like the average, which is near 0; np.std gives the spread."
        )
    return Verdict(
        False, "Multiply each query by its key number by number, add along the 36, then np.std."
    )
