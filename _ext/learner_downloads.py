"""Sphinx extension: a chapter's launch and download buttons give the learner's notebook.

The book is built from ``book/``, whose notebooks speak MyST (glue placeholders, roles,
exercise directives, solutions already run). A learner who opens a chapter on Colab or
Binder, or downloads it, gets ``learners/`` instead: the same notebook made readable in
plain Jupyter by ``scripts/make_learner_notebooks.py``. On each page built from a
notebook, this extension

1. points the theme's launch buttons (Binder, Colab, any other link in the rocket menu) at
   ``learners/<path below book/>`` instead of ``book/<path>``; and
2. after the build, copies each learner's notebook over the page's downloadable source
   (``_sources/book/<name>.ipynb``, the ".ipynb" of the download menu).

A launch link that does not end with the notebook's path, or a chapter without a learner's
notebook, is a warning, so the strict build (``-W``) fails instead of sending learners to
the MyST source.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

LEARNERS = "learners"


def learner_path(source: str) -> str:
    """``book/x/y.ipynb`` -> ``learners/x/y.ipynb`` (as scripts/make_learner_notebooks.py)."""
    parts = PurePosixPath(source).parts
    if parts and parts[0] == "book":
        parts = parts[1:]
    return PurePosixPath(LEARNERS, *parts).as_posix()


def _notebook_source(app: Sphinx, pagename: str) -> str | None:
    """The page's notebook relative to the book's root (the repository), or None."""
    if app.env is None or pagename not in app.env.all_docs:
        return None
    source = PurePosixPath(Path(app.env.doc2path(pagename, base=False)).as_posix())
    return source.as_posix() if source.suffix == ".ipynb" else None


def point_launch_buttons(header_buttons: list[dict], source: str, learner: str) -> list[str]:
    """Rewrite the launch links in place; return the links that could not be rewritten."""
    wrong = []
    ending = re.compile("/" + re.escape(source) + "$")
    for group in header_buttons:
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("type") != "link":
                continue  # Thebe's "Live Code" and other scripts
            url = button.get("url", "")
            new = ending.sub("/" + learner, url)
            if new == url:
                wrong.append(url)
            button["url"] = new
    return wrong


def _launch_learners(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    source = _notebook_source(app, pagename)
    if source is None:
        return
    learner = learner_path(source)
    if not (Path(app.srcdir) / learner).is_file():
        logger.warning(
            f"{source}: no learner's notebook {learner}; run scripts/make_learner_notebooks.py",
            location=pagename,
        )
        return
    wrong = point_launch_buttons(context.get("header_buttons", []), source, learner)
    for url in wrong:
        logger.warning(f"launch link {url} does not end with {source}", location=pagename)


def _copy_downloads(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html" or app.env is None:
        return
    sources = Path(app.outdir) / "_sources"
    for pagename in sorted(app.env.all_docs):
        source = _notebook_source(app, pagename)
        if source is None:
            continue
        learner = Path(app.srcdir) / learner_path(source)
        target = sources / source
        if learner.is_file() and target.is_file():
            shutil.copyfile(learner, target)


def setup(app: Sphinx) -> dict[str, Any]:
    """After sphinx-book-theme has made its launch buttons (priority 501)."""
    app.connect("html-page-context", _launch_learners, priority=600)
    app.connect("build-finished", _copy_downloads)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
