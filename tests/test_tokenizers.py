"""Tokenizers of chapters 5-7: character ids, byte-pair encoding, their files and errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.bpe import (
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    BPETokenizer,
    merge,
    pair_counts,
)
from companion.char_tokenizer import CharTokenizer, letter_number

PROPERTY = settings(max_examples=300, derandomize=True, deadline=None)


def reference_train(text, vocab_size, pattern):
    """The slow BPE of the chapter: recount every pair of the whole text after each merge.

    Python's ``max`` returns the first of equal maxima, and the counts are listed in the
    order the pairs are first seen, so ties go to the pair first seen in the text.
    """
    chunks = [list(c.encode()) for c in regex.findall(pattern, text)] if pattern else []
    if pattern is None and text:
        chunks = [list(text.encode())]
    merges = {}
    for new_id in range(256, vocab_size):
        counts = {}
        for ids in chunks:
            for pair in zip(ids[:-1], ids[1:], strict=True):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        pair = max(counts, key=counts.get)
        merges[pair] = new_id
        chunks = [merge(ids, pair, new_id) for ids in chunks]
    return merges


# -- chapter 5: a = 1, b = 2, ... -----------------------------------------------------------
def test_letter_number_counts_from_a_equals_1_and_ignores_case():
    assert [letter_number(c) for c in "Humpty"] == [8, 21, 13, 16, 20, 25]
    assert letter_number("a") == letter_number("A") == 1
    assert letter_number("z") == 26


@pytest.mark.parametrize("ch", ["ab", "", "1", " ", "é", "İ"])
def test_letter_number_refuses_anything_but_one_letter(ch):
    message = f"ch must be one letter from a to z; got {ch!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        letter_number(ch)


def test_letter_number_refuses_a_number():
    with pytest.raises(TypeError, match="ch must be a one-letter str; got int 5"):
        letter_number(5)


# -- chapter 6: one id per character ----------------------------------------------------------
def test_char_tokenizer_numbers_the_sorted_alphabet():
    tok = CharTokenizer.from_text("humpty dumpty")
    assert tok.alphabet == " dhmptuy"
    assert tok.vocab_size == 8
    assert tok.encode("dump") == [1, 6, 3, 4]
    assert tok.decode([1, 6, 3, 4]) == "dump"
    assert CharTokenizer("cab").alphabet == CharTokenizer(["b", "a", "c", "a"]).alphabet == "abc"


def test_char_tokenizer_decodes_a_numpy_array_of_ids():
    tok = CharTokenizer.from_text("abc")
    assert tok.decode(np.array([2, 0, 1])) == "cab"


@given(st.text(min_size=1))
@PROPERTY
def test_char_tokenizer_round_trip(text):
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert all(0 <= i < tok.vocab_size for i in ids)


def test_char_tokenizer_lists_the_characters_it_does_not_know():
    tok = CharTokenizer.from_text("cafe ")
    message = "text has characters the tokenizer does not know: 'é', '€'"
    with pytest.raises(ValueError, match=re.escape(message)):
        tok.encode("café €€")


def test_char_tokenizer_shortens_a_long_list_of_unknown_characters():
    tok = CharTokenizer("a")
    with pytest.raises(ValueError, match=re.escape("'k' and 2 more")):
        tok.encode("bcdefghijklm")


@pytest.mark.parametrize(
    ("chars", "error", "message"),
    [
        (b"abc", TypeError, "chars must be a str or an iterable of str; got bytes b'abc'"),
        (5, TypeError, "chars must be a str or an iterable of str; got int 5"),
        (["ab"], ValueError, "chars must hold single characters; got the string 'ab'"),
        ([1], ValueError, "chars must hold single characters; got int 1"),
        ("", ValueError, "chars must hold at least one character; got none"),
    ],
)
def test_char_tokenizer_refuses_a_bad_alphabet(chars, error, message):
    with pytest.raises(error, match=re.escape(message)):
        CharTokenizer(chars)


def test_char_tokenizer_refuses_bad_text_and_ids():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=re.escape("text must hold at least one character")):
        CharTokenizer.from_text("")
    with pytest.raises(TypeError, match=re.escape("text must be a str; got int 3")):
        CharTokenizer.from_text(3)
    with pytest.raises(TypeError, match=re.escape("text must be a str; got a list of 1 item(s)")):
        tok.encode(["a"])
    with pytest.raises(
        ValueError,
        match=re.escape("ids has token ids the tokenizer does not know: 3, -1 (known ids: 0 to 2)"),
    ):
        tok.decode([0, 3, -1, 3])
    with pytest.raises(TypeError, match=re.escape("ids must hold int token ids; got float 1.0")):
        tok.decode([1.0])
    with pytest.raises(TypeError, match=re.escape("ids must hold int token ids; got bool True")):
        tok.decode([True])
    with pytest.raises(TypeError, match=re.escape("ids must be a list of int token ids; got the")):
        tok.decode("012")
    with pytest.raises(ValueError, match=re.escape("ids must be one-dimensional; got shape (1,")):
        tok.decode(np.array([[0, 1]]))


def test_char_tokenizer_save_then_load_gives_the_same_ids(tmp_path):
    text = "To be, or not to be: that is the question. Ça va? 你好 🙂 \ud800"
    tok = CharTokenizer.from_text(text)
    tok.save(tmp_path / "chars.json")
    loaded = CharTokenizer.load(str(tmp_path / "chars.json"))
    assert loaded.alphabet == tok.alphabet
    assert loaded.encode(text) == tok.encode(text)


def test_char_tokenizer_load_names_what_is_wrong_with_the_file(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError, match=re.escape(f"no tokenizer file at {missing}")):
        CharTokenizer.load(missing)
    good = tmp_path / "good.json"
    CharTokenizer("abc").save(good)
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good.read_text("utf-8")[:20], "utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{truncated} is not a tokenizer file: it is")):
        CharTokenizer.load(truncated)
    bpe_file = tmp_path / "bpe.json"
    BPETokenizer().save(bpe_file)
    message = f"{bpe_file} is not a companion-char-tokenizer file: its format is 'companion-bpe'"
    with pytest.raises(ValueError, match=re.escape(message)):
        CharTokenizer.load(bpe_file)
    broken = [(["b", "a"], "must be sorted"), (["a", 1], "must be a list of distinct characters")]
    for chars, what in broken:
        bad = tmp_path / "bad.json"
        data = {"format": "companion-char-tokenizer", "version": 1, "chars": chars}
        bad.write_text(json.dumps(data), "utf-8")
        with pytest.raises(ValueError, match=re.escape(f"{bad}: 'chars' {what}")):
            CharTokenizer.load(bad)
    with pytest.raises(TypeError, match=re.escape("path must be a str or a path; got int 3")):
        CharTokenizer("a").save(3)


# -- chapter 7: byte-pair encoding ---------------------------------------------------------
def test_pair_counts_and_merge_by_hand():
    assert pair_counts([97, 97, 97, 98]) == {(97, 97): 2, (97, 98): 1}
    assert list(pair_counts([3, 1, 1, 2])) == [(3, 1), (1, 1), (1, 2)]  # order first seen
    assert pair_counts([5]) == {}
    assert merge([97, 97, 97, 98], (97, 97), 256) == [256, 97, 98]  # left to right
    assert merge([1, 2, 1, 2, 3], (1, 2), 9) == [9, 9, 3]


def test_classic_example_aaabdaaabac():
    tok = BPETokenizer()
    tok.train("aaabdaaabac", vocab_size=259)
    # "aa" 4 times; then "aa"+"a" and "a"+"b" both twice: "aa"+"a" is seen first.
    assert tok.merges == {(97, 97): 256, (256, 97): 257, (257, 98): 258}
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"
    assert tok.vocab[258] == b"aaab"
    assert tok.vocab_size == 259


def test_ties_go_to_the_pair_first_seen_not_the_smallest():
    tok = BPETokenizer(pattern=None)
    tok.train("xyab", vocab_size=257)  # three pairs, each once
    assert tok.merges == {(ord("x"), ord("y")): 256}


def test_ties_across_chunks_go_to_the_earliest_chunk():
    # Chunks "ab", " cd", " cd", " ab": "ab", " c" and "cd" are each seen twice. "ab" is
    # first (chunk 0) though " c" is the smallest pair; then " c" comes before "cd".
    tok = BPETokenizer(pattern=GPT2_SPLIT_PATTERN)
    tok.train("ab cd cd ab", vocab_size=258)
    assert list(tok.merges) == [(ord("a"), ord("b")), (ord(" "), ord("c"))]


def test_training_is_deterministic():
    text = "the cat sat on the mat; the cats sat on the mats. " * 20
    first, second = BPETokenizer(), BPETokenizer()
    first.train(text, vocab_size=300)
    second.train(text, vocab_size=300)
    assert first.merges == second.merges
    assert len(first.merges) > 10


@given(
    st.text(alphabet=st.sampled_from("ab cé\n"), max_size=60),
    st.sampled_from([None, GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN]),
)
@settings(max_examples=150, derandomize=True, deadline=None)
def test_incremental_training_equals_recounting_everything(text, pattern):
    tok = BPETokenizer(pattern=pattern)
    tok.train(text, vocab_size=275)
    assert tok.merges == reference_train(text, 275, pattern)


def test_training_stops_when_no_pair_is_left():
    tok = BPETokenizer()
    tok.train("ab", vocab_size=300)
    assert tok.merges == {(97, 98): 256}
    tok.train("", vocab_size=300)
    assert tok.merges == {} and tok.encode("hi") == [104, 105]


def test_a_round_trip_through_many_scripts():
    tok = BPETokenizer()
    tok.train("hello world, hello there; say hello!", vocab_size=270)
    text = "hello wörld 你好 🙂👍🏽 \n\t ?? 123456 hello"
    assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode("hello")) == 1


def test_decoding_half_a_character_gives_the_replacement_character():
    tok = BPETokenizer()  # untrained: the 256 byte tokens only
    assert tok.vocab_size == 256
    assert tok.encode("é") == [0xC3, 0xA9]
    assert tok.decode([0xC3]) == "\ufffd"


def test_save_then_load_gives_identical_encodings(tmp_path):
    text = "the cat sat on the mat; the cats sat on the mats. 你好 🙂 " * 5
    for pattern in (GPT4_SPLIT_PATTERN, None):
        tok = BPETokenizer(pattern=pattern)
        tok.train(text, vocab_size=290)
        tok.register_special_tokens({"<|endoftext|>": 290, "<|fin|>": 291})
        tok.save(tmp_path / "bpe.json")
        loaded = BPETokenizer.load(tmp_path / "bpe.json")
        assert loaded.pattern == pattern
        assert loaded.merges == tok.merges
        assert loaded.special_tokens == {"<|endoftext|>": 290, "<|fin|>": 291}
        sample = text + "<|endoftext|> cats<|fin|>"
        assert loaded.encode(sample, "all") == tok.encode(sample, "all")


def test_special_tokens_are_encoded_only_when_allowed():
    tok = BPETokenizer()
    tok.train("aaabdaaabac", vocab_size=259)
    tok.register_special_tokens({"<|endoftext|>": 259, "<|pad|>": 260})
    assert tok.vocab_size == 261
    text = "aaab<|endoftext|>aaab"
    assert tok.encode(text, allowed_special="all") == [258, 259, 258]
    assert tok.encode(text, allowed_special={"<|endoftext|>"}) == [258, 259, 258]
    as_text = tok.encode(text, allowed_special="none")
    assert 259 not in as_text and tok.decode(as_text) == text
    assert tok.encode("<|pad|><|endoftext|>", allowed_special={"<|pad|>"})[0] == 260
    assert tok.decode([258, 259, 260]) == "aaab<|endoftext|><|pad|>"
    with pytest.raises(ValueError, match=re.escape("text contains the special token(s) ['<|end")):
        tok.encode(text)
    assert tok.encode("aaab") == [258]  # no special token in it: nothing to refuse


def test_special_tokens_bad_input():
    tok = BPETokenizer()
    tok.train("aaabdaaabac", vocab_size=259)
    cases = [
        ([1], TypeError, "special_tokens must be a dict of name -> id; got a list of 1 item(s)"),
        ({"": 300}, ValueError, "special token names must be non-empty str; got ''"),
        ({"<s>": "300"}, TypeError, "special token '<s>' must have an int id; got the string"),
        ({"<s>": 258}, ValueError, "special token '<s>' has id 258, but ids 0 to 258 are the"),
        ({"<s>": -1}, ValueError, "special token '<s>' has id -1"),
        ({"<s>": 300, "</s>": 300}, ValueError, "special tokens must have different ids"),
    ]
    for special, error, message in cases:
        with pytest.raises(error, match=re.escape(message)):
            tok.register_special_tokens(special)
    tok.register_special_tokens({"<s>": 300})
    with pytest.raises(ValueError, match=re.escape("allowed_special names tokens that are not")):
        tok.encode("a", allowed_special={"<t>"})
    with pytest.raises(TypeError, match=re.escape("allowed_special must be 'all', 'none', 'no")):
        tok.encode("a", allowed_special="some")
    with pytest.raises(ValueError, match=re.escape("special tokens ['<s>'] have ids below vocab")):
        tok.train("abc", vocab_size=400)


def test_bpe_bad_input():
    tok = BPETokenizer()
    with pytest.raises(ValueError, match=re.escape("vocab_size must be at least 256 (one token")):
        tok.train("abc", vocab_size=255)
    with pytest.raises(TypeError, match=re.escape("vocab_size must be an int; got bool True")):
        tok.train("abc", vocab_size=True)
    with pytest.raises(TypeError, match=re.escape("text must be a str; got bytes b'abc'")):
        tok.train(b"abc", vocab_size=300)
    with pytest.raises(TypeError, match=re.escape("text must be a str; got NoneType None")):
        tok.encode(None)
    lone = "ab\ud800c"
    message = r"text has a character UTF-8 cannot encode: '\ud800' at index 2 (a lone surrogate)"
    for call in (lambda: tok.encode(lone), lambda: tok.train(lone, 300)):
        with pytest.raises(ValueError, match=re.escape(message)):
            call()
    with pytest.raises(
        ValueError,
        match=re.escape("ids has token ids the tokenizer does not know: 256, 1000 (known ids: 0"),
    ):
        tok.decode([97, 256, 1000])
    with pytest.raises(TypeError, match=re.escape("ids must hold int token ids; got the string")):
        tok.decode(["a"])
    with pytest.raises(TypeError, match=re.escape("pattern must be a str or None; got int 1")):
        BPETokenizer(pattern=1)
    with pytest.raises(ValueError, match=re.escape("pattern is not a valid regular expression")):
        BPETokenizer(pattern="(")


def test_bpe_load_names_what_is_wrong_with_the_file(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError, match=re.escape(f"no tokenizer file at {missing}")):
        BPETokenizer.load(missing)
    good = tmp_path / "good.json"
    tok = BPETokenizer()
    tok.train("aaabdaaabac", vocab_size=259)
    tok.save(good)
    saved = json.loads(good.read_text("utf-8"))
    assert saved["merges"] == [[97, 97], [256, 97], [257, 98]]

    truncated = tmp_path / "truncated.json"
    truncated.write_text(good.read_text("utf-8")[:-30], "utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{truncated} is not a tokenizer file: it is")):
        BPETokenizer.load(truncated)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match=re.escape(f"{binary} is not a tokenizer file")):
        BPETokenizer.load(binary)
    chars = tmp_path / "chars.json"
    CharTokenizer("ab").save(chars)
    with pytest.raises(ValueError, match=re.escape(f"{chars} is not a companion-bpe file: its")):
        BPETokenizer.load(chars)

    broken = [
        ({"version": 2}, " is a companion-bpe file of version 2; this companion reads version 1"),
        ({"format": None}, " is not a companion-bpe file: its format is None"),
        ({"merges": [[97, 97], [300, 97]]}, ": merge 1 must be a pair of token ids below 257"),
        ({"merges": [[97, 97], [97, 97]]}, ": 'merges' lists the same pair twice"),
        ({"merges": {"a": 1}}, ": 'merges' must be a list of [a, b] pairs"),
        ({"merges": [[97, True]]}, ": merge 0 must be a pair of token ids below 256"),
        ({"pattern": "("}, ": 'pattern': pattern is not a valid regular expression"),
        ({"special_tokens": {"<s>": 1}}, ": 'special_tokens': special token '<s>' has id 1"),
    ]
    for change, message in broken:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(saved | change), "utf-8")
        with pytest.raises(ValueError, match=re.escape(f"{bad}{message}")):
            BPETokenizer.load(bad)
    with pytest.raises(TypeError, match=re.escape("path must be a str or a path; got NoneType")):
        tok.save(None)


def test_progress_bar_only_when_verbose(capsys):
    BPETokenizer().train("aaabdaaabac", vocab_size=259)
    assert capsys.readouterr().err == ""
    BPETokenizer().train("aaabdaaabac", vocab_size=259, verbose=True)
    assert "BPE merges" in capsys.readouterr().err


# -- a tokenizer trained on Tiny Shakespeare ----------------------------------------------
@pytest.fixture(scope="module")
def shakespeare():
    from companion.data import tiny_shakespeare

    text = tiny_shakespeare()[:100_000]
    tok = BPETokenizer()
    tok.train(text, vocab_size=400)
    return text, tok


def test_shakespeare_merges_equal_recounting_everything(shakespeare):
    text, tok = shakespeare
    assert len(tok.merges) == 400 - 256
    tok_small = BPETokenizer()
    tok_small.train(text[:20_000], vocab_size=300)
    assert tok_small.merges == reference_train(text[:20_000], 300, GPT4_SPLIT_PATTERN)


def test_shakespeare_tokenizer_compresses_its_text(shakespeare):
    text, tok = shakespeare
    ids = tok.encode(text[:10_000])
    assert tok.decode(ids) == text[:10_000]
    assert len(ids) < 0.6 * len(text[:10_000].encode("utf-8"))  # 144 merges: 0.54


UNICODE = st.one_of(
    st.characters(codec="utf-8"),  # any character UTF-8 can encode (no lone surrogates)
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK ideographs
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.sampled_from(list("etaoin shrdlu,.;:!?'\n")),  # English, so merges apply
)


@given(st.text(alphabet=UNICODE, max_size=200))
@PROPERTY
def test_shakespeare_tokenizer_round_trips_any_unicode(shakespeare, text):
    _, tok = shakespeare
    ids = tok.encode(text)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text
