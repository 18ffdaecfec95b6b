"""See how a tokenizer cuts text: coloured tokens as HTML, and a widget to type into.

:func:`tokens_html` draws each token of a text on its own coloured background, with its id
in a tooltip and, below, the list of ids; :func:`tokenizer_widget` puts a text box above one
such drawing per tokenizer, so the same sentence can be seen cut by a byte tokenizer and by
tokenizers with larger vocabularies. Any object with ``encode(text)`` and ``decode(ids)``
works: a :class:`~companion.tokenizers.bpe.BPETokenizer` or a
:class:`~companion.tokenizers.char.CharTokenizer`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from companion.checks import describe

#: Background colours of the tokens, used in turn so that neighbours always differ.
PALETTE = ("#fde2a7", "#bfe3c0", "#c6dbf7", "#f7c6d9", "#dcd0f5", "#f9d4b4")


def _check_tokenizer(tokenizer: object, name: str = "tokenizer") -> None:
    methods = (getattr(tokenizer, attr, None) for attr in ("encode", "decode"))
    if not all(callable(method) for method in methods):
        raise TypeError(
            f"{name} must have encode(text) and decode(ids) methods (a BPETokenizer, say); "
            f"got {describe(tokenizer)}"
        )


def _check_str(text: object, name: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str; got {describe(text)}")
    return text


def _token_span(piece: str, token_id: int, colour: str) -> str:
    """One token as an HTML span: spaces kept, a line break shown as an arrow and broken."""
    shown = html.escape(piece, quote=False).replace("\n", "\u21b5<br>")  # "↵", then a break
    return (
        f'<span title="id {token_id}" style="background:{colour}; border-radius:3px; '
        f'padding:1px 0; margin-right:1px">{shown}</span>'
    )


def tokens_html(tokenizer: Any, text: str, show_ids: bool = True) -> str:
    """The tokens of ``text`` as HTML: one coloured box per token, then a count and the ids.

    Parameters
    ----------
    tokenizer : BPETokenizer or CharTokenizer
        Anything with ``encode(text) -> list of int`` and ``decode(ids) -> str``.
    text : str
        The text to cut into tokens.
    show_ids : bool
        Also list the token ids below the text.

    Returns
    -------
    str
        An HTML fragment; show it with ``IPython.display.HTML`` or in an ``ipywidgets.HTML``.
        If the tokenizer refuses the text (a character it does not know), the fragment says
        why instead.

    Notes
    -----
    Each token is decoded on its own, so a character whose UTF-8 bytes are split over
    several byte tokens shows as several replacement characters (U+FFFD); the ids in the
    tooltips and in the list are always exact.

    Taught in chapter 7, Sub-word tokenizers.
    """
    _check_tokenizer(tokenizer)
    _check_str(text)
    if not isinstance(show_ids, bool):
        raise TypeError(f"show_ids must be True or False; got {describe(show_ids)}")
    try:
        ids = list(tokenizer.encode(text))
    except ValueError as error:  # a CharTokenizer meeting an unknown character, say
        return f'<div style="color:#b00020">{html.escape(str(error), quote=False)}</div>'
    spans = [
        _token_span(tokenizer.decode([i]), i, PALETTE[k % len(PALETTE)]) for k, i in enumerate(ids)
    ]
    per_token = f" ({len(text) / len(ids):.2f} characters per token)" if ids else ""
    parts = [
        '<div style="font-family:monospace; white-space:pre-wrap; line-height:1.8">'
        + "".join(spans)
        + "</div>",
        f'<div style="color:#555">{len(text)} characters &rarr; {len(ids)} tokens{per_token}</div>',
    ]
    if show_ids:
        parts.append(f'<div style="color:#555; font-family:monospace">ids: {ids}</div>')
    return "\n".join(parts)


def tokenizer_widget(
    tokenizers: Any | Mapping[str, Any], text: str = "Humpty Dumpty sat on a wall."
) -> widgets.VBox:
    """A text box and, for each tokenizer, the typed text cut into coloured tokens.

    Parameters
    ----------
    tokenizers : tokenizer or dict of str to tokenizer
        One tokenizer, or several by label (for example ``{"vocabulary 256": tok_256,
        "vocabulary 1024": tok_1024}``) to compare how they cut the same text.
    text : str
        What the text box holds at first (and so what a saved notebook shows).

    Returns
    -------
    ipywidgets.VBox
        Display it in a notebook (it is the cell's last expression). Every key stroke
        redraws the tokens.

    Notes
    -----
    Taught in chapter 7, Sub-word tokenizers.
    """
    if isinstance(tokenizers, Mapping):
        chosen = dict(tokenizers)
        if not chosen:
            raise ValueError("tokenizers must hold at least one tokenizer; got an empty dict")
        for label, tokenizer in chosen.items():
            if not isinstance(label, str):
                raise TypeError(f"tokenizers must be labelled by str; got {describe(label)}")
            _check_tokenizer(tokenizer, f"tokenizers[{label!r}]")
    else:
        _check_tokenizer(tokenizers, "tokenizers")
        chosen = {"": tokenizers}
    _check_str(text)

    box = widgets.Text(
        value=text,
        description="Text:",
        continuous_update=True,
        layout=widgets.Layout(width="95%"),
    )
    views = {label: widgets.HTML() for label in chosen}

    def redraw(_change: object = None) -> None:
        for label, tokenizer in chosen.items():
            title = f"<b>{html.escape(label, quote=False)}</b>" if label else ""
            views[label].value = title + tokens_html(tokenizer, box.value)

    box.observe(redraw, names="value")
    redraw()
    return widgets.VBox([box, *views.values()])
