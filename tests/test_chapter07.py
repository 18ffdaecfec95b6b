"""Chapter 7, Sub-word tokenizers: its BPE by hand, its exercises and its token widget."""

from __future__ import annotations

import numpy as np
import pytest
import regex
from conftest import chapter_function

from companion import GPT4_SPLIT_PATTERN, BPETokenizer, CharTokenizer, check
from companion.aids.exercises.chapter07 import (
    COUNT_MERGES,
    COUNT_TEXT,
    DECODE_IDS,
    DECODE_MERGES,
    MERGE_IDS,
    MERGE_NEW_ID,
    MERGE_PAIR,
    PAIR_IDS,
)
from companion.aids.widgets_tokens import PALETTE, tokenizer_widget, tokens_html
from companion.tokenizers.bpe import merge, pair_counts

CH7 = "07_sub_word_tokenizers.ipynb"
RNG = np.random.default_rng(7)
#: Letters, a space, punctuation, a line break, two-byte and three-byte characters.
ALPHABET = list("aabbbct  .,\n") + ["é", "猫"]


def random_text(rng, longest=60):
    return "".join(rng.choice(ALPHABET, size=int(rng.integers(0, longest + 1))))


@pytest.fixture(scope="module")
def by_hand():
    """The chapter's functions, taken from the notebook, wired to each other as there."""
    count_pairs = chapter_function(CH7, "count_pairs_by_hand")
    merge_ = chapter_function(CH7, "merge_by_hand")
    show = chapter_function(CH7, "show")
    bpe = chapter_function(CH7, "bpe_by_hand")
    encode = chapter_function(CH7, "encode_by_hand")
    for function in (bpe, encode):
        function.__globals__.update(
            count_pairs_by_hand=count_pairs, merge_by_hand=merge_, show=show
        )
    return {"count_pairs": count_pairs, "merge": merge_, "bpe": bpe, "encode": encode}


# -- (a) the chapter's few lines equal the companion -----------------------------------------
def test_count_pairs_by_hand_equals_pair_counts_in_order(by_hand):
    for _ in range(200):
        ids = RNG.integers(0, 5, size=int(RNG.integers(0, 30))).tolist()
        got = by_hand["count_pairs"](ids)
        assert list(got.items()) == list(pair_counts(ids).items())  # same order of first sight


def test_merge_by_hand_equals_merge(by_hand):
    for _ in range(300):
        ids = RNG.integers(0, 3, size=int(RNG.integers(0, 30))).tolist()
        pair = tuple(int(i) for i in RNG.integers(0, 3, size=2))
        assert by_hand["merge"](ids, pair, 99) == merge(ids, pair, 99)
    assert by_hand["merge"]([1, 1, 1], (1, 1), 4) == [4, 1]  # left to right, no overlap


def test_bpe_by_hand_equals_the_companion_on_the_chapters_examples(by_hand):
    merges, ids = by_hand["bpe"](["aaabdaaabac"], 3)
    assert merges == {(97, 97): 256, (256, 97): 257, (257, 98): 258}
    assert ids == [[258, 100, 258, 97, 99]]
    text = "the cat sat on the mat. the cats sat on the mats. my cat and your cats ate the rats."
    merges, ids = by_hand["bpe"](regex.findall(GPT4_SPLIT_PATTERN, text), 12)
    tok = BPETokenizer()
    tok.train(text, 256 + 12)
    assert merges == tok.merges
    assert [i for piece in ids for i in piece] == tok.encode(text)
    assert by_hand["encode"](" cats", merges) == tok.encode(" cats") == [260, ord("s")]


@pytest.mark.parametrize("pattern", [None, GPT4_SPLIT_PATTERN], ids=["one piece", "GPT-4 split"])
def test_bpe_by_hand_equals_bpe_tokenizer_on_random_texts(by_hand, pattern):
    for _ in range(150):
        text = random_text(RNG)
        n_merges = int(RNG.integers(0, 25))
        pieces = [text] if pattern is None else regex.findall(pattern, text)
        merges, ids = by_hand["bpe"](pieces, n_merges)
        tok = BPETokenizer(pattern=pattern)
        tok.train(text, 256 + n_merges)
        assert merges == tok.merges, text
        assert list(merges) == list(tok.merges)  # learned in the same order
        assert [i for piece in ids for i in piece] == tok.encode(text), text
        assert tok.decode([i for piece in ids for i in piece]) == text


def test_encode_by_hand_equals_encode_on_new_text(by_hand):
    for _ in range(100):
        tok = BPETokenizer(pattern=None)
        tok.train(random_text(RNG, 80), 256 + int(RNG.integers(0, 20)))
        new_text = random_text(RNG, 40)
        assert by_hand["encode"](new_text, tok.merges) == tok.encode(new_text), new_text


def test_bpe_by_hand_prints_one_row_per_merge(by_hand, capsys):
    merges, _ = by_hand["bpe"](["aaabdaaabac"], 5, verbose=True)
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["new", "id", "pair", "merged", "count", "token", "tokens", "left"]
    assert len(rows) == len(merges) == 5
    assert rows[0].split()[:3] == ["256", "(97,", "97)"] and "'aa'" in rows[0]
    assert rows[2].split()[-2:] == ["'aaab'", "5"]  # the token and the tokens left


def test_bpe_by_hand_stops_when_nothing_is_left_to_merge(by_hand):
    assert by_hand["bpe"](["ab", "c"], 10) == ({(97, 98): 256}, [[256], [99]])
    assert by_hand["bpe"]([""], 3) == ({}, [[]])


# -- (b) the exercises -------------------------------------------------------------------------
RIGHT = {
    "7.1": (2, 3),
    "7.2": [4, 1, 2, 4, 3],
    "7.3": 6,
    "7.4": "aaabdaacaaa",
}

WRONG_WITH_HINT = [
    ("7.1", (1, 2), "occurs 3 time(s)"),
    ("7.1", (3, 2), "Order matters"),
    ("7.1", 4, "answer with the pair itself"),
    ("7.1", (4, 4), "never occurs"),
    ("7.1", (1, 2, 3), "two ids"),
    ("7.2", [1, 4, 2, 4, 3], "left to right"),
    ("7.2", [4, 4, 2, 4, 3], "cannot be in two merges"),
    ("7.2", list(MERGE_IDS), "Nothing changed"),
    ("7.2", [1, 2, 3], "new id 4"),
    ("7.2", [4, 2, 4, 3], "skip both"),
    ("7.3", 12, "number of bytes"),
    ("7.3", 3, "counts words"),
    ("7.3", [258, 260, 115, 32, 115, 256], "len(ids)"),
    ("7.3", [1, 2], "one whole number"),
    ("7.3", 7, "apply each merge"),
    ("7.3", 8, "260 joins 259"),
    ("7.3", 4, "chapter's cats tokenizer"),
    ("7.3", 5, "no merge joins ' ' and 's'"),
    ("7.3", 9, "Start from the bytes"),
    ("7.4", b"aaabdaacaaa", ".decode('utf-8')"),
    ("7.4", ["aaab", "d", "aa", "c", "aaa"], "''.join"),
    ("7.4", ["aaab", "d"], "tokens joined together"),
    ("7.4", "dc", "merged tokens"),
    ("7.4", "abdac", "11 characters"),
    ("7.4", "aaabdaacaab", "Build each merged token"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [True, np.zeros((2, 2), dtype=int), [1.5, 2.0], b"\xff"]


def test_right_answers_match_the_companion():
    counts = pair_counts(PAIR_IDS)
    assert RIGHT["7.1"] == max(counts, key=lambda pair: counts[pair])
    assert RIGHT["7.2"] == merge(MERGE_IDS, MERGE_PAIR, MERGE_NEW_ID)
    ids = list(COUNT_TEXT.encode("utf-8"))
    for pair, new_id in COUNT_MERGES.items():
        ids = merge(ids, pair, new_id)
    assert RIGHT["7.3"] == len(ids)
    tok = BPETokenizer(pattern=None)
    tok.train("aaabdaaabac", 259)
    assert tok.merges == DECODE_MERGES
    assert RIGHT["7.4"] == tok.decode(DECODE_IDS)


def test_the_hints_of_exercise_7_3_tell_the_truth():
    """4 is what the chapter's cats tokenizer makes; 5 and 7 are one merge off."""
    cats = BPETokenizer()
    cats.train(
        "the cat sat on the mat. the cats sat on the mats. my cat and your cats ate the rats.",
        256 + 12,
    )
    assert len(cats.encode(COUNT_TEXT)) == 4
    ids = list(COUNT_TEXT.encode("utf-8"))
    for pair, new_id in COUNT_MERGES.items():
        ids = merge(ids, pair, new_id)
    assert merge(ids, (32, 115), 999) != ids and len(merge(ids, (32, 115), 999)) == 5  # ' '+'s'
    without_258 = {pair: i for pair, i in COUNT_MERGES.items() if i != 258}
    kept = list(COUNT_TEXT.encode("utf-8"))
    for pair, new_id in without_258.items():
        kept = merge(kept, pair, new_id)
    assert len(kept) == 7  # 'th' + 'e' left apart


def test_other_spellings_of_right_answers_pass():
    assert check("7.1", [2, 3]) and check("7.1", np.array([2, 3]))
    assert check("7.2", (4, 1, 2, 4, 3)) and check("7.2", np.array([4, 1, 2, 4, 3]))
    assert check("7.3", np.int64(6)) and check("7.3", 6.0)


# -- (c) the token widget ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cats_tokenizer():
    tok = BPETokenizer()
    tok.train("the cat sat on the mat. the cats sat on the mats.", 256 + 12)
    return tok


def test_tokens_html_colours_every_token_and_lists_the_ids(cats_tokenizer):
    text = "the cats sat"
    ids = cats_tokenizer.encode(text)
    page = tokens_html(cats_tokenizer, text)
    assert page.count("<span") == len(ids)
    for k, i in enumerate(ids):
        assert f'title="id {i}" style="background:{PALETTE[k % len(PALETTE)]}' in page
    assert f"{len(text)} characters &rarr; {len(ids)} tokens" in page
    assert f"ids: {ids}" in page
    assert "ids:" not in tokens_html(cats_tokenizer, text, show_ids=False)


def test_tokens_html_escapes_text_and_shows_line_breaks(cats_tokenizer):
    page = tokens_html(cats_tokenizer, "<b>&\n")
    assert "&lt;" in page and "&amp;" in page and "<b>" not in page
    assert "\u21b5<br>" in page


def test_tokens_html_handles_empty_text_and_split_characters(cats_tokenizer):
    assert "0 characters &rarr; 0 tokens</div>" in tokens_html(cats_tokenizer, "")
    page = tokens_html(cats_tokenizer, "猫")  # three byte tokens, each half a character
    assert page.count("<span") == 3 and "\ufffd" in page


def test_tokens_html_reports_what_a_tokenizer_refuses():
    chars = CharTokenizer("abc")
    assert "<span" in tokens_html(chars, "cab")
    page = tokens_html(chars, "abz")
    assert "does not know" in page and "'z'" in page and "<span" not in page


def test_tokens_html_bad_input(cats_tokenizer):
    with pytest.raises(TypeError, match="tokenizer must have encode"):
        tokens_html("abc", "text")
    with pytest.raises(TypeError, match="text must be a str; got NoneType None"):
        tokens_html(cats_tokenizer, None)
    with pytest.raises(TypeError, match="show_ids must be True or False"):
        tokens_html(cats_tokenizer, "a", show_ids="yes")


def test_widget_follows_its_text_box(cats_tokenizer):
    bytes_only = BPETokenizer()
    widget = tokenizer_widget({"bytes": bytes_only, "cats": cats_tokenizer}, text="the cat")
    box, first, second = widget.children
    assert box.value == "the cat"
    assert "<b>bytes</b>" in first.value and "7 tokens" in first.value
    assert "<b>cats</b>" in second.value and "2 tokens" in second.value
    box.value = "the mats"
    assert "8 tokens" in first.value
    assert f"{len(cats_tokenizer.encode('the mats'))} tokens" in second.value


def test_widget_takes_a_single_tokenizer(cats_tokenizer):
    widget = tokenizer_widget(cats_tokenizer)
    box, view = widget.children
    assert box.value == "Humpty Dumpty sat on a wall."
    assert view.value == tokens_html(cats_tokenizer, box.value)  # no label for a single one


def test_widget_bad_input(cats_tokenizer):
    with pytest.raises(ValueError, match="tokenizers must hold at least one tokenizer"):
        tokenizer_widget({})
    with pytest.raises(TypeError, match=r"tokenizers\['x'\] must have encode"):
        tokenizer_widget({"x": 3})
    with pytest.raises(TypeError, match="tokenizers must be labelled by str"):
        tokenizer_widget({1: cats_tokenizer})
    with pytest.raises(TypeError, match="tokenizers must have encode"):
        tokenizer_widget([cats_tokenizer])
    with pytest.raises(TypeError, match="text must be a str"):
        tokenizer_widget(cats_tokenizer, text=42)
