"""The charts draw with plotly.js's partial "cartesian" bundle (static/vendor/plotly/, issue 19): the page runs the
vendored file, and every trace its charts hand to plotly.js is of a type that bundle registers. A type it lacked would
not fail loudly: plotly.js skips the trace and the chart stays empty."""

import re

import pytest

from gatescope.app.shell import PLOTLY_JS

# every view of the page (views/index.js), so that a chart added the documented way is checked too
NAMES = re.findall(r'"([a-z-]+)",', (PLOTLY_JS.parents[2] / "views/index.js").read_text().split("NAMES = [")[1].split("]")[0])
PLOTLY_VIEWS = """async () => (await import("gatescope/views/index.js")).VIEWS.filter((V) => V.plotly).map((V) => V.id)"""
DRAWN = """(ids) => ids.every((id) => { const el = document.getElementById(id);
  return !el || el.closest('[hidden]') || (el.classList.contains('js-plotly-plot') && el.data?.length); })"""


def registered_in_the_file() -> set[str]:
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', PLOTLY_JS.read_text()))


# a linear head (the adding problem: its prediction as lines) and a softmax head (a language model: its top 5 as bars)
@pytest.mark.parametrize("preset", ["adding-lstm", "charlm-lstm"])
def test_every_chart_draws_with_a_trace_type_the_bundle_registers(tab, preset):
    tab.open(f"/?preset={preset}&step=3&panels={','.join(NAMES)}")
    ids = tab.js(PLOTLY_VIEWS)
    tab.until(DRAWN, ids, timeout=30, what=f"every plotly.js view drawn ({ids})")
    assert f"{tab.base}/vendor/plotly.min.js" in tab.requests
    registered = set(tab.js("Object.keys(Plotly.PlotSchema.get().traces)"))
    assert registered == registered_in_the_file()  # the vendored file is what runs
    drawn = tab.js("Array.from(document.querySelectorAll('.js-plotly-plot'), (gd) => gd.data.map((t) => t.type ?? 'scatter')).flat()")
    assert drawn and set(drawn) <= registered, set(drawn) - registered
    assert not [m for m in tab.console if "trace type" in m[1]], tab.console  # plotly.js's "Unrecognized trace type"
