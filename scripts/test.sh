#!/usr/bin/env bash
# Run every test: set everything up, build the book strictly, then pytest runs the
# companion's unit tests, strict nbval on every notebook, the project checks and the
# browser test on the site just built. Extra arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-book.sh

# With pytest-xdist (-n N), give each worker one BLAS thread: N workers already fill N
# cores, and multithreaded OpenBLAS on small matrices slows badly when cores are shared.
for arg in "$@"; do
  case "$arg" in
    -n|-n[0-9]*|--numprocesses*)
      export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
      ;;
  esac
done
LLM_MYSTERIES_BUILT_HTML="$PWD/_build/html" python -m pytest "$@"
