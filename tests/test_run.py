"""The run layer (app/run.py): every cost counted before what it sizes exists, and a run made once for the requests
that share it. Issue 18's findings 1, 2, 6, 7 and 9, each as the request that found it."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from gatescope import cells
from gatescope.app import run
from gatescope.app import store as store_mod
from gatescope.app.config import Settings
from gatescope.app.main import create_app
from gatescope.app.schemas import ViewState
from test_ws import read_stream

HEAVY = {"kind": "fgr", "hidden": 1024, "layers": 4, "bidirectional": True}


@pytest.fixture
def app_client(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path / "m")), base_url="http://localhost") as c:
        yield c


def counted(monkeypatch, owner, name: str, record) -> list:
    """Patch owner.name to note record(*args) of each call in a list, then do what it did; the list."""
    calls, real = [], getattr(owner, name)

    def call(self, *args, **kwargs):
        calls.append(record(*args))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(owner, name, call)
    return calls


@pytest.fixture
def builds(monkeypatch):
    """Every random model built, by kind: a request refused for its weights builds none."""
    return counted(monkeypatch, store_mod.ModelStore, "random", lambda kind, *rest: kind)


@pytest.fixture
def runs(monkeypatch):
    """Every call of Model.run, by its steps (a chunk of a stream is one too)."""
    return counted(monkeypatch, cells.Model, "run", lambda xs, *rest: len(xs))


# -- 1. a random model's weights are counted before it is built ---------------------------------------------------

def test_a_random_model_over_the_weight_limit_is_refused_before_it_is_built(app_client, builds):
    r = app_client.get("/api/trace", params={**HEAVY, "input": "1", "input_type": "numbers", "names": "h"})
    assert r.status_code == 413, r.text[:300]
    detail = r.json()["detail"]
    assert detail.startswith("hidden: a random model of 1 steps x 4 layer(s) x 2 direction(s) x hidden 1024")
    assert "bytes of weights is over the limit of 67108864 (setting GATESCOPE_MAX_MODEL_BYTES)" in detail
    assert builds == []
    page = app_client.get("/", params={"kind": "lstm", "hidden": 1024, "layers": 4, "bidirectional": "true"})  # a link, an <img>
    assert page.status_code == 413 and "GATESCOPE_MAX_MODEL_BYTES" in page.text
    assert builds == []


def test_the_weights_counted_are_the_weights_built():
    """The plan's count is the built model's arrays, for every kind and its options (no kind is named here)."""
    settings, store = Settings(), None
    for kind in cells.KINDS:
        view = ViewState.model_validate({"kind": kind, "hidden": 6, "layers": 2, "bidirectional": True, "input": "ab"})
        p = run.plan(view, settings, store)
        model = cells.build(kind, p.parsed.xs.shape[1], 6, num_layers=2, bidirectional=True, **p.options)
        assert p.cost.weight_bytes == sum(a.nbytes for a in model.params.values()), kind


def test_a_model_just_under_the_weight_limit_is_built(tmp_path, builds):
    c, _ = run.cost_of(run.plan(ViewState.model_validate({"kind": "lstm", "hidden": 64, "input": "ab"}), Settings(), None), 2,
                       cells.Clamp(), False, 8)
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_model_bytes=c.weight_bytes))) as client:
        assert client.get("/api/trace", params={"kind": "lstm", "hidden": 64, "input": "ab", "names": "h"}).status_code == 200
        over = client.get("/api/trace", params={"kind": "lstm", "hidden": 65, "input": "ab", "names": "h"})
        assert over.status_code == 413 and "GATESCOPE_MAX_MODEL_BYTES" in over.json()["detail"]
    assert builds == ["lstm"]


# -- 2. a lesson's stops are planned, not built -------------------------------------------------------------------

def test_a_lesson_of_heavy_stops_builds_no_model(app_client, builds, runs):
    heavy = {"kind": "lstm", "hidden": 1024, "input": "hello"}  # within every limit: 16 MB of weights each
    words = {"en": "a stop", "zh": "一站"}
    lesson = {"name": "heavy", "title": words, "stops": [{"title": words, "text": words, "view": {**heavy, "seed": i}} for i in range(12)]}
    r = app_client.post("/api/lessons", content=json.dumps(lesson), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:300]
    assert builds == [] and runs == []
    bad = {**lesson, "name": "heavier", "stops": [{"title": words, "text": words, "view": {**HEAVY, "input": "1", "input_type": "numbers"}}]}
    r = app_client.post("/api/lessons", content=json.dumps(bad), headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "stops.0.view: hidden: a random model" in r.json()["detail"], r.text[:300]


# -- 6. an export reads every layer and direction from one run ----------------------------------------------------

def test_an_export_runs_the_model_once_for_every_layer_and_direction(app_client, runs):
    r = app_client.get("/api/export/html", params={"kind": "gru", "hidden": 4, "layers": 3, "bidirectional": True, "input": "hello"})
    assert r.status_code == 200, r.text[:300]
    assert runs == [5]  # one run of the five steps; the other five layer-directions are read from it
    assert r.text.count("\"layer\":") >= 6


# -- 7. a stream's appends are held to the characters of the whole input -------------------------------------------

def test_appends_count_every_character_a_stream_reads_skipped_or_not(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_input_chars=1000))) as c:
        with c.websocket_connect("/ws/trace?preset=charlm-lstm&input=the&unknown=skip") as ws:
            read_stream(ws)
            ws.send_json({"type": "append", "input": "\u00a7" * 600 + "a"})  # 600 characters the vocabulary lacks: skipped
            assert ws.receive_json() == {"type": "tokens", "t0": 3, "tokens": ["a"]}
            ws.receive_bytes()
            ws.send_json({"type": "append", "input": "\u00a7" * 600})
            msg = ws.receive_json()
            assert msg["status"] == 413 and msg["detail"].startswith("input: 1204 characters in all, with what was typed before is over "
                                                                     "the limit of 1000 (setting GATESCOPE_MAX_INPUT_CHARS)"), msg
            ws.send_json({"type": "append", "input": "b"})  # the stream goes on from where it stood
            assert ws.receive_json() == {"type": "tokens", "t0": 4, "tokens": ["b"]}


def test_an_error_in_an_append_names_its_position_in_the_whole_input(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path))) as c:
        with c.websocket_connect("/ws/trace?preset=charlm-lstm&input=the") as ws:
            read_stream(ws)
            ws.send_json({"type": "append", "input": " c\u00a7"})
            msg = ws.receive_json()
            assert msg["status"] == 422 and "'\u00a7' at 5" in msg["detail"], msg


# -- 9. held steps and each step's overhead are in max_work ----------------------------------------------------------

def test_held_steps_are_counted_at_their_cost(app_client):
    view = {"kind": "lstm", "hidden": 1, "layers": 4, "bidirectional": True, "input": "sine 5000", "input_type": "signal", "names": "h"}
    plain = run.plan(ViewState.model_validate(view), Settings(), None)
    assert plain.cost.macs <= Settings().max_work  # the same view unclamped is within the limit
    holds = ";".join(f"h[0]:0.5@{i}-" for i in range(16))
    r = app_client.get("/api/trace", params={**view, "clamp": holds, "clamp_compare": "true", "format": "npz"})
    assert r.status_code == 413, r.text[:300]
    assert "20000 held layer-step(s), twice: with and without the clamp" in r.json()["detail"]
    assert "GATESCOPE_MAX_WORK" in r.json()["detail"]


@pytest.mark.parametrize("clamp, layers, T, held", [
    ("h:0.5", 2, 10, 20), ("h:0.5@3-4", 2, 10, 4), ("l1.h:0.5@8-", 3, 10, 2), ("h:0.5@2-5;forget:1@4-7", 1, 10, 6),
    ("h:0.5@20-", 1, 10, 0), ("l0.h:0.5@0-1;l0.h:1@1-2;l2.h:0@9", 3, 10, 4),
])
def test_held_counts_each_layer_step_once(clamp, layers, T, held):
    assert cells.Clamp.parse(clamp).held(T, layers) == held


# -- a page load resolves once and runs once ---------------------------------------------------------------------------

def test_the_requests_of_one_page_load_share_one_run(app_client, runs):
    query = {"preset": "remember-lstm", "panels": "diagram,heatmaps,flow"}
    before = dict(run.COUNTS)
    assert app_client.get("/", params=query).status_code == 200  # the first drawing runs the model
    with app_client.websocket_connect("/ws/trace?" + "&".join(f"{k}={v}" for k, v in query.items())) as ws:
        read_stream(ws)
    assert app_client.get("/api/gradients", params=query).status_code == 200
    assert app_client.get("/api/trace", params={**query, "names": "h"}).status_code == 200
    counted = {k: run.COUNTS[k] - before[k] for k in before}
    assert counted == {"plan": 4, "resolve": 1, "run": 1}, counted  # each request checked; one model, one run
    assert len(runs) == 1


def test_a_different_input_is_a_different_run(app_client, runs):
    for text in ("ABCD", "ABCA", "ABCD"):
        assert app_client.get("/api/trace", params={"preset": "remember-lstm", "input": text, "names": "h"}).status_code == 200
    assert len(runs) == 2


def test_the_run_layer_imports_nothing_of_the_server():
    import subprocess
    import sys
    code = "import gatescope.app.run, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_a_made_run_is_counted_against_its_cache_and_leaves_it(tmp_path):
    settings = Settings(upload_dir=tmp_path, model_cache_bytes=4 * 1024 * 1024)
    store = store_mod.ModelStore(settings)
    for i in range(40):  # 40 random models of about 100 KB each, more than the cache (a quarter of 4 MB) holds
        run.resolve(ViewState.model_validate({"kind": "lstm", "hidden": 64, "seed": i, "input": "hello"}), settings, store)
    cache = run._cache(store, settings)
    assert 0 < cache.used <= cache.budget == 1024 * 1024
    assert len(cache._items) < 40


def test_a_made_run_unused_for_its_age_is_let_go(tmp_path, monkeypatch):
    settings = Settings(upload_dir=tmp_path)
    store = store_mod.ModelStore(settings)
    now = [1000.0]
    monkeypatch.setattr(run.time, "monotonic", lambda: now[0])
    view = ViewState.model_validate({"kind": "lstm", "hidden": 8, "input": "hello"})
    first = run.resolve(view, settings, store).made
    now[0] += run.RunCache.AGE / 2
    assert run.resolve(view, settings, store).made is first  # used again: its age starts over
    now[0] += run.RunCache.AGE * 0.9
    assert run.resolve(view, settings, store).made is first
    now[0] += run.RunCache.AGE + 1
    run.resolve(ViewState.model_validate({"kind": "gru", "hidden": 8, "input": "hello"}), settings, store)  # another run is made
    cache = run._cache(store, settings)
    assert list(cache._items) == [run.plan(ViewState.model_validate({"kind": "gru", "hidden": 8, "input": "hello"}), settings, store).key()]
    assert run.resolve(view, settings, store).made is not first


def test_a_text_model_opens_on_text_its_vocabulary_reads():
    from gatescope.app.run.plan import example_text
    assert example_text(cells.Vocab(list("helo wrd"))) == "hello world"           # the default, where it reads
    assert example_text(cells.Vocab(list("abcdefghijklmn"))) == "abcdefghijkl"     # else its own first tokens
    assert example_text(cells.Vocab(["", "[UNK]", "the", "cat", "sat"])) == "the cat sat"  # words, specials left out
