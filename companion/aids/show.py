"""Showing a figure inside a widget: the one helper every widget of the book uses."""

from __future__ import annotations

import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure


def show(fig: Figure) -> None:
    """Display ``fig`` in the current output (a widget's ``Output`` area), then close it.

    Closing it keeps matplotlib from showing it a second time at the end of the cell.
    """
    display(fig)  # type: ignore[no-untyped-call]  # IPython's display has no type hints
    plt.close(fig)
