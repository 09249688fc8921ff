"""The lecture screen (issue 17): in every context a lecturer uses (presenter mode, a lesson, /embed in a slide, a laptop,
a phone) the diagram is the hero: its share of the window and its smallest text reach their targets, its texts stay
inside it, nothing is wider than the window, and the phase text and the player are on the first screen.
The contexts and the measure are tests/browser/lecture_screen.py's, which bench/bench_lecture.py prints as a table."""

import pytest

from tests.browser.lecture_screen import CONTEXTS, MEASURE, Context, problems

# the figure drawn at the size the page fitted it to (views/diagram.js redraws after a resize)
SETTLED = """() => { const el = document.getElementById('diagram'), svg = el?.querySelector('svg');
  return !!svg && Math.abs(svg.getBoundingClientRect().width - el.clientWidth) < 1.5 && Math.abs(svg.getBoundingClientRect().height - el.clientHeight) < 1.5; }"""


def measured(tab, ctx: Context) -> dict:
    tab.page.set_viewport_size({"width": ctx.width, "height": ctx.height})
    tab.open(ctx.url)
    tab.until(SETTLED, what="the diagram drawn at its fitted size")
    tab.page.wait_for_timeout(150)  # a late resize of the side column (fonts) would redraw it once more
    tab.until(SETTLED, what="the diagram drawn at its fitted size")
    return tab.js(MEASURE)


@pytest.mark.parametrize("ctx", CONTEXTS, ids=[c.name for c in CONTEXTS])
def test_the_diagram_is_the_hero(tab, ctx):
    m = measured(tab, ctx)
    assert not problems(ctx, m), (problems(ctx, m), m)


def test_every_stop_of_every_lesson_in_presenter_mode_at_1024x768(tab, api):
    """Each stop as a lecturer shows it: presenter mode on a 4:3 projector, walked with the clicker's PageDown."""
    status, listing = api("/api/lessons")
    assert status == 200
    failed = {}
    for lesson in listing["lessons"]:
        ctx = Context(lesson["name"], f"{lesson['url']}?presenter=true", 1024, 768, share=0.50, label=14)
        m = measured(tab, ctx)
        for stop in range(1, lesson["stops"] + 1):
            if stop > 1:
                tab.press("PageDown")
                tab.until(f"document.body.dataset.stop === '{stop}' && document.body.dataset.ready", what=f"stop {stop}")
                tab.until(SETTLED, what="the diagram drawn at its fitted size")
                m = tab.js(MEASURE)
            if problems(ctx, m):
                failed[f"{lesson['name']} stop {stop}"] = problems(ctx, m)
                tab.shot(f"-{lesson['name']}-{stop}")
    assert not failed, failed


def test_the_phone_scrolls_down_not_sideways_and_clips_nothing(tab):
    ctx = next(c for c in CONTEXTS if c.name == "phone")
    m = measured(tab, ctx)
    assert m["scroll_width"] <= ctx.width, m
    clipped = tab.js("""[...document.querySelectorAll('header.top *, .panel *')].filter((el) => {
        if (!el.getClientRects().length || el.closest('[hidden], details:not([open]) .menu-body, .tokens')) return false;
        const r = el.getBoundingClientRect();
        return r.width > 0 && (r.left < -0.5 || r.right > innerWidth + 0.5);
    }).map((el) => el.outerHTML.slice(0, 80))""")
    assert not clipped, clipped
