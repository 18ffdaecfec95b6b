"""How fast is the embedding gradient? ``Embedding.backward`` against ``np.add.at``.

Both add each row of ``dout`` into the row of the gradient table named by its id (an id
seen many times collects many rows). ``Embedding.backward`` calls
``companion.layers.fast.add_rows_at``, which sorts the ids and sums each run of equal ids
with ``np.add.reduceat``; the one-hot matrix product is shown for reference.
Run ``python benchmarks/embedding_backward.py``; it prints times and ratios measured in
this run (the best of several repeats). The one-hot product uses BLAS threads: on a busy
machine ``OPENBLAS_NUM_THREADS=1`` gives steadier numbers.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

from companion import Embedding

N_IDS = 2048  # B * T, for example 16 sequences of 128 tokens


def add_at(ids: np.ndarray, dout: np.ndarray, vocab_size: int) -> np.ndarray:
    grad = np.zeros((vocab_size, dout.shape[1]), dtype=dout.dtype)
    np.add.at(grad, ids, dout)  # [N, C] rows into [V, C]
    return grad


def one_hot_matmul(ids: np.ndarray, dout: np.ndarray, vocab_size: int) -> np.ndarray:
    one_hot = np.zeros((ids.size, vocab_size), dtype=dout.dtype)  # [N, V]
    one_hot[np.arange(ids.size), ids] = 1
    return one_hot.T @ dout  # [V, N] @ [N, C] -> [V, C]


def best_time(run, number: int = 20, repeat: int = 7) -> float:
    return min(timeit.repeat(run, number=number, repeat=repeat)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/")
    args = parser.parse_args()
    rows = []
    rng = np.random.default_rng(0)
    print(f"{N_IDS} ids; times in ms (best of 7 x 20); ratio = np.add.at time / this time")
    header = f"{'vocab':>5} {'n_embd':>6} {'dtype':>7} {'np.add.at':>9} {'backward':>8}"
    print(header + f" {'ratio':>5} {'one-hot':>7} {'ratio':>5}")
    for vocab_size in (65, 512):
        for n_embd in (64, 128):
            for dtype in (np.float32, np.float64):
                ids = rng.integers(0, vocab_size, size=N_IDS)
                dout = rng.normal(size=(N_IDS, n_embd)).astype(dtype)
                layer = Embedding(vocab_size, n_embd, rng=0, dtype=dtype)
                layer.forward(ids)
                layer.backward(dout)
                expected = add_at(ids, dout, vocab_size)
                np.testing.assert_allclose(layer.grads["W"], expected, rtol=1e-4, atol=1e-4)

                t_add_at = best_time(lambda: add_at(ids, dout, vocab_size))  # noqa: B023
                t_layer = best_time(lambda: layer.backward(dout))  # noqa: B023
                t_one_hot = best_time(lambda: one_hot_matmul(ids, dout, vocab_size))  # noqa: B023
                rows.append(
                    {
                        "vocab_size": vocab_size,
                        "n_embd": n_embd,
                        "dtype": np.dtype(dtype).name,
                        "add_at_ms": t_add_at * 1e3,
                        "backward_ms": t_layer * 1e3,
                        "one_hot_ms": t_one_hot * 1e3,
                    }
                )
                print(
                    f"{vocab_size:>5} {n_embd:>6} {np.dtype(dtype).name:>7} "
                    f"{t_add_at * 1e3:>9.2f} {t_layer * 1e3:>8.2f} {t_add_at / t_layer:>5.1f} "
                    f"{t_one_hot * 1e3:>7.2f} {t_add_at / t_one_hot:>5.1f}"
                )
    if args.record:
        from record import record

        record("embedding_backward", {"n_ids": N_IDS, "rows": rows})


if __name__ == "__main__":
    main()
