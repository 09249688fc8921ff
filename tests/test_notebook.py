"""docs/gatescope.ipynb runs headlessly in a real kernel: a trace displays its summary, gatescope.show gives a widget.

nbclient and ipykernel are test extras (pyproject.toml), and so is anywidget, so CI runs the widget's cell too.
"""

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


def test_show_gives_a_widget_output(executed):
    pytest.importorskip("anywidget")
    out = outputs_of(executed, "gatescope.show(model")
    shown = [o for o in out if o.output_type == "execute_result"]
    assert shown and WIDGET in shown[0].data, out
    ref = shown[0].data[WIDGET]
    # nbclient stores the widgets' state with the notebook: the run travels in it, so it needs no server
    state = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    payload = state[ref["model_id"]]["state"]["payload"]
    assert payload["state"]["step"] == 3 and payload["state"]["phases"] is True and payload["summary"]["steps"] == 50
    assert payload["header"]["model"]["card"]["task"] == "adding"
