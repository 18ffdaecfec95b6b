"""Exercises of chapter 10, Residual connections."""

from __future__ import annotations

import numpy as np

from companion.aids.exercises._checker import Verdict, as_numbers, close, register

#: Exercise 10.1: a block ``out = x + w * x`` with this weight ``w``, and the gradient
#: d loss / d out that arrives from the layers above.
ONE_W = -0.4
ONE_DOUT = 2.5

#: Exercise 10.2: three residual blocks, first to last; the slope d f / d x of each block's
#: inner part, and d loss / d (the last block's output).
STACK_SLOPES = (0.5, -0.4, 0.2)
STACK_DOUT = 2.0

#: Exercise 10.3: the inputs of ``Residual(ReLU())``.
RELU_INPUTS = np.array([-2.0, -0.5, 0.0, 1.5, 3.0])

#: Exercise 10.4: a stack of GROWTH_BLOCKS residual blocks whose inner part is
#: ``f(x) = GROWTH_W * x``, fed the number GROWTH_START.
GROWTH_W = 0.1
GROWTH_BLOCKS = 20
GROWTH_START = 1.0


@register("10.1", "d loss / d x for out = x + w * x, with w = -0.4 and d loss / d out = 2.5.")
def _one_block(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    g, w = ONE_DOUT, ONE_W
    right = g * (1 + w)
    if close(got, right, 1e-3):
        return Verdict(
            True,
            f"{g:g} along the straight path, plus {g:g} x ({w:g}) = {g * w:g} through f: "
            f"{right:g}.",
        )
    if close(got, g * w, 1e-3):
        return Verdict(
            False,
            f"That is only the path through f. The straight path adds the arriving gradient, "
            f"{g:g}, unchanged.",
        )
    if close(got, g, 1e-3):
        return Verdict(False, "That is only the straight path; add what comes back through f.")
    if close(got, 1 + w, 1e-3):
        return Verdict(
            False,
            f"That is d out / d x. The chain rule multiplies it by the gradient that arrives, "
            f"{g:g}.",
        )
    if close(got, g * (1 - w), 1e-3):
        return Verdict(False, f"Mind the sign of w: the slope is 1 + w = 1 + ({w:g}).")
    if close(got, g + w, 1e-3):
        return Verdict(False, f"The path through f carries {g:g} times w, not {g:g} plus w.")
    if close(got, -right, 1e-3):
        return Verdict(False, "Right size, wrong sign.")
    return Verdict(False, "d loss / d x = d loss / d out x (1 + w): the two paths, added.")


@register("10.2", "d loss / d x at the input of three residual blocks with the given slopes.")
def _three_blocks(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    g, (a, b, c) = STACK_DOUT, STACK_SLOPES
    right = g * (1 + a) * (1 + b) * (1 + c)
    if close(got, right, 1e-3):
        return Verdict(
            True,
            f"{g:g} x {1 + a:g} x {1 + b:g} x {1 + c:g} = {right:.3g}: each block multiplies "
            "by 1 + its slope.",
        )
    if close(got, g * a * b * c, 1e-4) or close(got, a * b * c, 1e-4):
        return Verdict(
            False,
            "That is the path through all three blocks only, the gradient of a plain stack. "
            "A residual block's slope is 1 + the slope of its inner part.",
        )
    if close(got, right / g, 1e-3):
        return Verdict(False, f"Multiply by the gradient that arrives at the top, {g:g}.")
    if close(got, g * (1 + a + b + c), 1e-3) or close(got, 1 + a + b + c, 1e-3):
        return Verdict(
            False,
            "You kept the straight path and the paths through one block; the paths through "
            "two and three blocks count too. Multiply (1 + a)(1 + b)(1 + c).",
        )
    if close(got, g, 1e-3):
        return Verdict(False, "That is the straight path alone; the blocks' paths add to it.")
    return Verdict(False, "Each block multiplies the gradient by 1 + its slope; start from 2.0.")


@register("10.3", "The output of Residual(ReLU()) for RELU_INPUTS.")
def _residual_relu(answer: object) -> Verdict:
    got = as_numbers(answer, RELU_INPUTS.shape)
    if isinstance(got, Verdict):
        return got
    x = RELU_INPUTS
    relu = np.maximum(x, 0)
    right = x + relu
    if close(got, right, 1e-6):
        return Verdict(
            True,
            "x + relu(x): negative numbers pass unchanged, positive ones double.",
        )
    if close(got, relu, 1e-6):
        return Verdict(False, "That is ReLU alone; Residual adds the input back: x + relu(x).")
    if close(got, 2 * x, 1e-6):
        return Verdict(False, "For a negative x, ReLU gives 0, so the output is x + 0 = x, not 2x.")
    if close(got, x, 1e-6):
        return Verdict(False, "For a positive x, ReLU gives x, and x + x = 2x.")
    if close(got, 2 * relu, 1e-6):
        return Verdict(False, "Negative inputs are not set to 0: they come out as x + 0 = x.")
    return Verdict(False, "Work out relu(x) for each number, then add x to it.")


@register("10.4", "x after 20 residual blocks with f(x) = 0.1 x, starting from x = 1.")
def _stream_growth(answer: object) -> Verdict:
    got = as_numbers(answer, ())
    if isinstance(got, Verdict):
        return got
    w, n, x0 = GROWTH_W, GROWTH_BLOCKS, GROWTH_START
    right = x0 * (1 + w) ** n

    def near(value: float) -> bool:
        return abs(float(got) - value) <= 1e-3 * abs(value)

    if near(right):
        return Verdict(
            True,
            f"Each block multiplies x by {1 + w:g}: {1 + w:g}^{n} = {right:.2f}. Small "
            "additions compound.",
        )
    if near(x0 * (1 + w * n)):
        return Verdict(
            False,
            f"Each block adds {w:g} of the x it receives, which has already grown, not {w:g} of "
            f"the starting x: x is multiplied by {1 + w:g} at every block.",
        )
    if near(x0 * w**n) or abs(float(got)) < 1e-12:
        return Verdict(
            False,
            f"That is a plain stack, x -> {w:g} x. A residual block keeps x and adds {w:g} x.",
        )
    if near(x0 * (1 + w) * n):
        return Verdict(
            False, f"Multiplying by {1 + w:g} {n} times is a power, {1 + w:g}^{n}, not a product."
        )
    if near(x0 * (1 + w) ** (n - 1)) or near(x0 * (1 + w) ** (n + 1)):
        return Verdict(False, f"Count again: {n} blocks, {n} multiplications.")
    if near(x0 * (1 + w)):
        return Verdict(False, "That is after one block; there are 20.")
    return Verdict(False, "After one block x is 1 + 0.1 = 1.1; after two, 1.1 x 1.1; and so on.")
