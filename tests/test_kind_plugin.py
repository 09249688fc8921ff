"""A kind added the way the house describes, its module and its registry line, works everywhere.

The throwaway kind is cells/kinds/rnn.py copied under a new name, loaded as a
module of cells.kinds and registered at test time. It must run, differentiate,
change layouts, train, describe itself and draw, with numbers equal to the rnn
it copies; and the server must answer for it on every route.

The server part runs once in a fresh interpreter that registers the kind before it
imports the app, as a kind's registry line does, and once in this process with
the app already imported: request schemas check kind names against the registry
when a request comes.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gatescope import cells
from gatescope.cells import backprop
from gatescope.cells.training import train

NAME = "plugin_rnn"
ROOT = Path(__file__).resolve().parents[1]


def load_copy(where: Path):
    """cells/kinds/rnn.py renamed to ``NAME``, imported as cells.kinds.<NAME> from ``where``."""
    source = (ROOT / "cells" / "kinds" / "rnn.py").read_text()
    assert source.count('name = "rnn"') == 1
    path = where / f"{NAME}.py"
    path.write_text(source.replace('name = "rnn"', f'name = "{NAME}"'))
    spec = importlib.util.spec_from_file_location(f"gatescope.cells.kinds.{NAME}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def kind(tmp_path):
    with cells.registered(load_copy(tmp_path).KIND) as k:
        yield k.name
    assert NAME not in cells.KINDS


def pair(kind, **kw):
    """The copy and the rnn, built alike."""
    return (cells.build(kind, 3, 5, seed=4, dtype="float64", **kw), cells.build("rnn", 3, 5, seed=4, dtype="float64", **kw))


def test_the_registry_and_everything_read_from_it_list_the_new_kind(kind):
    assert kind in cells.KINDS and cells.REGISTRY[kind].name == kind
    from gatescope.cells.kinds import KINDS
    assert kind in KINDS
    info, rnn = cells.describe(kind), cells.describe("rnn")
    assert info["name"] == kind and {**info, "name": "rnn"} == rnn
    assert cells.diagram(kind) == cells.diagram("rnn")
    with pytest.raises(cells.CellsError, match="already registered"):
        cells.register(cells.REGISTRY[kind])


@pytest.mark.parametrize("options", [{}, {"nonlinearity": "relu"}])
def test_run_and_gradients_equal_the_rnn_it_copies(kind, options):
    xs = np.random.default_rng(0).normal(size=(6, 3))
    for layers, both in ((1, False), (2, True)):
        new, old = (cells.build(k, 3, 5, num_layers=layers, bidirectional=both, seed=4, **options) for k in (kind, "rnn"))
        a, b = new.run(xs), old.run(xs)
        assert a.kind == kind and np.array_equal(a.output, b.output) and np.array_equal(a["h_pre"], b["h_pre"])
    new, old = pair(kind, **options)
    fa, fb = cells.gradient_flow(new, xs), cells.gradient_flow(old, xs)
    assert fa.keys() == fb.keys() and all(np.array_equal(fa[k], fb[k]) for k in fa)
    ga = backprop.backward(backprop.forward(new, xs[None]), np.ones((1, 6, 5)))
    gb = backprop.backward(backprop.forward(old, xs[None]), np.ones((1, 6, 5)))
    assert all(np.array_equal(ga.params[n], gb.params[n]) for n in gb.params)


def test_layouts_and_bundles_round_trip(kind, tmp_path):
    for layers, both in ((1, False), (2, True)):
        model = cells.build(kind, 3, 5, num_layers=layers, bidirectional=both, seed=1)
        for layout in model.spec.layouts:
            arrays = model.to_arrays(layout)
            back, rnn = cells.load(arrays, kind, layout), cells.load(arrays, "rnn", layout)
            assert back.kind == kind and back.params.keys() == rnn.params.keys() == model.params.keys()
            assert all(np.array_equal(back.params[n], rnn.params[n]) for n in rnn.params)   # keras sums the two biases into one
            again = back.to_arrays(layout)
            assert again.keys() == arrays.keys() and all(np.array_equal(again[n], a) for n, a in arrays.items())
    model.save(tmp_path / "m.safetensors")
    back = cells.load(tmp_path / "m.safetensors")
    assert back.kind == kind and back.config() == model.config()
    assert cells.load(model.to_arrays(), kind).assumed == cells.load(model.to_arrays(), "rnn").assumed  # the kind says what files cannot


def test_training_runs_and_writes_a_card(kind):
    run = train(kind, "remember", hidden_size=6, steps=4, seed=0, eval_sequences=32)
    assert run.model.kind == kind and run.steps == 4 and run.stopped == "done" and np.isfinite(run.history["loss"]).all()
    assert run.model.card["kind"] == kind and run.model.card["notes"] and run.model.head == "softmax"
    reference = train("rnn", "remember", hidden_size=6, steps=4, seed=0, eval_sequences=32)
    assert run.history["loss"] == reference.history["loss"] and run.model.card["notes"] == reference.model.card["notes"]


SERVER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from gatescope import cells
    from test_kind_plugin import NAME, load_copy
    cells.register(load_copy(Path(sys.argv[2])).KIND)   # the registry line, before the app is imported

    from fastapi.testclient import TestClient
    from gatescope.app.main import create_app

    out = {}
    with TestClient(create_app()) as client:
        for key, url in (("kinds", "/api/kinds"), ("kind", f"/api/kinds/{NAME}"), ("rnn", "/api/kinds/rnn"),
                         ("trace", f"/api/trace?kind={NAME}&input=hello&digits=9"),
                         ("rnn_trace", "/api/trace?kind=rnn&input=hello&digits=9"),
                         ("gradients", f"/api/gradients?kind={NAME}&input=hello&digits=9"),
                         ("rnn_gradients", "/api/gradients?kind=rnn&input=hello&digits=9")):
            r = client.get(url)
            out[key] = [r.status_code, r.json()]
        for key, url in (("page", f"/?kind={NAME}&input=hello"), ("embed", f"/embed?kind={NAME}&input=hello")):
            r = client.get(url)
            out[key] = [r.status_code, NAME in r.text]
        for key, kind in (("ws", NAME), ("rnn_ws", "rnn")):
            with client.websocket_connect(f"/ws/trace?kind={kind}&input=hello&frames=json") as ws:
                out[key] = [ws.receive_json()]
                while out[key][-1]["type"] != "summary":
                    out[key].append(ws.receive_json())
    print(json.dumps(out))
""")


def test_every_route_answers_for_the_new_kind(tmp_path):
    done = subprocess.run([sys.executable, "-c", SERVER, str(Path(__file__).parent), str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    status = {k: v[0] for k, v in out.items() if not k.endswith("ws")}
    assert set(status.values()) == {200}, status
    assert NAME in [k["name"] for k in out["kinds"][1]] and out["page"][1] and out["embed"][1]
    kind, rnn = out["kind"][1], out["rnn"][1]
    assert kind["name"] == NAME and {**kind, "name": "rnn"} == rnn          # the diagram included
    trace, reference = out["trace"][1], out["rnn_trace"][1]
    assert trace["model"]["kind"] == NAME and trace["values"] == reference["values"]
    assert out["gradients"][1]["flow"] == out["rnn_gradients"][1]["flow"]
    header, *steps, summary = out["ws"]
    assert header["type"] == "header" and header["model"]["kind"] == NAME and summary["steps"] == 5
    assert sum(s["count"] for s in steps if s["type"] == "steps") == 5
    assert header["fields"] == out["rnn_ws"][0]["fields"] and steps == out["rnn_ws"][1:-1]


def test_a_kind_registered_after_the_app_was_made_is_served(kind, tmp_path):
    from fastapi.testclient import TestClient

    from gatescope.app.config import Settings
    from gatescope.app.main import create_app
    with TestClient(create_app(Settings(upload_dir=tmp_path / "models"))) as c:
        assert c.get("/api/trace", params={"kind": "bogus_kind"}).status_code == 422
        ours = c.get("/api/trace", params={"kind": kind, "input": "ab", "digits": 9}).json()
        rnn = c.get("/api/trace", params={"kind": "rnn", "input": "ab", "digits": 9}).json()
        assert ours["values"]["h"] == rnn["values"]["h"]
        assert c.get(f"/api/kinds/{kind}").status_code == 200
        assert c.get("/api/gradients", params={"kind": kind, "input": "ab"}).status_code == 200
        assert c.get("/", params={"kind": kind}).status_code == 200
        kinds = next(f for f in c.get("/api/view").json() if f["name"] == "kind")["choices"]
        assert kind in kinds
