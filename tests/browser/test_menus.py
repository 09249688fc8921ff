"""Menus (issues 10, 17): Model, What if, Export and View close on an action (a button), an outside click and Escape,
and stay open while their fields are set; one is open at a time; on a 390x844 phone and on the projector sizes they
stay on screen."""

import pytest

OPEN = "[...document.querySelectorAll('details.menu')].map((m) => m.open)"
VIEWPORTS = [(390, 844), (1024, 768), (1280, 800), (1920, 1080)]


def summary(name: str) -> str:
    return f"details.menu summary:has-text('{name}')"


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_menus_stay_on_screen_and_close_on_escape_outside_and_a_choice(tab, width, height):
    tab.page.set_viewport_size({"width": width, "height": height})
    tab.open("/?kind=lstm&input=hello")
    names = tab.js("[...document.querySelectorAll('header.top details.menu > summary')].map((s) => s.textContent.trim())")
    assert names == ["Model", "What if", "Export", "View"], names
    for name in names:
        tab.page.click(summary(name))
        box = tab.js("(() => { const r = [...document.querySelectorAll('details.menu[open] .menu-body')][0].getBoundingClientRect();"
                     " return [r.left, r.right, document.documentElement.clientWidth]; })()")
        assert box[0] >= 0 and box[1] <= box[2], (name, box)
        tab.shot(f"-{name.lower()}-{width}x{height}")
        tab.page.keyboard.press("Escape")
        assert tab.js(OPEN) == [False] * 4, name
        assert tab.js("document.activeElement.tagName") == "SUMMARY"  # the focus goes back to the menu's button
        tab.page.click(summary(name))
        tab.page.mouse.click(5, height - 5)  # outside
        assert tab.js(OPEN) == [False] * 4, name
    tab.page.click(summary("Export"))
    tab.page.click(summary("View"))  # one menu at a time
    assert tab.js(OPEN) == [False, False, False, True]
    tab.page.select_option('[data-control="palette"]', "colorblind")  # a field: the menu stays for the next
    assert tab.js(OPEN) == [False, False, False, True]
    tab.until("location.search.includes('palette=colorblind')", what="the palette chosen")
    tab.page.click(summary("Export"))
    tab.page.click('[data-control="copy-link"]')  # an action
    assert tab.js(OPEN) == [False] * 4


def test_ticking_boxes_in_the_view_menu_keeps_it_open(tab):
    """Two panels are two ticks in one trip: a checkbox keeps its menu open; its summary, Escape or a click outside
    closes it."""
    tab.open("/?kind=lstm&input=hello")
    view = "document.querySelector('[data-panel-toggle]').closest('details.menu').open"
    tab.page.click(summary("View"))
    hidden = tab.js("[...document.querySelectorAll('[data-panel-toggle]')].filter((b) => !b.checked).map((b) => b.dataset.panelToggle)")
    assert len(hidden) >= 2, hidden
    for name in hidden[:2]:
        tab.page.check(f'[data-panel-toggle="{name}"]')
        assert tab.js(view), f"the View menu closed on ticking {name}"
    shown = tab.until(f"{hidden[:2]!r}.every((p) => window.gatescope.state.panels.split(',').includes(p)) && window.gatescope.state.panels",
                      what="both panels in the view state")
    tab.page.check('[data-control="presenter"]')
    assert tab.js(view) and tab.until("document.body.classList.contains('presenter')", what="presenter mode")
    tab.shot("-two-ticks")
    tab.page.click(summary("View"))  # its summary closes it
    assert not tab.js(view), shown
    tab.page.click(summary("View"))
    tab.page.uncheck(f'[data-panel-toggle="{hidden[0]}"]')
    assert tab.js(view)
    tab.page.keyboard.press("Escape")
    assert not tab.js(view)
