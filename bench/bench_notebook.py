"""gatescope.show in real JupyterLab, driven by headless Chromium: from running a cell to the diagram drawn inside the
widget, for a long trace of a 2-layer, 64-unit LSTM (20,000 steps by default); what the saved notebook keeps of each
widget (its widget state, as JupyterLab writes it with "Save Jupyter widget state in notebooks" on); and the saved
notebook converted by nbconvert to HTML with no kernel, screenshotted.

    python bench/bench_notebook.py [--steps 20000] [--runs 3] [--port 8890] [--dir /tmp/nbtest] [--shot nbconvert.png]

JupyterLab (`pip install jupyterlab nbconvert`, not a dependency of gatescope) is started for the run with no token,
on --port, in --dir, and stopped by its process id at the end. The cell measured is

    w = gatescope.show(model, xs, step=3); w          # xs: (steps, 16) numbers

timed from Shift+Enter to the first coloured cell of the diagram inside the widget's frame, first in a new kernel (its
imports included), then --runs - 1 times again; the still (the static drawing the widget shows until its page has
drawn) and the page handed to the widget's frame are timed too. nbconvert's HTML is made of the notebook as saved (with
its widget state) and of a copy without it (JupyterLab's default), each screenshotted. Prints the figures with the
load average, which on a shared machine moves them more than anything here.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
from _browser import ROOT, machine
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(ROOT / "tests"))
from browser.conftest import launch  # noqa: E402

TARGET_S = 3.0
DRAWN = "Boolean(document.querySelector('#diagram .cell[data-value]'))"
SETUP = """import time, numpy as np, gatescope
model = gatescope.build("lstm", input_size=16, hidden_size=64, num_layers=2, seed=0)
xs = np.random.default_rng(0).standard_normal(({steps}, 16)).astype(np.float32)
print("ready")"""
MEASURED = "t0 = time.perf_counter(); w = gatescope.show(model, xs, step=3); show_s = time.perf_counter() - t0; w"
# after the first show (which imports the widget's module, as a user's first show does): time the kernel's answers
TIMED = """answered = []
from gatescope.widget import Viewer
def timed(f):
    def answer(self, widget, content, buffers):
        t0 = time.perf_counter()
        f(self, widget, content, buffers)
        answered.append((content.get("type"), round(time.perf_counter() - t0, 3)))
    return answer
Viewer._answer = timed(Viewer._answer)
print("timed")"""
SMALL = 'gatescope.show("adding-lstm", step=3)'
REPORT = 'print(f"kernel: the last show took {show_s:.2f} s; its answers, in s: {answered[:6]}")'
WIDGET_MODEL = "AnyModel"


def notebook(path: Path, steps: int) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (SETUP.format(steps=steps), MEASURED, TIMED, SMALL, REPORT)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)


def start_lab(folder: Path, port: int) -> subprocess.Popen:
    """JupyterLab on port, no token, widget state saved with the notebook (the setting the user had on), no windowing."""
    settings = folder.parent / (folder.name + "-settings")
    plugin = settings / "@jupyter-widgets" / "jupyterlab-manager" / "plugin.jupyterlab-settings"
    plugin.parent.mkdir(parents=True, exist_ok=True)
    plugin.write_text(json.dumps({"saveState": True}))
    notebook_settings = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    notebook_settings.parent.mkdir(parents=True, exist_ok=True)
    notebook_settings.write_text(json.dumps({"windowingMode": "none"}))  # every cell in the page, drawn or not in view
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # the kernel's python: this venv's
    log = open(folder / "lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.token=",
                             "--ServerApp.password=", f"--notebook-dir={folder}", "--ServerApp.port_retries=0", "--allow-root"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {(folder / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.2)
    stop_lab(proc)
    raise RuntimeError("JupyterLab did not answer within 90 s")


def stop_lab(proc: subprocess.Popen) -> None:
    """JupyterLab and its kernels, by the process group this started (its own session)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_cell(page, index: int) -> float:
    """Shift+Enter in the index-th code cell; the time it was pressed."""
    editor = page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-editor").nth(index)
    editor.click()
    t0 = time.monotonic()
    page.keyboard.press("Shift+Enter")
    return t0


def output_text(page, index: int) -> str:
    return page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(".jp-OutputArea").inner_text()


def until(page, what: str, probe, timeout: float = 120, every: float = 0.02):
    """Poll probe() until it is truthy; the page's waits let Playwright take in the browser's events (new frames)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        page.wait_for_timeout(every * 1000)
    raise TimeoutError(what)


def drawn_in(cell) -> bool:
    """Whether the widget in this cell's output has drawn its diagram with numbers, inside its frame."""
    frames = cell.locator("iframe.gatescope-widget")
    try:
        frame = frames.first.element_handle(timeout=1000).content_frame() if frames.count() else None
        return bool(frame and frame.evaluate(DRAWN))
    except Exception:  # noqa: BLE001 - a frame between documents
        return False


def error_of(page, index: int) -> str | None:
    err = page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator("[data-mime-type='application/vnd.jupyter.stderr']")
    return err.first.inner_text()[-600:] if err.count() else None


def time_cell(page, index: int) -> dict:
    """Seconds from Shift+Enter in a widget's cell to its still shown, its page given to its frame, its diagram drawn."""
    t0 = run_cell(page, index)
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    out = {"still_s": None, "framed_s": None, "drawn_s": None, "error": None}
    page.wait_for_timeout(200)  # the old output is cleared as the cell starts
    while not out["drawn_s"]:
        now = time.monotonic() - t0
        if out["still_s"] is None and cell.locator(".gatescope-still svg").count():
            out["still_s"] = now
        frame = cell.locator("iframe.gatescope-widget")
        if out["framed_s"] is None and frame.count() and (frame.first.get_attribute("src") or frame.first.get_attribute("srcdoc")):
            out["framed_s"] = now
        if drawn_in(cell):
            out["drawn_s"] = time.monotonic() - t0
        out["error"] = error_of(page, index)
        if out["error"]:
            return out
        if now > 120:
            raise TimeoutError("the widget drew no diagram in 120 s")
        page.wait_for_timeout(20)
    return out


def measure(page, runs: int) -> dict:
    """The measured cell in a fresh kernel (the first show: the widget's imports and all), then again (later shows,
    their kernel's answers timed)."""
    run_cell(page, 0)
    until(page, "the setup cell", lambda: "ready" in output_text(page, 0) or error_of(page, 0))
    if error_of(page, 0):
        raise RuntimeError(error_of(page, 0))
    times = [time_cell(page, 1)]
    run_cell(page, 2)
    until(page, "the timing cell", lambda: "timed" in output_text(page, 2) or error_of(page, 2))
    for _ in range(runs - 1 if not times[0]["error"] else 0):
        times.append(time_cell(page, 1))
    small = time_cell(page, 3)
    run_cell(page, 4)
    text = until(page, "the report", lambda: output_text(page, 4).strip() or error_of(page, 4))
    return {"first": times[0], "later": times[1:], "small": small, "kernel": text.strip()}


def saved_state(page, path: Path) -> dict[str, int]:
    """Save the notebook (Ctrl+S) and read each gatescope widget's saved state, in bytes of JSON as written."""
    before = path.stat().st_mtime
    page.keyboard.press("Control+s")
    until(page, "the notebook saved", lambda: path.stat().st_mtime != before, timeout=60)
    time.sleep(1.0)  # the file is written, then its widget state: read it whole
    nb = json.loads(path.read_text())
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return {mid: len(json.dumps(s)) for mid, s in state.items() if s.get("model_name") == WIDGET_MODEL}


def nbconvert_shot(browser, path: Path, shot: Path) -> Path:
    """The notebook as nbconvert's HTML (no kernel), screenshotted whole, offline as a file opened anywhere."""
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", str(path), "--output-dir", str(path.parent)],
                   check=True, capture_output=True)
    html = path.with_suffix(".html")
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.route("http*://**", lambda route: route.abort())
    page.goto(html.as_uri())
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shot), full_page=True)
    context.close()
    return html


def without_widget_state(path: Path) -> Path:
    """A copy of the saved notebook as JupyterLab writes it by default (its "save widget state" setting off)."""
    nb = json.loads(path.read_text())
    nb.get("metadata", {}).pop("widgets", None)
    plain = path.with_name(path.stem + "-no-widget-state.ipynb")
    plain.write_text(json.dumps(nb))
    return plain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3, help="times the measured cell runs: first in a new kernel, then again")
    ap.add_argument("--port", type=int, default=8890)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/nbtest"))
    ap.add_argument("--shot", type=Path, default=None, help="where the nbconvert screenshot goes (default: beside the notebook)")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / "bench.ipynb"
    notebook(path, args.steps)
    load0 = os.getloadavg()
    proc = start_lab(args.dir, args.port)
    print(f"JupyterLab pid {proc.pid} on port {args.port}, notebook {path}")
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            print(machine(browser))
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{args.port}/lab/tree/{path.name}")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell .jp-InputArea-editor", timeout=120_000)
            until(page, "the kernel", lambda: "| Idle" in page.locator("#jp-main-statusbar").inner_text(), timeout=120, every=0.2)
            page.wait_for_timeout(1000)
            got = measure(page, args.runs)
            sizes = saved_state(page, path)
            context.close()
            stop_lab(proc)
            shot = args.shot or path.with_name("nbconvert.png")
            html = nbconvert_shot(browser, path, shot)
            plain = without_widget_state(path)
            plain_shot = shot.with_name(shot.stem + "-no-widget-state.png")
            nbconvert_shot(browser, plain, plain_shot)
            browser.close()
    finally:
        stop_lab(proc)
    load1 = os.getloadavg()
    print(f"load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the end (1 min), {os.cpu_count()} CPUs")
    first = got["first"]
    if first["error"]:
        print(f"gatescope.show(model, xs of {args.steps} steps) FAILED in the kernel:\n   {first['error'].strip()[-400:]}")
    else:
        print(f"gatescope.show(model, xs): {args.steps:,} steps of a 2-layer, 64-unit LSTM; target {TARGET_S:.0f} s from the cell "
              f"running to the diagram drawn in the widget")
        for name, t in [("first show in a new kernel", first)] + [(f"show again ({i + 2})", t) for i, t in enumerate(got["later"])]:
            met = "met" if t["drawn_s"] <= TARGET_S else "NOT met"
            print(f"   {name}: still {t['still_s']:.2f} s, page in its frame {t['framed_s']:.2f} s, diagram drawn "
                  f"{t['drawn_s']:.2f} s ({t['drawn_s'] / TARGET_S:.2f} of the target, {met})")
        print(f"   {got['kernel']}")
    small = got["small"]
    if small["drawn_s"]:
        print(f"   gatescope.show('adding-lstm') after it: diagram drawn {small['drawn_s']:.2f} s")
    for mid, size in sizes.items():
        print(f"   saved widget state of widget {mid[:8]}: {size:,} bytes ({size / 2**20:.2f} MB)")
    if not sizes:
        print("   the saved notebook holds no gatescope widget state")
    print(f"   saved notebook: {path.stat().st_size:,} bytes; nbconvert HTML {html} ({html.stat().st_size:,} bytes), screenshot {shot}")
    print(f"   without widget state (JupyterLab's default): nbconvert screenshot {plain_shot}")


if __name__ == "__main__":
    main()
