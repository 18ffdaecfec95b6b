"""Read the built book live on this computer: serve it, with a Jupyter server its pages use.

Usage (after ``bash scripts/build-book.sh``)::

    python scripts/serve_live.py            # then open the address it prints

This builds nothing. It serves ``_build/html`` on http://127.0.0.1:8000 and starts a
Jupyter server on http://127.0.0.1:8888 (the next free ports if those are taken) with a
new random token, which only this book's pages may call (``allow_origin``), and whose
kernels start in the repository (so a chapter's kernel runs in ``book/``, as in Jupyter).
It then prints one address: the book's first page with ``?jupyter=<server>&token=<token>``.
The pages remember that server (for the site's other pages too), and their "Make this page
live" buttons run the chapters' code there instead of on mybinder.org: no network needed.

Kernels run with one BLAS thread, as the notebooks were run, so that their numbers are
the stored ones to the last digit; a kernel left idle for 15 minutes (its page closed) is
ended. Ctrl-C stops both servers.

Options: ``--html`` (another built site), ``--port``/``--jupyter-port`` (0: any free
port), ``--open`` (open the address in the default browser).
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import webbrowser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
#: As the notebooks were executed (scripts/execute_notebooks.py): the same last digits.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
IDLE_KERNEL_SECONDS = 900


class QuietHandler(SimpleHTTPRequestHandler):
    """Serve files without a log line per request; .mjs as JavaScript (Python < 3.12)."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript"}

    def log_message(self, format: str, *args: object) -> None:
        pass


def free_port(preferred: int) -> int:
    """``preferred`` if it is free on 127.0.0.1 (0: none preferred), else any free port."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def serve_html(html: Path, port: int) -> ThreadingHTTPServer:
    """Serve ``html`` on 127.0.0.1:``port`` (0: any free port) from a background thread."""
    handler = functools.partial(QuietHandler, directory=str(html))
    server = ThreadingHTTPServer((HOST, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_jupyter(port: int, token: str, book_origin: str) -> subprocess.Popen[bytes]:
    """Start ``jupyter server`` on 127.0.0.1:``port`` for pages served from ``book_origin``."""
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",  # CI and containers run as root
        f"--ServerApp.root_dir={ROOT}",
        f"--IdentityProvider.token={token}",
        # The book's pages (another port, so another origin) may call it; nothing else.
        f"--ServerApp.allow_origin={book_origin}",
        f"--MappingKernelManager.cull_idle_timeout={IDLE_KERNEL_SECONDS}",
        "--MappingKernelManager.cull_interval=60",
        "--ServerApp.log_level=WARN",
        # Only the kernels are needed: not JupyterLab's pages (nor its extension manager,
        # which asks npm for its prefix at start) nor its language servers.
        "--ServerApp.jpserver_extensions=jupyterlab=False",
        "--ServerApp.jpserver_extensions=jupyter_lsp=False",
    ]
    # Its own session: Ctrl-C reaches serve_live.py alone, which then stops the server
    # (Jupyter would otherwise ask on the terminal whether to shut down).
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **ONE_THREAD}, start_new_session=True
    )


def wait_for_jupyter(
    url: str, token: str, process: subprocess.Popen[bytes], timeout: float = 60.0
) -> None:
    """Return once the server answers ``api/status``; raise if it exits or never answers."""
    request = urllib.request.Request(
        url + "api/status", headers={"Authorization": f"token {token}"}
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"jupyter server did not answer at {url} within {timeout:.0f} s")


def first_page() -> str:
    """The book's landing page (the table of contents' root), relative to the site."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return f"{toc['root']}.html"


def live_url(book_url: str, jupyter_url: str, token: str, page: str | None = None) -> str:
    """The address that makes the site's pages use this Jupyter server."""
    return f"{book_url}{page or first_page()}?{urlencode({'jupyter': jupyter_url, 'token': token})}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="built site")
    parser.add_argument("--port", type=int, default=8000, help="the book's port (0: any)")
    parser.add_argument("--jupyter-port", type=int, default=8888, help="Jupyter's port (0: any)")
    parser.add_argument("--open", action="store_true", help="open the book in a browser")
    args = parser.parse_args(argv)

    html = args.html.resolve()
    if not (html / "index.html").is_file():
        print(f"serve_live: no built book in {html}: run bash scripts/build-book.sh first")
        return 2
    site = serve_html(html, free_port(args.port))
    book_url = f"http://{HOST}:{site.server_address[1]}/"
    token = secrets.token_hex(24)
    jupyter_port = free_port(args.jupyter_port)
    jupyter_url = f"http://{HOST}:{jupyter_port}/"
    jupyter = start_jupyter(jupyter_port, token, book_url.rstrip("/"))
    try:
        wait_for_jupyter(jupyter_url, token, jupyter)
        url = live_url(book_url, jupyter_url, token)
        print(f"serve_live: the book is at {book_url} and its kernels at {jupyter_url}", flush=True)
        print(f"serve_live: open {url}", flush=True)
        print("serve_live: press Ctrl-C to stop both", flush=True)
        if args.open:
            webbrowser.open(url)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it off
        while jupyter.poll() is None:
            time.sleep(0.5)
        print(f"serve_live: jupyter server exited with code {jupyter.returncode}")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        site.shutdown()
        if jupyter.poll() is None:
            jupyter.terminate()
            try:
                jupyter.wait(timeout=10)
            except subprocess.TimeoutExpired:
                jupyter.kill()


if __name__ == "__main__":
    raise SystemExit(main())
