"""The baby-GPT training run of ``python -m companion.train``, repeated in PyTorch.

Run from the repository root, with a Python where PyTorch is installed (it is not a
requirement of the course)::

    python benchmarks/train_torch_reference.py --seed 1337

The run is the companion's, step for step: the same starting weights (drawn by
``companion.GPT`` with the seed), the same batches (drawn by ``companion.get_batch`` with
the same generator), the same schedule (warm-up and cosine decay from
``companion.train.loop.TrainOptions``), AdamW over the same two groups (decay on matrices
and tables only), gradient clipping at 1.0, and the losses measured on the same 200 fixed
batches. Only the arithmetic is PyTorch's: its autograd, its AdamW and its kernels (the
model is the one of ``tests/reference/make_gpt_golden.py``). The model has no biases
(``bias=False``), as the command's default; ``--bias`` gives every bias.

The two runs cannot stay equal to the last digit for 2000 steps: float32 sums in another
order differ in the last bit, and training amplifies that. What the comparison shows is
whether the companion's validation loss is where PyTorch's is for the same run. It prints
one line per evaluation and the final losses; ``--out`` writes them as JSON lines.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from pathlib import Path

import numpy as np

from companion import GPT, CharTokenizer, GPTConfig, get_batch, tiny_shakespeare, train_val_split
from companion.train.loop import TrainOptions

REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "reference" / "make_gpt_golden.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--bias", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--max-iters", type=int, default=2000)
    parser.add_argument("--eval-iters", type=int, default=200)
    parser.add_argument("--eval-interval", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="a .jsonl file for the history")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to compare with.")
        return
    torch.set_num_threads(args.threads)
    spec = importlib.util.spec_from_file_location("make_gpt_golden", REFERENCE)
    assert spec is not None and spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)

    options = TrainOptions(max_iters=args.max_iters, seed=args.seed, min_lr=1e-4)
    text = tiny_shakespeare()
    tokenizer = CharTokenizer.from_text(text)
    config = GPTConfig(
        vocab_size=tokenizer.vocab_size, block_size=64, n_layer=4, n_head=4, n_embd=128,
        bias=args.bias,
    )  # fmt: skip
    ids = np.array(tokenizer.encode(text), dtype=np.int64)
    train_ids, val_ids = train_val_split(ids, 0.1)
    start = GPT(config, rng=options.seed)  # the companion's starting weights
    w = {n: torch.tensor(p, requires_grad=True) for n, p in start.parameters().items()}
    groups = [
        {"params": [t for t in w.values() if t.ndim >= 2], "weight_decay": options.weight_decay},
        {"params": [t for t in w.values() if t.ndim < 2], "weight_decay": 0.0},
    ]
    betas = (options.beta1, options.beta2)
    optimizer = torch.optim.AdamW(groups, lr=options.learning_rate, betas=betas, eps=1e-8)
    sizes = {"n_embd": config.n_embd, "n_head": config.n_head, "n_layer": config.n_layer}

    def loss_of(x: np.ndarray, y: np.ndarray) -> torch.Tensor:
        return reference.torch_forward(torch, w, torch.from_numpy(x), torch.from_numpy(y), sizes)[1]

    def estimate(data: np.ndarray, seed: int) -> float:
        rng = np.random.default_rng(seed)  # the batches of companion.train.runs.gpt_run
        with torch.no_grad():
            losses = [
                float(loss_of(*get_batch(data, options.batch_size, 64, rng)))
                for _ in range(args.eval_iters)
            ]
        return float(np.mean(losses))

    history = []
    batch_rng = np.random.default_rng(options.seed + 1)  # the batches of the training loop
    t0 = time.perf_counter()
    for step in range(options.max_iters + 1):
        if step % args.eval_interval == 0 or step == options.max_iters:
            record = {
                "step": step,
                "train_loss": estimate(train_ids, options.seed + 2),
                "val_loss": estimate(val_ids, options.seed + 3),
                "elapsed": round(time.perf_counter() - t0, 1),
            }
            history.append(record)
            print(json.dumps(record), flush=True)
        if step == options.max_iters:
            break
        for group in optimizer.param_groups:
            group["lr"] = options.lr(step)
        x, y = get_batch(train_ids, options.batch_size, 64, batch_rng)
        optimizer.zero_grad()
        loss_of(x, y).backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), options.grad_clip)
        optimizer.step()
    last = history[-1]
    print(
        f"torch {torch.__version__}, seed {options.seed}, bias {args.bias}: "
        f"train loss {last['train_loss']:.4f}, val loss {last['val_loss']:.4f}"
    )
    if args.out is not None:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in history))


if __name__ == "__main__":
    main()
