"""A kind added as its module and its registry line is drawn, played and trained in the page.

The server of this module registers tests/test_kind_plugin.py's throwaway kind (cells/kinds/rnn.py copied
under another name) before it imports the app, as the kind's registry line would: a sitecustomize module
on its PYTHONPATH does it. Nothing of the page, the template or the server is edited for it.
"""

from __future__ import annotations

import os
import textwrap

import pytest
from test_kind_plugin import NAME  # tests/ is on sys.path: it has a conftest.py and no __init__.py

from .conftest import ROOT, start_server, stop_server

REGISTER = textwrap.dedent(f"""
    import sys
    from pathlib import Path
    sys.path.insert(0, {str(ROOT / "tests")!r})
    from gatescope import cells
    from test_kind_plugin import load_copy
    cells.register(load_copy(Path({{where!r}})).KIND)
""")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's own server, with the throwaway kind registered (overrides the session's)."""
    work = tmp_path_factory.mktemp("plugin")
    (work / "sitecustomize.py").write_text(REGISTER.format(where=str(work)))
    proc, base = start_server(work, {"PYTHONPATH": os.pathsep.join([str(work), str(ROOT)])})
    yield base
    stop_server(proc)


def test_the_new_kind_is_drawn_played_and_offered_for_training(tab):
    tab.open(f"/?kind={NAME}&input=hello&hidden=4")
    assert tab.js("window.gatescope.trace.header.model.kind") == NAME
    # the diagram and the heatmaps come from the kind's own description: its strips, with this step's numbers
    shown = tab.diagram("h")
    assert shown == pytest.approx(tab.js("Array.from(window.gatescope.trace.value('h', 0))"), abs=1e-6) and len(shown) == 4
    assert tab.js("document.getElementById('heatmaps').data.map((d) => d.name)") == ["h"]
    tab.press("ArrowRight")
    assert tab.step == 1 and tab.diagram("h") == pytest.approx(tab.js("Array.from(window.gatescope.trace.value('h', 1))"), abs=1e-6)
    # the picker and the training dialog list it, as they list every registered kind
    assert tab.js(f"[...document.querySelectorAll('[data-train=\"kind\"] option')].some((o) => o.value === '{NAME}')")
    assert tab.js("document.querySelector('[data-control=\"source\"]').value") == f"kind:{NAME}"
    assert tab.errors == [] and tab.console == []
