"""Bad input gets a clear 4xx naming the field, the value and the limit: never a 500 or a hang."""

import io

import numpy as np
import pytest

from gatescope import cells
from gatescope.app import run
from gatescope.app.inputs import parse_signal


def detail(r):
    body = r.json()
    d = body["detail"]
    return d if isinstance(d, str) else " ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})" for e in d)


@pytest.mark.parametrize("params,status,words", [
    ({"kind": "lstmm"}, 422, ["kind", "lstmm", "'gru'"]),
    ({"kind": "lstm", "hidden": "eight"}, 422, ["hidden", "eight", "integer"]),
    ({"kind": "lstm", "hidden": 5000}, 422, ["hidden", "5000", "1024", "GATESCOPE_MAX_HIDDEN"]),
    ({"kind": "lstm", "layers": 9}, 422, ["layers", "9", "4", "GATESCOPE_MAX_LAYERS"]),
    ({"kind": "lstm", "hidden": 0}, 422, ["hidden", "greater than or equal to 1"]),
    ({"kind": "lstm", "seed": -1}, 422, ["seed"]),
    ({"kind": "lstm", "input": ""}, 422, ["input", "empty"]),
    ({"kind": "lstm", "input": "1, nan, 2", "input_type": "numbers"}, 422, ["input", "nan", "step 1", "finite"]),
    ({"kind": "lstm", "input": "1, inf", "input_type": "numbers"}, 422, ["inf", "finite"]),
    ({"kind": "lstm", "input": "1 2; 3", "input_type": "numbers"}, 422, ["step 1", "1 values", "2"]),
    ({"kind": "lstm", "input": "1, two", "input_type": "numbers"}, 422, ["'two'", "not a number"]),
    ({"kind": "lstm", "input": "square 10", "input_type": "signal"}, 422, ["square", "sine"]),
    ({"kind": "lstm", "input": "sine 99999", "input_type": "signal"}, 413, ["99999", "5000", "MAX_STEPS"]),
    ({"kind": "lstm", "input": "sine 10 period=0", "input_type": "signal"}, 422, ["period"]),
    ({"kind": "lstm", "input": "sine 10 color=2", "input_type": "signal"}, 422, ["color", "period"]),
    ({"kind": "lstm", "input_type": "audio"}, 422, ["input_type", "audio"]),
    ({"kind": "gru", "proj_size": 2}, 422, ["proj_size", "gru", "reset_after"]),
    ({"kind": "lstm", "proj_size": 8}, 422, ["proj_size", "smaller than hidden_size"]),
    ({"kind": "rnn", "nonlinearity": "sigmoid"}, 422, ["nonlinearity", "sigmoid"]),
    ({"kind": "lstm", "bogus": 1}, 422, ["bogus", "Extra inputs"]),
    ({"kind": "lstm", "preset": "remember-lstm"}, 422, ["give one of kind, preset or model"]),
    ({"preset": "no-such-preset"}, 404, ["no-such-preset"]),
    ({"model": "0123456789abcdef0123456789abcdef"}, 404, ["model", "0123456789abcdef0123456789abcdef"]),
    ({"model": "../../etc/passwd"}, 422, ["model"]),
    ({"kind": "lstm", "layer": 3}, 422, ["layer", "3", "1 layer"]),
    ({"kind": "lstm", "direction": 1}, 422, ["direction", "bidirectional"]),
    ({"kind": "lstm", "names": "forget,zz"}, 422, ["names", "zz", "forget_gate"]),
    ({"kind": "lstm", "hidden": 1024, "input": "sine 5000", "input_type": "signal"}, 413,
     [f"= {5000 * (4 * 1024 * (1 + 1024) + run.STEP_OVERHEAD)} multiply-adds", "10000000000", "MAX_WORK"]),
    ({"kind": "lstm", "hidden": 512, "input": "sine 500", "input_type": "signal", "format": "json"}, 413, ["MAX_JSON_VALUES", "npz"]),
])
def test_bad_parameters(client, params, status, words):
    r = client.get("/api/trace", params=params)
    assert r.status_code == status, r.text
    text = detail(r)
    for w in words:
        assert w in text, (w, text)


def test_over_the_json_cap_npz_still_works(client):
    """The answer JSON refuses (a case above) comes whole as npz: every name of every step, the engine's numbers."""
    params = {"kind": "lstm", "hidden": 512, "input": "sine 500", "input_type": "signal"}
    assert client.get("/api/trace", params=params).status_code == 413
    r = client.get("/api/trace", params={**params, "format": "npz"})
    assert r.status_code == 200
    with np.load(io.BytesIO(r.content), allow_pickle=False) as z:
        assert {f"layer0/forward/{n}" for n in cells.glossary("lstm").keys()} <= set(z.files) and len(z["tokens"]) == 500
        xs = parse_signal("sine 500", seed=0, max_steps=500).xs
        np.testing.assert_array_equal(z["layer0/forward/x"], xs.astype(np.float32))
        trace = cells.build("lstm", 1, 512, seed=0).run(xs)
        for name in ("forget_gate", "c", "h"):
            assert z[f"layer0/forward/{name}"].shape == (500, 512)
            np.testing.assert_array_equal(z[f"layer0/forward/{name}"], trace[name].astype(np.float32), err_msg=name)


def test_a_megabyte_of_text(client):
    r = client.post("/api/trace", json={"kind": "lstm", "input": "é" * 250_000})  # under the body cap: read, then counted
    assert r.status_code == 422
    assert "250000 characters" in detail(r) and "200000" in detail(r)
    r = client.post("/api/trace", json={"kind": "lstm", "input": "é" * (1 << 20)})  # 6 MB: refused before it is parsed
    assert r.status_code == 413 and "body" in detail(r) and "GATESCOPE_MAX_INPUT_CHARS" in detail(r)


def test_malformed_json_and_wrong_types_in_the_body(client):
    r = client.post("/api/trace", content=b'{"kind": "lstm", "input": ', headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/api/trace", json=["lstm"])
    assert r.status_code == 422
    r = client.post("/api/trace", json={"kind": "lstm", "hidden": [1, 2]})
    assert r.status_code == 422 and "hidden" in detail(r)
    r = client.post("/api/trace", json={"kind": "lstm", "hidden": 1e300})
    assert r.status_code == 422


def test_errors_do_not_echo_huge_inputs(client):
    r = client.post("/api/trace", json={"kind": "lstm", "input": "x" * 300_000, "hidden": "big"})
    assert r.status_code == 422 and len(r.content) < 2_000


def test_unknown_kind_in_kinds_route(client):
    assert client.get("/api/kinds/lstmm").status_code == 422
    assert client.get("/api/kinds/gru", params={"proj_size": 3}).status_code == 422


def test_json_bodies_are_typed_strictly_while_queries_read_text(client):
    """A URL is text ("5" is 5); a JSON body has its own types, and true is not a number."""
    assert client.get("/api/trace", params={"kind": "lstm", "input": "ab", "color_unit": "1", "speed": "2"}).status_code == 200
    for bad in ({"color_unit": True}, {"speed": "2"}, {"bidirectional": 1}, {"hidden": "8"}):
        r = client.post("/api/trace", json={"kind": "lstm", "input": "ab", **bad})
        assert r.status_code == 422, bad
        assert next(iter(bad)) in str(r.json()["detail"])
    assert client.post("/api/trace", json={"kind": "lstm", "input": "ab", "speed": 2, "hidden": 8}).status_code == 200


# -- machines read codes, people read prose ---------------------------------------------------------------------------

@pytest.mark.parametrize("params,status,code,data", [
    ({"kind": "lstm", "hidden": 5000}, 422, "over_limit", {"limit": 1024, "setting": "max_hidden"}),
    ({"kind": "lstm", "input": "1, two", "input_type": "numbers"}, 422, "not_a_number", {"step": 1}),
    ({"preset": "charlm-lstm", "input": "the \u00a7\u00b6\u00a7"}, 422, "unknown_characters", {"missing": ["\u00a7", "\u00b6"], "unknown_token": None}),
    ({"preset": "adding-lstm", "input": "hello", "input_type": "text"}, 422, "reads_no_text", None),
    ({"preset": "no-such-preset"}, 404, "not_found", None),
    ({"kind": "lstm", "input": "abc", "names": "nope"}, 422, "invalid", None),
])
def test_an_error_carries_a_code_and_its_facts(client, params, status, code, data):
    r = client.get("/api/trace", params=params)
    body = r.json()
    assert (r.status_code, body["code"], body.get("data")) == (status, code, data), body


def test_a_streamed_error_carries_its_code(client):
    with client.websocket_connect("/ws/trace?preset=charlm-lstm&input=the%20%C2%A7") as ws:
        msg = ws.receive_json()
    assert msg["type"] == "error" and msg["code"] == "unknown_characters" and msg["data"]["missing"] == ["\u00a7"], msg
