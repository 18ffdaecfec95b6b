"""Write the learners' notebooks and environment: the chapters as plain Jupyter reads them.

The chapters in ``book/`` are written for Jupyter Book: their prose uses MyST roles and
directives ({term}, {glue:text}, {cite}, ```{exercise}, ...) that Jupyter, Colab and
Binder show as raw markup, and every solution sits already run under its exercise. This
script turns every notebook listed in ``_toc.yml`` into a learner's copy under
``learners/`` (``book/07_sub_word_tokenizers.ipynb`` -> ``learners/07_sub_word_tokenizers.ipynb``,
the same depth below the repository root, so relative paths such as ``../checkpoints``
still work), and writes ``binder/requirements.txt``, the learner's pinned environment::

    python scripts/make_learner_notebooks.py          # (re)write learners/ and binder/
    python scripts/make_learner_notebooks.py --check  # exit 1 if either is out of date

Never edit the learners' files by hand: edit the chapter, then run this script
(``tests/test_learner_notebooks.py`` fails while they are out of date).

What a learner's notebook gets, construct by construct (the code itself is never changed):

- ``{glue:text}`name:fmt``` and ``{glue}`name```: the value, formatted as the book shows it
  (myst-nb's own formatter), read from the glue call's stored output in the same notebook
  (or ``path::name`` from another one);
- ``{term}`tokens <token>```: **tokens** (plain text where it already sits in bold);
- ``{cite}`a,b```: (Author, year; Author, year), with a "References" cell at the end;
- ``{doc}`` and ``{ref}``: the target's title, linked to the learner's notebook when the
  target is in another chapter; ``(label)=`` targets and ``% comments`` disappear;
- note, tip, warning and other admonitions: a block quote with a bold title; a
  ``{math}`` block: ``$$ ... $$``; ``{mermaid}``: a ```` ```mermaid ```` block;
- ``{exercise}``: a heading "Exercise 7.1" and its text, then an empty code cell for
  the learner's answer;
- gated solutions (``solution-start`` ... ``solution-end``): a line "Solution to exercise
  7.1"; each solution code cell keeps its code but loses its outputs, and its input is
  folded (``jupyter.source_hidden``, which JupyterLab and Notebook 7 honour; for Colab the
  cell is a form, ``cellView: form`` with a ``# @title`` line, which Colab shows folded);
  explanations in markdown go into a closed ``<details>`` block. Nothing of a solution is
  visible until the learner unfolds it, and the code still runs (later cells may use it);
- cell tags: ``remove-cell`` and ``remove-input``/``hide-input`` cells keep their code
  (later cells may need it) with the input folded; ``remove-cell`` and ``remove-output``
  cells lose their outputs; ``hide-cell``/``hide-output`` also fold the outputs;
- stored outputs stay (a learner sees the results before running anything), except the
  solutions' and the glue records' (invisible in Jupyter, and now pasted into the text);
- ``$...$`` math, the Chinese terms, widgets and their saved state, and the first
  (install-if-missing) cell stay as they are; a stored widget's text, which Jupyter shows
  instead of a saved widget in a notebook it did not run itself, says to run the cell.

The learner's environment, ``binder/requirements.txt``, pins what the notebooks need to run
in JupyterLab (ROOTS below, and the companion's own dependencies) and everything those need,
at the versions of ``requirements.txt``, the developers' freeze: the dependency closure is
read from the installed packages' metadata, so run this script in the environment made from
``requirements.txt``.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent

#: What a learner's environment must hold besides the companion's own dependencies:
#: JupyterLab and a kernel, the widgets, and myst-nb, whose ``glue`` the chapters call.
ROOTS = ("jupyterlab", "ipykernel", "ipywidgets", "matplotlib", "numpy", "myst-nb")

#: MyST syntax that must never reach a learner (tests/test_learner_notebooks.py scans for it).
RAW_MYST = re.compile(
    r"\{(term|glue(:\w*)?|doc|ref|numref|cite(:\w+)?|eq|exercise|solution)\}`"
    r"|^[ \t]*(`{3,}|:{3,})\{[\w:-]+\}"
    r"|^[ \t]*:(label|class|nonumber|name)\:"
    r"|solution-(start|end)"
    r"|^\([\w-]+\)=\s*$",
    re.MULTILINE,
)

ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
    "margin": "Aside",
    "sidebar": "Aside",
    "topic": "",
    "admonition": "",
    "epigraph": "",
    "pull-quote": "",
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: What a stored widget shows until its cell runs: Jupyter draws a saved widget only in a
#: notebook it trusts (one it ran itself), and shows this text otherwise.
WIDGET_TEXT = "An interactive widget: run the cells above and this one to use it."
CODE_DIRECTIVES = {"code", "code-block", "sourcecode", "code-cell"}
DROPPED_DIRECTIVES = {"tableofcontents", "bibliography", "glossary"}


def warn(message: str) -> None:
    print(f"make_learner_notebooks: warning: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- the book


@dataclass
class Chapter:
    """One notebook of the table of contents."""

    docname: str  # "book/07_sub_word_tokenizers"
    path: Path  # its .ipynb
    number: str  # "7", or "" for an unnumbered page

    @property
    def learner_relpath(self) -> str:
        """Where its learner's copy lives, relative to the repository root."""
        return learner_path(self.docname + ".ipynb")


def learner_path(relpath: str) -> str:
    """``book/x/y.ipynb`` -> ``learners/x/y.ipynb``: the same depth, so relative paths work."""
    parts = Path(relpath).parts
    if parts and parts[0] == "book":
        parts = parts[1:]
    return Path("learners", *parts).as_posix()


def toc_chapters(root: Path = ROOT) -> list[Chapter]:
    """The toc's notebooks in order, numbered as the book numbers them.

    Jupyter Book numbers the chapters of every ``numbered`` part in one sequence
    (multitoc numbering): 1, 2, ... across the parts; a chapter's sections are 7.1, 7.2, ...
    """
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files: list[tuple[str, str]] = [(toc["root"], "")]
    count = 0

    def sections(entry: dict, number: str) -> None:
        for k, section in enumerate(entry.get("sections", []), start=1):
            sub = f"{number}.{k}" if number else ""
            if "file" in section:
                files.append((section["file"], sub))
            sections(section, sub)

    parts = toc.get("parts") or [toc]
    for part in parts:
        for entry in part.get("chapters", []):
            number = ""
            if part.get("numbered", False) and "file" in entry:
                count += 1
                number = str(count)
            if "file" in entry:
                files.append((entry["file"], number))
            sections(entry, number)
    chapters = []
    for name, number in files:
        name = name.removesuffix(".ipynb")
        path = root / f"{name}.ipynb"
        if path.is_file():
            chapters.append(Chapter(name, path, number))
    return chapters


def glued_values(nb: dict) -> dict[str, dict]:
    """``name -> mime bundle`` of every glue call's stored output in a notebook."""
    values = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if scrap:
                prefix = scrap.get("mime_prefix", "")
                values[scrap["name"]] = {
                    mime.removeprefix(prefix): value for mime, value in output["data"].items()
                }
    return values


def is_glue_record(output: dict) -> bool:
    return "scrapbook" in output.get("metadata", {})


def _first_heading(text: str) -> str:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    return match.group(1) if match else ""


@dataclass
class Book:
    """What converting one notebook needs to know about the others."""

    root: Path  # the repository
    chapters: list[Chapter]
    notebooks: dict[str, dict]  # docname -> notebook
    glue: dict[str, dict[str, dict]]  # docname -> name -> mime bundle
    titles: dict[str, str]  # docname -> title (notebooks and markdown pages of book/)
    labels: dict[str, tuple[str, str]]  # label -> (docname, title shown for it)
    exercises: dict[str, str]  # exercise label -> "7.1"
    bibliography: Bibliography

    @classmethod
    def load(cls, root: Path = ROOT) -> Book:
        chapters = toc_chapters(root)
        notebooks = {c.docname: json.loads(c.path.read_text(encoding="utf-8")) for c in chapters}
        titles = {}
        for page in sorted((root / "book").rglob("*.md")):
            docname = page.relative_to(root).with_suffix("").as_posix()
            titles[docname] = _first_heading(page.read_text(encoding="utf-8"))
        labels: dict[str, tuple[str, str]] = {}
        exercises: dict[str, str] = {}
        for chapter in chapters:
            nb = notebooks[chapter.docname]
            text = "\n\n".join(
                "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"
            )
            titles[chapter.docname] = _first_heading(text)
            for match in re.finditer(r"^\(([\w.:-]+)\)=\s*\n+(#+\s+(.+))?", text, re.MULTILINE):
                labels[match.group(1)] = (chapter.docname, match.group(3) or match.group(1))
            count = 0
            for match in re.finditer(
                r"^[ \t]*(?:`{3,}|:{3,})\{(exercise|exercise-start)\}[^\n]*\n((?:[ \t]*:.*\n)*)",
                text,
                re.MULTILINE,
            ):
                if re.search(r":nonumber:", match.group(2)):
                    continue
                count += 1
                number = f"{chapter.number}.{count}".lstrip(".")
                label = re.search(r":label:\s*(\S+)", match.group(2))
                if label:
                    exercises[label.group(1)] = number
                    labels[label.group(1)] = (chapter.docname, f"Exercise {number}")
        glue = {docname: glued_values(nb) for docname, nb in notebooks.items()}
        bib = Bibliography.load(root / "book" / "references.bib")
        return cls(root, chapters, notebooks, glue, titles, labels, exercises, bib)


@dataclass
class Bibliography:
    """The entries of book/references.bib, cited as the book cites them (author, year)."""

    cites: dict[str, str] = field(default_factory=dict)  # key -> "Patel, 2024"
    entries: dict[str, str] = field(default_factory=dict)  # key -> the formatted reference

    @classmethod
    def load(cls, path: Path) -> Bibliography:
        if not path.is_file():
            return cls()
        from pybtex.database import parse_file
        from pybtex.plugin import find_plugin
        from pybtex.richtext import Text

        data = parse_file(str(path))
        style = find_plugin("pybtex.style.formatting", "unsrt")()
        bib = cls()
        formatted = {e.key: e for e in style.format_entries(data.entries.values())}
        for key, entry in data.entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [Text.from_latex(" ".join(p.last_names)).render_as("text") for p in people]
            if len(names) > 2:
                who = f"{names[0]} et al."
            else:
                who = " and ".join(names)
            year = entry.fields.get("year", "")
            bib.cites[key] = ", ".join(part for part in (who, year) if part)
            text = formatted[key].text.render_as("text")
            bib.entries[key] = " ".join(text.split())
        return bib


# --------------------------------------------------------------------------- markdown


def escape_markdown(text: str) -> str:
    """Text pasted into markdown shows as itself (a glued string may hold * or $)."""
    return re.sub(r"([\\`*_\[\]<>$|])", r"\\\1", text)


def _inside_bold(text: str, position: int) -> bool:
    """Whether ``position`` sits inside a ``**bold**`` span of its paragraph."""
    start = text.rfind("\n\n", 0, position)
    before = re.sub(r"(`+).*?\1", "", text[start + 1 : position])
    return before.count("**") % 2 == 1


def _split_target(content: str) -> tuple[str, str]:
    """``text <target>`` -> (text, target); ``target`` -> ("", target)."""
    match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", content, re.DOTALL)
    if match and match.group(1):
        return match.group(1), match.group(2)
    return "", content.strip()


# A role, or an inline code span (left alone), or an inline $math$ span (left alone).
INLINE = re.compile(
    r"\{(?P<role>[\w:+-]+)\}(?P<ticks>`+)(?P<content>.+?)(?P=ticks)"
    r"|(?P<code>`+).+?(?P=code)"
    r"|(?<![\\$])\$(?!\$)(?:[^$\\]|\\.)+?\$",
    re.DOTALL,
)


@dataclass
class Converter:
    """Converts the markdown of one chapter; collects the works it cites."""

    book: Book
    chapter: Chapter
    cited: list[str] = field(default_factory=list)
    exercises: int = 0  # exercises met so far

    # ---------------------------------------------------------------- roles

    def role(self, name: str, content: str, text: str, position: int) -> str:
        if name == "term":
            shown, _ = _split_target(content)
            shown = shown or content
            return shown if _inside_bold(text, position) else f"**{shown}**"
        if name.startswith("glue"):
            return self.glue_role(name, content)
        if name.startswith("cite"):
            return self.cite(name, content)
        if name == "doc":
            return self.doc(content)
        if name in ("ref", "numref"):
            return self.ref(content)
        if name == "math":
            return f"${content}$"
        if name == "eq":
            return f"({content})"
        if name in ("sub", "sup"):
            return f"<{name}>{content}</{name}>"
        if name == "kbd":
            return f"<kbd>{content}</kbd>"
        shown, target = _split_target(content)
        warn(f"{self.chapter.docname}: role {{{name}}} shown as its text")
        return shown or target

    def glue_role(self, name: str, content: str) -> str:
        from myst_nb.core.variables import format_plain_text

        key, fmt = content, ""
        if name == "glue:text" and ":" in content.split("::")[-1]:
            key, fmt = content.rsplit(":", 1)
        docname = self.chapter.docname
        if "::" in key:
            other, key = key.split("::", 1)
            docname = str((Path(docname).parent / other).as_posix()).removesuffix(".ipynb")
        values = self.book.glue.get(docname, {})
        if key not in values:
            raise ValueError(f"{self.chapter.docname}: {{{name}}}`{content}`: nothing glued")
        data = values[key]
        if name == "glue:md" and "text/markdown" in data:
            return str(data["text/markdown"]).strip()
        if "text/plain" not in data:
            raise ValueError(f"{self.chapter.docname}: {key!r} has no text/plain to paste")
        return escape_markdown(format_plain_text(data["text/plain"], fmt))

    def cite(self, name: str, content: str) -> str:
        keys = [k.strip() for k in content.split(",") if k.strip()]
        for key in keys:
            if key not in self.book.bibliography.cites:
                raise ValueError(f"{self.chapter.docname}: {key!r} is not in references.bib")
            if key not in self.cited:
                self.cited.append(key)
        cites = [self.book.bibliography.cites[k] for k in keys]
        if name in ("cite:t", "cite:ts"):
            return "; ".join(re.sub(r", (\S+)$", r" (\1)", c) for c in cites)
        return "(" + "; ".join(cites) + ")"

    def _link(self, shown: str, docname: str) -> str:
        """A link to another chapter's learner notebook, or plain text for other pages."""
        if docname == self.chapter.docname:
            return shown
        if docname in self.book.notebooks:
            here = Path(self.chapter.learner_relpath).parent
            there = Path(learner_path(docname + ".ipynb"))
            return f"[{shown}]({Path(_relpath(there, here)).as_posix()})"
        return shown

    def doc(self, content: str) -> str:
        shown, target = _split_target(content)
        target = target.removesuffix(".ipynb").removesuffix(".md")
        if target.startswith("/"):
            docname = target.lstrip("/")
        else:
            docname = (Path(self.chapter.docname).parent / target).as_posix()
        title = self.book.titles.get(docname, Path(docname).name)
        return self._link(escape_markdown(shown) if shown else title, docname)

    def ref(self, content: str) -> str:
        shown, label = _split_target(content)
        docname, title = self.book.labels.get(label, (self.chapter.docname, label))
        return self._link(shown or title, docname)

    def inline(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group("role") is None:
                return match.group(0)
            return self.role(match.group("role"), match.group("content"), text, match.start())

        return INLINE.sub(replace, text)

    # ---------------------------------------------------------------- blocks

    def markdown(self, text: str) -> str:
        """Convert one markdown cell's text."""
        out: list[str] = []
        lines = text.split("\n")
        i = 0
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                out.append(self.inline("\n".join(paragraph)))
                paragraph.clear()

        while i < len(lines):
            line = lines[i]
            directive = re.match(r"^([ \t]*)(`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*)$", line)
            fence = re.match(r"^([ \t]*)(`{3,}|~{3,})(.*)$", line)
            if directive or fence:
                flush()
                opening = (directive or fence).group(2)
                body, i = _fenced_body(lines, i + 1, opening)
                if directive:
                    name, argument = directive.group(3), directive.group(4).strip()
                    out.append(self.directive(name, argument, body))
                else:
                    out.append("\n".join([line, *body, fence.group(1) + opening]))
                continue
            if re.match(r"^\([\w.:-]+\)=\s*$", line) or re.match(r"^%", line):
                i += 1  # a target or a MyST comment: not shown by the book either
                continue
            # $$ ... $$ (label): the label is for references only
            line = re.sub(r"^(\s*\$\$.*\$\$)\s*\([\w.:-]+\)\s*$", r"\1", line)
            if (
                line.startswith(": ")
                and paragraph
                and paragraph[-1].strip()
                and not paragraph[-1].startswith(": ")
            ):
                # a definition list: "Term" / ": definition" -> "**Term**: definition"
                term = paragraph.pop()
                paragraph.append(f"**{term.strip()}**: {line[2:].strip()}")
                i += 1
                continue
            paragraph.append(line)
            i += 1
        flush()
        return "\n".join(out).strip("\n")

    def directive(self, name: str, argument: str, body_lines: list[str]) -> str:
        options, body_lines = _options(body_lines)
        body = self.markdown("\n".join(body_lines))
        if name in ADMONITIONS:
            title = self.inline(argument) or ADMONITIONS[name]
            return _quote(f"**{title}**\n\n{body}" if title else body)
        if name in ("exercise", "exercise-start"):
            title = "Exercise"
            if "nonumber" not in options:
                self.exercises += 1
                title += " " + f"{self.chapter.number}.{self.exercises}".lstrip(".")
            if argument:
                title += f" ({self.inline(argument)})"
            return f"### {title}\n\n{body}".strip()
        if name in ("exercise-end", "solution-end", "solution-start"):
            return ""  # the gated blocks are handled cell by cell (convert_notebook)
        if name == "solution":
            number = self.book.exercises.get(argument, "")
            return _details(f"Solution to exercise {number}".strip(), body)
        if name in ("dropdown", "toggle"):
            return _details(self.inline(argument) or "Show", body)
        if name == "math":
            return "$$\n" + "\n".join(body_lines).strip() + "\n$$"
        if name == "mermaid":
            return "```mermaid\n" + "\n".join(body_lines).strip("\n") + "\n```"
        if name in CODE_DIRECTIVES:
            language = argument.split()[0] if argument else ""
            return f"```{language}\n" + "\n".join(body_lines) + "\n```"
        if name in ("figure", "image"):
            path = self.asset(argument)
            alt = options.get("alt", body.split("\n")[0] if body else "")
            image = f"![{alt}]({path})"
            return f"{image}\n\n*{body}*" if name == "figure" and body else image
        if name == "raw" and argument == "html":
            return "\n".join(body_lines)
        if name in DROPPED_DIRECTIVES:
            return ""
        if name.startswith("glue"):
            return self.glue_role("glue:md" if name == "glue:md" else "glue", argument)
        warn(f"{self.chapter.docname}: directive {{{name}}} shown as a quote")
        return _quote(f"**{name.capitalize()} {self.inline(argument)}**\n\n{body}".strip())

    def asset(self, path: str) -> str:
        """A file the chapter points at, relative to its learner's notebook instead."""
        if re.match(r"^[a-z]+://", path) or path.startswith("/"):
            return path
        source = (self.book.root / self.chapter.docname).parent / path
        here = self.book.root / Path(self.chapter.learner_relpath).parent
        return Path(_relpath(source, here)).as_posix()


def _relpath(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path, start)


def _fenced_body(lines: list[str], start: int, opening: str) -> tuple[list[str], int]:
    """The lines up to the fence that closes ``opening``, and the index after it."""
    char, size = opening[0], len(opening)
    closing = re.compile(rf"^[ \t]*{re.escape(char)}{{{size},}}\s*$")
    for j in range(start, len(lines)):
        if closing.match(lines[j]):
            return lines[start:j], j + 1
    return lines[start:], len(lines)


def _options(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """A directive's ``:key: value`` lines (or ``---`` YAML block) and the rest."""
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        for j in range(1, len(lines)):
            if lines[j].strip() == "---":
                parsed = yaml.safe_load("\n".join(lines[1:j])) or {}
                return {str(k): str(v) for k, v in parsed.items()}, lines[j + 1 :]
    i = 0
    while i < len(lines):
        match = re.match(r"^\s*:([\w-]+):\s*(.*)$", lines[i])
        if not match:
            break
        options[match.group(1)] = match.group(2).strip()
        i += 1
    return options, lines[i:]


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip("\n").split("\n"))


def _details(summary: str, body: str) -> str:
    return f"<details>\n<summary><b>{summary}</b></summary>\n\n{body}\n\n</details>"


# --------------------------------------------------------------------------- notebooks


def _directive_names(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^[ \t]*(?:`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*)$", text, re.MULTILINE)


def _hide(cell: dict, source: bool = False, outputs: bool = False) -> None:
    jupyter = cell["metadata"].setdefault("jupyter", {})
    if source:
        jupyter["source_hidden"] = True
    if outputs and cell.get("outputs"):
        jupyter["outputs_hidden"] = True


def _cell_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:64]


def _check_call(source: str, number: str) -> str:
    match = re.search(rf"check\(\s*[\"']{re.escape(number)}[\"'][^\n]*\)", source)
    return match.group(0) if match else ""


def _reasoning_follows(cells: list[dict], start: int) -> bool:
    """Whether the gated solution opened by cell ``start`` holds markdown."""
    for cell in cells[start + 1 :]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            return not any(name == "solution-end" for name, _ in _directive_names(text))
    return False


def convert_notebook(book: Book, chapter: Chapter) -> dict:
    """The learner's copy of one chapter, as a notebook dictionary."""
    source_nb = book.notebooks[chapter.docname]
    nb = copy.deepcopy(source_nb)
    converter = Converter(book, chapter)
    cells: list[dict] = []
    solution: str | None = None  # the exercise number while inside a gated solution
    first_heading_done = False
    for index, cell in enumerate(nb["cells"]):
        cell.setdefault("metadata", {}).pop("execution", None)
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            names = _directive_names(text)
            starts = [arg for name, arg in names if name == "solution-start"]
            ends = any(name == "solution-end" for name, _ in names)
            converted = converter.markdown(text)
            if not first_heading_done and chapter.number:
                converted, n = re.subn(
                    r"^# (.+)$", rf"# {chapter.number}. \1", converted, count=1, flags=re.M
                )
                first_heading_done = n > 0
            if starts:
                label = starts[0].split()[0] if starts[0] else ""
                solution = book.exercises.get(label, "")
                source = "\n".join(
                    "".join(c["source"]) for c in source_nb["cells"] if c["cell_type"] == "code"
                )
                check = _check_call(source, solution) if solution else ""
                try_it = "# Your code here"
                if solution:
                    try_it = f"# Exercise {solution}: your code here"
                if check:
                    try_it += f", then check your answer:\n# {check}"
                cells.append(
                    nbformat.v4.new_code_cell(try_it, id=_cell_id(f"try-{label or len(cells)}"))
                )
                how = "click the `⋯` of a folded cell (on Colab, *Show code*)"
                if _reasoning_follows(nb["cells"], index):
                    how = "click ▶ to read the reasoning and " + how.replace("click ", "")
                converted = (f"{converted}\n\n" if converted else "") + (
                    f"**Solution to exercise {solution}.** Folded below until you open it: "
                    f"{how} to unfold it, and run the code to hear from the checker."
                )
            elif solution is not None and not ends and converted:
                converted = _details(f"Solution to exercise {solution}: the reasoning", converted)
            if ends:
                solution = None
            if converted:
                cell["source"] = converted
                cells.append(cell)
            continue
        if cell["cell_type"] != "code":
            cells.append(cell)
            continue
        tags = set(cell["metadata"].get("tags", []))
        cell["outputs"] = [o for o in cell["outputs"] if not is_glue_record(o)]
        for output in cell["outputs"]:
            if WIDGET_VIEW in output.get("data", {}):
                output["data"]["text/plain"] = WIDGET_TEXT
        if solution is not None:
            title = f"# @title Solution to exercise {solution}".rstrip()
            cell["source"] = f"{title}\n" + "".join(cell["source"])
            cell["outputs"] = []
            cell["execution_count"] = None
            cell["metadata"]["cellView"] = "form"
            _hide(cell, source=True)
        else:
            if tags & {"remove-cell", "remove-output"}:
                cell["outputs"] = []
            _hide(
                cell,
                source=bool(tags & {"remove-cell", "remove-input", "hide-input", "hide-cell"}),
                outputs=bool(tags & {"hide-cell", "hide-output"}),
            )
        if not cell["metadata"].get("jupyter"):
            cell["metadata"].pop("jupyter", None)
        cells.append(cell)
    if converter.cited:
        references = "\n".join(
            f"- {escape_markdown(book.bibliography.entries[key])}" for key in converter.cited
        )
        cells.append(
            nbformat.v4.new_markdown_cell(f"## References\n\n{references}", id="references")
        )
    nb["cells"] = cells
    # ipykernel's own name for its kernel: JupyterLab writes it into the notebook when the
    # kernel starts, and would mark an unchanged learner's notebook as modified.
    if nb["metadata"].get("kernelspec", {}).get("name") == "python3":
        nb["metadata"]["kernelspec"]["display_name"] = "Python 3 (ipykernel)"
    nb["metadata"]["llm_mysteries"] = {
        "learner_copy_of": chapter.path.relative_to(book.root).as_posix(),
        "made_by": "scripts/make_learner_notebooks.py (do not edit this copy by hand)",
    }
    return nb


def learner_notebooks(root: Path = ROOT) -> dict[str, str]:
    """``learner relpath -> notebook text`` for every chapter of the toc."""
    book = Book.load(root)
    out = {}
    for chapter in book.chapters:
        nb = nbformat.from_dict(convert_notebook(book, chapter))
        nbformat.validate(nb)
        out[chapter.learner_relpath] = nbformat.writes(nb) + "\n"
    return out


# --------------------------------------------------------------------------- environment


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(path: Path) -> dict[str, tuple[str, str]]:
    """``canonical name -> (name as written, version)`` of a requirements file's pins."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = (part.strip() for part in line.split("==", 1))
            pins[_canonical(name)] = (name, version)
    return pins


def dependency_closure(roots: list[str], requires: Callable[[str], list[str] | None]) -> set[str]:
    """Every distribution ``roots`` need, with the extras they ask of each other.

    Markers are evaluated for this interpreter and platform (a dependency only Windows or
    macOS needs is left to pip there, unpinned).
    """
    from packaging.requirements import Requirement

    seen: set[tuple[str, str]] = set()
    todo = [(_canonical(r), "") for r in roots]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        for text in requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
                continue
            if not requirement.marker and extra:
                continue  # a base requirement, already followed with extra ""
            dependency = _canonical(requirement.name)
            todo += [(dependency, ""), *((dependency, e) for e in requirement.extras)]
    return {name for name, _ in seen}


def learner_requirements(root: Path = ROOT) -> str:
    """The text of binder/requirements.txt: ROOTS, the companion's needs, all pinned."""
    dev = pinned(root / "requirements.txt")
    companion = metadata.requires("companion") or []
    from packaging.requirements import Requirement

    roots = [*ROOTS, *(Requirement(r).name for r in companion)]
    closure = dependency_closure(roots, metadata.requires)
    lines = []
    for name in sorted(closure):
        if name not in dev:
            raise SystemExit(
                f"make_learner_notebooks: {name} (needed by the learners' set) is not pinned "
                "in requirements.txt; add it there first"
            )
        written, version = dev[name]
        installed = metadata.version(name)
        if installed != version:
            raise SystemExit(
                f"make_learner_notebooks: {name} {installed} is installed, requirements.txt "
                f"pins {version}: run pip install -r requirements.txt first"
            )
        lines.append(f"{written}=={version}")
    header = [
        "# The learner's environment (Binder, and the landing page's local instructions):",
        "# the companion, JupyterLab, ipywidgets, matplotlib and what they need, at the",
        "# versions of requirements.txt. Written by scripts/make_learner_notebooks.py;",
        "# do not edit. Install from the repository's root: pip install -r binder/requirements.txt",
    ]
    return "\n".join([*header, *lines, "-e ."]) + "\n"


# --------------------------------------------------------------------------- command


def expected_files(root: Path = ROOT) -> dict[Path, str]:
    """Every file this script writes, with its text."""
    files = {root / rel: text for rel, text in learner_notebooks(root).items()}
    files[root / "binder" / "requirements.txt"] = learner_requirements(root)
    return files


def stale_files(root: Path, expected: dict[Path, str]) -> list[Path]:
    """Learner notebooks on disk that no chapter produces any more."""
    folder = root / "learners"
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if p not in expected and ".ipynb_checkpoints" not in p.parts
    )


def out_of_date(root: Path = ROOT) -> list[str]:
    """What ``--check`` complains about: files missing, different or left over."""
    expected = expected_files(root)
    problems = []
    for path, text in expected.items():
        if not path.is_file():
            problems.append(f"missing: {path.relative_to(root)}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {path.relative_to(root)}")
    problems += [f"left over: {p.relative_to(root)}" for p in stale_files(root, expected)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only say whether the files are up to date"
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = out_of_date()
        for problem in problems:
            print(problem)
        if problems:
            print("run: python scripts/make_learner_notebooks.py")
        return 1 if problems else 0
    expected = expected_files()
    for path in stale_files(ROOT, expected):
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    for path, text in expected.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
