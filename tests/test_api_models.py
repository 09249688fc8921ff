"""POST /api/models: uploads are checked, never unpickled, capped, and stored where every worker finds them."""

import io
import json
import pickle

import numpy as np
from fastapi.testclient import TestClient

from gatescope import cells
from gatescope.app.config import Settings
from gatescope.app.main import create_app


def bundle_bytes(tmp_path, model, name="m.safetensors"):
    path = tmp_path / name
    model.save(path)
    return path.read_bytes()


def test_upload_a_bundle_then_trace_it(client, tmp_path, settings):
    model = cells.Model("gru", cells.build("gru", 4, 6, seed=5).params, input_size=4, hidden_size=6,
                        vocab=cells.Vocab(list("ab")), embedding=np.eye(2, 4), decoder=(np.ones((2, 6)), np.zeros(2)),
                        labels=["a", "b"], card={"title": "tiny", "input_type": "text", "example": "abba", "head": "softmax"})
    r = client.post("/api/models", content=bundle_bytes(tmp_path, model))
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["kind"] == "gru" and info["vocab_size"] == 2 and info["outputs"] == 2 and len(info["id"]) == 32
    assert (settings.upload_dir / f"{info['id']}.safetensors").is_file()
    body = client.get("/api/trace", params={"model": info["id"]}).json()
    assert body["tokens"] == list("abba")  # the card's example is the default input
    assert np.allclose(np.sum(body["predictions"]["values"], axis=1), 1, atol=1e-4)
    assert client.get(f"/api/models/{info['id']}").json()["card"]["title"] == "tiny"
    # the same bytes get the same id, and another worker sharing the folder serves it
    assert client.post("/api/models", content=bundle_bytes(tmp_path, model)).json()["id"] == info["id"]
    with TestClient(create_app(Settings(upload_dir=settings.upload_dir))) as other:
        assert other.get("/api/trace", params={"model": info["id"], "input": "ba"}).status_code == 200


def test_upload_raw_weights_with_kind_and_layout(client, tmp_path):
    buf = io.BytesIO()
    np.savez(buf, **cells.build("gru", 3, 4, seed=1, reset_after=False).to_arrays("keras"))
    r = client.post("/api/models", params={"kind": "gru", "layout": "keras"}, content=buf.getvalue())
    assert r.status_code == 201, r.text
    assert r.json()["options"]["reset_after"] is False and r.json()["input_size"] == 3
    body = client.get("/api/trace", params={"model": r.json()["id"], "input": "1 0 0; 0 1 0", "input_type": "numbers"}).json()
    assert body["steps"] == 2
    model_id = r.json()["id"]
    r = client.get("/api/trace", params={"model": model_id})  # no vocabulary: it opens on numbers of its width
    assert r.status_code == 200 and r.json()["request"]["input_type"] == "numbers" and len(r.json()["values"]["x"][0]) == 3
    r = client.get("/api/trace", params={"model": model_id, "input": "hello", "input_type": "text"})
    assert r.status_code == 422 and "input_type=numbers" in r.json()["detail"]


def test_pickles_are_refused(client):
    r = client.post("/api/models", params={"kind": "lstm"}, content=pickle.dumps({"weight_ih_l0": [1, 2]}))
    assert r.status_code == 422 and "pickle" in r.json()["detail"]


def test_garbage_empty_and_unnamed(client):
    assert client.post("/api/models", params={"kind": "lstm"}, content=b"not a model at all").status_code == 422
    r = client.post("/api/models", content=b"")
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    buf = io.BytesIO()
    np.savez(buf, **cells.build("lstm", 2, 3).to_arrays())
    r = client.post("/api/models", content=buf.getvalue())  # no kind: PyTorch's shapes say it, and the model says so
    assert r.status_code == 201 and r.json()["kind"] == "lstm"
    assert r.json()["assumed"]["kind"].startswith("read off the weights' shapes (weight_hh_l0 (12, 3)), as the framework's own lstm")
    buf = io.BytesIO()
    np.savez(buf, weight_ih_l0=np.zeros((10, 2)), weight_hh_l0=np.zeros((10, 3)))
    r = client.post("/api/models", content=buf.getvalue())
    assert r.status_code == 422 and r.json()["detail"].startswith("kind: not given, and the weights (weight_hh_l0 (10, 3)) fit no kind")


def test_upload_size_cap(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_upload_bytes=1000))) as c:
        r = c.post("/api/models", params={"kind": "lstm"}, content=b"\0" * 5000)  # refused on its Content-Length
        assert r.status_code == 413
        assert "5000 bytes" in r.json()["detail"] and "1000" in r.json()["detail"] and "MAX_UPLOAD_BYTES" in r.json()["detail"]
        chunks = (b"\0" * 700 for _ in range(10))  # chunked, no length declared: refused while reading
        r = c.post("/api/models", params={"kind": "lstm"}, content=chunks)
        assert r.status_code == 413 and "more than 1000 bytes" in r.json()["detail"]
        assert not list((tmp_path / "incoming").iterdir())  # nothing half-written is left behind


def test_uploads_over_the_model_limits(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_hidden=16))) as c:
        buf = io.BytesIO()
        np.savez(buf, **cells.build("lstm", 2, 32).to_arrays())
        r = c.post("/api/models", params={"kind": "lstm"}, content=buf.getvalue())
        assert r.status_code == 413 and "hidden_size: 32" in r.json()["detail"]


def test_bundle_metadata_errors_are_422(client, tmp_path):
    from safetensors.numpy import save_file
    path = tmp_path / "bad.safetensors"
    save_file(cells.build("lstm", 2, 3).to_arrays(), str(path), metadata={"gatescope": "1", "kind": "lstm", "vocab": "not json"})
    r = client.post("/api/models", content=path.read_bytes())
    assert r.status_code == 422 and "vocab" in r.json()["detail"]
    save_file(cells.build("lstm", 2, 3).to_arrays(), str(path), metadata={"gatescope": "1", "kind": "lstm", "options": json.dumps({"warp": 9})})
    r = client.post("/api/models", content=path.read_bytes())
    assert r.status_code == 422 and "warp" in r.json()["detail"]
