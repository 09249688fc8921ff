"""The cell diagram in the page: drawn as its description says, text inside its shapes and label boxes (which the
geometry test keeps off every other shape), true hovers, its units.

A screenshot of every kind at 1024x768 (normal) and 1920x1080 (presenter) goes to artifacts/browser/.
"""

from __future__ import annotations

import pytest

from gatescope import cells

VIEWS = {"normal-1024x768": ({"width": 1024, "height": 768}, ""), "presenter-1920x1080": ({"width": 1920, "height": 1080}, "&presenter=true")}

# Each mark's symbol and each label as drawn (page pixels), the shape the page drew for it, and the box the server
# gave that shape (diagram units, y up).
TEXT_FITS = """() => {
  const svg = document.querySelector('#diagram svg'), nodes = window.gatescopeDiagramNodes;
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return Array.from(svg.querySelectorAll('text[data-part=symbol], text[data-part=label]'), (t) => {
    const name = t.dataset.owner, symbol = t.dataset.part === 'symbol';
    const shape = svg.querySelector(symbol ? `[data-part=mark][data-owner="${name}"]` : `[data-owner="${name}:backing"]`);
    return { name: `the ${symbol ? 'symbol' : 'label'} of ${name}`, symbol, text: box(t), shape: box(shape),
             want: symbol ? nodes[name].mark.box : nodes[name].text.box };
  });
}"""


def drawn_as_described(fits):
    """The shapes are the server's boxes under one scale and offset (x right, y up), to a pixel."""
    first = fits[0]
    scale = (first["shape"][2] - first["shape"][0]) / (first["want"][2] - first["want"][0])
    ox, oy = first["shape"][0] - scale * first["want"][0], first["shape"][3] + scale * first["want"][1]
    for fit in fits:
        x0, y0, x1, y1 = fit["want"]
        want = [ox + scale * x0, oy - scale * y1, ox + scale * x1, oy - scale * y0]
        assert fit["shape"] == pytest.approx(want, abs=1.0), f"{fit['name']}: drawn at {fit['shape']}, described at {want}"


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
    paths = tab.js("document.querySelectorAll('#diagram path[data-part=wire]').length")
    assert paths == len(diagram["wires"])  # one drawn line per routed wire, nothing the page routed itself
    fits = tab.js(TEXT_FITS)
    assert len(fits) == sum(1 for n in diagram["nodes"] if n.get("mark")) + len(diagram["nodes"])
    drawn_as_described(fits)
    for fit in fits:  # within 1.5 px: a glyph's box rounds to whole pixels
        tx0, ty0, tx1, ty1 = fit["text"]
        sx0, sy0, sx1, sy1 = fit["shape"]
        size, room = f"{tx1 - tx0:.0f}x{ty1 - ty0:.0f} px", f"{sx1 - sx0:.0f}x{sy1 - sy0:.0f}"
        assert tx1 - tx0 <= sx1 - sx0 + 1.5 and ty1 - ty0 <= sy1 - sy0 + 1.5, f"{kind}: {fit['name']} ({size}) leaves its box ({room})"
        if not fit["symbol"]:
            inside = sx0 - 1.5 <= tx0 and tx1 <= sx1 + 1.5 and sy0 - 1.5 <= ty0 and ty1 <= sy1 + 1.5
            assert inside, f"{kind}: {fit['name']} is drawn outside the box the layout gave it"
    tab.shot()  # artifacts/browser/test_every_kind_..._shapes[<kind>-<view>].png


HOVER = """([name, unit]) => {
  const cell = document.querySelector(`#diagram .strip[data-name=${name}] .cell[data-unit="${unit}"]`);
  cell.dispatchEvent(new PointerEvent('pointerover', { bubbles: true }));
  const tip = document.querySelector('#diagram .diagram-tip');
  return tip.hidden ? '' : tip.textContent;
}"""


def test_a_paused_step_is_true_in_the_svg_the_hover_and_the_export(tab):
    tab.open("/?kind=lstm&input=hello%20world&hidden=8&phases=false")
    tab.press("ArrowRight", 3)
    tab.until("document.body.dataset.step === '3'")
    want = tab.js("Array.from(window.gatescope.trace.value('c', 3).subarray(0, 8))")
    assert tab.diagram("c") == pytest.approx(want, abs=1e-6)  # the cells' own values, which the exports serialize
    hover = tab.js(HOVER, ["c", 2])
    assert "unit 2: " in hover and hover.endswith(f"= {want[2]:.3f}".replace("-", "\u2212")) and "cell state" in hover.lower()
    colors = tab.js("""async () => {
      const { colorAt, scaleFor } = await import('/static/core/colors.js');
      const m = Math.max(1, window.gatescope.trace.maxAbs('c')), { colorscale } = scaleFor('signed', 'classic');
      return Array.from(document.querySelectorAll('#diagram .strip[data-name=c] .cell'),
        (cell) => [cell.getAttribute('fill'), colorAt(Number(cell.dataset.value), colorscale, -m, m)]);
    }""")
    assert all(got == want for got, want in colors), colors  # painted on the scale its label states
    assert len({got for got, _ in colors}) > 1  # this step's colours, not one flat colour


def test_one_compact_legend_states_every_scale_and_the_labels_are_the_symbols_alone(tab):
    """The ±max each unbounded strip is coloured on is said once, in the legend's row ("±own max: c 12.6 · x 1"), not
    beside every strip; the pre-activations' one ±max is the legend's too; a label is its name's symbol."""
    tab.open("/?preset=remember-lstm")
    tab.press("End")
    got = tab.js("""() => {
      const trace = window.gatescope.trace, names = trace.header.kind_info.glossary.names, svg = document.querySelector('#diagram svg');
      const drawn = (n) => svg.querySelector(`.strip[data-name="${n.name}"]`);
      return { real: names.filter((n) => n.range === 'real' && n.role !== 'pre' && drawn(n)).map((n) => [n.symbol, Math.max(1, trace.maxAbs(n.name))]),
               pre: Math.max(1, ...names.filter((n) => n.role === 'pre' && trace.has(n.name)).map((n) => trace.maxAbs(n.name))),
               legend: [...svg.querySelectorAll('.legend text')].map((t) => t.textContent),
               swatches: svg.querySelectorAll('.legend rect[data-range]').length,
               labels: Object.fromEntries([...svg.querySelectorAll('text[data-part=label]')].map((t) => [t.dataset.owner, t.textContent])),
               symbols: Object.fromEntries(names.map((n) => [n.name, n.symbol])) };
    }""")
    assert got["real"], "remember-lstm has unbounded strips (c, kept, x)"
    said = [t.lstrip("· ") for t in got["legend"]]
    for symbol, m in got["real"]:
        short = symbol.removesuffix("(t)")
        assert f"{short} {float(f'{m:.3g}'):g}".replace("−", "-") in [t.replace("−", "-") for t in said], (symbol, m, said)
    pre = got["pre"]
    top = f"{float(f'{pre:.3g}'):g}"
    assert f"+{top}" in said and f"−{top}" in said, said
    assert got["swatches"] == 4  # gates, values, pre-activations, the rest: one row, not four bars
    assert all(text == got["symbols"][owner] for owner, text in got["labels"].items()), got["labels"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_legends_texts_and_swatches_never_overlap_in_either_language(tab_factory, lang):
    """The legend is laid out by estimated widths: a Chinese character is a full em, not a Latin letter's 0.62."""
    tab = tab_factory().open(f"/?preset=remember-lstm&lang={lang}")
    tab.press("End")
    boxes = tab.js("""() => [...document.querySelectorAll('#diagram svg .legend text, #diagram svg .legend rect[data-range]')]
      .map((e) => { const b = e.getBoundingClientRect(); return [e.textContent || e.dataset.range, b.left, b.right, b.top, b.bottom]; })""")
    assert len(boxes) > 6
    for i, (a, l1, r1, t1, b1) in enumerate(boxes):
        for b, l2, r2, t2, b2 in boxes[i + 1:]:
            apart = r1 <= l2 + 0.5 or r2 <= l1 + 0.5 or b1 <= t2 + 0.5 or b2 <= t1 + 0.5
            assert apart, f"{lang}: {a!r} overlaps {b!r}"


def diagram_units(tab):
    return tab.js("""(() => ({ data: document.getElementById('diagram').dataset.units,
      note: document.querySelector('#diagram text[data-part=note]')?.textContent ?? null,
      c: Array.from(document.querySelectorAll('#diagram .strip[data-name=c] .cell'), (cell) => Number(cell.dataset.unit)) }))()""")


def test_the_diagram_draws_the_units_asked_for_and_says_which(tab_factory):
    tab = tab_factory().open("/?kind=lstm&input=hello&hidden=48&units=38,5")
    assert diagram_units(tab) == {"data": "units 5, 38 of 48", "note": "units 5, 38 of 48", "c": [5, 38]}
    want = tab.js("[5, 38].map((u) => window.gatescope.trace.value('c', 0)[u])")
    assert tab.diagram("c") == pytest.approx(want, abs=1e-6)
    tab.press("ArrowRight")
    tab.until("document.body.dataset.step === '1'")
    want = tab.js("[5, 38].map((u) => window.gatescope.trace.value('c', 1)[u])")
    assert tab.diagram("c") == pytest.approx(want, abs=1e-6)
    assert "units 5, 38 of 48" in tab.js(HOVER, ["c", 38])  # the hover says the strip shows some of the units

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
