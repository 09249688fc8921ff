"""POST /api/models with the files users have, and with hostile ones: the loader's answers through the API.

(These exercise cells.load through ModelStore.add_file; the upload API's own tests are in test_api_models.py.)
"""

import io
import json
import time

import numpy as np
from fastapi.testclient import TestClient
from safetensors.numpy import save_file

import cells
from app.config import Settings
from app.main import create_app


def st_bytes(tmp_path, tensors, metadata=None):
    path = tmp_path / "up.safetensors"
    save_file({k: np.ascontiguousarray(v, np.float32) for k, v in tensors.items()}, str(path), metadata=metadata)
    return path.read_bytes()


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_restated_keywords_in_the_query(client, tmp_path):
    body = st_bytes(tmp_path, cells.build("lstm", 3, 4, num_layers=2).to_arrays())
    r = client.post("/api/models", params={"kind": "lstm", "num_layers": 2, "bidirectional": False, "hidden_size": 4, "bias": True},
                    content=body)
    assert r.status_code == 201, r.text
    r = client.post("/api/models", params={"kind": "lstm", "num_layers": 3}, content=body)
    assert r.status_code == 422
    assert r.json()["detail"] == "num_layers: 3 given, but the weights hold 2 layers (weight_ih_l0, weight_ih_l1)"
    for bad in ({"num_layers": 0}, {"hidden_size": 10**7}, {"proj_size": -1}, {"prefix": "x" * 300}):
        assert client.post("/api/models", params={"kind": "lstm", **bad}, content=body).status_code == 422, bad


def test_a_whole_models_state_dict_says_which_prefix_it_used(client, tmp_path):
    sd = {"module.rnn." + k: v for k, v in cells.build("gru", 3, 4, seed=2).to_arrays().items()}
    sd.update({"module.embedding.weight": np.ones((7, 3)), "module.fc.weight": np.ones((7, 4)), "module.fc.bias": np.zeros(7)})
    r = client.post("/api/models", params={"kind": "gru"}, content=st_bytes(tmp_path, sd))
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["source"]["prefix"] == "module.rnn." and "module.fc.weight" in info["source"]["unused"]
    assert client.get(f"/api/models/{info['id']}").json()["source"] == info["source"]


def test_several_groups_answer_422_naming_them_and_prefix_picks_one(client, tmp_path):
    sd = {**{"encoder.lstm." + k: v for k, v in cells.build("lstm", 3, 4).to_arrays().items()},
          **{"decoder.lstm." + k: v for k, v in cells.build("lstm", 4, 5).to_arrays().items()}}
    body = st_bytes(tmp_path, sd)
    r = client.post("/api/models", params={"kind": "lstm"}, content=body)
    assert r.status_code == 422 and "'decoder.lstm.', 'encoder.lstm.'" in r.json()["detail"] and "?prefix=" in r.json()["detail"]
    r = client.post("/api/models", params={"kind": "lstm", "prefix": "decoder.lstm."}, content=body)
    assert r.status_code == 201 and r.json()["hidden_size"] == 5


def test_what_was_assumed_is_in_the_answer_and_stays(client, tmp_path):
    body = st_bytes(tmp_path, cells.build("rnn", 2, 3).to_arrays())
    info = client.post("/api/models", params={"kind": "rnn"}, content=body).json()
    assert info["assumed"]["nonlinearity"].startswith("tanh (not readable from the weights")
    assert client.get(f"/api/models/{info['id']}").json()["assumed"] == info["assumed"]
    relu = client.post("/api/models", params={"kind": "rnn", "nonlinearity": "relu"}, content=body).json()
    assert relu["assumed"] == {} and relu["options"]["nonlinearity"] == "relu"


def test_m2_a_bad_card_is_refused_at_upload(client, tmp_path):
    meta = {"gatescope": "1", "kind": "gru", "card": json.dumps({"input_type": "bogus"})}
    r = client.post("/api/models", content=st_bytes(tmp_path, cells.build("gru", 2, 3).to_arrays(), meta))
    assert r.status_code == 422 and "card input_type: got 'bogus'" in r.json()["detail"]


def test_limits_are_the_settings(tmp_path):
    settings = Settings(upload_dir=tmp_path / "m", max_layers=4, max_model_bytes=1_000_000, max_card_bytes=1000, max_vocab=3)
    with TestClient(create_app(settings)) as c:
        # a layer index is read from the name and refused before anything is sized by it (timing is bench/'s)
        r = c.post("/api/models", params={"kind": "rnn"}, content=st_bytes(tmp_path, {"weight_ih_l999999": np.zeros((4, 1))}))
        assert r.status_code == 422 and "layer 999999" in r.json()["detail"]
        deep = {f"{n}_l{k}": np.zeros(s) for k in range(6) for n, s in [("weight_ih", (4, 4)), ("weight_hh", (4, 4)),
                                                                          ("bias_ih", (4,)), ("bias_hh", (4,))]}
        r = c.post("/api/models", params={"kind": "rnn"}, content=st_bytes(tmp_path, deep))
        assert r.status_code == 413 and r.json()["detail"] == "num_layers: 6 is over the limit of 4 (setting GATESCOPE_MAX_LAYERS)"
        r = c.post("/api/models", params={"kind": "lstm"}, content=npz_bytes(weight_ih_l0=np.zeros(1_000_000, np.int8)))
        assert r.status_code == 413 and "file: arrays of 4000000 bytes once decoded" in r.json()["detail"]
        assert "GATESCOPE_MAX_MODEL_BYTES" in r.json()["detail"]
        r = c.post("/api/models", params={"kind": "lstm", "layout": "keras"},
                   content=npz_bytes(kernel=np.zeros((10**6, 0)), recurrent_kernel=np.zeros((10**6, 0)), bias=np.zeros(0)))
        assert r.status_code == 413 and "hidden_size: 1000000" in r.json()["detail"]
        w = cells.build("gru", 2, 3).to_arrays()
        r = c.post("/api/models", content=st_bytes(tmp_path, w, {"gatescope": "1", "kind": "gru", "card": json.dumps({"notes": "x" * 5000})}))
        assert r.status_code == 413 and "GATESCOPE_MAX_CARD_BYTES" in r.json()["detail"]
        model = cells.Model("gru", cells.build("gru", 2, 3).params, input_size=2, hidden_size=3, vocab=cells.Vocab(list("abcd")),
                            embedding=np.ones((4, 2)))
        model.save(tmp_path / "v.safetensors")
        r = c.post("/api/models", content=(tmp_path / "v.safetensors").read_bytes())
        assert r.status_code == 413 and r.json()["detail"] == "vocab: 4 tokens is over the limit of 3 (setting GATESCOPE_MAX_VOCAB)"


def test_errors_carry_no_server_paths(client, settings, tmp_path):
    r = client.post("/api/models", params={"kind": "lstm"}, content=b"\x80\x04K\x01.")
    detail = r.json()["detail"]
    assert r.status_code == 422 and detail.startswith("the file: this is a pickle file")
    assert str(settings.upload_dir) not in detail and ".upload" not in detail


# -- M4: a stalled upload is dropped, with its temp file ------------------------------------------------

def serve_in_thread(settings):
    """A real uvicorn server for ``settings`` on a free port, in a thread: (server, thread, port)."""
    import socket
    import threading

    import uvicorn
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, thread, port


def test_a_client_leaving_mid_upload_logs_nothing(tmp_path, caplog):
    import logging
    import socket
    server, thread, port = serve_in_thread(Settings(upload_dir=tmp_path))
    logging.getLogger("uvicorn.error").addHandler(caplog.handler)  # uvicorn's own logger does not propagate
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(b"POST /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n" + b"\x00" * 1000)
            time.sleep(0.3)
        deadline = time.monotonic() + 5
        while list((tmp_path / "incoming").glob("*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((tmp_path / "incoming").glob("*")) == []
        assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info], [r.getMessage() for r in caplog.records]
    finally:
        logging.getLogger("uvicorn.error").removeHandler(caplog.handler)
        server.should_exit = True
        thread.join(10)


def test_a_stalled_upload_is_answered_408_and_leaves_nothing_behind(tmp_path):
    import socket
    server, thread, port = serve_in_thread(Settings(upload_dir=tmp_path, upload_idle_seconds=2.0))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(b"POST /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n" + b"\x00" * 100)
            held = time.monotonic() + 1.5  # (well inside the 2 s of silence the server allows, even on a loaded machine)
            while not list((tmp_path / "incoming").glob("*")) and time.monotonic() < held:
                time.sleep(0.02)
            assert len(list((tmp_path / "incoming").glob("*"))) == 1  # the body has begun: a temp file holds it
            started = time.monotonic()
            answer = c.recv(4096).decode()
            waited = time.monotonic() - started
        assert answer.startswith("HTTP/1.1 408"), answer
        assert "GATESCOPE_UPLOAD_IDLE_SECONDS" in answer and "after 100 bytes" in answer
        assert waited < 6
        assert list((tmp_path / "incoming").glob("*")) == []
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_header_number_of_five_thousand_digits_is_a_clear_422(client):
    """json.loads raises ValueError (not JSONDecodeError) for an integer past Python's 4,300-digit limit."""
    import struct
    header = b'{"w":{"dtype":"F32","shape":[' + b"9" * 5000 + b'],"data_offsets":[0,16]}}'
    body = struct.pack("<Q", len(header)) + header + b"\x00" * 16
    r = client.post("/api/models", params={"kind": "gru"}, content=body)
    assert r.status_code == 422, r.text[:300]
    assert "not valid JSON" in r.json()["detail"] and len(r.content) < 2000


# -- crafted files: counts, names and zip members are 4xx, never 500 ---------------------------------

def test_too_many_tensors_or_members_is_413_naming_the_setting(client, tmp_path):
    header = json.dumps({f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(100_000)}).encode()
    start = time.perf_counter()
    r = client.post("/api/models", params={"kind": "rnn"}, content=len(header).to_bytes(8, "little") + header)
    assert r.status_code == 413, r.text[:300]
    assert r.json()["detail"] == "file: more than 4096 tensors is over the limit of 4096 (setting GATESCOPE_MAX_TENSORS)"
    assert time.perf_counter() - start < 2
    r = client.post("/api/models", params={"kind": "rnn"}, content=npz_bytes(**{f"t{i}": np.zeros(0) for i in range(4097)}))
    assert r.status_code == 413, r.text[:300]
    assert r.json()["detail"] == "file: 4097 members is over the limit of 4096 (setting GATESCOPE_MAX_TENSORS)"


def test_crafted_names_and_zip_members_are_422(client, tmp_path):
    for name, layout in (("weight_ih_l" + "9" * 5000, "torch"), ("kernel_l" + "9" * 5000, "keras")):
        r = client.post("/api/models", params={"kind": "rnn", "layout": layout}, content=st_bytes(tmp_path, {name: np.zeros((4, 1))}))
        assert r.status_code == 422, r.text[:300]
    positional = npz_bytes(**{"arr_" + "9" * 5000: np.zeros((1, 4)), "arr_1": np.zeros((1, 4))})  # np.savez(*weights) names
    r = client.post("/api/models", params={"kind": "rnn", "layout": "keras"}, content=positional)
    assert r.status_code == 422, r.text[:300]
    body = npz_bytes(weight_ih_l0=np.zeros((1, 1)))
    central = body.index(b"PK\x01\x02")
    for offset, value, message in ((10, 99, "uses compression method 99"), (8, 1, "is encrypted")):
        bad = bytearray(body)
        bad[central + offset:central + offset + 2] = value.to_bytes(2, "little")
        r = client.post("/api/models", params={"kind": "rnn"}, content=bytes(bad))
        assert r.status_code == 422, r.text[:300]
        assert r.json()["detail"].startswith(f"the file: member 'weight_ih_l0.npy' {message}")
