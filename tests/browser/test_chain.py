"""The chain over time (static/views/chain.js): a module per step around the current one, each holding its step's own
numbers (checked against GET /api/trace), the state each module hands to the next, the current step's module outlined
and moving with the step, the hand-over animated, a click that seeks, the panel kept in the URL, Chinese words with
lang=zh, text that stays legible at 1024 x 768 (and in presenter mode), and the lesson's first two stops. Every kind
the server lists is checked the same way; the page knows none by name."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from gatescope import cells

KINDS = list(cells.KINDS)  # what GET /api/kinds lists (test_the_kinds_are_the_server_s checks it)
INPUT = "hello world"

# every module the chain shows (not the spare ones off its edges, kept for the slide), with its squares' numbers
MODULES = """() => [...document.querySelectorAll('#chain .chain-module[data-shown="1"]')].map((m) => {
  const r = m.querySelector('.chain-box').getBoundingClientRect();
  return { step: Number(m.dataset.step), current: m.dataset.current === '1', box: [r.left, r.top, r.right, r.bottom],
    strips: [...m.querySelectorAll('.chain-strip')].map((g) => ({ name: g.dataset.name, role: g.dataset.role,
      units: [...g.children].map((c) => Number(c.dataset.unit)), values: [...g.children].map((c) => Number(c.dataset.value)),
      fills: [...g.children].map((c) => c.getAttribute('fill')), reached: [...g.children].map((c) => c.dataset.reached === '1') })) };
})"""

# every text of the chain with its rendered font size in pixels (the SVG's size over its viewBox, times the font size)
TEXTS = """() => { const svg = document.querySelector('#chain svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim())
    .map((t) => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale]); }"""

SECTION = "document.querySelector('[data-panel=\"chain\"]')"
DIAGRAM = "document.querySelector('[data-panel=\"diagram\"]')"
OUTLINE = """() => { const r = document.querySelector('#chain .chain-current').getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom]; }"""


def settled(tab, step: int | None = None) -> None:
    """The chain drawn, showing the page's step, and not in the middle of a hand-over."""
    tab.until("(t) => { const c = document.querySelector('#chain .chain-module[data-current=\"1\"]');"
              " return c && c.dataset.step === (t === null ? document.body.dataset.step : String(t))"
              " && document.getElementById('chain').dataset.moving !== '1'; }", step, what=f"the chain settled at step {step}")


def modules(tab) -> list[dict]:
    return tab.js(MODULES)


def kind_info(api, kind: str) -> dict:
    status, kinds = api("/api/kinds")
    assert status == 200
    return next(k for k in kinds if k["name"] == kind)


def test_the_kinds_are_the_server_s(api):
    status, kinds = api("/api/kinds")
    assert status == 200 and [k["name"] for k in kinds] == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_each_module_holds_its_step_s_numbers_and_hands_its_state_on(tab, api, kind):
    query = f"kind={kind}&input={INPUT.replace(' ', '%20')}"
    tab.open(f"/?{query}&panels=chain,tokens&step=5&phases=false")
    settled(tab, 5)
    status, body = api(f"/api/trace?{query}&digits=9")
    assert status == 200
    values = body["values"]
    shown = modules(tab)
    steps = [m["step"] for m in shown]
    assert 3 <= len(shown) <= 7 and steps == list(range(steps[0], steps[0] + len(shown))) and 5 in steps, steps
    assert [m["step"] for m in shown if m["current"]] == [5]
    info = kind_info(api, kind)
    layers = [n["name"] for n in info["diagram"]["nodes"] if (n.get("mark") or {}).get("kind") == "box"]
    source = {n["name"]: n["operands"][0] for n in info["glossary"]["names"] if n["role"] == "state_in"}
    for m in shown:
        roles = {(s["role"], s["name"]) for s in m["strips"]}
        assert {("layer", name) for name in layers} <= roles, (kind, roles)  # its learned layers, each with its numbers
        assert any(r == "out" for r, _ in roles) and any(r == "in" for r, _ in roles)
        for s in m["strips"]:
            expected = np.array(values[s["name"]])[m["step"], s["units"]]
            assert np.allclose(s["values"], expected, rtol=1e-5, atol=1e-6), (kind, m["step"], s["name"])
            if m["step"] < 5:
                assert all(s["reached"]), (kind, m["step"], s["name"])  # the past is coloured in
            if m["step"] > 6:
                assert not any(s["reached"]), (kind, m["step"], s["name"])  # the future shows no numbers yet
    # the state module t receives is the state module t−1 handed on: h(t−1) of t is h(t) of t−1, as drawn above it
    by_step = {m["step"]: {(s["role"], s["name"]): s for s in m["strips"]} for m in shown}
    compared = 0
    for step in steps[1:]:
        for (role, name), strip in by_step[step].items():
            if role != "in":
                continue
            given = by_step[step - 1].get(("out", source[name]))
            before = given["values"] if given else np.array(values[source[name]])[step - 1, strip["units"]]
            assert np.allclose(strip["values"], before, rtol=1e-6, atol=1e-7), (kind, step, name)
            assert given is None or strip["fills"] == given["fills"] or step > 6  # the same numbers, the same colours
            compared += given is not None
    outs = {s["name"] for m in shown for s in m["strips"] if s["role"] == "out"}
    if outs & set(source.values()):   # h drawn going out of each module and into the next; Mamba carries s alone, along
        assert compared >= len(steps) - 1   # its state line, its in-strips compared with the trace above
    assert min(size for _, size in tab.js(TEXTS)) >= 11


@pytest.mark.parametrize("width", [700, 1024, 1440, 1920])
def test_as_many_modules_as_the_width_allows(tab, width):
    tab.page.set_viewport_size({"width": width, "height": 800})
    tab.open("/?preset=remember-rnn&panels=chain,diagram,tokens&step=9")
    settled(tab, 9)
    shown = modules(tab)
    figure = tab.js("""async () => { const f = await import('/static/views/chain-figure.js');
        const info = (await (await fetch('/api/kinds')).json()).find((k) => k.name === window.gatescope.trace.header.model.kind);
        const el = document.getElementById('chain');
        return f.chainLayout(f.chainPlan(info), { width: el.clientWidth, steps: window.gatescope.trace.steps, units: 8,
          maxHeight: Math.max(150, innerHeight * 0.3) }).n; }""")
    assert len(shown) == figure and 3 <= len(shown) <= 7
    svg = tab.js("(() => { const r = document.querySelector('#chain svg').getBoundingClientRect(); return [r.left, r.right]; })()")
    boxes = [m["box"] for m in shown]
    assert all(svg[0] - 0.5 <= b[0] and b[2] <= svg[1] + 0.5 for b in boxes)  # inside the figure
    assert all(a[2] < b[0] for a, b in zip(boxes, boxes[1:]))  # side by side, none over another
    assert min(size for _, size in tab.js(TEXTS)) >= 11
    if width >= 1440:
        assert len(shown) == 7  # the one-layer module is narrow: the most fit
    if width <= 1024:
        tab.open("/?preset=remember-lstm&panels=chain,diagram,tokens&step=9")
        settled(tab, 9)
        assert 3 <= len(modules(tab)) < len(shown) or len(shown) == 3  # four layers a module: fewer fit


def test_the_current_module_is_outlined_and_moves_with_the_step(tab):
    tab.open("/?preset=remember-lstm&panels=chain,tokens&step=0&phases=false")
    settled(tab, 0)
    seen = []
    for t in range(6):
        if t:
            tab.js("document.querySelector('.player [data-control=next]').click()")
        settled(tab, t)
        shown = modules(tab)
        current = next(m for m in shown if m["current"])
        outline = tab.js(OUTLINE)
        assert current["step"] == t and tab.step == t
        assert abs((outline[0] + outline[2]) / 2 - (current["box"][0] + current["box"][2]) / 2) < 2  # the outline is on it
        seen.append((shown[0]["step"], outline[0]))
    # near the start the window stays and the outline moves right; later the window moves on and the outline stays
    starts, xs = [s for s, _ in seen], [x for _, x in seen]
    assert xs[1] > xs[0] + 20 and starts[0] == starts[1] == 0
    assert starts[-1] > starts[0] and abs(xs[-1] - xs[-2]) < 2 and starts[-1] == starts[-2] + 1


def test_stepping_slides_the_state_from_module_t_minus_1_into_module_t(tab, api):
    tab.open("/?preset=remember-lstm&panels=chain,tokens&step=5")
    settled(tab, 5)
    first = kind_info(api, "lstm")["glossary"]["phases"][0]["name"]
    tab.js("window.gatescope.frame(5, null, 1)")
    packet = """(name) => { const g = document.querySelector(`#chain .chain-packet[data-name="${name}"]`); const r = g.getBoundingClientRect();
        return { shown: g.getAttribute('visibility') === 'visible', x: (r.left + r.right) / 2,
                 fills: [...g.children].map((c) => c.getAttribute('fill')) }; }"""
    xs = []
    for progress in np.linspace(0.02, 0.4, 20):
        tab.js(f"window.gatescope.frame(6, '{first}', {progress})")  # a frame is a function of (step, phase, progress)
        p = tab.js(packet, "h_prev")
        if p["shown"]:
            xs.append(p["x"])
            fills = p["fills"]
    assert len(xs) >= 3 and xs == sorted(xs), xs  # it travels one way: on, into the next module
    shown = {m["step"]: m for m in modules(tab)}
    assert shown[5]["box"][0] < xs[0] and xs[-1] > shown[5]["box"][2]  # out of module 5 ...
    assert xs[-1] <= shown[6]["box"][2]  # ... into module 6
    received = next(s for s in shown[6]["strips"] if s["role"] == "in" and s["name"] == "h_prev")
    assert fills == received["fills"]  # what travels is what module 6 receives
    tab.js(f"window.gatescope.frame(6, '{first}', 1)")
    assert not tab.js(packet, "h_prev")["shown"] and not tab.js(packet, "c_prev")["shown"]
    layers = [s for s in {m["step"]: m for m in modules(tab)}[6]["strips"] if s["role"] == "layer"]
    assert layers and not any(any(s["reached"]) for s in layers)  # its inputs only: the layers fill in later phases
    tab.js("window.gatescope.frame(6, null, 1)")
    assert all(all(s["reached"]) for s in {m["step"]: m for m in modules(tab)}[6]["strips"])


def test_clicking_a_module_goes_to_its_step(tab):
    tab.open("/?preset=remember-lstm&panels=chain,tokens&step=5&phases=false")
    settled(tab, 5)
    target = next(m for m in modules(tab) if m["step"] == 4)
    x0, y0, x1, y1 = target["box"]
    tab.page.mouse.click((x0 + x1) / 2, y0 + 4)
    settled(tab, 4)
    assert tab.step == 4
    tab.until("new URLSearchParams(location.search).get('step') === '4'", what="the step clicked, in the URL")


def test_the_chain_is_a_panel_of_the_view_menu_kept_in_the_url(tab):
    tab.open("/?preset=remember-lstm")
    section = SECTION
    assert tab.js(f"{section}.hidden") is True  # not on by default
    tab.page.click("header.top details.menu summary:has-text('View')")
    tab.page.check('[data-panel-toggle="chain"]')
    tab.until(f"!{section}.hidden", what="the chain's section shown by its checkbox")
    tab.until("(new URLSearchParams(location.search).get('panels') ?? '').split(',').includes('chain')", timeout=3)
    settled(tab)
    tab.page.reload()
    tab.ready()
    settled(tab)
    assert tab.js(f"{section}.hidden") is False and "chain" in parse_qs(urlparse(tab.page.url).query)["panels"][0].split(",")
    # the chain first, then the module up close: it sits above the diagram, the stage's width (beside the diagram: the side column)
    assert tab.js(f"{section}.getBoundingClientRect().bottom <= {DIAGRAM}.getBoundingClientRect().top")
    assert tab.js(f"{section}.getBoundingClientRect().width > {DIAGRAM}.getBoundingClientRect().width + 100")
    assert tab.js("document.querySelector('#chain').dataset.room") is None  # with the diagram shown, the chain is not the hero


def test_lang_zh_shows_the_chinese_words(tab):
    words = "() => ({ caption: document.querySelector('#chain .chain-caption').textContent,"\
            " title: document.querySelector('#chain .chain-module[data-current=\"1\"] title').textContent,"\
            " label: document.querySelector('#chain svg').getAttribute('aria-label') })"
    tab.open("/?preset=remember-lstm&panels=chain,diagram,tokens&step=5")
    settled(tab, 5)
    en = tab.js(words)
    assert "steps" in en["caption"] and en["title"].startswith("step 5") and "steps" in en["label"]
    tab.open("/?preset=remember-lstm&panels=chain,diagram,tokens&step=5&lang=zh")
    settled(tab, 5)
    zh = tab.js(words)
    for text in zh.values():
        assert re.search(r"[\u4e00-\u9fff]", text) and not re.search(r"[A-Za-z]{3,}", text), text
    assert "第 5 步" in zh["title"] and "第" in zh["caption"]
    menu = tab.js("document.querySelector('[data-panel-toggle=\"chain\"]').parentElement.textContent.trim()")
    assert re.search(r"[\u4e00-\u9fff]", menu), menu  # its checkbox in the View menu too


@pytest.mark.parametrize("presenter,least", [(False, 11), (True, 14)], ids=["normal", "presenter"])
def test_every_text_is_legible_at_1024x768(tab, presenter, least):
    tab.page.set_viewport_size({"width": 1024, "height": 768})
    for path in ("/?preset=remember-lstm&panels=chain,diagram,tokens&step=5", "/?preset=adding-gru&panels=chain,diagram,tokens&step=5",
                 "/lesson/lstm?stop=1&lang=zh"):
        tab.open(f"{path}&presenter={str(presenter).lower()}")
        settled(tab)
        sizes = tab.js(TEXTS)
        assert sizes and min(size for _, size in sizes) >= least, (path, sorted(sizes, key=lambda s: s[1])[:3])


def test_the_lesson_opens_with_the_chain_of_rnn_then_lstm_modules(tab):
    tab.page.set_viewport_size({"width": 1024, "height": 768})
    tab.open("/lesson/lstm?stop=1")
    settled(tab, 18)
    layers = lambda: {len([s for s in m["strips"] if s["role"] == "layer"]) for m in modules(tab)}  # noqa: E731
    assert layers() == {1} and len(modules(tab)) == 3  # the plain RNN: one tanh layer a module, three, as the article's figure
    # the chain is the hero: no diagram, the chain the stage's width and more than a third of the screen's height, on the
    # first screen with the lesson's text under it and the player under that
    assert tab.js(f"{DIAGRAM}.hidden") and tab.js("!!document.querySelector('#chain').dataset.room")
    box = tab.js("(() => { const r = document.querySelector('#chain svg').getBoundingClientRect(); return [r.width, r.top, r.bottom]; })()")
    assert box[0] > 0.9 * 1024 and box[2] - box[1] > 768 / 3 and box[2] <= 768, box
    assert tab.js("document.querySelector('.lesson-text').getBoundingClientRect().top") >= box[2]
    assert tab.js("document.querySelector('.player').getBoundingClientRect().bottom") <= 768
    tab.js("document.querySelector('[data-control=lesson-next]').click()")
    tab.until("document.body.dataset.stop === '2'")
    shown = "#chain .chain-module[data-shown=\"1\"]"
    tab.until(f"document.querySelectorAll('{shown} .chain-strip[data-role=layer]').length === 4 * document.querySelectorAll('{shown}').length",
              what="the LSTM chain: four layers a module")
    settled(tab, 0)
    assert tab.js(f"{SECTION}.getBoundingClientRect().bottom") <= 768


def test_the_chain_is_the_hero_only_while_the_diagram_is_hidden(tab):
    tab.page.set_viewport_size({"width": 1024, "height": 768})
    tab.open("/?preset=remember-lstm&panels=chain,tokens&step=5&presenter=true")
    settled(tab, 5)
    height = "document.querySelector('#chain svg').getBoundingClientRect().height"
    hero = tab.js(height)
    assert tab.js("!!document.querySelector('#chain').dataset.room") and hero > 768 / 3
    assert tab.js("document.querySelector('.tokens-panel').getBoundingClientRect().bottom") <= 768  # the hero, its band, the player: one screen
    tab.menu("panels")
    tab.page.check('[data-panel-toggle="diagram"]')
    tab.until(f"!{DIAGRAM}.hidden && !document.querySelector('#chain').dataset.room", what="the diagram back, the chain a row above it")
    tab.until(f"{height} < {hero} * 0.8", what="the chain at its ordinary size")
    tab.page.uncheck('[data-panel-toggle="diagram"]')
    tab.until(f"{DIAGRAM}.hidden && Math.abs({height} - {hero}) < 2", what="the chain the hero again, as large as before")
