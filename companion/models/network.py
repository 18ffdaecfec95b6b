"""The leaf/flower network of Part I: four numbers in, two numbers out.

A network only takes numbers and only gives numbers. Here the four inputs are read as the
colour (R, G, B) and the volume of an object, and the two outputs as "leaf" and "flower":
the larger output is the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import as_array, describe
from companion.layers.activations import relu

#: What the four input neurons mean in chapters 1-3.
INPUT_NAMES = ("R", "G", "B", "volume")
#: What the two output neurons mean in chapters 1-3.
OUTPUT_NAMES = ("leaf", "flower")

#: A green leaf, R 32, G 107, B 56, volume 11.2 (the article's example).
LEAF = np.array([32, 107, 56, 11.2])
#: A sunflower, R 241, G 200, B 4, volume 59.5 (the article's example).
SUNFLOWER = np.array([241, 200, 4, 59.5])

ACTIVATIONS = ("none", "relu")


@dataclass(frozen=True)
class Network:
    """A fully connected network with one hidden layer.

    Parameters
    ----------
    W1 : array_like, shape [n_hidden, n_inputs]
        Weights on the lines from the inputs to the hidden neurons; row ``j`` holds the
        weights into hidden neuron ``j``.
    W2 : array_like, shape [n_outputs, n_hidden]
        Weights from the hidden neurons to the outputs.
    b1 : array_like, shape [n_hidden], optional
        Biases of the hidden neurons (zeros when omitted).
    b2 : array_like, shape [n_outputs], optional
        Biases of the output neurons (zeros when omitted).
    activation : {"none", "relu"}
        Applied to every hidden neuron.

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent, where a network gets random weights
    (chapter 1 computes with it; chapter 2 adds biases and ReLU).
    """

    W1: np.ndarray
    W2: np.ndarray
    b1: np.ndarray = None  # type: ignore[assignment]  # zeros after __post_init__
    b2: np.ndarray = None  # type: ignore[assignment]  # zeros after __post_init__
    activation: str = "none"

    def __post_init__(self) -> None:
        W1 = as_array(self.W1, "W1", shape=("n_hidden", "n_inputs"))
        n_hidden = W1.shape[0]
        meaning = "one column per hidden neuron of W1"
        W2 = as_array(self.W2, "W2", shape=("n_outputs", n_hidden), meaning=meaning)
        n_outputs = W2.shape[0]
        b1 = np.zeros(n_hidden, W1.dtype) if self.b1 is None else self.b1
        b2 = np.zeros(n_outputs, W2.dtype) if self.b2 is None else self.b2
        b1 = as_array(b1, "b1", shape=(n_hidden,), meaning="one bias per hidden neuron")
        b2 = as_array(b2, "b2", shape=(n_outputs,), meaning="one bias per output")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {ACTIVATIONS}; got {describe(self.activation)}"
            )
        for name, value in (("W1", W1), ("W2", W2), ("b1", b1), ("b2", b2)):
            object.__setattr__(self, name, value)

    @property
    def n_inputs(self) -> int:
        """Number of input neurons."""
        return int(self.W1.shape[1])

    @property
    def n_hidden(self) -> int:
        """Number of hidden neurons."""
        return int(self.W1.shape[0])

    @property
    def n_outputs(self) -> int:
        """Number of output neurons."""
        return int(self.W2.shape[0])

    @property
    def n_parameters(self) -> int:
        """Number of weights and biases (the network's parameters)."""
        return self.W1.size + self.W2.size + self.b1.size + self.b2.size


@dataclass(frozen=True)
class ForwardPass:
    """What a forward pass computed: the value of every neuron, layer by layer.

    Notes
    -----
    Used by :func:`forward` (chapter 1), which returns it.
    """

    inputs: np.ndarray  #: [n_inputs] or [batch, n_inputs]
    hidden_before_activation: np.ndarray  #: [n_hidden] or [batch, n_hidden]
    hidden: np.ndarray  #: after the activation; equal to the above when there is none
    outputs: np.ndarray  #: [n_outputs] or [batch, n_outputs]


def leaf_flower_network() -> Network:
    """Return the chapter-1 network, 4 inputs -> 3 hidden neurons -> 2 outputs, no activation.

    These weights come from the article: every weight into hidden neuron 1
    (0.10, -0.29, -0.07, 0.46); the R and G weights of hidden neurons 2 (0.12, -0.05) and
    3 (-0.36, -0.21); and the weights from the three hidden neurons to output 1
    (-0.17, 0.39, 0.1). The course chose the others so that hidden neuron 2 of the leaf
    is -47.1, as in the article, and so that the leaf is read as a leaf and the
    sunflower as a flower.

    Notes
    -----
    Taught in chapter 1, Numbers in, numbers out.
    """
    W1 = np.array(
        [
            # R      G      B     volume
            [0.10, -0.29, -0.07, 0.46],  # hidden neuron 1 (all from the article)
            [0.12, -0.05, -0.78, -0.17],  # hidden neuron 2 (R, G from the article)
            [-0.36, -0.21, 0.15, 0.44],  # hidden neuron 3 (R, G from the article)
        ]
    )
    W2 = np.array(
        [
            # h1     h2    h3
            [-0.17, 0.39, 0.10],  # output 1, "leaf" (all from the article)
            [0.20, 0.60, -0.10],  # output 2, "flower"
        ]
    )
    return Network(W1=W1, W2=W2)


def forward(x: object, net: Network | None = None) -> ForwardPass:
    """Run the network on one object or a batch: multiply, add, layer by layer.

    Parameters
    ----------
    x : array_like, shape [n_inputs] or [batch, n_inputs]
        The input numbers, for the leaf/flower network (R, G, B, volume).
    net : Network, optional
        Defaults to :func:`leaf_flower_network`.

    Returns
    -------
    ForwardPass
        Every layer's values.

    Examples
    --------
    >>> round(float(forward(LEAF).hidden[0]), 1)
    -26.6

    Notes
    -----
    Taught in chapter 1, Numbers in, numbers out.
    """
    if net is None:
        net = leaf_flower_network()
    if not isinstance(net, Network):
        raise TypeError(f"net must be a companion Network; got {describe(net)}")
    meaning = ", ".join(INPUT_NAMES) if net.n_inputs == 4 else f"{net.n_inputs} input numbers"
    x = as_array(x, "x", shape=(..., net.n_inputs), meaning=meaning)
    z = x @ net.W1.T + net.b1  # [batch, n_inputs] -> [batch, n_hidden]
    h = relu(z) if net.activation == "relu" else z
    y = h @ net.W2.T + net.b2  # [batch, n_hidden] -> [batch, n_outputs]
    return ForwardPass(inputs=x, hidden_before_activation=z, hidden=h, outputs=y)


def interpret(outputs: object, labels: tuple[str, ...] = OUTPUT_NAMES) -> str | list[str]:
    """Read output numbers as a label: the larger output wins.

    Parameters
    ----------
    outputs : array_like, shape [n_labels] or [batch, n_labels]
    labels : tuple of str
        What each output neuron means; the meaning is ours, not the network's.

    Notes
    -----
    Taught in chapter 1, Numbers in, numbers out.
    """
    if not isinstance(labels, tuple | list) or not all(isinstance(s, str) for s in labels):
        raise TypeError(f"labels must be a tuple of strings; got {describe(labels)}")
    meaning = "one number per label"
    outputs = as_array(outputs, "outputs", shape=(..., len(labels)), meaning=meaning)
    winners = np.argmax(outputs, axis=-1)  # [batch, n_labels] -> [batch]
    if winners.ndim == 0:
        return labels[int(winners)]
    return [labels[int(i)] for i in winners.reshape(-1)]


def collapse(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Fold a network without activation into one layer: ``W = W2 @ W1``, ``b = W2 @ b1 + b2``.

    Two linear layers in a row are one linear layer in disguise; this returns the weights
    and biases of that single layer.

    Raises
    ------
    ValueError
        If the network has an activation: then there is no single equivalent layer.

    Notes
    -----
    Taught in chapter 2, Activation, bias and softmax.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a companion Network; got {describe(net)}")
    if net.activation != "none":
        raise ValueError(
            f"net must have activation 'none' to collapse into one layer; got {net.activation!r}"
        )
    W = net.W2 @ net.W1  # [n_outputs, n_hidden] @ [n_hidden, n_inputs] -> [n_outputs, n_inputs]
    b = net.W2 @ net.b1 + net.b2  # -> [n_outputs]
    return W, b
