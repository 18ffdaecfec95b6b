"""The learners' notebooks (learners/) and environment (binder/) are what readers get.

``scripts/make_learner_notebooks.py`` writes them from ``book/``. These tests check that

- the committed files are exactly what the script writes now (so they fail while a chapter
  changed and the script was not run), and cover every notebook of the table of contents;
- no learner's notebook holds raw MyST (roles, directives, options, targets, glue
  placeholders), every glued number of the chapter is pasted into its text, and no
  solution is run or visible: each solution cell has no output and a folded input, and no
  stored output anywhere is a checker's verdict;
- each construct converts as the script's docstring says (a small book made here);
- the learner's environment pins the same versions as requirements.txt, holds what a
  learner needs and no developer tool, and is closed: every requirement of every pinned
  package is pinned too, at a version it accepts (what ``pip check`` checks);
- the built site's Colab and Binder buttons open the learner's notebook and its download
  is that notebook (when ``LLM_MYSTERIES_BUILT_HTML`` names a built site, as in
  ``scripts/test.sh``);
- in a real browser, JupyterLab started here on 127.0.0.1 shows chapter 7's learner's
  notebook with its numbers, without raw syntax, and with no solution visible until the
  learner unfolds one. Without Chromium, Playwright or JupyterLab this test is skipped,
  except under CI, where it fails. Set ``LLM_MYSTERIES_SCREENSHOTS`` to a folder to keep
  its screenshots (before and after a solution is unfolded).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import ROOT, fail_or_skip


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


make = _load("make_learner_notebooks", ROOT / "scripts" / "make_learner_notebooks.py")
downloads = _load("learner_downloads", ROOT / "_ext" / "learner_downloads.py")

CHAPTERS = make.toc_chapters()
LEARNER_NOTEBOOKS = [ROOT / c.learner_relpath for c in CHAPTERS]
BROWSER_CHAPTER = "book/07_sub_word_tokenizers"  # glued numbers and exercises
CHECKER_VERDICT = re.compile(r"Exercise \d+(\.\d+)*: (Right|Not yet|Wrong)")
DEVELOPER_TOOLS = {
    "pytest", "nbval", "ruff", "mypy", "playwright", "codespell", "hypothesis", "nbqa",
    "jupyter-book", "sphinx-book-theme", "pytest-xdist", "coverage",
}  # fmt: skip


def _nb(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _markdown(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _is_solution(cell: dict) -> bool:
    return cell["cell_type"] == "code" and "".join(cell["source"]).startswith(
        "# @title Solution to exercise"
    )


def _glue_roles(text: str) -> Iterator[tuple[str, str]]:
    """(role, content) of every glue role in a chapter's markdown."""
    yield from re.findall(r"\{(glue(?::\w*)?)\}`([^`]+)`", text)


# --------------------------------------------------------------------------- up to date


def test_learner_files_are_what_the_script_writes_now():
    problems = make.out_of_date(ROOT)
    assert not problems, "\n".join([*problems, "run: python scripts/make_learner_notebooks.py"])


def test_every_chapter_of_the_toc_has_a_learner_notebook():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = re.findall(r"file: (\S+)", yaml.safe_dump(toc))
    notebooks = [f for f in listed if (ROOT / f"{f}.ipynb").is_file()]
    assert len(notebooks) >= 10 and [c.docname for c in CHAPTERS] == notebooks
    for path in LEARNER_NOTEBOOKS:
        assert path.is_file(), f"{path.relative_to(ROOT)}: run scripts/make_learner_notebooks.py"


def test_chapters_are_numbered_as_the_book_numbers_them():
    numbers = {c.docname: c.number for c in CHAPTERS}
    assert numbers["book/01_numbers_in_numbers_out"] == "1"
    assert numbers["book/07_sub_word_tokenizers"] == "7"


# --------------------------------------------------------------------------- contents


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: Path(c.docname).name)
def test_learner_notebook_has_no_raw_myst(chapter):
    nb = _nb(ROOT / chapter.learner_relpath)
    for text in _markdown(nb):
        found = [m.group(0) for m in make.RAW_MYST.finditer(text)]
        assert not found, f"raw MyST {found} in:\n{text[:500]}"
        for raw in ("{glue", "{term}", "{doc}", "{ref}", "{cite", "```{", ":::{"):
            assert raw not in text, f"{raw!r} in:\n{text[:500]}"
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            assert not make.is_glue_record(output), "a glue record is left in the outputs"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: Path(c.docname).name)
def test_learner_notebook_shows_the_glued_numbers(chapter):
    from myst_nb.core.variables import format_plain_text

    book_nb = _nb(chapter.path)
    values = make.glued_values(book_nb)
    text = "\n".join(_markdown(_nb(ROOT / chapter.learner_relpath)))
    roles = [r for t in _markdown(book_nb) for r in _glue_roles(t)]
    for role, content in roles:
        key, fmt = content.rsplit(":", 1) if role == "glue:text" and ":" in content else (
            content, "")  # fmt: skip
        shown = format_plain_text(values[key]["text/plain"], fmt)
        assert make.escape_markdown(shown) in text, f"{content} = {shown} is not in the text"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: Path(c.docname).name)
def test_no_solution_is_run_or_visible(chapter):
    book_nb = _nb(chapter.path)
    nb = _nb(ROOT / chapter.learner_relpath)
    in_solution, expected = False, 0
    for cell in book_nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "{solution-start}" in source:
            in_solution = True
        elif cell["cell_type"] == "markdown" and "{solution-end}" in source:
            in_solution = False
        elif in_solution and cell["cell_type"] == "code":
            expected += 1
    solutions = [c for c in nb["cells"] if _is_solution(c)]
    assert len(solutions) == expected
    for cell in solutions:
        assert cell["outputs"] == [] and cell["execution_count"] is None
        assert cell["metadata"]["jupyter"]["source_hidden"] is True  # JupyterLab, Notebook 7
        assert cell["metadata"]["cellView"] == "form"  # Colab: a folded form
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            verdict = CHECKER_VERDICT.search(json.dumps(output))
            assert verdict is None, f"a checker's verdict is stored: {verdict.group(0)}"
    exercises = sum(text.count("{exercise}") for text in _markdown(book_nb))
    headings = [t for t in _markdown(nb) if re.match(r"### Exercise \d", t)]
    assert len(headings) == exercises


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: Path(c.docname).name)
def test_learner_notebook_keeps_the_code_and_the_first_cell(chapter):
    def code(nb: dict) -> list[str]:
        sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        return [re.sub(r"^# @title .*\n", "", s) for s in sources]

    book_code = code(_nb(chapter.path))
    learner_code = [s for s in code(_nb(ROOT / chapter.learner_relpath)) if s in book_code]
    assert learner_code == book_code  # every cell, in order (plus the answer cells)
    first = next(
        c for c in _nb(ROOT / chapter.learner_relpath)["cells"] if c["cell_type"] == "code"
    )
    assert "except ModuleNotFoundError" in "".join(first["source"])  # Colab's install


# --------------------------------------------------------------------------- conversion


def _mini_book(tmp_path: Path) -> Path:
    """A two-chapter book with one of every construct the script converts."""
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: One\n    numbered: true\n"
        "    chapters:\n      - file: book/01_first\n      - file: book/02_second\n",
        encoding="utf-8",
    )
    (tmp_path / "book" / "intro.md").write_text("# Welcome\n", encoding="utf-8")
    (tmp_path / "book" / "references.bib").write_text(
        "@misc{patel2024, author = {Patel, Rohit}, title = {{LLMs}}, year = {2024}}\n"
        "@misc{many2020, author = {A, B and C, D and E, F}, title = {T}, year = {2020}}\n",
        encoding="utf-8",
    )

    def glue_output(name: str, value: str) -> dict:
        return {
            "output_type": "display_data",
            "data": {"application/papermill.record/text/plain": value},
            "metadata": {
                "scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}
            },
        }  # fmt: skip

    def md(text: str) -> dict:
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    def code(text: str, outputs=(), tags=()) -> dict:
        meta = {"tags": list(tags)} if tags else {}
        return {"cell_type": "code", "metadata": meta, "source": text,
                "outputs": list(outputs), "execution_count": 1}  # fmt: skip

    stream = {"output_type": "stream", "name": "stdout", "text": "42\n"}
    first = [
        md("# First\n\nThe **{term}`tokens <token>`** and a {term}`softmax` (软最大)."),
        code(
            "try:\n    import companion\nexcept ModuleNotFoundError:\n    pass", tags=["hide-cell"]
        ),
        code("glue('loss', 0.123456)", [glue_output("loss", "0.123456"), stream], ["remove-input"]),
        code("x = 1", [stream], ["remove-cell"]),
        md(
            "A loss of {glue:text}`loss:.2f`, or {glue:}`loss`, {cite}`patel2024,many2020`.\n"
            "See {doc}`02_second`, {doc}`the welcome <intro>` and {ref}`there <sec-x>`.\n"
            "Keep `{term}` in code and $x^2$ in math.\n\n(sec-y)=\n## Why\n\n"
            "```{note}\nA note with $y$.\n```\n\n```{warning} Careful\nHot.\n```\n\n"
            "```python\n{term}`in a fence`\n```\n% a comment\n"
        ),
        md("```{exercise}\n:label: ex-1-1\n\nCompute **2 + 2**.\n```"),
        md("```{solution-start} ex-1-1\n:class: dropdown\n```"),
        md("Add them."),
        code('answer = 4\ncheck("1.1", answer)', [stream], []),
        md("```{solution-end}\n```"),
        code("y = x + 1", [stream], ["hide-input"]),
    ]
    second = [md("# Second\n\n(sec-x)=\n## X\n\nBack to {ref}`sec-y`.")]
    for name, cells in (("01_first", first), ("02_second", second)):
        nb = {
            "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }  # fmt: skip
        for i, cell in enumerate(nb["cells"]):
            cell["id"] = f"cell-{i}"
        (tmp_path / "book" / f"{name}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return tmp_path


def test_each_construct_converts_as_documented(tmp_path):
    root = _mini_book(tmp_path)
    written = make.learner_notebooks(root)
    assert sorted(written) == ["learners/01_first.ipynb", "learners/02_second.ipynb"]
    nb = json.loads(written["learners/01_first.ipynb"])
    cells = nb["cells"]
    for cell in cells:
        cell["source"] = "".join(cell["source"])
    text = "\n\n".join(_markdown(nb))
    # roles
    assert text.startswith("# 1. First\n\nThe **tokens** and a **softmax** (软最大).")
    assert "A loss of 0.12, or 0.123456, (Patel, 2024; A et al., 2020)." in text
    assert "See [Second](02_second.ipynb), the welcome and [there](02_second.ipynb)." in text
    assert "Keep `{term}` in code and $x^2$ in math." in text
    assert "```python\n{term}`in a fence`\n```" in text  # code is left alone
    assert "(sec-y)=" not in text and "% a comment" not in text and "## Why" in text
    # directives
    assert "> **Note**\n>\n> A note with $y$." in text
    assert "> **Careful**\n>\n> Hot." in text
    assert "### Exercise 1.1\n\nCompute **2 + 2**." in text and ":label:" not in text
    # the solution: an answer cell, a line, the reasoning folded, the code folded and not run
    start = next(i for i, c in enumerate(cells) if "### Exercise 1.1" in "".join(c["source"]))
    answer_cell, line, reasoning, solution = cells[start + 1 : start + 5]
    assert answer_cell["source"] == (
        '# Exercise 1.1: your code here, then check your answer:\n# check("1.1", answer)'
    )
    assert answer_cell["outputs"] == []
    assert line["source"].startswith("**Solution to exercise 1.1.**")
    assert reasoning["source"].startswith("<details>\n<summary><b>Solution to exercise 1.1")
    assert "Add them." in reasoning["source"] and reasoning["source"].endswith("</details>")
    assert (
        solution["source"] == '# @title Solution to exercise 1.1\nanswer = 4\ncheck("1.1", answer)'
    )
    assert solution["outputs"] == [] and solution["execution_count"] is None
    assert solution["metadata"] == {"cellView": "form", "jupyter": {"source_hidden": True}}
    # tags: code kept, input folded; remove-cell loses its outputs; glue records go
    by_source = {"".join(c["source"]).split("\n")[0]: c for c in cells if c["cell_type"] == "code"}
    assert by_source["try:"]["metadata"]["jupyter"] == {"source_hidden": True}
    assert by_source["glue('loss', 0.123456)"]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": ["42\n"]}
    ]
    assert by_source["x = 1"]["outputs"] == []
    assert by_source["x = 1"]["metadata"]["jupyter"] == {"source_hidden": True}
    assert len(by_source["y = x + 1"]["outputs"]) == 1
    assert by_source["y = x + 1"]["metadata"]["jupyter"] == {"source_hidden": True}
    # references
    assert cells[-1]["source"].startswith("## References\n\n- Rohit Patel. LLMs. 2024.")
    # a reference into another chapter links to its learner's notebook
    second = json.loads(written["learners/02_second.ipynb"])
    assert "Back to [Why](01_first.ipynb)." in "".join(second["cells"][0]["source"])


def test_a_missing_glue_value_is_an_error(tmp_path):
    root = _mini_book(tmp_path)
    path = root / "book" / "02_second.ipynb"
    nb = _nb(path)
    nb["cells"][0]["source"] += "\n\n{glue:text}`nowhere:.2f`"
    path.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(ValueError, match="nowhere"):
        make.learner_notebooks(root)


def test_the_raw_syntax_scan_finds_raw_syntax():
    raws = ["{term}`x`", "{glue:text}`a:.2f`", "```{note}", ":label: ex-1-1", "{cite}`a`",
            ":class: dropdown", "```{solution-start} ex-1-1", "(sec-x)=", ":::{tip}"]  # fmt: skip
    for raw in raws:
        assert make.RAW_MYST.search(raw), raw
    assert not make.RAW_MYST.search("The **tokens** cost $x^2$ (Patel, 2024).")


# --------------------------------------------------------------------------- environment

BINDER = ROOT / "binder"


def _requirement_lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_learner_pins_agree_with_requirements_txt():
    lines = _requirement_lines(BINDER / "requirements.txt")
    assert lines[-1] == "-e ."  # the companion, from the clone
    for line in lines[:-1]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", line), line
    learner = make.pinned(BINDER / "requirements.txt")
    developer = make.pinned(ROOT / "requirements.txt")
    assert len(learner) == len(lines) - 1  # no package twice
    for name, (_, version) in learner.items():
        assert name in developer, f"{name} is not in requirements.txt"
        assert developer[name][1] == version, (name, version, developer[name][1])
    assert {"jupyterlab", "ipykernel", "ipywidgets", "matplotlib", "numpy", "myst-nb"} <= set(
        learner
    )
    assert not DEVELOPER_TOOLS & set(learner), DEVELOPER_TOOLS & set(learner)


def test_learner_environment_is_closed_under_its_requirements():
    """Every requirement of every pinned package is pinned, at an accepted version."""
    from importlib import metadata

    from packaging.requirements import Requirement

    learner = make.pinned(BINDER / "requirements.txt")
    companion = [Requirement(r) for r in metadata.requires("companion") or []]
    for requirement in companion:
        name = make._canonical(requirement.name)
        assert name in learner, f"the companion needs {name}"
        assert requirement.specifier.contains(learner[name][1], prereleases=True)
    for name, (_, version) in learner.items():
        assert metadata.version(name) == version, f"{name}: pip install -r requirements.txt"
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            needed = make._canonical(requirement.name)
            assert needed in learner, f"{name} needs {needed}, which is not pinned"
            assert requirement.specifier.contains(learner[needed][1], prereleases=True), (
                f"{name} needs {requirement}, pinned {learner[needed][1]}"
            )


def test_binder_uses_the_python_of_ci():
    # A binder/ folder makes Binder ignore the root's configuration files.
    assert (BINDER / "runtime.txt").read_text("utf-8") == (ROOT / "runtime.txt").read_text("utf-8")


def test_the_landing_page_and_readme_send_learners_to_their_notebooks():
    for page in (ROOT / "book" / "intro.md", ROOT / "README.md"):
        text = page.read_text(encoding="utf-8")
        assert "pip install -r binder/requirements.txt" in text, page.name
        assert "jupyter lab learners/" in text, page.name


# --------------------------------------------------------------------------- the web book


def test_launch_buttons_are_pointed_at_the_learner_notebook():
    source = "book/07_sub_word_tokenizers.ipynb"
    buttons = [
        {"label": "download-buttons", "buttons": [{"type": "link", "url": f"x/{source}"}]},
        {"label": "launch-buttons", "buttons": [
            {"type": "link", "url": f"https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/{source}"},
            {"type": "link", "url": f"https://colab.research.google.com/github/o/r/blob/main/{source}"},
            {"type": "javascript", "javascript": "initThebeSBT()"},
            {"type": "link", "url": "https://example.org/elsewhere"},
        ]},
    ]  # fmt: skip
    learner = downloads.learner_path(source)
    assert learner == "learners/07_sub_word_tokenizers.ipynb"
    wrong = downloads.point_launch_buttons(buttons, source, learner)
    assert wrong == ["https://example.org/elsewhere"]
    urls = [b.get("url") for b in buttons[1]["buttons"]]
    assert urls[0].endswith("?urlpath=lab/tree/learners/07_sub_word_tokenizers.ipynb")
    assert urls[1].endswith("/blob/main/learners/07_sub_word_tokenizers.ipynb")
    assert buttons[0]["buttons"][0]["url"] == f"x/{source}"  # only the launch menu


def _built_html() -> Path:
    given = os.environ.get("LLM_MYSTERIES_BUILT_HTML")
    if not given:
        pytest.skip("LLM_MYSTERIES_BUILT_HTML is not set (scripts/test.sh sets it)")
    return Path(given)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: Path(c.docname).name)
def test_built_page_launches_and_downloads_the_learner_notebook(chapter):
    from bs4 import BeautifulSoup

    html = _built_html()
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    org_repo = urlsplit(config["repository"]["url"]).path.strip("/")
    branch = config["repository"]["branch"]
    page = html / f"{chapter.docname}.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    links = {a["href"] for a in soup.find_all("a", href=True)}
    learner = chapter.learner_relpath
    colab = f"{config['launch_buttons']['colab_url']}/github/{org_repo}/blob/{branch}/{learner}"
    binder = (
        f"{config['launch_buttons']['binderhub_url']}/v2/gh/{org_repo}/{branch}"
        f"?urlpath=lab/tree/{learner}"
    )
    assert colab in links and binder in links, sorted(links)
    assert not [u for u in links if u.endswith(f"{chapter.docname}.ipynb") and "://" in u]
    download = f"../_sources/{chapter.docname}.ipynb"
    assert download in links
    served = (page.parent / download).resolve()
    assert served.read_bytes() == (ROOT / learner).read_bytes(), "the download is not the learner's"


# --------------------------------------------------------------------------- JupyterLab

LOCAL_HOST = "127.0.0.1"
TIMEOUT_MS = 60_000
# JupyterLab's own settings for the test: every cell in the page (no windowing, so that the
# whole notebook can be read), and no question about Jupyter news.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL_HOST, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """JupyterLab on 127.0.0.1 serving a copy of learners/ (a click must not change them)."""
    if importlib.util.find_spec("jupyterlab") is None:
        fail_or_skip("jupyterlab is not installed: pip install -r requirements.txt")
    tmp = tmp_path_factory.mktemp("lab")
    served = tmp / "root"
    shutil.copytree(ROOT / "learners", served / "learners")
    for name, settings in LAB_SETTINGS.items():
        path = tmp / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings), encoding="utf-8")
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"}  # fmt: skip
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        f"--ServerApp.ip={LOCAL_HOST}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
    ]  # fmt: skip
    log = (tmp / "jupyterlab.log").open("w")
    process = subprocess.Popen(command, cwd=served, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://{LOCAL_HOST}:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp / "jupyterlab.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
            try:
                request = urllib.request.Request(
                    base + "api/status", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        yield base, token, served
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _screenshot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name))
    keep = os.environ.get("LLM_MYSTERIES_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / name, Path(keep) / name)


def test_jupyterlab_shows_a_learner_notebook_clean_with_solutions_folded(
    jupyterlab, browser, tmp_path
):
    from myst_nb.core.variables import format_plain_text

    base, token, served = jupyterlab
    chapter = next(c for c in CHAPTERS if c.docname == BROWSER_CHAPTER)
    nb = _nb(ROOT / chapter.learner_relpath)
    n_markdown = sum(c["cell_type"] == "markdown" for c in nb["cells"])
    solutions = [i for i, c in enumerate(nb["cells"]) if _is_solution(c)]
    assert solutions, "chapter 7 has exercises"
    # The lines only a solution holds: none may be on screen until it is unfolded.
    elsewhere = "\n".join(
        "".join(c["source"]) for i, c in enumerate(nb["cells"]) if i not in solutions
    )
    secret = {
        i: [
            line.strip()
            for line in "".join(nb["cells"][i]["source"]).splitlines()[1:]
            if len(line.strip()) > 12 and line.strip() not in elsewhere
        ]
        for i in solutions
    }
    assert all(secret.values())
    book_nb = _nb(chapter.path)
    values = make.glued_values(book_nb)
    numbers = []
    for role, content in (r for t in _markdown(book_nb) for r in _glue_roles(t)):
        key, fmt = content.rsplit(":", 1) if role == "glue:text" and ":" in content else (
            content, "")  # fmt: skip
        numbers.append(format_plain_text(values[key]["text/plain"], fmt))

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    errors: list[str] = []

    def route(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or url.hostname == LOCAL_HOST:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        url = f"{base}lab/tree/{chapter.learner_relpath}?reset&token={token}"
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
        cells = notebook.locator(".jp-Cell")
        page.wait_for_function(
            """([n, m]) => {
                const nb = document.querySelector(
                    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
                const md = [...(nb?.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')
                                || [])];
                return nb && nb.querySelectorAll('.jp-Cell').length === n && md.length === m
                    && md.every(e => e.textContent.trim().length > 0);  // rendered, not pending
            }""",
            arg=[len(nb["cells"]), n_markdown],
            timeout=TIMEOUT_MS,
        )
        text = notebook.inner_text()

        for raw in ("{term}", "{glue", "{doc}", "{ref}", "{cite}", "```{", ":label:",
                    ":class:", "solution-start", "solution-end", "{exercise}"):  # fmt: skip
            assert raw not in text, f"JupyterLab shows raw MyST {raw!r}"
        for number in numbers:
            assert number in text, f"the glued number {number} is not shown"
        assert "Exercise 7.1" in text and "(分词器)" in text
        assert not CHECKER_VERDICT.search(text), "a checker's verdict is on screen"
        for i in solutions:
            cell = cells.nth(i)
            assert cell.locator(".jp-InputPlaceholder").is_visible()
            assert not cell.locator(".jp-InputArea-editor").is_visible()
            shown = [line for line in secret[i] if line in text]
            assert not shown, f"solution lines visible before they are asked for: {shown}"

        first = cells.nth(solutions[0])
        first.scroll_into_view_if_needed()
        _screenshot(page, tmp_path, "learner-notebook-solution-folded.png")
        first.locator(".jp-InputPlaceholder .jp-Placeholder-content").click()
        first.locator(".jp-InputArea-editor").wait_for(state="visible", timeout=TIMEOUT_MS)
        page.wait_for_timeout(300)  # the editor draws its lines
        _screenshot(page, tmp_path, "learner-notebook-solution-unfolded.png")
        unfolded = first.inner_text()
        for line in secret[solutions[0]]:
            assert line in unfolded, f"{line!r} not shown after the solution was unfolded"
        still_hidden = notebook.inner_text()
        for i in solutions[1:]:
            assert not [line for line in secret[i] if line in still_hidden]
        assert not errors, errors
        assert not blocked, f"JupyterLab asked for another host: {blocked}"
    finally:
        context.close()
    # Nothing was saved into the served copy either (the learner's file is untouched).
    assert (served / chapter.learner_relpath).read_bytes() == (
        ROOT / chapter.learner_relpath
    ).read_bytes()
