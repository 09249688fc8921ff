"""The standalone page from file:// with the network blocked: it draws, plays, steps and walks phases with the page's
keys, hovers, animates the flow and draws its charts, asking nothing of any server; and the page's Export menu saves it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, ROOT

NETWORK = ("http://", "https://", "ws://", "wss://")


@pytest.fixture(scope="module")
def standalone_file(tmp_path_factory) -> Path:
    """adding-lstm at step 3, written by the command line."""
    out = tmp_path_factory.mktemp("standalone") / "view.html"
    done = subprocess.run([sys.executable, "-m", "gatescope.app.cli", "export", "--preset", "adding-lstm", "--step", "3", "--format", "html",
                           "-o", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


def offline(tab) -> list[str]:
    """Block every request to a network scheme; the list of those the page tried."""
    tried: list[str] = []

    def block(route):
        tried.append(route.request.url)
        route.abort()
    for scheme in ("http", "https", "ws", "wss"):
        tab.page.context.route(f"{scheme}://**/*", block)
    return tried


def opened(tab, path: Path) -> float:
    """Open the file; seconds until the diagram is drawn."""
    started = time.perf_counter()
    tab.page.goto(path.as_uri())
    tab.until("document.querySelector('#diagram svg .strip') && document.body.dataset.step", timeout=10, what="the diagram drawn")
    return time.perf_counter() - started


def test_the_file_plays_offline_like_the_page(tab, standalone_file):
    tried = offline(tab)
    seconds = opened(tab, standalone_file)
    assert tab.step == 3  # the step it was exported at
    # KaTeX's stylesheet, which views/equation.js names by import.meta.resolve: the file's import map has it as data:
    katex = "document.querySelector('link[rel=stylesheet][href^=\"data:text/css\"]')"
    tab.until(f"{katex}?.sheet?.cssRules.length > 100", what="KaTeX's stylesheet applied from the file's import map")
    assert tab.js("document.getElementById('model-title').textContent").startswith("LSTM")
    tab.until("document.body.dataset.ready === '1' && document.querySelector('#heatmaps .main-svg')", timeout=15, what="the charts drawn")
    values = tab.diagram("c")
    assert values and len(values) == tab.js("window.gatescope.trace.width('c')")
    want = tab.js("Array.from(window.gatescope.trace.value('c', 3))")
    assert max(abs(a - b) for a, b in zip(values, want)) < 1e-3  # the strip shows the trace's step 3
    tab.press("ArrowRight")
    tab.until("document.body.dataset.step === '4'", what="ArrowRight to step 4")
    tab.press("ArrowLeft", 2)
    tab.until("document.body.dataset.step === '2'", what="ArrowLeft twice to step 2")
    phases = tab.js("window.gatescope.trace.header.kind_info.glossary.phases.map((p) => p.name)")
    seen = []
    for _ in phases:
        tab.press("ArrowDown")
        tab.until("document.body.dataset.phase", what="a phase shown")
        seen.append(tab.phase)
    assert seen == phases, (seen, phases)  # ↓ walks the step's phases in order
    tab.shot("-phase")
    mark = tab.js("document.querySelector('#diagram [data-part=symbol]').dataset.owner")
    tab.page.hover(f'#diagram [data-part=symbol][data-owner="{mark}"]')
    tip = tab.until("(() => { const t = document.querySelector('#diagram .diagram-tip'); return t && !t.hidden && t.textContent; })()",
                    what="the hover's explanation")
    assert "unit 0: " in tip
    tab.js("window.gatescope.frame(2, window.gatescope.player.phases()[1], 0.5)")  # a frame of the flow animation
    assert tab.step == 2
    tab.page.mouse.move(5, 5)
    tab.press("End")
    tab.until("document.body.dataset.step === String(window.gatescope.trace.steps - 1)", what="End to the last step")
    tab.shot()
    assert not tried, f"the file asked the network for {tried}"
    assert all(u.startswith(("file:", "blob:", "data:")) for u in tab.requests), tab.requests
    assert not tab.sockets and not tab.errors
    assert not [c for c in tab.console if c[0] == "error"], tab.console
    print(f"standalone: diagram drawn {seconds:.2f} s after goto (file://)")


def test_space_plays_the_file_and_pauses_it(tab, standalone_file):
    offline(tab)
    opened(tab, standalone_file)
    tab.press(" ")
    assert tab.js("window.gatescope.player.playing")
    tab.until("Number(document.body.dataset.step) >= 4", timeout=15, what="playing on to step 4")
    tab.press(" ")
    time.sleep(0.3)
    paused = tab.step
    time.sleep(0.6)
    assert tab.step == paused and not tab.js("window.gatescope.player.playing")


def test_export_menu_saves_the_standalone_page(tab):
    tab.open("/?preset=adding-lstm&step=2")
    tab.page.click("details.menu:has([data-control=export-html]) > summary")
    with tab.page.expect_download(timeout=60_000) as info:
        tab.page.click("[data-control=export-html]")
    download = info.value
    assert download.suggested_filename.startswith("gatescope-adding-lstm-") and download.suggested_filename.endswith("-step2.html")
    path = Path(download.path())
    assert path.stat().st_size > 1_000_000  # plotly.js travels inside (gzipped: app/standalone.py plotly_block)
    tab.until("document.getElementById('message').textContent.includes('Saved')", timeout=10, what="the saved message")
    again = ARTIFACTS / "standalone-from-menu.html"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    again.write_bytes(path.read_bytes())
    assert b'id="gatescope-trace"' in again.read_bytes()


def test_the_layer_and_direction_pickers_work_in_the_file(tab, tmp_path):
    out = tmp_path / "stacked.html"
    done = subprocess.run([sys.executable, "-m", "gatescope.app.cli", "export", "--kind", "gru", "--input", "hello", "--set", "layers=2",
                           "--set", "bidirectional=true", "--set", "hidden=5", "-o", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    tried = offline(tab)
    opened(tab, out)
    shown = "[window.gatescope.trace.header.layer, window.gatescope.trace.header.direction]"
    assert tab.js(shown) == [1, 0]  # the top layer, forward: the page's default
    before = tab.diagram("h")
    tab.page.select_option("[data-control=layer]", "0")
    tab.until(f"{shown}.join() === '0,0'", what="layer 1 of 2 shown")
    tab.page.select_option("[data-control=direction]", "1")
    tab.until(f"{shown}.join() === '0,1'", what="the reverse direction shown")
    tab.until("document.querySelector('#diagram svg .strip') && document.body.dataset.step", what="the diagram redrawn")
    assert tab.diagram("h") != before
    tab.until("document.body.dataset.ready === '1' && document.querySelector('#heatmaps .main-svg')", timeout=15, what="the charts drawn")
    assert tab.js("document.getElementById('message').hidden")  # no "needs the server": the file holds every layer
    assert not tab.js("document.querySelector('.layout').classList.contains('stale')")
    tab.shot()
    assert not tried and not tab.errors
