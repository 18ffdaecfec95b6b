"""One baby-GPT training step: the companion against PyTorch eager, each in its own process.

Run from the repository root (see ``benchmarks/README.md`` for a Python with PyTorch;
without PyTorch only the companion is timed)::

    python benchmarks/gpt_step.py --threads 1

The step is the training command's, ``companion.train.loop.train_step``: the loss of one
batch, backpropagation, clipping of the gradients' global norm at 1.0, and AdamW over
nanoGPT's two groups (decay on matrices and tables only). The model is nanoGPT's "baby
GPT" as the command trains it: 4 layers, 4 heads, width 128, block 64, vocabulary 65,
batch 12, float32, dropout 0, no biases. PyTorch runs the same model
(``tests/reference/make_gpt_golden.py``, equal to the companion to float precision there)
from the same weights, with ``torch.nn.utils.clip_grad_norm_`` and ``torch.optim.AdamW``.

Each library runs in a process of its own, with the thread count set before NumPy or
PyTorch is imported: two libraries' thread pools in one process get in each other's way
and distort any figure above one thread. The processes alternate, ``--rounds`` times each,
so that a busy moment of the machine slows both; the script prints the median step time of
each, their ratio, and the share of the machine's float32 matrix-multiply peak (a large
``np.matmul``, measured in a process of its own too) that a step reaches.

FLOPs of one step, as nanoGPT's ``estimate_mfu`` counts them (a multiply and an add count
as 2)::

    6 * N * B * T            # forward 2 N per token, backward 4 N per token
    + 12 * L * B * T**2 * C  # attention: q k^T and u v, 2 B T^2 C each, forward and twice back

with ``N = L * 12 C**2 + V * C`` the weights that enter a matrix product. Element-wise work
(layer norm, GELU, softmax, AdamW) is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"vocab_size": 65, "block_size": 64, "n_layer": 4, "n_head": 4, "n_embd": 128}
BATCH, LR, WEIGHT_DECAY, BETAS, GRAD_CLIP = 12, 1e-3, 0.1, (0.9, 0.99), 1.0


def step_flops() -> int:
    """FLOPs of one training step by the formula of the module docstring."""
    L, C, V, T = SIZES["n_layer"], SIZES["n_embd"], SIZES["vocab_size"], SIZES["block_size"]
    N = L * 12 * C * C + V * C
    return 6 * N * BATCH * T + 12 * L * BATCH * T * T * C


def worker(which: str, steps: int, warmup: int) -> dict[str, object]:
    """Time ``steps`` steps in this process (its thread count was set by the parent)."""
    import numpy as np

    if which == "peak":  # GFLOP/s of a float32 [2048, 2048] @ [2048, 2048], best of 7
        rng = np.random.default_rng(0)
        a, b = (rng.standard_normal((2048, 2048), dtype=np.float32) for _ in range(2))
        out = a @ b
        times = []
        for _ in range(7):
            start = time.perf_counter()
            np.matmul(a, b, out=out)
            times.append(time.perf_counter() - start)
        return {"gflops": 2 * 2048**3 / min(times) / 1e9}

    from companion import GPT, GPTConfig
    from companion.train.loop import TrainOptions, make_optimizers, train_step

    model = GPT(GPTConfig(**SIZES, bias=False), rng=0)  # the same starting weights for both
    rng = np.random.default_rng(1)
    ids, targets = (rng.integers(0, SIZES["vocab_size"], size=(BATCH, 64)) for _ in range(2))
    if which == "companion":
        options = TrainOptions(weight_decay=WEIGHT_DECAY, beta1=BETAS[0], beta2=BETAS[1])
        optimizers = make_optimizers(model, options)

        def step() -> float:
            return train_step(model, (ids, targets), optimizers, LR, GRAD_CLIP)

    else:
        import importlib.util

        import torch

        spec = importlib.util.spec_from_file_location(
            "make_gpt_golden", ROOT / "tests" / "reference" / "make_gpt_golden.py"
        )
        assert spec is not None and spec.loader is not None
        reference = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(reference)
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        w = {n: torch.tensor(p, requires_grad=True) for n, p in model.parameters().items()}
        groups = [
            {"params": [t for t in w.values() if t.ndim >= 2], "weight_decay": WEIGHT_DECAY},
            {"params": [t for t in w.values() if t.ndim < 2], "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=1e-8)
        ids_t, targets_t = torch.from_numpy(ids), torch.from_numpy(targets)

        def step() -> float:
            optimizer.zero_grad()
            _, loss = reference.torch_forward(torch, w, ids_t, targets_t, SIZES)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(w.values()), GRAD_CLIP)
            optimizer.step()
            return float(loss.item())

    first = step()
    for _ in range(warmup - 1):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"first_loss": first, "times": times}


def run_worker(which: str, threads: int, steps: int, warmup: int) -> dict[str, object] | None:
    """This script as a worker process; ``None`` if it could not run (PyTorch missing)."""
    env = os.environ | {
        name: str(threads)
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }
    command = [sys.executable, __file__, "--worker", which, "--steps", str(steps)]
    done = subprocess.run(
        [*command, "--warmup", str(warmup)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        if "No module named 'torch'" in done.stderr:
            return None
        raise RuntimeError(f"the {which} worker failed:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="threads of both (default 1)")
    parser.add_argument("--rounds", type=int, default=5, help="processes of each library")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per process")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per process first")
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/")
    parser.add_argument(
        "--worker", choices=["companion", "pytorch", "peak"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.steps, args.warmup)))
        return

    print(f"threads: {args.threads} per process; {args.rounds} processes of each library")
    times: dict[str, list[float]] = {"companion": [], "pytorch": []}
    first: dict[str, float] = {}
    for _ in range(args.rounds):
        for which in list(times):
            result = run_worker(which, args.threads, args.steps, args.warmup)
            if result is None:
                print("PyTorch is not installed in this Python: timing the companion only.")
                del times[which]
                continue
            times[which] += result["times"]  # type: ignore[arg-type]
            first[which] = result["first_loss"]  # type: ignore[assignment]
    print(
        "first loss (the same weights and batch): "
        + ", ".join(f"{k} {v:.6f}" for k, v in first.items())
    )
    peak = run_worker("peak", args.threads, 0, 0)
    assert peak is not None
    gflops, flops = float(peak["gflops"]), step_flops()  # type: ignore[arg-type]
    print(f"float32 matmul peak (2048 x 2048, best of 7): {gflops:.1f} GFLOP/s")
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, seconds in median.items():
        spread = f"{min(times[name]) * 1e3:.1f}-{max(times[name]) * 1e3:.1f}"
        print(
            f"{name:>9}: median {seconds * 1e3:.1f} ms per step (range {spread} ms, "
            f"{len(times[name])} steps), {flops / seconds / 1e9 / gflops:.1%} of peak"
        )
    if "pytorch" in median:
        ratio = median["companion"] / median["pytorch"]
        print(f"companion / pytorch: {ratio:.2f} (above 1: the companion is slower)")
    if args.record:
        from record import record

        measured = {"median_ms": {k: v * 1e3 for k, v in median.items()}}
        measured |= {"steps": {k: len(v) for k, v in times.items()}, "threads": args.threads}
        record(f"gpt_step_{args.threads}thread", measured | {"peak_gflops": gflops})


if __name__ == "__main__":
    main()
