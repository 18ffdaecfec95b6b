"""Optimisers: how a gradient turns into a change of the parameters.

Gradient descent (chapter 3) steps every parameter against its gradient,
``p -= lr * grad``. :class:`SGD` does that, optionally with momentum. :class:`Adam` keeps
running averages of each gradient and of its square, so every parameter gets a step of
about ``lr`` whatever the size of its gradient; :class:`AdamW` adds decoupled weight
decay, the optimiser GPT models are trained with (chapter 15). :func:`clip_grad_norm` and
:func:`lr_schedule` are the two other tools of that training loop.

An optimiser holds the *same arrays* as the model (``model.parameters()``) and changes
them in place, so the model sees every step; ``step`` takes the gradients under the same
names (``model.gradients()``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from companion._validate import describe


def _check_number(
    value: object, name: str, *, low: float, high: float = math.inf, low_open: bool = False
) -> float:
    """Return ``value`` as a float if it is a finite number in the range, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number; got {describe(value)}")
    number = float(value)
    inside = (number > low if low_open else number >= low) and number < high
    if not (math.isfinite(number) and inside):
        lower = f"> {low:g}" if low_open else f">= {low:g}"
        upper = "" if high == math.inf else f" and < {high:g}"
        raise ValueError(f"{name} must be {lower}{upper}; got {value!r}")
    return number


def _check_params(params: object) -> dict[str, np.ndarray]:
    """The parameters an optimiser will change: a non-empty dict of float arrays."""
    if not isinstance(params, Mapping):
        raise TypeError(
            "params must be a dict of parameter arrays such as model.parameters(); "
            f"got {describe(params)}"
        )
    if not params:
        raise ValueError("params must hold at least one parameter; got an empty dict")
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"params[{name!r}] must be a float array; got {describe(p)}")
        if not p.flags.writeable:
            raise ValueError(f"params[{name!r}] must be writeable: the optimiser changes it")
    return dict(params)


def _check_grads(grads: object, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Gradients with exactly the names and shapes of ``shapes``, finite floats."""
    if not isinstance(grads, Mapping):
        raise TypeError(
            "grads must be a dict of gradient arrays such as model.gradients(); "
            f"got {describe(grads)}"
        )
    missing = sorted(set(shapes) - set(grads))
    unknown = sorted(set(grads) - set(shapes))
    if missing or unknown:
        raise ValueError(
            "grads must have the names of the parameters; "
            f"missing {missing}, not parameters {unknown}"
        )
    for name, shape in shapes.items():
        g = grads[name]
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            raise TypeError(f"grads[{name!r}] must be a float array; got {describe(g)}")
        if g.shape != shape:
            raise ValueError(
                f"grads[{name!r}] must have the shape of its parameter, {shape}; got {g.shape}"
            )
        if not np.all(np.isfinite(g)):
            raise ValueError(
                f"grads[{name!r}] must be finite; got {g[~np.isfinite(g)][0]} "
                "(the loss may have blown up: try a smaller learning rate)"
            )
    return dict(grads)


class _Optimizer:
    """What every optimiser shares: the parameters, the learning rate, the step count."""

    def __init__(self, params: Mapping[str, np.ndarray], lr: float) -> None:
        self.params = _check_params(params)
        self.lr = _check_number(lr, "lr", low=0.0, low_open=True)
        self.t = 0  # steps taken

    @property
    def lr(self) -> float:
        """The learning rate; set it before a step to follow a schedule (0 is allowed)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number(value, "lr", low=0.0)

    def _grads(self, grads: object) -> dict[str, np.ndarray]:
        return _check_grads(grads, {name: p.shape for name, p in self.params.items()})

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Change every parameter, in place, using its gradient."""
        raise NotImplementedError


class SGD(_Optimizer):
    """Stochastic gradient descent, optionally with momentum.

    Without momentum: ``p -= lr * g``. With momentum ``mu``, a velocity ``b`` remembers
    past gradients: ``b = mu * b + g``; ``p -= lr * b`` (the convention PyTorch uses).

    Parameters
    ----------
    params : dict of str to numpy.ndarray
        The parameters, changed in place (``model.parameters()``).
    lr : float
        The learning rate, > 0.
    momentum : float
        In [0, 1); 0 is plain gradient descent.

    Examples
    --------
    >>> p = {"w": np.array([1.0, -2.0])}
    >>> SGD(p, lr=0.1).step({"w": np.array([0.5, 1.0])})
    >>> p["w"].tolist()
    [0.95, -2.1]

    Notes
    -----
    Taught in chapter 3, Loss and gradient descent.
    """

    def __init__(self, params: Mapping[str, np.ndarray], lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = _check_number(momentum, "momentum", low=0.0, high=1.0)
        self.velocity = {name: np.zeros_like(p) for name, p in self.params.items()}

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Take one step: ``b = momentum * b + g``; ``p -= lr * b``."""
        grads = self._grads(grads)
        self.t += 1
        for name, p in self.params.items():
            lr, mu = p.dtype.type(self.lr), p.dtype.type(self.momentum)
            b = self.velocity[name]
            b *= mu
            b += grads[name]
            p -= lr * b


class Adam(_Optimizer):
    """Adam: steps scaled by running averages of the gradient and of its square.

    With ``g`` the gradient and ``t`` the step number (1, 2, ...)::

        m = beta1 * m + (1 - beta1) * g          # average gradient
        v = beta2 * v + (1 - beta2) * g**2       # average squared gradient
        m_hat = m / (1 - beta1**t)               # bias correction: m and v start at 0
        v_hat = v / (1 - beta2**t)
        p -= lr * m_hat / (sqrt(v_hat) + eps)

    On the first step ``m_hat / sqrt(v_hat) = g / |g|``, so every parameter moves by
    about ``lr``, whatever the size of its gradient.

    Parameters
    ----------
    params : dict of str to numpy.ndarray
        The parameters, changed in place (``model.parameters()``).
    lr : float
        The learning rate, > 0.
    betas : tuple of two floats
        ``(beta1, beta2)``, each in [0, 1).
    eps : float
        Added to the denominator, > 0.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2); got {describe(betas)}")
        self.beta1 = _check_number(betas[0], "betas[0]", low=0.0, high=1.0)
        self.beta2 = _check_number(betas[1], "betas[1]", low=0.0, high=1.0)
        self.eps = _check_number(eps, "eps", low=0.0, low_open=True)
        self.m = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.v = {name: np.zeros_like(p) for name, p in self.params.items()}

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Take one Adam step on every parameter, in place."""
        grads = self._grads(grads)
        self.t += 1
        for name, p in self.params.items():
            self._adam_update(p, grads[name], self.m[name], self.v[name])

    def _adam_update(self, p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray) -> None:
        """``p -= lr * m_hat / (sqrt(v_hat) + eps)``, computed in place in one scratch array."""
        f = p.dtype.type  # every scalar in the parameter's dtype: float32 stays float32
        beta1, beta2 = f(self.beta1), f(self.beta2)
        step = np.multiply(g, f(1) - beta1)  # scratch array, [same shape as p]
        m *= beta1
        m += step  # m = beta1 m + (1 - beta1) g
        np.multiply(g, g, out=step)
        step *= f(1) - beta2
        v *= beta2
        v += step  # v = beta2 v + (1 - beta2) g^2
        # m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t): the bias corrections
        # are two numbers, folded into the scalars instead of dividing m and v
        np.sqrt(v, out=step)
        step *= f(1 / np.sqrt(1 - self.beta2**self.t))  # sqrt(v_hat)
        step += f(self.eps)
        np.divide(m, step, out=step)
        step *= f(self.lr / (1 - self.beta1**self.t))
        p -= step


class AdamW(Adam):
    """Adam with decoupled weight decay: every step also shrinks the parameters a little.

    Before the Adam step, ``p -= lr * weight_decay * p``: the decay does not pass through
    Adam's averages (that is "decoupled"), so it pulls every parameter towards 0 at the
    same rate.

    Parameters
    ----------
    params : dict of str to numpy.ndarray
        The parameters, changed in place (``model.parameters()``).
    lr : float
        The learning rate, > 0.
    betas : tuple of two floats
        ``(beta1, beta2)``, each in [0, 1).
    eps : float
        Added to the denominator, > 0.
    weight_decay : float
        >= 0; 0 makes this :class:`Adam`.

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps)
        self.weight_decay = _check_number(weight_decay, "weight_decay", low=0.0)

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Decay every parameter, ``p -= lr * weight_decay * p``, then take the Adam step."""
        grads = self._grads(grads)
        self.t += 1
        for name, p in self.params.items():
            p *= p.dtype.type(1 - self.lr * self.weight_decay)  # p -= lr * weight_decay * p
            self._adam_update(p, grads[name], self.m[name], self.v[name])


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients together, in place, so their global norm is at most ``max_norm``.

    The global norm is the length of all gradients laid end to end,
    ``sqrt(sum of every g**2)``. If it exceeds ``max_norm``, every gradient is multiplied
    by ``max_norm / norm``: the direction of the step is kept, its size is capped.

    Parameters
    ----------
    grads : dict of str to numpy.ndarray
        The gradients (``model.gradients()``), changed in place.
    max_norm : float
        The largest global norm allowed, > 0.

    Returns
    -------
    float
        The global norm *before* clipping (worth logging: spikes show trouble).

    Examples
    --------
    >>> grads = {"a": np.array([6.0]), "b": np.array([8.0])}
    >>> clip_grad_norm(grads, 5.0), grads["a"].tolist(), grads["b"].tolist()
    (10.0, [3.0], [4.0])

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    if not isinstance(grads, Mapping):
        raise TypeError(
            f"grads must be a dict of gradient arrays such as model.gradients(); "
            f"got {describe(grads)}"
        )
    if not grads:
        raise ValueError("grads must hold at least one gradient; got an empty dict")
    grads = _check_grads(grads, {name: np.shape(g) for name, g in grads.items()})
    max_norm = _check_number(max_norm, "max_norm", low=0.0, low_open=True)
    squares = [float(np.sum(np.square(g), dtype=np.float64)) for g in grads.values()]
    total_norm = math.sqrt(sum(squares))  # the length of all gradients laid end to end
    if total_norm > max_norm:
        scale = max_norm / total_norm
        for g in grads.values():
            g *= g.dtype.type(scale)
    return total_norm


def lr_schedule(
    step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """Learning rate at ``step``: a linear warm-up, then a cosine decay to ``min_lr``.

    During warm-up (``step < warmup_steps``) the rate climbs in equal steps,
    ``max_lr * (step + 1) / warmup_steps``, reaching ``max_lr`` at the last warm-up step.
    Then it follows half a cosine from ``max_lr`` at ``step == warmup_steps`` down to
    ``min_lr`` at ``step == total_steps``, and stays at ``min_lr`` after.

    Parameters
    ----------
    step : int
        The step, from 0.
    max_lr : float
        The peak rate, > 0.
    warmup_steps : int
        Steps of warm-up, >= 0 (0: start at ``max_lr``).
    total_steps : int
        The step at which the decay reaches ``min_lr``, > ``warmup_steps``.
    min_lr : float
        The final rate, in [0, ``max_lr``].

    Examples
    --------
    >>> [round(lr_schedule(s, 1.0, 2, 6), 3) for s in range(7)]
    [0.5, 1.0, 1.0, 0.854, 0.5, 0.146, 0.0]

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    counts = {"step": step, "warmup_steps": warmup_steps, "total_steps": total_steps}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be an int >= 0; got {describe(value)}")
    if total_steps <= warmup_steps:
        raise ValueError(
            f"total_steps must be larger than warmup_steps; got total_steps={total_steps} "
            f"and warmup_steps={warmup_steps}"
        )
    max_lr = _check_number(max_lr, "max_lr", low=0.0, low_open=True)
    min_lr = _check_number(min_lr, "min_lr", low=0.0)
    if min_lr > max_lr:
        raise ValueError(f"min_lr must be <= max_lr ({max_lr:g}); got {min_lr:g}")
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))  # 0 -> 1
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))
