"""Training you can replay (issue 11, item 5): a run in the page keeps its snapshots; a labelled slider scrubs
them with the keyboard, the probe's maps (labelled with the kind's symbols) change with it, step 0 stands beside
the chosen snapshot, the curve carries a marker at it; "watch" paces a short run in the page; and a trained
model opened later replays its training from GET /api/models/{id}/training."""

import time

import numpy as np

WATCH_S = 0.3  # static/controls/train-replay.js WATCH_MS
PROBE = "document.querySelector('[data-train=\"probe\"]')"
BEFORE = "document.querySelector('[data-train=\"before\"]')"
SCRUB = "document.querySelector('[data-train=\"scrub\"]')"


def text(tab, name):
    return tab.js(f"document.querySelector('[data-train=\"{name}\"]').textContent")


def start(tab, task="remember", kind="lstm", steps="1500", watch=True):
    tab.menu("train-open")
    tab.page.click('[data-control="train-open"]')
    tab.until("document.querySelector('[data-train=\"task\"]').options.length === 5", what="the tasks")
    tab.page.select_option('[data-train="task"]', task)
    tab.page.select_option('[data-train="kind"]', kind)
    tab.page.fill('[data-train="steps"]', steps)
    tab.page.set_checked('[data-train="watch"]', watch)
    tab.page.click('[data-train="start"]')


def finished(tab):
    tab.until("!document.querySelector('[data-train=\"open\"]').hidden", timeout=90, what="the finished job")


def z(tab, which=PROBE, i=0):
    return tab.js(f"Array.from({which}.data[{i}].z, (row) => Array.from(row))")


def stored(tab, api):
    """The run's training as the server keeps it (the page read it once the run was done)."""
    url = next(r for r in tab.requests if r.endswith("/training"))
    status, body = api(url[url.index("/api/"):])
    assert status == 200
    return body


def shows(tab, snapshot, which=PROBE, timeout=60.0):
    """Wait until the map of the first name shows this snapshot's values (units down, steps across); the deadline only
    bounds a failure, generously for a loaded machine."""
    want = np.array(snapshot["values"]["forget_gate"]).T
    end = time.monotonic() + timeout
    while True:
        got = np.array(z(tab, which))
        if got.shape == want.shape and np.allclose(got, want, atol=1e-6):
            return
        assert time.monotonic() < end, f"the map does not show step {snapshot['step']}"
        time.sleep(0.05)


def test_a_finished_run_scrubs_with_the_keyboard_beside_step_0(tab, api):
    tab.page.set_viewport_size({"width": 1280, "height": 800})
    tab.open("/")
    start(tab, watch=False)
    finished(tab)
    tab.until(f"{SCRUB}.max > 19 && {SCRUB}.value === {SCRUB}.max", what="the last snapshot shown")
    n = int(tab.js(f"{SCRUB}.max")) + 1
    assert 20 <= n <= 42
    tab.until(f"{PROBE}.data?.[0]?.z?.[0]?.length === 19 && {BEFORE}.data?.[0]?.z?.[0]?.length === 19", what="both maps drawn")
    # rows are labelled with the kind's symbols, never raw names
    labels = tab.js(f"(() => {{ const l = {PROBE}.layout; return [...Object.keys(l).filter((k) => k.startsWith('yaxis'))"
                    f".map((k) => l[k].title?.text), ...(l.annotations ?? []).map((a) => a.text)].filter(Boolean); }})()")
    assert {"f(t)", "i(t)", "c(t)", "o(t)", "h(t)"} <= set(labels) and not {"forget_gate", "c", "h"} & set(labels)
    assert tab.js(f"{PROBE}.data.map((d) => d.name)") == ["forget_gate", "input_gate", "c", "output_gate", "h"]
    tab.until("document.querySelector('[data-train=\"after-title\"]').textContent === 'after: step 1,500'", what="the stored run")
    assert text(tab, "before-title").startswith("before: step 0")
    body = stored(tab, api)
    assert len(body["snapshots"]) == n
    shows(tab, body["snapshots"][-1])
    shows(tab, body["snapshots"][0], BEFORE)
    # keyboard: the slider has the focus, Home goes to step 0, where both sides show the same maps
    page_step = tab.step
    tab.page.focus('[data-train="scrub"]')
    tab.page.keyboard.press("Home")
    tab.until(f"{SCRUB}.value === '0'", what="Home: the first snapshot")
    shows(tab, body["snapshots"][0])  # step 0 on both sides
    assert tab.js(f"{SCRUB}.getAttribute('aria-valuetext')") == f"snapshot 1 of {n}, step 0 of 1,500"
    tab.page.keyboard.press("ArrowRight")
    tab.until(f"{SCRUB}.value === '1'", what="ArrowRight: the next snapshot")
    step1 = int(text(tab, "after-title").removeprefix("step ").replace(",", ""))
    assert 0 < step1 < 1500 and f"step {step1:,} of 1,500" in text(tab, "at")
    shows(tab, body["snapshots"][1])
    assert step1 == body["snapshots"][1]["step"] and not np.allclose(z(tab), z(tab, BEFORE), atol=0.01)  # the gates moved
    # the curve's marker and line stand at the chosen snapshot
    marked = tab.js("(() => { const c = document.querySelector('[data-train=\"curves\"]'); "
                    "return [c.data[2].x[0], c.layout.shapes[0].x0, c.data[0].x.length]; })()")
    assert marked[0] == marked[1] == step1 and marked[2] > 100
    tab.page.keyboard.press("End")
    tab.until(f"{SCRUB}.value === {SCRUB}.max", what="End: the last snapshot")
    shows(tab, body["snapshots"][-1])
    assert tab.js("document.activeElement.dataset.train") == "scrub" and tab.step == page_step  # the page's player kept still
    assert tab.errors == [] and tab.console == []
    tab.shot("-1280x800")


def test_watch_paces_a_short_run_in_the_page_without_slowing_it(tab):
    tab.open("/")
    start(tab, watch=True)
    # the slider and the page's own clock read together, in the page: how late Python reads them does not matter
    now = f"[Number({SCRUB}.value), performance.now() / 1000, Number({SCRUB}.max)]"
    first, t0, _ = tab.until(f"{SCRUB}.max > 0 && {now}", timeout=60, what="the first snapshots")
    finished(tab)
    shown, t1, total = tab.js(now)
    ran = t1 - t0
    assert shown - first <= ran / WATCH_S + 1, (first, shown, ran, total)  # at most one snapshot per WATCH_MS of the page's time
    if ran + 1 < total * WATCH_S:  # the run ended sooner than its watching does (not on a loaded machine): still behind,
        assert shown < total, (shown, ran, total)  # so the page paced it, and the server did not wait for the page
    tab.shot("-watching")
    tab.until(f"{SCRUB}.value === {SCRUB}.max", timeout=total * WATCH_S + 60, what="the watched run's last snapshot")
    assert text(tab, "after-title") == "after: step 1,500"
    assert tab.errors == [] and tab.console == []


def test_a_trained_model_opened_later_replays_its_training_in_presenter_mode(tab):
    tab.page.set_viewport_size({"width": 1920, "height": 1080})
    tab.open("/?presenter=true")
    start(tab, task="brackets", kind="gru", steps="400", watch=False)
    finished(tab)
    tab.page.click('[data-train="open"]')
    tab.until("location.search.includes('model=')", what="the trained model's permalink")
    tab.ready()
    model = tab.js("new URLSearchParams(location.search).get('model')")
    tab.page.reload()
    tab.ready()
    tab.menu("train-open")
    tab.page.click('[data-control="train-open"]')
    tab.until("document.querySelector('[data-train=\"status\"]').textContent.startsWith('the training of the open model')",
              what="the open model's training")
    tab.until(f"{PROBE}.data?.length === 3 && {BEFORE}.data?.length === 3", what="both maps")
    assert tab.js(f"{PROBE}.data.map((d) => d.name)") == ["reset_gate", "update_gate", "h"]
    assert tab.js("[document.querySelector('[data-train=\"task\"]').value, document.querySelector('[data-train=\"kind\"]').value]") == \
        ["brackets", "gru"]  # the form is set to what the model was trained on
    assert "GRU on “Count bracket depth”" in text(tab, "status") and int(tab.js(f"{SCRUB}.max")) + 1 >= 20
    assert any(f"/api/models/{model}/training" in r for r in tab.requests)
    tab.page.click('[data-train="play"]')  # plays the replay from the start
    tab.until(f"{SCRUB}.value !== {SCRUB}.max", what="the replay restarted")
    tab.until(f"Number({SCRUB}.value) >= 3", what="the replay playing")
    tab.page.click('[data-train="play"]')  # pause
    tab.until("document.querySelector('[data-train=\"play\"]').getAttribute('aria-label') === 'play the snapshots'", what="paused")
    assert tab.errors == [] and tab.console == []
    tab.shot("-1920x1080-presenter")
