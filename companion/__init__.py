"""The companion package of *LLM Mysteries*: every idea of the book in plain NumPy.

Each module holds one concept and names the chapter that teaches it.

Part I, a simple neural network
    :mod:`companion.network` (chapter 1), :mod:`companion.activation` and
    :mod:`companion.softmax` (chapter 2), :mod:`companion.drawing`, :mod:`companion.widgets`.
Exercises
    :func:`companion.exercises.check`.
"""

from companion.activation import logistic, relu
from companion.network import (
    LEAF,
    SUNFLOWER,
    ForwardPass,
    Network,
    collapse,
    forward,
    interpret,
    leaf_flower_network,
)
from companion.softmax import softmax

__version__ = "0.1.0"

__all__ = [
    "LEAF",
    "SUNFLOWER",
    "ForwardPass",
    "Network",
    "collapse",
    "forward",
    "interpret",
    "leaf_flower_network",
    "logistic",
    "relu",
    "softmax",
]
