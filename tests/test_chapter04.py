"""Chapter 4, Gradients from formulas: the chapter's backward pass, its exercises, and
companion.aids.gradient_flow."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import chapter_function  # noqa: E402

from companion import (  # noqa: E402
    LEAF,
    SUNFLOWER,
    Linear,
    MSELoss,
    ReLU,
    Sequential,
    check,
    forward,
    leaf_flower_network,
    numerical_gradient,
    relative_error,
)
from companion.aids.exercises.chapter04 import (  # noqa: E402
    CHAIN_DLOSS_DOUT,
    CHAIN_V,
    CHAIN_W,
    CHAIN_X,
    FACTOR,
    N_LAYERS,
    OUTER_DY,
    OUTER_H,
)
from companion.aids.gradient_flow import (  # noqa: E402
    deep_stack,
    gradient_flow_widget,
    gradient_norms,
    plot_gradient_norms,
)

CH4 = "04_gradients_from_formulas.ipynb"
RNG = np.random.default_rng(404)


# -- the chapter's backward_by_hand equals the companion's layers -----------------------------


def _companion_gradients(x, targets, W1, b1, W2, b2):
    model = Sequential(
        Linear(4, 3, rng=0, dtype=np.float64), ReLU(), Linear(3, 2, rng=0, dtype=np.float64)
    )
    model.layers[0].params["W"][...] = W1.T
    model.layers[0].params["b"][...] = b1
    model.layers[2].params["W"][...] = W2.T
    model.layers[2].params["b"][...] = b2
    loss = MSELoss()
    loss.forward(model.forward(x), targets)
    model.backward(loss.backward())
    g = model.gradients()
    return model, loss, (g["layers.0.W"].T, g["layers.0.b"], g["layers.2.W"].T, g["layers.2.b"])


def _random_case():
    return (
        RNG.normal(scale=RNG.choice([1.0, 50.0]), size=4),  # x
        RNG.normal(size=2),  # targets
        RNG.normal(size=(3, 4)),  # W1
        RNG.normal(size=3),  # b1
        RNG.normal(size=(2, 3)),  # W2
        RNG.normal(size=2),  # b2
    )


def test_backward_by_hand_equals_the_companion_layers_on_many_inputs():
    backward_by_hand = chapter_function(CH4, "backward_by_hand")
    cases = [_random_case() for _ in range(30)]
    net = leaf_flower_network()
    cases.append((SUNFLOWER, np.array([0.0, 1.0]), net.W1, net.b1, net.W2, net.b2))
    for case in cases:
        by_hand = backward_by_hand(*case)
        _, _, by_layers = _companion_gradients(*case)
        for mine, theirs in zip(by_hand, by_layers, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


def test_backward_by_hand_equals_nudging():
    backward_by_hand = chapter_function(CH4, "backward_by_hand")
    for _ in range(10):
        x, targets, W1, b1, W2, b2 = _random_case()
        grads = backward_by_hand(x, targets, W1, b1, W2, b2)

        def loss(x=x, targets=targets, W1=W1, b1=b1, W2=W2, b2=b2):
            y = W2 @ np.maximum(W1 @ x + b1, 0.0) + b2
            return float(np.mean((y - targets) ** 2))

        for array, grad in zip((W1, b1, W2, b2), grads, strict=True):
            assert relative_error(grad, numerical_gradient(loss, array)) < 1e-6


def test_backward_by_hand_gives_the_chapters_worked_numbers():
    backward_by_hand = chapter_function(CH4, "backward_by_hand")
    net = leaf_flower_network()
    W2 = net.W2.copy()
    W2[1, 1] = 0.17  # the article's weight
    dW1, db1, dW2, db2 = backward_by_hand(
        SUNFLOWER, np.array([0.0, 1.0]), net.W1, net.b1, W2, net.b2
    )
    h2 = 0.12 * 241 - 0.05 * 200 - 0.78 * 4 - 0.17 * 59.5  # hidden neuron 2, worked by hand
    assert round(h2, 3) == 5.685
    y = np.array([0.39 * h2, 0.17 * h2])
    assert dW2[1, 1] == pytest.approx((y[1] - 1) * h2)  # (y2 - 1) * h2, about -0.19
    assert dW1[1, 1] == pytest.approx((y[0] * 0.39 + (y[1] - 1) * 0.17) * 200)
    assert np.all(dW1[[0, 2]] == 0) and np.all(dW2[:, [0, 2]] == 0)  # ReLU switched them off
    np.testing.assert_allclose(db2, y - [0.0, 1.0])


# -- the exercises --------------------------------------------------------------------------

NET = leaf_flower_network()
DLOSS_DZ = float(CHAIN_DLOSS_DOUT @ CHAIN_V)
RIGHT = {
    "4.1": float(forward(LEAF, NET).hidden[2]),
    "4.2": DLOSS_DZ * CHAIN_X,
    "4.3": FACTOR**N_LAYERS,
    "4.4": np.array([[0.5 * 2, 0.5 * 0, 0.5 * 3], [1.5 * 2, 1.5 * 0, 1.5 * 3]]),  # dy[k] * h[j]
}

WRONG_WITH_HINT = [
    ("4.1", -float(forward(LEAF, NET).hidden[2]), "wrong sign"),
    ("4.1", NET.W2[1, 2], "the weight itself"),
    ("4.1", 0.0, "no ReLU"),
    ("4.1", float(forward(LEAF, NET).outputs[1]), "flower output"),
    ("4.1", 3.0, "hidden neuron 3"),
    ("4.2", CHAIN_DLOSS_DOUT[0] * CHAIN_V[0] * CHAIN_X, "output 1 only"),
    ("4.2", CHAIN_DLOSS_DOUT[1] * CHAIN_V[1] * CHAIN_X, "output 2 only"),
    ("4.2", DLOSS_DZ, "d z / d w = x"),
    ("4.2", DLOSS_DZ * CHAIN_W, "not w itself"),
    ("4.2", 0.0, "ReLU passes"),
    ("4.2", -DLOSS_DZ * CHAIN_X, "wrong sign"),
    ("4.2", 7.0, "add the paths"),
    ("4.3", FACTOR ** (N_LAYERS - 1), "30 multiplications"),
    ("4.3", FACTOR * N_LAYERS, "a power"),
    ("4.3", 1 - (1 - FACTOR) * N_LAYERS, "90 %"),
    ("4.3", 1.5, "only shrink"),
    ("4.3", 0.5, "once per layer"),
    ("4.4", RIGHT["4.4"].T, "Turned on its side"),  # np.outer(h, dy)
    ("4.4", -RIGHT["4.4"], "wrong sign"),
    ("4.4", RIGHT["4.4"][::-1], "rows are swapped"),
    ("4.4", RIGHT["4.4"] + [[0, 1, 0], [0, 1, 0]], "Look at column 1"),
    ("4.4", np.ones((2, 3)), "0.5 x 3 = 1.5"),
    ("4.4", 1.5, "Expected shape [2, 3]"),
]


def test_one_element_lists_and_numpy_numbers_are_accepted():
    assert check("4.1", [RIGHT["4.1"]])
    assert check("4.3", np.float32(RIGHT["4.3"]))
    assert check("4.4", [[1, 0, 1.5], [3, 0, 4.5]])  # typed as nested lists


def test_exercise_numbers_are_the_ones_in_the_text():
    assert (CHAIN_X, CHAIN_W) == (3.0, 0.5)
    assert CHAIN_V.tolist() == [0.4, -0.5] and CHAIN_DLOSS_DOUT.tolist() == [1.5, 0.2]
    assert RIGHT["4.2"] == pytest.approx(1.5)
    assert (FACTOR, N_LAYERS) == (0.9, 30)
    assert OUTER_H.tolist() == [2, 0, 3] and OUTER_DY.tolist() == [0.5, 1.5]
    np.testing.assert_array_equal(RIGHT["4.4"], np.outer(OUTER_DY, OUTER_H))
    assert np.all(RIGHT["4.4"][:, 1] == 0)  # hidden neuron 2 is 0: its weights stay put


def test_the_notebooks_solutions_use_the_checked_labels_and_pass():
    import nbformat
    from conftest import BOOK

    nb = nbformat.read(BOOK / CH4, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    checked = [
        line for cell in code for line in cell.source.splitlines() if line.startswith("check(")
    ]
    assert checked == [f'check("{label}", answer)' for label in sorted(RIGHT)]
    verdicts = [
        out["data"]["text/plain"]
        for cell in code
        if any(line.startswith("check(") for line in cell.source.splitlines())
        for out in cell.outputs
        if "data" in out
    ]
    assert len(verdicts) == len(RIGHT) and all("Right!" in text for text in verdicts)


# -- companion.aids.gradient_flow ------------------------------------------------------------------


def test_deep_stack_has_the_asked_shape_and_scale():
    model = deep_stack(5, 200, 2.0, rng=3)
    assert len(model.layers) == 5
    for block in model.layers:
        linear, relu = block.layers
        assert isinstance(linear, Linear) and isinstance(relu, ReLU)
        assert linear.params["W"].shape == (200, 200) and linear.params["W"].dtype == np.float64
        assert linear.params["W"].std() == pytest.approx(2.0 / np.sqrt(200), rel=0.02)
        assert np.all(linear.params["b"] == 0)
    linear_only = deep_stack(2, 8, rng=3, activation=False)
    assert all(len(block.layers) == 1 for block in linear_only.layers)


def test_deep_stack_same_seed_same_weights_up_to_the_scale():
    a, b = deep_stack(3, 6, 1.0, rng=9), deep_stack(3, 6, 0.5, rng=np.random.default_rng(9))
    for (_, wa), (_, wb) in zip(a.parameters().items(), b.parameters().items(), strict=True):
        np.testing.assert_allclose(0.5 * wa, wb)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_layers": 0}, ValueError, "n_layers must be an int >= 1; got 0"),
        ({"n_layers": 2.5}, TypeError, "n_layers must be an int >= 1; got float 2.5"),
        ({"width": "64"}, TypeError, "width must be an int >= 1; got the string '64'"),
        ({"scale": 0.0}, ValueError, "scale must be a finite number > 0; got 0.0"),
        ({"scale": float("inf")}, ValueError, "scale must be a finite number > 0; got inf"),
        ({"scale": "big"}, TypeError, "scale must be a finite number > 0; got the string"),
        ({"scale": True}, TypeError, "scale must be a finite number > 0; got bool True"),
        ({"activation": "relu"}, TypeError, "activation must be True or False"),
        ({"rng": None}, TypeError, "rng must be a numpy Generator"),
    ],
)
def test_deep_stack_refuses_bad_arguments(kwargs, error, message):
    arguments = {"n_layers": 2, "width": 4, "scale": 1.0, "rng": 0} | kwargs
    with pytest.raises(error, match=message):
        deep_stack(**arguments)


def test_gradient_norms_record_what_reaches_each_layer():
    rng = np.random.default_rng(5)
    x, targets = rng.normal(size=(4, 8)), rng.normal(size=(4, 8))
    model = deep_stack(4, 8, 1.3, rng=5)
    norms = gradient_norms(model, x, targets)
    assert norms.shape == (4,)
    # the same walk by hand, with the companion's layers
    loss = MSELoss()
    loss.forward(model.forward(x), targets)
    dout = loss.backward()
    expected = []
    for block in reversed(model.layers):
        expected.append(np.linalg.norm(dout))
        dout = block.backward(dout)
    np.testing.assert_allclose(norms, expected[::-1])
    assert norms[-1] == pytest.approx(np.linalg.norm(2 * (model.forward(x) - targets) / 32))


def test_gradients_vanish_for_small_weights_and_explode_for_large_ones():
    rng = np.random.default_rng(7)
    x, targets = rng.standard_normal((16, 64)), rng.standard_normal((16, 64))
    factors = {}
    for scale in (0.5, 1.0, np.sqrt(2), 2.0):
        norms = gradient_norms(deep_stack(30, 64, scale, rng=7), x, targets)
        factors[scale] = (norms[0] / norms[-1]) ** (1 / 29)
    assert factors[0.5] < 0.4 and 0.6 < factors[1.0] < 0.8  # about scale / sqrt(2)
    assert 0.9 < factors[np.sqrt(2)] < 1.1 and factors[2.0] > 1.3


def test_gradient_norms_refuses_bad_input():
    model = deep_stack(2, 4, rng=0)
    with pytest.raises(TypeError, match="model must be a companion Sequential"):
        gradient_norms(Linear(4, 4, rng=0), np.ones((1, 4)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="targets must have shape"):
        gradient_norms(model, np.ones((2, 4)), np.ones((2, 3)))
    with pytest.raises(TypeError, match="x must be numbers"):
        gradient_norms(model, "x", np.ones((2, 4)))
    with pytest.raises(ValueError, match="x must have shape"):
        gradient_norms(model, np.ones((2, 5)), np.ones((2, 4)))


def test_plot_draws_one_log_scale_line_per_curve():
    fig = plot_gradient_norms({"a": [1.0, 0.1, 0.01], "b": np.ones(3)}, title="t")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1, 2, 3])
    assert ax.get_title() == "t"
    plt.close(fig)
    fig, ax = plt.subplots()
    assert plot_gradient_norms({"a": [1.0, 2.0]}, ax=ax, limits=None) is fig
    plt.close(fig)


def test_plot_refuses_bad_curves():
    with pytest.raises(TypeError, match="curves must be a non-empty dict"):
        plot_gradient_norms({})
    with pytest.raises(TypeError, match="curves must be a non-empty dict"):
        plot_gradient_norms([1.0, 2.0])
    with pytest.raises(TypeError, match="labels must be strings"):
        plot_gradient_norms({1: [1.0]})
    with pytest.raises(ValueError, match="sizes > 0"):
        plot_gradient_norms({"a": [1.0, 0.0]})
    with pytest.raises(ValueError, match=r"curves\['a'\] must have shape"):
        plot_gradient_norms({"a": np.ones((2, 2))})
    plt.close("all")


def test_widget_follows_its_slider():
    widget = gradient_flow_widget(n_layers=6, width=16, scale=1.0, seed=1)
    slider, verdict, _ = widget.children
    assert slider.value == 1.0 and "1.00 / sqrt(16)" in verdict.value
    slider.value = 2.0
    assert "2.00 / sqrt(16)" in verdict.value
    plt.close("all")


def test_widget_refuses_bad_input():
    with pytest.raises(ValueError, match="scale must be a finite number > 0; got -1.0"):
        gradient_flow_widget(scale=-1.0)
    with pytest.raises(TypeError, match="width must be an int >= 1"):
        gradient_flow_widget(width=None)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        gradient_flow_widget(seed="0")
