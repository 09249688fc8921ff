"""The animation export's speed in headless Chromium (software rendering), against a real server on a free port.

    python bench/bench_animation.py

Prints, each measured in this run, for the remember-lstm preset (an LSTM, hidden 8) at 1280 x 720:
  1. an animated GIF of 10 steps with phases (the flow animation), at the fast pace and 12 frames a second
     (300 frames) and at the normal pace and 8 frames a second (400 frames): seconds from Export to the file;
     target 10 s; reference: the same frames painted without encoding (what the encoder adds is the rest).
  2. a video of 2 steps with phases at the fast pace (5 s of animation): seconds to record it against its
     own length; target: real time or better (a ratio of 1.0 at most).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _browser import machine, served_browser, wait

GIF_TARGET_S = 10.0

PAINT_ONLY = """async ([pace, fps]) => {
  const ex = await import('/static/controls/animation-export.js');
  const trace = window.gatescope.trace, header = trace.header, kindInfo = header.kind_info;
  const src = new ex.FrameSource({ kindInfo, header, options: window.gatescope.state, trace, width: 1280, height: 720 });
  const ctx = Object.assign(document.createElement('canvas'), { width: 1280, height: 720 }).getContext('2d', { willReadFrequently: true });
  const frames = ex.frameList({ from: 0, to: 9, phases: true, phaseNames: kindInfo.glossary.phases.map((p) => p.name), pace, fps });
  const t0 = performance.now();
  for (const f of frames) { await src.paint(ctx, f, ['title', `t = ${f.t}`, 'input']); ctx.getImageData(0, 0, 1280, 720); }
  src.dispose();
  return { frames: frames.length, seconds: (performance.now() - t0) / 1000 };
}"""


def export(page, fmt: str, to: int, pace: str, fps: str) -> tuple[float, str, int]:
    page.goto(page.url.split("?")[0] + f"?preset=remember-lstm&pace={pace}")
    wait(page, "document.body.dataset.ready === '1'")
    page.click("details.menu summary:has-text('Export')")
    page.click(f'[data-control="export-{fmt}"]')
    page.fill('[data-anim="from"]', "0")
    page.fill('[data-anim="to"]', str(to))
    page.select_option('[data-anim="fps"]', fps)
    summary = page.evaluate("document.querySelector('[data-anim=summary]').textContent")
    t0 = time.monotonic()
    with page.expect_download(timeout=300_000) as file:
        page.click('[data-anim="start"]')
    seconds = time.monotonic() - t0
    return seconds, summary, Path(file.value.path()).stat().st_size


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    with served_browser("animation") as (browser, base):
        print(f"{machine(browser)}; server {base}")
        page = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True).new_page()
        page.goto(base + "/?preset=remember-lstm")
        wait(page, "document.body.dataset.ready === '1'")
        print(f"1. an animated GIF of 10 steps with phases at 1280 x 720; target {GIF_TARGET_S:.0f} s")
        for pace, fps in (("fast", "12"), ("normal", "8")):
            seconds, summary, size = export(page, "gif", 9, pace, fps)
            ref = page.evaluate(PAINT_ONLY, [pace, int(fps)])
            ratio = seconds / GIF_TARGET_S
            print(f"   {pace} pace, {fps} fps ({summary}): {seconds:.1f} s ({ratio:.2f} of the target, "
                  f"{'met' if ratio <= 1 else 'NOT met'}), {size / 1e6:.1f} MB; reference: painting its {ref['frames']} frames "
                  f"without encoding {ref['seconds']:.1f} s")
        seconds, summary, size = export(page, "video", 1, "fast", "12")
        length = float(summary.split(", ")[1].split(" s")[0])
        ratio = seconds / length
        print(f"2. a video of 2 steps with phases, fast pace ({summary}): recorded in {seconds:.1f} s for {length:.1f} s of "
              f"animation ({ratio:.2f} of real time, {'met' if ratio <= 1.1 else 'NOT met'}), {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
