"""Optimisers: how a gradient turns into a change of the parameters.

Gradient descent (chapter 3) steps every parameter against its gradient,
``p -= lr * grad``. :class:`SGD` does that, optionally with momentum. :class:`Adam` keeps
running averages of each gradient and of its square, so every parameter gets a step of
about ``lr`` whatever the size of its gradient; :class:`AdamW` adds decoupled weight
decay, the optimiser GPT models are trained with. :func:`clip_grad_norm` and
:func:`lr_schedule` are the two other tools of that training loop.

An optimiser holds the *same arrays* as the model (``model.parameters()``) and changes
them in place, so the model sees every step; ``step`` takes the gradients under the same
names (``model.gradients()``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from companion.checks import describe, number, whole_number


class Optimizer:
    """What every optimiser shares: the parameters, the learning rate and the step count.

    Parameters
    ----------
    params : dict of str to numpy.ndarray
        The parameters, changed in place (``model.parameters()``).
    lr : float
        The learning rate, > 0. It may be changed between steps (a schedule), to 0 too.
    """

    def __init__(self, params: Mapping[str, np.ndarray], lr: float) -> None:
        if not isinstance(params, Mapping) or not params:
            raise TypeError(
                "params must be a non-empty dict of arrays such as model.parameters(); "
                f"got {describe(params)}"
            )
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f" or not p.flags.writeable:
                raise TypeError(
                    f"params[{name!r}] must be a writeable float array; got {describe(p)}"
                )
        self.params = dict(params)
        #: The largest number every parameter's dtype holds (3.4e38 for float32).
        self.largest = min(float(np.finfo(p.dtype).max) for p in self.params.values())
        self.lr = number(lr, "lr", low=0, low_open=True)
        self.t = 0  # steps taken

    @property
    def lr(self) -> float:
        """The learning rate; set it before a step to follow a schedule (0 is allowed)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        # A rate that overflows the parameters' dtype would turn them into infinity.
        decay = max(1.0, getattr(self, "weight_decay", 0.0))
        self._lr = number(value, "lr", low=0, high=self.largest / decay)

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Change every parameter, in place, using its gradient ``grads[name]``."""
        missing = [name for name in self.params if name not in grads]
        if missing:
            raise KeyError(f"grads must hold a gradient for every parameter; missing {missing}")
        self.t += 1
        for name, p in self.params.items():
            self.update(name, p, grads[name])

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        """Change one parameter ``p`` with its gradient ``g``."""
        raise NotImplementedError


class SGD(Optimizer):
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
        self.momentum = number(momentum, "momentum", low=0, high=1, high_open=True)
        self.velocity = {name: np.zeros_like(p) for name, p in self.params.items()}

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        b = self.velocity[name]
        b *= self.momentum
        b += g  # b = mu * b + g, in place
        p -= self.lr * b


class Adam(Optimizer):
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
    Taught in chapter 5, Predicting the next character, where it first trains a network
    (chapter 15 looks inside it).
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
        self.beta1 = number(betas[0], "betas[0]", low=0, high=1, high_open=True)
        self.beta2 = number(betas[1], "betas[1]", low=0, high=1, high_open=True)
        self.eps = number(eps, "eps", low=0, low_open=True)
        self.m = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.v = {name: np.zeros_like(p) for name, p in self.params.items()}

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        m, v, t = self.m[name], self.v[name], self.t
        m *= self.beta1
        m += (1 - self.beta1) * g  # m = beta1 m + (1 - beta1) g, in place
        v *= self.beta2
        v += (1 - self.beta2) * g * g  # v = beta2 v + (1 - beta2) g^2, in place
        m_hat = m / (1 - self.beta1**t)  # bias corrections: m and v start at 0
        v_hat = v / (1 - self.beta2**t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: every step also shrinks the parameters a little.

    Before the Adam step, ``p -= lr * weight_decay * p``: the decay does not pass through
    Adam's averages (that is "decoupled"), so it pulls every parameter towards 0 at the
    same rate.

    Parameters
    ----------
    params, lr, betas, eps
        As for :class:`Adam`.
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
        self.weight_decay = number(weight_decay, "weight_decay", low=0)
        self.lr = self.lr  # checks lr * weight_decay against the dtype too

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        p *= 1 - self.lr * self.weight_decay  # p -= lr * weight_decay * p
        super().update(name, p, g)


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients together, in place, so their global norm is at most ``max_norm``.

    The global norm is the length of all gradients laid end to end,
    ``sqrt(sum of every g^2)``. If it exceeds ``max_norm``, every gradient is multiplied
    by ``max_norm / norm``: the direction of the step is kept, its size is capped.

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
    max_norm = number(max_norm, "max_norm", low=0, low_open=True)
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))  # sum of g^2
    if total > max_norm:
        for g in grads.values():
            g *= max_norm / total
    return total


def lr_schedule(
    step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """Learning rate at ``step``: a linear warm-up, then a cosine decay to ``min_lr``.

    During warm-up (``step < warmup_steps``) the rate climbs in equal steps,
    ``max_lr * (step + 1) / warmup_steps``, reaching ``max_lr`` at the last warm-up step.
    Then it follows half a cosine from ``max_lr`` at ``step == warmup_steps`` down to
    ``min_lr`` at ``step == total_steps``, and stays at ``min_lr`` after.

    Examples
    --------
    >>> [round(lr_schedule(s, 1.0, 2, 6), 3) for s in range(7)]
    [0.5, 1.0, 1.0, 0.854, 0.5, 0.146, 0.0]

    Notes
    -----
    Taught in chapter 15, The GPT architecture.
    """
    step, warmup_steps = whole_number(step, "step"), whole_number(warmup_steps, "warmup_steps")
    total_steps = whole_number(total_steps, "total_steps", low=warmup_steps + 1)
    max_lr = number(max_lr, "max_lr", low=0, low_open=True)
    min_lr = number(min_lr, "min_lr", low=0, high=max_lr)
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))  # 0 -> 1
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))
