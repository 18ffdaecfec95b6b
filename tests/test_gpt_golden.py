"""The companion GPT against PyTorch: logits, loss and every gradient of one fixed batch.

The golden values come from ``tests/reference/make_gpt_golden.py`` (PyTorch 2.13.0, CPU),
which wrote ``tests/reference/gpt_golden.npz`` for a GPT without biases (nanoGPT's
``bias=False``, the baby GPT's kind) and one with every bias; these tests need no PyTorch.
Differences are ``max |ours - golden| / max |golden|`` per array. The tolerances leave a
margin for other BLAS libraries and summation orders, and are still far below a real
mistake (a wrong layer-norm eps: see the last test).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from companion import GPT, GPTConfig

GOLDEN = Path(__file__).parent / "reference" / "gpt_golden.npz"
#: Largest allowed max |ours - golden| / max |golden|, per dtype.
TOLERANCE = {np.float64: 1e-12, np.float32: 2e-5}
VARIANTS = {"nobias": False, "bias": True}


def relative_difference(ours: np.ndarray | float, golden: np.ndarray | float) -> float:
    ours, golden = np.asarray(ours, dtype=np.float64), np.asarray(golden, dtype=np.float64)
    return float(np.max(np.abs(ours - golden)) / np.max(np.abs(golden)))


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def build(golden: dict[str, np.ndarray], variant: str, dtype: type) -> GPT:
    """The companion GPT of the golden file's configuration, with its weights."""
    config = json.loads(str(golden["meta"]))["config"]
    model = GPT(GPTConfig(**config, bias=VARIANTS[variant]), rng=0, dtype=dtype)
    for name, p in model.parameters().items():
        p[...] = golden[f"{variant}/weight/{name}"]
    return model


def run(model: GPT, golden: dict[str, np.ndarray]) -> tuple[np.ndarray, float, dict]:
    """Logits, loss and gradients for the golden batch."""
    model.zero_grad()
    logits, loss = model(golden["ids"], golden["targets"])
    model.backward()
    return logits, loss, model.gradients()


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_golden_file_names_every_parameter_of_the_companion_gpt(golden, variant):
    model = build(golden, variant, np.float64)
    prefix = f"{variant}/weight/"
    assert {n.removeprefix(prefix) for n in golden if n.startswith(prefix)} == set(
        model.parameters()
    )
    # 2 tables; per block 2 scales and 4 matrices; ln_f's scale; with bias 11 more per block
    expected = {"nobias": 2 + 2 * 6 + 1, "bias": 2 + 2 * 12 + 2}[variant]
    assert len(model.parameters()) == expected


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("dtype", "label"), [(np.float64, "64"), (np.float32, "32")])
def test_logits_loss_and_every_gradient_match_pytorch(golden, variant, dtype, label):
    logits, loss, grads = run(build(golden, variant, dtype), golden)
    assert logits.dtype == dtype
    tol = TOLERANCE[dtype]
    assert relative_difference(logits, golden[f"{variant}/logits{label}"]) < tol
    assert relative_difference(loss, golden[f"{variant}/loss{label}"]) < tol
    errors = {
        n: relative_difference(g, golden[f"{variant}/grad{label}/{n}"]) for n, g in grads.items()
    }
    assert max(errors.values()) < tol, max(errors.items(), key=lambda item: item[1])


def test_the_unused_position_row_gets_exactly_zero_gradient(golden):
    # T = 7 < block_size = 8: position 7 is never seen, in PyTorch as in the companion
    _, _, grads = run(build(golden, "nobias", np.float64), golden)
    assert np.all(golden["nobias/grad64/wpe.W"][7] == 0)
    assert np.all(grads["wpe.W"][7] == 0)
    assert np.all(grads["wpe.W"][:7] != 0)


def test_the_tolerance_catches_a_small_mistake(golden):
    # a layer-norm eps of 1e-4 instead of PyTorch's 1e-5 must fail the float64 comparison
    model = build(golden, "nobias", np.float64)
    model.ln_f.eps = 1e-4
    logits, _, grads = run(model, golden)
    assert relative_difference(logits, golden["nobias/logits64"]) > 1e3 * TOLERANCE[np.float64]
    assert relative_difference(grads["ln_f.gamma"], golden["nobias/grad64/ln_f.gamma"]) > 1e-6
