"""Generating text: pick the next token from the model's scores, append it, repeat.

A language model maps the last ``context_length`` token ids (its window) to one score, a
"logit", per token of the vocabulary. :func:`sample_next` turns those scores into one token:
the highest one at temperature 0 (greedy decoding), or a random draw from
``softmax(logits / temperature)`` otherwise. :func:`generate` is the loop of chapter 5:
predict, append, slide the window, predict again. :func:`generation_widget` lets a reader
type a prompt and move a temperature slider.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Protocol

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from companion._validate import as_float_array, as_token_list, describe, positive_int
from companion.softmax import softmax

#: What :func:`generate` calls: a window of ids ``[1, T]`` -> logits ``[1, V]`` (or ``[V]``).
Model = Callable[[np.ndarray], object]


class Tokenizer(Protocol):
    """Anything with ``encode(text) -> ids`` and ``decode(ids) -> text``."""

    def encode(self, text: str) -> list[int]: ...  # pragma: no cover

    def decode(self, ids: Iterable[int]) -> str: ...  # pragma: no cover


def _check_temperature(temperature: object) -> float:
    """``temperature`` as a float >= 0, or an error that says what temperature means."""
    if isinstance(temperature, bool | np.bool_) or not isinstance(temperature, numbers.Real):
        raise TypeError(
            f"temperature must be a number >= 0 (0 picks the most likely token); "
            f"got {describe(temperature)}"
        )
    value = float(temperature)
    if not (math.isfinite(value) and value >= 0):  # refuses NaN, infinity and negatives
        raise ValueError(
            f"temperature must be a finite number >= 0 (0 picks the most likely token, "
            f"1 samples from softmax(logits)); got {temperature!r}"
        )
    return value


def _check_rng(rng: object, temperature: float) -> np.random.Generator | None:
    if rng is None:
        if temperature > 0:
            raise ValueError(
                f"rng is needed to sample at temperature {temperature:g}: pass "
                "np.random.default_rng(seed) (only temperature 0 works without one)"
            )
        return None
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy Generator (np.random.default_rng(seed)) or None; "
            f"got {describe(rng)}"
        )
    return rng


def _check_top_k(top_k: object, V: int) -> int | None:
    """``top_k`` as an int in ``[1, V]`` (or None), or an error naming it."""
    if top_k is None:
        return None
    if isinstance(top_k, bool | np.bool_) or not isinstance(top_k, int | np.integer):
        raise TypeError(
            f"top_k must be None or an int in [1, {V}] (the vocabulary size); got {describe(top_k)}"
        )
    if not 1 <= top_k <= V:
        raise ValueError(
            f"top_k must be None or an int in [1, {V}] (the vocabulary size); got {top_k}"
        )
    return int(top_k)


def _check_logits(logits: object) -> np.ndarray:
    """One score per token, as float64 (sampling adds up many small probabilities)."""
    z = as_float_array(logits, "logits", shapes=[(None,)], meaning="one score per token")
    return z.astype(np.float64)


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

    Raises
    ------
    ValueError
        If ``logits`` is not 1-D or not finite, or ``temperature`` is negative or NaN.

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
    z = _check_logits(logits)
    T = _check_temperature(temperature)
    if T == 0:
        probs = np.zeros_like(z)  # [V]
        probs[np.argmax(z)] = 1.0  # greedy: all the probability on the largest score
        return probs
    return softmax(z / T)  # [V] -> [V]


def sample_next(
    logits: object,
    temperature: float = 1.0,
    rng: np.random.Generator | None = None,
    top_k: int | None = None,
) -> int:
    """Choose the next token from the model's scores.

    At temperature 0 this is greedy decoding: the token with the largest score (the first
    one, if several tie). Otherwise it draws one number ``u`` uniformly from [0, 1) and
    walks along the probabilities ``softmax(logits / temperature)``, adding them up, until
    the running total exceeds ``u``: each token is chosen with its probability.

    Parameters
    ----------
    logits : array_like, shape [V]
        One score per token of the vocabulary (the output layer of the model).
    temperature : float
        A finite number >= 0: 0 is greedy, 1 samples from ``softmax(logits)``, larger
        values make unlikely tokens more likely.
    rng : numpy.random.Generator, optional
        Where the random number comes from; needed unless ``temperature`` is 0.
    top_k : int, optional
        If given, only the ``top_k`` tokens with the largest scores can be drawn: the
        others get probability 0 and the kept ones share the whole probability (the
        softmax runs over them alone). Tokens whose score ties the ``top_k``-th largest
        are kept too, so a tie can keep a few more. ``None`` keeps every token.

    Returns
    -------
    int
        The chosen token id, from 0 to ``V - 1``.

    Raises
    ------
    ValueError
        If ``temperature`` is negative or NaN, if ``logits`` is not one finite score per
        token, if ``rng`` is missing at a temperature above 0, or if ``top_k`` is not in
        ``[1, V]``.

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
    z = _check_logits(logits)
    T = _check_temperature(temperature)
    generator = _check_rng(rng, T)
    k = _check_top_k(top_k, z.size)
    if T == 0 or generator is None:
        return int(np.argmax(z))  # greedy decoding (the largest score is always kept)
    if k is None:
        probs = softmax(z / T)  # [V]
    else:
        kth_largest = np.partition(z, z.size - k)[z.size - k]  # the k-th largest score
        kept = z >= kth_largest  # [V], True for the top k (and any tie with the k-th)
        probs = np.zeros_like(z)  # [V]: 0 for the tokens cut off
        probs[kept] = softmax(z[kept] / T)  # [n_kept] -> [n_kept]
    u = generator.random()  # uniform in [0, 1)
    cumulative = np.cumsum(probs)  # [V], running totals, the last one is 1
    index = int(np.searchsorted(cumulative, u, side="right"))  # first total > u
    last = z.size - 1 if k is None else int(np.flatnonzero(probs)[-1])  # last drawable id
    return min(index, last)  # a last total of 0.9999999... could let u pass it


def _as_ids(ids: object, name: str) -> list[int]:
    """``ids`` as a list of token ids >= 0, or an error naming ``name``."""
    result = as_token_list(ids, name)
    negative = [i for i in result if i < 0]
    if negative:
        raise ValueError(f"{name} must hold token ids >= 0; got {negative[0]}")
    return result


def _last_logits(out: object, window_length: int) -> np.ndarray:
    """The model's scores for the next token, from an output of shape [V], [1, V] or [1, T, V]."""
    try:
        z = as_float_array(out, "the model's output")
    except (TypeError, ValueError) as error:
        raise ValueError(f"model must return finite logits of shape [1, V]; {error}") from None
    if z.ndim == 1:
        return z  # [V]
    if z.ndim == 2 and z.shape[0] == 1:
        return z[0]  # [1, V] -> [V]
    if z.ndim == 3 and z.shape[:2] == (1, window_length):
        return z[0, -1]  # [1, T, V] -> [V]: the prediction after the last token
    raise ValueError(
        f"model must return logits of shape [1, V] (or [V], or [1, {window_length}, V]) for a "
        f"window of shape [1, {window_length}]; got shape {z.shape}"
    )


def generate(
    model: Model,
    prompt_ids: Iterable[int],
    n_new: int,
    context_length: int,
    temperature: float = 1.0,
    rng: np.random.Generator | None = None,
    pad_id: int | None = None,
) -> list[int]:
    """Extend ``prompt_ids`` by ``n_new`` tokens, one at a time.

    Each step gives the model the last ``context_length`` ids as a window of shape
    ``[1, T]``, chooses the next id from its logits with :func:`sample_next`, and appends
    it; the window then slides one token to the right.

    Parameters
    ----------
    model : callable
        Maps a window of ids, an int64 array of shape ``[1, T]`` (a batch of one), to the
        logits of the next token, shape ``[1, V]`` or ``[V]``. A model that predicts at
        every position, ``[1, T, V]``, is read at its last position.
    prompt_ids : iterable of int
        The ids to start from.
    n_new : int
        How many ids to add, >= 0.
    context_length : int
        The size of the window, T (the model's input length).
    temperature : float
        As in :func:`sample_next`: 0 is greedy.
    rng : numpy.random.Generator, optional
        Needed unless ``temperature`` is 0. Several calls with generators seeded alike
        give the same text.
    pad_id : int, optional
        If given, a window shorter than ``context_length`` (a short prompt) is padded on
        the left with this id, for models that need exactly ``context_length`` ids; the
        padding is not part of the result. If None, the model gets the shorter window.

    Returns
    -------
    list of int
        The prompt's ids followed by the ``n_new`` new ones.

    Raises
    ------
    ValueError
        If an argument is out of range (a negative or NaN temperature, say), the prompt is
        empty without ``pad_id``, or the model returns logits of an unexpected shape.

    Examples
    --------
    A "model" that always scores the token after the last one highest counts upwards:

    >>> def count_up(window):
    ...     return np.eye(10)[(window[:, -1] + 1) % 10]  # [1, T] -> [1, 10]
    >>> generate(count_up, [7], n_new=5, context_length=3, temperature=0)
    [7, 8, 9, 0, 1, 2]

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    if not callable(model):
        raise TypeError(
            f"model must be callable, window [1, T] -> logits [1, V]; got {describe(model)}"
        )
    ids = _as_ids(prompt_ids, "prompt_ids")
    if isinstance(n_new, bool | np.bool_) or not isinstance(n_new, int | np.integer):
        raise TypeError(f"n_new must be an int >= 0; got {describe(n_new)}")
    if n_new < 0:
        raise ValueError(f"n_new must be an int >= 0; got {n_new}")
    T = positive_int(context_length, "context_length")
    temperature = _check_temperature(temperature)
    rng = _check_rng(rng, temperature)
    if pad_id is not None:
        pad_id = _as_ids([pad_id], "pad_id")[0]
    elif not ids:
        raise ValueError("prompt_ids must hold at least one id (or give a pad_id to start from)")
    for _ in range(int(n_new)):
        window = ids[-T:]  # the last T ids (fewer while the text is short)
        if pad_id is not None and len(window) < T:
            window = [pad_id] * (T - len(window)) + window  # pad on the left
        x = np.array(window, dtype=np.int64)[None, :]  # [T] -> [1, T]
        logits = _last_logits(model(x), len(window))  # [1, T] -> [V]
        ids.append(sample_next(logits, temperature, rng))
    return ids


def generation_widget(
    model: Model,
    tokenizer: Tokenizer,
    context_length: int,
    prompt: str = "",
    n_new: int = 60,
    temperature: float = 0.8,
    seed: int = 0,
    pad_id: int | None = None,
) -> widgets.VBox:
    """Type a prompt, move the temperature slider, and read what the model writes.

    Under the generated text, a bar chart shows the probabilities of the first generated
    character at the chosen temperature: the distribution the first draw comes from.

    Parameters
    ----------
    model : callable
        As in :func:`generate`.
    tokenizer : object with ``encode`` and ``decode``
        Turns the prompt into ids and the ids back into text (a
        :class:`~companion.char_tokenizer.CharTokenizer`, for example).
    context_length : int
        The model's window, T.
    prompt : str
        The starting text in the text box.
    n_new : int
        The starting number of characters to generate (the slider goes to 300).
    temperature : float
        The slider's starting temperature, from 0 to 2.
    seed : int
        The starting seed of the random generator; the same seed and temperature give the
        same text.
    pad_id : int, optional
        As in :func:`generate`, for prompts shorter than ``context_length``.

    Returns
    -------
    ipywidgets.VBox
        Display it in a notebook (it is the cell's last expression).

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    if not callable(model):
        raise TypeError(f"model must be callable; got {describe(model)}")
    if not (
        callable(getattr(tokenizer, "encode", None))
        and callable(getattr(tokenizer, "decode", None))
    ):
        raise TypeError(f"tokenizer must have encode and decode methods; got {describe(tokenizer)}")
    T = positive_int(context_length, "context_length")
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str; got {describe(prompt)}")
    if isinstance(n_new, bool) or not isinstance(n_new, int) or not 1 <= n_new <= 300:
        raise ValueError(f"n_new must be an int from 1 to 300; got {n_new!r}")
    start_temperature = _check_temperature(temperature)
    if start_temperature > 2:
        raise ValueError(f"temperature must be from 0 to 2 for the slider; got {temperature!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0; got {seed!r}")
    if pad_id is not None:
        _as_ids([pad_id], "pad_id")

    text_box = widgets.Text(value=prompt, description="prompt", continuous_update=False)
    heat = widgets.FloatSlider(
        value=start_temperature,
        min=0.0,
        max=2.0,
        step=0.05,
        description="temperature",
        continuous_update=False,
    )
    length = widgets.IntSlider(
        value=n_new, min=1, max=300, description="characters", continuous_update=False
    )
    seed_box = widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed")
    written = widgets.HTML()
    picture = widgets.Output()

    def redraw(_change: object = None) -> None:
        try:
            ids = list(tokenizer.encode(text_box.value))
            out = generate(
                model,
                ids,
                length.value,
                T,
                heat.value,
                np.random.default_rng(seed_box.value),
                pad_id,
            )
            new = tokenizer.decode(out[len(ids) :])
            window = ids[-T:]
            if pad_id is not None and len(window) < T:
                window = [pad_id] * (T - len(window)) + window
            x = np.array(window, dtype=np.int64)[None, :]  # [1, T]
            probs = softmax_with_temperature(_last_logits(model(x), len(window)), heat.value)
            labels = [tokenizer.decode([i]) for i in range(probs.size)]  # one per token
        except (TypeError, ValueError) as error:
            written.value = f"<b>Cannot generate:</b> {html.escape(str(error))}"
            picture.clear_output()
            return
        written.value = (
            "<div style='font-family: monospace; white-space: pre-wrap'>"
            f"<b>{html.escape(text_box.value)}</b>{html.escape(new)}</div>"
        )
        labels = ["␣" if label == " " else label for label in labels]  # make the space visible
        picture.clear_output(wait=True)
        with picture:
            fig, ax = plt.subplots(figsize=(9, 2.6))
            colors = ["C3" if i == out[len(ids)] else "C0" for i in range(probs.size)]
            ax.bar(range(probs.size), probs, color=colors)
            ax.set_xticks(range(probs.size), labels)
            ax.set_ylim(0, 1)
            ax.set_ylabel("probability")
            ax.set_title(
                f"the first character's probabilities at temperature {heat.value:g} "
                "(red: the one drawn)"
            )
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    for control in (text_box, heat, length, seed_box):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [widgets.HBox([text_box, seed_box]), widgets.HBox([heat, length]), written, picture]
    )
