"""GET/POST /api/trace: the numbers of a view, as JSON, npz and CSV."""

import csv
import io

import numpy as np
import pytest

from gatescope import cells
from gatescope.app.inputs import fixed_embedding


def test_get_reads_as_it_reads(client):
    r = client.get("/api/trace?kind=lstm&input=hello")
    assert r.status_code == 200
    body = r.json()
    assert body["tokens"] == list("hello") and body["steps"] == 5
    assert body["names"] == list(cells.glossary("lstm").keys())
    assert np.array(body["values"]["forget_gate"]).shape == (5, 8)
    assert body["model"]["kind"] == "lstm" and body["model"]["hidden_size"] == 8


def test_numbers_match_the_engine(client):
    body = client.get("/api/trace", params={"kind": "gru", "input": "abc", "hidden": 5, "seed": 3, "digits": 9}).json()
    model = cells.build("gru", 8, 5, seed=3)
    trace = model.run(fixed_embedding(list("abc")))
    for name in ("reset_gate", "update_gate", "candidate", "h"):
        np.testing.assert_allclose(body["values"][name], trace[name], rtol=1e-6, atol=1e-7)


def test_get_and_post_agree_and_permalinks_reproduce(client):
    params = {"kind": "peephole", "input": "0.5, -1, 2; 1 0 0; 3,3,3", "input_type": "numbers", "hidden": 4, "cell_clip": 0.5}
    a = client.get("/api/trace", params=params).json()
    b = client.post("/api/trace", json=params).json()
    c = client.get("/api/trace", params=a["request"]).json()  # the normalized request is itself a permalink
    assert a["values"] == b["values"] == c["values"]
    assert a["tokens"] == ["[0.5, -1, 2]", "[1, 0, 0]", "[3, 3, 3]"] and a["values"]["x"] == [[0.5, -1, 2], [1, 0, 0], [3, 3, 3]]
    assert a["request"]["input"] == params["input"] and np.abs(a["values"]["c"]).max() == 0.5   # the clip bites
    other = client.get("/api/trace", params={**params, "input": "0.5, -1, 2; 1 0 0"}).json()   # the input is what is run
    assert other["steps"] == 2 and other["values"]["h"] == a["values"]["h"][:2]


def test_digits_round_each_array_to_significant_digits(client):
    body = client.get("/api/trace", params={"kind": "lstm", "input": "hi", "digits": 3}).json()
    gates = np.array(body["values"]["input_gate"])
    assert np.all(np.round(gates, 3) == gates)  # values in (0, 1): three decimals
    assert all(len(repr(v)) <= 6 for row in body["values"]["input_gate"] for v in row)


def test_names_layer_and_direction(client):
    body = client.get("/api/trace", params={"kind": "lstm", "input": "abcd", "layers": 2, "bidirectional": True,
                                            "names": "forget,c", "layer": 0, "direction": 1}).json()
    # "forget" is how links spelled the forget gate before gates were *_gate: it still reads, as today's name
    assert body["names"] == ["forget_gate", "c"] and set(body["values"]) == {"forget_gate", "c"}
    assert body["layer"] == 0 and body["direction"] == 1
    model = cells.build("lstm", 8, 8, num_layers=2, bidirectional=True)
    trace = model.run(fixed_embedding(list("abcd")))
    np.testing.assert_allclose(body["values"]["c"], trace.layer(0, 1)["c"], atol=1e-4)
    assert np.array(body["final"]["h"]).shape == (4, 8)


@pytest.mark.parametrize("spec,steps", [("sine 40 period=10", 40), ("step 12 at=3", 12), ("impulse 9 at=4", 9), ("noise 30", 30)])
def test_signals(client, spec, steps):
    body = client.get("/api/trace", params={"kind": "rnn", "input": spec, "input_type": "signal", "seed": 1}).json()
    x = np.array(body["values"]["x"])
    assert x.shape == (steps, 1)
    if spec.startswith("step"):
        assert (x[:3] == 0).all() and (x[3:] == 1).all()
    if spec.startswith("impulse"):
        assert x[4, 0] == 1 and np.count_nonzero(x) == 1


def test_unicode_and_markup_are_just_characters(client):
    text = "héllo 😀 <img src=x onerror=alert(1)>"
    body = client.get("/api/trace", params={"kind": "lstm", "input": text}).json()
    assert body["tokens"] == list(text)
    assert body["request"]["input"] == text


def test_npz_download_holds_every_layer(client):
    r = client.get("/api/trace", params={"kind": "lstm", "input": "abc", "layers": 2, "format": "npz"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    with np.load(io.BytesIO(r.content), allow_pickle=False) as z:
        assert z["layer1/forward/forget_gate"].shape == (3, 8) and z["layer0/forward/c"].dtype == np.float32
        assert list(z["tokens"]) == ["a", "b", "c"]


def test_csv_download_is_long_format(client):
    r = client.get("/api/trace", params={"kind": "rnn", "input": "ab", "hidden": 3, "names": "h", "format": "csv"})
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["step", "token", "name", "unit", "value"]
    assert len(rows) == 1 + 2 * 3 and rows[1][:4] == ["0", "a", "h", "0"]


def test_responses_are_compressed(client):
    r = client.get("/api/trace", params={"kind": "lstm", "input": "a longer input to compress"}, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"


def test_kinds_carry_vocabulary_equations_and_diagram(client):
    kinds = client.get("/api/kinds").json()
    assert [k["name"] for k in kinds] == list(cells.KINDS)
    lstm = next(k for k in kinds if k["name"] == "lstm")
    assert {n["name"] for n in lstm["diagram"]["nodes"]} == {n["name"] for n in lstm["glossary"]["names"]}
    assert any(e["latex"].startswith(r"f_t = \sigma") for e in lstm["equations"])
    gru = client.get("/api/kinds/gru", params={"reset_after": False}).json()
    assert "reset_hidden" in [n["name"] for n in gru["glossary"]["names"]]
    peep = client.get("/api/kinds/peephole").json()
    assert any(e["style"] == "peephole" for e in peep["diagram"]["edges"])


def test_view_fields_are_served(client):
    fields = {f["name"]: f for f in client.get("/api/view").json()}
    assert fields["hidden"]["default"] == 8 and fields["kind"]["choices"] == list(cells.KINDS)
    assert fields["reset_after"]["kind_option"] and fields["step"]["view_only"]
