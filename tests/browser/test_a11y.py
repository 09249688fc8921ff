"""Accessibility (issue 10): tokens work from the keyboard, text and buttons reach WCAG AA contrast, and ? lists the
shortcuts."""

import pytest

VIEWPORTS = [(1024, 768), (1280, 800), (1920, 1080)]
# WCAG 2.1 contrast of the computed colour of an element's text against its own (or its nearest painted) background
CONTRAST = """(sel) => {
    const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 4).map(Number);
    const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    const el = document.querySelector(sel);
    let bg = el, paint;
    while (bg) { paint = rgb(getComputedStyle(bg).backgroundColor); if (paint.length < 4 || paint[3] > 0) break; bg = bg.parentElement; }
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), bg ? lum(paint) : 1];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_tokens_are_one_tab_stop_and_the_arrow_keys_and_enter_seek(tab, width, height):
    tab.page.set_viewport_size({"width": width, "height": height})
    tab.open("/?kind=lstm&input=hello%20world&step=2")
    stops = tab.js("[...document.querySelectorAll('#tokens .token')].filter((s) => s.tabIndex === 0).map((s) => s.dataset.t)")
    assert stops == ["2"]  # the current token is the strip's one tab stop
    assert tab.js("document.getElementById('tokens').getAttribute('role')") == "listbox"
    tab.page.focus("#tokens .token.current")
    tab.page.keyboard.press("ArrowRight")
    tab.until("document.body.dataset.step === '3' && document.activeElement.dataset.t === '3'", what="step 3, focused")
    tab.page.keyboard.press("Shift+ArrowRight")
    tab.until("document.body.dataset.step === '10'", what="ten on, held at the last step")
    tab.page.keyboard.press("Home")
    tab.until("document.body.dataset.step === '0' && document.activeElement.dataset.t === '0'", what="the first token")
    assert tab.js("document.activeElement.getAttribute('aria-selected')") == "true"
    tab.js("document.querySelector('#tokens [data-t=\"6\"]').focus()")
    tab.page.keyboard.press("Enter")
    tab.until("document.body.dataset.step === '6'", what="Enter seeks the focused token")
    assert tab.js("document.activeElement.dataset.t") == "6"
    tab.shot(f"-{width}x{height}")


@pytest.mark.parametrize("selector", [".player .play", ".phase-title", "#status", ".notes", ".input-hint",
                                      ".step-label", "h2 small", ".group label"])
def test_text_and_buttons_reach_aa_contrast(tab, selector):
    tab.open("/?kind=lstm&input=hello")
    tab.until("document.querySelector('.phase-title')", what="the phase text")
    ratio = tab.js(CONTRAST, selector)
    assert ratio >= 4.5, f"{selector}: {ratio:.2f}:1"


def test_question_mark_lists_every_shortcut_and_escape_closes_it(tab):
    tab.open("/?kind=lstm&input=hello")
    tab.press("?")
    assert tab.js("document.getElementById('shortcuts').open")
    keys = tab.js("[...document.querySelectorAll('#shortcuts kbd')].map((k) => k.textContent)")
    for key in ("Space", "→", "←", "↑", "↓", "Shift", "Home", "End", "Enter", "Escape", "?", "Tab"):
        assert key in keys, (key, keys)
    tab.page.keyboard.press("ArrowRight")  # the player does not step behind the dialog
    assert tab.step == 0
    tab.shot("-open")
    tab.page.keyboard.press("Escape")
    assert not tab.js("document.getElementById('shortcuts').open")
    tab.page.click('[data-control="shortcuts-open"]')
    assert tab.js("document.getElementById('shortcuts').open")
    tab.page.click("#shortcuts button:has-text('Close')")
    assert not tab.js("document.getElementById('shortcuts').open")
