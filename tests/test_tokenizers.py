"""Tokenizers of chapters 5-7: character ids, byte-pair encoding, their files and errors.

Expected values are worked out by hand (in the comments) or computed by ``slow_bpe`` and
``slow_encode`` below: the chapter's algorithm written out plainly, which recounts every
pair before every merge and uses none of the companion's code.
"""

from __future__ import annotations

import functools
import json
import re

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.data import tiny_shakespeare
from companion.tokenizers.bpe import (
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    BPETokenizer,
    merge,
    pair_counts,
)
from companion.tokenizers.char import CharTokenizer, letter_number

PROPERTY = settings(max_examples=100, derandomize=True, deadline=None, database=None)
ANY_CHARACTER = st.characters(codec="utf-8")  # everything UTF-8 can encode: no lone surrogate
SOME_ENGLISH = st.sampled_from(list("the cat sat, on a mat!\n"))  # so that merges apply


def chunks_of(text, pattern):
    """The UTF-8 bytes of the chunks of ``text``: the matches of a pattern, or the whole text."""
    if pattern is None:
        return [text.encode("utf-8")] if text else []
    return [chunk.encode("utf-8") for chunk in regex.findall(pattern, text)]


def replace_pair(ids, pair, new_id):
    """``ids`` with each occurrence of ``pair`` replaced by ``new_id``, left to right."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def slow_bpe(text, vocab_size, pattern):
    """The chapter's BPE: before every merge, count every pair of every chunk again.

    The counts are collected chunk after chunk, pairs left to right, and ``max`` returns the
    first of equal maxima: a tie goes to the pair seen first, the rule BPETokenizer follows.
    """
    chunks = [list(chunk) for chunk in chunks_of(text, pattern)]
    merges = {}
    for new_id in range(256, vocab_size):
        counts = {}
        for ids in chunks:
            for i in range(len(ids) - 1):
                counts[ids[i], ids[i + 1]] = counts.get((ids[i], ids[i + 1]), 0) + 1
        if not counts:
            break
        best = max(counts, key=counts.get)
        merges[best] = new_id
        chunks = [replace_pair(ids, best, new_id) for ids in chunks]
    return merges


def slow_encode(text, merges, pattern):
    """Encode by replaying every merge, in the order learned, on every chunk."""
    ids = []
    for chunk in chunks_of(text, pattern):
        chunk_ids = list(chunk)
        for pair, new_id in merges.items():
            chunk_ids = replace_pair(chunk_ids, pair, new_id)
        ids.extend(chunk_ids)
    return ids


@functools.cache
def trained(pattern):
    """A small BPE tokenizer trained on English with the given split pattern."""
    tok = BPETokenizer(pattern=pattern)
    tok.train("the cat sat on the mat; the cats sat on the mats, 你好 🙂\n" * 3, vocab_size=300)
    return tok


# -- chapter 5: a = 1, b = 2, ... -----------------------------------------------------------
def test_letter_number_counts_from_a_equals_1_and_ignores_case():
    assert [letter_number(c) for c in "Humpty"] == [8, 21, 13, 16, 20, 25]  # h = 8, u = 21
    assert letter_number("z") == 26


def test_letter_number_refuses_anything_but_one_letter_from_a_to_z():
    with pytest.raises(ValueError, match="ch must be one letter from a to z; got 'ab'"):
        letter_number("ab")
    with pytest.raises(ValueError, match="ch must be one letter from a to z; got 'é'"):
        letter_number("é")
    with pytest.raises(TypeError, match="ch must be a one-letter str; got int 5"):
        letter_number(5)


# -- chapter 6: one id per character ----------------------------------------------------------
def test_char_tokenizer_numbers_the_sorted_alphabet():
    tok = CharTokenizer.from_text("humpty dumpty")
    # Sorted: " " d h m p t u y, so d = 1, u = 6, m = 3, p = 4.
    assert tok.alphabet == " dhmptuy" and tok.vocab_size == 8
    assert tok.encode("dump") == [1, 6, 3, 4]
    assert tok.decode(np.array([1, 6, 3, 4])) == "dump"  # an array of ids works too


@given(st.text(alphabet=ANY_CHARACTER, min_size=1, max_size=50))
@PROPERTY
def test_char_tokenizer_round_trips_any_text(text):
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert all(0 <= i < tok.vocab_size for i in ids)


def test_char_tokenizer_names_what_it_cannot_take():
    tok = CharTokenizer.from_text("cafe ")
    with pytest.raises(ValueError, match="does not know: 'é', '€'"):
        tok.encode("café €€")
    with pytest.raises(ValueError, match=re.escape("does not know: 9 (known ids: 0 to 4)")):
        tok.decode([0, 9])
    with pytest.raises(TypeError, match="ids must hold int token ids; got float 1.0"):
        tok.decode([1.0])
    with pytest.raises(ValueError, match="chars must hold single characters; got the string 'ab'"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="text must hold at least one character"):
        CharTokenizer.from_text("")


def test_char_tokenizer_save_then_load_gives_the_same_ids(tmp_path):
    text = "To be, or not to be: Ça va? 你好 🙂"
    tok = CharTokenizer.from_text(text)
    tok.save(tmp_path / "chars.json")
    loaded = CharTokenizer.load(tmp_path / "chars.json")
    assert loaded.alphabet == tok.alphabet and loaded.encode(text) == tok.encode(text)


def test_char_tokenizer_load_names_what_is_wrong_with_the_file(tmp_path):
    missing = tmp_path / "missing.json"
    message = f"no companion-char-tokenizer file at {missing}"
    with pytest.raises(FileNotFoundError, match=re.escape(message)):
        CharTokenizer.load(missing)
    unsorted = tmp_path / "unsorted.json"
    fields = {"format": "companion-char-tokenizer", "version": 1, "chars": ["b", "a"]}
    unsorted.write_text(json.dumps(fields), "utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{unsorted}: 'chars' must be sorted")):
        CharTokenizer.load(unsorted)


# -- chapter 7: the two steps of BPE ---------------------------------------------------------
def test_pair_counts_counts_overlapping_pairs_in_the_order_first_seen():
    assert pair_counts([97, 97, 97, 98]) == {(97, 97): 2, (97, 98): 1}
    assert list(pair_counts([3, 1, 1, 2])) == [(3, 1), (1, 1), (1, 2)]
    assert pair_counts([5]) == {}


def test_merge_replaces_left_to_right_so_an_overlap_merges_once():
    assert merge([97, 97, 97, 98], (97, 97), 256) == [256, 97, 98]  # not [97, 256, 98]
    assert merge([1, 2, 1, 2, 3], (1, 2), 9) == [9, 9, 3]


# -- training ----------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern", [None, GPT4_SPLIT_PATTERN])
def test_the_classic_example_aaabdaaabac(pattern):
    # Worked by hand (a=97, b=98, c=99, d=100; one chunk either way):
    #   a a a b d a a a b a c: "a a" occurs 4 times             -> (97, 97) = 256 = Z
    #   Z a b d Z a b a c: "Z a" and "a b" twice, "Z a" first   -> (256, 97) = 257 = Y
    #   Y b d Y b a c: "Y b" twice                               -> (257, 98) = 258
    #   258 d 258 a c: every pair once.
    tok = BPETokenizer(pattern=pattern)
    tok.train("aaabdaaabac", vocab_size=259)
    assert tok.merges == {(97, 97): 256, (256, 97): 257, (257, 98): 258}
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.vocab[258] == b"aaab" and tok.vocab_size == 259


@pytest.mark.parametrize(
    ("text", "merges"),
    [
        # a a a a: (a, a) 3 times -> Z; merged left to right: Z Z; then (Z, Z) -> Y.
        ("aaaa", {(97, 97): 256, (256, 256): 257}),
        # a a a a a -> Z Z a; (Z, Z) and (Z, a) once each, (Z, Z) first -> Y a -> X.
        ("aaaaa", {(97, 97): 256, (256, 256): 257, (257, 97): 258}),
        # x y a b: three pairs, once each: the first seen wins, not the smallest (a, b).
        ("xyab", {(120, 121): 256, (256, 97): 257, (257, 98): 258}),
        # a b c a b: (a, b) twice -> Z c Z; (Z, c) and (c, Z) tie, (Z, c) first -> Y Z.
        ("abcab", {(97, 98): 256, (256, 99): 257, (257, 256): 258}),
    ],
)
def test_training_without_a_split_pattern_by_hand(text, merges):
    tok = BPETokenizer(pattern=None)
    tok.train(text, vocab_size=300)  # stops when the text is a single token
    assert tok.merges == merges


def test_ties_across_chunks_go_to_the_earliest_chunk():
    # Chunks "ab", " cd", " cd", " ab": "ab", " c" and "cd" each twice. "ab" is in the
    # first chunk, though " c" (32, 99) is the smallest; then " c" comes before "cd".
    tok = BPETokenizer(pattern=GPT2_SPLIT_PATTERN)
    tok.train("ab cd cd ab", vocab_size=258)
    assert list(tok.merges) == [(ord("a"), ord("b")), (ord(" "), ord("c"))]


@given(
    st.text(alphabet=st.sampled_from("aab \n"), max_size=60),  # many ties and runs of a's
    st.sampled_from([None, GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN]),
)
@settings(PROPERTY, max_examples=300)
def test_training_learns_what_recounting_everything_learns(text, pattern):
    tok = BPETokenizer(pattern=pattern)
    tok.train(text, vocab_size=280)
    assert tok.merges == slow_bpe(text, 280, pattern)


@pytest.mark.parametrize("pattern", [None, GPT4_SPLIT_PATTERN])
def test_training_on_shakespeare_learns_what_recounting_everything_learns(pattern):
    text = tiny_shakespeare()[:10_000]
    tok = BPETokenizer(pattern=pattern)
    tok.train(text, vocab_size=300)
    assert len(tok.merges) == 44
    assert tok.merges == slow_bpe(text, 300, pattern)


def test_training_without_a_split_pattern_learns_what_recounting_learns_on_shakespeare():
    """Without a split pattern the text is one long chunk; each merge now touches only the
    occurrences of its pair (``benchmarks/bpe_train.py --no-split`` measures how much faster
    that is than recounting everything)."""
    text = tiny_shakespeare()[:30_000]
    tok = BPETokenizer(pattern=None)
    tok.train(text, vocab_size=300)
    assert tok.merges == slow_bpe(text, 300, None)


def test_training_stops_when_no_pair_is_left_and_starts_afresh():
    tok = BPETokenizer()
    tok.train("ab", vocab_size=300)
    assert tok.merges == {(97, 98): 256}
    tok.train("", vocab_size=300)
    assert tok.merges == {} and tok.encode("hi") == [104, 105]


def test_progress_bar_only_when_verbose(capsys):
    BPETokenizer().train("aaabdaaabac", vocab_size=259)
    assert capsys.readouterr().err == ""
    BPETokenizer().train("aaabdaaabac", vocab_size=259, verbose=True)
    assert "BPE merges" in capsys.readouterr().err


# -- encoding and decoding --------------------------------------------------------------------
@pytest.mark.parametrize("pattern", [None, GPT4_SPLIT_PATTERN])
def test_encoding_replays_the_merges_in_the_order_learned(pattern):
    text = "the cats sat on the mats; the cat sat on the mat. " * 6  # 300 characters
    tok = trained(pattern)
    # Without a split pattern this is one chunk of 300 characters: the long-text path.
    assert tok.encode(text) == slow_encode(text, tok.merges, pattern)
    assert tok.encode(text[:40]) == slow_encode(text[:40], tok.merges, pattern)


@given(
    st.text(alphabet=st.one_of(ANY_CHARACTER, SOME_ENGLISH), max_size=300),
    st.sampled_from([None, GPT4_SPLIT_PATTERN, r"\w+"]),
)
@PROPERTY
def test_bpe_round_trips_any_text(text, pattern):
    tok = trained(pattern)
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert all(0 <= i < tok.vocab_size for i in ids)


def test_decoding_half_a_character_gives_the_replacement_character():
    tok = BPETokenizer()  # untrained: the 256 byte tokens only
    assert tok.encode("é") == [0xC3, 0xA9]  # é is two bytes in UTF-8
    assert tok.decode([0xC3]) == "\ufffd"


# -- the split pattern ------------------------------------------------------------------------
def test_characters_the_pattern_skips_are_kept_as_chunks_of_their_own():
    # r"\w+" matches "hello" and "world" only: ", " and "!" used to be dropped silently.
    tok = BPETokenizer(pattern=r"\w+")
    assert tok.decode(tok.encode("hello, world!")) == "hello, world!"
    # Chunks "ab", ", ", "ab", "!": (a, b) twice, then (",", " ") first of the rest; no
    # merge spans a gap and a word.
    tok.train("ab, ab!", vocab_size=300)
    assert tok.merges == {(97, 98): 256, (44, 32): 257}


def test_a_pattern_with_capturing_groups_is_refused():
    # findall would return the groups, not the matches: (\w+)|\s+ gives "" for each space.
    message = r"pattern '(\\w+)|\\s+' has 1 capturing group(s), so findall would return"
    with pytest.raises(ValueError, match=re.escape(message)):
        BPETokenizer(pattern=r"(\w+)|\s+")
    BPETokenizer(pattern=r"(?:\w+)|\s+")  # a group that does not capture is fine


def test_a_pattern_that_backtracks_for_ever_stops_with_a_clear_error(tmp_path):
    # (?:a|aa)+$ tries every way of cutting 40 a's into a's and aa's (165,580,141 ways)
    # before failing on the "b": it used to hang encode for ever.
    BPETokenizer(pattern=r"(?:a|aa)+$").save(tmp_path / "slow.json")
    tok = BPETokenizer.load(tmp_path / "slow.json")
    message = "the split pattern '(?:a|aa)+$' took more than 0.5 s to cut a text of 41 characters"
    with pytest.raises(TimeoutError, match=re.escape(message)):
        tok.encode("a" * 40 + "b")


def test_a_pattern_too_large_to_compile_quickly_is_refused_before_compiling(tmp_path):
    # (?:x{2000}){2000} stands for 4,000,000 x's: compiling it took seconds and a gigabyte
    with pytest.raises(ValueError, match="repetition counts .* multiply to 4,000,000"):
        BPETokenizer(pattern=r"(?:x{2000}){2000}")
    assert BPETokenizer(pattern=r"\p{N}{1,3}").encode("12345") == list(b"12345")


# -- special tokens ---------------------------------------------------------------------------
def test_special_tokens_are_encoded_only_when_allowed():
    tok = BPETokenizer()
    tok.train("aaabdaaabac", vocab_size=259)  # "aaab" = 258, as worked out above
    tok.register_special_tokens({"<|endoftext|>": 259, "<|pad|>": 260})
    assert tok.vocab_size == 261
    text = "aaab<|endoftext|>aaab"
    assert tok.encode(text, allowed_special="all") == [258, 259, 258]
    assert tok.encode(text, allowed_special={"<|endoftext|>"}) == [258, 259, 258]
    as_text = tok.encode(text, allowed_special="none")
    assert 259 not in as_text and tok.decode(as_text) == text
    with pytest.raises(ValueError, match=re.escape("text contains the special token(s) ['<|end")):
        tok.encode(text)  # "none_raise", the default
    assert tok.decode([258, 259, 260]) == "aaab<|endoftext|><|pad|>"


def test_a_special_token_name_that_is_not_utf8_registers_nothing(tmp_path):
    tok = BPETokenizer()
    message = "special token name '\\ud800' has a character UTF-8 cannot encode"
    with pytest.raises(ValueError, match=re.escape(message)):
        tok.register_special_tokens({"<ok>": 300, "\ud800": 301})
    assert tok.special_tokens == {}  # not even "<ok>": it used to stay registered
    tok.save(tmp_path / "bpe.json")  # ... and then the tokenizer could not be saved
    assert BPETokenizer.load(tmp_path / "bpe.json").special_tokens == {}


def test_special_tokens_bad_input():
    tok = BPETokenizer()
    tok.train("aaabdaaabac", vocab_size=259)
    cases = [
        ([1], TypeError, "special_tokens must be a dict of name -> id; got a list of 1 item(s)"),
        ({"": 300}, ValueError, "special token names must be non-empty str; got ''"),
        ({"<s>": "300"}, TypeError, "special token '<s>' must have an int id; got the string"),
        ({"<s>": 258}, ValueError, "special token '<s>' has id 258, but ids 0 to 258 are the"),
        ({"<s>": 300, "</s>": 300}, ValueError, "special tokens must have different ids"),
    ]
    for special, error, message in cases:
        with pytest.raises(error, match=re.escape(message)):
            tok.register_special_tokens(special)
    assert tok.special_tokens == {}
    tok.register_special_tokens({"<s>": 300})
    with pytest.raises(ValueError, match=re.escape("allowed_special names tokens that are not")):
        tok.encode("a", allowed_special={"<t>"})
    with pytest.raises(ValueError, match=re.escape("special tokens ['<s>'] have ids below vocab")):
        tok.train("abc", vocab_size=400)


def test_bpe_bad_input():
    tok = BPETokenizer()
    with pytest.raises(ValueError, match=re.escape("vocab_size must be at least 256 (one token")):
        tok.train("abc", vocab_size=255)
    with pytest.raises(TypeError, match=re.escape("vocab_size must be an int; got bool True")):
        tok.train("abc", vocab_size=True)
    with pytest.raises(TypeError, match=re.escape("text must be a str; got bytes b'abc'")):
        tok.encode(b"abc")
    message = r"text has a character UTF-8 cannot encode: '\ud800' at index 2 (a lone surrogate)"
    with pytest.raises(ValueError, match=re.escape(message)):
        tok.train("ab\ud800c", 300)
    with pytest.raises(ValueError, match="ids has token ids the tokenizer does not know: 256"):
        tok.decode([97, 256])
    with pytest.raises(TypeError, match=re.escape("pattern must be a str or None; got int 1")):
        BPETokenizer(pattern=1)
    with pytest.raises(ValueError, match=re.escape("pattern is not a valid regular expression")):
        BPETokenizer(pattern="(")


# -- saving and loading -----------------------------------------------------------------------
@pytest.mark.parametrize("pattern", [GPT4_SPLIT_PATTERN, None, r"\w+"])
def test_save_then_load_gives_identical_encodings(tmp_path, pattern):
    tok = BPETokenizer(pattern=pattern)
    text = "the cat sat on the mat; the cats sat on the mats. 你好 🙂 " * 5
    tok.train(text, vocab_size=290)
    tok.register_special_tokens({"<|endoftext|>": 290, "<|fin|>": 291})
    tok.save(tmp_path / "bpe.json")
    loaded = BPETokenizer.load(tmp_path / "bpe.json")
    assert loaded.pattern == pattern
    assert loaded.merges == tok.merges and len(tok.merges) > 10
    assert loaded.special_tokens == {"<|endoftext|>": 290, "<|fin|>": 291}
    sample = text + "<|endoftext|> cats<|fin|>"
    assert loaded.encode(sample, "all") == tok.encode(sample, "all")


def test_the_file_lists_the_merges_in_order(tmp_path):
    tok = BPETokenizer()
    tok.train("aaabdaaabac", vocab_size=259)
    tok.save(tmp_path / "bpe.json")
    saved = json.loads((tmp_path / "bpe.json").read_text("utf-8"))
    assert saved["merges"] == [[97, 97], [256, 97], [257, 98]]  # merge k makes id 256 + k
    assert saved["format"] == "companion-bpe" and saved["version"] == 1


@pytest.fixture
def good_file(tmp_path):
    """The fields of a valid tokenizer file (the aaabdaaabac merges)."""
    tok = BPETokenizer()
    tok.train("aaabdaaabac", vocab_size=259)
    tok.save(tmp_path / "good.json")
    return json.loads((tmp_path / "good.json").read_text("utf-8"))


def test_bpe_load_of_a_file_that_is_missing_or_not_a_bpe_file(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError, match=re.escape(f"no companion-bpe file at {missing}")):
        BPETokenizer.load(missing)
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"format": "companion-bpe", "merg', "utf-8")
    message = f"{truncated} is not a companion-bpe file: it is not valid JSON"
    with pytest.raises(ValueError, match=re.escape(message)):
        BPETokenizer.load(truncated)
    chars = tmp_path / "chars.json"
    CharTokenizer("ab").save(chars)
    with pytest.raises(ValueError, match=re.escape(f"{chars} is not a companion-bpe file: its")):
        BPETokenizer.load(chars)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, " is a companion-bpe file of version 2; this companion reads version 1"),
        ({"merges": {"a": 1}}, ": 'merges' must be a list of [a, b] pairs"),
        ({"merges": [[97, 97], [300, 97]]}, ": merge 1 must be a pair of token ids below 257"),
        ({"merges": [[97, 97], [97, 97]]}, ": 'merges' lists the same pair twice"),
        ({"pattern": "("}, ": 'pattern': pattern is not a valid regular expression"),
        ({"pattern": "(a|aa)+$"}, ": 'pattern': pattern '(a|aa)+$' has 1 capturing group(s)"),
        ({"special_tokens": {"<s>": 1}}, ": 'special_tokens': special token '<s>' has id 1"),
        ({"special_tokens": {"\ud800": 300}}, ": 'special_tokens': special token name '\\ud800'"),
    ],
)
def test_bpe_load_names_the_field_that_is_wrong(tmp_path, good_file, change, message):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(good_file | change), "utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{bad}{message}")):
        BPETokenizer.load(bad)
