"""Sphinx extension: pages with saved widgets can be made live, and until then look saved.

On every page built from a notebook whose outputs show ipywidgets, this extension

1. saves the widgets *disabled*: every saved widget model that has a ``disabled`` trait
   gets ``disabled: true`` in the page's widget state, so the ipywidgets HTML manager draws
   greyed controls that cannot be moved (the pictures and numbers stay as saved);
2. writes the page's live-code plan as JSON (``<script id="llm-live-config">``): the
   source of every code cell of the notebook up to the last one that shows a widget, hidden
   and removed cells included (the widgets need what they define), with the ids of the
   widget views each cell displayed, the kernel's name, the notebook's path in the
   repository and the Binder repository (``repository.url`` and ``repository.branch`` in
   ``_config.yml``, ``launch_buttons.binderhub_url``);
3. adds ``vendor/live/live-pages.js`` and ``live-pages.css`` (``scripts/live-pages.*``,
   copied there by ``scripts/vendor_js.py``). The script puts a "Make this page live"
   button above each saved widget; pressed, it loads Thebe (``vendor/thebe``), asks for a
   kernel (mybinder.org, or the Jupyter server of ``scripts/serve_live.py``), runs those
   cells in order and puts the real widgets in place of the saved ones.

Pages without widgets are left alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Relative to _static/, like the other vendored files (see _config.yml).
LIVE_JS = "../vendor/live/live-pages.js"
LIVE_CSS = "../vendor/live/live-pages.css"
CONFIG_ID = "llm-live-config"


def _script_json(data: object) -> str:
    """JSON that is safe inside a <script> element (no "</" closes it early)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def live_cells(notebook: dict) -> list[dict[str, Any]]:
    """The code cells to run, up to the last that shows a widget, with their widget views.

    Returns ``[]`` when no cell shows a widget.
    """
    cells: list[dict[str, Any]] = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        views = [
            output["data"][WIDGET_VIEW]["model_id"]
            for output in cell.get("outputs", [])
            if WIDGET_VIEW in output.get("data", {})
        ]
        cells.append({"source": _source(cell), "views": views})
    last = max((i for i, cell in enumerate(cells) if cell["views"]), default=-1)
    return cells[: last + 1]


def disable_saved_widgets(state: dict) -> int:
    """Set ``disabled`` on every saved model that has the trait; return how many."""
    count = 0
    for model in state.get("state", {}).values():
        traits = model.get("state", {})
        if "disabled" in traits:
            traits["disabled"] = True
            count += 1
    return count


def _binder(app: Sphinx) -> dict[str, str]:
    options = app.config.html_theme_options or {}
    url = urlsplit(options.get("repository_url", ""))
    parts = [p for p in url.path.split("/") if p]
    if url.hostname != "github.com" or len(parts) < 2:
        return {}
    launch = options.get("launch_buttons") or {}
    return {
        "repo": f"{parts[0]}/{parts[1].removesuffix('.git')}",
        "ref": options.get("repository_branch") or "main",
        "binderUrl": (launch.get("binderhub_url") or "https://mybinder.org").rstrip("/"),
        "repoProvider": "github",
    }


def _add_live_page(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    if doctree is None or app.env is None or pagename not in app.env.all_docs:
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".ipynb":
        return
    notebook = json.loads(source.read_text(encoding="utf-8"))
    cells = live_cells(notebook)
    if not cells:
        return
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", None) or {}
        if attributes.get("type") == WIDGET_STATE and attributes.get("body"):
            state = json.loads(attributes["body"].replace("<\\/", "</"))
            disable_saved_widgets(state)
            attributes["body"] = _script_json(state)
    kernelspec = notebook.get("metadata", {}).get("kernelspec", {})
    config = {
        "kernelName": kernelspec.get("name", "python3"),
        "path": Path(app.env.doc2path(pagename, base=False)).as_posix(),
        "binder": _binder(app),
        "cells": cells,
    }
    app.add_js_file(None, body=_script_json(config), type="application/json", id=CONFIG_ID)
    app.add_js_file(LIVE_JS, defer="defer")
    app.add_css_file(LIVE_CSS)


def setup(app: Sphinx) -> dict[str, Any]:
    """Run after myst-nb has added the page's widget state (priority 500)."""
    app.connect("html-page-context", _add_live_page, priority=950)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
