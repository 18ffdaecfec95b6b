"""Multi-head attention with the heads computed together, against a Python loop over heads.

Run from the repository root::

    python benchmarks/attention.py

Both versions run forward + backward on the same input with the same weights, in the same
run; the script checks that they agree, then prints the median time of each and the ratio.
On a machine where other processes are busy, multi-threaded BLAS times jump around;
``OPENBLAS_NUM_THREADS=1 python benchmarks/attention.py`` gives steadier numbers.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable, Mapping

import numpy as np

from companion import MultiHeadAttention


def loop_over_heads(
    x: np.ndarray, dout: np.ndarray, p: dict[str, np.ndarray], n_head: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Causal multi-head attention, forward and backward, one head at a time.

    The same NumPy operations as :class:`companion.MultiHeadAttention` and
    :func:`companion.attention` (the softmax included), so the only difference measured is
    the Python loop over heads. ``p`` holds the layer's parameters by name: head ``h``'s
    ``W_q``, ``W_k`` and ``W_v`` are columns of ``c_attn.W``.
    """
    B, T, C = x.shape
    hs = C // n_head
    mask = np.triu(np.full((T, T), -np.inf, dtype=x.dtype), k=1)  # [T, T]: -inf above
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    W, b = p["c_attn.W"], p["c_attn.b"]  # [C, 3C], [3C]
    columns = [
        [slice(part * C + h * hs, part * C + (h + 1) * hs) for part in range(3)]
        for h in range(n_head)
    ]  # head h's q, k and v columns
    saved, outputs = [], []
    for q_cols, k_cols, v_cols in columns:  # forward, head by head
        q = x @ W[:, q_cols] + b[q_cols]  # [B, T, C] @ [C, hs] -> [B, T, hs]
        k = x @ W[:, k_cols] + b[k_cols]
        v = x @ W[:, v_cols] + b[v_cols]
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(hs) + mask  # [B, T, T]
        u = np.exp(scores - scores.max(axis=-1, keepdims=True))
        u /= u.sum(axis=-1, keepdims=True)
        outputs.append(u @ v)  # [B, T, T] @ [B, T, hs] -> [B, T, hs]
        saved.append((q, k, v, u))
    concat = np.concatenate(outputs, axis=-1)  # n_head x [B, T, hs] -> [B, T, C]
    out = concat @ p["c_proj.W"] + p["c_proj.b"]  # [B, T, C] @ [C, C] -> [B, T, C]
    grads["c_proj.W"] += concat.reshape(B * T, C).T @ dout.reshape(B * T, C)  # [C, C]
    grads["c_proj.b"] += dout.sum(axis=(0, 1))  # [C]
    dconcat = dout @ p["c_proj.W"].T  # [B, T, C]
    dx = np.zeros_like(x)  # [B, T, C]
    x2 = x.reshape(B * T, C)  # [B*T, C]
    for h, (q, k, v, u) in enumerate(saved):  # backward, head by head
        dhead = dconcat[:, :, h * hs : (h + 1) * hs]  # [B, T, hs]
        du = dhead @ v.transpose(0, 2, 1)  # [B, T, T]
        dv = u.transpose(0, 2, 1) @ dhead  # [B, T, hs]
        dscores = u * (du - (du * u).sum(axis=-1, keepdims=True)) / math.sqrt(hs)
        dq = dscores @ k  # [B, T, hs]
        dk = dscores.transpose(0, 2, 1) @ q  # [B, T, hs]
        for cols, d in zip(columns[h], (dq, dk, dv), strict=True):
            grads["c_attn.W"][:, cols] += x2.T @ d.reshape(B * T, hs)  # [C, hs]
            grads["c_attn.b"][cols] += d.sum(axis=(0, 1))  # [hs]
            dx += d @ W[:, cols].T  # [B, T, hs] @ [hs, C] -> [B, T, C]
    return out, dx, grads


def median_seconds(
    runs: Mapping[str, Callable[[], object]], warmup: int, repeats: int
) -> dict[str, float]:
    """The median wall-clock time of each run, after ``warmup`` untimed calls.

    The runs take turns, so a load that comes and goes (another process on the machine)
    slows them alike instead of tilting the ratio.
    """
    for _ in range(warmup):
        for run in runs.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--T", type=int, default=64)
    parser.add_argument("--n-embd", type=int, default=128)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    mha = MultiHeadAttention(args.n_embd, args.n_head, causal=True, rng=rng)
    for b in (mha.c_attn.params["b"], mha.c_proj.params["b"]):
        b[...] = rng.standard_normal(b.shape)  # biases that are not 0, so they are checked
    x = rng.standard_normal((args.batch, args.T, args.n_embd), dtype=np.float32)
    dout = rng.standard_normal(x.shape, dtype=np.float32)

    def together() -> np.ndarray:
        mha.zero_grad()
        mha.forward(x)
        return mha.backward(dout)

    def one_head_at_a_time() -> np.ndarray:
        return loop_over_heads(x, dout, mha.parameters(), args.n_head)[1]

    # Same numbers first: output, d x and every parameter gradient.
    out, dx, grads = loop_over_heads(x, dout, mha.parameters(), args.n_head)
    mha.zero_grad()
    np.testing.assert_allclose(mha.forward(x), out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mha.backward(dout), dx, rtol=1e-4, atol=1e-4)
    for name, g in grads.items():
        np.testing.assert_allclose(mha.gradients()[name], g, rtol=1e-4, atol=1e-3)
    assert together().dtype == one_head_at_a_time().dtype == np.float32

    runs = {"together": together, "loop": one_head_at_a_time}
    median = median_seconds(runs, args.warmup, args.repeats)
    t_together, t_loop = median["together"], median["loop"]
    print(
        f"forward + backward, B={args.batch}, T={args.T}, n_embd={args.n_embd}, "
        f"n_head={args.n_head}, float32; median of {args.repeats} (taking turns) "
        f"after {args.warmup} warm-up"
    )
    print(f"  MultiHeadAttention (heads together): {t_together * 1e3:8.2f} ms")
    print(f"  loop over heads:                     {t_loop * 1e3:8.2f} ms")
    print(f"  loop / together:                     {t_loop / t_together:8.2f}x")
    if args.record:
        from record import record

        sizes = {"batch": args.batch, "T": args.T, "n_embd": args.n_embd, "n_head": args.n_head}
        record("attention", sizes | {"together_ms": t_together * 1e3, "loop_ms": t_loop * 1e3})


if __name__ == "__main__":
    main()
