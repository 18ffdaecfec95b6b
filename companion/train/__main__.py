"""``python -m companion.train``: see :mod:`companion.train.cli`."""

from companion.train.cli import run

raise SystemExit(run())
