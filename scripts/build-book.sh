#!/usr/bin/env bash
# Build the HTML book from a clean state, strictly: any Sphinx warning fails the build.
# Installs what it needs first: the pinned Python packages (and the companion) from
# requirements.txt, and the JavaScript the pages serve themselves (scripts/vendor_js.py).
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -r requirements.txt
python scripts/vendor_js.py
rm -rf _build
start=$SECONDS
jupyter-book build . -W -n --keep-going
echo "Built the book in $((SECONDS - start)) s: open _build/html/index.html" \
     "(or serve it: python -m http.server --directory _build/html)"
