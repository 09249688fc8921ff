"""The page's layout at a laptop's size: menus inside the window, no empty panels."""


def test_the_header_menus_open_inside_the_window(tab):
    tab.open("/?kind=lstm&input=hello")
    menus = tab.js("[...document.querySelectorAll('header.top details.menu summary')].map((s) => s.textContent.trim())")
    assert menus, "no menus in the header"
    outside = {}
    for name in menus:
        tab.page.click(f"header.top details.menu summary:has-text('{name}')")
        box = tab.js(f"""(() => {{
            const d = [...document.querySelectorAll('header.top details.menu')]
              .find((m) => m.querySelector('summary').textContent.trim() === {name!r});
            const r = d.querySelector('.menu-body').getBoundingClientRect();
            return {{ left: r.left, right: r.right, width: innerWidth, scroll: document.documentElement.scrollWidth }};
        }})()""")
        if box["left"] < 0 or box["right"] > box["width"] or box["scroll"] > box["width"]:
            outside[name] = box
            tab.shot(f"-{name}")
        tab.page.click(f"header.top details.menu summary:has-text('{name}')")  # close it again
    assert not outside, f"menus that open past the window's edge ({tab.js('innerWidth')} px wide): {outside}"


def test_a_view_change_keeps_an_empty_predictions_panel_hidden(tab):
    tab.open("/?kind=lstm&input=hello")  # random weights: no output head, nothing to predict
    assert tab.js("window.gatescope.trace.header.prediction") is None
    panel = "document.querySelector('.predictions-panel')"
    assert tab.js(f"{panel}.hidden")
    tab.page.click("header.top details.menu summary:has-text('View')")
    tab.page.select_option('[data-control="palette"]', "mono")  # a view-only change: redraw, no new stream
    tab.until("location.search.includes('palette=mono')", timeout=3)
    tab.page.click("header.top details.menu summary:has-text('View')")
    assert tab.js(f"{panel}.hidden"), "an empty predictions panel is shown after a view change"


def test_the_step_axes_tick_whole_steps(tab):
    tab.open("/?kind=lstm&input=abc")  # 3 steps: room for a tick at every half step
    ticks = tab.js("[...document.querySelectorAll('#lines .xtick text')].map((t) => t.textContent)")
    assert ticks, "no step axis on the line plots"
    fractional = [t for t in ticks if not t.lstrip("−-").isdigit()]
    assert not fractional, f"step ticks between steps on the line plots: {ticks}"
