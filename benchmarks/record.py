"""Where the benchmarks write what they measured, for the book's performance page.

Each script run with ``--record`` writes ``benchmarks/results/<name>.json``: the numbers it
printed, the machine it ran on and the date. ``book/performance.ipynb`` reads these files
(committed with the results of one run) and draws its tables and plots from them.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """The processor, the number of cores, and the versions that matter for speed."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = [
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    threads = {
        k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ
    }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": threads,
    }


def record(name: str, results: dict[str, Any]) -> Path:
    """Write ``results`` with the machine and the date to ``benchmarks/results/<name>.json``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    data = {"benchmark": name, "date": now.isoformat(), "machine": machine(), "results": results}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"recorded in {path.relative_to(RESULTS.parent.parent)}")
    return path
