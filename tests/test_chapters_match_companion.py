"""Each chapter's few-line implementation gives what the companion function gives.

The chapters build an idea in a few lines of plain Python, then switch to the companion
function. This test takes those lines from the committed notebooks themselves and runs both
on many inputs, so the book's code and the package's code cannot drift apart.

The page "Maths you need" (book/maths.md) is checked here too: every example on it prints
what the page says it prints, and every section the chapters link to exists.
"""

from __future__ import annotations

import doctest
import re

import nbformat
import numpy as np
import pytest
from conftest import BOOK, chapter_function, notebooks

from companion import LEAF, SUNFLOWER, Network, forward, leaf_flower_network, relu, softmax

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


# -- the page "Maths you need" ---------------------------------------------------------------

MATHS = BOOK / "maths.md"
#: The sections the chapters may link to (the revision brief's list).
MATHS_LABELS = {
    "maths-exp", "maths-sum", "maths-log", "maths-derivative", "maths-partial",
    "maths-transpose", "maths-dot", "maths-outer", "maths-matmul", "maths-mean-std",
    "maths-normal", "maths-norm", "maths-pca", "maths-regex", "python-lambda",
    "python-comprehensions", "python-classes", "python-numpy",
}  # fmt: skip


def maths_examples() -> str:
    """The page's ```pycon blocks, one after the other."""
    text = MATHS.read_text(encoding="utf-8")
    blocks = re.findall(r"^```pycon\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert len(blocks) >= len(MATHS_LABELS)  # every section has its example
    return "\n".join(blocks)


def test_every_example_on_the_maths_page_prints_what_the_page_says():
    test = doctest.DocTestParser().get_doctest(maths_examples(), {}, "maths.md", str(MATHS), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda report: pytest.fail(report, pytrace=False))
    assert runner.summarize(verbose=False).attempted > 40


def test_a_wrong_number_on_the_maths_page_would_be_caught():
    examples = maths_examples().replace("7.39 0.368 1.0", "7.40 0.368 1.0")
    test = doctest.DocTestParser().get_doctest(examples, {}, "maths.md", str(MATHS), 0)
    runner = doctest.DocTestRunner()
    runner.run(test, out=lambda report: None)
    assert runner.summarize(verbose=False).failed == 1


def test_the_maths_page_has_every_section_the_chapters_link_to():
    labels = set(re.findall(r"^\(([\w-]+)\)=$", MATHS.read_text(encoding="utf-8"), re.MULTILINE))
    assert labels >= MATHS_LABELS, MATHS_LABELS - labels
    pages = [nbformat.read(p, as_version=4) for p in notebooks()]
    texts = ["".join(c.source for c in nb.cells if c.cell_type == "markdown") for nb in pages]
    texts += [p.read_text(encoding="utf-8") for p in BOOK.glob("*.md")]
    role = r"\{ref\}`(?:[^`<]*<)?((?:maths|python)-[\w-]+)>?`"
    linked = {label for text in texts for label in re.findall(role, text)}
    assert linked <= labels, linked - labels
    assert {"maths-matmul", "maths-exp", "maths-sum"} <= linked  # chapters 1 and 2 link them
