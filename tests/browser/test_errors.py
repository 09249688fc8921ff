"""A view the server refuses shows the server's message, and the page stays usable."""

import pytest

MESSAGE = "document.getElementById('message')"
CASES = {
    "over-a-limit": ("kind=lstm&hidden=99999", 413),
    "not-a-number": ("kind=lstm&input=1,x&input_type=numbers", 422),
    "invalid-value": ("preset=Not%20A%20Preset!", 422),   # state.js passes it on; the server's schema refuses it
}


@pytest.mark.parametrize("query, status", CASES.values(), ids=CASES.keys())
def test_a_refused_view_shows_the_servers_message(tab, api, query, status):
    code, body = api(f"/api/trace?{query}")
    assert code == status
    tab.open(f"/?{query}", ready=False)
    text = tab.until(f"!{MESSAGE}.hidden && {MESSAGE}.textContent", what="a message")
    if isinstance(body["detail"], str):
        assert text == body["detail"]
    else:  # a validation error: each problem as "field: what is wrong"
        for problem in body["detail"]:
            assert f"{problem['loc'][-1]}: {problem['msg']}" in text, (text, problem)
    assert tab.js(f"{MESSAGE}.dataset.kind") == "error"
    assert tab.js(f"{MESSAGE}.getBoundingClientRect().height") > 0
    assert tab.js("document.getElementById('status').textContent") != "computing…"
    tab.press("ArrowRight")  # nothing to step through: no error either
    tab.press(" ")
    assert tab.js("document.body.dataset.ready") is None


def test_the_page_recovers_once_the_view_is_fixed(tab):
    tab.open("/?kind=lstm&hidden=99999&input=abc", ready=False)
    tab.until(f"!{MESSAGE}.hidden", what="the 413 message")
    tab.page.fill('[data-control="hidden"]', "16")
    tab.page.keyboard.press("Tab")  # commits the field: a change event
    tab.ready()
    assert tab.js(f"{MESSAGE}.hidden")
    assert tab.js("window.gatescope.store.header.model.hidden_size") == 16
    assert len(tab.diagram("forget")) == 16
    assert "hidden=16" in tab.until("location.search.includes('hidden=16') && location.search", timeout=2)
