"""Each chapter's few-line implementation gives what the companion function gives.

The chapters build an idea in a few lines of plain Python, then switch to the companion
function. This test takes those lines from the committed notebooks themselves and runs both
on many inputs, so the book's code and the package's code cannot drift apart.
"""

from __future__ import annotations

import ast

import nbformat
import numpy as np
import pytest
from conftest import BOOK

from companion import LEAF, SUNFLOWER, Network, forward, leaf_flower_network, relu, softmax


def chapter_function(notebook: str, name: str):
    """Find ``def name`` in a code cell of ``notebook`` and return the function."""
    nb = nbformat.read(BOOK / notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                namespace: dict = {"np": np}
                exec(compile(ast.Module([node], []), f"{notebook}:{name}", "exec"), namespace)
                return namespace[name]
    raise AssertionError(f"{notebook} defines no function {name}")


RNG = np.random.default_rng(2026)
CH1 = "01_numbers_in_numbers_out.ipynb"
CH2 = "02_activation_bias_softmax.ipynb"


def test_chapter1_forward_by_hand_equals_companion_forward():
    forward_by_hand = chapter_function(CH1, "forward_by_hand")
    nets = [leaf_flower_network()] * 2 + [
        Network(W1=RNG.normal(size=(3, 4)), W2=RNG.normal(size=(2, 3))) for _ in range(20)
    ]
    inputs = [LEAF, SUNFLOWER, *RNG.uniform(0, 255, size=(20, 4))]
    for net, x in zip(nets, inputs, strict=True):
        hidden, outputs = forward_by_hand(x, net.W1, net.W2)
        result = forward(x, net)
        np.testing.assert_allclose(hidden, result.hidden, rtol=1e-12)
        np.testing.assert_allclose(outputs, result.outputs, rtol=1e-12)


def test_chapter2_relu_by_hand_equals_companion_relu():
    relu_by_hand = chapter_function(CH2, "relu_by_hand")
    for _ in range(20):
        z = RNG.normal(scale=30, size=7)
        np.testing.assert_array_equal(relu_by_hand(z), relu(z))


def test_chapter2_softmax_by_hand_equals_companion_softmax():
    softmax_by_hand = chapter_function(CH2, "softmax_by_hand")
    for _ in range(20):
        z = RNG.normal(scale=5, size=5)
        np.testing.assert_allclose(softmax_by_hand(z), softmax(z), rtol=1e-12)


def test_chapter2_divide_by_sum_breaks_where_the_chapter_says():
    divide_by_sum = chapter_function(CH2, "divide_by_sum")
    positive = np.array([1.0, 3.0])
    np.testing.assert_allclose(divide_by_sum(positive), [0.25, 0.75])
    leaf = forward(LEAF).outputs  # both negative: the order flips
    assert np.argmax(divide_by_sum(leaf)) != np.argmax(leaf)
    assert np.argmax(softmax(leaf)) == np.argmax(leaf)


def test_missing_function_is_reported():
    with pytest.raises(AssertionError, match="defines no function"):
        chapter_function(CH1, "no_such_function")
