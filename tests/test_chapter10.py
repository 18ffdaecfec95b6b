"""Chapter 10, Residual connections: the chapter's few-line versions equal the companion's,
the prose's claims hold, and the answers for the exercise checkers (judged in test_exercises.py)."""

from __future__ import annotations

import itertools
import re

import nbformat
import numpy as np
import pytest
from conftest import BOOK, chapter_definitions, chapter_function

from companion import (
    Linear,
    ReLU,
    Residual,
    Sequential,
    check,
    numerical_gradient,
)
from companion.aids.exercises.chapter10 import (
    GROWTH_BLOCKS,
    GROWTH_START,
    GROWTH_W,
    ONE_DOUT,
    ONE_W,
    RELU_INPUTS,
    STACK_DOUT,
    STACK_SLOPES,
)
from companion.aids.gradient_flow import deep_stack, gradient_norms

CH10 = "10_residual_connections.ipynb"
RNG = np.random.default_rng(1010)


def _companion_block(n, W, b):
    block = Residual(Sequential(Linear(n, n, rng=0, dtype=np.float64), ReLU()))
    block.inner.layers[0].params["W"][...] = W
    block.inner.layers[0].params["b"][...] = b
    return block


# -- (a) the chapter's versions equal the companion's ---------------------------------------


def test_residual_forward_and_backward_equal_the_companion_residual():
    residual_forward = chapter_function(CH10, "residual_forward")
    residual_backward = chapter_function(CH10, "residual_backward")
    for _ in range(50):
        n, batch = int(RNG.integers(1, 12)), int(RNG.integers(1, 9))
        x = RNG.normal(size=(batch, n))
        W, b = RNG.normal(size=(n, n)), RNG.normal(size=n)
        dout = RNG.normal(size=(batch, n))
        block = _companion_block(n, W, b)
        np.testing.assert_allclose(residual_forward(x, W, b), block(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            residual_backward(dout, x, W, b), block.backward(dout), rtol=1e-12, atol=1e-12
        )


def test_residual_backward_equals_nudging():
    residual_forward = chapter_function(CH10, "residual_forward")
    residual_backward = chapter_function(CH10, "residual_backward")
    for _ in range(10):
        x, W, b = RNG.normal(size=(3, 5)), RNG.normal(size=(5, 5)), RNG.normal(size=5)
        dout = RNG.normal(size=(3, 5))

        def loss(x=x, W=W, b=b, dout=dout):
            return float((residual_forward(x, W, b) * dout).sum())

        np.testing.assert_allclose(
            numerical_gradient(loss, x), residual_backward(dout, x, W, b), atol=1e-7
        )


def test_the_one_number_block_and_its_slope():
    ns = chapter_definitions(CH10, ["f", "residual"], {"np": np, "w": 0.5})
    assert ns["f"](2.0) == 1.0 and ns["residual"](2.0) == 3.0  # the chapter's numbers
    for w in RNG.normal(size=10):
        ns["w"] = float(w)
        x, h = float(RNG.normal()), 1e-6
        slope = (ns["residual"](x + h) - ns["residual"](x - h)) / (2 * h)
        assert slope == pytest.approx(1 + w, abs=1e-6)  # 1 + w: the straight path plus f


def test_residual_stack_wraps_the_plain_stacks_very_weights():
    ns = chapter_definitions(
        CH10,
        ["residual_stack"],
        {
            "np": np,
            "deep_stack": deep_stack,
            "Residual": Residual,
            "Sequential": Sequential,
            "WIDTH": 8,
            "seed": 3,
        },
    )
    stack = ns["residual_stack"](4, 0.5)
    plain = deep_stack(4, 8, 0.5, rng=3)
    assert len(stack.layers) == 4 and all(isinstance(b, Residual) for b in stack.layers)
    x = RNG.normal(size=(2, 8))
    h = x
    for block in plain.layers:
        h = h + block(h)
    np.testing.assert_allclose(stack(x), h, rtol=1e-12)


def test_make_model_blocks_start_from_the_same_numbers_times_the_scale():
    ns = chapter_definitions(
        CH10,
        ["make_model"],
        {
            "np": np,
            "deep_stack": deep_stack,
            "Residual": Residual,
            "Sequential": Sequential,
            "Linear": Linear,
            "N_BLOCKS": 5,
            "WIDTH": 6,
        },
    )
    plain = ns["make_model"](residual=False, scale=1.0)
    residual = ns["make_model"](residual=True, scale=0.25)
    assert len(plain.layers) == len(residual.layers) == 5 + 2
    for p, r in zip(plain.layers[1:-1], residual.layers[1:-1], strict=True):
        np.testing.assert_allclose(r.inner.layers[0].params["W"], 0.25 * p.layers[0].params["W"])
    for i in (0, -1):  # the input and output layers are the same in both
        np.testing.assert_array_equal(plain.layers[i].params["W"], residual.layers[i].params["W"])
    assert plain(RNG.normal(size=(3, 2))).shape == (3, 2)


def test_spirals_are_two_interleaved_spirals_half_a_turn_apart():
    spirals = chapter_function(CH10, "spirals")
    x, label = spirals(500, np.random.default_rng(0), noise=0.0)
    assert x.shape == (500, 2) and label.shape == (500,) and set(label.tolist()) == {0, 1}
    radius = np.linalg.norm(x, axis=1)
    assert radius.min() >= 0.2 - 1e-12 and radius.max() <= 2.0 + 1e-12  # 2 t, t in [0.1, 1]
    t = radius / 2
    angle = 2 * np.pi * 2.5 * t + np.pi * label  # turns = 2.5; spiral 1 turned by half a turn
    np.testing.assert_allclose(
        x, radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1), atol=1e-12
    )
    again, label_again = spirals(500, np.random.default_rng(0), noise=0.0)
    np.testing.assert_array_equal(again, x)  # seeded: the same points
    np.testing.assert_array_equal(label_again, label)


# -- (c) what the prose claims -----------------------------------------------------------


def test_every_route_counts_and_they_add_up_to_the_product_of_one_plus_the_slopes():
    # A second, independent expansion: the sum over subsets of blocks entered.
    for _ in range(20):
        slopes = RNG.normal(size=int(RNG.integers(1, 7)))
        routes = [
            np.prod([s for s, enter in zip(slopes, use, strict=True) if enter])
            for use in itertools.product([False, True], repeat=len(slopes))
        ]
        assert len(routes) == 2 ** len(slopes)
        assert routes[0] == 1.0  # the straight path skips every block
        assert routes[-1] == pytest.approx(np.prod(slopes))  # the plain stack's gradient
        assert sum(routes) == pytest.approx(np.prod(1 + slopes))


def test_the_three_block_example_by_hand():
    # 1.5 x 0.8 x 1.1 = 1.32 with residual connections; 0.5 x (-0.2) x 0.1 = -0.01 without.
    slopes = np.array([0.5, -0.2, 0.1])
    assert np.prod(1 + slopes) == pytest.approx(1.32)
    assert np.prod(slopes) == pytest.approx(-0.01)


def test_a_stack_of_residual_blocks_is_the_product_of_their_slopes_by_nudging():
    for _ in range(10):
        ws = RNG.normal(scale=0.5, size=4)

        def stack(x, ws=ws):
            for w in ws:
                x = x + w * x
            return x

        x, h = float(RNG.normal()), 1e-6
        slope = (stack(x + h) - stack(x - h)) / (2 * h)
        assert slope == pytest.approx(np.prod(1 + ws), rel=1e-6)


def test_relu_blocks_only_ever_raise_the_numbers_of_the_stream():
    for _ in range(20):
        n = int(RNG.integers(1, 10))
        x = RNG.normal(size=(4, n))
        block = _companion_block(n, RNG.normal(size=(n, n)), RNG.normal(size=n))
        assert np.all(block(x) >= x)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("scale", [0.1, 1 / np.sqrt(30), 1.0, 2.0])
def test_no_block_of_a_residual_stack_gets_less_gradient_than_the_top(seed, scale):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((16, 32)), rng.standard_normal((16, 32))
    stack = Sequential(*[Residual(b) for b in deep_stack(30, 32, scale, rng=seed).layers])
    sizes = gradient_norms(stack, x, y)
    assert sizes[:-1].min() >= sizes[-1]


def test_the_measurements_at_initialisation():
    # The chapter's set-up: 30 blocks of 32, seed 7, 16 random inputs and targets.
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((16, 32)), rng.standard_normal((16, 32))

    def residual(scale):
        return Sequential(*[Residual(b) for b in deep_stack(30, 32, scale, rng=7).layers])

    plain = gradient_norms(deep_stack(30, 32, 1.0, rng=7), x, y)
    assert plain[0] / plain[-1] < 1e-4  # vanishes
    grown = gradient_norms(residual(1.0), x, y)
    assert grown[0] / grown[-1] > 1e4  # grows instead
    small = gradient_norms(residual(1 / np.sqrt(30)), x, y)
    assert 1 < small[0] / small[-1] < 20
    stream = np.linalg.norm(residual(1.0)(x)) / np.linalg.norm(x)
    stream_small = np.linalg.norm(residual(1 / np.sqrt(30))(x)) / np.linalg.norm(x)
    assert stream > 1e4 and 1 < stream_small < 10


#: A maths idea the chapter uses, how its first use reads in the prose, and the section of the
#: page "Maths you need" that explains it.
FIRST_USES = [
    ("{term}`derivative`", "maths-derivative"),
    ("\\partial", "maths-partial"),
    ("list comprehension", "python-comprehensions"),
    ("`@`", "maths-matmul"),
    ("`.T`", "maths-transpose"),
    ("shape comments", "python-numpy"),
    ("class `Residual", "python-classes"),
    ("`lambda`", "python-lambda"),
    ("Euclidean norm", "maths-norm"),
    ("standard deviation", "maths-normal"),
    ("logarithmic", "maths-log"),
]


@pytest.mark.parametrize(("first_use", "label"), FIRST_USES)
def test_the_maths_page_is_linked_at_the_first_use_or_before(first_use, label):
    nb = nbformat.read(BOOK / CH10, as_version=4)
    prose = [" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown"]
    used = next(i for i, text in enumerate(prose) if first_use in text)
    link = re.compile(r"\{ref\}`(?:[^`<]*<)?" + re.escape(label) + r">?`")
    linked = [i for i, text in enumerate(prose) if link.search(text)]
    assert linked and linked[0] <= used, f"link {label} where {first_use!r} first appears"


def test_the_exercise_data_are_the_numbers_the_exercises_state():
    assert (ONE_W, ONE_DOUT) == (-0.4, 2.5)
    assert STACK_SLOPES == (0.5, -0.4, 0.2) and STACK_DOUT == 2.0
    np.testing.assert_array_equal(RELU_INPUTS, [-2, -0.5, 0, 1.5, 3])
    assert (GROWTH_W, GROWTH_BLOCKS, GROWTH_START) == (0.1, 20, 1.0)


# -- (b) the exercise checkers ----------------------------------------------------------

# Worked by hand:
# 10.1: 2.5 x (1 - 0.4) = 1.5.
# 10.2: 2.0 x 1.5 x 0.6 x 1.2 = 2.16.
# 10.3: x + relu(x) = (-2, -0.5, 0, 3, 6).
# 10.4: 1.1^20 = 6.7275 (1.1^10 = 2.5937, squared).
RIGHT = {
    "10.1": 1.5,
    "10.2": 2.16,
    "10.3": np.array([-2.0, -0.5, 0.0, 3.0, 6.0]),
    "10.4": 6.7275,
}

WRONG_WITH_HINT = [
    ("10.1", -1.0, "only the path through f"),
    ("10.1", 2.5, "only the straight path"),
    ("10.1", 0.6, "That is d out / d x"),
    ("10.1", 3.5, "Mind the sign of w"),
    ("10.1", 2.1, "not 2.5 plus w"),
    ("10.1", -1.5, "wrong sign"),
    ("10.1", 7.0, "the two paths"),
    ("10.2", -0.08, "through all three blocks"),
    ("10.2", -0.04, "through all three blocks"),
    ("10.2", 1.08, "gradient that arrives at the top"),
    ("10.2", 2.6, "two and three blocks"),
    ("10.2", 1.3, "two and three blocks"),
    ("10.2", 2.0, "straight path alone"),
    ("10.2", 5.0, "1 + its slope"),
    ("10.3", [0.0, 0.0, 0.0, 1.5, 3.0], "ReLU alone"),
    ("10.3", [-4.0, -1.0, 0.0, 3.0, 6.0], "not 2x"),
    ("10.3", [-2.0, -0.5, 0.0, 1.5, 3.0], "x + x = 2x"),
    ("10.3", [0.0, 0.0, 0.0, 3.0, 6.0], "not set to 0"),
    ("10.3", [1.0, 1.0, 1.0, 1.0, 1.0], "Work out relu(x)"),
    ("10.3", [1.0, 2.0, 3.0], "shape [5]"),
    ("10.4", 3.0, "already grown"),
    ("10.4", 1e-20, "plain stack"),
    ("10.4", 0.0, "plain stack"),
    ("10.4", 22.0, "a power"),
    ("10.4", 1.1**19, "Count again"),
    ("10.4", 1.1**21, "Count again"),
    ("10.4", 1.1, "after one block"),
    ("10.4", 100.0, "After one block x is 1 + 0.1"),
]


def test_right_answers_pass_in_other_forms():
    assert check("10.1", [1.5]) and check("10.1", np.float64(1.5)) and check("10.1", 1.5004)
    assert check("10.2", 2.1604) and check("10.2", np.array([2.16]))
    assert check("10.3", RIGHT["10.3"].tolist()) and check("10.3", tuple(RIGHT["10.3"]))
    assert check("10.3", Residual(ReLU())(RELU_INPUTS))
    assert check("10.4", 1.1**20) and check("10.4", 6.73)


def test_a_string_answer_gets_told_to_drop_the_quotes():
    assert "drop the quotes" in str(check("10.1", "1.5"))
