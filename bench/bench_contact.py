"""What a student feels first: typing, long playback, and what the page fetches (the first drawn diagram: bench_page.py).

    python bench/bench_contact.py [--only typing|playback|bytes]

Headless Chromium (the browser tests' launcher and server, tests/browser/conftest.py). Prints, each with a
reference measured in the same run:
  1. typing: one character typed at the end of a 2,000-character text on charlm-lstm, from the key to its
     step being in the trace and painted (the next animation frame); target 50 ms; and the longest task on the
     page's main thread while typing (the heatmaps' and lines' redraw of the grown run: a key typed during it
     waits for it); and a sentence typed at a steady ten characters a second (keys do not wait to be drawn).
     Reference: the same on a random 4-unit RNN with a 20-character text.
  2. playback of a 5,000-step LSTM with hidden 256 at speed 60: frames per second while playing, against the
     same page's idle frame rate (what the headless compositor gives).
  3. bytes per step the page fetches for a 1,000-character charlm-lstm trace over /ws/trace (binary float32
     frames), against the JSON twin of the same view (GET /api/trace).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from _browser import machine, served_browser, wait  # noqa: E402
from browser.conftest import VIEWPORT  # noqa: E402

TYPING_MS, FPS = 50, 30
STEADY_MS = 100  # a quick typist: ten characters a second
TEXT = ("it is a truth universally acknowledged, that a single man in possession of a good fortune, "
        "must be in want of a wife. ")

# Type one character and time it to the frame after its step is in the trace (the page's own handlers run).
TYPE_ONE = """(ch) => new Promise((resolve) => {
  const box = document.querySelector('[data-control="input"]');
  const trace = window.gatescope.trace, before = trace.steps;
  const t0 = performance.now();
  box.value += ch;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  const check = () => {
    if (trace.steps > before) requestAnimationFrame(() => resolve({ ms: performance.now() - t0, step: document.body.dataset.step,
                                                                     last: trace.steps - 1 }));
    else requestAnimationFrame(check);
  };
  check();
})"""

# A typist at a steady pace: one character every `every` ms, whether or not the last is drawn; each key's time from
# when it was due (a key pressed during a long task waits for it) to the frame after its step is in the trace.
TYPE_BURST = """({ text, every }) => new Promise((resolve) => {
  const box = document.querySelector('[data-control="input"]');
  const trace = window.gatescope.trace, before = trace.steps, t0 = performance.now() + 20, n = text.length;
  const due = Array.from({ length: n }, (_, i) => t0 + i * every), arrived = Array(n).fill(false), painted = Array(n).fill(null);
  [...text].forEach((ch, i) => setTimeout(() => { box.value += ch; box.dispatchEvent(new Event('input', { bubbles: true })); },
                                          due[i] - performance.now()));
  const frame = () => {
    const now = performance.now();
    for (let i = 0; i < n; i++) if (arrived[i] && painted[i] === null) painted[i] = now;
    for (let i = 0; i < Math.min(n, trace.steps - before); i++) arrived[i] = true;
    if (painted.every((p) => p !== null) || now - t0 > 30000) resolve(painted.map((p, i) => (p === null ? 1e9 : p - due[i])));
    else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})"""

# Every task over 50 ms on the page's main thread (the Long Tasks API), kept for typing() to read.
LONG_TASKS = """window.__longTasks = [];
new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries())).observe({ type: 'longtask', buffered: true });"""

IDLE_FPS = """() => new Promise((resolve) => {
  const times = [];
  const tick = (now) => { times.push(now); if (times.length < 61) requestAnimationFrame(tick); else resolve(1000 * 60 / (times[60] - times[0])); };
  requestAnimationFrame(tick);
})"""



def open_page(browser, base: str, path: str, init: str | None = None):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    if init:
        page.add_init_script(init)
    page.goto(base + path)
    wait(page, "document.body.dataset.ready === '1'")
    return context, page


def typing(browser, base: str, path: str, runs: int) -> tuple[list[float], bool, float, list[float]]:
    """Each key's time, whether the view followed it, the longest main-thread task from the first key to 0.5 s after the
    last, and each key's time when a sentence is typed at a steady STEADY_MS a key."""
    context, page = open_page(browser, base, path, LONG_TASKS)
    page.wait_for_timeout(300)
    times, followed = [], True
    since = page.evaluate("performance.now()")
    for i in range(runs):
        r = page.evaluate(TYPE_ONE, "etaoin"[i % 6])
        times.append(r["ms"])
        followed = followed and r["step"] == str(r["last"])
        page.wait_for_timeout(150)  # past the page's typing debounce, so each key is measured alone
    page.wait_for_timeout(500)  # the views' last redraw of the grown run
    longest = page.evaluate("(t) => Math.max(0, ...window.__longTasks.filter((e) => e.startTime >= t).map((e) => e.duration))", since)
    steady = page.evaluate(TYPE_BURST, {"text": "the cat sat on the mat", "every": STEADY_MS})
    context.close()
    return times, followed, longest, steady


def playback(browser, base: str, seconds: float) -> dict:
    path = "/?kind=lstm&hidden=256&input=sine%205000&input_type=signal&speed=60&phases=false"
    context, page = open_page(browser, base, path)
    wait(page, "window.gatescope.trace.steps === 5000 && window.gatescope.trace.complete", 120)
    page.wait_for_timeout(500)
    idle = page.evaluate(IDLE_FPS)
    start = page.evaluate("window.gatescope.player.frames.length")
    page.evaluate("window.gatescope.player.play()")
    page.wait_for_timeout(seconds * 1000)
    frames = page.evaluate("(n) => { window.gatescope.player.pause(); return window.gatescope.player.frames.slice(n); }", start)
    context.close()
    fps = 1000 * (len(frames) - 1) / (frames[-1] - frames[0]) if len(frames) > 1 else 0.0
    return {"fps": fps, "idle": idle, "frames": len(frames)}


def fetched_bytes(base: str, chars: int) -> dict:
    """Bytes of the binary stream (frames as the page receives them) and of the JSON twin, for one view."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    text = (TEXT * (chars // len(TEXT) + 1))[:chars]
    query = f"preset=charlm-lstm&input={quote(text)}"
    with urllib.request.urlopen(f"{base}/api/trace?{query}", timeout=120) as r:
        json_bytes = len(r.read())
    streamed, steps = 0, 0
    with TestClient(create_app()) as client, client.websocket_connect(f"/ws/trace?{query}") as ws:
        while True:
            msg = ws.receive()
            data = msg.get("bytes") or (msg.get("text") or "").encode()
            streamed += len(data)
            if msg.get("text") and json.loads(msg["text"]).get("type") == "summary":
                steps = json.loads(msg["text"])["steps"]
                break
    return {"stream": streamed, "json": json_bytes, "steps": steps}


def print_typing(browser, base: str, runs: int) -> None:
    long_text = quote((TEXT * 20)[:2000])
    big, followed, longest, steady = typing(browser, base, f"/?preset=charlm-lstm&input={long_text}", runs)
    small, _, _, steady_small = typing(browser, base, f"/?kind=rnn&hidden=4&input={quote(TEXT[:20])}", runs)
    b, s = statistics.median(big), statistics.median(small)
    print(f"1. typing one character after 2,000 on charlm-lstm: {b:.0f} ms median of {len(big)} (slowest {max(big):.0f} ms; "
          f"{b / TYPING_MS:.2f} of the {TYPING_MS} ms target, {'met' if b <= TYPING_MS else 'MISSED'}); "
          f"the view {'follows' if followed else 'does NOT follow'} the newest step; the longest task while typing "
          f"(the views' redraw of the grown run, which a next key waits for): {longest:.0f} ms; "
          f"reference, 20 characters on a 4-unit RNN: {s:.0f} ms")
    print(f"   typing {len(steady)} characters at one every {STEADY_MS} ms after the 2,000: {statistics.median(steady):.0f} ms median, "
          f"slowest {max(steady):.0f} ms, from each key to its step painted; reference, the same on the 4-unit RNN: "
          f"{statistics.median(steady_small):.0f} ms median, slowest {max(steady_small):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="typed characters per page (median), and page loads (3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to play for the fps figure")
    parser.add_argument("--only", choices=["typing", "playback", "bytes"], help="measure only this figure")
    args = parser.parse_args()
    wanted = (lambda name: args.only in (None, name))
    with served_browser("contact") as (browser, base):
        print(machine(browser))
        if wanted("typing"):
            print_typing(browser, base, args.runs)
        if wanted("playback"):
            r = playback(browser, base, args.seconds)
            print(f"2. playing 5,000 steps of an LSTM, hidden 256, at speed 60: {r['fps']:.1f} fps over {r['frames']} frames; "
                  f"reference, the same page idle: {r['idle']:.1f} fps ({r['fps'] / r['idle']:.2f} of it; target {FPS} fps: "
                  f"{'met' if r['fps'] >= FPS else 'MISSED'})")
        if wanted("bytes"):
            f = fetched_bytes(base, 1000)
            print(f"3. a 1,000-character charlm-lstm view: the stream sends {f['stream'] / f['steps']:,.0f} bytes per step "
                  f"({f['stream'] / 1e6:.2f} MB for {f['steps']} steps); reference, its JSON twin: {f['json'] / f['steps']:,.0f} "
                  f"bytes per step ({f['json'] / 1e6:.2f} MB), {f['json'] / f['stream']:.1f}x the stream")


if __name__ == "__main__":
    main()
