"""A widget for chapter 5: type a prompt, move the temperature, read what the model writes."""

from __future__ import annotations

import html

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from companion.aids.show import show
from companion.checks import describe, number, positive_int, whole_number
from companion.models.generate import Model, generate, softmax_with_temperature
from companion.tokenizers.base import Tokenizer


def generation_widget(
    model: Model,
    tokenizer: Tokenizer,
    context_length: int,
    prompt: str = "",
    max_new_tokens: int = 60,
    temperature: float = 0.8,
    seed: int = 0,
    pad_id: int | None = None,
) -> widgets.VBox:
    """Type a prompt, move the temperature slider, and read what the model writes.

    Under the generated text, a bar chart shows the probabilities of the first generated
    token at the chosen temperature: the distribution the first draw comes from.

    Parameters
    ----------
    model, context_length, pad_id
        As in :func:`companion.models.generate.generate`.
    tokenizer : object with ``encode`` and ``decode``
        Turns the prompt into ids and the ids back into text.
    prompt : str
        The starting text in the text box.
    max_new_tokens : int
        The starting number of tokens to generate (the slider goes to 300).
    temperature : float
        The slider's starting temperature, from 0 to 2.
    seed : int
        The starting seed; the same seed and temperature give the same text.

    Returns
    -------
    ipywidgets.VBox
        Display it in a notebook (it is the cell's last expression).

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    if not callable(model):
        raise TypeError(f"model must be callable, ids [B, T] -> logits; got {describe(model)}")
    if isinstance(tokenizer, str) or not callable(getattr(tokenizer, "decode", None)):
        raise TypeError(f"tokenizer must have encode and decode methods; got {describe(tokenizer)}")
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str; got {describe(prompt)}")
    if pad_id is not None:
        whole_number(pad_id, "pad_id")
    T = positive_int(context_length, "context_length")
    n = whole_number(max_new_tokens, "max_new_tokens", low=1)
    text_box = widgets.Text(value=prompt, description="prompt", continuous_update=False)
    heat = widgets.FloatSlider(
        value=number(temperature, "temperature", low=0, high=2),
        min=0.0,
        max=2.0,
        step=0.05,
        description="temperature",
        continuous_update=False,
    )
    length = widgets.IntSlider(
        value=min(n, 300), min=1, max=300, description="characters", continuous_update=False
    )
    seed_box = widgets.BoundedIntText(
        value=whole_number(seed, "seed"), min=0, max=2**31 - 1, description="seed"
    )
    written = widgets.HTML()
    picture = widgets.Output()

    def redraw(_change: object = None) -> None:
        try:
            ids = list(tokenizer.encode(text_box.value))
            rng = np.random.default_rng(seed_box.value)
            out = generate(
                model,
                ids,
                length.value,
                context_length=T,
                temperature=heat.value,
                rng=rng,
                pad_id=pad_id,
            )
            window = ids[-T:]  # what the first draw reads, padded as generate pads it
            if pad_id is not None and len(window) < T:
                window = [pad_id] * (T - len(window)) + window
            logits = np.asarray(model(np.array([window], dtype=np.int64)))  # [1, V] or [1, T, V]
            probs = softmax_with_temperature(logits.reshape(-1, logits.shape[-1])[-1], heat.value)
            labels = [tokenizer.decode([i]) for i in range(probs.size)]  # one per token
        except (TypeError, ValueError) as error:
            written.value = f"<b>Cannot generate:</b> {html.escape(str(error))}"
            picture.clear_output()
            return
        assert isinstance(out, list)
        new = tokenizer.decode(out[len(ids) :])
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
            show(fig)

    for control in (text_box, heat, length, seed_box):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [widgets.HBox([text_box, seed_box]), widgets.HBox([heat, length]), written, picture]
    )
