"""Exercises of chapter 16, The Transformer architecture."""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import replace

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, register, whole_number
from companion.data.number_words import BOS, EOS, NumberWords, number_to_words
from companion.models.transformer import TransformerConfig

#: Exercise 16.1: the decoder's input and labels for this number, written alone.
NUMBER_16_1 = 40

#: Exercise 16.2: a batch of 3 numbers, padded to 6 digits; target inputs of 40 positions;
#: 4 heads. The shape of one decoder block's cross-attention weights ``cross_attn.u``.
BATCH_16_2, SRC_LEN_16_2, TGT_LEN_16_2, N_HEAD_16_2 = 3, 6, 40, 4

#: Exercise 16.3: the three attentions of the encoder-decoder; which of them are masked?
ATTENTIONS_16_3 = ("encoder self-attention", "decoder self-attention", "cross-attention")

#: Exercise 16.4: a small Transformer for the numbers task, with biases.
CONFIG_16_4 = TransformerConfig(
    src_vocab_size=11, tgt_vocab_size=24, src_block_size=6, tgt_block_size=65,
    n_layer=1, n_head=2, n_embd=16,
)  # fmt: skip

#: Exercise 16.5: the decoder has read "^twent" and scores these 5 characters; the logits of
#: its last two positions, one row per position, one column per character.
ALPHABET_16_5 = ("e", "n", "t", "y", "$")
LOGITS_16_5 = np.array(
    [
        [0.3, 1.2, 4.1, 0.5, -1.0],  # at "n", the position before the last
        [1.8, -0.4, 0.9, 3.6, 2.2],  # at "t", the last position
    ]
)

_TARGET = NumberWords().target  # the target alphabet, to read answers given as ids


def _text(answer: object) -> str | None:
    """The answer as text: a str, or target ids read with the task's alphabet; else None."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, np.ndarray) and answer.ndim == 1 and answer.dtype.kind in "iu":
        answer = answer.tolist()
    if isinstance(answer, list | tuple) and answer:
        if all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in answer):
            ids = [int(i) for i in answer]
            if all(0 <= i < _TARGET.vocab_size for i in ids):
                return _TARGET.decode(ids)
    return None


@register("16.1", "tgt_in and tgt_out, as text with ^ and $, for the number 40 alone.")
def _shifted(answer: object) -> Verdict:
    words = number_to_words(NUMBER_16_1)
    right = (BOS + words, words + EOS)
    if isinstance(answer, str | bytes):
        return Verdict(
            False,
            f"Expected a pair (tgt_in, tgt_out), two texts such as ('{BOS}...', '...'); "
            f"got one {type(answer).__name__}.",
        )
    if not isinstance(answer, list | tuple) or len(answer) != 2:
        return Verdict(
            False, f"Expected a pair (tgt_in, tgt_out) of two texts; got {answer!r:.60}."
        )
    got_in, got_out = _text(answer[0]), _text(answer[1])
    if got_in is None or got_out is None:
        return Verdict(
            False,
            f"Each of the two must be a text (or the target ids of one); got {answer!r:.60}.",
        )
    got = (got_in, got_out)
    if got == right:
        return Verdict(
            True, f"tgt_in = {right[0]!r}; tgt_out = {right[1]!r} is it shifted left, EOS last."
        )
    if got == right[::-1]:
        return Verdict(False, "Swapped: tgt_in is what the decoder reads, so it starts with BOS.")
    if got_in == got_out:
        return Verdict(
            False,
            "The two are not the same: the label of each position is the next character, so "
            "tgt_out is tgt_in shifted one to the left.",
        )
    plain = [g.replace(BOS, "").replace(EOS, "") for g in (got_in, got_out)]
    if plain[0] != words or plain[1] != words:
        wrong = plain[0] if plain[0] != words else plain[1]
        if wrong == words.replace("or", "our"):
            return Verdict(False, f"Check the spelling: number_to_words({NUMBER_16_1}) has no u.")
        return Verdict(
            False, f"The words of {NUMBER_16_1} are number_to_words({NUMBER_16_1}) = {words!r}."
        )
    if got_in != right[0]:
        return Verdict(
            False, f"tgt_in is BOS ({BOS!r}) followed by the words, and no EOS: {BOS}words."
        )
    return Verdict(False, f"tgt_out is the words followed by EOS ({EOS!r}), with no BOS.")


def _shape(answer: object) -> tuple[int, ...] | Verdict:
    """The answer as a tuple of whole numbers, or a Verdict that says what is wrong."""
    if isinstance(answer, np.ndarray) and answer.ndim > 1:
        return Verdict(False, "That is an array; answer with its shape (.shape), four numbers.")
    if isinstance(answer, str | bytes) or not isinstance(answer, Sized) or len(answer) == 0:
        return Verdict(False, f"Expected a shape, such as (1, 2, 3, 4); got {answer!r:.60}.")
    got = as_numbers(answer, (len(answer),))
    if isinstance(got, Verdict):
        return got
    if not np.all(got == np.round(got)):
        return Verdict(False, "The sizes of a shape are whole numbers.")
    return tuple(int(n) for n in got)


@register("16.2", "The shape of cross_attn.u for 3 sources of 6, targets of 40, 4 heads.")
def _weights_shape(answer: object) -> Verdict:
    got = _shape(answer)
    if isinstance(got, Verdict):
        return got
    B, S, T, nh = BATCH_16_2, SRC_LEN_16_2, TGT_LEN_16_2, N_HEAD_16_2
    if got == (B, nh, T, S):
        return Verdict(
            True,
            f"[B, n_head, T, S] = [{B}, {nh}, {T}, {S}]: per head, a row per target position.",
        )
    if got == (B, nh, S, T):
        return Verdict(
            False,
            "Rows and columns swapped: the queries come from the target, so each of the T "
            "target positions has a row of S weights.",
        )
    if got == (B, nh, T, T):
        return Verdict(
            False, "That is the decoder's self-attention; cross-attention's keys are the memory."
        )
    if got == (B, nh, S, S):
        return Verdict(False, "That is the encoder's self-attention; the queries are the target's.")
    if len(got) != 4:
        return Verdict(False, "Four axes: the batch, the heads, and a table per head.")
    if got[0] != B:
        return Verdict(False, "The batch axis comes first: each number has its own weights.")
    if got[1] != nh:
        return Verdict(False, "The heads' axis comes second, as in chapter 13's u.")
    return Verdict(False, "Four axes: the batch, the heads, the target positions, the source ones.")


def _names(answer: object) -> set[str] | Verdict:
    """The answer as a set of the known names, or a Verdict that says what is wrong."""
    if isinstance(answer, str):
        answer = [answer]
    if not isinstance(answer, Iterable) or isinstance(answer, bytes | dict):
        return Verdict(False, f"Expected a list of names from ATTENTIONS_16_3; got {answer!r:.60}.")
    items = list(answer)
    if not all(isinstance(a, str) for a in items):
        return Verdict(
            False, f"Expected names (texts) from ATTENTIONS_16_3, {list(ATTENTIONS_16_3)}."
        )
    names = {a.strip().lower() for a in items}
    unknown = names - set(ATTENTIONS_16_3)
    if unknown:
        return Verdict(
            False,
            f"{sorted(unknown)} is not one of the names; use those of ATTENTIONS_16_3, "
            f"{list(ATTENTIONS_16_3)}.",
        )
    return names


@register("16.3", "Which of the encoder-decoder's three attentions have a causal mask?")
def _masked(answer: object) -> Verdict:
    got = _names(answer)
    if isinstance(got, Verdict):
        return got
    encoder, decoder, cross = ATTENTIONS_16_3
    if got == {decoder}:
        return Verdict(
            True,
            "Only the decoder's self-attention, which reads the text it writes; the source is "
            "known in full.",
        )
    if encoder in got:
        return Verdict(
            False,
            "The encoder reads a source that is known in full before anything is written: "
            "every digit may look at every other, before and after it.",
        )
    if cross in got:
        return Verdict(
            False,
            "Cross-attention looks at the memory, the whole source, complete before the first "
            "character is written: a mask there would hide digits the words need.",
        )
    return Verdict(
        False,
        "One of them must not see later positions: which one reads the text it is writing?",
    )


@register("16.4", "The parameters of CONFIG_16_4 (one layer each side, C = 16, biases).")
def _parameters(answer: object) -> Verdict:
    got = whole_number(answer)
    if isinstance(got, Verdict):
        return got
    c = CONFIG_16_4
    C = c.n_embd
    right = c.n_parameters()
    encoder, decoder = 12 * C * C + 13 * C, 16 * C * C + 19 * C
    tables = (c.src_vocab_size + c.src_block_size + c.tgt_vocab_size + c.tgt_block_size) * C
    if got == right:
        return Verdict(
            True,
            f"Tables {tables:,}, encoder block {encoder:,}, decoder block {decoder:,}, two final "
            f"layer norms {4 * C}, head {C * c.tgt_vocab_size}: {right:,}.",
        )
    if got == right - (4 * C * C + 4 * C):
        return Verdict(
            False,
            "That is a GPT-like decoder block: add its cross-attention, 4C^2 weights + 4C biases.",
        )
    if got == right - 2 * C:
        return Verdict(False, "A decoder block has three layer norms, 2C parameters each.")
    if got == right - C * c.tgt_vocab_size:
        return Verdict(
            False,
            "Add the head, a C x tgt_vocab_size matrix: it is not the target token table.",
        )
    if got == right - 4 * C:
        return Verdict(False, "Add the two final layer norms, one after each stack: 2C each.")
    if got == right - (c.src_block_size + c.tgt_block_size) * C:
        return Verdict(False, "Add the two position tables, one row of C numbers per position.")
    if got == right + encoder + decoder:
        return Verdict(False, "n_layer = 1 here: one encoder block and one decoder block.")
    if got == replace(c, bias=False).n_parameters():
        return Verdict(False, "This config has biases: count the linear layers' biases too.")
    return Verdict(
        False,
        "Add the four tables, one encoder block (12C^2 + 13C), one decoder block "
        "(16C^2 + 19C), the two final layer norms (2C each) and the head (C x 24).",
    )


@register("16.5", "The character greedy decoding writes next, from LOGITS_16_5.")
def _next_character(answer: object) -> Verdict:
    last = LOGITS_16_5[-1]
    right = ALPHABET_16_5[int(last.argmax())]
    if isinstance(answer, bool) or answer is None:
        return Verdict(False, f"Expected one character of ALPHABET_16_5; got {answer!r:.60}.")
    if isinstance(answer, int | np.integer):
        if int(answer) == int(last.argmax()):
            return Verdict(False, "That is the column of the largest score; which character is it?")
        return Verdict(False, "Answer with the character itself, one of ALPHABET_16_5.")
    if not isinstance(answer, str):
        return Verdict(False, f"Expected one character (a str); got {answer!r:.60}.")
    if answer == right:
        return Verdict(
            True,
            f"The last row's largest score, {last.max():g}, is {right!r}: twenty. Softmax "
            "keeps the order.",
        )
    if answer not in ALPHABET_16_5:
        return Verdict(False, f"Expected one of {list(ALPHABET_16_5)}; got {answer!r:.60}.")
    if answer == ALPHABET_16_5[int(LOGITS_16_5[0].argmax())]:
        return Verdict(
            False,
            "That is the largest score of the first row, which predicted the last character "
            "already read; the next one comes from the last row.",
        )
    if answer == ALPHABET_16_5[int(last.argmin())]:
        return Verdict(False, "That is the smallest score; greedy decoding takes the largest.")
    return Verdict(False, "Greedy decoding takes the character with the largest score.")
