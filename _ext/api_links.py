"""Link the API reference and the chapters both ways, from the companion's docstrings.

Every public function and class of the companion ends its docstring with "Taught in chapter
N, Title." This extension makes that sentence a link to chapter N in the API reference
(``autodoc-process-docstring``), and ends each chapter's page with a list of links to the
entries that name it (``doctree-read``). The docstrings are the one source: a pointer that is
wrong is caught by ``tests/test_docstrings.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

POINTER = re.compile(r"Taught in chapter (\d+)(?:, ([^.(]*[^.(\s]))?")  # number, title


def chapter_pages(srcdir: str) -> dict[int, str]:
    """Chapter number -> docname, for the chapters of ``_toc.yml``."""
    toc = yaml.safe_load((Path(srcdir) / "_toc.yml").read_text(encoding="utf-8"))
    pages = {}
    for part in toc["parts"]:
        for chapter in part.get("chapters", []):
            found = re.match(r"book/(\d\d)_", chapter["file"])
            if found:
                pages[int(found.group(1))] = chapter["file"]
    return pages


def taught() -> dict[int, list[tuple[str, str]]]:
    """Chapter number -> ``(role, qualified name)`` of the entries that name it."""
    import companion

    found: dict[int, list[tuple[str, str]]] = {}
    modules = [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(companion.__path__, "companion.")
        if not m.name.endswith("__main__")
    ]
    for module in modules:
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            entries = []
            if inspect.isfunction(obj):
                entries.append(("func", f"{module.__name__}.{name}", obj))
            elif inspect.isclass(obj):
                entries.append(("class", f"{module.__name__}.{name}", obj))
                entries += [
                    ("meth", f"{module.__name__}.{name}.{attr}", member)
                    for attr, member in vars(obj).items()
                    if not attr.startswith("_") and inspect.isfunction(member)
                ]
            public = ".".join(p for p in module.__name__.split(".") if not p.startswith("_"))
            for role, qualified, member in entries:  # named where the reference documents them
                qualified = public + qualified.removeprefix(module.__name__)
                pointer = POINTER.search(inspect.getdoc(member) or "")
                if pointer:
                    found.setdefault(int(pointer.group(1)), []).append((role, qualified))
    return found


def link_pointer(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Turn "Taught in chapter N, Title." into a link to chapter N's page."""
    pages = app.env.api_chapter_pages  # type: ignore[attr-defined]
    for i, line in enumerate(lines):

        def link(match: re.Match[str]) -> str:
            number, title = int(match.group(1)), match.group(2)
            page = pages.get(number)
            if page is None:  # a chapter still to be written
                return match.group(0)
            label = f"chapter {number}" + (f", {title}" if title else "")
            return f"Taught in :doc:`{label} </{page}>`"

        lines[i] = POINTER.sub(link, line)


def add_entry_list(app: Sphinx, doctree: nodes.document) -> None:
    """End a chapter's page with links to the companion code it teaches."""
    docname = app.env.docname
    number = next((n for n, page in app.env.api_chapter_pages.items() if page == docname), None)  # type: ignore[attr-defined]
    entries = app.env.api_taught.get(number, []) if number is not None else []  # type: ignore[attr-defined]
    if not entries:
        return
    section = nodes.section(ids=["the-companion-s-code-for-this-chapter"])
    section += nodes.title(text="The companion's code for this chapter")
    section += nodes.paragraph(
        text="The reference pages of the functions and classes this chapter teaches:"
    )
    items = nodes.bullet_list()
    for role, qualified in entries:
        xref = addnodes.pending_xref(
            "", refdomain="py", reftype=role, reftarget=qualified, refexplicit=False,
            refwarn=True,
        )  # fmt: skip
        xref += nodes.literal(text=qualified.removeprefix("companion."))
        items += nodes.list_item("", nodes.paragraph("", "", xref))
    section += items
    sections = [n for n in doctree.children if isinstance(n, nodes.section)]
    (sections[0] if sections else doctree).append(section)


def remember(app: Sphinx) -> None:
    app.env.api_chapter_pages = chapter_pages(app.srcdir)  # type: ignore[attr-defined]
    app.env.api_taught = taught()  # type: ignore[attr-defined]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", remember)
    app.connect("autodoc-process-docstring", link_pointer)
    app.connect("doctree-read", add_entry_list)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
