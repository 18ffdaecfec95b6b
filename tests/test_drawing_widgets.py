"""The network drawing and the forward-pass widget (chapter 1)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from companion import LEAF, SUNFLOWER, Network, forward, leaf_flower_network  # noqa: E402
from companion.aids.drawing import draw_network  # noqa: E402
from companion.aids.widgets import forward_pass_widget  # noqa: E402

NET = leaf_flower_network()


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_drawing_writes_every_weight_on_a_line():
    fig = draw_network(NET)
    texts = _texts(fig)
    for w in np.concatenate([NET.W1.ravel(), NET.W2.ravel()]):
        assert f"{w:.2f}" in texts
    assert len(fig.axes[0].lines) == NET.W1.size + NET.W2.size
    plt.close(fig)


def test_drawing_puts_the_forward_pass_in_the_circles():
    fig = draw_network(NET, LEAF)
    texts = _texts(fig)
    result = forward(LEAF, NET)
    assert "-26.6" in texts and "-47.1" in texts
    assert f"{result.outputs[0]:.1f}" in texts
    assert {"R", "G", "B", "volume", "leaf", "flower"} <= set(texts)
    plt.close(fig)


def test_drawing_other_sizes_and_bad_input():
    net = Network(W1=np.ones((5, 2)), W2=np.ones((3, 5)))
    fig = draw_network(net, [1.0, 2.0])
    assert len(fig.axes[0].lines) == 10 + 15
    plt.close(fig)
    with pytest.raises(ValueError, match="x must be one input of shape"):
        draw_network(NET, np.stack([LEAF, SUNFLOWER]))
    with pytest.raises(TypeError, match="net must be a companion Network"):
        draw_network("net")
    with pytest.raises(ValueError, match="input_names must have 4 labels; got 2"):
        draw_network(NET, input_names=("a", "b"))


def test_widget_follows_its_sliders():
    widget = forward_pass_widget(NET, LEAF)
    sliders = [s for box in widget.children[:2] for s in box.children]
    verdict = widget.children[2]
    assert [s.description for s in sliders] == ["R", "G", "B", "volume"]
    assert "leaf" in verdict.value
    for slider, value in zip(sliders, SUNFLOWER, strict=True):
        slider.value = float(value)
    assert "flower" in verdict.value
    assert f"{forward(SUNFLOWER, NET).outputs[1]:.1f}" in verdict.value
    plt.close("all")


def test_widget_refuses_bad_input():
    with pytest.raises(ValueError, match="x must have shape"):
        forward_pass_widget(NET, [1.0, 2.0])
    with pytest.raises(ValueError, match="net must be a companion Network with 4 inputs"):
        forward_pass_widget(Network(W1=np.ones((3, 2)), W2=np.ones((2, 3))))
