"""The digits -> words task of the Transformer: the words, the alphabets, the batches, the split."""

from __future__ import annotations

import re

import numpy as np
import pytest

from companion.data.number_words import (
    BOS,
    EOS,
    IGNORE,
    PAD,
    NumberWords,
    number_to_words,
)

KNOWN = {
    0: "zero",
    7: "seven",
    13: "thirteen",
    20: "twenty",
    21: "twenty-one",
    99: "ninety-nine",
    100: "one hundred",
    101: "one hundred one",
    110: "one hundred ten",
    999: "nine hundred ninety-nine",
    1000: "one thousand",
    1001: "one thousand one",
    4127: "four thousand one hundred twenty-seven",
    12345: "twelve thousand three hundred forty-five",
    100000: "one hundred thousand",
    900017: "nine hundred thousand seventeen",
    999999: "nine hundred ninety-nine thousand nine hundred ninety-nine",
}

_VALUES = {word: n for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split()
)} | {word: 10 * k for k, word in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2
)}  # fmt: skip


def words_to_number(words: str) -> int:
    """An independent reader of the words, to check the writer against."""
    total, group = 0, 0
    for word in words.split():
        if word == "thousand":
            total, group = (total + group) * 1000, 0
        elif word == "hundred":
            group *= 100
        else:
            group += sum(_VALUES[part] for part in word.split("-"))
    return total + group


@pytest.mark.parametrize(("n", "words"), KNOWN.items())
def test_known_numbers_are_written_as_by_hand(n, words):
    assert number_to_words(n) == words
    assert number_to_words(np.int64(n)) == words


def test_every_number_below_a_million_reads_back_as_itself():
    for n in range(0, 1_000_000, 7):  # every 7th: all digit patterns and lengths
        assert words_to_number(number_to_words(n)) == n, n
    for n in range(1000):
        assert words_to_number(number_to_words(n)) == n, n


@pytest.mark.parametrize("max_digits", [1, 2, 3, 4, 5])
def test_the_block_sizes_fit_the_longest_source_and_target_exactly(max_digits):
    task = NumberWords(max_digits)
    longest = max(len(number_to_words(n)) for n in range(10**max_digits))
    assert task.tgt_block_size == longest + 1  # BOS + words, or words + EOS
    assert task.src_block_size == max_digits
    assert NumberWords(6).tgt_block_size == len(number_to_words(777_777)) + 1 == 65


def test_the_alphabets_hold_every_character_and_the_special_symbols():
    task = NumberWords()
    assert task.source.alphabet == "0123456789" + PAD
    assert set(task.target.alphabet) == set("adefghilnorstuvwxyz -") | {PAD, BOS, EOS}
    assert task.target.vocab_size == 24 and task.source.vocab_size == 11
    for n in range(0, 1_000_000, 997):
        assert task.target.decode(task.target.encode(number_to_words(n))) == number_to_words(n)


def test_a_batch_is_padded_shifted_and_ignores_the_padding():
    task = NumberWords(6)
    numbers = [5, 777_777, 40]
    src, tgt_in, tgt_out = task.batch(numbers)
    assert src.shape == (3, 6) and tgt_in.shape == tgt_out.shape == (3, 65)
    assert task.source.decode(src[0]) == "5" + PAD * 5
    assert task.source.decode(src[1]) == "777777"
    for row, n in enumerate(numbers):
        words = number_to_words(n)
        L = len(words)
        assert task.target.decode(tgt_in[row, : L + 1]) == BOS + words
        assert task.target.decode(tgt_out[row, :L]) == words
        assert tgt_out[row, L] == task.eos
        assert np.all(tgt_out[row, L + 1 :] == IGNORE)
        assert np.all(tgt_in[row, L + 1 :] == task.pad_tgt)
        np.testing.assert_array_equal(tgt_in[row, 1 : L + 1], tgt_out[row, :L])  # shifted by one
    short = task.batch([3, 14])  # sources padded to the block as in training, targets as needed
    assert short[0].shape == (2, 6) and short[1].shape == (2, len("fourteen") + 1)
    assert task.source.decode(short[0][1]) == "14" + PAD * 4
    np.testing.assert_array_equal(task.sources([5, 777_777, 40]), src)


def test_the_split_is_seeded_disjoint_and_covers_every_number():
    task = NumberWords(3)
    train, test = task.split(100, seed=4)
    assert len(test) == 100 and len(train) == 900
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(1000))
    again_train, again_test = task.split(100, seed=4)
    np.testing.assert_array_equal(test, again_test)
    assert not np.array_equal(task.split(100, seed=5)[1], test)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: number_to_words(-1), ValueError, "n must be in [0, 1,000,000); got -1"),
        (lambda: number_to_words(10**6), ValueError, "n must be in [0, 1,000,000); got 1000000"),
        (lambda: number_to_words(2.0), TypeError, "n must be an int; got float 2.0"),
        (lambda: number_to_words(True), TypeError, "n must be an int; got bool True"),
        (lambda: NumberWords(0), ValueError, "max_digits must be an int >= 1; got 0"),
        (lambda: NumberWords(7), ValueError, "max_digits must be at most 6"),
        (lambda: NumberWords(3).split(0, seed=0), ValueError, "n_test must be an int >= 1; got 0"),
        (lambda: NumberWords(3).split(1000, seed=0), ValueError, "n_test must be below the 1,000"),
        (lambda: NumberWords(3).batch([]), ValueError, "numbers must hold at least one number"),
        (lambda: NumberWords(3).batch([1000]), ValueError, "numbers must be in [0, 1,000); got"),
        (lambda: NumberWords(3).batch([-2]), ValueError, "numbers must be in [0, 1,000); got -2"),
    ],
)
def test_bad_input_is_refused(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
