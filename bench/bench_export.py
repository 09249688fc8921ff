"""The standalone page (app/standalone.py): how soon it opens to a drawn diagram from file://, against the served
page's first draw of the same view measured in the same run, and what its size is made of.

    python bench/bench_export.py [--rounds 5] [--preset adding-lstm]

Each round opens the served page (/?preset=...&step=3) and the file written by ``gatescope export`` for the same
view, each in a fresh browser context, alternately; the time is the page's own clock (performance.now(), from the
navigation's start) when the first strip of the diagram is in the DOM, and when the charts are drawn
(body[data-ready]). Target: the file's first drawn diagram within 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _browser import ROOT, machine, served_browser, wait

sys.path.insert(0, str(ROOT))

TARGET_S = 1.5
# the page's own clock at the first strip of the diagram, and at the charts' drawing: set before any script runs
MARK = """(() => {
  const seen = () => {
    if (!window.__drawn && document.querySelector('#diagram svg .strip')) window.__drawn = performance.now();
    if (!window.__ready && document.body && document.body.dataset.ready === '1') window.__ready = performance.now();
    return window.__drawn && window.__ready;
  };
  new MutationObserver((_, o) => { if (seen()) o.disconnect(); }).observe(document, { subtree: true, childList: true, attributes: true });
})();"""


def timed(browser, url: str) -> tuple[float, float]:
    """(seconds to the first drawn diagram, seconds to the charts drawn) of one fresh open of url."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.add_init_script(MARK)
        page = context.new_page()
        page.goto(url)
        wait(page, "window.__drawn && window.__ready")
        return page.evaluate("window.__drawn") / 1e3, page.evaluate("window.__ready") / 1e3
    finally:
        context.close()


def sizes(html: str) -> dict[str, int]:
    """Bytes of the file by what they carry."""
    blocks = {}
    for m in re.finditer(r"<script ([^>]*)>(.*?)</script>", html, re.S):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        blocks[attrs.get("id") or attrs["type"]] = len(m.group(2).encode())
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1))["imports"]
    katex = sum(len(u) for k, u in imports.items() if k.endswith("katex.min.css"))  # KaTeX's stylesheet, its fonts inlined
    return {"plotly.js (gzipped, base64, run from blob:)": blocks.get("gatescope-plotly", 0),
            "the page's modules (data: URLs, base64)": blocks.get("importmap", 0) - katex,
            "  of them KaTeX's stylesheet with its woff2 fonts inlined": katex,
            "the run (header, base64 float32 rows, gradient flow)": blocks.get("gatescope-trace", 0),
            "the page's config": blocks.get("gatescope-config", 0),
            "all": len(html.encode())}


def python_side(preset: str) -> list[tuple[str, float]]:
    """Seconds of the Python side: the file's shell (cold: read and inlined, each module as it is; then cached), a run's payload,
    and the notebook widget made of it (what gatescope.show spends before the notebook draws)."""
    import time

    from gatescope.app import standalone, store
    model = store.preset(preset)
    t0 = time.perf_counter()
    standalone.shell()
    t1 = time.perf_counter()
    body = standalone.payload(model, None, {"step": 3})
    t2 = time.perf_counter()
    standalone.page(body)
    t3 = time.perf_counter()
    out = [("the shell, cold (modules, plotly.js and KaTeX inlined)", t1 - t0), ("a run's payload", t2 - t1),
           ("the file of it (shell cached)", t3 - t2)]
    try:
        import anywidget  # noqa: F401 - the widget's extra
    except ImportError:
        return out
    import gatescope
    t4 = time.perf_counter()
    gatescope.show(model, None, step=3)
    return out + [("the notebook widget of it (gatescope.show: its run and its still)", time.perf_counter() - t4)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--preset", default="adding-lstm")
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="gatescope-bench-export-")) / "view.html"
    subprocess.run([sys.executable, "-m", "gatescope.app.cli", "export", "--preset", args.preset, "--step", "3", "-o", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    html = out.read_text()
    with served_browser("export") as (browser, base):
        print(machine(browser))
        served, file = [], []
        timed(browser, out.as_uri())  # a first open warms the browser's caches for neither in particular
        for _ in range(args.rounds):
            served.append(timed(browser, f"{base}/?preset={args.preset}&step=3"))
            file.append(timed(browser, out.as_uri()))
    med = lambda rows, i: statistics.median(r[i] for r in rows)
    print(f"\nfirst drawn diagram, median of {args.rounds} (target for the file: {TARGET_S:.1f} s)")
    print(f"  served page (reference)   {med(served, 0):6.2f} s")
    print(f"  standalone file://        {med(file, 0):6.2f} s   ({med(file, 0) / med(served, 0):.2f} x the served page)"
          f"   {'within' if med(file, 0) <= TARGET_S else 'OVER'} target")
    print("charts drawn (plotly.js loaded and run)")
    print(f"  served page (reference)   {med(served, 1):6.2f} s")
    print(f"  standalone file://        {med(file, 1):6.2f} s   ({med(file, 1) / med(served, 1):.2f} x)")
    print(f"\nthe file for {args.preset} at step 3, by what it carries:")
    for what, n in sizes(html).items():
        print(f"  {what:<70} {n / 1e6:6.2f} MB")
    print("\nthe Python side")
    for what, seconds in python_side(args.preset):
        print(f"  {what:<70} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
