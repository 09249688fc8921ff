"""No request can exhaust the server: every size a client sends is checked before it sizes work or memory.

Each case here was reproduced against a running server before its fix (issue 8: H1, H2, H4, M1, M5, L2, L3, L5, L7).
Memory is measured with tracemalloc around one in-process request, so "refused before allocating" is a number.
"""

import threading
import tracemalloc

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gatescope import cells
from gatescope.app import run
from gatescope.app import store as store_mod
from gatescope.app.config import Settings
from gatescope.app.main import create_app
from gatescope.app.pool import Pool


def detail(r) -> str:
    d = r.json()["detail"]
    return d if isinstance(d, str) else " ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})" for e in d)


def peak_mb(fn) -> tuple[object, float]:
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# -- H1, H2: sizes checked before weights are drawn ------------------------------------------------

@pytest.mark.parametrize("params,status,words", [
    ({"kind": "lstm", "proj_size": 4_000_000}, 422, ["proj_size", "1000000"]),
    ({"kind": "lstm", "proj_size": 2**40}, 422, ["proj_size"]),
    ({"kind": "lstm", "proj_size": 2**64}, 422, ["proj_size"]),
    ({"kind": "lstm", "proj_size": 2**40, "hidden": 2**40}, 422, ["hidden"]),
    ({"kind": "lstm", "hidden": 1024, "proj_size": 2000}, 422, ["proj_size", "2000", "1024", "GATESCOPE_MAX_PROJ_SIZE"]),
    ({"kind": "lstm", "hidden": 1024, "proj_size": 1024}, 422, ["proj_size", "smaller than hidden_size"]),
    ({"kind": "lstm", "hidden": 1024, "input_type": "numbers", "input": " ".join(["1"] * 20_000) + "; " + " ".join(["1"] * 20_000)}, 413,
     ["20000 values per step", "256", "GATESCOPE_MAX_INPUT_WIDTH"]),
])
def test_sizes_are_refused_before_any_allocation(client, params, status, words):
    r, mb = peak_mb(lambda: client.post("/api/trace", json=params))
    assert r.status_code == status, r.text
    for w in words:
        assert w in detail(r), (w, detail(r))
    assert mb < 30, f"{mb:.0f} MB allocated to refuse {params}"


def test_work_counts_the_input_width(client):
    """200 steps of 256 values into hidden 1024: 4 x 1024 x (256 + 1024) x 200 multiply-adds."""
    with TestClient(create_app(Settings(upload_dir=client.app.state.settings.upload_dir, max_work=900_000_000))) as c:
        narrow = c.get("/api/trace", params={"kind": "lstm", "hidden": 1024, "input": "sine 200", "input_type": "signal", "names": "h"})
        wide_input = "; ".join(" ".join(["1"] * 256) for _ in range(200))
        wide = c.post("/api/trace", json={"kind": "lstm", "hidden": 1024, "input": wide_input, "input_type": "numbers", "names": "h"})
    assert narrow.status_code == 200, narrow.text
    assert wide.status_code == 413
    assert f"= {200 * (4 * 1024 * (256 + 1024) + run.STEP_OVERHEAD)} multiply-adds" in detail(wide) and "GATESCOPE_MAX_WORK" in detail(wide)


def test_a_deep_wide_trace_is_refused_by_its_bytes(client):
    # 4 layers x 2 directions x 5000 steps x hidden 128: cheap in multiply-adds, but 16 names of it is ~330 MB
    r, mb = peak_mb(lambda: client.get("/api/trace", params={"kind": "lstm", "hidden": 128, "layers": 4, "bidirectional": True,
                                                             "input": "sine 5000", "input_type": "signal", "format": "npz"}))
    assert r.status_code == 413, r.text
    assert "GATESCOPE_MAX_TRACE_BYTES" in detail(r)
    assert mb < 30


def test_the_random_model_cache_is_bounded_by_bytes(tmp_path):
    store = store_mod.ModelStore(Settings(upload_dir=tmp_path, model_cache_bytes=3 * 2**20))
    for seed in range(20):
        store.random("lstm", 64, 128, 1, False, seed, {})  # ~0.8 MB each, counted twice for its compiled plan
    assert store._cache.bytes <= 3 * 2**20
    assert 0 < len(store._cache) < 20
    one = store.random("lstm", 64, 128, 1, False, 19, {})
    assert one is store.random("lstm", 64, 128, 1, False, 19, {})  # the most recent is still served from the cache


# -- H4: the store is capped in bytes and count, least recently used first ------------------------------

def _upload(c, seed: int, hidden: int = 4) -> str:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/m.safetensors"
        cells.build("gru", 3, hidden, seed=seed).save(path)
        r = c.post("/api/models", content=open(path, "rb").read())
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_the_store_evicts_the_least_recently_used_past_its_count(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_store_models=2))) as c:
        a, b = _upload(c, 1), _upload(c, 2)
        c.app.state.store._cache = store_mod.ByteLRU(1)  # read from the folder, as another worker would
        assert c.get(f"/api/models/{a}").status_code == 200  # a is now more recent than b
        d = _upload(c, 3)
        assert sorted(p.stem for p in tmp_path.glob("*.safetensors")) == sorted([a, d])
        r = c.get(f"/api/models/{b}")
        assert r.status_code == 404 and "least recently used" in detail(r)


def test_the_store_refuses_a_model_bigger_than_itself(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_store_bytes=10_000))) as c:
        _upload(c, 1)  # a few hundred bytes: fits
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            cells.build("lstm", 3, 64, seed=0).save(f"{d}/big.safetensors")
            r = c.post("/api/models", content=open(f"{d}/big.safetensors", "rb").read())
    assert r.status_code == 507, r.text
    assert "GATESCOPE_MAX_STORE_BYTES" in detail(r)
    assert sum(p.stat().st_size for p in tmp_path.glob("*.safetensors")) <= 10_000


def test_the_store_keeps_its_total_under_the_byte_cap(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_store_bytes=6_000))) as c:
        for seed in range(8):
            _upload(c, seed, hidden=6)
        assert sum(p.stat().st_size for p in tmp_path.glob("*.safetensors")) <= 6_000
        assert len(list(tmp_path.glob("*.safetensors"))) >= 1


# -- M1: every one of these answered 500 ----------------------------------------------------------------

@pytest.mark.parametrize("method,url,body,field", [
    ("GET", "/api/trace?kind=lstm&input_type=signal&input=sine%20%C2%B2", None, "input"),
    ("GET", "/api/trace?kind=lstm&input_type=signal&input=sine%20" + "9" * 5000, None, "input"),
    ("GET", "/api/trace?kind=lstm&input_type=signal&input=sine%2010%20period=" + "9" * 5000, None, "input"),
    ("GET", "/api/trace?kind=lstm&input_type=numbers&input=%2C%2C%2C", None, "input"),
    ("GET", "/api/trace?kind=lstm&input_type=numbers&input=%3B%2C%3B", None, "input"),
    ("POST", "/api/trace", b'{"speed": Infinity}', "speed"),
    ("POST", "/api/trace", b'{"speed": NaN}', "speed"),
    ("POST", "/api/trace", b'{"speed": 1e400}', "speed"),
    ("POST", "/api/trace", b'{"kind": "lstm", "forget_bias": -Infinity}', "forget_bias"),
    ("POST", "/api/trace", b'{"kind": "lstm", "input": "\\ud800"}', "input"),
    ("POST", "/api/trace", b'{"kind": "lstm", "seed": ' + b"9" * 5000 + b"}", "body"),
    ("GET", "/api/trace?kind=lstm&proj_size=" + str(2**63), None, "proj_size"),
    ("GET", "/api/trace?kind=lstm&names=%2C", None, "names"),
    ("GET", "/api/gradients?kind=lstm&names=%2C", None, "names"),
])
def test_hostile_values_get_a_4xx_naming_the_field(client, method, url, body, field):
    r = client.request(method, url, content=body, headers={"content-type": "application/json"} if body else {})
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert field in detail(r), detail(r)[:300]
    assert len(r.content) < 5_000  # the value is echoed shortened, never whole


def test_kind_options_without_a_kind_are_refused(client):
    r = client.get("/api/trace", params={"proj_size": 2})
    assert r.status_code == 422
    assert "proj_size" in detail(r) and "kind=" in detail(r) and "default preset" in detail(r)


def test_unknown_map_reads_unknown_characters_as_the_unknown_token(client):
    vocab = cells.Vocab(["<unk>", "a", "b"])
    m = cells.build("lstm", 2, 3, seed=0)
    bundle = cells.Model("lstm", m.params, input_size=2, hidden_size=3, vocab=vocab,
                         embedding=np.arange(6, dtype=np.float32).reshape(3, 2), card={"input_type": "text"})
    model_id = client.app.state.store.add_model(bundle)
    refused = client.get("/api/trace", params={"model": model_id, "input": "abz"})
    assert refused.status_code == 422 and "unknown=map" in detail(refused)
    mapped = client.get("/api/trace", params={"model": model_id, "input": "abz", "unknown": "map", "names": "h", "digits": 9}).json()
    want = bundle.run(bundle.embed(np.array([1, 2, 0])))["h"]
    np.testing.assert_allclose(np.array(mapped["values"]["h"]), want, rtol=1e-6, atol=1e-8)


# -- numbers on the wire keep digits of their own -------------------------------------------------------

def test_vanishing_gradients_survive_the_wire(client):
    r = client.get("/api/gradients", params={"preset": "charlm-gru", "digits": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    model = store_mod.preset("charlm-gru")
    from gatescope.app.inputs import parse_text
    xs = parse_text(body["request"]["input"], model, "error").xs
    want = cells.gradient_flow(model, xs)["h"]
    got = np.array(body["flow"]["h"])
    assert want.max() / want[want > 0].min() > 1e4, "the preset's gradient should vanish over its example"
    np.testing.assert_allclose(got, want, rtol=1e-4)  # 5 significant digits of every value, the smallest included
    assert (got > 0).all()


def test_json_values_keep_their_own_significant_digits():
    from gatescope.app.wire import rounded
    a = np.array([0.98123456, 4.41234e-6, -3.3e-300, 0.0, 12345.678, 1e-320])
    np.testing.assert_array_equal(rounded(a, 5), [0.98123, 4.4123e-6, -3.3e-300, 0.0, 12346.0, 1e-320])
    np.testing.assert_array_equal(rounded(np.array([9.99996, -0.000123456]), 3), [10.0, -0.000123])


# -- M5: heavy work in a bounded pool; others queue with a deadline or get 503 --------------------------

def test_a_full_pool_answers_503_with_retry_after_and_health_stays_fast(client, monkeypatch):
    from gatescope.app.routers import api
    client.app.state.pool = Pool(1, 0.2)
    entered, release = threading.Event(), threading.Event()
    real = api._compute

    def slow(*args):
        entered.set()
        release.wait(10)
        return real(*args)

    monkeypatch.setattr(api, "_compute", slow)
    first: list = []
    t = threading.Thread(target=lambda: first.append(client.get("/api/trace", params={"kind": "lstm"})))
    t.start()
    try:
        assert entered.wait(10)
        busy = client.get("/api/trace", params={"kind": "gru"})
        assert busy.status_code == 503
        assert busy.headers["retry-after"].isdigit() and "GATESCOPE_HEAVY_WORKERS" in detail(busy)
        assert client.get("/healthz").status_code == 200  # health never queues behind heavy work
    finally:
        release.set()
        t.join(10)
    assert first[0].status_code == 200
    assert client.get("/api/trace", params={"kind": "gru"}).status_code == 200  # the slot came back


# -- L2, L3, L5: redirects, docs, schema ---------------------------------------------------------------

def test_slash_redirects_are_relative_whatever_the_host(client):
    r = client.get("/api/trace/?kind=lstm", headers={"host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/api/trace?kind=lstm"
    assert client.get("/nothing-here/", follow_redirects=False).status_code == 404


def test_docs_are_served_from_the_app(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "default-src 'self'" in r.headers["content-security-policy"]
    assert "http" not in r.text.replace("http-equiv", "")  # no asset from elsewhere
    for src in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css", "/static/docs.js"):
        assert src in r.text
        assert client.get(src).status_code == 200
    assert "<script>" not in r.text  # the CSP allows no inline script


def test_the_schema_states_the_servers_own_limits(tmp_path):
    s = Settings(upload_dir=tmp_path, max_hidden=96, max_layers=3, max_input_chars=777, max_proj_size=50)
    with TestClient(create_app(s)) as c:
        spec = c.get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/trace"]["get"]["parameters"]}
    assert params["hidden"]["maximum"] == 96 and params["layers"]["maximum"] == 3
    assert params["input"]["anyOf"][0]["maxLength"] == 777
    assert params["proj_size"]["anyOf"][0]["maximum"] == 50
    body = spec["components"]["schemas"]["ViewBody"]["properties"]
    assert body["hidden"]["maximum"] == 96


def test_a_decoder_counts_against_the_limits(client):
    """A small bundle with a wide decoder (20,000 outputs): its predictions are work, memory and JSON values too."""
    m = cells.build("rnn", 2, 8, seed=0)
    wide = cells.Model("rnn", m.params, input_size=2, hidden_size=8, decoder=(np.zeros((20_000, 8), np.float32), np.zeros(20_000, np.float32)),
                       card={"input_type": "numbers", "head": "linear"})
    model_id = client.app.state.store.add_model(wide)
    steps = "; ".join(["1 0"] * 2000)
    r, mb = peak_mb(lambda: client.post("/api/trace", json={"model": model_id, "input": steps}))
    assert r.status_code == 413 and "GATESCOPE_MAX_TRACE_BYTES" in detail(r), r.text[:300]
    assert mb < 60
    short = "; ".join(["1 0"] * 50)  # 50 x 20,000 predictions: under the trace bytes, over max_json_values
    with TestClient(create_app(Settings(upload_dir=client.app.state.settings.upload_dir, max_json_values=500_000))) as c:
        r = c.post("/api/trace", json={"model": model_id, "input": short})
        assert r.status_code == 413 and "GATESCOPE_MAX_JSON_VALUES" in detail(r), r.text[:300]
        assert c.post("/api/trace", json={"model": model_id, "input": short, "format": "npz"}).status_code == 200


def test_a_huge_json_body_is_refused_before_it_is_parsed(client):
    limit = 6 * client.app.state.settings.max_input_chars + 64 * 1024
    body = b'{"kind": "rnn", "input": "' + b"a" * (limit + 10) + b'"}'
    r, mb = peak_mb(lambda: client.post("/api/trace", content=body, headers={"content-type": "application/json"}))
    assert r.status_code == 413 and "GATESCOPE_MAX_INPUT_CHARS" in r.json()["detail"]
    assert mb < 3 * len(body) / 2**20 + 10  # read once at most, never parsed
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))  # no Content-Length: counted as it comes
    assert client.post("/api/trace", content=chunks, headers={"content-type": "application/json"}).status_code == 413
    ok = client.post("/api/trace", json={"kind": "rnn", "input": "é" * 1000, "names": "h"})
    assert ok.status_code == 200


def test_long_text_is_counted_before_it_is_embedded(client):
    r, mb = peak_mb(lambda: client.post("/api/trace", json={"kind": "rnn", "input": "a" * 200_000}))
    assert r.status_code == 413 and "200000 steps" in detail(r) and "GATESCOPE_MAX_STEPS" in detail(r)
    assert mb < 30  # no vector drawn for any of the 200,000 characters


def test_a_vocabulary_without_an_embedding_reads_numbers_and_says_why(client):
    m = cells.build("gru", 2, 3, seed=0)
    odd = cells.Model("gru", m.params, input_size=2, hidden_size=3, vocab=cells.Vocab(["a", "b"]))
    model_id = client.app.state.store.add_model(odd)
    assert client.get("/api/trace", params={"model": model_id}).status_code == 200  # the default view: numbers
    r = client.get("/api/trace", params={"model": model_id, "input_type": "text", "input": "ab"})
    assert r.status_code == 422 and "no embedding" in detail(r) and "input_type=numbers" in detail(r)
