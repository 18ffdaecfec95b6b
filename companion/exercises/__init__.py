"""Check your answers to the chapters' exercises.

Call :func:`check` with the exercise's label and your answer::

    from companion.exercises import check
    check("1.1", my_answer)

Its answer, shown when it is the last line of a cell, says whether you are right and, when
you are not, gives a hint; it is true or false in an ``if``. It never raises on a wrong
answer, whatever its type or shape.
"""

from __future__ import annotations

from companion.exercises import chapter01, chapter02  # noqa: F401  (registers the exercises)
from companion.exercises._checker import Exercise, Result, Verdict, check, exercises

__all__ = ["Exercise", "Result", "Verdict", "check", "exercises"]
