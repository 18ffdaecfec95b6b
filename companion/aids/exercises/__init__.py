"""Check your answers to the chapters' exercises.

Call :func:`check` with the exercise's label and your answer::

    from companion.aids.exercises import check
    check("1.1", my_answer)

Its answer, shown when it is the last line of a cell, says whether you are right and, when
you are not, gives a hint; it is true or false in an ``if``. It never raises on a wrong
answer, whatever its type or shape.

Each chapter's exercises live in a module ``chapterNN`` of this package; importing the
package registers them all.
"""

from __future__ import annotations

import importlib
import pkgutil

from companion.aids.exercises._checker import Exercise, Result, Verdict, check, exercises

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module.startswith("chapter"):
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["Exercise", "Result", "Verdict", "check", "exercises"]
