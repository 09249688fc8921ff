"""How long gatescope.show takes to draw in a notebook: the Python side in a fresh interpreter (a new kernel's first
cell: importing gatescope and the widget, building the page shell, running the model), then the widget's front end
(static/widget.js) drawing the diagram in headless Chromium from what the widget syncs, against anywidget's model
faked as in tests/browser/test_widget.py, with no server.

    python bench/bench_notebook.py

Prints, measured in this run: the first show in a fresh interpreter and a second one in the same interpreter
(Python), the widget's first drawn diagram (browser), and their sum against the target of 2 s from the cell running
to a drawn diagram; reference: the same interpreter's bare `import numpy` (what a kernel pays anyway).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from _browser import ROOT, machine
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(ROOT / "tests"))
from browser.conftest import launch  # noqa: E402

TARGET_S = 2.0
KERNEL = """
import json, sys, time
t0 = time.perf_counter()
import numpy
t_numpy = time.perf_counter() - t0
t0 = time.perf_counter()
import gatescope
w = gatescope.show("adding-lstm", step=3)
first = time.perf_counter() - t0
t0 = time.perf_counter()
gatescope.show("adding-lstm", step=4)
second = time.perf_counter() - t0
json.dump({"_shell": w._shell, "_config": w._config, "payload": w.payload, "height": w.height}, open(sys.argv[1], "w"))
print(json.dumps({"numpy": t_numpy, "first": first, "second": second}))
"""
HOST = (ROOT / "tests" / "browser" / "test_widget.py").read_text().split('HOST = """', 1)[1].split('"""', 1)[0]


def python_side(state: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", KERNEL, str(state)], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the bench prints its figures, not a request log
        pass


@contextmanager
def notebook_page(state: Path):
    """The fake notebook page, the widget's module and its synced state, served over loopback HTTP (as a notebook
    server would send them; Playwright's own routing would add seconds for the 6 MB state)."""
    root = state.parent
    (root / "index.html").write_text(HOST)
    (root / "widget.js").write_text((ROOT / "static" / "widget.js").read_text())
    (root / "model.json").write_text(state.read_text())
    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def browser_side(browser, url: str) -> float:
    """Seconds from the notebook's page starting to load to the widget's diagram holding the first numbers."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    t0 = time.monotonic()
    page.goto(url)
    frame = page.wait_for_selector("#cell-output iframe", timeout=30_000).content_frame()
    while not frame.evaluate("Boolean(document.querySelector('#diagram .cell[data-value]'))"):
        if time.monotonic() - t0 > 30:
            raise TimeoutError("the widget drew no diagram in 30 s")
        time.sleep(0.02)
    seconds = time.monotonic() - t0
    context.close()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh interpreters and page loads (median)")
    args = ap.parse_args()
    state = Path(tempfile.mkdtemp(prefix="gatescope-bench-notebook-")) / "widget.json"
    py = [python_side(state) for _ in range(args.runs)]
    with sync_playwright() as pw:
        browser = launch(pw)
        print(machine(browser))
        with notebook_page(state) as url:
            draws = [browser_side(browser, url) for _ in range(args.runs)]
        browser.close()
    first, second, numpy_s = (statistics.median(p[k] for p in py) for k in ("first", "second", "numpy"))
    draw = statistics.median(draws)
    total = first + draw
    print(f"gatescope.show('adding-lstm'), median of {args.runs}; target {TARGET_S:.0f} s from the cell running to a drawn diagram")
    print(f"   Python, a fresh interpreter's first show (imports, page shell, run): {first:.2f} s; a second show: {second:.2f} s; "
          f"reference: its bare import of numpy {numpy_s:.2f} s")
    print(f"   browser, the widget's frame to its drawn diagram: {draw:.2f} s")
    print(f"   first show in all: {total:.2f} s ({total / TARGET_S:.2f} of the target, {'met' if total <= TARGET_S else 'NOT met'}); "
          f"a later show: {second + draw:.2f} s ({(second + draw) / TARGET_S:.2f})")


if __name__ == "__main__":
    main()
