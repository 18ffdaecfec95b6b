"""One GPT training step: the companion against PyTorch eager, and against the machine's peak.

Run from the repository root (PyTorch is optional; without it only the companion runs)::

    python benchmarks/gpt_step.py

A step is: zero the gradients, forward, loss, backward, AdamW step, for the "baby"
configuration (4 layers, 4 heads, width 128, block 64, vocabulary 65, batch 12, float32,
dropout 0, no biases in the linear layers, as nanoGPT's). PyTorch runs the model of
``tests/reference/make_gpt_golden.py`` (the same architecture, checked against the
companion to float precision there) from the same weights, with ``torch.optim.AdamW``.
Both use the same number of threads: the number NumPy's BLAS uses (read with
threadpoolctl when installed, otherwise ``os.cpu_count()``).
The two are timed in alternation, step after step, so a busy machine slows both alike;
the script prints the median of each, the ratio, and the fraction of the machine's
float32 matrix-multiply peak (a large ``np.matmul``) that a step reaches.

Compare with ``--threads 1``. With more threads the two libraries' thread pools get in each
other's way in one process: the script sets ``OMP_WAIT_POLICY=PASSIVE`` (unless set
already) before it imports PyTorch, so that PyTorch's idle threads do not spin while the
companion runs, but then they must wake up for every operation. On a 2-core machine that
made PyTorch's step slower with 2 threads than with 1 (76 ms against 51 ms), while each
library alone in its own process took 36-40 ms (PyTorch) and 60 ms (the companion) with
2 threads. The script says so when run with more than one thread.

FLOPs of one step (multiply and add count as 2; the usual estimate, as in nanoGPT's
``estimate_mfu``)::

    6 * N * B * T            # forward 2 N per token, backward 4 N per token
    + 12 * L * B * T**2 * C  # attention: q k^T and u v, 2 B T^2 C each, forward and twice back

with ``N = L * 12 C**2 + V * C`` the weights that enter a matrix product (per block
``W_q, W_k, W_v, W_o``: 4 C^2, the MLP 8 C^2; the tied head V C). Embedding lookups,
LayerNorm, GELU, softmax, biases and the optimizer are left out (they are O(N) or
O(B T C) element-wise work), and the causal mask is not used to halve the attention.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from companion.gpt import GPT, GPTConfig
from companion.optim import AdamW

BABY = GPTConfig(
    vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False
)
BATCH = 12
LR, WEIGHT_DECAY = 3e-4, 0.01
REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "reference" / "make_gpt_golden.py"


def blas_threads() -> tuple[int, str]:
    """How many threads NumPy's BLAS uses, and where that number comes from."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1, "os.cpu_count() (threadpoolctl not installed)"
    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    if not blas:
        return os.cpu_count() or 1, "os.cpu_count() (no BLAS found by threadpoolctl)"
    info = blas[0]
    return int(info["num_threads"]), f"threadpoolctl: {info['internal_api']} {info['version']}"


def step_flops(config: GPTConfig, batch: int) -> int:
    """FLOPs of one training step by the formula of the module docstring."""
    L, C, V, T = config.n_layer, config.n_embd, config.vocab_size, config.block_size
    N = L * 12 * C * C + V * C  # weights used in matrix products
    return 6 * N * batch * T + 12 * L * batch * T * T * C


def matmul_peak(n: int = 2048, repeats: int = 7) -> float:
    """GFLOP/s of a float32 ``[n, n] @ [n, n]`` product (2 n^3 FLOPs), the best of runs.

    The best, not the median: a peak is what the machine can do when nothing disturbs it.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times) / 1e9


def companion_step(ids: np.ndarray, targets: np.ndarray) -> tuple[Callable[[], float], GPT]:
    """A function taking one companion training step (returning the loss), and the model."""
    model = GPT(BABY, rng=0, dtype=np.float32)
    optimizer = AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)

    def step() -> float:
        model.zero_grad()
        loss = model.loss(ids, targets)
        model.backward()
        optimizer.step(model.gradients())
        return loss

    return step, model


def load_reference() -> ModuleType:
    """``tests/reference/make_gpt_golden.py``, which holds the PyTorch model."""
    spec = importlib.util.spec_from_file_location("make_gpt_golden", REFERENCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def torch_step(
    torch: ModuleType, model: GPT, ids: np.ndarray, targets: np.ndarray
) -> Callable[[], float]:
    """A function taking one PyTorch eager training step from ``model``'s initial weights."""
    forward = load_reference().torch_forward
    w = {n: torch.tensor(p, requires_grad=True) for n, p in model.parameters().items()}
    optimizer = torch.optim.AdamW(list(w.values()), lr=LR, weight_decay=WEIGHT_DECAY)
    ids_t, targets_t = torch.from_numpy(ids), torch.from_numpy(targets)
    config = {"n_embd": BABY.n_embd, "n_head": BABY.n_head, "n_layer": BABY.n_layer}

    def step() -> float:
        optimizer.zero_grad()
        _, loss = forward(torch, w, ids_t, targets_t, config)
        loss.backward()
        optimizer.step()
        return float(loss.item())

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed steps of each")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps of each first")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads for both (default: NumPy's BLAS's)"
    )
    args = parser.parse_args()

    threads, source = blas_threads()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits  # needed to change NumPy's BLAS threads

        threadpool_limits(limits=args.threads, user_api="blas")
        threads, source = blas_threads()
        source += f", limited by --threads {args.threads}"
    print(f"threads: {threads} ({source})")
    rng = np.random.default_rng(1)
    ids = rng.integers(0, BABY.vocab_size, size=(BATCH, BABY.block_size))
    targets = rng.integers(0, BABY.vocab_size, size=(BATCH, BABY.block_size))
    steps: dict[str, Callable[[], float]] = {}
    steps["companion"], model = companion_step(ids, targets)
    # PyTorch's OpenMP threads otherwise spin for a while after each of its steps, taking
    # the cores from NumPy's BLAS threads in the companion's step that follows
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: timing the companion only.")
    else:
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}")
        steps["pytorch"] = torch_step(torch, model, ids, targets)  # before the first update

    first = {name: step() for name, step in steps.items()}  # the same weights, the same loss
    print("first loss: " + ", ".join(f"{name} {loss:.6f}" for name, loss in first.items()))
    for _ in range(args.warmup - 1):
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeats):  # in alternation: a busy moment slows both
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)

    peak = matmul_peak()
    flops = step_flops(BABY, BATCH)
    print(f"float32 matmul peak (2048 x 2048 np.matmul, best of 7): {peak:.1f} GFLOP/s")
    print(f"FLOPs of one step: {flops / 1e9:.3f} GFLOP")
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, seconds in median.items():
        spread = f"{min(times[name]) * 1e3:.1f}-{max(times[name]) * 1e3:.1f}"
        print(
            f"{name:>9}: median {seconds * 1e3:.1f} ms per step (range {spread} ms), "
            f"{flops / seconds / 1e9:.1f} GFLOP/s = {flops / seconds / 1e9 / peak:.1%} of peak"
        )
    if "pytorch" in median:
        ratio = median["companion"] / median["pytorch"]
        print(f"companion / pytorch: {ratio:.2f} (above 1: the companion is slower)")
        if threads > 1:
            print(
                f"note: with {threads} threads both thread pools share one process, which "
                "slows PyTorch's steps; compare with --threads 1 (see the docstring)"
            )


if __name__ == "__main__":
    main()
