"""The machinery behind :func:`check`: a registry of exercises and forgiving comparisons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: right or not, and what to tell the reader."""

    right: bool
    message: str


@dataclass(frozen=True)
class Result:
    """What :func:`check` answers: true when right, shown as a sentence with a hint."""

    label: str
    verdict: Verdict

    @property
    def right(self) -> bool:
        """Whether the answer is right."""
        return self.verdict.right

    def __bool__(self) -> bool:
        return self.verdict.right

    def __str__(self) -> str:
        mark = "Right!" if self.verdict.right else "Not yet."
        return f"Exercise {self.label}: {mark} {self.verdict.message}".rstrip()

    __repr__ = __str__


@dataclass(frozen=True)
class Exercise:
    """One exercise: its label, a one-line question and the function that judges answers."""

    label: str
    question: str
    judge: Callable[[object], Verdict]


_REGISTRY: dict[str, Exercise] = {}


def register(label: str, question: str) -> Callable[[Callable[[object], Verdict]], Exercise]:
    """Decorator that adds an exercise's judge to the registry under ``label``."""

    def wrap(judge: Callable[[object], Verdict]) -> Exercise:
        if label in _REGISTRY:
            raise ValueError(f"exercise {label!r} is registered twice")
        exercise = Exercise(label, question, judge)
        _REGISTRY[label] = exercise
        return exercise

    return wrap


def exercises() -> dict[str, str]:
    """Return every exercise label with its question.

    Notes
    -----
    Used by every chapter's exercises.
    """
    return {label: ex.question for label, ex in sorted(_REGISTRY.items())}


def check(label: object, answer: object) -> Result:
    """Say whether ``answer`` is right for exercise ``label``, with a hint when it is not.

    Parameters
    ----------
    label : str
        The exercise's label as the book prints it, for example ``"1.1"``.
    answer : object
        Your answer. A wrong type or shape is reported, never raised.

    Returns
    -------
    Result
        Shown as a sentence when it is the last line of a cell (or printed); it is true
        when the answer is right, so ``if check("1.1", x):`` works too.

    Raises
    ------
    KeyError
        Only when ``label`` names no exercise (the message lists the labels).

    Notes
    -----
    Used by every chapter's exercises.
    """
    if label not in _REGISTRY:
        raise KeyError(f"label must name an exercise, one of {sorted(_REGISTRY)}; got {label!r}")
    try:
        verdict = _REGISTRY[str(label)].judge(answer)
    except Exception as error:  # a checker must never crash on a reader's answer
        verdict = Verdict(False, f"Could not read this answer ({type(error).__name__}: {error}).")
    return Result(str(label), verdict)


def as_numbers(answer: object, shape: tuple[int, ...]) -> np.ndarray | Verdict:
    """Turn an answer into a float64 array of ``shape``, or a Verdict that says what is wrong."""
    if isinstance(answer, str | bytes):
        return Verdict(False, f"Expected numbers, got the text {answer!r}: drop the quotes.")
    if answer is None:
        return Verdict(False, "Expected numbers, got None: did the cell `return` or `print`?")
    try:
        array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return Verdict(False, f"Expected numbers of shape {list(shape)}; got {answer!r}.")
    if array.shape != shape:
        if array.squeeze().shape == tuple(n for n in shape if n != 1):  # [x] for x, say
            array = array.reshape(shape)
        else:
            what = "one number" if shape == () else f"shape {list(shape)}"
            return Verdict(False, f"Expected {what}; got shape {list(array.shape)}.")
    if not np.all(np.isfinite(array)):
        return Verdict(False, "The answer holds NaN or infinity; check for a division by zero.")
    return array


def close(answer: np.ndarray, expected: np.ndarray | float, tol: float) -> bool:
    """True when every number is within ``tol`` of the expected one."""
    return bool(np.all(np.abs(np.asarray(answer) - np.asarray(expected)) <= tol))
