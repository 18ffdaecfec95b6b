"""Copy the JavaScript that the built book serves itself into ``_vendor/site/vendor``.

The web book must work offline: MathJax (math), Mermaid (the mindmap) and the ipywidgets
HTML manager (saved widget state) are served from the site itself instead of a CDN. Their
exact versions are pinned in ``package.json`` and ``package-lock.json`` and come from the
npm registry; this script

1. runs ``npm ci`` when ``node_modules`` is missing or was installed from another
   ``package-lock.json`` (a stamp file in ``node_modules`` records the lock file's hash), and
2. copies only the files that the pages load into ``_vendor/site/vendor/`` (which is
   rebuilt from scratch every time):

   - ``mathjax/``: ``tex-chtml.js``, the CHTML woff-v2 fonts and the TeX extensions
     that MathJax's autoload fetches when a page uses their macros;
   - ``mermaid/``: ``mermaid.esm.min.mjs`` and the ES-module chunks it imports;
   - ``requirejs/require.js``;
   - ``html-manager/``: ``embed-amd.js`` (it bundles ``@jupyter-widgets/base``,
     ``controls`` and ``output``), the Font Awesome fonts its CSS points to, and
     ``scripts/embed-setup.js``, which points the manager at those fonts and at this site
     instead of a CDN, and lets its MathJax 2 call work with MathJax 3.

``_config.yml`` adds ``_vendor/site`` to the site's root (``html_extra_path``) and points
``mathjax_path``, ``mermaid_use_local`` and ``nb_ipywidgets_js`` at these files. Run it
before every ``jupyter-book build``::

    python scripts/vendor_js.py && jupyter-book build . -W -n --keep-going

Python standard library only; needs ``npm`` on the PATH unless ``node_modules`` is
already up to date.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
LOCK_FILE = ROOT / "package-lock.json"
STAMP = NODE_MODULES / ".vendor-js-lock.sha256"
DEST = ROOT / "_vendor" / "site" / "vendor"

# (npm package, glob inside the package, destination folder under DEST, glob root).
# A file matched by "glob" keeps its path relative to "glob root" inside the destination.
# require.js and embed-amd.js carry their licences in their headers.
COPIES: list[tuple[str, str, str, str]] = [
    ("mathjax", "es5/tex-chtml.js", "mathjax", "es5"),
    ("mathjax", "es5/output/chtml/fonts/woff-v2/*.woff", "mathjax", "es5"),
    ("mathjax", "es5/input/tex/extensions/*.js", "mathjax", "es5"),
    ("mathjax", "LICENSE", "mathjax", ""),
    ("mermaid", "dist/mermaid.esm.min.mjs", "mermaid", "dist"),
    ("mermaid", "dist/chunks/mermaid.esm.min/*.mjs", "mermaid", "dist"),
    ("mermaid", "LICENSE", "mermaid", ""),
    ("requirejs", "require.js", "requirejs", ""),
    ("@jupyter-widgets/html-manager", "dist/embed-amd.js", "html-manager", "dist"),
    # Font Awesome 5 (icons of buttons and other controls). Every browser the book
    # targets takes woff2 or woff; the eot, ttf and svg variants are left out.
    ("@jupyter-widgets/html-manager", "dist/*.woff2", "html-manager", "dist"),
    ("@jupyter-widgets/html-manager", "dist/*.woff", "html-manager", "dist"),
    ("@jupyter-widgets/html-manager", "dist/embed.js.LICENSE.txt", "html-manager", "dist"),
]

# Not from npm: prepares embed-amd.js to run offline (read the file for what and why).
EMBED_SETUP = ROOT / "scripts" / "embed-setup.js"


def lock_hash() -> str:
    """Return the SHA-256 of ``package-lock.json``."""
    return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()


def installed_versions_match() -> bool:
    """Whether every dependency in package.json is installed at its pinned version."""
    wanted = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    for name, version in wanted.items():
        manifest = NODE_MODULES / name / "package.json"
        if not manifest.is_file():
            return False
        if json.loads(manifest.read_text(encoding="utf-8")).get("version") != version:
            return False
    return True


def ensure_node_modules(force: bool = False) -> None:
    """Run ``npm ci`` unless node_modules was installed from the current lock file."""
    current = lock_hash()
    fresh = (
        STAMP.is_file()
        and STAMP.read_text(encoding="utf-8").strip() == current
        and installed_versions_match()
    )
    if fresh and not force:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("vendor_js: npm not found; install Node.js and npm (e.g. apt-get install npm)")
    print("vendor_js: npm ci (node_modules missing or stale)", flush=True)
    # No package here needs an install script (Font Awesome's only prints its licence).
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=ROOT,
        check=True,
    )
    STAMP.write_text(current + "\n", encoding="utf-8")


def copy_files() -> dict[str, int]:
    """Rebuild DEST from COPIES; return the bytes copied per destination folder."""
    if DEST.exists():
        shutil.rmtree(DEST)
    sizes: dict[str, int] = {}
    for package, pattern, folder, glob_root in COPIES:
        package_dir = NODE_MODULES / package
        matches = sorted(package_dir.glob(pattern))
        if not matches:
            sys.exit(f"vendor_js: nothing matches {package}/{pattern}; is node_modules complete?")
        base = package_dir / glob_root
        for source in matches:
            target = DEST / folder / source.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            sizes[folder] = sizes.get(folder, 0) + source.stat().st_size
    shutil.copyfile(EMBED_SETUP, DEST / "html-manager" / EMBED_SETUP.name)
    sizes["html-manager"] += EMBED_SETUP.stat().st_size
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Install the npm packages if needed and copy the served files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reinstall", action="store_true", help="run npm ci even if node_modules is fresh"
    )
    args = parser.parse_args(argv)
    ensure_node_modules(force=args.reinstall)
    sizes = copy_files()
    for folder, size in sorted(sizes.items()):
        print(f"vendor_js: {DEST.relative_to(ROOT) / folder}: {size / 1e6:.2f} MB")
    print(f"vendor_js: total {sum(sizes.values()) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
