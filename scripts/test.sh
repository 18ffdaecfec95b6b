#!/usr/bin/env bash
# Run every test: set everything up, build the book strictly, then pytest runs the
# companion's unit tests, strict nbval on every notebook, the project checks and the
# browser test on the site just built. Extra arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-book.sh

# pytest runs with one BLAS thread (pyproject.toml, [tool.pytest.ini_options] env).
LLM_MYSTERIES_BUILT_HTML="$PWD/_build/html" python -m pytest "$@"
