"""import gatescope: the documented Python API, checked against the engine and the app it fronts."""

import html
import re
import sys
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
    assert type(widget).__name__ == "Viewer" and widget.payload["state"]["step"] == 3
    assert widget.payload["summary"]["steps"] == gatescope.run(model, model.card["example"]).T == 50
    assert gatescope.show("charlm-gru", "hello").payload["summary"]["steps"] == 5
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
