"""How fast the page's heatmaps draw a 5,000-step x 1,024-unit map, in headless Chromium (software rendering).

    python bench/bench_heatmap.py [--runs 5]

Uses the browser tests' server and browser (tests/browser/conftest.py: Debian's /usr/bin/chromium, the same
flags), on a page of the app so plotly.js and the page's modules load as they do for a user. Each figure is
the median of --runs, from the call until the next animation frame after it (the frame that shows it):
  1. reference: a bare Plotly.newPlot of the full 1,024 x 5,000 z (5.1 million cells), measured in this run;
  2. views/heatmaps.js over a real core/trace.js trace of that size, built and filled (build + update), as it
     opens: a window of the run around the current step;
  3. the same view zoomed out to the whole run ("all"): each cell a block mean of steps and units;
  4. a step that leaves the window (show(t) pages the window on: the cost of following the cursor).
Target: 300 ms for 2 and 3 (issue 10). Printed as ms, as the ratio to the reference, and against the target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.conftest import launch, start_server, stop_server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

TARGET_MS, STEPS, UNITS = 300, 5_000, 1_024

MEASURE = """async ([steps, units]) => {
  const { Heatmaps } = await import('/static/views/heatmaps.js');
  const { createTrace } = await import('/static/core/trace.js');
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const values = new Float32Array(steps * units);
  for (let i = 0; i < values.length; i++) values[i] = Math.sin(i * 0.37) * (1 + (i % 7));  // unbounded, like c
  const trace = createTrace();
  trace.reset({ fields: [{ name: 'c', offset: 0, width: units }], stride: units, steps, tokens: [] });
  trace.append(0, values, steps);
  const box = (height) => {
    const panel = document.createElement('section');
    panel.className = 'panel';
    panel.style.cssText = `position: absolute; left: 0; top: 0; width: 640px; height: ${height}px; contain: size; background: white`;
    const div = document.createElement('div');
    panel.append(div);
    document.body.append(panel);
    return { panel, div };
  };
  // 1. the reference: every cell handed to Plotly
  let { panel, div } = box(560);
  const z = Array.from({ length: units }, (_, u) => trace.series('c', u));
  let t0 = performance.now();
  await Plotly.newPlot(div, [{ type: 'heatmap', z, zmin: -7, zmax: 7, showscale: false }],
                       { height: 520, margin: { l: 66, r: 58, t: 30, b: 6 } }, { displayModeBar: false });
  await frame();
  const reference = performance.now() - t0;
  Plotly.purge(div);
  panel.remove();
  // 2.-4. the page's view
  ({ panel, div } = box(560));
  const kindInfo = { glossary: { names: [{ name: 'c', label: 'cell state c(t)', symbol: 'c(t)', role: 'state', range: 'real' }] } };
  const bus = { emit() {} }, view = new Heatmaps(div, bus);
  t0 = performance.now();
  view.build(kindInfo, null, { palette: 'classic', presenter: false });
  view.show(2500);
  view.update(trace);
  await frame();
  const opened = performance.now() - t0;
  const span = view.win.range[1] - view.win.range[0];
  t0 = performance.now();
  view.act('all');
  await frame();
  const whole = performance.now() - t0;
  const cells = div.data[0].z.length * div.data[0].z[0].length, block = [div.data[0].dx, div.data[0].dy];
  view.act('in');
  view.act('in');
  view.act('in');
  t0 = performance.now();
  view.show(Math.min(steps - 1, Math.ceil(view.win.range[1]) + 1));
  await frame();
  const paged = performance.now() - t0;
  Plotly.purge(div);
  panel.remove();
  return { reference, opened, whole, paged, span, cells, block };
}"""


def verdict(ms: float) -> str:
    return f"{'within' if ms <= TARGET_MS else 'OVER'} the {TARGET_MS} ms target ({ms / TARGET_MS:.2f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        proc, base = start_server(Path(tmp))
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/?kind=lstm&input=hello")
            deadline = time.monotonic() + 30
            while not page.evaluate("!!document.body.dataset.ready"):  # the page's CSP forbids wait_for_function
                if time.monotonic() > deadline:
                    raise TimeoutError("the page did not draw")
                time.sleep(0.05)
            runs = [page.evaluate(MEASURE, [STEPS, UNITS]) for _ in range(args.runs)]
        finally:
            browser.close()
            stop_server(proc)
    med = {k: statistics.median(r[k] for r in runs) for k in ("reference", "opened", "whole", "paged")}
    last = runs[-1]
    print(f"heatmap of {UNITS:,} units x {STEPS:,} steps, median of {args.runs} runs (Chromium, software rendering)")
    print(f"  reference: bare Plotly.newPlot of all {UNITS * STEPS:,} cells   {med['reference']:8.1f} ms")
    for key, what in (("opened", f"views/heatmaps.js as it opens ({last['span']:.0f}-step window)"),
                      ("whole", f"zoomed out to all steps ({last['cells']:,} cells, blocks of {last['block'][0]} steps x {last['block'][1]} units)"),
                      ("paged", "a step past the window (it pages on)")):
        print(f"  {what:<62} {med[key]:8.1f} ms  {med['reference'] / med[key]:5.1f}x faster than the reference"
              + (f"  {verdict(med[key])}" if key != "paged" else ""))


if __name__ == "__main__":
    main()
