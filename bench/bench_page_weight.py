"""The page's weight with plotly.js's partial "cartesian" bundle (static/vendor/plotly/), against the full bundle it
replaced, both served in the same run by one server (issue 19, item 6).

    python bench/bench_page_weight.py [--rounds 7] [--path /] [--full PATH]

--full: the full plotly.min.js of the same plotly.js version (default: the copy in the `plotly` Python package, if it
is installed). The server is the app's own factory with GET /vendor/plotly.min.js answered by the cookie a browser
context carries, bundle=full for the full one, none for the vendored one: both through the app's middleware (gzip),
with the same headers. Each round opens the page once with each bundle, alternately, each in a fresh browser context
(nothing cached), and reads the page's own clock (performance.now(), from the navigation's start):
  1. bytes transferred: the document and every resource, Resource Timing's transferSize, once every view is drawn
     (the run's stream, over the WebSocket, is the same for both and not counted); plotly.js's own share;
  2. the first chart drawn: when the first trace of a plotly.js chart is in the DOM, and the frame after; also when
     every view is drawn (body[data-ready]).
And the adding-lstm standalone file (gatescope export --preset adding-lstm): its size, and its size with the full
bundle as plain text, the way the file carried plotly.js before.
Targets: the first chart drawn no later than with the full bundle (ratio <= 1); the standalone file <= 2.5 MB.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gatescope.app.shell import PLOTLY_JS  # noqa: E402  (the vendored partial bundle)

STANDALONE_TARGET = 2_500_000
FIRST_CHART_TARGET = 1.0  # the partial bundle's first chart / the full bundle's, in the same run

# Set before the page's own scripts run: the first trace of a plotly.js chart in the DOM and the frame after, and when
# body[data-ready] is set (the same two observers as bench/bench_page.py's probe).
PROBE = """
window.benchMarks = {};
new MutationObserver((_, observer) => {
  if (!document.querySelector('.js-plotly-plot .main-svg .trace')) return;
  observer.disconnect();
  benchMarks.chart = performance.now();
  requestAnimationFrame(() => { benchMarks.chartPainted = performance.now(); });
}).observe(document, { childList: true, subtree: true });
new MutationObserver((_, observer) => {
  if (!document.body?.dataset.ready) return;
  observer.disconnect();
  benchMarks.ready = performance.now();
}).observe(document, { attributes: true, attributeFilter: ['data-ready'], subtree: true });
"""

WEIGHT = """(() => {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const plotly = entries.find((e) => e.name.endsWith('/vendor/plotly.min.js'));
  return { ...benchMarks, transfer: entries.reduce((sum, e) => sum + e.transferSize, 0), resources: entries.length,
           plotly_transfer: plotly.transferSize, plotly_bytes: plotly.decodedBodySize, plotly_loaded: plotly.responseEnd };
})()"""


def both_bundles_app():
    """The factory the bench's server runs: the app, its /vendor/plotly.min.js by the request's bundle cookie."""
    from fastapi.responses import FileResponse
    from starlette.routing import Route

    from gatescope.app.main import create_app

    full = Path(os.environ["BENCH_FULL_PLOTLY"])

    def plotly_js(request):
        path = full if request.cookies.get("bundle") == "full" else PLOTLY_JS
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    app = create_app()
    app.router.routes.insert(0, Route("/vendor/plotly.min.js", plotly_js))  # before the app's own route of that path
    return app


def start(full: Path, workdir: Path) -> tuple[subprocess.Popen, str]:
    """uvicorn running both_bundles_app on a free port, as the browser tests run the app (tests/browser/conftest.py)."""
    from browser.conftest import free_port, stop_server
    port = free_port()
    env = {**os.environ, "GATESCOPE_UPLOAD_DIR": str(workdir / "uploads"), "PYTHONPATH": str(ROOT), "BENCH_FULL_PLOTLY": str(full)}
    with open(workdir / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "bench_page_weight:both_bundles_app",
                                 "--app-dir", str(ROOT / "bench"), "--port", str(port), "--log-level", "warning", "--ws", "wsproto",
                                 "--ws-per-message-deflate", "false", "--no-proxy-headers"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"the server did not start: {(workdir / 'server.log').read_text(errors='replace')}")


def load(browser, base: str, path: str, bundle: str) -> dict:
    """One fresh open of the page with that bundle: its marks (ms) and bytes."""
    from _browser import wait
    from browser.conftest import VIEWPORT
    context = browser.new_context(viewport=VIEWPORT)
    try:
        if bundle == "full":
            context.add_cookies([{"name": "bundle", "value": "full", "url": base}])
        context.add_init_script(PROBE)
        page = context.new_page()
        page.goto(base + path)
        wait(page, "window.benchMarks.chartPainted && window.benchMarks.ready")
        page.wait_for_timeout(300)  # what the page fetches as it settles (KaTeX's fonts) is counted too
        out = page.evaluate(WEIGHT)
        traces = page.evaluate("Object.keys(Plotly.PlotSchema.get().traces).length")
        return {**out, "traces": traces}
    finally:
        context.close()


def standalone_sizes(full: Path) -> tuple[int, int]:
    """(the adding-lstm file's bytes, the same file with the full bundle as the plain-text block it used to be)."""
    from gatescope.app import standalone
    from gatescope.app.cli import export_bytes
    html = export_bytes({"preset": "adding-lstm"}, "html")
    old_block = f'<script type="text/plain" id="gatescope-plotly">{full.read_text()}</script>'
    return len(html), len(html) - len(standalone.plotly_block().encode()) + len(old_block.encode())


def banner(path: Path) -> str:
    """A bundle's first comment line, e.g. "plotly.js (cartesian - minified) v4.1.1"."""
    return path.read_text()[:200].splitlines()[1].strip("* ")


def full_bundle(given: str | None) -> Path:
    if given:
        return Path(given)
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.origin:
        version = banner(PLOTLY_JS).rsplit(" v", 1)[1]
        sys.exit(f"bench_page_weight: the plotly Python package is not installed; give --full PATH, the full bundle of the same "
                 f"version: npm pack plotly.js-dist-min@{version}, then --full package/plotly.min.js")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=7, help="opens of the page with each bundle, alternately (default 7)")
    p.add_argument("--path", default="/", help="the page to open (default /, the default preset and panels)")
    p.add_argument("--full", help="the full plotly.min.js (default: the plotly Python package's copy)")
    args = p.parse_args()
    full = full_bundle(args.full)
    sys.path.insert(0, str(ROOT / "tests"))
    from _browser import machine
    from browser.conftest import launch, stop_server
    from playwright.sync_api import sync_playwright

    proc, base = start(full, Path(tempfile.mkdtemp(prefix="gatescope-bench-weight-")))
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            print(machine(browser))
            runs = {"partial": [], "full": []}
            load(browser, base, args.path, "partial")  # a first open warms the server (the preset's model read once)
            for i in range(args.rounds):
                for bundle in (("partial", "full") if i % 2 == 0 else ("full", "partial")):
                    runs[bundle].append(load(browser, base, args.path, bundle))
            browser.close()
    finally:
        stop_server(proc)
    print(f"load average after the runs {os.getloadavg()[0]:.1f}")

    part, whole = runs["partial"], runs["full"]
    print(f"GET {args.path}, median of {args.rounds} fresh opens per bundle, alternately; partial: {banner(PLOTLY_JS)}, "
          f"{part[0]['traces']} trace types; full: {banner(full)}, {whole[0]['traces']}")
    print("1. bytes transferred (the document and every resource; the run's WebSocket stream not counted)")
    t_part, t_full = median(part, "transfer"), median(whole, "transfer")
    print(f"   partial {t_part / 1e6:.2f} MB, full {t_full / 1e6:.2f} MB: {t_part / t_full:.2f} of it; plotly.js itself "
          f"{median(part, 'plotly_transfer') / 1e6:.2f} MB on the wire ({median(part, 'plotly_bytes') / 1e6:.2f} MB unzipped) against "
          f"{median(whole, 'plotly_transfer') / 1e6:.2f} MB ({median(whole, 'plotly_bytes') / 1e6:.2f} MB)")
    print("2. navigation start -> the first chart drawn (its first trace in the DOM, the frame after); target ratio <= "
          f"{FIRST_CHART_TARGET}")
    for key, what in (("chartPainted", "first chart drawn"), ("ready", "every view drawn (body[data-ready])"),
                      ("plotly_loaded", "plotly.js downloaded")):
        a, b = median(part, key), median(whole, key)
        verdict = (" (met)" if a / b <= FIRST_CHART_TARGET else " (MISSED)") if key == "chartPainted" else ""
        print(f"   {what}: partial {a / 1e3:.2f} s, full {b / 1e3:.2f} s: ratio {a / b:.2f}{verdict}; "
              f"per round {', '.join(f'{x[key] / y[key]:.2f}' for x, y in zip(part, whole))}")
    now, before = standalone_sizes(full)
    print(f"3. the adding-lstm standalone file (gatescope export --preset adding-lstm): {now / 1e6:.2f} MB "
          f"({now / STANDALONE_TARGET:.2f} of the {STANDALONE_TARGET / 1e6:.1f} MB target, {'met' if now <= STANDALONE_TARGET else 'MISSED'}); "
          f"with the full bundle as plain text, as before: {before / 1e6:.2f} MB ({now / before:.2f} of it)")


if __name__ == "__main__":
    main()
