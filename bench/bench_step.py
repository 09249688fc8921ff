"""A paused step in headless Chromium: arrow key to painted, against a real uvicorn server on a free port.

    python bench/bench_step.py [--steps 40]

Uses the browser tests' server and browser (tests/browser/conftest.py). For an LSTM at T=1,000, H=32 and at
T=2,000, H=256 (the diagram draws 24 units of each strip), phases off, it presses ArrowRight --steps times and
prints, per step (median and worst):
  script  the time the keydown takes to run (every view's show(), the diagram's included), as the page's
          own handler runs it;
  painted from the key to the end of the next animation frame, whose paint then shows the step;
  Plotly  the time spent in Plotly calls on #diagram during those steps (0 when a step paints the SVG itself).
Reference, measured in the same page: the restyle the diagram used to make for every step when Plotly drew it (the
marker colours and opacity of every strip, Plotly.restyle), timed on a Plotly figure of the same strips. Target: script <= 7.6 ms at T=2,000, H=256
(issue 17: half of the 15.2 ms measured before it; the first target was a frame, 16 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _browser import machine, served_browser  # noqa: E402
from browser.conftest import VIEWPORT  # noqa: E402

TARGET_MS = 7.6
CASES = (("T=1,000, H=32", 1000, 32), ("T=2,000, H=256", 2000, 256))
PAGE = "/?kind=lstm&hidden={h}&input=sine%20{t}&input_type=signal&phases=false"

STEPS = """async (n) => {
  const plotly = { ms: 0 };
  for (const fn of ['restyle', 'relayout', 'react', 'newPlot', 'update']) {
    const plain = Plotly[fn];
    Plotly[fn] = function (el, ...rest) {
      const t0 = performance.now();
      const out = plain.call(this, el, ...rest);
      if (el.id === 'diagram') plotly.ms += performance.now() - t0;
      return out;
    };
  }
  document.activeElement?.blur();
  const script = [], painted = [];
  for (let i = 0; i < n; i++) {
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));  // start between frames
    const t0 = performance.now();
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    script.push(performance.now() - t0);
    await new Promise((r) => requestAnimationFrame(() => r()));
    painted.push(performance.now() - t0);
  }
  return { script, painted, plotly: plotly.ms / n, step: Number(document.body.dataset.step) };
}"""

# What every paused step cost before the diagram was plain SVG: one restyle of every strip's colours and opacity,
# on a Plotly figure of the same strips (one marker series per strip of the SVG, as many markers as its cells).
OLD_RESTYLE = """async (n) => {
  const strips = Array.from(document.querySelectorAll('#diagram .strip'), (g) => g.querySelectorAll('.cell').length);
  const div = Object.assign(document.createElement('div'), { style: 'width: 900px; height: 560px; position: fixed; left: -3000px' });
  document.body.append(div);
  await Plotly.newPlot(div, strips.map((k, i) => ({ type: 'scatter', mode: 'markers', x: Array.from({ length: k }, (_, j) => j),
    y: Array(k).fill(i), marker: { symbol: 'square', size: 8, color: Array(k).fill(0), colorscale: 'RdBu', cmin: -1, cmax: 1 } })),
    { margin: { l: 8, r: 78, t: 8, b: 8 }, showlegend: false }, { displayModeBar: false });
  const idx = strips.map((_, i) => i), times = [];
  for (let k = 0; k < n; k++) {
    const colors = strips.map((c) => Array.from({ length: c }, () => Math.random() * 2 - 1));
    const t0 = performance.now();
    Plotly.restyle(div, { 'marker.color': colors, opacity: idx.map(() => 1) }, idx);
    times.push(performance.now() - t0);
  }
  Plotly.purge(div);
  div.remove();
  return times;
}"""


def measure(browser, base: str, t: int, h: int, steps: int) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(base + PAGE.format(t=t, h=h))
    page.wait_for_selector("body[data-ready]", state="attached", timeout=120_000)
    deadline = 120
    while page.evaluate("window.gatescope.trace.steps") < t and deadline > 0:
        page.wait_for_timeout(250)
        deadline -= 0.25
    page.wait_for_timeout(800)  # let the first draw and the heatmaps settle
    out = page.evaluate(STEPS, steps)
    out["reference"] = page.evaluate(OLD_RESTYLE, max(5, steps // 4))
    context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="arrow presses per case")
    args = parser.parse_args()
    with served_browser("step") as (browser, base):
        print(f"{machine(browser)}; {args.steps} ArrowRight presses per case, phases off")
        for label, t, h in CASES:
            r = measure(browser, base, t, h, args.steps)
            med, worst = statistics.median(r["script"]), max(r["script"])
            ref = statistics.median(r["reference"])
            print(f"{label}: script {med:.1f} ms median, {worst:.1f} ms worst ({med / TARGET_MS:.2f} of the {TARGET_MS} ms target: {'met' if med <= TARGET_MS else 'MISSED'}); "
                  f"painted {statistics.median(r['painted']):.1f} ms median; Plotly on #diagram {r['plotly']:.2f} ms/step; "
                  f"reached step {r['step']}")
            print(f"   reference: the old per-step Plotly.restyle of the diagram's strips takes {ref:.1f} ms median "
                  f"on a Plotly figure of the same strips ({ref / med:.1f}x the whole step now)")


if __name__ == "__main__":
    main()
