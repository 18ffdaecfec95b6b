"""Watch training: a loss curve, and a widget that retrains with another learning rate.

:func:`plot_loss_curve` draws the average loss epoch by epoch. :func:`learning_rate_widget`
puts a slider of learning rates above such a plot; when the slider moves it trains again
with the new learning rate, and it keeps every curve it has already seen, drawn in grey
behind the current one, so that learning rates can be compared at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from companion.aids.show import show
from companion.checks import describe


def _check_losses(losses: object, name: str = "losses") -> np.ndarray:
    """Return ``losses`` as a 1-D float64 array; NaN and infinity are allowed (a blow-up)."""
    if isinstance(losses, str | bytes):
        raise TypeError(f"{name} must be numbers, one loss per epoch; got {describe(losses)}")
    try:
        array = np.asarray(losses, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be numbers, one loss per epoch; got {describe(losses)}"
        ) from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{name} must have shape [n_epochs + 1] (one loss per epoch, at least one); "
            f"got shape {array.shape}"
        )
    return array


def _check_learning_rate(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a positive number; got {describe(value)}")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    return number


def summarize_losses(losses: object) -> str:
    """Say in one line how a loss curve went: first, last and lowest loss, or a blow-up.

    Parameters
    ----------
    losses : array_like, shape [n_epochs + 1]
        The average loss before training and after each epoch.

    Returns
    -------
    str
        For example ``"loss 0.766 -> 0.006 after 200 epochs (lowest 0.006)"``.

    Examples
    --------
    >>> summarize_losses([0.8, 0.5, 0.3])
    'loss 0.800 -> 0.300 after 2 epochs (lowest 0.300)'

    Notes
    -----
    Used by :func:`learning_rate_widget` (chapter 3).
    """
    losses = _check_losses(losses)
    epochs = losses.size - 1
    if not np.all(np.isfinite(losses)):
        first_bad = int(np.argmax(~np.isfinite(losses)))
        return (
            f"loss {losses[0]:.3f} -> not a number any more at epoch {first_bad}: "
            "the steps were far too large"
        )
    return (
        f"loss {losses[0]:.3f} -> {losses[-1]:.3f} after {epochs} epoch"
        f"{'' if epochs == 1 else 's'} (lowest {losses.min():.3f})"
    )


def plot_loss_curve(
    losses: object,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    title: str | None = None,
    color: str | None = None,
) -> Axes:
    """Draw a loss curve: the average loss (vertical) after each epoch (horizontal).

    Parameters
    ----------
    losses : array_like, shape [n_epochs + 1]
        The average loss before training (epoch 0) and after each epoch. NaN or infinity
        (a training run that blew up) leaves a gap.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    label : str, optional
        Legend entry of the curve.
    title : str, optional
        Title of the axes.
    color : str, optional
        Colour of the curve (matplotlib's next colour when omitted).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; ``ax.figure`` is the figure.

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent.
    """
    curve = _check_losses(losses)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes; got {describe(ax)}")
    for name, text in (("label", label), ("title", title), ("color", color)):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"{name} must be a str; got {describe(text)}")
    shown = np.where(np.isfinite(curve), curve, np.nan)  # a blow-up leaves a gap
    ax.plot(np.arange(curve.size), shown, label=label, color=color)
    ax.set_xlabel("epoch")
    ax.set_ylabel("average loss")
    ax.set_ylim(0, _highest_loss(ax) * 1.05)  # from 0, room for every curve drawn so far
    if title is not None:
        ax.set_title(title)
    if label is not None:
        ax.legend()
    return ax


def _highest_loss(ax: Axes) -> float:
    """The largest finite value of every line on ``ax`` and on the axes sharing its y-axis."""
    highest = 0.0
    for axes in ax.get_shared_y_axes().get_siblings(ax):
        for line in axes.get_lines():
            y = np.asarray(line.get_ydata(), dtype=np.float64)
            y = y[np.isfinite(y)]
            if y.size:
                highest = max(highest, float(y.max()))
    return highest if highest > 0 else 1.0


def learning_rate_widget(
    train: Callable[[float], Sequence[float]],
    learning_rates: Sequence[float],
    value: float | None = None,
    *,
    known: Mapping[float, Sequence[float]] | None = None,
) -> widgets.VBox:
    """A slider of learning rates above the loss curve of a training run with that rate.

    Moving the slider calls ``train(learning_rate)`` (once per learning rate: the curves
    are kept) and draws its loss curve in colour, with the curves of the other learning
    rates seen so far in grey behind it.

    Parameters
    ----------
    train : callable
        ``train(learning_rate)`` trains from the same starting point and returns the
        average loss before training and after each epoch.
    learning_rates : sequence of float
        The slider's positions, positive numbers, from small to large.
    value : float, optional
        The starting position, one of ``learning_rates`` (the first one when omitted).
    known : mapping of float to sequence of float, optional
        Loss curves already computed, by learning rate: they are drawn at once and not
        trained again. Passing them makes the saved widget show the comparison.

    Returns
    -------
    ipywidgets.VBox
        The slider, a one-line summary of the current curve, and the plot.

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent.
    """
    if not callable(train):
        raise TypeError(
            f"train must be a function of the learning rate returning the losses; "
            f"got {describe(train)}"
        )
    if isinstance(learning_rates, str | bytes) or not isinstance(learning_rates, Sequence):
        raise TypeError(
            f"learning_rates must be a list of positive numbers; got {describe(learning_rates)}"
        )
    rates = [
        _check_learning_rate(lr, f"learning_rates[{i}]") for i, lr in enumerate(learning_rates)
    ]
    if not rates:
        raise ValueError("learning_rates must hold at least one learning rate; got none")
    if len(set(rates)) != len(rates):
        raise ValueError(f"learning_rates must not repeat a value; got {rates}")
    if value is None:
        start = rates[0]
    else:
        start = _check_learning_rate(value, "value")
        if start not in rates:
            raise ValueError(f"value must be one of learning_rates {rates}; got {value!r}")
    curves: dict[float, np.ndarray] = {}
    if known is not None:
        if not isinstance(known, Mapping):
            raise TypeError(f"known must map learning rates to loss curves; got {describe(known)}")
        for lr, losses in known.items():
            rate = _check_learning_rate(lr, "a learning rate of known")
            curves[rate] = _check_losses(losses, f"known[{lr!r}]")

    slider = widgets.SelectionSlider(
        options=[(f"{lr:g}", lr) for lr in rates],
        value=start,
        description="learning rate",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    summary = widgets.HTML()
    picture = widgets.Output()

    def redraw(_change: object = None) -> None:
        lr = float(slider.value)
        if lr not in curves:
            curves[lr] = _check_losses(train(lr), f"train({lr:g})")
        summary.value = f"<b>learning rate {lr:g}</b>: {summarize_losses(curves[lr])}"
        picture.clear_output(wait=True)
        with picture:
            fig, ax = plt.subplots(figsize=(7, 3.6))
            for other, losses in sorted(curves.items()):
                if other != lr:
                    plot_loss_curve(losses, ax, color="0.75")
                    finite = np.flatnonzero(np.isfinite(losses))
                    if finite.size:
                        end = int(finite[-1])
                        ax.annotate(f"{other:g}", (end, losses[end]), color="0.45", fontsize=8)
            plot_loss_curve(
                curves[lr],
                ax,
                label=f"learning rate {lr:g}",
                color="C0",
                title="average loss while training (grey: other learning rates)",
            )
            fig.tight_layout()
            show(fig)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, summary, picture])
