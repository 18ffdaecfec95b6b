"""Execute the book's notebooks top to bottom in a fresh kernel and save them with outputs.

Usage::

    python scripts/execute_notebooks.py                 # every notebook under book/
    python scripts/execute_notebooks.py book/01_*.ipynb # some of them

Each notebook runs in its own folder, as Jupyter, Binder and nbval run it, with the
widgets' state stored so that the HTML book can show them, and with one BLAS thread, as
nbval runs it (see ``book/conftest.py``). The time of each notebook is printed; a notebook
that raises is not written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
#: The kernels' BLAS threads, as in book/conftest.py: the stored numbers depend on it.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def execute(path: Path, timeout: int) -> float:
    """Run ``path`` in a fresh kernel, write it back with its outputs, return the seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: book/**/*.ipynb")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    args = parser.parse_args(argv)
    os.environ.update(ONE_THREAD)  # the kernels inherit it
    paths = args.notebooks or sorted(
        p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    for path in paths:
        seconds = execute(path, args.timeout)
        print(f"{seconds:6.1f} s  {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
