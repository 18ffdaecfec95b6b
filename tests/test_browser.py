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
- saved widget state was drawn: one view per saved view, a slider for every slider model,
  an image for every PNG inside an Output widget; and it looks saved: every control
  disabled and inert, under a visible "Make this page live" button (Thebe itself is not
  even requested until it is pressed).

The live tests at the end run ``scripts/serve_live.py`` (the book and a Jupyter server on
127.0.0.1, free ports, a new token), make chapters 1, 5 and 7 live, move a slider or type,
and compare the page with what the companion computes; they also make the page face an
unreachable server and a kernel restart.

Every page means every HTML file outside the asset folders, ``search.html`` and
``genindex.html`` included; ``test_every_built_page_is_tested`` fails when the site has a
page that the toc-derived parameter list misses.

Without ``/usr/bin/chromium`` (``apt-get install chromium``) or the ``playwright`` package
(``pip install -r requirements.txt``) the tests are skipped, except under CI (``CI`` set),
where they fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import ROOT

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


def _declares_python_modules(files: list[str]) -> bool:
    """Whether a page documents a Python module (then Sphinx writes py-modindex.html)."""
    for name in files:
        for source in ROOT.glob(f"{name}.*"):
            if re.search(r"automodule|py:module", source.read_text(encoding="utf-8")):
                return True
    return False


def expected_pages() -> list[str]:
    """The site's pages, relative to the HTML folder: the toc's files and Sphinx's own."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"], *_toc_files(toc.get("parts", []) + toc.get("chapters", []))]
    sphinx = ["genindex.html", "search.html"]
    if _declares_python_modules(files):
        sphinx.append("py-modindex.html")
    return ["index.html", *(f"{f}.html" for f in files), *sphinx]


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


class PageVisit:
    """What one page did while it loaded: errors, failed and blocked requests."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.blocked: list[str] = []
        self.requested: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("requestfailed", self._request_failed)
        page.on("request", lambda request: self.requested.append(request.url))
        page.on("websocket", lambda socket: self.requested.append(socket.url))

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
    _check_saved_widgets_look_saved(page, len(views))


def _check_saved_widgets_look_saved(
    page, n_views: int, button_text: str = "Make this page live"
) -> None:
    """Until the page is live, no saved control can move, and the button that makes it live shows.

    Every saved widget output is inert (no pointer, no focus) and drawn with disabled
    controls, under a bar with a visible "Make this page live" button and a caption.
    """
    saved = page.evaluate(
        """() => [...document.querySelectorAll('.llm-live-saved')].map(s => ({
               inert: s.inert,
               bar: s.previousElementSibling?.classList.contains('llm-live-bar') ?? false,
               enabled: [...s.querySelectorAll('input, select, textarea, button')]
                            .filter(e => !e.disabled).length,
               sliders: s.querySelectorAll('.noUi-target').length,
               slidersDisabled: s.querySelectorAll('.noUi-target[disabled]').length,
               editable: s.querySelectorAll('[contenteditable="true"]').length}))"""
    )
    assert 1 <= len(saved) <= n_views, f"{n_views} saved views but {len(saved)} saved outputs"
    for output in saved:
        assert output["inert"] and output["bar"], output
        assert output["enabled"] == 0 and output["editable"] == 0, output
        assert output["sliders"] == output["slidersDisabled"], output
    buttons = page.locator(".llm-live-button")
    assert buttons.count() == len(saved)
    for i in range(buttons.count()):
        assert buttons.nth(i).is_visible() and buttons.nth(i).is_enabled()
        assert buttons.nth(i).text_content() == button_text
    if button_text == "Make this page live":
        assert "Saved picture" in page.locator(".llm-live-status").first.text_content()


def _check_code_fits(page) -> None:
    """No code or output block is wider than its box at 1280 px (scripts/book.css), folded
    ones (solutions, hidden code) unfolded first: a reader would have to scroll sideways to
    see the end of a line."""
    cut = page.evaluate(
        """() => {
            document.querySelectorAll('details').forEach(d => { d.open = true; });
            document.querySelectorAll('.toggle-hidden')
                .forEach(e => e.classList.remove('toggle-hidden'));
            return [...document.querySelectorAll('article pre')]
                .filter(pre => pre.getClientRects().length && !pre.classList.contains('mermaid'))
                .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
                .map(pre => pre.textContent.split('\\n')
                    .reduce((a, line) => line.length > a.length ? line : a, ''));
        }"""
    )
    assert not cut, "lines cut off at 1280 px (longest of each block):\n" + "\n".join(cut)


def test_every_built_page_is_tested(html_dir: Path) -> None:
    assert built_pages(html_dir) == sorted(expected_pages())


@pytest.mark.parametrize("page_path", expected_pages())
def test_page_renders_offline(browser, base_url: str, html_dir: Path, page_path: str) -> None:
    from playwright.sync_api import Error as PlaywrightError

    source = html_dir / page_path
    assert source.is_file(), f"{page_path} was not built"
    soup = BeautifulSoup(source.read_text(encoding="utf-8"), "html.parser")
    redirect = soup.find("meta", attrs={"http-equiv": "Refresh"})

    # A fresh cache, so every file of the page is fetched; a laptop's 1280 px window.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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
            _check_code_fits(page)
        except PlaywrightError as error:  # a timeout or a script error: say what happened
            pytest.fail(f"{error}\n{visit.summary()}")

        assert not visit.errors, visit.summary()
        assert not visit.failed, visit.summary()
        assert not visit.blocked, visit.summary()
        assert not visit.console_errors, visit.summary()
        # Thebe is loaded only when a reader asks for a live page.
        assert not [u for u in visit.requested if "/vendor/thebe/" in u], visit.requested
    finally:
        context.close()


def test_the_mindmaps_are_legible_on_a_phone(browser, base_url: str) -> None:
    """At 390 px a mindmap's words stay at 10 px or more (its box scrolls sideways, the page
    does not), and at 1280 px each mindmap still fits the column."""
    for width, scrolls in ((390, True), (1280, False)):
        context = browser.new_context(viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            page.goto(base_url + landing_page(), wait_until="load", timeout=TIMEOUT_MS)
            page.wait_for_function(
                "() => document.querySelectorAll("
                "'.mermaid-container > .mermaid > svg[aria-roledescription=mindmap]').length === 3",
                timeout=TIMEOUT_MS,
            )
            maps = page.evaluate(
                """() => [...document.querySelectorAll('.mermaid-container > .mermaid > svg')]
                    .filter(s => s.getAttribute('aria-roledescription') === 'mindmap')
                    .map(s => {
                        const box = s.getBoundingClientRect();
                        const scale = Math.min(box.width / s.viewBox.baseVal.width,
                                               box.height / s.viewBox.baseVal.height);
                        const words = s.querySelector('.mindmap-node text, .mindmap-node span');
                        const boxes = [s.parentElement, s.closest('.mermaid-container')];
                        return {px: scale * parseFloat(getComputedStyle(words).fontSize),
                                scrolls: boxes.some(b => b.scrollWidth > b.clientWidth)};
                    })"""
            )
            assert len(maps) == 3, maps
            for found in maps:
                assert found["px"] >= 10, (width, maps)
                assert found["scrolls"] == scrolls, (width, maps)
            page_width = page.evaluate("document.scrollingElement.scrollWidth")
            assert page_width <= width, (width, page_width)
        finally:
            context.close()


# ---- Live pages: the widgets run on a real kernel --------------------------------------
#
# ``python scripts/serve_live.py`` (the README's command for reading the book live offline)
# serves the built site and starts a Jupyter server on 127.0.0.1 (free ports, a new token).
# Chromium opens a chapter with that server in its address, presses "Make this page live",
# moves a control and checks that the kernel's answer on the page is what the companion
# computes for the new input, with the chapter's own objects: the test runs the chapter's
# code cells up to its widget in this process, as the kernel does. Every request of a live
# page goes to the book or to the Jupyter server: all other hosts are blocked and counted.

LIVE_TIMEOUT_MS = 180_000  # load Thebe, start a kernel, run a chapter's code (about 5-15 s)
ANSWER_TIMEOUT_MS = 30_000  # the kernel's answer to one move of a control
CH1 = "01_numbers_in_numbers_out"
CH5 = "05_predicting_the_next_character"
CH7 = "07_sub_word_tokenizers"


@dataclasses.dataclass
class LiveServers:
    """The book and the Jupyter server of one ``scripts/serve_live.py``."""

    book_url: str  # http://127.0.0.1:<port>/
    jupyter_url: str  # http://127.0.0.1:<port>/
    token: str

    def page_url(self, chapter: str, jupyter_url: str | None = None) -> str:
        """A chapter's address with ``?jupyter=...&token=...``, as serve_live.py prints it."""
        query = urlencode({"jupyter": jupyter_url or self.jupyter_url, "token": self.token})
        return f"{self.book_url}book/{chapter}.html?{query}"

    def api(self, method: str, path: str) -> object:
        """Call the Jupyter server's REST API with the token."""
        request = urllib.request.Request(
            self.jupyter_url + path,
            method=method,
            data=b"" if method == "POST" else None,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body else None

    def hosts(self) -> set[str]:
        return {urlsplit(self.book_url).netloc, urlsplit(self.jupyter_url).netloc}


@pytest.fixture(scope="module")
def live_servers(html_dir: Path) -> Iterator[LiveServers]:
    """``python scripts/serve_live.py --port 0 --jupyter-port 0`` on the built site."""
    command = [sys.executable, str(ROOT / "scripts" / "serve_live.py"), "--html", str(html_dir)]
    process = subprocess.Popen(
        [*command, "--port", "0", "--jupyter-port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:  # keep draining the pipe, or the servers block on a full one
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("serve_live: open "):
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(90) and process.poll() is None, "".join(lines)
        url = next(line for line in lines if line.startswith("serve_live: open ")).split()[-1]
        query = parse_qs(urlsplit(url).query)
        book = url.split("book/")[0]
        yield LiveServers(book, query["jupyter"][0], query["token"][0])
    finally:
        process.send_signal(signal.SIGTERM)  # serve_live.py then stops its Jupyter server
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def chapter_namespace(chapter: str) -> dict:
    """The chapter's variables just before its first widget: its code cells, run in order."""
    import matplotlib.pyplot as plt

    notebook = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__main__"}
    cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    with contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(cells):
            if any(WIDGET_VIEW in output.get("data", {}) for output in cell["outputs"]):
                break
            source = "".join(cell["source"])
            exec(compile(source, f"{chapter}.ipynb, code cell {index}", "exec"), namespace)
    plt.close("all")
    return namespace


def _open(browser, url: str):
    """A fresh context and page at ``url``, its saved widgets drawn; requests recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    visit = PageVisit(page)
    context.route("**/*", visit.route)
    page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
    page.wait_for_selector(".llm-live-saved .widget-subarea .jupyter-widgets", timeout=TIMEOUT_MS)
    return context, page, visit


def _press_make_live(page) -> None:
    button = page.locator(".llm-live-button").first
    assert button.is_visible() and button.text_content() == "Make this page live"
    button.click()


def _wait_live(page, visit: PageVisit) -> float:
    """Wait until the page is live (or failed: then fail); return the seconds it took."""
    page.wait_for_selector(
        '.llm-live-bar[data-state="live"], .llm-live-bar[data-state="failed"]',
        timeout=LIVE_TIMEOUT_MS,
    )
    status = page.locator(".llm-live-status").first.text_content()
    assert page.locator(".llm-live-bar").first.get_attribute("data-state") == "live", (
        f"{status}\n{visit.summary()}"
    )
    assert page.locator(".llm-live-saved").first.is_hidden()
    assert page.locator(".llm-live-output").first.is_visible()
    return float(page.evaluate("document.documentElement.dataset.liveSeconds"))


def _only_book_and_kernel(visit: PageVisit, servers: LiveServers) -> None:
    hosts = {urlsplit(url).netloc for url in visit.requested if "://" in url}
    hosts -= {""}
    assert hosts <= servers.hosts(), f"requests left the book and its kernel: {hosts}"
    assert not visit.blocked, visit.summary()


def _slider(output, label: str):
    """The slider of ``output`` whose description is ``label``."""
    name = output.page.locator("label.widget-label", has_text=re.compile(f"^{re.escape(label)}$"))
    return output.locator(".widget-slider").filter(has=name)


def _drag(page, slider, dx: float) -> None:
    """Drag the slider's handle ``dx`` pixels, as a reader does with the mouse."""
    handle = slider.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=10)
    page.mouse.up()


def _wait_text(page, selector: str, expected: str, index: int = 0) -> None:
    """Wait until the ``index``-th element of ``selector`` reads ``expected``; say what it read."""
    try:
        page.wait_for_function(
            "([s, i, t]) => document.querySelectorAll(s)[i]?.textContent === t",
            arg=[selector, index, expected],
            timeout=ANSWER_TIMEOUT_MS,
        )
    except Exception as error:
        found = page.locator(selector).nth(index).text_content()
        raise AssertionError(
            f"{selector}[{index}] reads {found!r}, expected {expected!r}"
        ) from error


def _verdict(net, values) -> str:
    """What chapter 1's widget writes under its sliders for the inputs ``values``."""
    from companion import forward, interpret

    outputs = forward(np.asarray(values, dtype=float), net).outputs
    return f"Prediction: {interpret(outputs)} (outputs {outputs[0]:.1f} and {outputs[1]:.1f})"


LIVE_VERDICT = ".llm-live-output .widget-html-content"


def test_chapter_1_live_slider_redraws_what_the_companion_computes(browser, live_servers):
    context, page, visit = _open(browser, live_servers.page_url(CH1))
    try:
        saved = page.locator(".llm-live-saved")
        saved_r = _slider(saved, "R")
        saved_readout = saved_r.locator(".widget-readout").text_content()
        saved_verdict = saved.locator(".widget-html-content").first.text_content()
        _press_make_live(page)

        # Before the kernel is ready, the saved slider cannot be moved: neither dragged
        # (it lets the pointer through) nor reached with the keyboard (it is inert).
        _drag(page, saved_r, 80)
        saved_r.locator(".noUi-handle").focus()
        page.keyboard.press("End")
        assert saved_r.locator(".widget-readout").text_content() == saved_readout
        assert page.evaluate("!document.activeElement.closest('.llm-live-saved')")

        namespace = chapter_namespace(CH1)
        seconds = _wait_live(page, visit)
        live = page.locator(".llm-live-output")
        r = _slider(live, "R")
        # The live widget starts where the saved one was, and says the same.
        assert r.locator(".widget-readout").text_content() == saved_readout
        assert live.locator(".widget-html-content").first.text_content() == saved_verdict

        picture = live.locator(".widget-output img").first.get_attribute("src")
        _drag(page, r, 70)
        page.wait_for_function(
            "([s, t]) => document.querySelector(s).textContent !== t",
            arg=[f"{LIVE_VERDICT}", saved_verdict],
            timeout=ANSWER_TIMEOUT_MS,
        )
        values = [
            float(_slider(live, name).locator(".widget-readout").text_content())
            for name in ("R", "G", "B", "volume")
        ]
        assert values[0] != float(saved_readout)
        _wait_text(page, LIVE_VERDICT, _verdict(namespace["net"], values))
        # The drawing follows the verdict: a new picture, drawn for the new inputs.
        page.wait_for_function(
            """([s, old]) => { const img = document.querySelector(s);
                   return img && img.src !== old && img.complete && img.naturalWidth > 0; }""",
            arg=[".llm-live-output .widget-output img", picture],
            timeout=ANSWER_TIMEOUT_MS,
        )
        print(f"chapter 1 live in {seconds:.1f} s")
        assert not visit.errors and not visit.console_errors, visit.summary()
        _only_book_and_kernel(visit, live_servers)
    finally:
        context.close()


def test_chapter_5_live_temperature_writes_what_generate_writes(browser, live_servers):
    from companion import generate

    context, page, visit = _open(browser, live_servers.page_url(CH5))
    try:
        _press_make_live(page)
        namespace = chapter_namespace(CH5)
        seconds = _wait_live(page, visit)
        live = page.locator(".llm-live-output")
        written = live.locator(".widget-html-content").first.text_content()
        heat = _slider(live, "temperature")
        saved_heat = heat.locator(".widget-readout").text_content()
        _drag(page, heat, 60)
        page.wait_for_function(
            "([e, t]) => e.querySelector('.widget-readout').textContent !== t",
            arg=[heat.element_handle(), saved_heat],
            timeout=ANSWER_TIMEOUT_MS,
        )
        temperature = float(heat.locator(".widget-readout").text_content())
        prompt = live.locator(".widget-text input").first.input_value()
        seed = int(live.locator(".widget-text input").nth(1).input_value())
        length = int(_slider(live, "characters").locator(".widget-readout").text_content())
        tok, alphabet = namespace["tok"], namespace["ALPHABET"]
        ids = tok.encode(prompt)
        out = generate(
            namespace["predict"],
            ids,
            length,
            context_length=namespace["CONTEXT"],
            temperature=temperature,
            rng=np.random.default_rng(seed),
            pad_id=alphabet.index(" "),  # as the chapter's widget cell passes it
        )
        expected = prompt + tok.decode(out[len(ids) :])
        assert expected != written, "another temperature should write another text"
        _wait_text(page, LIVE_VERDICT, expected)
        print(f"chapter 5 live in {seconds:.1f} s; temperature {temperature}")
        assert not visit.errors and not visit.console_errors, visit.summary()
        _only_book_and_kernel(visit, live_servers)
    finally:
        context.close()


def test_chapter_7_live_text_box_shows_the_tokenizers_ids(browser, live_servers):
    context, page, visit = _open(browser, live_servers.page_url(CH7))
    try:
        _press_make_live(page)
        namespace = chapter_namespace(CH7)
        seconds = _wait_live(page, visit)
        live = page.locator(".llm-live-output")
        box = live.locator(".widget-text input").first
        text = "To be, or not to be: that is the question."
        box.click()
        page.keyboard.press("Control+A")
        box.press_sequentially(text, delay=10)
        views = live.locator(".widget-html-content")
        assert views.count() == 3
        for index, size in enumerate((256, 512, 1024)):
            ids = namespace["tokenizers"][size].encode(text)
            count = f"{len(text)} characters \u2192 {len(ids)} tokens"
            try:
                page.wait_for_function(
                    "([e, a, b]) => e.textContent.includes(a) && e.textContent.includes(b)",
                    arg=[views.nth(index).element_handle(), count, f"ids: {ids}"],
                    timeout=ANSWER_TIMEOUT_MS,
                )
            except Exception as error:
                raise AssertionError(
                    f"vocabulary {size}: {views.nth(index).text_content()!r}; expected "
                    f"{count!r} and ids {ids}"
                ) from error
        print(f"chapter 7 live in {seconds:.1f} s")
        assert not visit.errors and not visit.console_errors, visit.summary()
        _only_book_and_kernel(visit, live_servers)
    finally:
        context.close()


def test_unreachable_kernel_says_so_and_keeps_the_saved_page(browser, live_servers):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind((LOCAL_HOST, 0))
        nowhere = f"http://{LOCAL_HOST}:{probe.getsockname()[1]}/"
    context, page, visit = _open(browser, live_servers.page_url(CH1, jupyter_url=nowhere))
    try:
        _press_make_live(page)
        page.wait_for_selector('.llm-live-bar[data-state="failed"]', timeout=LIVE_TIMEOUT_MS)
        status = page.locator(".llm-live-status").first.text_content()
        assert f"Could not reach the Jupyter server at {nowhere}" in status, status
        assert "serve_live.py" in status and "saved pictures stay" in status, status
        button = page.locator(".llm-live-button").first
        assert button.is_visible() and button.is_enabled() and button.text_content() == "Try again"
        # The static page keeps working: the saved widgets and their pictures are all there.
        saved = page.locator(".llm-live-saved")
        assert saved.is_visible() and saved.locator(".widget-slider").count() == 4
        assert page.evaluate(
            """() => [...document.querySelectorAll('.llm-live-saved .widget-output img')]
                       .every(img => img.complete && img.naturalWidth > 0)"""
        )
        assert not page.locator(".llm-live-output:visible").count()
        _check_saved_widgets_look_saved(page, 1, button_text="Try again")
        assert not visit.errors, visit.summary()
        nowhere_host = urlsplit(nowhere).netloc
        hosts = {urlsplit(u).netloc for u in visit.requested if "://" in u}
        assert hosts <= {urlsplit(live_servers.book_url).netloc, nowhere_host}, hosts
    finally:
        context.close()


def test_kernel_restart_pauses_the_widgets_and_runs_the_chapter_again(browser, live_servers):
    context, page, visit = _open(browser, live_servers.page_url(CH1))
    try:
        _press_make_live(page)
        namespace = chapter_namespace(CH1)
        _wait_live(page, visit)
        kernel = page.evaluate("document.documentElement.dataset.liveKernel")
        live_servers.api("POST", f"api/kernels/{kernel}/restart")
        # The page notices, greys the live widgets out (they would do nothing now), runs the
        # chapter's code again in the new kernel, and is live again.
        page.wait_for_selector('.llm-live-bar[data-state="restarting"]', timeout=TIMEOUT_MS)
        assert "restarted" in page.locator(".llm-live-status").first.text_content()
        assert page.evaluate("document.querySelector('.llm-live-output').inert")
        _wait_live(page, visit)
        live = page.locator(".llm-live-output")
        _drag(page, _slider(live, "B"), 60)
        page.wait_for_function(
            "([e]) => e.querySelector('.widget-readout').textContent !== '56.00'",
            arg=[_slider(live, "B").element_handle()],
            timeout=ANSWER_TIMEOUT_MS,
        )
        values = [
            float(_slider(live, name).locator(".widget-readout").text_content())
            for name in ("R", "G", "B", "volume")
        ]
        _wait_text(page, LIVE_VERDICT, _verdict(namespace["net"], values))
        assert not visit.errors, visit.summary()
        _only_book_and_kernel(visit, live_servers)
    finally:
        context.close()
