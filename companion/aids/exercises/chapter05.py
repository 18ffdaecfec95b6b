"""Exercises of chapter 5, Predicting the next character."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register
from companion.models.generate import softmax_with_temperature

#: The chapter's 27 characters in the order of their numbers: the space is 0, a = 1, ... z = 26.
ALPHABET = " abcdefghijklmnopqrstuvwxyz"
#: The context length of the chapter's network.
CONTEXT_LENGTH = 12

#: Exercise 5.1: the text to turn into numbers.
WORDS = "sat on a wall"
#: Exercise 5.2: the text whose sliding windows are asked for.
WINDOW_TEXT = "jack and jill went up"
#: Exercise 5.3: a network's 27 logits (output numbers) after "jack and jil", in ALPHABET order.
NEXT_LOGITS = np.array(
    [
        -1.8,
        -2.3,
        -1.2,
        -0.6,
        0.1,
        2.4,
        -1.6,
        -1.8,
        -0.3,
        1.6,
        -0.7,
        -2.2,
        3.1,
        0.6,
        -0.8,
        -2.7,
        -1.1,
        -2.2,
        -1.6,
        -1.5,
        -1.7,
        -0.4,
        -1.1,
        -1.6,
        -0.6,
        -0.2,
        -2.6,
    ]
)
#: Exercise 5.4: three logits, and the two temperatures to apply to them.
SMALL_LOGITS = np.array([2.0, 1.0, 0.0])
TEMPERATURES = (0.5, 2.0)


def _numbers(text: str) -> list[int]:
    return [ALPHABET.index(ch) for ch in text]


@register("5.1", 'The numbers of "sat on a wall" (space = 0, a = 1, ..., z = 26).')
def _numbers_of_words(answer: object) -> Verdict:
    expected = np.array(_numbers(WORDS))
    one_row = isinstance(answer, list | tuple) or (
        isinstance(answer, np.ndarray) and answer.ndim == 1
    )
    if one_row and len(answer) == len(WORDS.replace(" ", "")):  # type: ignore[arg-type]
        return Verdict(False, f"Expected {len(WORDS)} numbers: the spaces count too (space = 0).")
    got = as_numbers(answer, expected.shape)
    if isinstance(got, Verdict):
        return got
    if close(got, expected, 0):
        return Verdict(True, f"{WORDS!r} is {expected.tolist()}.")
    letters = expected > 0
    if close(got[letters], expected[letters] - 1, 0):
        return Verdict(False, "Off by one: a is 1, not 0 (the 0 is kept for the space).")
    if close(got[letters], expected[letters] + 96, 0):
        return Verdict(False, "Those are the computer's codes, ord(ch); here a = 1, b = 2, ...")
    if close(got[letters], expected[letters], 0):
        return Verdict(False, "The letters are right; give every space the number 0.")
    return Verdict(False, "Count each letter's place in the alphabet: a = 1, b = 2, ..., z = 26.")


@register("5.2", 'The 12-character windows the network reads to write "jack and jill went up".')
def _windows(answer: object) -> Verdict:
    T = CONTEXT_LENGTH
    expected = [WINDOW_TEXT[i : i + T] for i in range(len(WINDOW_TEXT) - T)]
    if not isinstance(answer, list | tuple) or not all(isinstance(w, str) for w in answer):
        return Verdict(False, "Answer with a list of strings, the windows in order.")
    got = list(answer)
    if got == expected:
        return Verdict(
            True, f"{len(expected)} windows, each followed by the character it predicts."
        )
    if any(len(w) != T for w in got):
        return Verdict(False, f"Every window has exactly {T} characters, spaces included.")
    if got == expected + [WINDOW_TEXT[-T:]]:
        return Verdict(
            False,
            f"The last window, {WINDOW_TEXT[-T:]!r}, has no next character "
            "in the text: nothing to predict from it.",
        )
    if got == expected[1:]:
        return Verdict(False, f"The first window is the start of the text, {expected[0]!r}.")
    if sorted(got) == sorted(expected):
        return Verdict(False, "The right windows in the wrong order: slide one step at a time.")
    return Verdict(False, "Slide by one character: text[i : i + 12] for i = 0, 1, 2, ...")


@register("5.3", "Greedy decoding's character and its probability, as (character, probability).")
def _greedy(answer: object) -> Verdict:
    probs = softmax_with_temperature(NEXT_LOGITS, 1.0)
    best = int(np.argmax(NEXT_LOGITS))
    if isinstance(answer, str):
        if answer == ALPHABET[best]:
            return Verdict(
                False,
                "Right character; give its probability too, as (character, probability).",
            )
        return Verdict(False, "Answer with a pair (character, probability).")
    if not isinstance(answer, tuple | list) or len(answer) != 2:
        return Verdict(False, "Answer with a pair (character, probability), e.g. ('a', 0.5).")
    ch, p = answer
    if isinstance(ch, int | np.integer) and not isinstance(ch, bool):
        hint = f"; output {best} is ALPHABET[{best}]" if ch == best else ""
        return Verdict(False, f"Give the character itself, not its number{hint}.")
    if not isinstance(ch, str) or len(ch) != 1:
        return Verdict(False, f"The first item must be one character; got {ch!r}.")
    if ch != ALPHABET[best]:
        if ch == ALPHABET[int(np.argmin(NEXT_LOGITS))]:
            return Verdict(False, "That is the least likely one: greedy picks the largest.")
        if ch in ALPHABET and abs(ALPHABET.index(ch) - best) == 1:
            return Verdict(False, "Off by one: ALPHABET[0] is the space, ALPHABET[1] is 'a'.")
        return Verdict(False, "Greedy decoding picks the output with the largest number.")
    prob = as_numbers(p, ())
    if isinstance(prob, Verdict):
        return Verdict(False, "The probability: " + prob.message)
    if close(prob, probs[best], 5e-4):
        return Verdict(
            True,
            f"{ch!r}, probability {probs[best]:.3f}: greedy takes it, "
            "though the rest add up to more.",
        )
    if close(prob, NEXT_LOGITS[best], 5e-4):
        return Verdict(False, "That is its score (logit); softmax turns it into a probability.")
    return Verdict(False, "Right character. Its probability is softmax(logits) at its place.")


@register("5.4", "softmax(logits / T) of [2, 1, 0] for T = 0.5 and T = 2, as two rows.")
def _temperature(answer: object) -> Verdict:
    got = as_numbers(answer, (2, 3))
    if isinstance(got, Verdict):
        return got
    expected = np.stack([softmax_with_temperature(SMALL_LOGITS, t) for t in TEMPERATURES])
    if close(got, expected, 1e-3):
        return Verdict(
            True, "Low T sharpens the probabilities, high T flattens them; the order stays."
        )
    if close(got, expected[::-1], 1e-3):
        return Verdict(
            False,
            "The rows are swapped: divide the logits by the temperature "
            "(dividing by 0.5 doubles them), do not multiply.",
        )
    plain = softmax_with_temperature(SMALL_LOGITS, 1.0)
    if close(got[0], plain, 1e-3) or close(got[1], plain, 1e-3):
        return Verdict(False, "That row is softmax at temperature 1: divide the logits by T first.")
    if not close(got.sum(axis=1), 1.0, 1e-3):
        return Verdict(False, "Each row is a set of probabilities and must add up to 1.")
    return Verdict(False, "For each T: divide every logit by T, then apply softmax.")
