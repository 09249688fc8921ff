"""Hover-to-explain and linked highlighting (issue 11, item 3): a box, circle or wire explains itself in a sentence
with its equation and this step's numbers and lights up what it comes from and feeds; a unit is lit in every strip
of its width and written out in the phase panel; a click pins the selection, and the URL keeps it."""

from __future__ import annotations

import pytest

from gatescope import cells

POINT = """([selector]) => {
  document.querySelector(selector).dispatchEvent(new PointerEvent('pointerover', { bubbles: true }));
  const tip = document.querySelector('#diagram .diagram-tip');
  const lit = Array.from(document.querySelectorAll('#diagram path[data-part=wire]'))
    .filter((w) => w.getAttribute('stroke-width') && w.getAttribute('stroke') === window.gatescopeAccent).map((w) => w.dataset.owner);
  const outlined = Array.from(document.querySelectorAll('#diagram .cell'))
    .filter((c) => c.getAttribute('stroke') === window.gatescopeAccent).map((c) => [c.closest('.strip').dataset.name, Number(c.dataset.unit)]);
  return { tip: tip.hidden ? null : tip.textContent, lit, outlined };
}"""

ACCENT = "import('/static/core/config.js').then((m) => { window.gatescopeAccent = m.palette('classic').highlight; })"


@pytest.mark.parametrize("kind", list(cells.KINDS))
def test_every_box_and_circle_explains_itself_with_this_steps_numbers(tab, kind):
    tab.open(f"/?kind={kind}&input=hello&hidden=4&step=2&phases=false")
    tab.js(ACCENT)
    glossary = {n.name: n for n in cells.glossary(kind).names}
    marks = tab.js("Array.from(document.querySelectorAll('#diagram [data-part=mark]'), (m) => m.dataset.owner)")
    assert marks
    for name in marks:
        got = tab.js(POINT, [f'#diagram [data-part=mark][data-owner="{name}"]'])
        v = glossary[name]
        assert got["tip"] and got["tip"].startswith(v.label) and v.equation in got["tip"], (name, got["tip"])
        assert "unit 0: " in got["tip"]  # the numbers of this step
        assert name in got["lit"], (name, got["lit"])  # the wires into it (they belong to it) in the highlight colour
    tab.js("document.getElementById('diagram').dispatchEvent(new PointerEvent('pointerleave'))")
    assert tab.js("document.querySelector('#diagram .diagram-tip').hidden")


def test_a_unit_is_lit_everywhere_and_written_out_in_the_phase_panel(tab):
    tab.open("/?kind=lstm&input=hello&hidden=8&step=2&phases=false")
    tab.js(ACCENT)
    got = tab.js(POINT, ['#diagram .strip[data-name=c] .cell[data-unit="5"]'])
    names = {n for n, _ in got["outlined"]}
    assert {u for _, u in got["outlined"]} == {5} and {"c", "h", "forget_gate", "kept"} <= names  # every strip of its width
    want = tab.js("window.gatescope.trace.value('c', 2)[5]")
    lines = tab.js("Array.from(document.querySelectorAll('#phase .equations dd'), (d) => d.textContent)")
    assert lines and all(line.startswith("unit 5: ") for line in lines), lines
    assert any(line.endswith(f"= {want:.3f}".replace("-", "\u2212")) for line in lines), (lines, want)


def test_a_click_pins_the_selection_and_the_url_keeps_it(tab, tab_factory):
    tab.open("/?kind=gru&input=hello&hidden=8&step=3&phases=false")
    tab.page.click('#diagram [data-part=symbol][data-owner="update_gate"]')
    tab.until("location.search.includes('pin=update_gate')", what="the pin in the URL")
    tab.js("document.getElementById('diagram').dispatchEvent(new PointerEvent('pointerleave'))")
    tip = tab.js("document.querySelector('#diagram .diagram-tip').hidden ? null : document.querySelector('#diagram .diagram-tip').textContent")
    assert tip and tip.startswith("update gate")  # pinned: it stays explained when the pointer leaves
    again = tab_factory("-reopened").open(tab.page.url.replace(tab.base, ""))
    tip = again.js("document.querySelector('#diagram .diagram-tip').textContent")
    assert tip.startswith("update gate") and again.step == 3
    again.page.click('#diagram [data-part=symbol][data-owner="update_gate"]')  # the same part again: unpinned
    again.until("!location.search.includes('pin=')", what="unpinned")
    again.page.click('#diagram .strip[data-name=h] .cell[data-unit="3"]')
    again.until("location.search.includes('pin=h%5B3%5D') || location.search.includes('pin=h[3]')", what="a unit pinned")


def test_a_bad_pin_is_refused_with_its_field(api):
    status, body = api("/api/trace?kind=lstm&input=ab&pin=" + "x" * 80)
    assert status == 422 and "pin" in str(body)


def test_a_unit_pointed_at_is_lit_in_its_heatmap_row_and_its_line(tab):
    tab.open("/?kind=lstm&input=hello%20world&hidden=8&step=2&phases=false&focus=c&units=0,1,2,3")
    tab.js(POINT, ['#diagram .strip[data-name=c] .cell[data-unit="2"]'])
    mark = tab.js("""(() => { const m = document.querySelector('#heatmaps ~ .row-mark, .row-mark'); const gd = document.getElementById('heatmaps');
      const i = gd.data.findIndex((d) => d.name === 'c'), ax = gd._fullLayout[i === 0 ? 'yaxis' : `yaxis${i + 1}`];
      const r = m.getBoundingClientRect(), g = gd.getBoundingClientRect();
      return { hidden: m.hidden, middle: (r.top + r.bottom) / 2 - g.top, want: ax._offset + ax.l2p(2) }; })()""")
    assert not mark["hidden"] and mark["middle"] == pytest.approx(mark["want"], abs=2)  # the row of unit 2 in c's map
    faint = tab.js("Array.from(document.querySelectorAll('#lines .scatterlayer .trace'), (g) => g.style.opacity)")
    assert faint == ["0.25", "0.25", "", "0.25"]  # unit 2's line over the others
    tab.js("document.getElementById('diagram').dispatchEvent(new PointerEvent('pointerleave'))")
    assert tab.js("document.querySelector('.row-mark').hidden")
    assert set(tab.js("Array.from(document.querySelectorAll('#lines .scatterlayer .trace'), (g) => g.style.opacity)")) == {""}


def test_a_pinned_unit_is_lit_and_written_out_without_covering_the_diagram(tab):
    tab.open("/?kind=lstm&input=hello&hidden=8&step=1&phases=false&pin=c%5B2%5D")
    tab.js(ACCENT)
    assert tab.js("document.querySelector('#diagram .diagram-tip').hidden")  # a lesson's pin: no box over the diagram
    outlined = tab.js("Array.from(document.querySelectorAll('#diagram .strip[data-name=c] .cell'))"
                      ".filter((c) => c.getAttribute('stroke') === window.gatescopeAccent).map((c) => Number(c.dataset.unit))")
    assert outlined == [2]
    lines = tab.js("Array.from(document.querySelectorAll('#phase .equations dd'), (d) => d.textContent)")
    assert lines and all(line.startswith("unit 2: ") for line in lines)
