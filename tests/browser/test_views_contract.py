"""Adding a view to the page is one module in static/views/ and one line in static/views/index.js.

The throwaway view is never written into the source tree: the browser is served a module that exists only
in this test, and index.js as the server has it with one more line in its list. Nothing else changes: not
the template, not main.js, not the View menu's markup; the view must still get a section, a checkbox and
the bus's build, update and show.
"""

import re

import pytest

from gatescope.app.schemas import ViewState

# A view as its author would write it: a class on views/view.js with the panel it is.
THROWAWAY = """
import { View } from "./view.js";

export class Throwaway extends View {
  static id = "throwaway";
  static panel = { name: "throwaway", label: "throwaway view" };

  build(kindInfo, header, options) { super.build(kindInfo, header, options); document.body.dataset.throwawayKind = header.model.kind; }
  update(trace) { super.update(trace); document.body.dataset.throwawaySteps = String(trace.steps); }
  show(t) { document.body.dataset.throwaway = String(t); this.el.textContent = `step ${t}`; }
}
"""

# what the View menu says today, in its order (the views' declarations must keep it; a view added later adds to it)
MENU = [["diagram", "diagram"], ["heatmaps", "heatmaps"], ["lines", "lines"], ["tokens", "tokens"],
        ["predictions", "predictions"], ["gradients", "gradient flow"], ["saturation", "gate saturation"],
        ["chain", "chain over time"]]
SHOWN = ViewState.model_fields["panels"].default.split(",")  # the panels a page shows when its URL names none
# the sections templates/_partials.html writes with markup of their own (the others are plain, made by controls/panels.js)
MARKUP = [
    [None, "panel stage-panel", "the cell, step by step", False],  # the stage: its figures and its side column
    ["tokens", "panel tokens-panel", "input tokens", False],
    ["heatmaps", "panel heatmap-panel", "heatmaps", False],
    ["lines", "panel lines-panel", "units over time", False],
    ["predictions", "panel predictions-panel", "predictions", True],  # random weights: no output head
    ["gradients", "panel gradients-panel", "gradient flow", True],
    ["saturation", "panel saturation-panel", "gate saturation", True],
]
STAGE = [["chain", True], ["diagram", False]]  # the stage's two figures, each a panel of the View menu


def with_one_more_line(index_js: str, name: str) -> str:
    """index.js with name added as the last line of its list of modules."""
    listed = re.search(r"export const NAMES = \[\n(.*?)\];", index_js, re.S)
    assert listed, "static/views/index.js has no `export const NAMES = [...]` list"
    return index_js[:listed.end(1)] + f'  "{name}",\n' + index_js[listed.end(1):]


@pytest.fixture
def throwaway_tab(tab):
    """A tab whose browser sees static/views/throwaway.js and index.js naming it."""
    def index(route):
        response = route.fetch()
        route.fulfill(response=response, body=with_one_more_line(response.text(), "throwaway"))
    tab.page.route(re.compile(r"/static/views/index\.js$"), index)
    tab.page.route(re.compile(r"/static/views/throwaway\.js$"),
                   lambda route: route.fulfill(status=200, content_type="text/javascript", body=THROWAWAY))
    return tab


def declared(tab) -> list[list[str]]:
    """[name, label] of each panel the page's views declare (static panel), in static/views/index.js's order."""
    return tab.js("import('/static/views/index.js')"
                  ".then(({ VIEWS }) => VIEWS.filter((V) => V.panel).map((V) => [V.panel.name, V.panel.label]))")


def menu(tab):
    return tab.js("[...document.querySelectorAll('[data-panel-toggle]')]"
                  ".map((b) => [b.dataset.panelToggle, b.parentElement.textContent.trim(), b.checked])")


def test_a_new_view_is_one_module_and_one_line(throwaway_tab, server):
    tab = throwaway_tab
    tab.open("/?kind=lstm&input=hello&panels=diagram,tokens,throwaway")
    assert "throwaway" not in tab.js("fetch('/').then((r) => r.text())")  # the server's page knows nothing of it
    section = "document.querySelector('section[data-panel=\"throwaway\"]')"
    assert tab.js(f"{section}.matches('.layout > .panel.throwaway-panel[aria-label=\"throwaway view\"]')")
    assert tab.js(f"{section}.querySelector('#throwaway.chart') !== null")
    assert tab.js(f"{section}.hidden") is False
    panels = declared(tab)
    assert panels[-1] == ["throwaway", "throwaway view"] and [p for p in panels if p in MENU] == MENU
    assert menu(tab) == [[name, label, name in ("diagram", "tokens", "throwaway")] for name, label in panels]
    # the bus reached it: build (the run's header), update (its steps) and show (the current step)
    assert tab.js("document.body.dataset.throwawayKind") == "lstm"
    assert tab.js("document.body.dataset.throwawaySteps") == "5"
    tab.press("ArrowRight")
    tab.until("document.body.dataset.throwaway === '1'", what="the throwaway view shown step 1")
    assert tab.js("document.getElementById('throwaway').textContent") == "step 1"
    # and its checkbox is a panel's like any other
    tab.page.click("header.top details.menu summary:has-text('View')")
    tab.page.uncheck('[data-panel-toggle="throwaway"]')
    tab.until(f"{section}.hidden", what="the throwaway panel hidden by its checkbox")
    tab.until("!new URLSearchParams(location.search).get('panels').includes('throwaway')", timeout=3)


def test_the_page_keeps_its_panels_menu_and_sections(tab):
    tab.open("/?kind=lstm&input=hello")
    panels = declared(tab)
    assert [p for p in panels if p in MENU] == MENU
    assert menu(tab) == [[name, label, name in SHOWN] for name, label in panels]
    sections = tab.js("[...document.querySelectorAll('.layout > section')].map((s) => [s.dataset.panel ?? null, s.className,"
                      " s.getAttribute('aria-label'), s.hidden])")
    assert [s for s in sections if s in MARKUP] == MARKUP
    figures = tab.js("[...document.querySelectorAll('.stage-panel > [data-panel]')].map((f) => [f.dataset.panel, f.hidden])")
    assert figures == STAGE
    # every other declared panel has a plain section, shown if the page shows it
    written = {s[0] for s in MARKUP} | {name for name, _ in STAGE}
    assert [s for s in sections if s not in MARKUP] == [[name, f"panel {name}-panel", label, name not in SHOWN]
                                                        for name, label in panels if name not in written]
    assert not [u for u in tab.requests if "/api/gradients" in u], "the gradient flow was fetched with no panel needing it"


def test_every_view_keeps_the_contract_and_draws_in_its_panel(tab):
    tab.open("/?panels=diagram,heatmaps,lines,tokens,predictions,gradients,saturation")
    out = tab.js("""import('/static/views/index.js').then(({ VIEWS }) => VIEWS.map((V) => {
        const el = document.getElementById(V.id);
        return { name: V.name, panel: V.panel?.name ?? null, element: Boolean(el),
                 inPanel: V.panel ? Boolean(el?.closest(`[data-panel="${V.panel.name}"]`)) : null,
                 contract: ['build', 'update', 'show'].every((m) => typeof V.prototype[m] === 'function') };
    }))""")
    assert [v["panel"] for v in out if v["panel"] in {name for name, _ in MENU}] == [name for name, _ in MENU]
    assert all(v["element"] and v["contract"] and v["inPanel"] is not False for v in out), out
    tab.until("document.getElementById('gradients').data?.length > 0", what="the gradient flow, fetched for the panel that needs it")
