"""Copy the JavaScript that the built book serves itself into ``_vendor/site/vendor``.

The web book must work offline: MathJax (math), Mermaid (the mindmap), the ipywidgets
HTML manager (saved widget state) and Thebe (live widgets) are served from the site itself
instead of a CDN. Their exact versions are pinned in ``package.json`` and come from the
npm registry; this script

1. runs ``npm ci`` when ``node_modules`` is missing or was installed from another
   ``package-lock.json`` (a stamp file in ``node_modules`` records the lock file's hash);
2. fetches each package of ``package.json``'s ``prebuilt`` section (Thebe) with
   ``npm pack``: only its published, already bundled files are served, and ``npm ci`` would
   also install its build-time dependencies (959 packages, 583 MB for Thebe). The tarball
   must match the SHA-512 integrity pinned there; it is unpacked into
   ``node_modules/.prebuilt/<name>``, where npm never looks; and
3. copies only the files that the pages load into ``_vendor/site/vendor/`` (which is
   rebuilt from scratch every time):

   - ``mathjax/``: ``tex-chtml.js``, the CHTML woff-v2 fonts and the TeX extensions
     that MathJax's autoload fetches when a page uses their macros;
   - ``mermaid/``: ``mermaid.esm.min.mjs`` and the ES-module chunks it imports;
   - ``requirejs/require.js``;
   - ``html-manager/``: ``embed-amd.js`` (it bundles ``@jupyter-widgets/base``,
     ``controls`` and ``output``), the Font Awesome fonts its CSS points to, and
     ``scripts/embed-setup.js``, which points the manager at those fonts and at this site
     instead of a CDN, and lets its MathJax 2 call work with MathJax 3;
   - ``thebe/``: Thebe's bundle (``index.js``, the chunks it loads on demand, beside it,
     and their licences), loaded only when a reader makes a page live;
   - ``live/``: ``scripts/live-pages.js`` and ``scripts/live-pages.css``, the "Make this
     page live" button and what it does (``_ext/live_pages.py`` adds them to the pages
     with widgets);
   - ``book/book.css``: ``scripts/book.css``, the reading width (``html_css_files``).

``_config.yml`` adds ``_vendor/site`` to the site's root (``html_extra_path``) and points
``mathjax_path``, ``mermaid_use_local`` and ``nb_ipywidgets_js`` at these files. Run it
before every ``jupyter-book build``::

    python scripts/vendor_js.py && jupyter-book build . -W -n --keep-going

Python standard library only; needs ``npm`` on the PATH unless ``node_modules`` is
already up to date.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
LOCK_FILE = ROOT / "package-lock.json"
STAMP = NODE_MODULES / ".vendor-js-lock.sha256"
PREBUILT = NODE_MODULES / ".prebuilt"
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
    # Thebe (a prebuilt package): webpack finds its chunks beside index.js. Thebe's own
    # stylesheet is left out: it restyles the page (its :root variables and buttons), and
    # the widgets' styles come with embed-amd.js already.
    ("thebe", "lib/*.js", "thebe", "lib"),
    ("thebe", "lib/*.LICENSE.txt", "thebe", "lib"),
]

# Not from npm: prepares embed-amd.js to run offline (read the file for what and why).
EMBED_SETUP = ROOT / "scripts" / "embed-setup.js"
# Not from npm: the pages' "Make this page live" button and what it does.
LIVE_FILES = (ROOT / "scripts" / "live-pages.js", ROOT / "scripts" / "live-pages.css")
# Not from npm: the book's reading width (code blocks that fit their lines).
BOOK_CSS = ROOT / "scripts" / "book.css"


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


def prebuilt_pins() -> dict[str, dict[str, str]]:
    """The ``prebuilt`` packages of package.json: name -> {"version", "integrity"}."""
    manifest = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    return {k: v for k, v in manifest.get("prebuilt", {}).items() if not k.startswith("//")}


def sri_sha512(path: Path) -> str:
    """The Subresource Integrity string of a file, as npm writes it: ``sha512-<base64>``."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def ensure_prebuilt() -> None:
    """Fetch and unpack every prebuilt package that is missing or of another version."""
    for name, pin in prebuilt_pins().items():
        target = PREBUILT / name
        stamp = target / ".integrity"
        if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == pin["integrity"]:
            continue
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("vendor_js: npm not found; install Node.js and npm (e.g. apt-get install npm)")
        spec = f"{name}@{pin['version']}"
        print(f"vendor_js: npm pack {spec}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run(
                [npm, "pack", spec, "--json", "--pack-destination", tmp, "--loglevel=error"],
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
            )
            tarball = Path(tmp) / json.loads(result.stdout)[0]["filename"]
            found = sri_sha512(tarball)
            if found != pin["integrity"]:
                sys.exit(
                    f"vendor_js: {spec} does not match package.json's integrity\n"
                    f"  expected {pin['integrity']}\n  found    {found}"
                )
            if target.exists():
                shutil.rmtree(target)
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tarball) as archive:
                archive.extractall(unpacked, filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(unpacked / "package", target)  # npm tarballs hold one folder, package/
        stamp.write_text(pin["integrity"] + "\n", encoding="utf-8")


def package_dir(package: str) -> Path:
    """Where a package's files are: node_modules, or node_modules/.prebuilt for prebuilt ones."""
    return PREBUILT / package if package in prebuilt_pins() else NODE_MODULES / package


def copy_files() -> dict[str, int]:
    """Rebuild DEST from COPIES; return the bytes copied per destination folder."""
    if DEST.exists():
        shutil.rmtree(DEST)
    sizes: dict[str, int] = {}
    for package, pattern, folder, glob_root in COPIES:
        package_root = package_dir(package)
        matches = sorted(package_root.glob(pattern))
        if not matches:
            sys.exit(f"vendor_js: nothing matches {package}/{pattern}; is node_modules complete?")
        base = package_root / glob_root
        for source in matches:
            target = DEST / folder / source.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            sizes[folder] = sizes.get(folder, 0) + source.stat().st_size
    shutil.copyfile(EMBED_SETUP, DEST / "html-manager" / EMBED_SETUP.name)
    sizes["html-manager"] += EMBED_SETUP.stat().st_size
    (DEST / "live").mkdir()
    for source in LIVE_FILES:
        shutil.copyfile(source, DEST / "live" / source.name)
        sizes["live"] = sizes.get("live", 0) + source.stat().st_size
    (DEST / "book").mkdir()
    shutil.copyfile(BOOK_CSS, DEST / "book" / BOOK_CSS.name)
    sizes["book"] = BOOK_CSS.stat().st_size
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Install the npm packages if needed and copy the served files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reinstall", action="store_true", help="run npm ci even if node_modules is fresh"
    )
    args = parser.parse_args(argv)
    ensure_node_modules(force=args.reinstall)
    ensure_prebuilt()
    sizes = copy_files()
    for folder, size in sorted(sizes.items()):
        print(f"vendor_js: {DEST.relative_to(ROOT) / folder}: {size / 1e6:.2f} MB")
    print(f"vendor_js: total {sum(sizes.values()) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
