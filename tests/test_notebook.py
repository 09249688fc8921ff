"""docs/gatescope.ipynb runs headlessly in a real kernel: a trace displays its summary, gatescope.show gives a widget.

nbclient and ipykernel are test extras (pyproject.toml), and so is anywidget, so CI runs the widget's cell too.
"""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "gatescope.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


@pytest.fixture(scope="module")
def executed():
    """The notebook run top to bottom in a fresh python3 kernel, from the repository's folder."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    return nb


def outputs_of(nb, needle: str) -> list[dict]:
    """The outputs of the one code cell whose source holds ``needle``."""
    cells = [c for c in nb.cells if c.cell_type == "code" and needle in c.source]
    assert len(cells) == 1, needle
    return cells[0].outputs


def test_every_cell_runs_without_an_error(executed):
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]


def test_a_trace_displays_its_summary(executed):
    out = outputs_of(executed, "trace = gatescope.run(model")
    shown = [o for o in out if o.output_type == "execute_result"]
    assert shown and "text/html" in shown[0].data, out
    page = shown[0].data["text/html"]
    assert page.startswith('<div class="gatescope-trace"') and "<b>lstm</b> trace: 50 steps" in page and "<svg" in page
    assert "<script" not in page
    assert "<Trace lstm: 50 step(s)" in shown[0].data["text/plain"]


def test_the_notebook_prints_what_the_model_learned_and_the_presets_table(executed):
    text = "".join(o.get("text", "") for o in outputs_of(executed, "marked = trace"))
    assert "input gate of unit 1 at the marked steps: [0.8" in text  # the card's 0.81 at both marked steps
    table = outputs_of(executed, "gatescope.presets()")[0].data["text/html"]
    assert "adding-lstm" in table and "<table><tr><th" in table
    model = outputs_of(executed, 'model = gatescope.preset("adding-lstm")')[0].data["text/html"]
    assert "<b>lstm</b> model: input_size 2, hidden 16" in model


def test_from_torch_matches_torch_in_the_kernel(executed):
    pytest.importorskip("torch")
    text = "".join(o.get("text", "") for o in outputs_of(executed, "gatescope.from_torch(net)"))
    assert float(text.split("largest gap to torch:")[1]) < 1e-6


def saved_widgets(nb) -> dict:
    return nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]


def test_show_gives_a_widget_output_with_its_still(executed):
    pytest.importorskip("anywidget")
    out = outputs_of(executed, "gatescope.show(model")
    shown = [o for o in out if o.output_type == "execute_result"]
    assert shown and WIDGET in shown[0].data, out
    still = shown[0].data["text/html"]  # what GitHub, nbviewer and nbconvert show: the diagram at the step and its numbers
    assert still.startswith('<div class="gatescope-still"') and "<svg" in still and "50 steps · step 3" in still
    # nbclient saves the widgets' state with the notebook, as JupyterLab does when asked: the still, never the page or the run
    saved = saved_widgets(executed)[shown[0].data[WIDGET]["model_id"]]["state"]
    assert saved["_still"] == still and not {"_shell", "payload"} & set(saved)
    assert len(json.dumps(saved)) < 2**20


BIG = """import numpy as np, gatescope
model = gatescope.build("lstm", input_size=16, hidden_size=64, num_layers=2, seed=0)
xs = np.random.default_rng(0).standard_normal((20_000, 16)).astype(np.float32)
gatescope.show(model, xs, step=3)"""


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A notebook that shows a 20,000-step trace (past the server's max_steps and max_json_values), run and saved."""
    pytest.importorskip("anywidget")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(BIG)]
    nbclient.NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    path = tmp_path_factory.mktemp("big") / "big.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_long_trace_is_shown_and_saved_small(big):
    nb = nbformat.read(big, as_version=4)
    out = nb.cells[0].outputs
    assert not [o for o in out if o.output_type == "error"], out
    shown = [o for o in out if o.output_type == "execute_result"][0]
    assert "20000 steps · step 3" in shown.data["text/html"]
    viewers = {k: v for k, v in saved_widgets(nb).items() if v["model_name"] == "AnyModel"}
    assert len(viewers) == 1 and all(len(json.dumps(v)) < 2**20 for v in viewers.values())
    assert big.stat().st_size < 2**20


def test_nbconvert_shows_the_still_where_no_widget_runs(big, tmp_path):
    """nbconvert's HTML, as nbviewer makes it: with no widget state saved (JupyterLab's default), the output's text/html
    (the still); with it, the widget's view, which the page renders from the saved state with the widget manager."""
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.read(big, as_version=4)
    del nb.metadata["widgets"]
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    still = body[body.index('<div class="gatescope-still"'):]
    svg = still[still.index("<svg"):still.index("</svg>") + len("</svg>")]
    ET.fromstring(svg)  # well formed
    assert "LSTM, random weights (seed 0) · hidden 64 · layer 2 of 2" in still
