"""Generating text: pick the next token from the model's scores, append it, repeat.

A language model maps the last ``context_length`` token ids (its window) to one score, a
"logit", per token of the vocabulary. :func:`sample_next` turns those scores into one
token: the highest one at temperature 0 (greedy decoding), or a random draw from
``softmax(logits / temperature)`` otherwise, optionally among the ``top_k`` highest only.
:func:`generate` is the loop of chapter 5: predict, append, slide the window, predict
again. The GPT's ``generate`` method is this same function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from companion.checks import (
    as_array,
    as_generator,
    as_ids,
    describe,
    number,
    positive_int,
    token_list,
    whole_number,
)

#: What :func:`generate` calls: a window of ids ``[B, T]`` -> logits ``[B, V]`` (or
#: ``[B, T, V]``, read at the last position).
Model = Callable[[np.ndarray], object]


def softmax_with_temperature(logits: object, temperature: float = 1.0) -> np.ndarray:
    """The probabilities ``softmax(logits / temperature)`` that :func:`sample_next` draws from.

    A temperature below 1 sharpens the distribution (the likely tokens become likelier), a
    temperature above 1 flattens it towards "every token equally likely". At temperature 0
    the most likely token gets probability 1 (the first one, if several tie).

    Parameters
    ----------
    logits : array_like, shape [V]
        One score per token of the vocabulary.
    temperature : float
        A finite number >= 0.

    Returns
    -------
    numpy.ndarray of float64, shape [V]
        Positive numbers that add up to 1 (zeros allowed at temperature 0).

    Examples
    --------
    >>> softmax_with_temperature([2.0, 1.0, 0.0], 1.0).round(3).tolist()
    [0.665, 0.245, 0.09]
    >>> softmax_with_temperature([2.0, 1.0, 0.0], 0.5).round(3).tolist()
    [0.867, 0.117, 0.016]
    >>> softmax_with_temperature([2.0, 1.0, 0.0], 0).tolist()
    [1.0, 0.0, 0.0]

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    z = as_array(logits, "logits", shape=("V",), dtype=np.float64, meaning="one score per token")
    return _probabilities(z, _temperature(temperature), None)


def sample_next(
    logits: object,
    temperature: float = 1.0,
    rng: np.random.Generator | int | None = None,
    top_k: int | None = None,
) -> int:
    """Choose the next token from the model's scores.

    At temperature 0 this is greedy decoding: the token with the largest score (the first
    one, if several tie). Otherwise it draws one number ``r`` uniformly from [0, 1) and
    walks along the probabilities ``softmax(logits / temperature)``, adding them up, until
    the running total exceeds ``r``: each token is chosen with its probability.

    Parameters
    ----------
    logits : array_like, shape [V]
        One score per token of the vocabulary (the output layer of the model).
    temperature : float
        A finite number >= 0: 0 is greedy, 1 samples from ``softmax(logits)``, larger
        values make unlikely tokens more likely.
    rng : numpy.random.Generator or int, optional
        Where the random number comes from (an int is a seed); needed unless
        ``temperature`` is 0.
    top_k : int, optional
        If given, only the ``top_k`` tokens with the largest scores can be drawn: the
        others get probability 0 and the kept ones share the whole probability. Tokens
        whose score ties the ``top_k``-th largest are kept too.

    Returns
    -------
    int
        The chosen token id, from 0 to ``V - 1``.

    Examples
    --------
    >>> sample_next([0.1, 2.5, -1.0], temperature=0)
    1
    >>> rng = np.random.default_rng(0)
    >>> [sample_next([0.1, 2.5, -1.0], 1.0, rng) for _ in range(8)]
    [1, 1, 0, 0, 1, 1, 1, 1]
    >>> [sample_next([0.1, 2.5, -1.0], 1.0, rng, top_k=2) for _ in range(8)]  # never 2
    [1, 1, 1, 0, 1, 0, 1, 1]

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    z = as_array(logits, "logits", shape=("V",), dtype=np.float64, meaning="one score per token")
    temperature, generator, top_k = _sampling(temperature, rng, top_k, z.size)
    return _draw(z, temperature, generator, top_k)


def generate(
    model: Model,
    ids: object,
    max_new_tokens: int,
    *,
    context_length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | int | None = None,
    pad_id: int | None = None,
) -> list[int] | np.ndarray:
    """Extend ``ids`` by ``max_new_tokens`` tokens, one at a time.

    Each step gives the model the last ``context_length`` ids of every sequence (a window
    of shape ``[B, T]``), chooses each next id from the logits with :func:`sample_next`'s
    rule, and appends it; the window then slides one token to the right.

    Parameters
    ----------
    model : callable
        Maps a window of ids, an int64 array ``[B, T]``, to the logits of the next token,
        ``[B, V]``; a model that predicts at every position, ``[B, T, V]``, is read at
        its last position.
    ids : list of int, or array_like of int of shape [B, T]
        One prompt, or a batch of prompts of equal length.
    max_new_tokens : int
        How many ids to add, >= 0.
    context_length : int
        The size of the window (the model's input length, or its ``block_size``).
    temperature, top_k, rng
        As in :func:`sample_next` (temperature 0 is greedy and needs no ``rng``). The same
        seed gives the same tokens.
    pad_id : int, optional
        If given, a window shorter than ``context_length`` (a short prompt) is padded on
        the left with this id, for models that need exactly ``context_length`` ids; the
        padding is not part of the result.

    Returns
    -------
    list of int, or numpy.ndarray of int64 of shape [B, T + max_new_tokens]
        The prompt followed by the new ids: a list for one prompt given as a list, an
        array for a batch.

    Examples
    --------
    A "model" that always scores the token after the last one highest counts upwards:

    >>> def count_up(window):
    ...     return np.eye(10)[(window[:, -1] + 1) % 10]  # [B, T] -> [B, 10]
    >>> generate(count_up, [7], 5, context_length=3, temperature=0)
    [7, 8, 9, 0, 1, 2]

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    if not callable(model):
        raise TypeError(f"model must be callable, ids [B, T] -> logits; got {describe(model)}")
    one_prompt = isinstance(ids, list | tuple) and all(not isinstance(i, list) for i in ids)
    if one_prompt:
        prompt = token_list(ids)
        negative = [i for i in prompt if i < 0]
        if negative:
            raise ValueError(f"ids must hold token ids >= 0; got {negative[0]}")
        out = np.array([prompt], dtype=np.int64).reshape(1, -1)  # [1, T]
    else:
        out = as_ids(ids, "ids", np.iinfo(np.int64).max, shape=("B", "T")).astype(np.int64)
    whole_number(max_new_tokens, "max_new_tokens")
    T = positive_int(context_length, "context_length")
    if pad_id is not None:
        pad_id = whole_number(pad_id, "pad_id")
    elif out.shape[1] == 0:
        raise ValueError("ids must hold at least one id (or give a pad_id to start from)")
    temperature, generator, top_k = _sampling(temperature, rng, top_k, None)
    for _ in range(max_new_tokens):
        window = out[:, -T:]  # [B, T'] with T' <= T
        if pad_id is not None and window.shape[1] < T:
            padding = np.full((len(out), T - window.shape[1]), pad_id, dtype=np.int64)
            window = np.concatenate([padding, window], axis=1)  # padded on the left, [B, T]
        logits = _last_logits(model(window), window.shape)  # [B, V]
        new = [_draw(row, temperature, generator, top_k) for row in logits]  # one per row
        out = np.concatenate([out, np.array(new, dtype=np.int64)[:, None]], axis=1)
    return out[0].tolist() if one_prompt else out


# -- the helpers of the three functions above --------------------------------------------
def _temperature(temperature: object) -> float:
    return number(temperature, "temperature (0 picks the most likely token)", low=0)


def _sampling(
    temperature: object, rng: object, top_k: object, V: int | None
) -> tuple[float, np.random.Generator | None, int | None]:
    """Checked temperature, random generator (None when greedy) and ``top_k``."""
    temperature = _temperature(temperature)
    generator = None
    if temperature > 0:
        if rng is None:
            raise ValueError(
                f"rng is needed to sample at temperature {temperature:g}: pass "
                "np.random.default_rng(seed) or a seed (only temperature 0 works without)"
            )
        generator = as_generator(rng)
    if top_k is not None:
        top_k = positive_int(top_k, "top_k")
        if V is not None and top_k > V:
            raise ValueError(f"top_k must be at most the vocabulary size {V}; got {top_k}")
    return temperature, generator, top_k


def _probabilities(z: np.ndarray, temperature: float, top_k: int | None) -> np.ndarray:
    """``softmax(z / temperature)`` over the ``top_k`` largest scores (all when None)."""
    if temperature == 0:
        probs = np.zeros_like(z)  # [V]
        probs[np.argmax(z)] = 1.0  # all the probability on the largest score
        return probs
    kept = np.ones(z.size, dtype=bool)  # [V]
    if top_k is not None:
        k = min(top_k, z.size)
        kept = z >= np.partition(z, z.size - k)[z.size - k]  # the k largest (and ties)
    scaled = z[kept] / temperature  # [n_kept]
    e = np.exp(scaled - scaled.max())  # softmax over the kept scores...
    probs = np.zeros_like(z)  # [V]: ...the others get probability 0
    probs[kept] = e / e.sum()
    return probs


def _draw(
    z: np.ndarray, temperature: float, rng: np.random.Generator | None, top_k: int | None
) -> int:
    """One token id from the scores ``z`` ``[V]``: see :func:`sample_next`."""
    if temperature == 0 or rng is None:
        return int(np.argmax(z))  # greedy decoding
    probs = _probabilities(z.astype(np.float64), temperature, top_k)  # [V]
    r = rng.random()  # uniform in [0, 1)
    index = int(np.searchsorted(np.cumsum(probs), r, side="right"))  # first total > r
    return min(index, int(np.flatnonzero(probs)[-1]))  # a last total of 0.99999... < r


def _last_logits(out: object, window: tuple[int, ...]) -> np.ndarray:
    """The scores of the next token ``[B, V]`` from a model's output ``[B, V]`` or ``[B, T, V]``."""
    B, T = window
    z = np.asarray(out)
    if z.dtype.kind in "iuf" and not np.isfinite(z).all():
        raise ValueError(f"model must return finite logits; got {describe(out)} holding NaN or inf")
    if z.ndim == 3 and z.shape[:2] == (B, T):
        return z[:, -1]  # [B, T, V] -> [B, V]: the prediction after the last token
    if z.ndim == 2 and z.shape[0] == B:
        return z  # [B, V]
    raise ValueError(
        f"model must return logits of shape [{B}, V] or [{B}, {T}, V] for a window of shape "
        f"[{B}, {T}]; got {describe(out)}"
    )
