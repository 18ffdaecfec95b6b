"""Exercises of chapter 7, Sub-word tokenizers."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from companion.aids.exercises._checker import Verdict, register
from companion.tokenizers.bpe import merge, pair_counts

#: The token ids of exercise 7.1.
PAIR_IDS = [4, 1, 2, 3, 1, 2, 2, 3, 1, 2, 3, 2, 3, 4]
#: Exercise 7.2: merge the pair (1, 1) of these ids into the new id 4.
MERGE_IDS = [1, 1, 1, 2, 1, 1, 3]
MERGE_PAIR = (1, 1)
MERGE_NEW_ID = 4
#: Exercise 7.3: encode this text with these merges (learned in this order), no split.
COUNT_TEXT = "the cats sat"
COUNT_MERGES = {(97, 116): 256, (116, 104): 257, (257, 101): 258, (32, 99): 259, (259, 256): 260}
#: Exercise 7.4: decode these ids with the merges learned from "aaabdaaabac".
DECODE_MERGES = {(97, 97): 256, (256, 97): 257, (257, 98): 258}
DECODE_IDS = [258, 100, 256, 99, 257]


def _as_ids(answer: object) -> list[int] | Verdict:
    """The answer as a list of Python ints, or a Verdict that says what is wrong."""
    if isinstance(answer, str | bytes):
        return Verdict(False, f"Expected token ids (whole numbers), got the text {answer!r}.")
    if answer is None:
        return Verdict(False, "Expected token ids, got None: did the cell `return` or `print`?")
    if isinstance(answer, np.ndarray):
        if answer.ndim != 1:
            return Verdict(False, f"Expected a flat list of ids; got shape {list(answer.shape)}.")
        answer = answer.tolist()
    if not isinstance(answer, Iterable) or isinstance(answer, dict):
        return Verdict(False, f"Expected a list of token ids; got {answer!r}.")
    ids = list(answer)
    for i in ids:
        if isinstance(i, bool | np.bool_) or not isinstance(i, int | np.integer):
            return Verdict(False, f"Token ids are whole numbers; {i!r} is not one.")
    return [int(i) for i in ids]


def _token_texts(merges: dict[tuple[int, int], int], ids: list[int]) -> list[str]:
    """The text of each token id, with the vocabulary that ``merges`` build on the bytes."""
    vocab = {i: bytes([i]) for i in range(256)}
    for (a, b), new_id in merges.items():
        vocab[new_id] = vocab[a] + vocab[b]
    return [vocab[i].decode("utf-8") for i in ids]


def _as_count(answer: object) -> int | None:
    """The answer as an int when it is one whole number, else None."""
    if isinstance(answer, bool | np.bool_):
        return None
    if isinstance(answer, int | np.integer):
        return int(answer)
    if isinstance(answer, float | np.floating) and float(answer).is_integer():
        return int(answer)
    return None


@register("7.1", "The most frequent pair of neighbouring ids in PAIR_IDS.")
def _most_frequent_pair(answer: object) -> Verdict:
    counts = pair_counts(PAIR_IDS)
    best = max(counts, key=lambda pair: counts[pair])
    if _as_count(answer) == counts[best]:
        return Verdict(False, "That is how often the pair occurs; answer with the pair itself.")
    got = _as_ids(answer)
    if isinstance(got, Verdict):
        return got
    if len(got) != 2:
        return Verdict(False, f"A pair is two ids, such as (1, 2); got {len(got)}.")
    pair = (got[0], got[1])
    if pair == best:
        return Verdict(True, f"{best} occurs {counts[best]} times, more than any other pair.")
    if pair[::-1] == best:
        return Verdict(False, f"Order matters: {pair} is not the same pair as {pair[::-1]}.")
    if pair in counts:
        return Verdict(
            False,
            f"{pair} occurs {counts[pair]} time(s); count every pair again, overlaps included.",
        )
    return Verdict(False, f"{pair} never occurs: a pair is two ids side by side in the list.")


@register("7.2", "MERGE_IDS after merging the pair (1, 1) into the new id 4.")
def _one_merge(answer: object) -> Verdict:
    got = _as_ids(answer)
    if isinstance(got, Verdict):
        return got
    right = merge(MERGE_IDS, MERGE_PAIR, MERGE_NEW_ID)
    if got == right:
        return Verdict(True, "Left to right, each id used at most once: 1, 1, 1 -> 4, 1.")
    if got == list(MERGE_IDS):
        return Verdict(False, "Nothing changed: replace each (1, 1) by the single id 4.")
    if got == [1, 4, 2, 4, 3]:
        return Verdict(False, "Go from left to right: the first two 1s of 1, 1, 1 pair up.")
    if got == [4, 4, 2, 4, 3]:
        return Verdict(False, "The middle 1 of 1, 1, 1 cannot be in two merges at once.")
    if MERGE_NEW_ID not in got:
        return Verdict(False, "The merged pair becomes the new id 4.")
    return Verdict(False, "Walk left to right; on 1 followed by 1, write 4 and skip both.")


@register("7.3", "How many tokens COUNT_MERGES make of COUNT_TEXT.")
def _count_tokens(answer: object) -> Verdict:
    ids = list(COUNT_TEXT.encode("utf-8"))
    for pair, new_id in COUNT_MERGES.items():  # in the order they were learned
        ids = merge(ids, pair, new_id)
    if not isinstance(answer, str | bytes | dict) and isinstance(answer, Iterable):
        listed = _as_ids(answer)
        if listed == ids:
            return Verdict(False, "These are the right ids; the answer is how many: len(ids).")
        return Verdict(False, "Answer with one whole number: how many tokens.")
    n = _as_count(answer)
    if n is None:
        return Verdict(False, f"Expected one whole number (how many tokens); got {answer!r}.")
    if n == len(ids):
        tokens = ", ".join(repr(t) for t in _token_texts(COUNT_MERGES, ids))
        return Verdict(True, f"{len(ids)} tokens: {tokens}.")
    if n == len(COUNT_TEXT.encode("utf-8")):
        return Verdict(False, "That is the number of bytes, before any merge: apply the merges.")
    if n == len(COUNT_TEXT.split()):
        return Verdict(False, "That counts words; BPE tokens are not words. Apply the merges.")
    if n == len(ids) - 2:  # what the chapter's cats tokenizer makes: 'the', ' cat', 's', ' sat'
        return Verdict(
            False,
            "That is what the chapter's cats tokenizer makes, with its 12 merges (' s' and "
            "' sat' among them); use only the five merges given here.",
        )
    if n == len(ids) - 1:  # ' ' + 's' merged, or ' cat' + 's'
        return Verdict(
            False,
            "One token short. Only listed pairs merge: no merge joins ' ' and 's' (the one "
            "space merge, (32, 99), joins ' ' and 'c'), and none joins ' cat' and 's'.",
        )
    if n in (len(ids) + 1, len(ids) + 2):  # 'th' + 'e' or ' c' + 'at' left apart
        return Verdict(
            False,
            "Too many tokens: apply each merge to the list the earlier merges left, since "
            "258 joins 257 ('th') and 'e', and 260 joins 259 (' c') and 256 ('at').",
        )
    return Verdict(False, "Start from the bytes and apply each merge to the whole list, in order.")


@register("7.4", "The text of DECODE_IDS, with the merges of 'aaabdaaabac'.")
def _decode(answer: object) -> Verdict:
    right = "".join(_token_texts(DECODE_MERGES, DECODE_IDS))
    if isinstance(answer, bytes):
        if answer == right.encode("utf-8"):
            return Verdict(False, "Right bytes; turn them into text with .decode('utf-8').")
        return Verdict(False, "Look up the bytes of each id, join them, then .decode('utf-8').")
    if isinstance(answer, list | tuple) and all(isinstance(s, str) for s in answer):
        if "".join(answer) == right:
            return Verdict(False, "Right tokens; join them into one text with ''.join(...).")
        return Verdict(False, "Answer with one text, the tokens joined together.")
    if not isinstance(answer, str):
        return Verdict(False, f"Expected a text (a str); got {answer!r}.")
    if answer == right:
        n_chars, n_ids = len(right), len(DECODE_IDS)
        return Verdict(True, f"{DECODE_IDS} is {right!r}: {n_chars} characters from {n_ids} ids.")
    if answer == "".join(chr(i) for i in DECODE_IDS if i < 256):
        return Verdict(False, "Ids from 256 on are merged tokens: 258 is 'aaab'.")
    if len(answer) != len(right):
        return Verdict(
            False,
            f"The text has {len(right)} characters: 256 stands for two bytes, 257 for three "
            "and 258 for four.",
        )
    return Verdict(False, "Build each merged token from its pair: 256 = 97 + 97, and so on.")
