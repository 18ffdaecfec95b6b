"""Every name the chapters use says where it is taught, and the pointer is right.

A docstring that says "Taught in chapter N" is a promise to a reader who opens the
companion: chapter N's notebook uses that name.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Iterator

import yaml
from conftest import ROOT

import companion

POINTER = re.compile(r"Taught in chapter (\d+)")


def chapters_in_the_book() -> dict[int, str]:
    """Chapter number -> the code of its notebook, for the chapters in ``_toc.yml``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc["parts"] for c in part.get("chapters", [])]
    code = {}
    for file in files:
        found = re.match(r"book/(\d\d)_", file)
        if found:
            nb = json.loads((ROOT / f"{file}.ipynb").read_text(encoding="utf-8"))
            cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
            code[int(found.group(1))] = "\n".join("".join(c["source"]) for c in cells)
    return code


def documented() -> Iterator[tuple[str, str, str]]:
    """``(qualified name, short name, docstring)`` of every function, class and method
    defined in the companion."""
    modules = [companion] + [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(companion.__path__, "companion.")
        if not m.name.endswith("__main__")
    ]
    for module in modules:
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{module.__name__}.{name}", name, inspect.getdoc(obj) or ""
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (inspect.isfunction(member)):
                        doc = inspect.getdoc(member) or ""
                        yield f"{module.__name__}.{name}.{attr}", attr, doc


def test_every_name_the_chapters_import_from_companion_says_where_it_is_taught():
    missing = []
    for name in companion.__all__:
        obj = getattr(companion, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and not POINTER.search(
            inspect.getdoc(obj) or ""
        ):
            missing.append(name)
    assert not missing, f"no 'Taught in chapter N' in the docstring of {missing}"


def test_every_pointer_names_a_chapter_whose_notebook_uses_the_name():
    chapters = chapters_in_the_book()
    wrong = []
    for qualified, name, doc in documented():
        for number in {int(n) for n in POINTER.findall(doc)[:1]}:
            if number in chapters and not re.search(rf"\b{name}\b", chapters[number]):
                wrong.append(f"{qualified} (chapter {number})")
    assert not wrong, "these say 'Taught in chapter N' but chapter N does not use them:\n" + (
        "\n".join(wrong)
    )


def test_the_pointer_test_would_catch_a_wrong_pointer():
    chapters = chapters_in_the_book()
    assert 1 in chapters and "leaf_flower_network" in chapters[1]
    assert not re.search(r"\bMultiHeadAttention\b", chapters[1])  # would be reported


def test_every_pointer_names_a_chapter_of_the_book():
    chapters = chapters_in_the_book()
    assert sorted(chapters) == list(range(1, 17))
    unknown = [
        f"{qualified} (chapter {number})"
        for qualified, _, doc in documented()
        for number in map(int, POINTER.findall(doc))
        if number not in chapters
    ]
    assert not unknown, f"pointers to chapters the book does not have: {unknown}"
