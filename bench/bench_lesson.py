"""Time to open a lesson stop, from the key to the stop drawn, in headless Chromium (software rendering).

    python bench/bench_lesson.py [--rounds 8]

Opens /lesson/lstm at stop 3 (remember-lstm, loaded once) and presses PageDown / PageUp between stops 3 to 6, which
show the same run at other steps, phases, units and highlights: each time from the key's event to the second animation
frame after the stop's step is shown (its views drawn, then painted). Target: 300 ms. Reference, measured in the same
run: an ordinary step change (Shift+→ in a lesson: one step of time), key to painted the same way. Also printed: a stop
that opens another run of a model already loaded (stop 6 -> 7 holds the forget gate: clamp=forget:1), key to the run
drawn (body[data-ready]).
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

TARGET_MS = 300
STEPS = {3: 8, 4: 9, 5: 0, 6: 1, 7: 18}  # lessons/lstm.json: each stop's step

# Before the key: on its event, note its time; once the body shows the stop and step asked for (and a new run, if
# asked, is drawn), wait two animation frames (the views drawn, then the frame painted) and keep the time taken.
PROBE = """([stop, step, ready]) => {
  window.benchMs = null;
  window.addEventListener('keydown', (e) => {
    const t0 = e.timeStamp;
    const check = () => {
      const b = document.body.dataset;
      if (b.stop === String(stop) && b.step === String(step) && (!ready || b.ready === '1'))
        requestAnimationFrame(() => requestAnimationFrame(() => { window.benchMs = performance.now() - t0; }));
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  }, { once: true, capture: true });  // capture: the lesson's own listener stops the key there
}"""


def timed(page, key: str, stop: int, step: int, ready: bool = False) -> float:
    page.evaluate(PROBE, [stop, step, ready])
    page.keyboard.press(key)
    wait(page, "window.benchMs !== null", timeout=30)
    return page.evaluate("window.benchMs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=8, help="how many times stops 3 -> 6 -> 3 are walked")
    args = ap.parse_args()
    with served_browser("lesson") as (browser, base):
        print(machine(browser))
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(f"{base}/lesson/lstm?stop=3")
        wait(page, "document.body.dataset.ready === '1'")
        page.evaluate("document.activeElement && document.activeElement.blur()")
        stops, steps = [], []
        for _ in range(args.rounds):
            for n in (4, 5, 6):
                stops.append(timed(page, "PageDown", n, STEPS[n]))
            for n in (5, 4, 3):
                stops.append(timed(page, "PageUp", n, STEPS[n]))
            t = int(page.evaluate("document.body.dataset.step"))
            steps.append(timed(page, "Shift+ArrowRight", 3, t + 1))
            steps.append(timed(page, "Shift+ArrowLeft", 3, t))
        for n in (4, 5, 6):
            timed(page, "PageDown", n, STEPS[n])
        new_run = timed(page, "PageDown", 7, STEPS[7], ready=True)
        med, worst, ref = statistics.median(stops), max(stops), statistics.median(steps)
        print(f"open a stop (same run), key to painted: median {med:.0f} ms, worst {worst:.0f} ms over {len(stops)} "
              f"(target {TARGET_MS} ms: {med / TARGET_MS:.2f} of it)")
        print(f"reference, one step of time, key to painted: median {ref:.0f} ms over {len(steps)}; a stop costs {med / ref:.1f}x a step")
        print(f"open a stop that reruns a loaded model (stop 6 -> 7, clamp=forget:1), key to drawn: {new_run:.0f} ms")


if __name__ == "__main__":
    main()
