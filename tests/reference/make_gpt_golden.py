"""Golden values for ``companion/gpt.py`` from PyTorch: logits, loss and every gradient.

Run from the repository root, with a Python where PyTorch is installed (PyTorch is not a
requirement of the course; a separate environment is enough)::

    python tests/reference/make_gpt_golden.py

It builds a small GPT in the companion, gives it fixed random weights, writes the same
weights into the PyTorch model below (written out here, mirroring the companion: pre-LN
blocks, causal multi-head attention without biases on ``W_q, W_k, W_v``, GELU in its tanh
approximation, LayerNorm with ``eps = 1e-5``, the head tied to the token table), runs one
fixed batch through it in float64 and in float32, and saves the weights, the batch, the
logits, the loss and the gradient of every parameter (by the companion's dotted names) to
``tests/reference/gpt_golden.npz``. ``tests/test_gpt_golden.py`` reads that file and needs
no PyTorch. The script also prints how far the companion is from PyTorch.

The PyTorch side uses PyTorch's own ``layer_norm``, ``scaled_dot_product_attention``,
``gelu`` and ``cross_entropy`` and autograd, so nothing of the companion is reused.
Without PyTorch the script prints a message and exits with status 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from companion.gpt import GPT, GPTConfig

#: The model: small, but every size differs so a swapped axis shows.
CONFIG = {"vocab_size": 13, "block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 16}
#: The batch: B sequences of T tokens (T < block_size, so one position row gets no gradient).
B, T = 3, 7
SEED = 2024
OUT = Path(__file__).with_name("gpt_golden.npz")


def golden_weights(seed: int = SEED) -> dict[str, np.ndarray]:
    """Every parameter of the companion GPT, drawn so that none has its default value.

    Weight matrices ``N(0, 1 / n_in)``, the tables ``N(0, 0.5**2)``, LayerNorm ``gamma``
    ``1 + N(0, 0.2**2)``, every shift and bias ``N(0, 0.1**2)``: the logits are of order
    1, so the softmax is far from uniform and every gradient is of a size that tests
    something. The values are rounded to float32, so the float32 and the float64 runs
    start from exactly the same numbers.
    """
    model = GPT(GPTConfig(**CONFIG), rng=seed, dtype=np.float64)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    weights = {}
    for name, p in model.parameters().items():
        leaf = name.rsplit(".", 1)[-1]
        if name in ("wte.W", "wpe.W"):
            value = 0.5 * rng.standard_normal(p.shape)
        elif p.ndim == 2:
            value = rng.standard_normal(p.shape) / np.sqrt(p.shape[0])
        elif leaf == "gamma":
            value = 1 + 0.2 * rng.standard_normal(p.shape)
        else:  # beta, b, b_o
            value = 0.1 * rng.standard_normal(p.shape)
        weights[name] = value.astype(np.float32)
    return weights


def golden_batch(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and targets, ``[B, T]`` each (ids repeat, as they do in text)."""
    rng = np.random.default_rng(seed + 1)
    V = CONFIG["vocab_size"]
    return rng.integers(0, V, size=(B, T)), rng.integers(0, V, size=(B, T))


def companion_run(
    weights: dict[str, np.ndarray], ids: np.ndarray, targets: np.ndarray, dtype: type
) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """Logits, loss and gradients of the companion GPT with ``weights`` in ``dtype``."""
    model = GPT(GPTConfig(**CONFIG), rng=0, dtype=dtype)  # type: ignore[arg-type]
    params = model.parameters()
    if set(params) != set(weights):
        raise ValueError(f"parameter names differ: {sorted(set(params) ^ set(weights))}")
    for name, value in weights.items():
        params[name][...] = value
    model.zero_grad()
    loss = model.loss(ids, targets)
    logits = model.forward(ids)  # the same logits; loss() does not return them
    model.loss(ids, targets)  # so that backward starts from the loss again
    model.backward()
    return logits, loss, {name: g.copy() for name, g in model.gradients().items()}


def torch_forward(
    torch: Any, w: dict[str, Any], ids: Any, targets: Any, config: dict[str, Any] = CONFIG
) -> tuple[Any, Any]:
    """The GPT in PyTorch, from a dict of weight tensors named as in the companion.

    Weights are ``[n_in, n_out]`` as in the companion, so every layer is ``x @ W + b``;
    ``config`` needs ``n_embd``, ``n_head`` and ``n_layer`` (dropout is 0; the biases of
    ``W_o``, ``fc`` and ``proj`` are added when ``w`` has them).
    ``benchmarks/gpt_step.py`` times this function too.
    """
    F = torch.nn.functional
    C, nh, L = config["n_embd"], config["n_head"], config["n_layer"]
    hs = C // nh
    Bt, Tt = ids.shape
    V = w["wte.W"].shape[0]

    def ln(x: Any, name: str) -> Any:
        return F.layer_norm(x, (C,), w[name + ".gamma"], w[name + ".beta"], eps=1e-5)

    def bias(x: Any, name: str) -> Any:  # a model made with bias=False has none
        return x + w[name] if name in w else x

    def heads(x: Any) -> Any:
        return x.view(Bt, Tt, nh, hs).transpose(1, 2)  # [B, T, C] -> [B, nh, T, hs]

    x = w["wte.W"][ids] + w["wpe.W"][:Tt]  # [B, T] -> [B, T, C]
    for i in range(L):
        p = f"blocks.{i}."
        h = ln(x, p + "ln_1")
        q, k, v = (heads(h @ w[p + f"attn.W_{n}"]) for n in "qkv")  # [B, nh, T, hs]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # [B, nh, T, hs]
        y = y.transpose(1, 2).reshape(Bt, Tt, C)  # [B, nh, T, hs] -> [B, T, C]
        x = x + bias(y @ w[p + "attn.W_o"], p + "attn.b_o")
        h = ln(x, p + "ln_2")
        h = F.gelu(bias(h @ w[p + "fc.W"], p + "fc.b"), approximate="tanh")  # [B, T, 4C]
        x = x + bias(h @ w[p + "proj.W"], p + "proj.b")  # [B, T, 4C] -> [B, T, C]
    x = ln(x, "ln_f")
    logits = x @ w["wte.W"].T  # [B, T, C] @ [C, V] -> [B, T, V]
    loss = F.cross_entropy(logits.reshape(Bt * Tt, V), targets.reshape(Bt * Tt))
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


def relative_difference(a: np.ndarray | float, b: np.ndarray | float) -> float:
    """``max |a - b| / max |b|``: the difference relative to the size of the array."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def report(label: str, ours: tuple, theirs: tuple) -> None:
    """Print the largest relative differences of logits, loss and gradients."""
    logits = relative_difference(ours[0], theirs[0])
    loss = relative_difference(ours[1], theirs[1])
    grads = {n: relative_difference(ours[2][n], theirs[2][n]) for n in theirs[2]}
    worst = max(grads, key=grads.__getitem__)
    print(
        f"{label}: logits {logits:.2e}, loss {loss:.2e}, "
        f"gradients {grads[worst]:.2e} (worst: {worst})"
    )


def main() -> int:
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: no golden values made (the committed file stays).")
        return 0
    weights = golden_weights()
    ids, targets = golden_batch()
    runs = {}
    for label, np_dtype, torch_dtype in (
        ("64", np.float64, torch.float64),
        ("32", np.float32, torch.float32),
    ):
        runs[label] = torch_run(torch, weights, ids, targets, torch_dtype)
        ours = companion_run(weights, ids, targets, np_dtype)
        report(f"companion vs PyTorch, float{label}", ours, runs[label])
    report("PyTorch float32 vs PyTorch float64", runs["32"], runs["64"])
    arrays: dict[str, np.ndarray] = {"ids": ids, "targets": targets}
    arrays |= {f"weight/{n}": v for n, v in weights.items()}  # float32 values
    for label, (logits, loss, grads) in runs.items():
        arrays[f"logits{label}"] = logits
        arrays[f"loss{label}"] = np.array(loss, dtype=logits.dtype)
        arrays |= {f"grad{label}/{n}": g for n, g in grads.items()}
    meta = {"config": CONFIG, "B": B, "T": T, "seed": SEED, "torch": torch.__version__}
    arrays["meta"] = np.array(json.dumps(meta))  # a unicode array: no pickle needed
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB), torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
