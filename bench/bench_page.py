"""The page's speed in headless Chromium (software rendering), against a real uvicorn server on a free port.

    python bench/bench_page.py

Uses the browser tests' server and browser (tests/browser/conftest.py: Debian's /usr/bin/chromium, the same
flags). Prints, each measured in this run:
  1. frames per second while playing a 1,000-step LSTM, hidden 32, at speed 60 for about 5 s, with phases
     off (plain stepping) and on (the flow animation, every frame moving its squares): the mean over
     player.frames (the animation-frame times the player records) and the
     5th-percentile fps (the worst frames); target 30 fps, printed as a ratio.
  2. time from navigation start to the first drawn diagram of the default page: its cells painted with the first
     step's numbers (a fresh browser context each run, so nothing is cached). The server draws it into the HTML
     (app/first_paint.py), so it is painted with the page's first paint: the time is the later of that first paint
     and the frame after the cells are in the DOM. Target: within 1.3 times the HTML's first paint (its reference,
     measured in the same load); also printed, when the page's own figure replaced it and when every view was drawn.
  3. time to draw a heatmap of 128 units x 1,000 steps: Plotly.newPlot into a new div, until the next
     animation frame after it resolves; target 300 ms; reference: the same for 10 x 100.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _browser import machine, served_browser, wait  # noqa: E402
from browser.conftest import VIEWPORT  # noqa: E402

FPS_TARGET, FIRST_DRAW_TARGET, HEATMAP_TARGET_MS = 30, 1.3, 300
PLAY = "/?kind=lstm&hidden=32&input=sine%201000&input_type=signal&speed=60&phases={phases}"

# Set before the page's own scripts run: when the diagram's cells first hold a step's numbers, and the frame after.
FIRST_DRAW_PROBE = """
new MutationObserver((_, observer) => {
  if (!document.querySelector('#diagram .cell[data-value]')) return;
  observer.disconnect();
  window.benchDiagram = performance.now();
  requestAnimationFrame(() => { window.benchDiagramPainted = performance.now(); });
}).observe(document, { childList: true, subtree: true });
new MutationObserver((_, observer) => {
  if (!document.body?.dataset.ready) return;
  observer.disconnect();
  window.benchReady = performance.now();
}).observe(document, { attributes: true, attributeFilter: ['data-ready'], subtree: true });
"""

HEATMAP = """async ([rows, cols]) => {
  const z = Array.from({ length: rows }, () => Float32Array.from({ length: cols }, Math.random));  // as trace.matrix() gives
  const div = document.createElement('div');
  div.style.cssText = 'width: 900px; height: 420px';
  document.body.append(div);
  const t0 = performance.now();
  await Plotly.newPlot(div, [{ type: 'heatmap', z, zmin: 0, zmax: 1, showscale: false }],
                       { margin: { l: 40, r: 10, t: 10, b: 30 } }, { displayModeBar: false });
  await new Promise((resolve) => requestAnimationFrame(resolve));
  const ms = performance.now() - t0;
  Plotly.purge(div);
  div.remove();
  return ms;
}"""


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]



# Where one step's time goes: Plotly's calls, timed by figure, while the player shows steps one after another.
STEP_COST = """(steps) => {
  const spent = {};
  for (const fn of ['restyle', 'relayout', 'react', 'newPlot']) {
    const plain = Plotly[fn];
    Plotly[fn] = function (el, ...rest) {
      const t0 = performance.now();
      const out = plain.call(this, el, ...rest);
      spent[`${fn} #${el.id}`] = (spent[`${fn} #${el.id}`] ?? 0) + performance.now() - t0;
      return out;
    };
  }
  const t0 = performance.now();
  for (let t = 1; t <= steps; t++) window.gatescope.player.set(t, null, 'play');
  const perStep = Object.fromEntries(Object.entries(spent).map(([k, v]) => [k, v / steps]));
  return { total: (performance.now() - t0) / steps, calls: perStep };
}"""

# The frame rate of the same page doing nothing: what the headless compositor gives.
IDLE_FPS = """() => new Promise((resolve) => {
  const times = [];
  const tick = (now) => {
    times.push(now);
    if (times.length < 61) requestAnimationFrame(tick);
    else resolve(1000 * 60 / (times[60] - times[0]));
  };
  requestAnimationFrame(tick);
})"""


def open_play_page(browser, base: str, phases: bool):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(base + PLAY.format(phases=str(phases).lower()))
    wait(page, "document.body.dataset.ready && window.gatescope.trace.steps === 1000")
    page.wait_for_timeout(500)  # let the first draw settle
    return context, page


def step_cost(browser, base: str) -> dict:
    context, page = open_play_page(browser, base, False)
    idle = page.evaluate(IDLE_FPS)
    out = page.evaluate(STEP_COST, 50)
    context.close()
    return {**out, "idle_fps": idle}


def playing_fps(browser, base: str, phases: bool, seconds: float) -> dict:
    context, page = open_play_page(browser, base, phases)
    start = page.evaluate("window.gatescope.player.frames.length")
    page.evaluate("window.gatescope.player.play()")
    page.wait_for_timeout(seconds * 1000)
    frames = page.evaluate("(n) => { window.gatescope.player.pause(); return window.gatescope.player.frames.slice(n); }", start)
    step = int(page.evaluate("document.body.dataset.step"))
    context.close()
    gaps = [b - a for a, b in zip(frames, frames[1:], strict=False)]
    return {"frames": len(frames), "fps": 1000 * len(gaps) / (frames[-1] - frames[0]),
            "p5_fps": 1000 / percentile(gaps, 0.95), "worst_ms": max(gaps), "steps_shown": step}


def first_draw(browser, base: str) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.add_init_script(FIRST_DRAW_PROBE)
    page.goto(base + "/")
    wait(page, "window.benchDiagramPainted && window.benchReady")
    out = page.evaluate("""(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const plotly = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/plotly.min.js'));
        return { diagram: window.benchDiagram, painted: window.benchDiagramPainted, plotly_loaded: plotly.responseEnd,
                 dom_ready: nav.domContentLoadedEventEnd, ready: window.benchReady,
                 first_paint: performance.getEntriesByName('first-paint')[0]?.startTime ?? NaN };
    })()""")
    context.close()
    return out


def heatmap_ms(browser, base: str, rows: int, cols: int, runs: int) -> list[float]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(base + "/?kind=lstm&input=hello")
    wait(page, "document.body.dataset.ready")
    times = [page.evaluate(HEATMAP, [rows, cols]) for _ in range(runs)]
    context.close()
    return times


def verdict(ratio: float, higher_is_better: bool) -> str:
    return "met" if (ratio >= 1 if higher_is_better else ratio <= 1) else "MISSED"


def report_playing(browser, base: str, seconds: float) -> None:
    print(f"1. playing a 1,000-step LSTM, hidden 32, at speed 60 (steps/s) for {seconds:.0f} s; target {FPS_TARGET} fps")
    for phases in (False, True):
        r = playing_fps(browser, base, phases, seconds)
        mean, worst = r["fps"] / FPS_TARGET, r["p5_fps"] / FPS_TARGET
        what = "phases on (the flow animation, at its normal pace)" if phases else "phases off (plain stepping)"
        print(f"   {what}: {r['fps']:.1f} fps mean ({mean:.2f} of the target, "
              f"{verdict(mean, True)}), "
              f"5th percentile {r['p5_fps']:.1f} fps ({worst:.2f}), worst frame {r['worst_ms']:.0f} ms; "
              f"{r['frames']} frames, reached step {r['steps_shown']}")
    cost = step_cost(browser, base)
    calls = ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(cost["calls"].items(), key=lambda kv: -kv[1])) or "none of it in Plotly"
    print(f"   reference: the same page idle draws {cost['idle_fps']:.1f} fps; showing one step takes {cost['total']:.1f} ms "
          f"of script: {calls}")


def report_first_draw(browser, base: str, runs: int) -> None:
    draws = [first_draw(browser, base) for _ in range(runs)]
    for d in draws:  # the diagram is on screen at the first paint after its cells are in the DOM
        d["painted"] = max(d["painted"], d["first_paint"])
    med = {k: statistics.median(d[k] for d in draws) / 1e3 for k in draws[0]}
    ratio = med["painted"] / med["first_paint"] / FIRST_DRAW_TARGET
    print(f"2. navigation start -> first drawn diagram of the default page, median of {runs} fresh loads; "
          f"target within {FIRST_DRAW_TARGET} x the HTML's first paint")
    print(f"   cells in the DOM {med['diagram']:.2f} s, painted {med['painted']:.2f} s = {med['painted'] / med['first_paint']:.2f} x the "
          f"first paint ({ratio:.2f} of the target, {verdict(ratio, False)}); reference: the HTML's first paint at {med['first_paint']:.2f} s; "
          f"scripts run by {med['dom_ready']:.2f} s, plotly.min.js downloaded by {med['plotly_loaded']:.2f} s, every view drawn with "
          f"the numbers (body[data-ready]) at {med['ready']:.2f} s")


def report_heatmap(browser, base: str) -> None:
    big, small = heatmap_ms(browser, base, 128, 1000, 5), heatmap_ms(browser, base, 10, 100, 5)
    b, s = statistics.median(big), statistics.median(small)
    print(f"3. Plotly.newPlot of one heatmap until the next frame, median of 5; target {HEATMAP_TARGET_MS} ms")
    ratio = b / HEATMAP_TARGET_MS
    print(f"   128 units x 1,000 steps: {b:.0f} ms ({ratio:.2f} of the target, {verdict(ratio, False)}; "
          f"first run {big[0]:.0f} ms); reference 10 x 100: {s:.0f} ms (big / small = {b / s:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to play for the fps figures")
    parser.add_argument("--runs", type=int, default=3, help="page loads for the first-draw figure (median)")
    args = parser.parse_args()
    with served_browser("page") as (browser, base):
        print(f"{machine(browser)}; server {base}")
        report_playing(browser, base, args.seconds)
        report_first_draw(browser, base, args.runs)
        report_heatmap(browser, base)


if __name__ == "__main__":
    main()
