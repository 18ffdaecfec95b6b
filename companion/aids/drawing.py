"""Pictures of a small network: values in the circles, weights on the lines."""

from __future__ import annotations

from typing import cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from companion.checks import describe
from companion.models.network import INPUT_NAMES, OUTPUT_NAMES, Network, forward

_POSITIVE = "#1f77b4"  # blue lines: positive weights
_NEGATIVE = "#d62728"  # red lines: negative weights


def draw_network(
    net: Network,
    x: object | None = None,
    *,
    input_names: tuple[str, ...] | None = None,
    output_names: tuple[str, ...] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw ``net`` layer by layer, like the article's figure.

    Each weight is written on its line (blue if positive, red if negative, thicker when
    larger); when ``x`` is given, the forward pass is run and every circle shows its
    neuron's value, with the winning output highlighted.

    Parameters
    ----------
    net : Network
        The network to draw.
    x : array_like, shape [n_inputs], optional
        One input; omit it to draw the weights only.
    input_names, output_names : tuple of str, optional
        Labels beside the input and output neurons; by default (R, G, B, volume) and
        (leaf, flower) when the sizes match.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
        A title for the drawing.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Notes
    -----
    Taught in chapter 1, Numbers in, numbers out.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a companion Network; got {describe(net)}")
    if input_names is None:
        input_names = INPUT_NAMES if net.n_inputs == len(INPUT_NAMES) else ()
    if output_names is None:
        output_names = OUTPUT_NAMES if net.n_outputs == len(OUTPUT_NAMES) else ()
    for name, names, size in (
        ("input_names", input_names, net.n_inputs),
        ("output_names", output_names, net.n_outputs),
    ):
        if names and len(names) != size:
            raise ValueError(f"{name} must have {size} labels; got {len(names)}")

    values: list[np.ndarray | None] = [None, None, None]
    if x is not None:
        result = forward(x, net)
        if result.inputs.ndim != 1:
            raise ValueError(f"x must be one input of shape [{net.n_inputs}]; got a batch")
        values = [result.inputs, result.hidden, result.outputs]

    if ax is None:
        fig, ax = plt.subplots(figsize=(9.0, 5.0))
    else:
        fig = cast(Figure, ax.figure)  # an Axes drawn on belongs to a Figure
    sizes = (net.n_inputs, net.n_hidden, net.n_outputs)
    columns = (0.0, 3.0, 6.0)
    height = max(sizes)
    ys = [np.linspace(height - 1, 0, n) if n > 1 else np.array([(height - 1) / 2]) for n in sizes]
    radius = 0.32

    biggest = max(np.abs(net.W1).max(), np.abs(net.W2).max(), 1e-12)
    for layer, W in enumerate((net.W1, net.W2)):
        x0, x1 = columns[layer], columns[layer + 1]
        for j in range(W.shape[0]):  # target neuron
            for i in range(W.shape[1]):  # source neuron
                w = float(W[j, i])
                y0, y1 = ys[layer][i], ys[layer + 1][j]
                ax.plot(
                    [x0, x1],
                    [y0, y1],
                    color=_POSITIVE if w >= 0 else _NEGATIVE,
                    linewidth=0.6 + 2.4 * abs(w) / biggest,
                    alpha=0.55,
                    zorder=1,
                )
                t = 0.25 + 0.5 * (j + 0.5) / W.shape[0]  # spread labels along the lines
                ax.text(
                    x0 + t * (x1 - x0),
                    y0 + t * (y1 - y0),
                    f"{w:.2f}",
                    fontsize=7.5,
                    ha="center",
                    va="center",
                    zorder=3,
                    bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.85},
                )

    winner = int(np.argmax(values[2])) if values[2] is not None else -1
    for layer, (cx, n) in enumerate(zip(columns, sizes, strict=True)):
        layer_values = values[layer]
        for k in range(n):
            highlight = layer == 2 and k == winner
            ax.add_patch(
                Circle(
                    (cx, ys[layer][k]),
                    radius,
                    zorder=2,
                    linewidth=1.5,
                    facecolor="#ffe9a8" if highlight else "#f3f3f3",
                    edgecolor="#b8860b" if highlight else "#555555",
                )
            )
            if layer_values is not None:
                ax.text(
                    cx,
                    ys[layer][k],
                    _short(float(layer_values[k])),
                    ha="center",
                    va="center",
                    fontsize=9,
                    fontweight="bold",
                    zorder=4,
                )
        labels = {0: input_names, 2: output_names}.get(layer, ())
        for k, label in enumerate(labels):
            dx = -radius - 0.06 if layer == 0 else radius + 0.06
            ax.text(
                cx + dx,
                ys[layer][k],
                label,
                ha="right" if layer == 0 else "left",
                va="center",
                fontsize=10,
            )

    for cx, name in zip(columns, ("input layer", "hidden layer", "output layer"), strict=True):
        ax.text(cx, height - 0.55, name, ha="center", va="bottom", fontsize=9, color="#444444")
    ax.set_xlim(-1.1, 7.1)
    ax.set_ylim(-0.5, height - 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def _short(value: float) -> str:
    """A neuron's value in at most five characters or so."""
    if value == round(value) or abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.1f}"
