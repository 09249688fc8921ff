"""The notebook widget's front end (static/widget.js, and static/core/kernel.js inside its page) against the real
Python side (gatescope.widget.Viewer), with Jupyter left out: a fake anywidget model ({get, set, on, off, send,
save_changes}) whose send() calls the Viewer's own handler in this process (Playwright's expose_function) and hands
its answers back as anywidget does (custom messages with their binary buffers, state changes as change: events). No
server, no network: the page, the rows and the still all come from the Viewer."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

pytest.importorskip("anywidget")

from gatescope import cells  # noqa: E402
from gatescope import widget as widget_module  # noqa: E402

from .conftest import ROOT  # noqa: E402

ORIGIN = "http://widget.test"  # answered by the test itself (page.route): no server behind it
HOST = """<!doctype html><meta charset="utf-8"><title>a notebook</title><body><div id="cell-output"></div>
<script type="module">
import widget from "/widget.js";
const data = await (await fetch("/model.json")).json();
const handlers = {};
const emit = (event, ...args) => { for (const fn of handlers[event] ?? []) fn(...args); };
const bytes = (b64) => new DataView(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
// the kernel's answers as anywidget delivers them: custom messages (buffers as DataViews), then state changes
const apply = (answers) => {
  for (const a of answers ?? []) {
    if (a.state) { Object.assign(data, a.state); for (const name of Object.keys(a.state)) emit(`change:${name}`); }
    else emit("msg:custom", a.content, a.buffers.map(bytes));
  }
};
const changed = new Set();
// anywidget's model, as far as a widget's render uses it
const model = {
  get: (name) => data[name],
  on: (event, fn) => { (handlers[event] ??= []).push(fn); },
  off: (event, fn) => { handlers[event] = (handlers[event] ?? []).filter((f) => f !== fn); },
  set: (name, value) => { data[name] = value; changed.add(name); },
  save_changes() { const state = Object.fromEntries([...changed].map((n) => [n, data[n]])); changed.clear(); window.sync?.(state).then(apply); },
  send(content) { window.kernel?.(content).then(apply); },
};
window.fakeModel = model;
window.cleanup = widget.render({ model, el: document.getElementById("cell-output") });
</script>"""


def connect(tab, viewer, kernel: bool = True) -> list[str]:
    """The host page, the widget's module and the Viewer's synced state at ORIGIN, and the Viewer as its kernel
    (unless kernel is False: a notebook opened with no kernel); everything else refused (and listed)."""
    refused: list[str] = []
    state = viewer.get_state()
    files = {"/": ("text/html", HOST), "/widget.js": ("text/javascript", (ROOT / "static" / "widget.js").read_text()),
             "/model.json": ("application/json", json.dumps({k: state[k] for k in ("_still", "sequences", "sequence", "height")}))}
    if kernel:
        sent: list[dict] = []
        viewer.send = lambda content, buffers=None: sent.append(
            {"content": content, "buffers": [base64.b64encode(bytes(b)).decode() for b in buffers or []]})

        def answer(content):
            sent.clear()
            viewer._answer(viewer, content, [])
            return list(sent)

        def sync(changes):
            before = viewer._still
            for name, value in changes.items():
                setattr(viewer, name, value)
            return [{"state": {"_still": viewer._still}}] if viewer._still != before else []
        tab.page.expose_function("kernel", answer)
        tab.page.expose_function("sync", sync)

    def route(r):
        path = r.request.url[len(ORIGIN):] or "/"
        if r.request.url.startswith(ORIGIN) and path in files:
            kind, text = files[path]
            return r.fulfill(status=200, content_type=kind, body=text)
        refused.append(r.request.url)
        r.abort()
    tab.page.context.route("**/*", route)
    return refused


def frame_until(tab, expression: str, what: str, timeout: float = 60):
    """Poll ``expression`` in the widget's frame until it is truthy. A wait, not a measure: the deadline only bounds a
    failure, generously for a loaded machine."""
    for _ in range(max(1, int(timeout / 0.05))):  # a number of polls, not a clock: a busy machine polls slower, not less
        el = tab.page.query_selector("#cell-output iframe.gatescope-widget")
        frame = el.content_frame() if el else None
        try:
            if frame and frame.evaluate(expression):
                return frame
        except Exception:  # noqa: BLE001 - the frame is between documents
            pass
        tab.page.wait_for_timeout(50)
    raise AssertionError(f"{what} after {int(timeout / 0.05)} polls 50 ms apart; page errors: {tab.errors}")


def test_the_widget_shows_its_still_then_draws_the_page_from_the_kernels_stream(tab):
    model = cells.build("gru", 2, 6, num_layers=2)
    xs = np.random.default_rng(1).standard_normal((9, 2))
    viewer = widget_module.Viewer(model, [given(xs)], widget_module.view_state({"step": 2}))
    refused = connect(tab, viewer)
    tab.page.goto(ORIGIN + "/")
    assert tab.page.wait_for_selector("#cell-output .gatescope-still svg", state="attached")  # the still, at once
    frame = frame_until(tab, "Boolean(document.querySelector('#diagram .cell[data-value]') && document.body.dataset.step)",
                        "the widget drew no diagram")
    tab.page.wait_for_selector("#cell-output iframe.gatescope-widget", state="visible")  # the page took the still's place
    assert not tab.page.is_visible("#cell-output .gatescope-still-box")
    assert frame.evaluate("document.body.dataset.step") == "2" and frame.evaluate("window.gatescope.trace.steps") == 9
    assert frame.evaluate("document.getElementById('model-title').textContent").startswith("GRU: input 2, hidden 6, 2 layers · layer 2 of 2")
    assert frame.evaluate("document.querySelector('.standalone-note').hidden")  # the file's own note is not the notebook's
    top = viewer.trace.layer(1)["h"][2]
    assert frame.evaluate("Array.from(document.querySelectorAll(\"#diagram .strip[data-name='h'] .cell\"), (c) => Number(c.dataset.value))") \
        == pytest.approx(top.astype(np.float32).tolist(), abs=1e-6)
    frame.click("#diagram")  # the keys go to the focused frame, as in a notebook's output
    tab.page.keyboard.press("ArrowRight")
    frame_until(tab, "document.body.dataset.step === '3'", "ArrowRight did not step the widget to 3")
    frame.select_option("[data-control=layer]", "0")  # another stream of the same run, answered by the kernel
    frame = frame_until(tab, "window.gatescope.trace.header.layer === 0 && window.gatescope.trace.complete", "layer 1 of 2 shown")
    assert frame.evaluate("document.getElementById('message').hidden")
    tab.shot()
    assert tab.js("typeof window.cleanup") == "function"
    assert not refused, f"the widget asked for {refused}"
    assert not tab.errors


def given(xs) -> widget_module.Given:
    from gatescope.app.inputs import Parsed
    return widget_module.Given(f"{xs.shape} array", "numbers", Parsed(xs, [f"{v[0]:.3g}" for v in xs]))


def test_a_batchs_picker_shows_another_sequence(tab):
    model = cells.build("lstm", 2, 4, seed=1)
    rng = np.random.default_rng(2)
    batch = [given(rng.standard_normal((9, 2))), given(rng.standard_normal((4, 2)))]
    viewer = widget_module.Viewer(model, batch, widget_module.view_state({"step": 1}), names=["0 · 9 steps", "1 · 4 steps"])
    connect(tab, viewer)
    tab.page.goto(ORIGIN + "/")
    frame_until(tab, "window.gatescope?.trace?.steps === 9 && Boolean(document.querySelector('#diagram .cell[data-value]'))", "sequence 0")
    assert tab.page.inner_text("#cell-output select.gatescope-sequence").split("\n") == ["0 · 9 steps", "1 · 4 steps"]
    tab.page.select_option("#cell-output select.gatescope-sequence", "1")
    frame_until(tab, "window.gatescope?.trace?.steps === 4 && document.body.dataset.step === '1'", "sequence 1 drawn")
    assert viewer.sequence == 1 and "sequence 1 of 2" in tab.page.inner_html("#cell-output .gatescope-still-box")
    assert not tab.errors


def test_with_no_kernel_the_still_stays(tab):
    """A notebook opened from its file renders the widget from its saved state: nothing answers, the still shows."""
    viewer = widget_module.Viewer(cells.build("gru", 2, 3), [given(np.ones((5, 2)))], widget_module.view_state({}))
    connect(tab, viewer, kernel=False)
    tab.page.goto(ORIGIN + "/")
    tab.page.wait_for_selector("#cell-output .gatescope-still svg", state="visible")
    tab.page.wait_for_timeout(500)
    assert tab.page.is_visible("#cell-output .gatescope-still svg")
    assert tab.js("getComputedStyle(document.querySelector('#cell-output iframe')).visibility") == "hidden"


def test_a_notebook_that_refuses_blob_frames_gets_the_page_as_srcdoc(tab):
    """The widget loads its page as a blob: URL (parsed as it streams in); a notebook whose policy refuses blob: frames
    gets it as srcdoc."""
    global HOST
    plain = HOST
    HOST = HOST.replace('<meta charset="utf-8">', '<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="frame-src \'self\'">')
    try:
        viewer = widget_module.Viewer(cells.build("gru", 2, 3), [given(np.ones((5, 2)))], widget_module.view_state({}))
        connect(tab, viewer)
        tab.page.goto(ORIGIN + "/")
        frame_until(tab, "Boolean(document.querySelector('#diagram .cell[data-value]'))", "the widget drew nothing when blob: frames are refused")
        assert tab.page.eval_on_selector("#cell-output iframe.gatescope-widget", "(f) => f.hasAttribute('srcdoc')")
    finally:
        HOST = plain
