"""The lecture screen in headless Chromium: the diagram's share of the window and its smallest text, in every context.

    python bench/bench_lecture.py [--shots DIR]

For each context of tests/browser/lecture_screen.py (presenter mode and lessons on a 4:3 projector, /embed in 16:9
and small slide frames, a laptop, a phone, 1080p) and for every stop of every lesson in presenter mode at 1024x768,
prints the hero figure's share of the viewport (its visible area over the window's), its smallest and median text
height (rendered px), each beside its target, and whether the phase text and the player are on the first screen.
These are geometry, not timing: the same on a busy machine. --shots saves a screenshot of each context.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from _browser import machine, served_browser, wait  # noqa: E402

from tests.browser.lecture_screen import CONTEXTS, MEASURE, Context, problems  # noqa: E402

SETTLED = """() => { const el = document.getElementById('diagram'), svg = el?.querySelector('svg');
  return !!svg && Math.abs(svg.getBoundingClientRect().width - el.clientWidth) < 1.5; }"""


def measure(page, base: str, ctx: Context, shots: Path | None) -> dict:
    page.set_viewport_size({"width": ctx.width, "height": ctx.height})
    page.goto(base + ctx.url)
    wait(page, "document.body.dataset.ready")
    wait(page, f"({SETTLED})()")
    page.wait_for_timeout(300)
    if shots:
        page.screenshot(path=str(shots / f"{ctx.name.replace(' ', '_').replace(',', '')}-{ctx.width}x{ctx.height}.png"))
    return page.evaluate(MEASURE)


def row(ctx: Context, m: dict) -> str:
    missed = problems(ctx, m)
    share = f"{m['share'] * 100:3.0f} % (≥ {ctx.share * 100:.0f})" if ctx.share else f"{m['share'] * 100:3.0f} %        "
    return (f"| {ctx.name:<28} | {ctx.width}×{ctx.height:<4} | {share:>14} | {m['label']:5.1f} px (≥ {ctx.label:>2}) | "
            f"{m['median']:5.1f} px | {'met' if not missed else 'MISSED: ' + '; '.join(missed)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", type=Path, help="save a screenshot of each context here")
    parser.add_argument("--base", help="measure a server already running at this URL instead of starting one")
    args = parser.parse_args()
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    with served_browser("lecture", args.base) as (browser, base):
        print(f"{machine(browser)}; server {base}")
        print("| context | viewport | diagram share | smallest label | median label | targets |")
        print("|---|---|---|---|---|---|")
        page = browser.new_page()
        for ctx in CONTEXTS:
            print(row(ctx, measure(page, base, ctx, args.shots)), flush=True)
        lessons = json.loads(urllib.request.urlopen(base + "/api/lessons").read())["lessons"]
        stops = []
        for lesson in lessons:
            for stop in range(1, lesson["stops"] + 1):
                ctx = Context(f"{lesson['name']} stop {stop}, presenter", f"{lesson['url']}?stop={stop}&presenter=true", 1024, 768,
                              share=0.50, label=14)
                stops.append((ctx, measure(page, base, ctx, None)))
                if problems(*stops[-1]):
                    print(row(*stops[-1]), flush=True)
        least = {k: min(m[k] for _, m in stops) for k in ("share", "label", "median")}
        summary = {**stops[0][1], **least, "outside": [o for _, m in stops for o in m["outside"]]}
        print(row(Context(f"all {len(stops)} lesson stops, presenter (least of each)", "", 1024, 768, share=0.50, label=14), summary))
        page.close()


if __name__ == "__main__":
    main()
