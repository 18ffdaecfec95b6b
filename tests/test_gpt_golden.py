"""The companion GPT against PyTorch: logits, loss and every gradient of one fixed batch.

The golden values come from ``tests/reference/make_gpt_golden.py`` (run with PyTorch
2.13.0, CPU), which wrote ``tests/reference/gpt_golden.npz``; these tests need no PyTorch.
Differences are measured as ``max |ours - golden| / max |golden|`` per array. Measured when
the file was made: float64 at most 1.7e-15 (logits 7.9e-16), float32 at most 1.7e-6
(logits 4.4e-7); the tolerances below leave a margin of about 100 times for other BLAS
libraries and summation orders, and are still far below any real mistake (a wrong
LayerNorm eps, an exact instead of a tanh GELU, a missing mask: see the last test).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from companion.gpt import GPT, GPTConfig

GOLDEN = Path(__file__).parent / "reference" / "gpt_golden.npz"
#: Largest allowed max |ours - golden| / max |golden|, per dtype.
TOLERANCE = {np.float64: 1e-12, np.float32: 2e-5}


def relative_difference(ours: np.ndarray | float, golden: np.ndarray | float) -> float:
    ours, golden = np.asarray(ours, dtype=np.float64), np.asarray(golden, dtype=np.float64)
    return float(np.max(np.abs(ours - golden)) / np.max(np.abs(golden)))


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def build(golden: dict[str, np.ndarray], dtype: type) -> GPT:
    """The companion GPT of the golden file's configuration, with its weights."""
    meta = json.loads(str(golden["meta"]))
    model = GPT(GPTConfig(**meta["config"]), rng=0, dtype=dtype)
    params = model.parameters()
    for name, p in params.items():
        p[...] = golden[f"weight/{name}"]
    return model


def run(model: GPT, golden: dict[str, np.ndarray]) -> tuple[np.ndarray, float, dict]:
    """Logits, loss and gradients for the golden batch."""
    ids, targets = golden["ids"], golden["targets"]
    logits = model.forward(ids)
    model.zero_grad()
    loss = model.loss(ids, targets)
    model.backward()
    return logits, loss, model.gradients()


def test_the_golden_file_has_every_parameter_of_the_companion_gpt(golden):
    model = build(golden, np.float64)
    weights = {n.removeprefix("weight/") for n in golden if n.startswith("weight/")}
    assert weights == set(model.parameters())
    for label in ("64", "32"):
        grads = {n.removeprefix(f"grad{label}/") for n in golden if n.startswith(f"grad{label}/")}
        assert grads == set(model.parameters())
    assert golden["ids"].shape == golden["targets"].shape == (3, 7)
    assert golden["logits64"].shape == (3, 7, 13)


@pytest.mark.parametrize(("dtype", "label"), [(np.float64, "64"), (np.float32, "32")])
def test_logits_loss_and_every_gradient_match_pytorch(golden, dtype, label):
    logits, loss, grads = run(build(golden, dtype), golden)
    assert logits.dtype == dtype
    tol = TOLERANCE[dtype]
    assert relative_difference(logits, golden[f"logits{label}"]) < tol
    assert relative_difference(loss, golden[f"loss{label}"]) < tol
    errors = {n: relative_difference(g, golden[f"grad{label}/{n}"]) for n, g in grads.items()}
    assert max(errors.values()) < tol, max(errors.items(), key=lambda item: item[1])
    assert len(errors) == 30  # 2 tables, 14 per block (2 blocks), ln_f's gamma and beta


def test_float32_is_as_close_to_the_float64_golden_as_pytorch_float32_is(golden):
    logits, loss, grads = run(build(golden, np.float32), golden)
    theirs = max(relative_difference(golden[f"grad32/{n}"], golden[f"grad64/{n}"]) for n in grads)
    ours = max(relative_difference(g, golden[f"grad64/{n}"]) for n, g in grads.items())
    assert ours < 10 * theirs  # PyTorch float32: 1.15e-6 when the file was made
    assert relative_difference(logits, golden["logits64"]) < 2e-5
    assert abs(loss - float(golden["loss64"])) < 1e-5


def test_the_unused_position_row_gets_exactly_zero_gradient(golden):
    # T = 7 < block_size = 8: position 7 is never seen, in PyTorch as in the companion
    _, _, grads = run(build(golden, np.float64), golden)
    assert np.all(golden["grad64/wpe.W"][7] == 0)
    assert np.all(grads["wpe.W"][7] == 0)
    assert np.all(grads["wpe.W"][:7] != 0)


def test_the_tolerance_catches_a_small_mistake(golden):
    # a LayerNorm eps of 1e-4 instead of PyTorch's 1e-5 must fail the float64 comparison
    model = build(golden, np.float64)
    model.ln_f.eps = 1e-4
    logits, _, grads = run(model, golden)
    assert relative_difference(logits, golden["logits64"]) > 1e3 * TOLERANCE[np.float64]
    assert relative_difference(grads["ln_f.gamma"], golden["grad64/ln_f.gamma"]) > 1e-6
