"""The machinery behind :func:`check`: a registry of exercises and forgiving comparisons."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from typing import Any

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

    def wrapped(self, width: int = 79) -> str:
        """The sentence in lines of at most ``width`` characters, as a notebook shows it."""
        return textwrap.fill(str(self), width, break_long_words=False, break_on_hyphens=False)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Jupyter shows the result of a cell's last line in lines that fit the page.
        printer.text(self.wrapped())


@dataclass(frozen=True)
class Exercise:
    """One exercise: its label, a one-line question and the function that judges answers."""

    label: str
    question: str
    judge: Callable[[object], Verdict]


_REGISTRY: dict[str, Exercise] = {}

#: The most items an answer may hold: no exercise asks for more than a few dozen, and a
#: checker must answer at once, never spend minutes on ``range(10**9)``.
MAX_ITEMS = 100_000


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

    A ``label`` that names no exercise gets a "Not yet." result that says which labels
    exist; nothing is raised.

    Notes
    -----
    Before any exercise looks at the answer, three kinds are refused with a message: an
    iterator or generator (it may never end, so it is not read), an answer of more than
    ``MAX_ITEMS`` items, and complex numbers.

    Taught in chapter 1, Numbers in, numbers out, with its first exercises; every chapter's
    exercises use it.
    """
    if not isinstance(label, str) or label not in _REGISTRY:
        name = label if isinstance(label, str) else repr(label)
        return Result(name, Verdict(False, unknown_label(label)))
    try:
        verdict = unreadable(answer) or complex_verdict(answer) or _REGISTRY[label].judge(answer)
    except Exception as error:  # a checker must never crash on a reader's answer
        verdict = Verdict(False, f"Could not read this answer ({type(error).__name__}: {error}).")
    return Result(label, verdict)


def unknown_label(label: object) -> str:
    """What :func:`check` says when ``label`` names no exercise: the labels that exist."""
    if not isinstance(label, str):
        return (
            f'The label must be written as text in quotes, such as check("1.1", answer); '
            f"got {label!r}, a {type(label).__name__}."
        )
    chapter = label.split(".")[0]
    same = [known for known in _REGISTRY if known.split(".")[0] == chapter]
    if same:
        ordered = sorted(same, key=lambda known: [int(p) for p in known.split(".") if p.isdigit()])
        return f"There is no exercise {label!r}; chapter {chapter}'s are {', '.join(ordered)}."
    chapters = sorted({known.split(".")[0] for known in _REGISTRY}, key=lambda c: int(c))
    return (
        f"There is no exercise {label!r}; the labels are a chapter's number, a dot and the "
        f'exercise\'s number, such as "1.1" (chapters {chapters[0]} to {chapters[-1]}).'
    )


def unreadable(answer: object) -> Verdict | None:
    """A Verdict when ``answer`` is an iterator or too large to read; None otherwise.

    An iterator or a generator (``itertools.count()``, ``map(...)``, ``(x for x in ...)``)
    has no length and may never end: reading it could hang the checker, so it is refused
    before anything takes an item from it.
    """
    if isinstance(answer, str | bytes):
        return None
    if isinstance(answer, Iterable) and not isinstance(answer, Sized):
        return Verdict(
            False,
            f"Expected a list, a tuple or an array; got {answer!r}, an iterator, which may "
            "never end, so it is not read. If it ends, pass list(...) of it.",
        )
    if not isinstance(answer, Sized):
        return None  # a single number, None, ...
    try:
        n = answer.size if isinstance(answer, np.ndarray) else len(answer)
    except OverflowError:  # len(range(10**20)): more items than an int can count
        n = MAX_ITEMS + 1
    if n > MAX_ITEMS:
        return Verdict(
            False,
            f"The answer holds more than {MAX_ITEMS:,} items; no exercise asks for that many.",
        )
    return None


def holds_complex(value: object) -> bool:
    """Whether ``value`` is a complex number or a list, tuple or array holding one."""
    if isinstance(value, complex | np.complexfloating):
        return True
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            return True
        return value.dtype == object and any(holds_complex(v) for v in value.flat)
    if isinstance(value, list | tuple):
        return any(holds_complex(v) for v in value)
    return False


def complex_verdict(answer: object) -> Verdict | None:
    """A Verdict saying that complex numbers are not expected, or None for a real answer.

    NumPy would otherwise drop the imaginary part without a word (``-26.6 + 5j`` would
    pass for ``-26.6``).
    """
    if not holds_complex(answer):
        return None
    return Verdict(
        False,
        f"Complex numbers are not expected here; got {answer!r}. If the imaginary parts "
        "are all 0, give the real part (.real).",
    )


def as_numbers(answer: object, shape: tuple[int, ...]) -> np.ndarray | Verdict:
    """Turn an answer into a float64 array of ``shape``, or a Verdict that says what is wrong."""
    if isinstance(answer, str | bytes):
        return Verdict(False, f"Expected numbers, got the text {answer!r}: drop the quotes.")
    if answer is None:
        return Verdict(False, "Expected numbers, got None: did the cell `return` or `print`?")
    refused = unreadable(answer) or complex_verdict(answer)
    if refused is not None:
        return refused
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


def whole_number(answer: object) -> int | Verdict:
    """One whole number (a count, a size), or a Verdict that says what is wrong."""
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    if not float(got).is_integer():
        return Verdict(False, f"Expected a whole number; got {float(got):g}.")
    return int(got)


def close(answer: np.ndarray, expected: np.ndarray | float, tol: float) -> bool:
    """True when every number is within ``tol`` of the expected one."""
    return bool(np.all(np.abs(np.asarray(answer) - np.asarray(expected)) <= tol))
