"""import gatescope: the documented Python API, checked against the engine and the app it fronts."""

import html
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from gatescope import cells
import gatescope
from gatescope.cells.presets import list_presets


def same_params(a: cells.Model, b: cells.Model):
    assert a.params.keys() == b.params.keys()
    for k in a.params:
        assert a.params[k].dtype == b.params[k].dtype and np.array_equal(a.params[k], b.params[k]), k


def test_build_is_the_engines_builder():
    a = gatescope.build("gru", 3, 5, num_layers=2, bidirectional=True, seed=7, reset_after=False)
    same_params(a, cells.build("gru", 3, 5, num_layers=2, bidirectional=True, seed=7, reset_after=False))
    assert a.options["reset_after"] is False
    assert not np.array_equal(a.params["weight_ih_l0"], gatescope.build("gru", 3, 5, num_layers=2, bidirectional=True, seed=8).params["weight_ih_l0"])


def test_presets_name_every_shipped_bundle_and_load_by_either_spelling():
    shipped = gatescope.presets()
    assert shipped.names() == [p["name"] for p in list_presets()] and "adding-lstm" in shipped.names()
    assert all(p["card"].get("title") for p in shipped)
    table = shipped._repr_html_()
    assert table.count("<tr>") == len(shipped) + 1 and "adding-lstm" in table
    a, b, c = gatescope.preset("adding-lstm"), gatescope.load("preset:adding-lstm"), gatescope.preset("preset:adding-lstm")
    same_params(a, b)
    same_params(a, c)
    assert a.card == b.card and a.card["task"] == "adding"


def test_an_unknown_preset_lists_the_names():
    with pytest.raises(cells.CellsError, match="unknown preset 'adding-lsmt'; expected one of: adding-gru, adding-lstm"):
        gatescope.load("preset:adding-lsmt")


def test_bytes_load_as_the_file_does_and_a_pickle_is_refused(tmp_path):
    path = cells.presets.HERE / "charlm-gru.safetensors"
    from_file, from_bytes = gatescope.load(path), gatescope.load(path.read_bytes())
    same_params(from_file, from_bytes)
    assert from_bytes.vocab.tokens == from_file.vocab.tokens and np.array_equal(from_bytes.embedding, from_file.embedding)
    import pickle
    with pytest.raises(cells.FormatError, match=r"^the bytes: torch.load\(weights_only=True\) could not read it"):
        gatescope.load(pickle.dumps({"weight_ih_l0": np.zeros((4, 2))}))  # torch's own loader, which refuses NumPy's pickles
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("make", [
    lambda: gatescope.preset("charlm-lstm"),                                              # vocab, embedding, softmax head, card
    lambda: gatescope.build("lstm", 3, 6, num_layers=2, bidirectional=True, proj_size=2, seed=1),
    lambda: gatescope.build("gru", 2, 4, reset_after=False, seed=2, dtype="float64"),
    lambda: gatescope.build("peephole", 2, 3, seed=3),
], ids=["charlm-lstm", "lstm-proj-bi", "gru-cho-float64", "peephole"])
def test_save_round_trips_bit_exactly(make, tmp_path):
    model = make()
    path = tmp_path / "m.safetensors"
    model.save(path)
    back = gatescope.load(path)
    same_params(model, back)
    assert back.config() == model.config() and back.card == model.card and back.labels == model.labels
    if model.vocab is not None:
        assert back.vocab.tokens == model.vocab.tokens and np.array_equal(back.embedding, model.embedding)
        assert all(np.array_equal(x, y) for x, y in zip(back.decoder, model.decoder))
    xs = np.random.default_rng(0).standard_normal((9, model.input_size))
    assert np.array_equal(back.run(xs).output, model.run(xs).output)
    path.unlink()
    gatescope.save(model, path)  # the function spelling writes the same bundle
    assert cells.io.content_digest(gatescope.load(path)) == cells.io.content_digest(back)


def test_the_apps_upload_reads_a_saved_model_and_draws_its_numbers(client, tmp_path):
    model = gatescope.preset("charlm-gru")
    path = tmp_path / "mine.safetensors"
    model.save(path)
    r = client.post("/api/models", content=path.read_bytes())
    assert r.status_code in (200, 201), r.text
    model_id = r.json()["id"]
    r = client.get("/api/trace", params={"model": model_id, "input": "it is a truth", "names": "h,update_gate", "digits": 9})
    assert r.status_code == 200, r.text
    body = r.json()
    trace = gatescope.run(model, "it is a truth")
    assert body["tokens"] == trace.tokens and body["model"]["card"] == model.card
    for name in ("h", "update_gate"):  # nine significant digits of float32 numbers: the same numbers
        np.testing.assert_allclose(np.array(body["values"][name]), trace[name], rtol=1e-7, atol=1e-9)


def test_run_reads_text_as_the_page_does():
    model = gatescope.preset("charlm-lstm")
    trace = gatescope.run(model, "hello there")
    ids = model.vocab.encode("hello there")
    assert np.array_equal(trace.output, model.run(model.embed(np.array(ids))).output)
    assert trace.tokens == list("hello there") and trace.T == 11
    same = gatescope.run("charlm-lstm", np.array(ids))  # token ids, and a preset by name
    assert np.array_equal(same.output, trace.output) and same.tokens == trace.tokens


def test_run_reads_numbers_signals_and_arrays():
    model = gatescope.build("gru", 1, 4, seed=0)
    a = gatescope.run(model, "0.5, -1, 2")
    b = gatescope.run(model, [0.5, -1, 2])
    assert np.array_equal(a.output, b.output) and a.tokens == b.tokens == ["0.5", "-1", "2"]
    assert np.array_equal(a.output, model.run(np.array([[0.5], [-1], [2]])).output)
    s = gatescope.run(model, "sine 20 period=10", input_type="signal")
    np.testing.assert_allclose(s["x"][:, 0], np.sin(2 * np.pi * np.arange(20) / 10), atol=1e-7)
    two = gatescope.build("lstm", 2, 3)
    assert gatescope.run(two, "1 0; 0 1; 1 1").T == 3


def test_run_names_the_field_value_and_limit_of_bad_input():
    with pytest.raises(cells.CellsError, match=r"input: 1 character\(s\) not in the model's vocabulary of 36: '♥' at 6"):
        gatescope.run("charlm-gru", "hello ♥")
    assert gatescope.run("charlm-gru", "hello ♥", unknown="skip").T == 6
    with pytest.raises(cells.CellsError, match="input: each step has 2 value"):
        gatescope.run(gatescope.build("gru", 1, 4), "1 2; 3 4")
    with pytest.raises(cells.ShapeError, match="input_size"):
        gatescope.run(gatescope.build("gru", 3, 4), np.zeros((5, 2)))


def test_run_keeps_a_clamp_and_the_cards_units():
    model = gatescope.preset("adding-lstm")
    trace = gatescope.run(model, model.card["example"], clamp="forget_gate:1")
    assert np.all(trace["forget_gate"] == 1)
    assert trace.units == model.card["units"]


def band_fills(page: str, name: str) -> set[str]:
    """The colours of the SVG band the summary draws for ``name``."""
    row = page.split(f"<code>{name}</code>", 1)[1].split("</svg>", 1)[0]
    return set(re.findall(r'fill="(#[0-9a-f]{6})"', row))


def test_a_trace_summary_is_static_escaped_and_true():
    model = gatescope.preset("adding-lstm")
    trace = gatescope.run(model, model.card["example"], clamp="forget_gate:1;input_gate:0")
    page = trace._repr_html_()
    assert page.startswith('<div class="gatescope-trace"') and "<b>lstm</b> trace: 50 steps" in page
    assert "<script" not in page.lower() and not re.search(r"\son\w+=", page)  # no script, no handler
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "") and "url(" not in page  # nothing fetched
    # held at 1 the forget gate is the scale's darkest blue, held at 0 the input gate its lightest: the colours are the values
    assert band_fills(page, "forget_gate") == {"#08306b"} and band_fills(page, "input_gate") == {"#f7fbff"}
    assert band_fills(page, "c") == {"#f7f7f7"}  # nothing written, nothing kept: c stays 0, the signed scale's white
    assert len(band_fills(gatescope.run(model, model.card["example"])._repr_html_(), "c")) > 5
    assert "units 1, 0, 2, 3, 4, 5, 6, 7 of 16" in page  # the card's unit first
    assert len(page) < 40_000
    trace.tokens = ["<img src=x onerror=alert(1)>", "&", " "]
    page = trace._repr_html_()
    assert "<img" not in page and html.escape("<img src=x onerror=alert(1)>") in page and "&amp;" in page and "&#9251;" in page


def test_a_long_wide_trace_summary_says_what_it_leaves_out():
    trace = gatescope.run(gatescope.build("gru", 2, 30, num_layers=2, bidirectional=True), np.zeros((200, 2)))
    page = trace._repr_html_()
    assert "2 layers, bidirectional" in page and "steps 0–63 of 200" in page and "units 0, 1, 2, 3, 4, 5, 6, 7 of 30" in page
    for name in ("reset_gate", "update_gate", "h"):
        assert f"<code>{name}</code>" in page
    assert "<Trace gru: 200 step(s), 2 layer(s) x 2 direction(s)" in repr(trace)


def test_a_model_summary():
    page = gatescope.preset("charlm-lstm")._repr_html_()
    assert "<b>lstm</b> model: input_size" in page and "vocabulary of" in page and "softmax head of" in page
    assert "reset_after=False" in gatescope.build("gru", 2, 3, reset_after=False)._repr_html_()
    assert "reset_after" not in gatescope.build("gru", 2, 3)._repr_html_()


def test_show_without_anywidget_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "anywidget", None)  # what an environment without it imports
    with pytest.raises(ImportError, match=re.escape('pip install "gatescope[notebook]"')):
        gatescope.show("adding-lstm")


def test_show_gives_the_widget_of_the_models_run():
    pytest.importorskip("anywidget")
    model = gatescope.preset("adding-lstm")
    widget = gatescope.show(model, step=3, phases=True)
    assert type(widget).__name__ == "Viewer" and widget.state["step"] == 3 and widget.state["phases"] is True
    assert widget.trace.T == gatescope.run(model, model.card["example"]).T == 50
    assert gatescope.show("charlm-gru", "hello").trace.T == 5
    with pytest.raises(cells.CellsError, match=r"step: 50 is past the run's last step, 49 \(the input has 50 steps\)"):
        gatescope.show(model, step=50)


def test_show_refuses_a_model_it_cannot_find_before_drawing():
    with pytest.raises((cells.CellsError, FileNotFoundError, OSError)):
        gatescope.show("no-such-preset-or-file")


def readme_blocks() -> list[str]:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index("## Python and notebooks"):]
    return re.findall(r"```python\n(.*?)```", section[: section.index("\n## ", 3)], re.S)


def test_the_readmes_python_and_notebooks_snippets_run(tmp_path, monkeypatch):
    from test_from_torch import fake, keras_weights, torch_params

    monkeypatch.chdir(tmp_path)
    first, live, keras = readme_blocks()
    scope: dict = {}
    exec(first, scope)
    assert np.array_equal(gatescope.load("gru.safetensors").params["weight_hh_l0"], scope["gru"].params["weight_hh_l0"])
    assert scope["trace"]["input_gate"][scope["trace"]["x"][:, 1] == 1, 1].min() > 0.5
    try:
        import torch  # noqa: F401
    except ImportError:
        torch = None
    if torch is not None:
        scope = {}
        exec(live, scope)
        assert scope["probs"].shape == (8, 9) and gatescope.load("mine.safetensors").vocab.tokens == list("abcdefgh ")
    rng = np.random.default_rng(0)
    net = fake("Sequential", "seq")
    net.layers = [fake("Embedding", "emb", [rng.standard_normal((3, 2))]),
                  fake("LSTM", "lstm", keras_weights("lstm", torch_params("lstm", 2, 4, rng)), units=4),
                  fake("Dense", "dense", [rng.standard_normal((4, 3)), np.zeros(3)], activation="softmax")]
    scope = {"keras_model": net, "vocab": ["a", "b", "c"]}
    exec(keras, scope)
    assert scope["model"].head == "softmax" and gatescope.run(scope["model"], "abc").T == 3


# -- issue 18: the summary of a run never fails on a card's units ------------------------------------------------

def test_a_card_set_by_hand_with_units_that_are_not_units_does_not_break_the_summary():
    """A card is checked when the model is made; one assigned afterwards may hold anything, and the summary shows the
    units that are units of the model first and leaves out the rest (as the page does)."""
    model = gatescope.preset("adding-lstm")
    model.card = {**model.card, "units": ["x", None, 99, True, 3]}
    trace = gatescope.run(model, model.card["example"])
    assert trace.units == [3]
    assert "units 3, 0, 1, 2" in trace._repr_html_()
    model.card = {**model.card, "units": "x"}
    assert gatescope.run(model, model.card["example"]).units is None and "<svg" in gatescope.run(model, model.card["example"])._repr_html_()


def test_a_model_whose_card_units_are_not_units_is_refused_when_made_or_loaded(tmp_path):
    import json

    from safetensors.numpy import save_file
    params = cells.build("gru", 2, 3).params
    for units, message in (([None], "card units: item 0 is null"), (["x"], 'card units: item 0 is "x"'),
                           ([5], "card units: item 0 is 5, not a unit of this model; expected a list of unit indices 0..2")):
        with pytest.raises(cells.CellsError, match=re.escape(message)):
            cells.Model("gru", params, input_size=2, hidden_size=3, card={"units": units})
        path = tmp_path / "bad.safetensors"
        save_file(cells.build("gru", 2, 3).to_arrays(), str(path), metadata={"gatescope": "1", "kind": "gru", "card": json.dumps({"units": units})})
        with pytest.raises(cells.CellsError, match=re.escape(message)):
            gatescope.load(path)


# -- issue 19, item 5: notebooks users really have -----------------------------------------------------------------

class FrontEnd:
    """What the widget's front end (static/widget.js, static/core/kernel.js) asks a Viewer, and the custom messages it
    answers with: (content, [buffer bytes])."""

    def __init__(self, widget):
        self.widget, self.sent = widget, []
        widget.send = lambda content, buffers=None: self.sent.append((content, [bytes(b) for b in buffers or []]))

    def ask(self, **content) -> list[tuple[dict, list[bytes]]]:
        n = len(self.sent)
        self.widget._answer(self.widget, {"view": "out-1", **content}, [])
        return self.sent[n:]

    def stream(self, query: str = "", id: int = 1) -> tuple[dict, list[dict], np.ndarray, dict]:
        """(header, each rows message, every row, summary) of a stream, asking for "more" after each chunk as the page does."""
        got = self.ask(type="stream", id=id, query=query)
        assert got[0][0]["type"] == "header", got[0][0]
        header, chunks = got[0][0]["header"], [got[1]]
        while chunks[-1][0]["type"] == "rows":
            chunks.append(self.ask(type="more", id=id)[0])
        rows = [np.frombuffer(b[0], "<f4").reshape(c["count"], header["stride"]) for c, b in chunks[:-1]]
        assert chunks[-1][0]["type"] == "summary", chunks[-1][0]
        return header, [c for c, _ in chunks[:-1]], np.concatenate(rows), chunks[-1][0]["summary"]


def saved_state_bytes(widget) -> int:
    """A widget's state as ipywidgets saves it into a notebook: its JSON, and its binary buffers beside it."""
    from ipywidgets.widgets.widget import _remove_buffers
    state, _, buffers = _remove_buffers(widget.get_state())
    return len(json.dumps(state)) + sum(len(b) for b in buffers)


def field(header: dict, rows: np.ndarray, name: str) -> np.ndarray:
    f = next(f for f in header["fields"] if f["name"] == name)
    return rows[:, f["offset"]:f["offset"] + f["width"]]


def still_svg(html_text: str) -> ET.Element:
    """The still's diagram, parsed as XML (it must be well formed)."""
    return ET.fromstring(html_text[html_text.index("<svg"):html_text.index("</svg>") + len("</svg>")])


def test_a_run_past_the_servers_limits_is_shown_with_the_notebooks_own_and_its_steps_go_as_binary():
    """20,000 steps of a 2-layer, 64-unit LSTM: 20 million values, past the server's max_steps and max_json_values. The
    widget draws it all the same; its rows go as float32 buffers, the shown step's first, then a chunk each time the
    page asks; the saved state stays a still of tens of kilobytes."""
    pytest.importorskip("anywidget")
    from gatescope.app.config import Settings
    model = gatescope.build("lstm", 16, 64, num_layers=2, seed=0)
    xs = np.random.default_rng(0).standard_normal((20_000, 16)).astype(np.float32)
    assert len(xs) > Settings().max_steps and len(xs) * 1024 > Settings().max_json_values
    widget = gatescope.show(model, xs, step=3)
    front = FrontEnd(widget)
    (page, shell), = front.ask(type="page", have=[])
    assert page["type"] == "page" and len(shell[0]) > 2**20 and page["config"]["view"]["step"] == 3
    assert front.ask(type="page", have=[page["shell"]])[0][1] == []  # a notebook page that has the shell gets it once
    header, chunks, rows, summary = front.stream()
    assert header["steps"] == summary["steps"] == 20_000 and rows.shape == (20_000, header["stride"]) and header["layer"] == 1
    assert 3 < chunks[0]["count"] < chunks[1]["count"] and all(c["count"] * header["stride"] * 4 <= 4 * 2**20 for c in chunks)
    top = widget.trace.layer(1)
    assert np.array_equal(field(header, rows, "h"), top["h"].astype(np.float32))
    assert np.array_equal(field(header, rows, "forget_gate")[-1], top["forget_gate"][-1].astype(np.float32))
    header0, _, rows0, _ = front.stream("layer=0", id=2)  # the page's layer picker
    assert header0["layer"] == 0 and np.array_equal(field(header0, rows0, "c"), widget.trace.layer(0)["c"].astype(np.float32))
    (refused, _), = front.ask(type="stream", id=3, query="names=h")  # another view of the run: a new gatescope.show
    assert refused["type"] == "error" and refused["code"] == "one_run"
    assert saved_state_bytes(widget) < 2**20  # the budget: 1 MB of saved widget state per widget
    assert "_shell" not in widget.get_state() and "payload" not in widget.get_state()
    text = ("it is a truth universally acknowledged, " * 63)[:2_500]  # the user's 2,500 characters, once over max_json_values
    assert gatescope.show("charlm-lstm", text).trace.T == 2_500


def test_the_output_carries_a_still_of_the_shown_step_for_what_runs_no_widget():
    """text/html beside the widget's view: the diagram at the step as SVG (well-formed, each cell's value the step's)
    and the words: the model's title, the steps, the step and its input, the main states' values."""
    pytest.importorskip("anywidget")
    model = gatescope.build("gru", 2, 6, seed=4)
    xs = np.random.default_rng(1).standard_normal((30, 2))
    widget = gatescope.show(model, xs, step=7)
    data, _ = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data and data["text/html"] == widget._still
    page = data["text/html"]
    assert "<script" not in page.lower() and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "GRU, random weights (seed 4) · hidden 6" in page and "30 steps · step 7" in page
    svg = still_svg(page)
    h = widget.trace["h"][7]
    cells_h = [c for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("data-name") == "h"
               for c in g if c.get("data-value") is not None]
    assert len(cells_h) == 6 and all(float(c.get("data-value")) == pytest.approx(h[int(c.get("data-unit"))]) for c in cells_h)
    row = page.split("<code>h</code>", 1)[1].split("</tr>", 1)[0]
    assert [float(v.replace("\u2212", "-")) for v in re.findall(r">([^<>]+)</td>", row)] == pytest.approx(h, abs=5e-3)
    model.card = {"title": "<img src=x onerror=alert(1)> & co"}  # a card set by hand: its words are text, never markup
    nasty = gatescope.show(model, xs)._still
    assert "<img" not in nasty and html.escape("<img src=x onerror=alert(1)> & co") in nasty


def test_titles_say_what_the_model_is_in_one_place():
    from gatescope.app import wire
    assert wire.title(gatescope.build("lstm", 2, 8, seed=3))["text"] == "LSTM, random weights (seed 3)"
    assert "随机种子 3" in wire.title(gatescope.build("lstm", 2, 8, seed=3))["zh"]["text"]
    preset = gatescope.preset("adding-lstm")
    assert wire.title(preset) == {"text": preset.card["title"], "zh": {"text": preset.card.get("zh", {}).get("title", preset.card["title"])},
                                  "sized": False}
    sized = wire.title(gatescope.build("gru", 3, 4).astype("float32"), None)  # astype keeps the source: still random
    assert sized["text"] == "GRU, random weights (seed 0)"
    plain = cells.build("rnn", 3, 5, num_layers=2, bidirectional=True)  # the engine's own: nothing says it is random
    rnn = cells.describe("rnn")["title"]  # "Elman RNN"
    assert wire.title(plain) == {"text": f"{rnn}: input 3, hidden 5, 2 layers, bidirectional",
                                 "zh": {"text": wire.title(plain)["zh"]["text"]}, "sized": True}
    assert "输入 3，隐藏层大小 5，2 层，双向" in wire.title(plain)["zh"]["text"]
    onnx = cells.Model(plain.kind, plain.params, input_size=3, hidden_size=5, num_layers=2, bidirectional=True,
                       source={"file": "m.onnx", "format": "onnx", "nodes": ["lstm_1", "lstm_2"]})
    assert wire.title(onnx)["text"] == f"{rnn} from m.onnx node 'lstm_1'"
    assert wire.title(plain, {"model": "abc12345ffff"})["text"] == f"{rnn}, uploaded model abc12345"
    assert wire.title(plain, {"kind": "rnn"}, 9)["text"] == f"{rnn}, random weights (seed 9)"


def test_the_stream_header_carries_the_title_the_page_shows(client):
    """The page, compare, the standalone file and the widget read header.model.title: random, uploaded, preset."""
    body = client.get("/api/trace", params={"kind": "lstm", "seed": 4, "input": "hi"}).json()
    assert body["model"]["title"]["text"] == "LSTM, random weights (seed 4)"
    r = client.post("/api/models", content=_bundle(gatescope.build("gru", 2, 3, seed=1)))
    model_id = r.json()["id"]
    body = client.get("/api/trace", params={"model": model_id, "input": "1 0; 0 1", "input_type": "numbers"}).json()
    assert body["model"]["title"]["text"] == f"GRU, uploaded model {model_id[:8]}"
    preset = client.get("/api/trace", params={"preset": "adding-lstm"}).json()
    assert preset["model"]["title"]["text"] == gatescope.preset("adding-lstm").card["title"]


def _bundle(model) -> bytes:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.safetensors"
        model.save(path)
        return path.read_bytes()


def test_a_model_read_from_a_file_is_titled_by_the_file(tmp_path):
    pytest.importorskip("anywidget")
    path = tmp_path / "m.safetensors"
    cells.build("gru", 2, 3).save(path)
    widget = gatescope.show(str(path), np.zeros((4, 2)))
    assert widget._still.split("</div>", 1)[0].endswith("GRU from m.safetensors · hidden 3")


def _torch():
    """torch, or the test skipped: gatescope does not depend on it."""
    return pytest.importorskip("torch")


def test_show_and_run_take_a_live_torch_module():
    torch = _torch()
    pytest.importorskip("anywidget")
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(16, 64, num_layers=2)
    xs = np.random.default_rng(2).standard_normal((12, 16)).astype(np.float32)
    trace = gatescope.run(lstm, xs)
    with torch.no_grad():
        out = lstm(torch.tensor(xs)[:, None])[0][:, 0].numpy()
    assert np.abs(trace.output - out).max() < 1e-5
    widget = gatescope.show(lstm, xs, step=2)
    assert "LSTM from torch: input 16, hidden 64, 2 layers · layer 2 of 2" in widget._still
    header, _, rows, _ = FrontEnd(widget).stream()
    assert header["model"]["title"]["text"] == "LSTM from torch: input 16, hidden 64, 2 layers" and header["model"]["title"]["sized"]
    cell = torch.nn.GRUCell(3, 5)
    assert gatescope.run(cell, np.ones((4, 3))).T == 4


def test_a_whole_torch_network_is_refused_naming_the_layer_to_pass():
    torch = _torch()

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.rnn, self.fc = torch.nn.Embedding(5, 3), torch.nn.GRU(3, 4), torch.nn.Linear(4, 5)

    for call in (gatescope.show, gatescope.run):
        with pytest.raises(cells.CellsError) as e:
            call(Net(), "abc")
        said = str(e.value)
        assert f"{call.__module__.split('.')[0]}.{call.__name__}: got " in said and "a whole network" in said
        assert "pass net.rnn (GRU)" in said and "gatescope.from_torch(net.rnn, vocab=..., embedding=net.embed, decoder=net.fc)" in said
    with pytest.raises(cells.CellsError, match="no nn.LSTM, nn.GRU or nn.RNN in it"):
        gatescope.run(torch.nn.Linear(2, 2), np.zeros((3, 2)))


def test_text_for_a_live_layer_without_a_vocabulary_says_how_to_give_it_one():
    torch = _torch()
    with pytest.raises(cells.CellsError, match=re.escape("to read text, give it its vocabulary and embedding: "
                                                         "gatescope.from_torch(layer, vocab=..., embedding=...)")):
        gatescope.run(torch.nn.LSTM(3, 4), "abc")


def test_show_and_run_take_a_live_keras_model():
    from test_from_torch import fake, keras_weights, torch_params
    rng = np.random.default_rng(0)
    net = fake("Sequential", "seq")
    net.layers = [fake("Embedding", "emb", [rng.standard_normal((3, 2))]),
                  fake("LSTM", "lstm", keras_weights("lstm", torch_params("lstm", 2, 4, rng)), units=4)]
    type(net).__module__ = "keras.src.models.sequential"  # what a real Keras object's class says
    ids = np.array([0, 2, 1, 1])
    assert np.array_equal(gatescope.run(net, ids).output, gatescope.run(gatescope.from_keras(net), ids).output)


def test_run_of_a_batch_gives_each_sequences_trace():
    model = gatescope.build("gru", 3, 5, seed=1)
    batch = np.random.default_rng(3).standard_normal((4, 9, 3))
    traces = gatescope.run(model, batch)
    assert isinstance(traces, list) and type(traces).__name__ == "Traces" and len(traces) == 4
    for x, t in zip(batch, traces):
        assert np.array_equal(t.output, gatescope.run(model, x).output)
    assert "<b>4</b> traces, 9 steps each" in traces._repr_html_()
    texts = gatescope.run("charlm-gru", ["hello", "it is"])
    assert [t.tokens for t in texts] == [list("hello"), list("it is")]
    lm = gatescope.preset("charlm-gru")
    ids = np.array([lm.vocab.encode("hello"), lm.vocab.encode("there")])
    assert [t.tokens for t in gatescope.run(lm, ids)] == [list("hello"), list("there")]
    ragged = gatescope.run(model, [np.zeros((2, 3)), np.ones((5, 3))])
    assert [t.T for t in ragged] == [2, 5]
    assert gatescope.run(model, np.zeros((9, 3))).T == 9  # a (T, input_size) array is one sequence


def test_show_of_a_batch_picks_a_sequence():
    pytest.importorskip("anywidget")
    model = gatescope.build("lstm", 3, 4, seed=2)
    batch = np.random.default_rng(4).standard_normal((3, 6, 3)).astype(np.float32)
    widget = gatescope.show(model, batch, step=1)
    assert widget.sequences == ["0 · 6 steps", "1 · 6 steps", "2 · 6 steps"] and "sequence 0 of 3" in widget._still
    widget.sequence = 2
    assert "sequence 2 of 3" in widget._still
    header, _, rows, _ = FrontEnd(widget).stream()
    assert np.array_equal(field(header, rows, "h"), gatescope.run(model, batch[2])["h"].astype(np.float32))
    with pytest.raises(Exception, match="sequence: 3 is not one of 0..2"):
        widget.sequence = 3
    texts = gatescope.show("charlm-gru", ["hello", "it is a truth universally acknowledged"])
    assert texts.sequences == ["0 · 5 steps: 'hello'", "1 · 38 steps: 'it is a truth universall'…"]
