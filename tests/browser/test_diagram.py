"""The cell diagram in the page: drawn as its description says, text inside its shapes and label boxes (which the
geometry test keeps off every other shape), true hovers, its units.

A screenshot of every kind at 1024x768 (normal) and 1920x1080 (presenter) goes to artifacts/browser/.
"""

from __future__ import annotations

import pytest

import cells

VIEWS = {"normal-1024x768": ({"width": 1024, "height": 768}, ""), "presenter-1920x1080": ({"width": 1920, "height": 1080}, "&presenter=true")}

# Each mark's symbol and each label, as drawn (SVG boxes in page pixels), beside the box of its shape.
TEXT_FITS = """() => {
  const gd = document.getElementById('diagram'), L = gd._fullLayout, s = L._size, rect = gd.getBoundingClientRect();
  const X = (v) => rect.left + s.l + L.xaxis.l2p(v), Y = (v) => rect.top + s.t + L.yaxis.l2p(v);
  const texts = gd.querySelectorAll('.annotation');
  const out = [];
  gd.layout.annotations.forEach((a, i) => {
    const [what, name] = (a.name ?? '').split(':');
    if (what !== 'mark' && what !== 'label') return;
    const node = window.gatescopeDiagramNodes[name];
    const r = texts[i].querySelector('text').getBoundingClientRect();
    const [x0, y0, x1, y1] = what === 'mark' ? node.mark.box : node.text.box;
    out.push({ name: `the ${what === 'mark' ? 'symbol' : 'label'} of ${name}`, text: [r.width, r.height], shape: [X(x1) - X(x0), Y(y0) - Y(y1)],
               inside: what === 'label' ? [r.left >= X(x0) - 1.5, r.right <= X(x1) + 1.5, r.top >= Y(y1) - 1.5, r.bottom <= Y(y0) + 1.5] : [true] });
  });
  return out;
}"""


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("kind", list(cells.KINDS))
def test_every_kind_is_drawn_as_described_with_text_inside_its_shapes(tab_factory, api, kind, view):
    viewport, extra = VIEWS[view]
    tab = tab_factory()
    tab.page.set_viewport_size(viewport)
    tab.open(f"/?kind={kind}&input=hello&hidden=8{extra}")
    status, info = api(f"/api/kinds/{kind}")
    assert status == 200
    diagram = cells.diagram(kind)
    tab.js("(nodes) => { window.gatescopeDiagramNodes = Object.fromEntries(nodes.map((n) => [n.name, n])); }", diagram["nodes"])
    paths = tab.js("document.getElementById('diagram').layout.shapes.filter((s) => s.type === 'path' && !s.fillcolor).length")
    assert paths == len(diagram["wires"])  # one drawn line per routed wire, nothing the page routed itself
    for fit in tab.js(TEXT_FITS):  # within 1.5 px: a glyph's box rounds to whole pixels
        w, h = fit["text"]
        sw, sh = fit["shape"]
        assert w <= sw + 1.5 and h <= sh + 1.5, f"{kind}: {fit['name']} ({w:.0f}x{h:.0f} px) leaves its box ({sw:.0f}x{sh:.0f})"
        assert all(fit["inside"]), f"{kind}: {fit['name']} is drawn outside the box the layout gave it"
    tab.shot()  # artifacts/browser/test_every_kind_..._shapes[<kind>-<view>].png


def test_a_paused_step_is_true_in_the_svg_the_hover_and_the_export(tab):
    tab.open("/?kind=lstm&input=hello%20world&hidden=8&phases=false")
    tab.press("ArrowRight", 3)
    tab.until("document.body.dataset.step === '3'")
    want = tab.js("Array.from(window.gatescope.trace.value('c', 3).subarray(0, 8))")
    assert tab.diagram("c") == pytest.approx(want, abs=1e-6)  # the figure's own data, which the PNG export plots
    hover = tab.js("""() => {
      const gd = document.getElementById('diagram'), i = gd.data.findIndex((d) => d.name === 'c');
      Plotly.Fx.hover(gd, [{ curveNumber: i, pointNumber: 2 }]);
      return gd.querySelector('.hoverlayer')?.textContent ?? '';
    }""")
    assert f"unit 2: {want[2]:.4f}" in hover
    fills = tab.js("""() => {
      const gd = document.getElementById('diagram'), i = gd.data.findIndex((d) => d.name === 'c');
      return Array.from(gd.querySelectorAll('.scatterlayer .trace')[i].querySelectorAll('path.point')).map((p) => p.style.fill);
    }""")
    assert len(set(fills)) > 1  # painted with this step's colours, not one flat colour


def test_unbounded_vectors_state_their_scale(tab):
    tab.open("/?preset=remember-lstm")
    tab.press("End")
    label = tab.js("document.getElementById('diagram').layout.annotations.find((a) => a.name === 'label:c').text")
    m = tab.js("Math.max(1, window.gatescope.trace.maxAbs('c'))")
    assert f"±{float(f'{m:.3g}'):g}" in label.replace("−", "-")
    gd = tab.js("(() => { const gd = document.getElementById('diagram'); const d = gd.data.find((t) => t.name === 'c');"
                " return [d.marker.cmin, d.marker.cmax]; })()")
    assert gd == pytest.approx([-m, m])


def diagram_units(tab):
    return tab.js("""(() => { const gd = document.getElementById('diagram');
      return { data: gd.dataset.units, note: gd.layout.annotations.find((a) => a.name === 'units')?.text ?? null,
               c: Array.from(gd.data.find((d) => d.name === 'c').customdata) }; })()""")


def test_the_diagram_draws_the_units_asked_for_and_says_which(tab_factory):
    tab = tab_factory().open("/?kind=lstm&input=hello&hidden=48&units=38,5")
    assert diagram_units(tab) == {"data": "units 5, 38 of 48", "note": "units 5, 38 of 48", "c": [5, 38]}
    want = tab.js("[5, 38].map((u) => window.gatescope.trace.value('c', 0)[u])")
    assert tab.diagram("c") == pytest.approx(want, abs=1e-6)
    tab.press("ArrowRight")
    tab.until("document.body.dataset.step === '1'")
    want = tab.js("[5, 38].map((u) => window.gatescope.trace.value('c', 1)[u])")
    assert tab.diagram("c") == pytest.approx(want, abs=1e-6)

    tab = tab_factory("-default").open("/?kind=lstm&input=hello&hidden=48")
    assert diagram_units(tab) == {"data": "units 0–23 of 48", "note": "units 0–23 of 48", "c": list(range(24))}

    tab = tab_factory("-small").open("/?kind=lstm&input=hello&hidden=8&units=3")
    assert diagram_units(tab) == {"data": "all", "note": None, "c": list(range(8))}  # all fit: all drawn


def test_a_preset_opens_on_the_units_its_card_talks_about(tab, api):
    status, presets = api("/api/presets")
    notes = next(p for p in presets if p["name"] == "charlm-lstm")["card"]["notes"]
    assert "unit 38" in notes
    tab.open("/?preset=charlm-lstm")
    got = diagram_units(tab)
    assert 38 in got["c"] and got["note"].startswith("units ") and got["note"].endswith(" of 48")
