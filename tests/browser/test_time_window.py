"""One time window for the heatmaps and the line plots, kept in the URL: a long run opens on the same window in both,
zooming or panning either moves both, the window is written as `window=START-END` (the steps shown, both included),
a permalink opens on it, resetting the zoom removes it, and a window that is no span of steps is refused with the
server's message. Typing at the end of a long text keeps what both show true. At a projector's 1024x768 and 1920x1080."""

import math
from urllib.parse import quote

import pytest

HEAT = "document.getElementById('heatmaps')"
LINES = "document.getElementById('lines')"
MESSAGE = "document.getElementById('message')"
LONG = "/?kind=lstm&input=sine%202000&input_type=signal&step=700&focus=h&units=0,1,2,3"
SHORT = "/?kind=lstm&input=sine%20300&input_type=signal&focus=h"
TEXT = ("it is a truth universally acknowledged, that a single man in possession of a good fortune, "
        "must be in want of a wife. ")


def ranges(tab):
    """The x range each chart draws: [heatmaps, lines]."""
    return tab.js(f"[{HEAT}._fullLayout.xaxis.range.slice(), {LINES}._fullLayout.xaxis.range.slice()]")


def one_window(tab, what: str):
    """Wait until both charts draw the same range; that range."""
    return tab.until(f"(() => {{ const a = {HEAT}._fullLayout.xaxis.range, b = {LINES}._fullLayout?.xaxis?.range;"
                     " return b && Math.abs(a[0] - b[0]) < 1e-6 && Math.abs(a[1] - b[1]) < 1e-6 && a.slice(); })()", what=what)


def url_window(tab):
    return tab.js("new URLSearchParams(location.search).get('window')")


def steps_of(r):
    """The steps a range shows, as the URL writes them."""
    return f"{max(0, math.ceil(r[0]))}-{math.floor(r[1])}"


def captions(tab):
    return tab.js(f"[document.querySelector('.heatmap-range').textContent, {LINES}.layout.title.text]")


def lines_are_the_trace(tab, lo, hi):
    """The lines hold only the window's steps (and one either side), each the trace's own value."""
    out = tab.js(f"""(() => {{ const t = window.gatescope.trace;
        return {LINES}.data.map((d) => {{ const u = Number(d.name.split(' ')[1]);
          return {{ x: Array.from(d.x), y: Array.from(d.y), truth: Array.from(d.x, (s) => t.value('h', s)[u]) }}; }}); }})()""")
    for d in out:
        assert d["x"][0] >= math.floor(lo) - 1 and d["x"][-1] <= math.ceil(hi) + 1, (d["x"][0], d["x"][-1], lo, hi)
        assert d["x"] == list(range(d["x"][0], d["x"][-1] + 1))
        assert d["y"] == pytest.approx(d["truth"], abs=1e-6)


def test_a_long_run_opens_on_one_window_in_both_charts(screen):
    tab = screen.open(LONG)
    lo, hi = one_window(tab, "the heatmaps and the lines open on one window")
    assert lo <= 700 <= hi and hi - lo < 2000
    assert url_window(tab) is None  # the run's own opening: nothing to keep
    heat, lines = captions(tab)
    shown = f"steps {math.ceil(lo):,}–{math.floor(hi):,} of 2,000"
    assert heat == shown and shown in lines, (heat, lines)
    lines_are_the_trace(tab, lo, hi)


def drag_lines(tab, x0, x1):
    tab.page.locator("#lines").scroll_into_view_if_needed()
    box = tab.page.locator("#lines .nsewdrag").first.bounding_box()
    y = box["y"] + box["height"] / 2
    tab.page.mouse.move(box["x"] + x0 * box["width"], y)
    tab.page.mouse.down()
    tab.page.mouse.move(box["x"] + (x0 + x1) / 2 * box["width"], y, steps=4)
    tab.page.mouse.move(box["x"] + x1 * box["width"], y, steps=4)
    tab.page.mouse.up()


def test_zooming_either_chart_moves_both_and_writes_the_window(screen):
    tab = screen.open(LONG)
    lo, hi = one_window(tab, "the opening")
    tab.page.click('[data-zoom="in"]')  # the heatmaps' own button
    z0, z1 = tab.until(f"(w) => {{ const r = {HEAT}._fullLayout.xaxis.range; return r[1] - r[0] < w * 0.6 && r.slice(); }}", hi - lo,
                       what="the heatmaps zoom in")
    assert one_window(tab, "the lines follow the heatmaps' zoom") == pytest.approx([z0, z1])
    assert z0 <= 700 <= z1  # about the current step
    assert tab.until("(w) => new URLSearchParams(location.search).get('window') === w", steps_of([z0, z1]), what="the window in the URL")
    lines_are_the_trace(tab, z0, z1)
    drag_lines(tab, 0.2, 0.7)  # a drag across the lines zooms both further
    d0, d1 = tab.until(f"(w) => {{ const r = {LINES}._fullLayout.xaxis.range; return r[1] - r[0] < w * 0.8 && r.slice(); }}", z1 - z0,
                       what="the lines zoom in")
    assert one_window(tab, "the heatmaps follow the lines' zoom") == pytest.approx([d0, d1])
    assert d0 == pytest.approx(round(d0 + 0.5) - 0.5) and d1 - d0 == round(d1 - d0), "a zoom shows whole steps"
    tab.until("(w) => new URLSearchParams(location.search).get('window') === w", steps_of([d0, d1]), what="the new window in the URL")
    heat, lines = captions(tab)
    assert heat.startswith(f"steps {math.ceil(d0):,}–{math.floor(d1):,} of 2,000") and f"steps {math.ceil(d0):,}–" in lines
    tab.page.click('[data-zoom="right"]')  # pan: both move, by half the span
    p0, p1 = tab.until(f"(r) => {HEAT}._fullLayout.xaxis.range[0] > r + 1 && {HEAT}._fullLayout.xaxis.range.slice()", d0)
    assert p1 - p0 == pytest.approx(d1 - d0)
    assert one_window(tab, "the lines pan with the heatmaps") == pytest.approx([p0, p1])
    tab.page.locator(".heatmap-panel").scroll_into_view_if_needed()
    tab.shot("-zoomed")
    tab.page.locator("#lines").scroll_into_view_if_needed()
    tab.shot("-zoomed-lines")


def test_a_permalink_opens_on_its_window_and_resetting_the_zoom_removes_it(screen):
    tab = screen.open(SHORT + "&window=120-160&step=140")
    assert one_window(tab, "both open on the link's window") == pytest.approx([119.5, 160.5])
    heat, lines = captions(tab)
    assert heat == "steps 120–160 of 300" and "steps 120–160 of 300" in lines
    tab.page.click('[data-zoom="all"]')  # more steps than the maps have pixels for: the whole run is a window of its own
    assert one_window(tab, "the whole run") == pytest.approx([-0.5, 299.5])
    assert tab.until("new URLSearchParams(location.search).get('window') === '0-299'", what="the whole run in the URL")
    tab.page.reload()
    tab.ready()
    assert one_window(tab, "reopened on the whole run") == pytest.approx([-0.5, 299.5])
    # a run that opens whole: back to all of it is back to its opening, and the link no longer needs a window
    tab.open("/?kind=lstm&input=sine%20100&input_type=signal&focus=h&window=20-60&step=30")
    assert one_window(tab, "the link's window") == pytest.approx([19.5, 60.5])
    tab.page.click('[data-zoom="all"]')
    assert one_window(tab, "all of it") == pytest.approx([-0.5, 99.5])
    tab.until("!new URLSearchParams(location.search).has('window')", what="the window removed from the URL")
    tab.page.reload()
    tab.ready()
    assert one_window(tab, "reopened") == pytest.approx([-0.5, 99.5])
    # a step outside the link's window: the window (its span) moves to show it, and the URL says where
    tab.open(SHORT + "&window=20-60&step=250")
    lo, hi = one_window(tab, "the window around the step")
    assert lo <= 250 <= hi and hi - lo == pytest.approx(41)
    assert tab.until("(w) => new URLSearchParams(location.search).get('window') === w", steps_of([lo, hi]))


def test_a_window_past_the_run_shows_its_last_steps(tab):
    tab.open("/?kind=lstm&input=sine%20300&input_type=signal&window=280-400&step=299")
    assert one_window(tab, "the last steps") == pytest.approx([178.5, 299.5])  # its span of 121 steps, moved inside the run


@pytest.mark.parametrize("window", ["220-120", "12"])
def test_a_bad_window_is_refused_with_the_servers_message(screen, api, window):
    code, body = api(f"/api/trace?kind=lstm&input=hello&window={window}")
    assert code == 422 and body["detail"][0]["loc"] == ["query", "window"]
    answer = screen.page.goto(screen.base + f"/?kind=lstm&input=hello&window={window}")
    assert answer.status == 422
    text = screen.until(f"!{MESSAGE}.hidden && {MESSAGE}.textContent", what="the message")
    assert f"window: {body['detail'][0]['msg']} (got \"{window}\")" in text, text
    assert "START ≤ END ≤ 10000000" in text and "window=120-220 shows steps 120 to 220" in text
    assert screen.js(f"{MESSAGE}.dataset.tone") == "error"
    screen.shot()


def test_typing_at_the_end_of_a_long_text_keeps_both_charts_true(screen):
    text = (TEXT * 4)[:400]
    tab = screen.open(f"/?preset=charlm-lstm&input={quote(text)}&focus=h&units=0,1")
    tab.page.click('[data-control="input"]')
    tab.page.keyboard.press("End")
    tab.page.keyboard.type("tea", delay=120)
    T = len(text) + 3
    # both charts end on the typed step: the heatmaps' last column and the lines' last point are its values
    tab.until(f"(T) => {HEAT}.data[0].x0 + {HEAT}.data[0].dx * ({HEAT}.data[0].z[0].length - 1) === T - 1"
              f" && {LINES}.data[0].x.at(-1) === T - 1 && Number(document.body.dataset.step) === T - 1", T,
              what="the typed steps drawn in both charts")
    lo, hi = one_window(tab, "one window while typing")
    assert lo <= T - 1 <= hi
    out = tab.js(f"""(() => {{ const t = window.gatescope.trace, h = {HEAT};
        return {{ maps: h.data.map((d) => ({{ name: d.name, dx: d.dx, last: d.z.map((row) => row.at(-1)), zmax: d.zmax,
                    truth: Array.from(t.value(d.name, t.steps - 1)), max: t.maxAbs(d.name) }})),
                 ticks: h.layout.xaxis.ticktext?.slice(-3) ?? null }}; }})()""")
    for m in out["maps"]:
        assert m["dx"] == 1 and m["last"] == pytest.approx(m["truth"], abs=1e-6), m["name"]
        if m["name"] == "c":  # the cell state's colour bar reaches its largest |value| so far, typed steps included
            assert m["zmax"] == pytest.approx(max(1, m["max"]), rel=1e-6)
    assert out["ticks"] == ["t", "e", "a"], "the token axis names the typed characters"
    lines_are_the_trace(tab, lo, hi)


def test_the_compare_columns_share_one_window(tab):
    tab.open("/compare")
    tab.until("document.querySelectorAll('.column .heat').length === 3 && [...document.querySelectorAll('.column .heat')]"
              ".every((h) => h.data?.[0]?.z?.[0]?.length > 0)", timeout=20, what="three columns drawn")
    heats = "[...document.querySelectorAll('.column .heat')].map((h) => h._fullLayout.xaxis.range.slice())"
    before = tab.js(heats)[0]
    tab.page.locator('.column [data-zoom="in"]').first.click()  # the first column's own button
    after = tab.until(f"(w) => {{ const r = {heats}; return r.every((x) => Math.abs(x[0] - r[0][0]) < 1e-6 && Math.abs(x[1] - r[0][1]) < 1e-6)"
                      " && r[0][1] - r[0][0] < w && r; }", before[1] - before[0], what="every column zoomed alike")
    assert len(after) == 3 and after[0][1] - after[0][0] == pytest.approx((before[1] - before[0]) / 2, abs=1)
