"""The notebook widget's front end (static/widget.js) rendered against a fake anywidget model ({get, on, off}) in a
page with no server and no network: it draws the diagram in its frame, plays with the page's keys, and redraws when
the model's payload changes."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from gatescope import cells
from gatescope.app import standalone
from gatescope.app.config import Settings

from .conftest import ROOT

ORIGIN = "http://widget.test"  # answered by the test itself (page.route): no server behind it
HOST = """<!doctype html><meta charset="utf-8"><title>a notebook</title><body><div id="cell-output"></div>
<script type="module">
import widget from "/widget.js";
const data = await (await fetch("/model.json")).json();
const handlers = {};
// anywidget's model, as far as a widget's render uses it: get, on, off (and set/save_changes, unused here)
const model = {
  get: (name) => data[name],
  on: (event, fn) => { (handlers[event] ??= []).push(fn); },
  off: (event, fn) => { handlers[event] = (handlers[event] ?? []).filter((f) => f !== fn); },
  set: (name, value) => { data[name] = value; for (const fn of handlers[`change:${name}`] ?? []) fn(); },
  save_changes() {},
  send() {},
};
window.fakeModel = model;
window.cleanup = widget.render({ model, el: document.getElementById("cell-output") });
</script>"""


@pytest.fixture(scope="module")
def widget_model() -> dict:
    """What gatescope.widget.Viewer syncs, for a small GRU on a few steps."""
    model = cells.build("gru", 2, 6, seed=2)
    body = standalone.payload(model, np.random.default_rng(1).standard_normal((9, 2)), {"step": 2})
    other = standalone.payload(model, np.ones((4, 2)), {"step": 1})
    return {"_shell": standalone.shell(), "_config": standalone.config_for(body["state"], Settings()), "payload": body, "height": 700,
            "other": other, "other_config": standalone.config_for(other["state"], Settings())}


def serve_fake(tab, widget_model) -> list[str]:
    """The host page, the widget's module and the model at ORIGIN; everything else refused (and listed)."""
    refused: list[str] = []
    files = {"/": ("text/html", HOST), "/widget.js": ("text/javascript", (ROOT / "static" / "widget.js").read_text()),
             "/model.json": ("application/json", json.dumps(widget_model))}

    def answer(route):
        path = route.request.url[len(ORIGIN):] or "/"
        if route.request.url.startswith(ORIGIN) and path in files:
            kind, text = files[path]
            return route.fulfill(status=200, content_type=kind, body=text)
        refused.append(route.request.url)
        route.abort()
    tab.page.context.route("**/*", answer)
    return refused


def frame_until(tab, frame_of, expression: str, what: str, timeout: float = 60):
    """Poll ``expression`` in the widget's frame (``frame_of()``: None until the frame has a document) until it is truthy.
    A wait, not a measure: the deadline only bounds a failure, generously for a loaded machine."""
    deadline = time.monotonic() + timeout
    while True:
        frame = frame_of()
        if frame and frame.evaluate(expression):
            return
        assert time.monotonic() < deadline, f"{what} within {timeout:g} s"
        tab.page.wait_for_timeout(50)  # (Playwright answers the page's requests meanwhile; time.sleep would not)


def test_the_widget_draws_the_page_in_its_frame_and_plays(tab, widget_model):
    refused = serve_fake(tab, widget_model)
    tab.page.goto(ORIGIN + "/")
    frame_el = tab.page.wait_for_selector("#cell-output iframe.gatescope-widget", timeout=60_000)
    assert frame_el.evaluate("(f) => f.style.height") == "700px"
    frame = frame_el.content_frame()
    step = lambda: frame.evaluate("document.body.dataset.step")
    frame_until(tab, lambda: frame, "Boolean(document.querySelector('#diagram svg .strip') && document.body.dataset.step)",
                "the widget drew no diagram")
    assert step() == "2"
    assert frame.evaluate("window.gatescope.trace.steps") == 9
    assert frame.evaluate("document.getElementById('model-title').textContent").startswith("GRU")
    assert frame.evaluate("document.querySelector('.standalone-note').hidden")  # the file's own note is not the notebook's
    frame.click("#diagram")  # the keys go to the focused frame, as in a notebook's output
    tab.page.keyboard.press("ArrowRight")
    frame_until(tab, lambda: frame, "document.body.dataset.step === '3'", "ArrowRight did not step the widget to 3")
    tab.shot()
    # a new payload (the Python side set widget.payload) draws the new run
    tab.js("(m) => { window.fakeModel.set('_config', m.other_config); window.fakeModel.set('payload', m.other); }", widget_model)
    frame = tab.page.wait_for_selector("#cell-output iframe.gatescope-widget", timeout=60_000).content_frame()
    frame_until(tab, lambda: frame, "window.gatescope?.trace?.steps === 4 && document.body.dataset.step === '1'", "the new payload was not drawn")
    assert tab.js("typeof window.cleanup") == "function"
    assert not refused, f"the widget asked for {refused}"
    assert not tab.errors


def test_a_notebook_that_refuses_blob_frames_gets_the_page_as_srcdoc(tab, widget_model):
    """The widget loads its page as a blob: URL (parsed as it streams in: 0.9 s to the diagram against 3.5 s for a
    2 MB srcdoc, bench/bench_notebook.py); a notebook whose policy refuses blob: frames gets it as srcdoc."""
    global HOST
    plain = HOST
    HOST = HOST.replace('<meta charset="utf-8">', '<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="frame-src \'self\'">')
    try:
        serve_fake(tab, widget_model)
        tab.page.goto(ORIGIN + "/")
        frame_el = tab.page.wait_for_selector("#cell-output iframe.gatescope-widget", timeout=60_000)
        frame_until(tab, frame_el.content_frame, "Boolean(document.querySelector('#diagram .cell[data-value]'))",
                    "the widget drew nothing when blob: frames are refused")
        assert frame_el.evaluate("(f) => f.hasAttribute('srcdoc')")
    finally:
        HOST = plain
