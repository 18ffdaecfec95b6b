"""Shared test helpers: paths into the repository, and the chapters' own definitions."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
#: Debian's Chromium, driven headless by Playwright in the browser tests.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def notebooks() -> list[Path]:
    """Every chapter notebook of the book, in file order."""
    return sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def chapter_definitions(notebook: str, names: list[str], namespace: dict | None = None) -> dict:
    """Run the ``def`` and ``class`` statements called ``names`` from the code cells of
    ``notebook``, in notebook order, in one ``namespace`` (NumPy alone, as ``np``, unless one
    is given), so that they can use one another and the names it holds; return it."""
    namespace = {"np": np} if namespace is None else namespace
    nb = nbformat.read(BOOK / notebook, as_version=4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in names:
                exec(compile(ast.Module([node], []), f"{notebook}:{node.name}", "exec"), namespace)
                found.add(node.name)
    missing = set(names) - found
    assert not missing, f"{notebook} defines no function or class {sorted(missing)}"
    return namespace


def chapter_function(notebook: str, name: str, **names):
    """``def name`` (or ``class name``) from a code cell of ``notebook``, defined with NumPy
    as ``np`` and ``names`` at hand."""
    return chapter_definitions(notebook, [name], {"np": np, **names})[name]


def fail_or_skip(message: str) -> None:
    """Skip a test that needs what this computer lacks; on CI, fail it instead."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium for the tests of a module."""
    if not CHROMIUM.exists():
        fail_or_skip(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        fail_or_skip("playwright is not installed: pip install -r requirements.txt")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def run_chapter(notebook: str, skip: str | None = None) -> tuple[dict, dict]:
    """Run the code cells of ``notebook`` in book/, as Jupyter does (its paths are relative to
    it), except the set-up (``hide-cell``), the widgets (``nbval-ignore-output``) and any
    cell holding the text ``skip``; record what it glues. Returns the cells' namespace and a
    dict of every glued name and value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb = nbformat.read(BOOK / notebook, as_version=4)
    glued: dict[str, object] = {}
    namespace: dict[str, object] = {}
    here = os.getcwd()
    os.chdir(BOOK)
    try:
        for cell in nb.cells:
            tags = set(cell.metadata.get("tags", []))
            if cell.cell_type != "code" or tags & {"hide-cell", "nbval-ignore-output"}:
                continue
            if skip is not None and skip in cell.source:
                continue
            exec(compile(cell.source, notebook, "exec"), namespace)
            namespace["glue"] = lambda name, value, display=True: glued.__setitem__(name, value)
            plt.close("all")
    finally:
        os.chdir(here)
    return namespace, glued
