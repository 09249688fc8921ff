"""The player: keys and buttons move the shown step and phase; the URL follows, and reopening it shows the same."""

import pytest

STEP_LABEL = "document.querySelector('[data-control=\"step\"]').textContent"


def test_arrow_keys_and_home_end_move_the_step(tab, api):
    tab.open("/?kind=lstm&input=hello%20world")
    assert tab.step == 0
    tab.press("ArrowRight")
    assert tab.step == 1 and tab.js(STEP_LABEL) == "t = 1 · 11 steps"
    tab.press("ArrowRight", 2)
    assert tab.step == 3
    tab.press("ArrowLeft")
    assert tab.step == 2
    assert tab.js("document.querySelector('#tokens .token.current').textContent") == "l"
    tab.press("End")
    assert tab.step == 10
    tab.press("ArrowRight")  # already at the end: stays
    assert tab.step == 10
    tab.press("Home")
    tab.press("ArrowLeft")
    assert tab.step == 0
    tab.press("ArrowRight", 4)
    status, trace = api("/api/trace?kind=lstm&input=hello%20world&names=c&digits=9")
    assert tab.diagram("c") == pytest.approx(trace["values"]["c"][4], abs=1e-4)


def test_play_at_speed_60_without_phases_reaches_the_last_step(tab):
    tab.open("/?kind=lstm&input=hello%20world&speed=60&phases=false")
    tab.js("""window.shownSteps = [];
        new MutationObserver(() => window.shownSteps.push(Number(document.body.dataset.step)))
          .observe(document.body, { attributes: true, attributeFilter: ["data-step"] });""")
    tab.press(" ")
    tab.until("!window.gatescope.player.playing && document.body.dataset.step === '10'", timeout=5, what="played to the end")
    assert tab.js(STEP_LABEL) == "t = 10 · 11 steps"
    shown = tab.js("window.shownSteps")
    assert shown == sorted(shown) and shown[-1] == 10 and len(set(shown)) >= 3, shown  # it animated forward
    assert tab.phase == ""  # phases off: whole steps only


def test_play_at_the_last_step_starts_over_from_the_first(tab):
    tab.open("/?kind=lstm&input=abcdef&speed=2&phases=false")  # half a second a step
    tab.press("End")
    tab.press(" ")
    tab.page.wait_for_timeout(250)
    shown = (tab.step, tab.js("document.querySelector('#tokens .token.current').textContent"), tab.js(STEP_LABEL))
    tab.press(" ")  # pause
    assert shown == (0, "a", "t = 0 · 6 steps"), f"a quarter second after play at the last step, the page shows {shown}"


def test_down_arrow_walks_the_phases_in_the_articles_order(tab, api):
    phases = ["given", "forget", "write", "update", "output"]  # the inputs, then colah's order for the LSTM
    status, info = api("/api/kinds/lstm")
    assert [p["name"] for p in info["glossary"]["phases"]] == phases
    tab.open("/?kind=lstm&input=abc&phases=true")
    assert tab.phase == ""  # all phases at once until asked
    seen = []
    for _ in phases:
        tab.press("ArrowDown")
        seen.append((tab.step, tab.phase))
        title = tab.js("document.querySelector('#phase .phase-title').textContent")
        assert title.startswith(f"{len(seen)} / {len(phases)}"), title  # numbered from 1, the inputs first
    assert seen == [(0, p) for p in phases]
    tab.press("ArrowDown")  # past the last phase: the next step's first
    assert (tab.step, tab.phase) == (1, phases[0])
    tab.press("ArrowUp")
    assert (tab.step, tab.phase) == (0, phases[-1])
    # the phases so far show their numbers; a later phase's cells are empty, its numbers not given away
    tab.press("ArrowUp")
    assert tab.phase == phases[-2]
    reached = tab.js("Object.fromEntries(Array.from(document.querySelectorAll('#diagram .strip'),"
                     " (g) => [g.dataset.name, Array.from(g.querySelectorAll('.cell'), (c) => [c.dataset.reached, c.getAttribute('fill')])]))")
    for n in info["glossary"]["names"]:
        if n["name"] not in reached:
            continue
        later = phases.index(n["phase"]) > phases.index(phases[-2])
        assert all(r == ("0" if later else "1") for r, _ in reached[n["name"]]), (n["name"], reached[n["name"]])
        if later:
            assert {fill for _, fill in reached[n["name"]]} == {"white"}, n["name"]
    tab.press("ArrowRight")  # plain stepping shows every phase again
    assert tab.phase == ""
    assert set(tab.js("Array.from(document.querySelectorAll('#diagram .cell'), (c) => c.dataset.reached)")) == {"1"}


def test_a_permalink_reopens_the_same_step_and_numbers(tab, tab_factory):
    tab.open("/?kind=gru&input=permalink&hidden=6&seed=3")
    tab.press("ArrowRight", 3)
    url = tab.until("location.search.includes('step=3') && location.href", timeout=2, what="the URL names step 3")
    before = tab.diagram_all()
    again = tab_factory("-reopened").open(url[len(tab.base):])
    assert again.step == 3
    assert again.js("location.href") == url
    after = again.diagram_all()
    assert after.keys() == before.keys() and len(after) >= 10
    for name in before:
        assert after[name] == pytest.approx(before[name], abs=1e-6), name
    again.shot()


ICONS = """(() => { const b = document.querySelector('.player .play'), shown = (sel) => getComputedStyle(b.querySelector(sel)).display !== 'none';
  return { play: shown('.icon-play'), pause: shown('.icon-pause'), text: b.textContent.trim(), label: b.getAttribute('aria-label'),
           width: b.querySelector(shown('.icon-pause') ? '.icon-pause' : '.icon-play').getBoundingClientRect().width }; })()"""


def test_the_play_button_draws_play_and_pause_as_shapes_not_glyphs_a_font_may_lack(tab):
    """Debian's Chromium has no glyph for ⏸ (it drew a missing-glyph box): both icons are SVG, the button's state says which."""
    tab.open("/?kind=lstm&input=abcdefghij&speed=1&phases=false")
    assert tab.js(ICONS) | {"width": 1} == {"play": True, "pause": False, "text": "", "label": "play", "width": 1}
    tab.press(" ")
    playing = tab.until("window.gatescope.player.playing && " + ICONS)
    assert (playing["play"], playing["pause"], playing["text"], playing["label"]) == (False, True, "", "pause") and playing["width"] > 8
    tab.press(" ")
    assert tab.js(ICONS)["play"] and not tab.js(ICONS)["pause"]
