"""A view the server refuses shows the server's message, and the page stays usable.

The page's own route refuses what /api/trace refuses (same status, same message), so a refused link is answered
with the page and the message already in it; the page opens no stream until the view is changed.
"""

import pytest

MESSAGE = "document.getElementById('message')"


def buttons(tab) -> list[str]:
    return tab.js(f"[...{MESSAGE}.querySelectorAll('button')].map((b) => b.textContent)")

CASES = {
    "over-a-limit": ("kind=lstm&hidden=99999", 422),
    "unknown-kind": ("kind=bogus", 422),
    "unknown-preset": ("preset=no-such-preset", 404),
    "not-a-number": ("kind=lstm&input=1,x&input_type=numbers", 422),
    "invalid-value": ("preset=Not%20A%20Preset!", 422),   # state.js passes it on; the server's schema refuses it
}


@pytest.mark.parametrize("query, status", CASES.values(), ids=CASES.keys())
def test_a_refused_view_shows_the_servers_message(tab, api, query, status):
    code, body = api(f"/api/trace?{query}")
    assert code == status
    answer = tab.page.goto(tab.base + f"/?{query}")
    assert answer.status == status                                       # the page answers as its JSON twin does
    text = tab.until(f"!{MESSAGE}.hidden && {MESSAGE}.textContent", what="a message")
    if isinstance(body["detail"], str):
        assert tab.js(f"{MESSAGE}.querySelector('.problem').textContent") == body["detail"]
    else:  # a validation error: each problem as "field: what is wrong (got value)"
        for problem in body["detail"]:
            assert f"{problem['loc'][-1]}: {problem['msg']} (got \"{problem['input']}\")" in text, (text, problem)
    assert tab.js(f"{MESSAGE}.querySelector('a').getAttribute('href')") == "/"
    assert not tab.sockets                                               # nothing to stream until the view changes
    assert tab.js(f"{MESSAGE}.dataset.tone") == "error"
    assert tab.js(f"{MESSAGE}.getBoundingClientRect().height") > 0
    assert tab.js("document.getElementById('status').textContent") != "computing…"
    tab.press("ArrowRight")  # nothing to step through: no error either
    tab.press(" ")
    assert tab.js("document.body.dataset.ready") is None


def test_the_page_recovers_once_the_view_is_fixed(tab):
    tab.open("/?kind=lstm&hidden=99999&input=abc", ready=False)
    tab.until(f"!{MESSAGE}.hidden", what="the 413 message")
    tab.menu("hidden")
    tab.page.fill('[data-control="hidden"]', "16")
    tab.page.keyboard.press("Tab")  # commits the field: a change event
    tab.ready()
    assert tab.js(f"{MESSAGE}.hidden")
    assert tab.js("window.gatescope.trace.header.model.hidden_size") == 16
    assert len(tab.diagram("forget_gate")) == 16
    assert "hidden=16" in tab.until("location.search.includes('hidden=16') && location.search", timeout=2)


def test_an_unknown_kind_is_named_on_the_page_readably(tab, api):
    """/?kind=bogus: the message names the field, the value and what is allowed, large enough for a projector."""
    _, body = api("/api/trace?kind=bogus")
    tab.open("/?kind=bogus", ready=False)
    text = tab.until(f"!{MESSAGE}.hidden && {MESSAGE}.textContent", what="the message")
    assert text.startswith(f"kind: {body['detail'][0]['msg']} (got \"bogus\")") and "'lstm'" in text
    box = tab.js(f"(() => {{ const r = {MESSAGE}.getBoundingClientRect(); const s = getComputedStyle({MESSAGE});"
                 " return {top: r.top, width: r.width, font: parseFloat(s.fontSize), color: s.color, bg: s.backgroundColor}; })()")
    assert box["top"] < 200 and box["width"] > 600 and box["font"] >= 16   # at the top, across the page, not small print
    tab.shot()
    tab.page.click("#message a")                                         # back to the default page, which draws
    tab.ready()
    assert tab.js("location.search") == "" and tab.js(f"{MESSAGE}.hidden")


def test_compare_names_the_model_it_cannot_find(tab):
    answer = tab.page.goto(tab.base + "/compare?compare=preset:remember-rnn,preset:no-such-preset")
    assert answer.status == 404
    text = tab.until(f"!{MESSAGE}.hidden && {MESSAGE}.textContent", what="the message")
    assert text.startswith("preset:no-such-preset · preset: unknown preset 'no-such-preset'")
    assert tab.js("document.querySelectorAll('#columns .column').length") == 0 and not tab.sockets
    tab.page.select_option('select[aria-label="model 2"]', "preset:remember-gru")   # pick a model that exists
    tab.until("document.body.dataset.ready", what="the two columns", timeout=15)
    assert tab.js(f"{MESSAGE}.hidden") and tab.js("document.querySelectorAll('#columns .column').length") == 2


def test_text_typed_at_the_numbers_model_writes_no_sentinel_step_and_its_link_offers_a_text_model(tab):
    """Typing text at the default (numbers) model follows the text to its last step; the link written meanwhile
    holds no step past any input, and opened, the refused page offers what the live page offers: a text model."""
    tab.open("/")
    tab.page.fill('[data-control="input"]', "the cat sat")
    tab.page.press('[data-control="input"]', "Enter")
    tab.until(f"{MESSAGE}.dataset.tone === 'error' && !{MESSAGE}.hidden", what="the error")
    search = tab.until("location.search.includes('input=the') && location.search", what="the typed text in the URL")
    assert "step=" not in search and tab.js("window.gatescope.state.step") == 0, search  # no step: the run never had one
    live = buttons(tab)
    assert any(b.startswith("Open a text model (charlm-lstm)") for b in live), live
    answer = tab.page.goto(tab.base + f"/{search}")
    assert answer.status == 422
    refused = buttons(tab)
    assert [b for b in refused if b.startswith("Open a text model")] == [b for b in live if b.startswith("Open a text model")]
    tab.page.click("#message button:has-text('Open a text model')")
    tab.ready()
    assert tab.js("window.gatescope.state.preset") == "charlm-lstm" and tab.js(f"{MESSAGE}.hidden")
    assert "".join(tab.js("window.gatescope.trace.tokens")) == "the cat sat"


def test_typed_text_opens_at_its_last_step_and_writes_that_step(tab):
    tab.open("/?preset=charlm-lstm&input=the")
    tab.page.fill('[data-control="input"]', "a dog ran")  # not an extension: a new run, opened at its last step
    tab.page.press('[data-control="input"]', "Enter")
    tab.until("window.gatescope.trace.tokens.join('') === 'a dog ran' && window.gatescope.ready", what="the new run")
    assert tab.step == 8
    assert "step=8" in tab.until("location.search.includes('step=8') && location.search", what="the real last step in the URL")
