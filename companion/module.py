"""The base of every layer, and a container that runs layers one after the other.

Every layer of the course is written in the "from scratch" style: ``forward(x)`` computes
its output and keeps what ``backward`` will need; ``backward(dout)`` takes the gradient of
the loss with respect to the output, returns the gradient with respect to the input, and
*adds* (``+=``) the gradients of its own parameters. Parameters and their gradients live
side by side under the same names, ``layer.params["W"]`` and ``layer.grads["W"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from companion._validate import describe


class Module:
    """A layer with named parameters, their gradients, and a training/evaluation switch.

    Sub-layers assigned as attributes (or held in a list attribute) are found
    automatically, so :meth:`parameters`, :meth:`gradients`, :meth:`zero_grad`,
    :meth:`train` and :meth:`eval` reach every layer inside, with dotted names such as
    ``"blocks.0.attention.W_q"``.

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent (parameters and their gradients) and
    chapter 4, Gradients from formulas (forward and backward).
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    # -- parameters ---------------------------------------------------------------------
    def add_parameter(self, name: str, value: np.ndarray) -> np.ndarray:
        """Register ``value`` as a parameter called ``name``, with a zero gradient beside it."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"name must be a Python identifier; got {describe(name)}")
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise TypeError(
                f"value of parameter {name!r} must be a float array; got {describe(value)}"
            )
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        return value

    def children(self) -> dict[str, Module]:
        """The sub-layers, by attribute name (items of a list attribute are ``name.i``)."""
        found: dict[str, Module] = {}
        for attr, value in vars(self).items():
            if isinstance(value, Module):
                found[attr] = value
            elif isinstance(value, list | tuple):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        found[f"{attr}.{i}"] = item
        return found

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Yield ``(name, parameter, gradient)`` for this layer and every layer inside it."""
        for name, value in self.params.items():
            yield prefix + name, value, self.grads[name]
        for child_name, child in self.children().items():
            yield from child.named_parameters(f"{prefix}{child_name}.")

    def parameters(self) -> dict[str, np.ndarray]:
        """Every parameter, by dotted name (the arrays themselves, not copies)."""
        return {name: p for name, p, _ in self.named_parameters()}

    def gradients(self) -> dict[str, np.ndarray]:
        """Every parameter's gradient, under the same dotted names as :meth:`parameters`."""
        return {name: g for name, _, g in self.named_parameters()}

    @property
    def n_parameters(self) -> int:
        """How many numbers the model learns."""
        return sum(p.size for _, p, _ in self.named_parameters())

    def zero_grad(self) -> None:
        """Set every gradient to zero, in place (``backward`` adds to them)."""
        for _, _, grad in self.named_parameters():
            grad.fill(0)

    # -- modes --------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Switch this layer and every layer inside to training mode (or evaluation mode)."""
        self.training = bool(mode)
        for child in self.children().values():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode: dropout off, for example."""
        return self.train(False)

    # -- computing ----------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output and keep what :meth:`backward` needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return d loss / d input and add d loss / d parameter to :attr:`grads`."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n_parameters} parameters)"


class Sequential(Module):
    """Layers applied one after the other; ``backward`` runs them in reverse order.

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layers[{i}] must be a companion Module; got {describe(layer)}")
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
