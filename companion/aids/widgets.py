"""Widgets for playing with the chapters' networks (they need a live Jupyter kernel)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from companion.aids.drawing import draw_network
from companion.aids.show import show
from companion.checks import as_array
from companion.models.network import (
    INPUT_NAMES,
    LEAF,
    Network,
    forward,
    interpret,
    leaf_flower_network,
)

#: Slider ranges for R, G, B (0-255) and volume.
_RANGES = ((0.0, 255.0, 1.0), (0.0, 255.0, 1.0), (0.0, 255.0, 1.0), (0.0, 100.0, 0.1))


def forward_pass_widget(net: Network | None = None, x: object = LEAF) -> widgets.VBox:
    """Four sliders (R, G, B, volume) and a drawing of the forward pass that follows them.

    Parameters
    ----------
    net : Network, optional
        A network with four inputs; by default
        :func:`~companion.models.network.leaf_flower_network`.
    x : array_like, shape [4]
        The starting position of the sliders.

    Returns
    -------
    ipywidgets.VBox
        Display it in a notebook (it is the cell's last expression).

    Notes
    -----
    Taught in chapter 1, Numbers in, numbers out.
    """
    net = leaf_flower_network() if net is None else net
    if not isinstance(net, Network) or net.n_inputs != 4:
        raise ValueError("net must be a companion Network with 4 inputs (R, G, B, volume)")
    start = as_array(x, "x", shape=(4,), meaning="R, G, B, volume")
    sliders = [
        widgets.FloatSlider(
            value=float(np.clip(v, lo, hi)),
            min=lo,
            max=hi,
            step=step,
            description=name,
            continuous_update=False,
        )
        for v, name, (lo, hi, step) in zip(start, INPUT_NAMES, _RANGES, strict=True)
    ]
    verdict = widgets.HTML()
    picture = widgets.Output()

    def redraw(_change: object = None) -> None:
        values = np.array([s.value for s in sliders])
        outputs = forward(values, net).outputs
        verdict.value = (
            f"<b>Prediction: {interpret(outputs)}</b> "
            f"(outputs {outputs[0]:.1f} and {outputs[1]:.1f})"
        )
        picture.clear_output(wait=True)
        with picture:
            fig = draw_network(net, values)
            show(fig)

    for slider in sliders:
        slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(sliders[:2]), widgets.HBox(sliders[2:]), verdict, picture])
