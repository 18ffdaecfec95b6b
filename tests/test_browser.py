"""The built web book renders fully offline in a real browser (headless Chromium).

A module-scoped fixture builds the book cleanly into a temporary directory (it runs
``scripts/vendor_js.py``, then ``jupyter-book build <repo> --path-output <tmp> -W -n
--keep-going``) and serves its HTML with ``http.server`` on 127.0.0.1. To test a book that
is already built instead (CI builds once, then tests), point the environment variable
``LLM_MYSTERIES_BUILT_HTML`` at its HTML folder::

    python scripts/vendor_js.py && jupyter-book build . -W -n --keep-going
    LLM_MYSTERIES_BUILT_HTML=_build/html pytest tests/test_browser.py

Playwright drives Debian's Chromium (``/usr/bin/chromium``); no browser is downloaded.
Every request to a host other than 127.0.0.1 is aborted and counted as a failure: the book
must not need the network. For every page of the site (one test per page, all sharing one
browser) the test checks that the page loads with HTTP 200, raises no uncaught JavaScript
error or console error, requests no local file that is missing (Chromium's own probe for
``/favicon.ico`` aside: the book has no favicon), and then that

- MathJax typeset every math element (``span.math``/``div.math`` become ``mjx-container``);
- every Mermaid diagram became an SVG without a syntax error, a mindmap with one node per
  line of its source (the landing page must have one);
- saved widget state became live widgets: one view per saved view, a slider for every
  slider model, an image for every PNG inside an Output widget.

Every page means every HTML file outside the asset folders, ``search.html`` and
``genindex.html`` included; ``test_every_built_page_is_tested`` fails when the site has a
page that the toc-derived parameter list misses.

Without ``/usr/bin/chromium`` (``apt-get install chromium``) or the ``playwright`` package
(``pip install -r requirements.txt``) the tests are skipped, except under CI (``CI`` set),
where they fail.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
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
LOCAL_HOST = "127.0.0.1"
TIMEOUT_MS = 20_000
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Folders of the built site that hold assets, not pages: _static also holds the themes'
# Jinja macro files (webpack-macros.html), which are templates, never served as pages.
NOT_PAGES = {"_static", "_sources", "_images", "vendor"}


def _toc_files(entries: list[dict]) -> Iterator[str]:
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("parts", "chapters", "sections"):
            yield from _toc_files(entry.get(key, []))


def expected_pages() -> list[str]:
    """The site's pages, relative to the HTML folder: the toc's files and Sphinx's own."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"], *_toc_files(toc.get("parts", []) + toc.get("chapters", []))]
    return ["index.html", *(f"{f}.html" for f in files), "genindex.html", "search.html"]


def landing_page() -> str:
    """The page of the toc's root, where index.html sends the reader."""
    return expected_pages()[1]


def built_pages(html: Path) -> list[str]:
    """Every HTML page in the built site (assets folders aside), relative to ``html``."""
    return sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if p.relative_to(html).parts[0] not in NOT_PAGES
    )


def _fail_or_skip(message: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
    pytest.skip(message)


def _build(tmp: Path) -> Path:
    """Vendor the JavaScript and build the book cleanly under ``tmp``; return the HTML dir."""
    vendor = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "vendor_js.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert vendor.returncode == 0, f"scripts/vendor_js.py failed:\n{vendor.stdout}{vendor.stderr}"
    beside = Path(sys.executable).with_name("jupyter-book")
    jb = str(beside) if beside.exists() else shutil.which("jupyter-book")
    assert jb, "jupyter-book is not installed (pip install -r requirements.txt)"
    build = subprocess.run(
        [jb, "build", str(ROOT), "--path-output", str(tmp), "-W", "-n", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    log = build.stdout + build.stderr
    assert build.returncode == 0, f"jupyter-book build failed:\n{log[-6000:]}"
    assert "WARNING" not in log, f"the build warned:\n{log[-6000:]}"
    return tmp / "_build" / "html"


class _QuietHandler(SimpleHTTPRequestHandler):
    # Module scripts need a JavaScript MIME type; Python before 3.12 may not know .mjs.
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript"}

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def html_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site: LLM_MYSTERIES_BUILT_HTML if set, else a fresh build."""
    given = os.environ.get("LLM_MYSTERIES_BUILT_HTML")
    if given:
        html = Path(given).resolve()
        assert (html / "index.html").is_file(), f"LLM_MYSTERIES_BUILT_HTML={given}: no index.html"
        return html
    return _build(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="module")
def base_url(html_dir: Path) -> Iterator[str]:
    """Serve the site on a free port of 127.0.0.1 for the module's tests."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = ThreadingHTTPServer((LOCAL_HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium for all pages."""
    if not CHROMIUM.exists():
        _fail_or_skip(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _fail_or_skip("playwright is not installed: pip install -r requirements.txt")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


class PageVisit:
    """What one page did while it loaded: errors, failed and blocked requests."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.blocked: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("requestfailed", self._request_failed)

    def _console(self, message) -> None:
        # Chromium asks every site for /favicon.ico; the book has none, and that 404 is
        # not a request of the page (it never reaches the "response" event either).
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.console_errors.append(message.text)

    def _response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def _request_failed(self, request) -> None:
        if urlsplit(request.url).hostname == LOCAL_HOST:  # aborted ones are in `blocked`
            self.failed.append(f"{request.failure} {request.url}")

    def route(self, route) -> None:
        """Let requests to 127.0.0.1 (and data:/blob: URLs) through; abort all others."""
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or url.hostname == LOCAL_HOST:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def summary(self) -> str:
        return (
            f"page errors: {self.errors}\nconsole errors: {self.console_errors}\n"
            f"failed requests: {self.failed}\nrequests that left {LOCAL_HOST}: {self.blocked}"
        )


def _reachable_models(state: dict, roots: list[str]) -> list[dict]:
    """The saved widget models that the displayed views show, themselves and their children."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        model_id = todo.pop()
        if model_id in seen or model_id not in state:
            continue
        seen.add(model_id)
        text = json.dumps(state[model_id]["state"])
        todo += [ref.split('"')[0] for ref in text.split('"IPY_MODEL_')[1:]]
    return [state[m] for m in seen]


def _check_math(page, soup: BeautifulSoup) -> None:
    count = len(soup.select("div.math, span.math"))
    if not count:
        return
    page.wait_for_function("() => window.MathJax?.startup?.promise", timeout=TIMEOUT_MS)
    page.evaluate("() => MathJax.startup.promise.then(() => true)")  # the first typesetting
    untypeset = page.eval_on_selector_all(
        "div.math, span.math",
        "els => els.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent)",
    )
    assert not untypeset, f"MathJax left {len(untypeset)} of {count} untypeset: {untypeset[:5]}"
    assert page.locator("mjx-container").count() >= count
    errors = page.locator("mjx-merror").all_text_contents()
    assert not errors, f"TeX errors: {errors}"


def _check_mermaid(page, soup: BeautifulSoup, is_landing: bool) -> None:
    count = len(soup.select(".mermaid"))
    if is_landing:
        assert count, "the landing page lost its mindmap"
    if not count:
        return
    page.wait_for_function(
        # While Mermaid lays a diagram out, its svg sits in a temporary div inside the
        # element; a finished diagram's svg replaces the element's content. A syntax error
        # leaves the temporary div, with an svg whose kind is "error".
        """() => [...document.querySelectorAll('.mermaid')].every(
               e => e.querySelector(':scope > svg[aria-roledescription]')
                    || e.querySelector('svg[aria-roledescription="error"]')
                    || e.hasAttribute('data-mermaid-render-failed'))""",
        timeout=TIMEOUT_MS,
    )
    diagrams = page.eval_on_selector_all(
        ".mermaid",
        """els => els.map(e => ({
               failed: e.hasAttribute('data-mermaid-render-failed'),
               nodes: e.querySelectorAll(':scope > svg .mindmap-node').length,
               kind: (e.querySelector('svg[aria-roledescription="error"]')
                      || e.querySelector(':scope > svg'))?.getAttribute('aria-roledescription'),
               text: (c => {  // the words of the diagram, without its CSS
                   c.querySelectorAll('style').forEach(s => s.remove());
                   return c.textContent.replace(/\\s+/g, ' ').trim();
               })(e.cloneNode(true))}))""",
    )
    for diagram in diagrams:
        assert not diagram["failed"], f"Mermaid failed to render: {diagram['text'][:200]}"
        assert "Syntax error" not in diagram["text"], diagram["text"][:200]
        assert diagram["kind"] not in (None, "error"), diagram
    for source, diagram in zip(soup.select(".mermaid"), diagrams, strict=True):
        lines = [line.strip() for line in source.get_text().strip().splitlines()]
        if lines[0] == "mindmap":  # one node per line, bar comments and decorations
            nodes = [line for line in lines[1:] if line and not line.startswith(("%%", "::"))]
            assert diagram["kind"] == "mindmap", diagram
            assert diagram["nodes"] == len(nodes), (diagram["nodes"], nodes)
    if is_landing:
        assert "mindmap" in [d["kind"] for d in diagrams], diagrams


def _check_widgets(page, soup: BeautifulSoup) -> None:
    states = soup.find_all("script", type=WIDGET_STATE)
    if not states:
        return
    state = {k: v for s in states for k, v in json.loads(s.string)["state"].items()}
    views = [json.loads(s.string)["model_id"] for s in soup.find_all("script", type=WIDGET_VIEW)]
    assert views, "widget state is saved but no widget view is displayed"
    models = _reachable_models(state, views)
    sliders = sum(m["model_name"].endswith("SliderModel") for m in models)
    pngs = sum(
        "image/png" in output.get("data", {})
        for m in models
        if m["model_name"] == "OutputModel"
        for output in m["state"].get("outputs", [])
    )
    # libembed puts a .widget-subarea before each view script and renders the view in it.
    page.wait_for_function(
        """n => [...document.querySelectorAll('.widget-subarea')]
                   .filter(e => e.querySelector('.jupyter-widgets')).length >= n""",
        arg=len(views),
        timeout=TIMEOUT_MS,
    )
    if sliders:
        page.wait_for_function(
            "n => document.querySelectorAll('.widget-slider').length >= n",
            arg=sliders,
            timeout=TIMEOUT_MS,
        )
    if pngs:
        page.wait_for_function(
            """n => [...document.querySelectorAll('.widget-output img')]
                       .filter(img => img.complete && img.naturalWidth > 0).length >= n""",
            arg=pngs,
            timeout=TIMEOUT_MS,
        )


def test_every_built_page_is_tested(html_dir: Path) -> None:
    assert built_pages(html_dir) == sorted(expected_pages())


@pytest.mark.parametrize("page_path", expected_pages())
def test_page_renders_offline(browser, base_url: str, html_dir: Path, page_path: str) -> None:
    from playwright.sync_api import Error as PlaywrightError

    source = html_dir / page_path
    assert source.is_file(), f"{page_path} was not built"
    soup = BeautifulSoup(source.read_text(encoding="utf-8"), "html.parser")
    redirect = soup.find("meta", attrs={"http-equiv": "Refresh"})

    context = browser.new_context()  # a fresh cache: every file of the page is fetched
    try:
        page = context.new_page()
        visit = PageVisit(page)
        context.route("**/*", visit.route)
        response = page.goto(base_url + page_path, wait_until="load", timeout=TIMEOUT_MS)
        assert response is not None and response.status == 200, page_path
        if redirect is not None:  # index.html sends the reader to the landing page
            target = redirect["content"].split("url=", 1)[1]
            page.wait_for_url(base_url + target, wait_until="load", timeout=TIMEOUT_MS)
            soup = BeautifulSoup((html_dir / target).read_text(encoding="utf-8"), "html.parser")

        is_landing = page.url == base_url + landing_page()
        try:
            _check_math(page, soup)
            _check_mermaid(page, soup, is_landing)
            _check_widgets(page, soup)
            page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        except PlaywrightError as error:  # a timeout or a script error: say what happened
            pytest.fail(f"{error}\n{visit.summary()}")

        assert not visit.errors, visit.summary()
        assert not visit.failed, visit.summary()
        assert not visit.blocked, visit.summary()
        assert not visit.console_errors, visit.summary()
    finally:
        context.close()
