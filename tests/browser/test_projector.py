"""A projector and a slide (issue 10): at 1024x768, 1280x800 and 1920x1080, normal and presenter mode, the diagram,
the phase panel and the player are on the first screen; their heights stay put while playing; /embed fits any frame
from 640x400 to 1920x1080 with no inner scrollbar, its link covering nothing."""

import pytest

from .conftest import ARTIFACTS

VIEWPORTS = [(1024, 768), (1280, 800), (1920, 1080)]
FRAMES = [(640, 400), (960, 600), (1280, 720), (1920, 1080)]
BOXES = """(() => Object.fromEntries(['#diagram', '#phase', '.player'].map((s) => {
    const r = document.querySelector(s).getBoundingClientRect();
    return [s, [Math.round(r.top), Math.round(r.bottom), Math.round(r.height)]];
})))()"""


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_the_diagram_phase_and_player_are_on_the_first_screen_and_stay_put(tab, width, height, presenter):
    tab.page.set_viewport_size({"width": width, "height": height})
    tab.open(f"/?preset=charlm-lstm&step=3{'&presenter=true' if presenter else ''}")
    boxes = tab.js(BOXES)
    assert tab.js("scrollY") == 0
    for name, (top, bottom, _h) in boxes.items():
        assert 0 <= top and bottom <= height, (name, boxes)
    assert boxes["#diagram"][2] >= (0.4 if presenter else 0.3) * height, boxes  # sized to the room left, not squeezed
    seen = set()
    for _ in range(9):  # through every phase of two steps: nothing above the player moves
        tab.press("ArrowDown")
        seen.add(tuple(map(tuple, tab.js(BOXES).values())))
    assert len(seen) == 1, seen
    tab.press(" ")
    tab.page.wait_for_timeout(1200)
    seen.add(tuple(map(tuple, tab.js(BOXES).values())))
    tab.press(" ")
    assert len(seen) == 1, seen
    tab.shot(f"-{width}x{height}{'-presenter' if presenter else ''}")


@pytest.mark.parametrize("width,height", FRAMES, ids=[f"{w}x{h}" for w, h in FRAMES])
def test_embed_fits_its_frame_and_its_link_covers_nothing(tab, width, height):
    tab.page.set_viewport_size({"width": width, "height": height})
    tab.open("/embed?preset=remember-lstm&step=2")
    out = tab.js("""(() => {
        const page = document.documentElement;
        const scrolling = [...document.querySelectorAll('body *')].filter((e) => {
            const s = getComputedStyle(e);
            return e.offsetParent !== null && /(auto|scroll)/.test(s.overflowY + s.overflowX)
                && (e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1);
        }).map((e) => e.id || e.className);
        const link = document.querySelector('.embed-credit a').getBoundingClientRect();
        const covered = [...document.querySelectorAll('.panel')].filter((p) => {
            const r = p.getBoundingClientRect();
            return p.offsetParent !== null && r.left < link.right && link.left < r.right && r.top < link.bottom && link.top < r.bottom;
        }).map((p) => p.className);
        const player = document.querySelector('.player').getBoundingClientRect();
        return {height: page.scrollHeight, width: page.scrollWidth, scrolling, covered, link: [link.top, link.bottom],
                player: player.bottom, diagram: document.getElementById('diagram').getBoundingClientRect().height};
    })()""")
    assert out["height"] <= height and out["width"] <= width, out
    assert out["scrolling"] == [] and out["covered"] == [], out
    assert 0 <= out["link"][0] and out["link"][1] <= height and out["player"] <= height, out
    assert out["diagram"] >= 0.3 * height, out
    assert tab.js("new URL(document.querySelector('.embed-credit a').href).search").startswith("?preset=remember-lstm")
    tab.shot(f"-{width}x{height}")


def test_embed_opens_in_a_deck_opened_from_disk(tab, tmp_path):
    """reveal.js decks are often opened as file://: the page's frame-ancestors must admit a file: ancestor (a * alone
    matches web schemes only, and Chromium then shows its error page in the frame)."""
    deck = tmp_path / "deck.html"
    deck.write_text(f'<!doctype html><title>deck</title><iframe id="slide" src="{tab.base}/embed?preset=remember-lstm&step=2"'
                    ' width="960" height="600"></iframe>')
    tab.page.goto(deck.as_uri())
    frame = tab.page.wait_for_selector("#slide").content_frame()
    drawn = None
    for _ in range(300):  # until the frame's page is drawn, or its error page stays
        try:
            drawn = frame.evaluate("document.body.dataset.ready && document.querySelectorAll('#diagram svg .cell').length")
        except Exception:  # its document is being replaced
            drawn = None
        if drawn:
            break
        tab.page.wait_for_timeout(50)
    assert frame.url.startswith(tab.base + "/embed"), frame.url
    assert drawn, "the frame's page did not draw its diagram"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / "embed_in_a_deck_from_disk.png"))
