"""Chapter 3, Loss and gradient descent: the chapter's code, its exercises and its widget."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import chapter_function  # noqa: E402

from companion import (  # noqa: E402
    SGD,
    Network,
    check,
    cross_entropy,
    forward,
    mean_squared_error,
    numerical_gradient,
)
from companion.aids.exercises.chapter03 import tiny_loss  # noqa: E402
from companion.aids.widgets_training import (  # noqa: E402
    learning_rate_widget,
    plot_loss_curve,
    summarize_losses,
)

CH3 = "03_loss_and_gradient_descent.ipynb"
RNG = np.random.default_rng(2030)


# -- (a) the chapter's few-line versions equal the companion's ----------------------------


def test_loss_ignoring_signs_is_the_articles_04():
    loss_ignoring_signs = chapter_function(CH3, "loss_ignoring_signs")
    assert loss_ignoring_signs([0.6, 0.4], [0.8, 0.2]) == pytest.approx(0.4)
    for _ in range(20):
        got, wanted = RNG.normal(size=(2, 4))
        assert loss_ignoring_signs(got, wanted) == pytest.approx(np.abs(got - wanted).sum())


def test_mse_by_hand_equals_companion_mean_squared_error():
    mse_by_hand = chapter_function(CH3, "mse_by_hand")
    assert mse_by_hand([0.6, 0.4], [0.8, 0.2]) == pytest.approx(0.04)
    for n in (1, 2, 7):
        for _ in range(10):
            got, wanted = RNG.normal(scale=3, size=(2, n))
            assert mse_by_hand(got, wanted) == pytest.approx(
                mean_squared_error(got, wanted), rel=1e-12
            )


def test_cross_entropy_by_hand_equals_companion_cross_entropy():
    cross_entropy_by_hand = chapter_function(CH3, "cross_entropy_by_hand")
    for n, V in ((1, 2), (2, 2), (26, 2), (5, 7)):
        for _ in range(10):
            logits = RNG.normal(scale=4, size=(n, V))
            labels = RNG.integers(0, V, size=n)
            assert cross_entropy_by_hand(logits, labels) == pytest.approx(
                cross_entropy(logits, labels), rel=1e-10
            )
    # a coin toss between two labels costs log 2
    assert cross_entropy_by_hand(np.zeros((3, 2)), [0, 1, 0]) == pytest.approx(np.log(2))


def test_gradient_by_nudging_equals_companion_numerical_gradient():
    gradient_by_nudging = chapter_function(CH3, "gradient_by_nudging")
    for shape in ((3,), (2, 3), (3, 4)):
        x = RNG.normal(size=shape)
        c = RNG.normal(size=shape)
        kept = x.copy()

        def loss_of(x=x, c=c):
            return float(np.sum(c * x**3) + np.sum(x) ** 2)

        ours = gradient_by_nudging(loss_of, x)
        np.testing.assert_array_equal(x, kept)  # every nudge was put back
        np.testing.assert_allclose(ours, numerical_gradient(loss_of, x), rtol=1e-9, atol=1e-12)
        exact = 3 * c * kept**2 + 2 * kept.sum()
        np.testing.assert_allclose(ours, exact, rtol=1e-6, atol=1e-8)


def test_gradient_by_nudging_on_the_chapters_network_and_loss():
    gradient_by_nudging = chapter_function(CH3, "gradient_by_nudging")
    net = Network(
        W1=RNG.normal(size=(3, 4)),
        W2=RNG.normal(size=(2, 3)),
        b1=RNG.normal(size=3),
        b2=RNG.normal(size=2),
        activation="relu",
    )
    X, y = RNG.uniform(0, 1, size=(6, 4)), RNG.integers(0, 2, size=6)

    def loss_of():
        return cross_entropy(forward(X, net).outputs, y)

    for p in (net.W1, net.b1, net.W2, net.b2):
        np.testing.assert_allclose(
            gradient_by_nudging(loss_of, p), numerical_gradient(loss_of, p), atol=1e-10
        )


def test_gradient_descent_step_equals_companion_sgd():
    gradient_descent_step = chapter_function(CH3, "gradient_descent_step")
    for lr in (0.03, 0.5, 2.0):
        params = {"W": RNG.normal(size=(3, 4)), "b": RNG.normal(size=3)}
        grads = {name: RNG.normal(size=p.shape) for name, p in params.items()}
        ours = {name: p.copy() for name, p in params.items()}
        theirs = {name: p.copy() for name, p in params.items()}
        gradient_descent_step(ours, grads, lr)
        SGD(theirs, lr=lr).step(grads)
        for name, p in params.items():
            np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-15)
            np.testing.assert_allclose(ours[name], p - lr * grads[name])


def test_random_network_sets_every_parameter_at_random():
    random_network = chapter_function(CH3, "random_network")
    random_network.__globals__["Network"] = Network  # the notebook imports it
    a = random_network(np.random.default_rng(0))
    b = random_network(np.random.default_rng(0))
    c = random_network(np.random.default_rng(1))
    assert a.n_parameters == 23 and a.activation == "relu"
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))  # seeded
        assert not np.array_equal(getattr(a, name), getattr(c, name))
        assert np.all(getattr(a, name) != 0)  # biases too, not zeros


# -- (b) the exercise checkers -------------------------------------------------------------

GRADIENT = (tiny_loss(0.31) - tiny_loss(0.29)) / 0.02  # -1.6

RIGHT = {
    "3.1": abs(0.8 - 0.3) + abs(0.2 - 0.9),
    "3.2": ((0.3 - 0.8) ** 2 + (0.9 - 0.2) ** 2) / 2,
    "3.3": GRADIENT,
    "3.4": 0.3 - 0.1 * GRADIENT,
}

ALSO_RIGHT = [
    ("3.1", [1.2]),
    ("3.2", mean_squared_error([0.3, 0.9], [0.8, 0.2])),
    ("3.3", (tiny_loss(0.31) - tiny_loss(0.3)) / 0.01),  # nudging one way only
    ("3.3", (tiny_loss(0.3) - tiny_loss(0.29)) / 0.01),
    ("3.3", np.float32(-1.6)),
    ("3.4", 0.3 - 0.1 * (tiny_loss(0.31) - tiny_loss(0.3)) / 0.01),
]

WRONG_WITH_HINT = [
    ("3.1", -0.2, "signs cancel"),
    ("3.1", 0.2, "signs cancel"),
    ("3.1", 0.5, "one of the two differences"),
    ("3.1", 0.7, "one of the two differences"),
    ("3.1", 0.37, "squares the differences"),
    ("3.1", 0.74, "squares the differences"),
    ("3.1", 0.6, "does not take their mean"),
    ("3.1", 5.0, "drop the sign"),
    ("3.2", 0.74, "sum of the squares"),
    ("3.2", 0.04, "Square each difference first"),
    ("3.2", 0.01, "Square each difference first"),
    ("3.2", 1.2, "instead of dropping its sign"),
    ("3.2", 0.6, "instead of dropping its sign"),
    ("3.2", 1.44, "on its own"),
    ("3.2", 0.36, "on its own"),
    ("3.2", 5.0, "divide by 2"),
    ("3.3", 1.6, "wrong sign"),
    ("3.3", tiny_loss(0.31) - tiny_loss(0.29), "change of the loss"),
    ("3.3", (tiny_loss(0.31) - tiny_loss(0.29)) / 2, "change of the loss"),
    ("3.3", (tiny_loss(0.31) - tiny_loss(0.29)) / 0.01, "not 0.01"),
    ("3.3", -0.8, "with respect to the output"),
    ("3.3", 0.16, "the loss at w = 0.3"),
    ("3.3", 7.0, "loss(0.31) - loss(0.29)"),
    ("3.4", 0.14, "uphill"),
    ("3.4", 1.9, "learning rate, 0.1"),
    ("3.4", -1.3, "Two things"),
    ("3.4", 0.16, "That is the step"),
    ("3.4", -0.16, "That is the step"),
    ("3.4", 0.5, "where the loss is 0"),
    ("3.4", 7.0, "learning rate x gradient"),
]

# Answers of the wrong kind for this chapter's checkers, besides those every checker meets
# (tests/test_exercises.py).
MORE_BAD_KINDS = [float("inf"), np.zeros((2, 2)), object()]


@pytest.mark.parametrize(("label", "answer"), ALSO_RIGHT)
def test_other_right_answers_pass(label, answer):
    assert check(label, answer)


def test_right_answers_are_the_worked_numbers():
    assert RIGHT["3.1"] == pytest.approx(1.2)
    assert RIGHT["3.2"] == pytest.approx(0.37)
    assert RIGHT["3.3"] == pytest.approx(-1.6)
    assert RIGHT["3.4"] == pytest.approx(0.46)
    assert tiny_loss(RIGHT["3.4"]) < tiny_loss(0.3)  # the step really goes downhill


def test_the_notebooks_solutions_use_the_checked_labels():
    import nbformat
    from conftest import BOOK

    nb = nbformat.read(BOOK / CH3, as_version=4)
    checked = [
        line
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if line.startswith("check(")
    ]
    assert checked == [f'check("{label}", answer)' for label in sorted(RIGHT)]
    outputs = [
        out["data"]["text/plain"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "check(" in cell.source and "data" in out
    ]
    assert len(outputs) == len(RIGHT) and all("Right!" in text for text in outputs)


# -- (c) companion.aids.widgets_training ---------------------------------------------------------


def test_plot_loss_curve_draws_one_point_per_epoch_from_zero():
    losses = [0.8, 0.5, 0.3, 0.2]
    ax = plot_loss_curve(losses, title="t", label="lr 0.5", color="C1")
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), losses)
    assert ax.get_title() == "t" and ax.get_xlabel() == "epoch"
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 0.8
    assert ax.get_legend() is not None
    plt.close("all")


def test_plot_loss_curve_shared_axes_make_room_for_every_curve():
    fig, axes = plt.subplots(1, 2, sharey=True)
    plot_loss_curve([0.7, 0.5], axes[0])
    plot_loss_curve([0.7, 2.6, 0.69], axes[1])
    assert axes[0].get_ylim()[1] >= 2.6  # the spike of the second panel is not cut off
    fig2, ax = plt.subplots()
    plot_loss_curve([0.7, 2.6, 0.69], ax)
    plot_loss_curve([0.7, 0.1], ax)  # drawn later, smaller: the spike still fits
    assert ax.get_ylim()[1] >= 2.6
    plt.close("all")


def test_plot_loss_curve_leaves_a_gap_where_training_blew_up():
    ax = plot_loss_curve([0.7, 5.0, np.inf, np.nan])
    y = ax.get_lines()[0].get_ydata()
    assert np.isnan(y[2]) and np.isnan(y[3])
    assert np.isfinite(ax.get_ylim()).all()
    plt.close("all")


def test_plot_loss_curve_refuses_bad_input():
    with pytest.raises(TypeError, match="losses must be numbers"):
        plot_loss_curve("abc")
    with pytest.raises(TypeError, match="losses must be numbers"):
        plot_loss_curve([[1, 2], [3]])
    with pytest.raises(ValueError, match=r"losses must have shape \[n_epochs \+ 1\]"):
        plot_loss_curve([])
    with pytest.raises(ValueError, match=r"losses must have shape \[n_epochs \+ 1\]"):
        plot_loss_curve(np.ones((2, 3)))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_loss_curve([1.0, 0.5], ax="axes")
    with pytest.raises(TypeError, match="title must be a str"):
        plot_loss_curve([1.0, 0.5], title=3)
    plt.close("all")


def test_summarize_losses():
    assert summarize_losses([0.766, 0.5, 0.006]) == (
        "loss 0.766 -> 0.006 after 2 epochs (lowest 0.006)"
    )
    assert summarize_losses([0.7, 2.6, 0.693]).endswith("(lowest 0.693)")
    assert "after 1 epoch " in summarize_losses([0.7, 0.6])
    assert "not a number any more at epoch 2" in summarize_losses([0.7, 9.0, np.nan])
    with pytest.raises(ValueError, match="losses must have shape"):
        summarize_losses(3.0)


def _train_counting(calls):
    def train(lr):
        calls.append(lr)
        return [0.8 * (1 - min(lr, 0.9)) ** k for k in range(11)]

    return train


def test_learning_rate_widget_trains_once_per_learning_rate(monkeypatch):
    import companion.aids.widgets_training as module

    shown = []  # the figures the widget shows: colours of their curves
    monkeypatch.setattr(
        module, "show", lambda fig: shown.append([ln.get_color() for ln in fig.axes[0].lines])
    )
    calls = []
    widget = learning_rate_widget(_train_counting(calls), [0.01, 0.1, 0.5], value=0.1)
    slider, summary, picture = widget.children
    assert slider.value == 0.1 and calls == [0.1]
    assert "learning rate 0.1</b>" in summary.value and "after 10 epochs" in summary.value
    assert shown == [["C0"]]
    slider.value = 0.5
    assert calls == [0.1, 0.5] and "learning rate 0.5</b>" in summary.value
    assert shown[-1] == ["0.75", "C0"]  # the curve of 0.1 in grey, 0.5 in colour
    slider.value = 0.1  # seen before: not trained again
    assert calls == [0.1, 0.5]
    plt.close("all")


def test_learning_rate_widget_uses_known_curves():
    calls = []
    known = {0.01: [0.8, 0.79], 0.5: [0.8, 0.1]}
    widget = learning_rate_widget(_train_counting(calls), [0.01, 0.5, 2.0], 0.5, known=known)
    slider, summary, _ = widget.children
    assert calls == [] and "0.800 -> 0.100" in summary.value
    assert [label for label, _ in slider.options] == ["0.01", "0.5", "2"]
    default = learning_rate_widget(_train_counting(calls), [0.01, 0.5])
    assert default.children[0].value == 0.01  # the first one when no value is given
    plt.close("all")


def test_learning_rate_widget_refuses_bad_input():
    train = _train_counting([])
    with pytest.raises(TypeError, match="train must be a function"):
        learning_rate_widget("train", [0.1])
    with pytest.raises(TypeError, match="learning_rates must be a list"):
        learning_rate_widget(train, 0.1)
    with pytest.raises(TypeError, match="learning_rates must be a list"):
        learning_rate_widget(train, "0.1")
    with pytest.raises(ValueError, match="learning_rates must hold at least one"):
        learning_rate_widget(train, [])
    with pytest.raises(ValueError, match=r"learning_rates\[1\] must be a positive number"):
        learning_rate_widget(train, [0.1, -1.0])
    with pytest.raises(TypeError, match=r"learning_rates\[0\] must be a positive number"):
        learning_rate_widget(train, ["fast"])
    with pytest.raises(ValueError, match="learning_rates must not repeat"):
        learning_rate_widget(train, [0.1, 0.1])
    with pytest.raises(ValueError, match="value must be one of learning_rates"):
        learning_rate_widget(train, [0.1, 0.5], value=0.3)
    with pytest.raises(TypeError, match="value must be a positive number"):
        learning_rate_widget(train, [0.1, 0.5], value=True)
    with pytest.raises(TypeError, match="known must map learning rates"):
        learning_rate_widget(train, [0.1], known=[1.0])
    with pytest.raises(ValueError, match=r"known\[0\.1\] must have shape"):
        learning_rate_widget(train, [0.1], known={0.1: []})
    with pytest.raises(TypeError, match=r"train\(0.1\) must be numbers"):
        learning_rate_widget(lambda lr: "oops", [0.1])
    plt.close("all")
