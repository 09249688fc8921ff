"""The page and its embed twin load cleanly, draw, and talk to nobody but the app."""

from urllib.parse import urlsplit

import pytest

VIEWS = {
    "default": "/",                                           # the default preset
    "lstm": "/?kind=lstm&input=hello",
}  # and /embed, in test_embed_draws_the_views_without_the_header


@pytest.mark.parametrize("path", VIEWS.values(), ids=VIEWS.keys())
def test_loads_without_console_errors(tab, path):
    tab.open(path)
    tab.until("document.querySelector('#diagram .cell') && document.querySelectorAll('#heatmaps image').length",
              what="the diagram and the heatmaps are drawn")
    assert tab.js("window.gatescope.trace.steps") > 0
    assert tab.js("document.getElementById('message').hidden")
    if path == "/":  # the default view is a trained preset
        assert tab.js("document.querySelector('[data-control=\"source\"]').value").startswith("preset:")
        assert tab.js("window.gatescope.trace.header.model.card.title")
    assert tab.console == [] and tab.errors == []


def test_every_request_stays_on_the_apps_origin(tab):
    origin = urlsplit(tab.base)
    tab.open("/")  # the default preset
    tab.press("ArrowRight")
    tab.page.select_option('[data-control="source"]', "kind:gru")  # a new kind: its description, a new stream
    tab.until("window.gatescope.ready && window.gatescope.trace.header.model.kind === 'gru'", what="the GRU run")
    steps = tab.js("window.gatescope.trace.steps")
    tab.page.click('[data-control="input"]')
    tab.page.keyboard.press("End")
    tab.page.keyboard.type("ab")  # more text: the open WebSocket extends the run
    tab.until("(n) => window.gatescope.trace.steps === n", steps + 2, what="the extended run")
    assert tab.requests and tab.sockets
    for url in tab.requests:
        parts = urlsplit(url)
        if parts.scheme == "data":  # inline, never on the network
            continue
        assert (parts.scheme, parts.netloc) == ("http", origin.netloc), url
    for url in tab.sockets:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("ws", origin.netloc), url


def test_embed_draws_the_views_without_the_header(tab):
    tab.open("/embed?kind=gru&input=0.5,-1,2,0&input_type=numbers&step=2")
    assert tab.js("document.querySelectorAll('#diagram .cell').length") > 0
    assert tab.js("Boolean(document.querySelector('#diagram .strip[data-name=reset_gate]'))")
    assert tab.js("document.querySelectorAll('#tokens .token').length") == 4
    assert tab.step == 2
    assert tab.js("document.querySelector('header.top')") is None
    for control in ("source", "input", "input-type", "upload", "copy-link", "copy-embed", "export-png", "palette", "presenter"):
        assert tab.js(f"document.querySelector('[data-control=\"{control}\"]')") is None, control
    assert tab.js("document.body.classList.contains('embed')")
    assert tab.console == [] and tab.errors == []
