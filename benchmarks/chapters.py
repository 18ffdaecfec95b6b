"""How long each chapter takes to run top to bottom in a fresh kernel, as a reader runs it.

Run from the repository root::

    python benchmarks/chapters.py [--record]

Each chapter of ``_toc.yml`` is executed in memory, in its own folder, with one BLAS thread
(as ``scripts/execute_notebooks.py`` and the tests run them); nothing is written back. The
time includes starting the kernel. A chapter must run in well under a minute on two cores.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def chapters() -> list[Path]:
    """The numbered chapters' notebooks, in the order of the table of contents (not the
    performance page, which shows this benchmark's results)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc["parts"] for c in part.get("chapters", [])]
    return [ROOT / f"{f}.ipynb" for f in files if re.fullmatch(r"book/\d\d_\w+", f)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/")
    args = parser.parse_args()
    os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    seconds = {}
    for path in chapters():
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        client.execute()
        seconds[path.stem] = time.perf_counter() - start
        print(f"{seconds[path.stem]:6.1f} s  {path.name}", flush=True)
    if args.record:
        from record import record

        record("chapters", {"seconds": seconds})


if __name__ == "__main__":
    main()
