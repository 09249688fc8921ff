"""The heatmaps, their colour scales and the gradient flow, as a student and a lecturer see them, at a projector's
1024x768 and a screen's 1920x1080: the step axis in view, unit ticks, true colour bars, zoom and pan over time,
a stated view of a long run, the keyboard, a grayscale that keeps the sign, and a log axis down to the smallest
gradient."""

import math

import pytest

HEAT = "document.getElementById('heatmaps')"
LONG = "/?kind=lstm&input=sine%202000&input_type=signal&step=700"


def plot_area(tab):
    """The maps' plot area on the page: {left, top, width, height} in CSS pixels, scrolled into view first (at
    1024 x 768 the heatmaps are under the diagram), as a user looks before pointing at them."""
    tab.js("document.querySelector('.heatmap-panel').scrollIntoView({ block: 'nearest' })")
    return tab.js(f"(() => {{ const s = {HEAT}._fullLayout._size, r = {HEAT}.getBoundingClientRect();"
                  " return { left: r.left + s.l, top: r.top + s.t, width: s.w, height: s.h }; })()")


def x_range(tab):
    return tab.js(f"{HEAT}._fullLayout.xaxis.range.slice()")


def cursor_x(tab):
    """Where the cursor line is drawn, in the chart's pixels."""
    return tab.js(f"(() => {{ const l = {HEAT}.parentElement.querySelector('.cursor-line');"
                  " return l.hidden ? null : Number(l.style.transform.match(/translateX\\(([-0-9.e]+)px\\)/)[1]); })()")


def expected_cursor_x(tab, t):
    size = tab.js(f"{HEAT}._fullLayout._size")
    r0, r1 = x_range(tab)
    return size["l"] + (t - r0) / (r1 - r0) * size["w"]


def test_the_token_axis_is_on_top_of_the_maps_and_in_the_viewport(screen):
    tab = screen.open("/?preset=remember-lstm")
    # at 1024 x 768 the heatmaps are under the diagram (the phase text beside it): looked at, the axis is in view
    tab.js("document.querySelector('.heatmap-panel').scrollIntoView({ block: 'start' })")
    ticks = tab.js("[...document.querySelectorAll('#heatmaps .xtick text')].map((e) => {"
                   " const r = e.getBoundingClientRect(); return { text: e.textContent, top: r.top, bottom: r.bottom }; })")
    tokens = tab.js("window.gatescope.trace.tokens.slice()")
    assert [t["text"] for t in ticks] == tokens  # every token of the 19 steps, as typed
    area, height = plot_area(tab), tab.js("innerHeight")
    assert all(0 <= t["top"] and t["bottom"] <= area["top"] + 1 for t in ticks), (ticks[:2], area)  # above the first map
    assert all(t["bottom"] <= height for t in ticks), height
    # the maps fit their panel: it does not scroll, so the axis stays in view
    assert tab.js("(() => { const p = document.querySelector('.heatmap-panel'); return p.scrollHeight <= p.clientHeight + 1; })()")
    tab.shot()


def test_every_map_has_unit_ticks_and_a_colour_bar_with_its_true_range(screen):
    tab = screen.open("/?preset=remember-lstm&step=5")
    out = tab.js(f"""(() => {{
        const h = {HEAT}, t = window.gatescope.trace, info = t.header.kind_info.glossary.names;
        const range = Object.fromEntries(info.map((n) => [n.name, n.range]));
        return {{ maps: h.data.map((d) => ({{ name: d.name, range: range[d.name], zmin: d.zmin, zmax: d.zmax, bar: d.showscale,
                   ticks: d.colorbar?.tickvals ?? null, labels: d.colorbar?.ticktext ?? null, max: t.maxAbs(d.name), width: t.width(d.name) }})),
                 unitTicks: h.data.map((_, i) => h._fullLayout[i ? `yaxis${{i + 1}}` : 'yaxis']._vals.map((v) => v.x)),
                 bars: document.querySelectorAll('#heatmaps .colorbar').length }};
    }})()""")
    maps = out["maps"]
    assert [m["name"] for m in maps][:2] == ["forget_gate", "input_gate"]
    scale = None
    for m in maps:
        if m["range"] == "unit":
            assert (m["zmin"], m["zmax"]) == (0, 1), m
        elif m["range"] == "signed":
            assert (m["zmin"], m["zmax"]) == (-1, 1), m
        else:  # unbounded: ±its largest |value| (at least ±1)
            assert m["zmax"] == pytest.approx(max(1, m["max"]), rel=1e-6) and m["zmin"] == -m["zmax"], m
        if m["bar"]:
            scale = m
            assert m["ticks"] == pytest.approx([m["zmin"], (m["zmin"] + m["zmax"]) / 2, m["zmax"]])
            def label(v):
                return f"{float(f'{v:.3g}'):g}".replace("-", "−")
            assert m["labels"] == [label(m["zmin"]), label((m["zmin"] + m["zmax"]) / 2), label(m["zmax"])], m["labels"]
        assert scale and (scale["zmin"], scale["zmax"]) == (m["zmin"], m["zmax"]), f"{m['name']} is read off a bar of another scale"
    c = next(m for m in maps if m["name"] == "c")
    assert c["zmax"] > 2 and c["bar"], "the remember task's cell state is unbounded and has its own bar"
    assert out["bars"] == sum(m["bar"] for m in maps) >= 3
    for ticks, m in zip(out["unitTicks"], maps, strict=True):
        assert ticks and min(ticks) == 0 and max(ticks) <= m["width"] - 1, (m["name"], ticks)
    # Plotly no longer hides a label that would overflow (ticklabeloverflow "allow", for speed): none does, the margins hold them
    outside = tab.js(f"""(() => {{ const box = {HEAT}.getBoundingClientRect();
        const labels = [...document.querySelectorAll('#heatmaps .xtick text, #heatmaps .ytick text, #heatmaps .cbaxis text')]
          .map((e) => ({{ text: e.textContent, r: e.getBoundingClientRect() }})).filter(({{ r }}) => r.width);
        return [labels.length, labels.filter(({{ r }}) => r.left < box.left - 1 || r.right > box.right + 1
                                                      || r.top < box.top - 1 || r.bottom > box.bottom + 1)]; }})()""")
    assert outside[0] >= 19 + 9 * 2 and not outside[1], outside  # the 19 tokens, each map's unit ticks, the bars' labels


def drag(tab, x0, x1):
    area = plot_area(tab)
    y = area["top"] + area["height"] * 0.3
    page = tab.page
    page.mouse.move(area["left"] + x0 * area["width"], y)
    page.mouse.down()
    page.mouse.move(area["left"] + (x0 + x1) / 2 * area["width"], y, steps=4)
    page.mouse.move(area["left"] + x1 * area["width"], y, steps=4)
    page.mouse.up()


def test_zoom_and_pan_change_the_time_range_and_the_cursor_follows(screen):
    tab = screen.open("/?kind=lstm&input=sine%20300&input_type=signal&step=150")
    r0, r1 = x_range(tab)
    drag(tab, 0.25, 0.6)
    z0, z1 = tab.until(f"(r) => {{ const x = {HEAT}._fullLayout.xaxis.range; return x[1] - x[0] < (r[1] - r[0]) * 0.6 && x.slice(); }}",
                       [r0, r1], what="a drag across the maps zooms in")
    assert r0 - 0.5 <= z0 < z1 <= r1 + 0.5
    assert tab.js(f"{HEAT}._fullLayout.yaxis.range.slice()")[1] == -0.5  # time only: the units stay
    tab.until(f"(r) => Math.abs({HEAT}.layout.xaxis.range[0] - r[0]) < 1e-6", [z0, z1], what="the zoom kept")
    t = tab.step
    if z0 <= t <= z1:
        assert cursor_x(tab) == pytest.approx(expected_cursor_x(tab, t), abs=1.5)
    tab.page.click('[data-zoom="right"]')  # pan later by half the span
    p0, p1 = tab.until(f"(r) => {HEAT}._fullLayout.xaxis.range[0] > r[0] + 1 && {HEAT}._fullLayout.xaxis.range.slice()", [z0, z1])
    assert p1 - p0 == pytest.approx(z1 - z0, abs=1e-6)
    tab.press("End")  # the step leaves the range: the maps follow it, and the cursor is on it
    tab.until(f"(T) => {HEAT}._fullLayout.xaxis.range[1] >= T - 1", 299, what="the range follows the step")
    assert tab.step == 299
    assert cursor_x(tab) == pytest.approx(expected_cursor_x(tab, 299), abs=1.5)
    # a click on a column still jumps there
    area = plot_area(tab)
    tab.page.mouse.move(area["left"] + area["width"] * 0.5, area["top"] + area["height"] * 0.5)
    tab.page.wait_for_timeout(200)  # Plotly's click takes the point its hover found
    tab.page.mouse.click(area["left"] + area["width"] * 0.5, area["top"] + area["height"] * 0.5)
    a0, a1 = x_range(tab)
    tab.until("(t) => Math.abs(Number(document.body.dataset.step) - t) <= 1", (a0 + a1) / 2, what="click-to-jump")
    tab.page.click('[data-zoom="all"]')
    assert tab.until(f"{HEAT}._fullLayout.xaxis.range.slice()") == pytest.approx([-0.5, 299.5])
    tab.shot()


def test_a_long_run_opens_on_a_stated_window_and_zooms_out_to_stated_block_means(screen):
    tab = screen.open(LONG + "&speed=60&phases=false")
    lo, hi = x_range(tab)
    assert lo <= 700 <= hi and hi - lo < 2000
    assert plot_area(tab)["width"] / (hi - lo) >= 3.5, "each step gets a few pixels"
    caption = tab.js("document.querySelector('.heatmap-range').textContent")
    assert caption == f"steps {math.ceil(lo):,}–{math.floor(hi):,} of 2,000", caption
    heights = (f"[{HEAT}._fullLayout.height, {HEAT}.getBoundingClientRect().top,"
               " document.querySelector('.heatmap-panel').getBoundingClientRect().height]")  # the maps' height and place
    before = tab.js(heights)
    tab.press(" ")  # play past the window's end: it pages on, and the heights and places stay
    tab.until("(hi) => Number(document.body.dataset.step) > hi + 5", hi, what="playing past the window")
    tab.press(" ")
    assert x_range(tab)[0] > lo and tab.js(heights) == before
    tab.shot("-window")
    tab.page.click('[data-zoom="all"]')
    tab.until(f"{HEAT}._fullLayout.xaxis.range[1] > 1999")
    out = tab.js(f"({{ dx: {HEAT}.data[0].dx, cols: {HEAT}.data[0].z[0].length, w: {HEAT}._fullLayout._size.w,"
                 " caption: document.querySelector('.heatmap-range').textContent })")
    assert out["dx"] > 1 and out["cols"] <= out["w"] + 1 and out["cols"] * out["dx"] >= 2000, out
    assert out["caption"] == f"all 2,000 steps · {out['dx']} steps per cell (mean)", out
    # a block is the mean of its steps: the first cell of the first unit of the forget gate
    mean = tab.js("(k) => { const s = window.gatescope.trace.series('forget_gate', 0); let m = 0;"
                  " for (let t = 0; t < k; t++) m += s[t]; return m / k; }", out["dx"])
    assert tab.js(f"{HEAT}.data[0].z[0][0]") == pytest.approx(mean, abs=1e-5)
    tab.shot("-all")


def test_the_focused_maps_move_the_step_from_the_keyboard_with_a_visible_ring(screen):
    tab = screen.open("/?preset=remember-lstm&step=3")
    for _ in range(80):  # Tab to the maps, as a keyboard user would
        tab.page.keyboard.press("Tab")
        if tab.js("document.activeElement?.id") == "heatmaps":
            break
    assert tab.js("document.activeElement?.id") == "heatmaps", "the heatmaps take the focus"
    assert tab.js(f"getComputedStyle({HEAT}).outlineStyle") == "solid"
    assert tab.js(f"parseFloat(getComputedStyle({HEAT}).outlineWidth)") >= 2
    tab.page.keyboard.press("ArrowRight")
    assert tab.until("document.body.dataset.step === '4'"), "one step on (the player does not step again)"
    tab.page.keyboard.press("ArrowLeft")
    tab.page.keyboard.press("ArrowLeft")
    tab.until("document.body.dataset.step === '2'")
    tab.page.keyboard.press("Shift+ArrowRight")
    tab.until("document.body.dataset.step === '12'")
    tab.page.keyboard.press("End")
    tab.until("document.body.dataset.step === '18'")
    assert tab.js(f"{HEAT}.getAttribute('aria-valuenow')") == "18"
    tab.page.keyboard.press("Home")
    tab.until("document.body.dataset.step === '0'")
    tab.shot()


PALETTE_CHECK = """(async () => {
  const { PALETTES } = await import('/static/core/config.js'), c = await import('/static/core/colors.js');
  return Object.fromEntries(Object.entries(PALETTES).map(([name, p]) => {
    const at = (v, scale, lo, hi) => c.colorAt(v, scale, lo, hi);
    const neg = at(-1, p.signed, -1, 1), zero = at(0, p.signed, -1, 1), pos = at(1, p.signed, -1, 1);
    const off = at(0, p.unit, 0, 1), on = at(1, p.unit, 0, 1);
    const rgb = (s) => s.match(/\\d+/g).map(Number), dist = (a, b) => Math.hypot(...rgb(a).map((x, i) => x - rgb(b)[i]));
    return [name, { ends: c.contrast(neg, pos), negZero: c.contrast(neg, zero), posZero: c.contrast(pos, zero),
                    gate: c.contrast(off, on), apart: dist(neg, pos) }];
  }));
})()"""


def test_every_palette_keeps_the_sign_and_its_ends_apart(tab):
    tab.open("/?preset=remember-lstm&palette=mono&step=5")
    out = tab.js(PALETTE_CHECK)
    assert set(out) == {"classic", "colorblind", "mono"}
    for name, p in out.items():
        assert p["negZero"] >= 3 and p["posZero"] >= 3, (name, p)  # WCAG's 3:1 for graphics, each end against 0
        assert p["gate"] >= 3, (name, p)
        assert p["apart"] >= 100, (name, p)  # −1 and +1 are different colours
    assert out["mono"]["ends"] >= 3, "grayscale: −1 and +1 differ in lightness"
    # the page draws with it: the cell state's −max and +max are different greys
    got = tab.js(f"(() => {{ const d = {HEAT}.data.find((x) => x.name === 'c'); return [d.colorscale[0][1], d.colorscale.at(-1)[1]]; }})()")
    assert got[0] != got[1]
    tab.shot()


def test_the_gradient_log_axis_reaches_the_smallest_value(screen, api):
    status, body = api("/api/gradients?preset=remember-rnn&digits=3")
    assert status == 200
    smallest = min(v for v in body["flow"]["h"] if v > 0)
    assert smallest < 1e-6, "the RNN's gradient vanishes, and the wire keeps it"
    tab = screen.open("/compare")
    tab.until("document.getElementById('gradients')?.data?.length === 3", timeout=20, what="the gradient flow")
    out = tab.js("(() => { const g = document.getElementById('gradients');"
                 " return { range: g._fullLayout.yaxis.range.slice(), type: g._fullLayout.yaxis.type,"
                 " ys: g.data.map((d) => d.y.slice()), names: g.data.map((d) => d.name) }; })()")
    assert out["type"] == "log"
    values = [v for ys in out["ys"] for v in ys if v]
    assert out["range"][0] <= math.log10(min(values)) and out["range"][1] >= math.log10(max(values)), out["range"]
    rnn = out["ys"][out["names"].index(next(n for n in out["names"] if n.startswith("Elman")))]
    assert rnn[0] and rnn[0] > 10 ** out["range"][0], "the RNN's curve is drawn from t = 0, inside the plot"
    assert rnn[0] == pytest.approx(min(rnn), rel=1e-9)
    tab.page.locator("#gradients").scroll_into_view_if_needed()
    tab.shot()


LINES = "document.getElementById('lines')"


def test_the_lines_of_a_long_run_show_a_stated_window_that_follows_the_step(screen):
    tab = screen.open(LONG + "&focus=h&units=0,1,2,3")
    lo, hi = tab.js(f"{LINES}._fullLayout.xaxis.range.slice()")
    width = tab.js(f"{LINES}._fullLayout._size.w")
    assert lo <= 700 <= hi and width / (hi - lo) >= 2.9, (lo, hi, width)  # a few pixels a step: a sine period reads
    title = tab.js(f"{LINES}.layout.title.text")
    assert f"steps {math.ceil(lo):,}–{math.floor(hi):,} of 2,000" in title, title
    tab.press("End")
    tab.until(f"{LINES}._fullLayout.xaxis.range[1] >= 1999", what="the lines follow the step")
    size = tab.js(f"{LINES}._fullLayout._size")
    r0, r1 = tab.js(f"{LINES}._fullLayout.xaxis.range.slice()")
    line = tab.js(f"Number({LINES}.parentElement.querySelector('.cursor-line').style.transform.match(/translateX\\(([-0-9.e]+)px\\)/)[1])")
    assert line == pytest.approx(size["l"] + (1999 - r0) / (r1 - r0) * size["w"], abs=1.5)
    tab.page.locator("#lines").scroll_into_view_if_needed()
    box = tab.page.locator("#lines .nsewdrag").first.bounding_box()
    tab.page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tab.until(f"{LINES}._fullLayout.xaxis.range[0] <= -0.5 && {LINES}._fullLayout.xaxis.range[1] >= 1999.5", what="all steps")
    assert "all 2,000 steps" in tab.js(f"{LINES}.layout.title.text")
    tab.shot()


def test_a_long_text_opens_where_its_characters_can_be_read(screen):
    tab = screen.open("/?preset=charlm-lstm&step=30")
    lo, hi = x_range(tab)
    assert lo <= 30 <= hi
    ticks = tab.js("[...document.querySelectorAll('#heatmaps .xtick text')].map((e) => {"
                   " const r = e.getBoundingClientRect(); return { text: e.textContent, left: r.left, right: r.right }; })")
    tokens = tab.js("window.gatescope.trace.tokens.map((t) => t === ' ' ? '␣' : t)")
    first = math.ceil(lo)
    assert [t["text"] for t in ticks] == tokens[first:first + len(ticks)] and len(ticks) >= 8, ticks
    assert all(a["right"] <= b["left"] for a, b in zip(ticks, ticks[1:])), "labels side by side, none over another"
    tab.shot()
