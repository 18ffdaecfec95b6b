"""Sphinx extension: write each inline ``<script>`` of a page once.

Sphinx 7.4 registers a script that an extension adds after the builder starts twice: once
with ``filename=None`` (``Sphinx.add_js_file``) and once with ``filename=''`` (the
builder's ``prepare_writing``), and the two do not compare equal, so inline scripts are
written twice. sphinx-thebe's ``const THEBE_JS_URL = ...`` then throws "Identifier
'THEBE_JS_URL' has already been declared" on every page. This extension drops the second
copy of every identical inline script just before the page is written.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _dedupe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", None)
        if getattr(script, "filename", "x") or attributes is None:  # a file, not inline
            unique.append(script)
            continue
        key = (script.priority, tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    """Run after the other extensions have added their per-page scripts."""
    app.connect("html-page-context", _dedupe, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
