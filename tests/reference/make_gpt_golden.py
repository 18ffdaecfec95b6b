"""Golden values for the companion's GPT from PyTorch: logits, loss and every gradient.

Run from the repository root, with a Python where PyTorch is installed (PyTorch is not a
requirement of the course; a separate environment is enough, see ``benchmarks/README.md``)::

    python tests/reference/make_gpt_golden.py

For two small GPTs, one with ``bias=False`` (no bias and no layer-norm shift anywhere, as
nanoGPT's baby GPT) and one with ``bias=True``, it draws fixed random weights, writes them
into the PyTorch model below, runs one fixed batch through it in float64 and in float32,
and saves the weights, the batch, the logits, the loss and the gradient of every parameter
(by the companion's dotted names) to ``tests/reference/gpt_golden.npz``.
``tests/test_gpt_golden.py`` reads that file and needs no PyTorch.

The PyTorch model is written here from PyTorch's own pieces (``layer_norm``,
``scaled_dot_product_attention``, ``gelu``, ``cross_entropy``) and autograd; it reuses
nothing of the companion except the parameter names and shapes, so the goldens check the
companion's arithmetic. ``benchmarks/`` times and trains the same model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

#: The models: small, but every size differs so that a swapped axis shows.
CONFIG = {"vocab_size": 13, "block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 16}
VARIANTS = {"nobias": False, "bias": True}
#: The batch: B sequences of T tokens (T < block_size: one position row gets no gradient).
B, T = 3, 7
SEED = 2024
OUT = Path(__file__).with_name("gpt_golden.npz")


def parameter_shapes(config: dict[str, Any], bias: bool) -> dict[str, tuple[int, ...]]:
    """Every parameter of the GPT by the companion's name, written out from the sizes."""
    C, V, L = config["n_embd"], config["vocab_size"], config["n_layer"]
    shapes: dict[str, tuple[int, ...]] = {"wte.W": (V, C), "wpe.W": (config["block_size"], C)}
    linears = {"attn.c_attn": (C, 3 * C), "attn.c_proj": (C, C)}
    linears |= {"mlp.c_fc": (C, 4 * C), "mlp.c_proj": (4 * C, C)}
    for i in range(L):
        for norm in ("ln_1", "ln_2"):
            shapes[f"blocks.{i}.{norm}.gamma"] = (C,)
            if bias:
                shapes[f"blocks.{i}.{norm}.beta"] = (C,)
        for name, (n_in, n_out) in linears.items():
            shapes[f"blocks.{i}.{name}.W"] = (n_in, n_out)
            if bias:
                shapes[f"blocks.{i}.{name}.b"] = (n_out,)
    shapes["ln_f.gamma"] = (C,)
    if bias:
        shapes["ln_f.beta"] = (C,)
    return shapes


def golden_weights(bias: bool, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights of a size that tests something, rounded to float32.

    Weight matrices ``N(0, 1 / n_in)``, the tables ``N(0, 0.5^2)``, layer-norm scales
    ``1 + N(0, 0.2^2)``, every shift and bias ``N(0, 0.1^2)``: the logits are of order 1,
    so the softmax is far from uniform. Rounded to float32, so that the float32 and the
    float64 runs start from exactly the same numbers.
    """
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in parameter_shapes(CONFIG, bias).items():
        leaf = name.rsplit(".", 1)[-1]
        if name in ("wte.W", "wpe.W"):
            value = 0.5 * rng.standard_normal(shape)
        elif len(shape) == 2:
            value = rng.standard_normal(shape) / np.sqrt(shape[0])
        elif leaf == "gamma":
            value = 1 + 0.2 * rng.standard_normal(shape)
        else:  # beta, b
            value = 0.1 * rng.standard_normal(shape)
        weights[name] = value.astype(np.float32)
    return weights


def golden_batch(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and targets, ``[B, T]`` each; two targets are -1 (ignored by the loss)."""
    rng = np.random.default_rng(seed + 1)
    V = CONFIG["vocab_size"]
    targets = rng.integers(0, V, size=(B, T))
    targets[0, 0] = targets[2, 5] = -1
    return rng.integers(0, V, size=(B, T)), targets


def torch_forward(
    torch: Any, w: dict[str, Any], ids: Any, targets: Any, config: dict[str, Any] = CONFIG
) -> tuple[Any, Any]:
    """The GPT in PyTorch, from a dict of weight tensors named as in the companion.

    Weights are ``[n_in, n_out]`` as in the companion, so every linear layer is
    ``x @ W + b``; a bias or a layer-norm shift missing from ``w`` is left out (the
    ``bias=False`` model). Dropout is 0.
    """
    F = torch.nn.functional
    C, nh, L = config["n_embd"], config["n_head"], config["n_layer"]
    Bt, Tt = ids.shape
    V = w["wte.W"].shape[0]

    def ln(x: Any, name: str) -> Any:
        return F.layer_norm(x, (C,), w[f"{name}.gamma"], w.get(f"{name}.beta"), eps=1e-5)

    def linear(x: Any, name: str) -> Any:
        out = x @ w[f"{name}.W"]
        return out + w[f"{name}.b"] if f"{name}.b" in w else out

    def heads(x: Any) -> Any:
        return x.view(Bt, Tt, nh, C // nh).transpose(1, 2)  # [B, T, C] -> [B, nh, T, hs]

    x = w["wte.W"][ids] + w["wpe.W"][:Tt]  # [B, T] -> [B, T, C]
    for i in range(L):
        p = f"blocks.{i}."
        q, k, v = linear(ln(x, p + "ln_1"), p + "attn.c_attn").split(C, dim=2)
        y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True)
        y = y.transpose(1, 2).reshape(Bt, Tt, C)  # [B, nh, T, hs] -> [B, T, C]
        x = x + linear(y, p + "attn.c_proj")
        h = F.gelu(linear(ln(x, p + "ln_2"), p + "mlp.c_fc"), approximate="tanh")
        x = x + linear(h, p + "mlp.c_proj")  # [B, T, 4C] -> [B, T, C]
    logits = ln(x, "ln_f") @ w["wte.W"].T  # [B, T, C] @ [C, V] -> [B, T, V]
    loss = F.cross_entropy(logits.reshape(Bt * Tt, V), targets.reshape(Bt * Tt), ignore_index=-1)
    return logits, loss


def torch_run(
    torch: Any, weights: dict[str, np.ndarray], ids: np.ndarray, targets: np.ndarray, dtype: Any
) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """Logits, loss and gradients (by autograd) of :func:`torch_forward` in ``dtype``."""
    w = {n: torch.tensor(v, dtype=dtype, requires_grad=True) for n, v in weights.items()}
    logits, loss = torch_forward(torch, w, torch.from_numpy(ids), torch.from_numpy(targets))
    loss.backward()
    grads = {n: t.grad.numpy().copy() for n, t in w.items()}
    return logits.detach().numpy(), float(loss.item()), grads


def main() -> int:
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: no golden values made (the committed file stays).")
        return 0
    ids, targets = golden_batch()
    arrays: dict[str, np.ndarray] = {"ids": ids, "targets": targets}
    for variant, bias in VARIANTS.items():
        weights = golden_weights(bias)
        arrays |= {f"{variant}/weight/{n}": v for n, v in weights.items()}
        for label, dtype in (("64", torch.float64), ("32", torch.float32)):
            logits, loss, grads = torch_run(torch, weights, ids, targets, dtype)
            arrays[f"{variant}/logits{label}"] = logits
            arrays[f"{variant}/loss{label}"] = np.array(loss, dtype=logits.dtype)
            arrays |= {f"{variant}/grad{label}/{n}": g for n, g in grads.items()}
    meta = {"config": CONFIG, "variants": VARIANTS, "B": B, "T": T, "seed": SEED}
    arrays["meta"] = np.array(json.dumps(meta | {"torch": torch.__version__}))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB), torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
