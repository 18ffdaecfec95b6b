"""The base of every layer and model, and a container that runs layers one after the other.

Every layer of the course keeps one contract, the "from scratch" style:

* ``forward(x)`` computes the output and keeps what ``backward`` will need;
* ``backward(dout)`` takes d loss / d output and returns d loss / d input (one gradient
  per input of ``forward``, in the same order; ``None`` for integer token ids, which have
  no gradient), and *adds* (``+=``) d loss / d parameter to the layer's gradients;
* parameters and their gradients live side by side under the same names,
  ``layer.params["W"]`` and ``layer.grads["W"]``;
* calling the layer, ``layer(x)``, first checks ``x`` at the door (shape, dtype, finite
  numbers) and then runs ``forward``. Inside a model, layers call each other's
  ``forward`` directly: the model checked its own input once.

A model keeps the same contract. Its inputs are token ids, so its ``backward`` returns
``None``; its loss is the end of the chain, so ``backward()`` starts from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from companion.checks import describe


def normal(
    rng: np.random.Generator, shape: tuple[int, ...], std: float, dtype: np.dtype
) -> np.ndarray:
    """Random starting weights: numbers from a normal distribution of spread ``std``.

    Drawn in float64 and rounded to ``dtype``, so a float32 and a float64 layer made with
    the same seed start from the same numbers (up to rounding).
    """
    return (std * rng.standard_normal(shape)).astype(dtype)


class Module:
    """A layer with named parameters, their gradients, and a training/evaluation switch.

    Sub-layers held as attributes (or in a list attribute) are found automatically, so
    :meth:`parameters`, :meth:`gradients`, :meth:`zero_grad`, :meth:`train` and
    :meth:`eval` reach every layer inside, with dotted names such as
    ``"blocks.0.attn.c_attn.W"``.

    Notes
    -----
    Taught in chapter 6, Embeddings, where a layer of one's own subclasses it (chapter 4
    teaches its contract with the layers it holds: forward and backward, parameters and
    their gradients).
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    # -- computing: the contract of the module notes ---------------------------------------
    def forward(self, *inputs: Any) -> Any:
        """Compute the output and keep what :meth:`backward` needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, *douts: Any) -> Any:
        """Return d loss / d input and add d loss / d parameter to ``grads``."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def __call__(self, *inputs: Any) -> Any:
        """Run :meth:`forward`. Layers check their inputs here first (at the door)."""
        return self.forward(*inputs)

    # -- parameters ------------------------------------------------------------------------
    def add_parameter(self, name: str, value: np.ndarray) -> np.ndarray:
        """Register ``value`` as a parameter called ``name``, with a zero gradient beside it."""
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        return value

    def children(self) -> dict[str, Module]:
        """The sub-layers, by attribute name (items of a list attribute are ``name.i``)."""
        found: dict[str, Module] = {}
        for attr, value in vars(self).items():
            if isinstance(value, Module):
                found[attr] = value
            elif isinstance(value, list):
                found |= {f"{attr}.{i}": m for i, m in enumerate(value) if isinstance(m, Module)}
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

    # -- modes -----------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Switch this layer and every layer inside to training mode (or evaluation mode)."""
        self.training = bool(mode)
        for child in self.children().values():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode: dropout off, for example."""
        return self.train(False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n_parameters} parameters)"


class Sequential(Module):
    """Layers applied one after the other; ``backward`` runs them in reverse order.

    Calling it, ``model(x)``, checks ``x`` at the first layer's door.

    Examples
    --------
    >>> from companion.layers.activations import ReLU
    >>> from companion.layers.linear import Linear
    >>> model = Sequential(Linear(4, 3, rng=0), ReLU(), Linear(3, 2, rng=0))
    >>> model(np.ones((5, 4))).shape
    (5, 2)

    Notes
    -----
    Taught in chapter 4, Gradients from formulas.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layers[{i}] must be a companion Module; got {describe(layer)}")
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        self.layers = list(layers)

    def __call__(self, x: object) -> Any:
        """Check ``x`` at the first layer's door, then run every layer."""
        first, *rest = self.layers
        x = first(x)
        for layer in rest:
            x = layer.forward(x)
        return x

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: Any) -> Any:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
