"""How BPE learns its merges: the chapter's two steps, and the same done fast.

The chapter counts every pair of neighbouring tokens (:func:`pair_counts`), merges the most
frequent pair everywhere (:func:`merge`), and starts again: every merge costs a pass over
the whole text. :func:`learn_merges`, which :meth:`BPETokenizer.train
<companion.tokenizers.bpe.BPETokenizer.train>` calls, learns the very same merges, but a
merge only touches the places where the merged pair occurs:

* The tokens sit in one long row, kept as a *linked list*: ``nxt[p]`` and ``prv[p]`` are
  the positions of the tokens after and before the token at position ``p`` (-1 at the ends
  of a chunk, so no pair spans two chunks). Two tokens become one by relinking their
  neighbours; nothing else moves.
* ``where[pair]`` lists the positions where ``pair`` starts, left to right, and
  ``counts[pair]`` says how often it occurs.
* A heap hands out the most frequent pair; among equally frequent pairs, the one that
  starts first.

Merging the pair ``(a, b)`` into ``Z`` turns ``x a b y`` into ``x Z y`` at each of its
occurrences, left to right: the pairs ``(x, a)``, ``(a, b)`` and ``(b, y)`` lose one
occurrence, ``(x, Z)`` and ``(Z, y)`` gain one. Nothing else changes.

A chunk that occurs many times (a common word) is laid out once, and each of its positions
*weighs* as much as the chunk occurs: a pair in it counts that many times.
"""

from __future__ import annotations

import heapq
from collections import deque

from tqdm import tqdm  # type: ignore[import-untyped]

Pair = tuple[int, int]


def pair_counts(ids: list[int]) -> dict[Pair, int]:
    """How often each pair of neighbouring tokens occurs in ``ids``.

    Overlapping pairs all count: ``[97, 97, 97]`` holds the pair ``(97, 97)`` twice. The
    dictionary lists the pairs in the order they are first seen.

    Examples
    --------
    >>> pair_counts([1, 2, 3, 1, 2])
    {(1, 2): 2, (2, 3): 1, (3, 1): 1}

    Notes
    -----
    Taught in chapter 7, Sub-word tokenizers.
    """
    counts: dict[Pair, int] = {}
    for pair in zip(ids[:-1], ids[1:], strict=True):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids`` by ``new_id``, left to right.

    Examples
    --------
    >>> merge([97, 97, 97, 98], (97, 97), 256)
    [256, 97, 98]

    Notes
    -----
    Taught in chapter 7, Sub-word tokenizers.
    """
    merged = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            merged.append(new_id)  # two tokens -> one
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


def learn_merges(
    chunks: dict[bytes, int], vocab_size: int, verbose: bool = False
) -> dict[Pair, int]:
    """The merges BPE learns: the most frequent pair first, up to ``vocab_size`` tokens.

    Parameters
    ----------
    chunks : dict of bytes to int
        The bytes of every distinct chunk of the text -> how often it occurs, in the order
        the chunks first occur in the text (the whole text is one chunk without splitting).
    vocab_size : int
        256 byte tokens plus one token per merge; fewer merges if no pair is left.
    verbose : bool
        Show a progress bar.

    Returns
    -------
    dict of (int, int) to int
        ``(a, b) -> new id``, in the order learned. Ties go to the pair that occurs first
        (the first chunk that holds it, then its place in that chunk).

    Examples
    --------
    >>> learn_merges({b"aaabdaaabac": 1}, vocab_size=259)
    {(97, 97): 256, (256, 97): 257, (257, 98): 258}

    Notes
    -----
    What :meth:`~companion.tokenizers.bpe.BPETokenizer.train` runs; chapter 7, Sub-word
    tokenizers, teaches the slow version.
    """
    tokens = TokenRow(chunks)
    merges: dict[Pair, int] = {}
    steps = tqdm(range(256, vocab_size), desc="BPE merges", disable=not verbose, leave=False)
    for new_id in steps:
        pair = tokens.most_frequent()
        if pair is None:
            break  # every chunk is a single token
        tokens.merge(pair, new_id)
        merges[pair] = new_id
    return merges


def replay_merges(data: bytes, merges: dict[Pair, int]) -> list[int]:
    """The tokens of ``data`` after applying ``merges`` one by one, in the order learned.

    This is how a long chunk is encoded (a text without a split pattern). It gives the
    same tokens as encoding's rule, "merge the earliest-learned pair present, until none
    is left": merging ``(a, b)`` into ``Z`` only creates pairs that hold ``Z``, which only
    merges learned after ``(a, b)`` can hold, so the next pair to merge is always further
    down the list.

    Examples
    --------
    >>> replay_merges(b"aaabdaaabac", {(97, 97): 256, (256, 97): 257, (257, 98): 258})
    [258, 100, 258, 97, 99]

    Notes
    -----
    What :meth:`~companion.tokenizers.bpe.BPETokenizer.encode` runs on a long chunk; chapter
    7, Sub-word tokenizers, encodes the slow way.
    """
    if len(data) < 2:
        return list(data)  # no pair to merge
    tokens = TokenRow({data: 1})
    for pair, new_id in merges.items():
        if pair in tokens.counts:
            tokens.merge(pair, new_id)
    return tokens.tokens()


class TokenRow:
    """The tokens of all chunks in one linked row, with the counts and places of each pair.

    Notes
    -----
    The data of :func:`learn_merges` and :func:`replay_merges`; chapter 7, Sub-word
    tokenizers, keeps a plain list of ids instead.
    """

    def __init__(self, chunks: dict[bytes, int]) -> None:
        self.ids: list[int] = []  # the token at each position; -1 once merged into its left
        self.weight: list[int] = []  # how often the chunk of each position occurs
        self.prv: list[int] = []  # position of the token before, or -1
        self.nxt: list[int] = []  # position of the token after, or -1
        for chunk, occurrences in chunks.items():
            if len(chunk) < 2:
                continue  # one byte: no pair, nothing to merge
            start, stop = len(self.ids), len(self.ids) + len(chunk)
            self.ids.extend(chunk)
            self.weight.extend([occurrences] * len(chunk))
            self.prv.extend([-1, *range(start, stop - 1)])
            self.nxt.extend([*range(start + 1, stop), -1])

        self.counts: dict[Pair, int] = {}  # pair -> how often it occurs (weights added up)
        self.where: dict[Pair, deque[int]] = {}  # pair -> positions where it may start
        for p, q in enumerate(self.nxt):
            if q != -1:
                self._add((self.ids[p], self.ids[q]), p)
        # (-count, first position, pair): the smallest entry is the pair to merge next.
        self.heap = [(-n, self.where[pair][0], pair) for pair, n in self.counts.items()]
        heapq.heapify(self.heap)

    def tokens(self) -> list[int]:
        """The tokens left, chunk after chunk."""
        return [token for token in self.ids if token != -1]

    def _add(self, pair: Pair, p: int) -> None:
        """``pair`` now starts at position ``p``."""
        self.counts[pair] = self.counts.get(pair, 0) + self.weight[p]
        if pair not in self.where:
            self.where[pair] = deque()
        self.where[pair].append(p)

    def _remove(self, pair: Pair, p: int) -> None:
        """``pair`` no longer starts at position ``p`` (``where`` is cleaned up lazily)."""
        left = self.counts[pair] - self.weight[p]
        if left:
            self.counts[pair] = left
        else:  # the pair is gone
            del self.counts[pair]
            self.where.pop(pair, None)

    def _starts_at(self, pair: Pair, p: int) -> bool:
        """Whether ``pair`` starts at position ``p`` now (``where`` may list old places)."""
        q = self.nxt[p]
        return self.ids[p] == pair[0] and q != -1 and self.ids[q] == pair[1]

    def _first(self, pair: Pair) -> int:
        """The first position where ``pair`` starts (it must occur)."""
        places = self.where[pair]
        while not self._starts_at(pair, places[0]):
            places.popleft()  # an occurrence a merge has removed
        return places[0]

    def most_frequent(self) -> Pair | None:
        """The most frequent pair, the first to occur among equals; None if none is left.

        The heap may hold entries that are out of date. A pair's count can only fall and
        its first position only move right (only pairs with the newest token are created,
        and those are pushed afresh), so an outdated entry comes out *too early*: it is
        corrected and pushed back, and the first entry that is up to date is the answer.
        """
        while self.heap:
            neg_count, first, pair = self.heap[0]
            count = self.counts.get(pair, 0)
            if count == 0:
                heapq.heappop(self.heap)  # merged, or all its occurrences merged away
                continue
            now = (-count, self._first(pair), pair)
            if now == (neg_count, first, pair):
                return pair
            heapq.heapreplace(self.heap, now)
        return None

    def merge(self, pair: Pair, new_id: int) -> None:
        """Replace every occurrence of ``pair`` by the token ``new_id``, left to right."""
        a, b = pair
        ids, prv, nxt = self.ids, self.prv, self.nxt
        created: set[Pair] = set()
        for p in self.where.pop(pair):  # left to right
            if not self._starts_at(pair, p):
                continue  # "a a a": the second (a, a) went with the first
            q = nxt[p]
            before, after = prv[p], nxt[q]
            # x a b y: the pairs (x, a), (a, b) and (b, y) disappear ...
            if before != -1:
                self._remove((ids[before], a), before)
            self._remove(pair, p)
            if after != -1:
                self._remove((b, ids[after]), q)
            # ... a and b become one token at p ...
            ids[p], ids[q] = new_id, -1
            nxt[p] = after
            if after != -1:
                prv[after] = p
            # ... and the pairs (x, Z) and (Z, y) appear.
            if before != -1:
                self._add((ids[before], new_id), before)
                created.add((ids[before], new_id))
            if after != -1:
                self._add((new_id, ids[after]), p)
                created.add((new_id, ids[after]))
        for new_pair in created:
            if new_pair in self.counts:  # "a b a b c": (Z, a) came and went, (Z, Z) stays
                entry = (-self.counts[new_pair], self._first(new_pair), new_pair)
                heapq.heappush(self.heap, entry)
