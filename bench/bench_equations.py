"""What the phase panel's equations cost per step in headless Chromium, against typesetting them afresh.

    python bench/bench_equations.py [--steps 300]

In a page of the app (a GRU on 300 characters, phases on), a Phase view (static/views/equation.js) is made on
a panel of its own and shown step after step. Prints, each measured in this run (the mean over the steps):
  1. a step within one phase: only the numbers are rewritten;
  2. a step that enters another phase: the panel is rebuilt from the typeset cache;
  3. the reference: KaTeX typesetting the same phase's equations from their LaTeX (what every step would cost
     if the panel set its equations each time, as it once set its text).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.conftest import VIEWPORT, launch, start_server, stop_server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

MEASURE = """async ([steps]) => {
  const { Phase } = await import('/static/views/equation.js');
  const info = await (await fetch('/api/kinds/gru')).json();
  const trace = window.gatescope.trace;
  const el = document.createElement('div');
  document.body.append(el);
  const view = new Phase(el, null);
  view.build(info, null, { color_unit: 0 });
  view.update(trace);
  const phases = info.glossary.phases.map((p) => p.name);
  // performance.now() is coarse in a headless page (0.1 ms), so each figure is a whole run of steps over its count
  const mean = (fn) => { const t0 = performance.now(); for (let t = 1; t < steps; t++) fn(t); return (performance.now() - t0) / (steps - 1); };
  view.show(0, 'update', false);
  const within = mean((t) => view.show(t, 'update', true));
  const across = mean((t) => view.show(t, phases[t % phases.length], true));
  const latex = info.glossary.names.filter((n) => n.phase === 'update' && n.op !== 'given' && n.op !== 'shift').map((n) => n.latex);
  const fresh = mean(() => { for (const l of latex) katex.renderToString(l, { throwOnError: false, output: 'htmlAndMathml' }); });
  clearTimeout(view.timer);
  return { within, across, fresh, equations: latex.length };
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    proc, base = start_server(Path(tempfile.mkdtemp()))
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.goto(f"{base}/?kind=gru&input={'abc ' * (args.steps // 4)}&phases=true")
            page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)
            r = page.evaluate(MEASURE, [args.steps])
            browser.close()
    finally:
        stop_server(proc)
    ref = r["fresh"]
    print(f"phase panel, GRU update phase ({r['equations']} equations), mean of {args.steps - 1} steps:")
    print(f"  reference: typeset afresh with KaTeX   {ref:7.3f} ms")
    print(f"  a step within the phase (numbers)     {r['within']:7.3f} ms   {r['within'] / ref:6.3f} x reference")
    print(f"  a step into another phase (rebuilt)   {r['across']:7.3f} ms   {r['across'] / ref:6.3f} x reference")


if __name__ == "__main__":
    main()
