"""Stacked and bidirectional runs (issue 10): time has T steps, every layer and direction can be chosen in the page,
the reverse direction is on the same time axis, and the URL holds the choice."""

import pytest

STACKED = "/?kind=lstm&layers=2&bidirectional=true&input=hello&hidden=4"
VIEWPORTS = [(1024, 768), (1280, 800), (1920, 1080)]
LABEL = "document.querySelector('[data-control=\"step\"]').textContent"


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_five_characters_are_five_steps_and_every_layer_and_direction_can_be_shown(tab, api, width, height):
    tab.page.set_viewport_size({"width": width, "height": height})
    tab.open(STACKED)
    assert tab.js(LABEL) == "t = 0 · 5 steps"  # was "step 1 / 10": the reverse run's frames were placed at t0 = 5
    assert tab.js("window.gatescope.trace.steps") == 5
    assert tab.js("document.querySelector('[data-control=\"stack\"]').hidden") is False
    assert tab.js("[...document.querySelectorAll('[data-control=\"layer\"] option')].map((o) => o.value)") == ["0", "1"]
    assert "layer 2 of 2 · forward →" in tab.page.text_content("#model-title")
    tab.page.select_option('[data-control="layer"]', "0")
    tab.until("location.search.includes('layer=0') && window.gatescope.trace.header?.layer === 0 && window.gatescope.ready",
              what="layer 1 in the URL and the run")
    tab.page.select_option('[data-control="direction"]', "1")
    tab.until("location.search.includes('direction=1') && window.gatescope.trace.header?.direction === 1 && window.gatescope.ready",
              what="the reverse direction in the URL and the run")
    assert "layer 1 of 2 · reverse ←" in tab.page.text_content("#model-title")
    tab.press("End")
    # the reverse direction on the forward time axis: step 4 is the state after reading only "o"
    status, body = api("/api/trace?kind=lstm&layers=2&bidirectional=true&input=hello&hidden=4&layer=0&direction=1&names=c&digits=9")
    assert status == 200
    assert tab.diagram("c") == pytest.approx(body["values"]["c"][4], abs=1e-4)
    assert tab.js("document.getElementById('caption').textContent").startswith("t = 4") and "read from the end" in \
        tab.js("document.getElementById('caption').textContent")
    tab.shot(f"-{width}x{height}")


def test_the_link_reopens_the_layer_and_direction(tab):
    tab.open(f"{STACKED}&layer=0&direction=1&step=2")
    picked = "['layer', 'direction'].map((n) => document.querySelector(`[data-control=${n}]`).value)"
    assert tab.js(picked) == ["0", "1"]
    assert tab.step == 2 and tab.js("window.gatescope.trace.header.layer") == 0
    # a model of one layer: the choice goes, and the state forgets it
    tab.menu("layers")
    tab.page.fill('[data-control="layers"]', "1")
    tab.page.press('[data-control="layers"]', "Tab")
    tab.until("window.gatescope.trace.header?.model.num_layers === 1 && window.gatescope.ready", what="one layer")
    assert tab.js("window.gatescope.state.layer") == -1
    assert tab.js("document.querySelector('[data-control=\"layer\"]').closest('label').hidden")


def test_a_single_layer_model_has_no_picker(tab):
    tab.open("/?kind=gru&input=abc")
    assert tab.js("document.querySelector('[data-control=\"stack\"]').hidden")
