"""Issue 5 in the browser: the compare page, the gradient-flow and saturation panels, training in the page,
and the playing frames the diagram paints straight into its SVG."""

import pytest


def test_compare_rnn_lstm_gru_on_the_remember_task(tab, api):
    tab.open("/compare")
    tab.until("document.querySelectorAll('.column .verdict').length === 3 && "
              "[...document.querySelectorAll('.column .verdict')].every((v) => v.textContent)", what="three verdicts")
    tab.press("End")
    tab.until("document.body.dataset.step === '18'", what="the last step")
    verdicts = tab.js("[...document.querySelectorAll('.column')].map((c) => [c.querySelector('h2').textContent, "
                      "c.querySelector('.verdict').textContent])")
    titles = [v[0] for v in verdicts]
    assert [t.split(" ·")[0] for t in titles] == ["Elman RNN", "LSTM", "GRU"]
    first = tab.js("window.gatescope.columns[0].trace.tokens[0]")
    assert f'predicts "{first}"' not in verdicts[0][1]            # the rnn has forgotten the first letter
    assert all(f'predicts "{first}"' in v[1] for v in verdicts[1:])  # the gated cells still hold it
    tab.until("document.getElementById('gradients').data?.length === 3", what="three gradient curves")
    rnn = tab.js("document.getElementById('gradients').data[0].y[0]")
    gru = tab.js("document.getElementById('gradients').data[2].y[0]")
    assert rnn is None or rnn < 1e-3 * gru  # None: below what a log axis can show
    tab.press("ArrowLeft")
    assert tab.step == 17
    assert tab.errors == [] and tab.console == []
    tab.shot()


def test_the_ablation_ladder_is_the_registrys_longest_chain_and_each_column_says_what_it_removed(tab, api):
    """The button opens one column per rung (each kind simplifying the one before, by Kind.simplifies, read from the
    registry, not listed here); a column whose kind simplifies the previous column's says the arrow it removed."""
    status, kinds = api("/api/kinds")
    parent = {k["name"]: (k["simplifies"] or {}).get("kind") for k in kinds}
    def chain(name):
        return [*chain(parent[name]), name] if parent[name] in parent else [name]
    longest = max((chain(k) for k in parent), key=len)
    assert len(longest) >= 3 and longest[0] == "lstm"
    tab.open("/compare")
    tab.js("document.querySelector('[data-control=ladder]').click()")
    tab.until("location.search.includes('compare=')", what="the ladder in the URL")
    tab.ready()
    assert tab.js("new URLSearchParams(location.search).get('compare')") == ",".join(f"kind:{k}" for k in longest[-5:])
    tab.until(f"document.querySelectorAll('.column .removed:not([hidden])').length === {len(longest[-5:]) - 1}", what="the captions")
    said = tab.js("[...document.querySelectorAll('.column .removed')].map((p) => p.hidden ? null : p.textContent)")
    removed = {k["name"]: k["simplifies"]["removed"] for k in kinds if k["simplifies"]}
    assert said == [None] + [f"− {removed[k]}" for k in longest[-5:][1:]]
    tab.open("/compare?compare=kind:mingru,kind:lstm")   # out of order: no rung below the other, no caption
    tab.until("document.querySelectorAll('.column h2').length === 2 && [...document.querySelectorAll('.column h2')].every((h) => h.textContent)")
    assert tab.js("[...document.querySelectorAll('.column .removed')].every((p) => p.hidden)")
    assert tab.errors == [] and tab.console == []
    tab.shot()


def test_gradient_flow_and_saturation_panels(tab, api):
    tab.open("/?kind=lstm&hidden=6&input=hello%20world&panels=diagram,tokens,gradients,saturation")
    tab.until("document.getElementById('gradients').data?.length === 2", what="the gradient curves (h and c)")
    status, body = api("/api/gradients?kind=lstm&hidden=6&input=hello%20world")
    shown = tab.js("document.getElementById('gradients').data[0].y")
    assert shown == pytest.approx([v if v > 0 else None for v in body["flow"]["h"]], rel=1e-4)
    tab.until("document.getElementById('saturation').data?.length === 3", what="one scatter per gate (i, f, o)")
    points = tab.js("document.getElementById('saturation').data.map((d) => [d.x.length, Math.min(...d.x, ...d.y), "
                    "Math.max(...d.x, ...d.y)])")
    for n, lo, hi in points:
        assert n == 6 and 0 <= lo and hi <= 1
    # the saturation of one unit, recomputed from the page's own numbers
    frac = tab.js("(() => { const s = window.gatescope.trace; const v = s.series('forget_gate', 0);"
                  " return [v.filter((x) => x < 0.1).length / v.length, v.filter((x) => x > 0.9).length / v.length]; })()")
    assert tab.js("(() => { const d = document.getElementById('saturation').data.find((d) => d.name.startsWith('forget gate'));"
                  " return [d.x[0], d.y[0]]; })()") == pytest.approx(frac)
    assert tab.errors == [] and tab.console == []
    tab.shot()


def test_training_in_the_page_then_opening_the_model(tab):
    tab.open("/")
    tab.menu("train-open")
    tab.page.click('[data-control="train-open"]')
    tab.until("document.querySelector('[data-train=\"task\"]').options.length === 5", what="the tasks")
    tab.page.select_option('[data-train="task"]', "brackets")
    tab.page.select_option('[data-train="kind"]', "gru")
    tab.page.fill('[data-train="steps"]', "250")
    tab.page.fill('[data-train="hidden"]', "8")
    tab.page.click('[data-train="start"]')
    tab.until("!document.querySelector('[data-train=\"open\"]').hidden", timeout=60, what="the finished job")
    assert "done after 250 steps" in tab.js("document.querySelector('[data-train=\"status\"]').textContent")
    assert tab.js("document.querySelector('[data-train=\"curves\"]').data[0].x.length") > 0
    assert tab.js("document.querySelector('[data-train=\"probe\"]').data.map((d) => d.name)") == ["reset_gate", "update_gate", "h"]
    tab.shot("-dialog")
    tab.page.click('[data-train="open"]')
    tab.until("location.search.includes('model=')", what="the trained model's permalink")
    tab.ready()
    header = tab.js("window.gatescope.trace.header")
    assert header["model"]["kind"] == "gru" and header["model"]["card"]["task"] == "brackets"
    assert tab.errors == [] and tab.console == []
    tab.shot()


def test_playing_frames_paint_the_steps_values(tab):
    tab.open("/?kind=lstm&hidden=8&input=sine%20400&input_type=signal&speed=8&phases=false")
    tab.js("window.gatescope.player.play()")
    tab.until("window.gatescope.player.t >= 3", what="a few played steps")
    # one frame, read while playing: every cell's fill is the color scale at that step's value
    check = tab.js("""async () => {
        const { colorAt, scaleFor } = await import('/static/core/colors.js');
        const t = window.gatescope.player.t, trace = window.gatescope.trace;
        const fills = Array.from(document.querySelectorAll('#diagram .strip[data-name=forget_gate] .cell'), (c) => c.getAttribute('fill'));
        const { colorscale, cmin, cmax } = scaleFor('unit', 'classic');
        const want = Array.from(trace.value('forget_gate', t)).map((v) => colorAt(v, colorscale, cmin, cmax));
        return { t: window.gatescope.player.t, same: t === window.gatescope.player.t, fills, want };
    }""")
    if check["same"]:  # the frame did not advance while it was read
        assert [f.replace(' ', '') for f in check["fills"]] == check["want"]
    tab.js("window.gatescope.player.pause()")
    t = tab.step
    # paused: the cells' values (what hovers and exports read) are the shown step's
    assert tab.diagram("forget_gate") == pytest.approx(tab.js(f"Array.from(window.gatescope.trace.value('forget_gate', {t}))"), abs=1e-6)
    assert tab.errors == []
