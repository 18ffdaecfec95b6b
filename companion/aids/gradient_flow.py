"""How the size of the gradient changes layer by layer: vanishing and exploding gradients.

In the backward pass every layer multiplies the gradient it receives by its weights (and,
after ReLU, by 0 or 1). When that multiplication shrinks the gradient a little at every
layer, almost nothing reaches the first layers of a deep stack (the gradient *vanishes*);
when it grows it a little, the gradient *explodes*. This module builds a deep stack whose
weights have a chosen scale, measures the gradient that reaches each layer, and plots it.
"""

from __future__ import annotations

from typing import cast

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from companion.aids.show import show
from companion.checks import as_array, as_generator, describe, flag, number, positive_int
from companion.layers.activations import ReLU
from companion.layers.linear import Linear
from companion.layers.losses import MSELoss
from companion.layers.module import Module, Sequential

#: The y-axis range of :func:`plot_gradient_norms` unless told otherwise, so that pictures
#: drawn for different scales can be compared by eye.
NORM_LIMITS = (1e-16, 1e12)


def deep_stack(
    n_layers: int = 30,
    width: int = 64,
    scale: float = 1.0,
    *,
    rng: np.random.Generator | int,
    activation: bool = True,
) -> Sequential:
    """A stack of ``n_layers`` blocks, each ``Linear(width, width)`` followed by ReLU.

    The weights are drawn like :class:`companion.layers.linear.Linear`'s, with standard deviation
    ``1 / sqrt(width)``, then multiplied by ``scale``; the biases are 0. Each block is a
    :class:`~companion.layers.module.Sequential` of its two layers, so the stack's ``layers`` are
    the blocks, first to last.

    Parameters
    ----------
    n_layers : int
        How many blocks.
    width : int
        Neurons per layer (inputs and outputs of every block).
    scale : float
        The weights' standard deviation, in units of ``1 / sqrt(width)``: 1 keeps the size
        of a vector through a linear layer; with ReLU, ``sqrt(2)`` does.
    rng : numpy.random.Generator or int
        Where the weights come from (an int is a seed). The same seed gives the same
        weights up to the factor ``scale``.
    activation : bool
        Put ReLU after every linear layer (``False`` gives a purely linear stack).

    Returns
    -------
    Sequential
        The stack, in float64.

    Examples
    --------
    >>> model = deep_stack(3, 4, rng=0)
    >>> len(model.layers), model.n_parameters
    (3, 60)

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """
    n_layers, width = positive_int(n_layers, "n_layers"), positive_int(width, "width")
    scale = number(scale, "scale", low=0, low_open=True)
    activation, rng = flag(activation, "activation"), as_generator(rng)
    blocks: list[Module] = []
    for _ in range(n_layers):
        linear = Linear(width, width, rng=rng, dtype=np.float64)
        linear.params["W"] *= scale  # std 1/sqrt(width) -> scale/sqrt(width)
        blocks.append(Sequential(linear, ReLU()) if activation else Sequential(linear))
    return Sequential(*blocks)


def gradient_norms(model: Sequential, x: object, targets: object) -> np.ndarray:
    """The size of the gradient that reaches each layer of ``model``, first layer first.

    Runs ``model`` on ``x``, takes the mean squared error against ``targets``, then the
    backward pass one layer at a time, recording the Euclidean norm of ``d loss / d`` (the
    layer's output) just before the layer's own ``backward``. The parameters' gradients
    are added to as usual (call ``model.zero_grad()`` first if they matter).

    Parameters
    ----------
    model : Sequential
        The layers, for example a :func:`deep_stack`.
    x : array_like, shape [batch, n_in]
        Inputs.
    targets : array_like
        The wanted outputs, the shape of ``model``'s output.

    Returns
    -------
    numpy.ndarray, shape [len(model.layers)]
        Entry ``l`` is the size of the gradient that reaches layer ``l``; the last entry is
        the gradient of the loss with respect to the model's output.

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a companion Sequential; got {describe(model)}")
    out = model(x)
    loss = MSELoss()
    loss(out, targets)
    dout = loss.backward()  # d loss / d output
    norms = []
    for layer in reversed(model.layers):
        norms.append(float(np.linalg.norm(dout)))  # what reaches this layer
        dout = layer.backward(dout)
    return np.array(norms[::-1])


def plot_gradient_norms(
    curves: dict[str, object],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    limits: tuple[float, float] | None = NORM_LIMITS,
) -> Figure:
    """Plot gradient sizes layer by layer on a log scale, one line per entry of ``curves``.

    Parameters
    ----------
    curves : dict of str to array_like
        A label and the sizes from :func:`gradient_norms`, layer 1 first.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
        A title.
    limits : (float, float) or None
        The y-axis range (``None``: let matplotlib choose).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """
    if not isinstance(curves, dict) or not curves:
        raise TypeError(
            f"curves must be a non-empty dict of label -> sizes; got {describe(curves)}"
        )
    checked = {}
    for label, sizes in curves.items():
        if not isinstance(label, str):
            raise TypeError(f"curves' labels must be strings; got {describe(label)}")
        sizes = as_array(sizes, f"curves[{label!r}]", shape=("n_layers",))
        if np.any(sizes <= 0):
            raise ValueError(f"curves[{label!r}] must hold sizes > 0 to go on a log scale")
        checked[label] = sizes
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.0, 4.2))
    else:
        fig = cast(Figure, ax.figure)  # an Axes drawn on belongs to a Figure
    for label, sizes in checked.items():
        layers = np.arange(1, sizes.size + 1)
        ax.semilogy(layers, sizes, marker="o", markersize=3, label=label)
    ax.set_xlabel("layer (1 = first, next to the inputs)")
    ax.set_ylabel("size of the gradient reaching it")
    if limits is not None:
        ax.set_ylim(*limits)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    return fig


def gradient_flow_widget(
    n_layers: int = 30, width: int = 64, scale: float = 1.0, seed: int = 0
) -> widgets.VBox:
    """A slider for the weights' scale and the gradient's size, layer by layer, for it.

    The grey lines are the scales 0.5, ``sqrt(2)`` and 2 for comparison; the coloured line
    follows the slider. The weights, inputs and targets are the same for every scale
    (drawn from ``seed``), only multiplied by it.

    Parameters
    ----------
    n_layers, width : int
        The stack's size (see :func:`deep_stack`).
    scale : float
        The slider's starting position, in units of ``1 / sqrt(width)``.
    seed : int
        Seeds the weights, the inputs and the targets.

    Returns
    -------
    ipywidgets.VBox
        Display it in a notebook (it is the cell's last expression).

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """
    width, scale = positive_int(width, "width"), number(scale, "scale", low=0, low_open=True)
    rng = as_generator(seed)
    x = rng.standard_normal((16, width))  # [batch, width]
    targets = rng.standard_normal((16, width))  # [batch, width]

    def sizes(s: float) -> np.ndarray:
        return gradient_norms(deep_stack(n_layers, width, s, rng=seed), x, targets)

    references = {s: sizes(s) for s in (0.5, float(np.sqrt(2)), 2.0)}
    slider = widgets.FloatSlider(
        value=float(np.clip(scale, 0.25, 2.5)),
        min=0.25,
        max=2.5,
        step=0.05,
        description="scale",
        continuous_update=False,
    )
    verdict = widgets.HTML()
    picture = widgets.Output()

    def redraw(_change: object = None) -> None:
        s = float(slider.value)
        mine = sizes(s)
        ratio = mine[0] / mine[-1]
        per_layer = ratio ** (1 / (n_layers - 1)) if n_layers > 1 else 1.0
        verdict.value = (
            f"<b>weights' standard deviation {s:.2f} / sqrt({width})</b>: each layer "
            f"multiplies the gradient by about {per_layer:.2f}; the first layer gets "
            f"{ratio:.1e} times the gradient of the last."
        )
        picture.clear_output(wait=True)
        with picture:
            fig, ax = plt.subplots(figsize=(8.0, 4.2))
            for s_ref, ref in references.items():
                ax.semilogy(np.arange(1, n_layers + 1), ref, color="0.75", linewidth=1)
                ax.text(1, ref[0], f" {s_ref:.2f}", fontsize=7, color="0.5", va="bottom")
            plot_gradient_norms(
                {f"scale {s:.2f}": mine},
                ax=ax,
                title="grey: scales 0.50, 1.41 and 2.00 for comparison",
            )
            show(fig)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, verdict, picture])
