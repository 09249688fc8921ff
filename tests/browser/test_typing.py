"""Typing in the input box: the run follows the text, every view is redrawn, and the text stays text."""

from urllib.parse import quote

import pytest

INPUT = '[data-control="input"]'
# (not window.gatescope.ready: see test_the_status_line_counts_the_steps_typing_added)
TYPED = ("window.gatescope.trace.tokens.join('') === text && window.gatescope.trace.steps === text.length"
         " && document.querySelectorAll('#tokens .token').length === text.length"
         " && document.getElementById('heatmaps').data.every((d) => d.z[0].length === text.length)")


def type_into(tab, text: str, delay: float) -> None:
    tab.page.click(INPUT)
    tab.page.fill(INPUT, "")
    tab.page.keyboard.type(text, delay=delay)
    tab.until(f"((text) => {TYPED})", text, what=f"the views of {text!r}")


# at once: one debounced rerun; key by key (slower than the 220 ms debounce): each key extends the open stream
@pytest.mark.parametrize("delay", [0, 300], ids=["at-once", "key-by-key"])
def test_typing_hello_gives_five_steps_in_every_view(tab, api, delay):
    tab.open("/?kind=lstm&input=xy")
    type_into(tab, "hello", delay)
    status, trace = api("/api/trace?kind=lstm&input=hello&names=forget&digits=9")
    assert status == 200
    assert tab.js("[...document.querySelectorAll('#tokens .token')].map((s) => s.textContent)") == list("hello")
    for key in (None, "End"):  # the shown step, then the last one (computed by the last keystroke's stream)
        if key:
            tab.press(key)
        t = tab.step
        shown = tab.diagram("forget_gate")
        assert shown == pytest.approx(trace["values"]["forget_gate"][t], abs=1e-4), f"step {t}"
        assert tab.js("document.querySelector('#tokens .token.current').dataset.t") == str(t)
    assert tab.step == 4
    # the heatmaps sample a window ahead (their z may hold the new step before their axis shows it): the axis catches up
    tab.until("JSON.stringify(document.getElementById('heatmaps').layout.xaxis.ticktext) === JSON.stringify([...'hello'])",
              what="the heatmaps' step axis reading hello")


def test_the_status_line_counts_the_steps_typing_added(tab):
    tab.open("/?kind=lstm&input=hel")
    tab.page.click(INPUT)
    tab.page.keyboard.press("End")
    tab.page.keyboard.type("lo", delay=500)  # each key extends the open stream (once the last extension is back)
    tab.until(f"((text) => {TYPED})", "hello", what="the views of 'hello'")
    assert len(tab.sockets) == 1  # extended, not rerun
    tab.page.wait_for_timeout(150)
    # the view followed the typing to the newest step (it stayed at t = 0 before issue 10)
    assert tab.until("document.querySelector('[data-control=\"step\"]').textContent === 't = 4 · 5 steps'")
    assert tab.js("document.getElementById('status').textContent").startswith("5 steps")
    assert tab.js("window.gatescope.ready")


PAYLOAD = "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize("how", ["typed", "from-the-link"])
def test_markup_in_the_input_is_shown_as_text(tab, how):
    if how == "typed":
        tab.open("/?kind=lstm&input=ab")
        type_into(tab, PAYLOAD, 0)
    else:
        tab.open("/?kind=lstm&input=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    shown = [("␣" if c == " " else c) for c in PAYLOAD]
    tab.until(f"((text) => {TYPED})", PAYLOAD, what="the payload's views")
    assert tab.page.input_value(INPUT) == PAYLOAD
    assert tab.js("[...document.querySelectorAll('#tokens .token')].map((s) => s.textContent)") == shown
    assert tab.js("[...document.querySelectorAll('#heatmaps .xtick text')].map((t) => t.textContent)") == shown
    # typed text is shown at its newest step (issue 10), a link at the step it names; the other key goes to the other end
    first, key, last = ('">"', "Home", '"<"') if how == "typed" else ('"<"', "End", '">"')
    assert tab.js("document.getElementById('caption').textContent").endswith(f"input {first}")
    tab.press(key)
    assert tab.js("document.getElementById('caption').textContent").endswith(f"input {last}")
    tab.page.wait_for_timeout(200)  # an onerror handler would have run by now
    assert tab.js("document.querySelectorAll('img, [onerror]').length") == 0
    assert tab.dialogs == []


# What the charts, the tokens and the caption draw: a page typed into against one opened on the same text.
DRAWN = """() => {
  const $ = (id) => document.getElementById(id), round = (a) => Array.from(a, (v) => Math.round(v * 1e5) / 1e5);
  return { heatmaps: $('heatmaps').data.map((d) => d.z.map(round)), heatmaps_x: $('heatmaps').layout.xaxis.range,
    steps: $('heatmaps').layout.xaxis.ticktext, lines: $('lines').data.map((d) => [round(d.x), round(d.y)]),
    lines_x: $('lines').layout.xaxis.range, lines_y: $('lines').layout.yaxis.range,
    predictions: $('predictions').data.map((d) => [round(d.x), d.y]),
    tokens: [...document.querySelectorAll('#tokens .token')].map((s) => s.textContent),
    current: document.querySelector('#tokens .token.current').dataset.t, caption: $('caption').textContent };
}"""
CAUGHT_UP = """(n) => { const $ = (id) => document.getElementById(id);
  return window.gatescope.trace.steps === n && document.body.dataset.step === String(n - 1)
    && $('heatmaps').layout.xaxis.range[1] >= n - 1 && $('lines').data[0].x.at(-1) === n - 1; }"""


def test_the_charts_catch_up_with_the_typed_text_once_typing_pauses(tab):
    """Typed at a person's pace, the heatmaps, the lines and the predictions wait for a pause in the typing (issue 17: no
    redraw of the grown run per key); then every view shows what a page opened on the whole text shows."""
    start, more = "the cat sat on the mat", " and the dog ran"
    text = start + more
    tab.open(f"/?preset=charlm-lstm&input={quote(start)}")
    tab.page.click(INPUT)
    tab.page.keyboard.press("End")
    tab.page.keyboard.type(more, delay=80)
    tab.until(CAUGHT_UP, len(text), what="the charts of the whole text")
    tab.page.wait_for_timeout(500)  # nothing more is drawn
    typed = tab.js(DRAWN)
    assert len(tab.sockets) == 1  # each key extended the run
    tab.open(f"/?preset=charlm-lstm&input={quote(text)}&step={len(text) - 1}")
    tab.until(CAUGHT_UP, len(text), what="the charts of the page opened on it")
    tab.page.wait_for_timeout(500)
    assert typed == tab.js(DRAWN)
    assert tab.errors == []
