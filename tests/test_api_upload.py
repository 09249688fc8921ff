"""POST /api/models with the files users have, and with hostile ones: the loader's answers through the API.

(These exercise cells.load through ModelStore.add_file; the upload API's own tests are in test_api_models.py.)
"""

import io
import json
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from safetensors.numpy import save_file

from gatescope import cells
from gatescope.app.config import Settings
from gatescope.app.main import create_app


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
    assert r.status_code == 422 and "'decoder.lstm.' (lstm; also niaf, noaf); 'encoder.lstm.' (lstm" in r.json()["detail"]
    assert "?prefix=" in r.json()["detail"]
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
    assert r.status_code == 422 and detail.startswith("the file: a PyTorch pickle")
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
    """The answer is read as a client reads one (its head, then Content-Length bytes of body, however they are split
    into packets), with no clock in the test: the detail says which of the two limits ran out."""
    import http.client
    import select
    import socket
    server, thread, port = serve_in_thread(Settings(upload_dir=tmp_path, upload_idle_seconds=2.0))
    incoming = tmp_path / "incoming"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as c:
            c.sendall(b"POST /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n" + b"\x00" * 100)
            held = []  # the temp file, seen while the server waits for the rest (before it answers, and removes it)
            while not held and not select.select([c], [], [], 0.02)[0]:
                held = list(incoming.glob("*")) if incoming.is_dir() else []
            assert len(held) == 1, "the server answered before a temp file held the body's first bytes"
            answer = http.client.HTTPResponse(c)
            answer.begin()
            body = answer.read().decode()  # Content-Length bytes, across as many reads as they take
        assert answer.status == 408, (answer.status, body)
        detail = json.loads(body)["detail"]
        assert "nothing for 2 s after 100 bytes" in detail and "GATESCOPE_UPLOAD_IDLE_SECONDS" in detail, detail
        assert list(incoming.glob("*")) == []
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
    r = client.post("/api/models", params={"kind": "rnn"}, content=len(header).to_bytes(8, "little") + header)
    assert r.status_code == 413, r.text[:300]
    # "more than": decoding stopped at the limit, the whole header was never built (test_cells_load.py counts it)
    assert r.json()["detail"] == "file: more than 4096 tensors is over the limit of 4096 (setting GATESCOPE_MAX_TENSORS)"
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


# -- issue 18: a card's units are unit indices; a vocabulary's tokens and labels have a length -------------------

# a card's units as a bundle may hold them, and how the 422 quotes what is wrong
BAD_UNITS = {'"x"': "x", '{"a": 1}': {"a": 1}, "5": 5, "true": True, 'item 0 is "x"': ["x"], "item 0 is null": [None],
             "item 1 is null": [0, None], "item 0 is 1.5": [1.5], "item 0 is -1": [-1], "item 1 is 3": [0, 3]}


def card_upload(tmp_path, card, hidden=3):
    return st_bytes(tmp_path, cells.build("gru", 2, hidden).to_arrays(), {"gatescope": "1", "kind": "gru", "card": json.dumps(card)})


def test_a_card_whose_units_are_not_unit_indices_is_422_naming_them(client, tmp_path):
    for shown, units in BAD_UNITS.items():
        r = client.post("/api/models", content=card_upload(tmp_path, {"title": "t", "units": units}))
        assert r.status_code == 422, (units, r.status_code, r.text[:300])
        detail = r.json()["detail"]
        assert detail.startswith("card units: ") and shown in detail and "expected a list of unit indices" in detail, detail
    r = client.post("/api/models", content=card_upload(tmp_path, {"units": [0, 3]}))
    assert r.json()["detail"] == ("card units: item 1 is 3, not a unit of this model; "
                                  "expected a list of unit indices 0..2 (hidden_size 3), e.g. [2]")
    r = client.post("/api/models", content=card_upload(tmp_path, {"units": [2, 0], "zh": {"title": "标题"}}))
    assert r.status_code == 201 and r.json()["card"]["units"] == [2, 0], r.text[:300]
    assert client.get(f"/api/models/{r.json()['id']}").json()["card"]["units"] == [2, 0]


def test_a_card_whose_words_are_not_strings_is_422(client, tmp_path):
    for card, start in (({"zh": "x"}, 'card zh: got "x"'), ({"zh": {"notes": 5}}, 'card zh: "notes" is 5'),
                        ({"task_title": ["x"]}, "card task_title: expected a string, got list")):
        r = client.post("/api/models", content=card_upload(tmp_path, card))
        assert r.status_code == 422 and r.json()["detail"].startswith(start), r.text[:300]


def test_a_stored_model_with_a_bad_card_is_never_a_500(client, settings, tmp_path):
    """A bundle stored before its card was checked (or put in the folder by hand) answers 422 naming the field, not 500."""
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    for i, card in enumerate([*({"units": u} for u in BAD_UNITS.values()), {"zh": [1]}]):
        model_id = f"{i:032x}"
        (settings.upload_dir / f"{model_id}.safetensors").write_bytes(card_upload(tmp_path, card))
        for url in (f"/api/models/{model_id}", f"/api/trace?model={model_id}"):
            r = client.get(url)
            assert r.status_code == 422, (card, url, r.status_code, r.text[:300])
            assert f"the stored model {model_id} cannot be read (card " in r.json()["detail"], r.text[:300]


def vocab_upload(tmp_path, vocab, labels=None):
    n = len(vocab)
    model = cells.Model("gru", cells.build("gru", 2, 3).params, input_size=2, hidden_size=3, vocab=cells.Vocab(vocab),
                        embedding=np.ones((n, 2)), decoder=(np.ones((n, 3)), np.zeros(n)), labels=labels)
    model.save(tmp_path / "vocab.safetensors")
    return (tmp_path / "vocab.safetensors").read_bytes()


def test_a_token_or_label_over_max_token_chars_is_413_naming_the_setting(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path / "m", max_token_chars=8, max_vocab=3))) as c:
        r = c.post("/api/models", content=vocab_upload(tmp_path, ["a", "b", "abcdefghijklmnopqrstuvwxyz"]))
        assert r.status_code == 413 and r.json()["detail"] == ("vocab token 2: 'abcdefghijklmnopqrst…' of 26 characters is over the "
                                                               "limit of 8 (setting GATESCOPE_MAX_TOKEN_CHARS)"), r.text[:300]
        r = c.post("/api/models", content=vocab_upload(tmp_path, ["a", "b"], labels=["short", "a label too long"]))
        assert r.status_code == 413 and r.json()["detail"] == ("label 1: 'a label too long' of 16 characters is over the "
                                                               "limit of 8 (setting GATESCOPE_MAX_TOKEN_CHARS)"), r.text[:300]
        w = cells.build("gru", 2, 3).to_arrays()
        tensors = {**w, "decoder.weight": np.ones((4, 3)), "decoder.bias": np.zeros(4)}
        r = c.post("/api/models", content=st_bytes(tmp_path, tensors, {"gatescope": "1", "kind": "gru", "labels": json.dumps(list("wxyz"))}))
        assert r.status_code == 413 and r.json()["detail"] == "labels: 4 labels is over the limit of 3 (setting GATESCOPE_MAX_VOCAB)"
        r = c.post("/api/models", content=vocab_upload(tmp_path, ["a", "b", "12345678"], labels=["x", "y", "z"]))
        assert r.status_code == 201, r.text[:300]


def test_a_sixteen_million_character_token_is_refused_by_default(client, tmp_path):
    """The finding: a bundle of one 16-million-character token was stored, exported at 128 MB and sent in every stream header."""
    body = vocab_upload(tmp_path, ["a", "b", "x" * 16_000_000])
    r = client.post("/api/models", content=body)
    assert r.status_code == 413, r.text[:300]
    assert r.json()["detail"] == ("vocab token 2: 'xxxxxxxxxxxxxxxxxxxx…' of 16000000 characters is over the limit of "
                                  f"{Settings().max_token_chars} (setting GATESCOPE_MAX_TOKEN_CHARS)")
    assert len(r.content) < 1000


# -- multipart/form-data: how curl -F and requests' files= upload --------------------------------------------------

def test_a_form_upload_is_read_as_the_raw_body_is_and_its_fields_join_the_query(client, tmp_path):
    body = st_bytes(tmp_path, cells.build("gru", 2, 3, seed=4).to_arrays())
    raw = client.post("/api/models", params={"kind": "cifg"}, content=body)
    form = client.post("/api/models", files={"file": ("m.safetensors", body)}, data={"kind": "cifg"})
    assert raw.status_code == form.status_code == 201 and form.json() == raw.json()  # the same model, the same id
    r = client.post("/api/models", params={"kind": "gru"}, files={"file": ("m.safetensors", body)}, data={"kind": "cifg"})
    assert r.status_code == 422 and r.json()["detail"] == "kind: 'cifg' in the form but 'gru' in the query; give it once"
    r = client.post("/api/models", files={"file": ("m.safetensors", body)}, data={"kindx": "gru"})
    assert r.status_code == 422 and r.json()["detail"].startswith("kindx: not a parameter of an upload; the form's fields are the file and")


@pytest.mark.parametrize("parts, detail", [
    ({"data": {"kind": "gru"}}, "file: a form without a file (application/x-www-form-urlencoded); send the file as a "
                                "multipart form's file field (curl -F file=@model.safetensors"),
    ({"files": {"other": (None, "x")}, "data": {"kind": "gru"}}, "file: the form holds no file; send it as a file field"),
    ({"files": {"a": ("a.npz", b"x"), "b": ("b.npz", b"y")}}, "file: the form holds more than 1 file ('b' is the second)"),
    ({"files": {"file": ("m.npz", b"x")}, "data": {f"f{i}": "1" for i in range(21)}}, "form: more than 20 fields (the limit)"),
    ({"files": {"file": ("m.npz", b"x")}, "data": {"prefix": "p" * 1001}}, "prefix: a form field of more than 1000 bytes (the limit)"),
    ({"files": {"file": ("m.npz", b"")}}, "file: the form's file is empty"),
])
def test_bad_forms_are_answered_422_naming_the_part_and_the_limit(client, parts, detail):
    r = client.post("/api/models", **parts)
    assert r.status_code == 422 and r.json()["detail"].startswith(detail)


def test_a_cut_or_unbounded_form_is_refused(client):
    cut = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="m.npz"\r\n\r\nPK\x03\x04'
    r = client.post("/api/models", content=cut, headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert r.status_code == 422 and r.json()["detail"] == "file: the multipart/form-data body ends before its closing boundary (was the upload cut short?)"
    r = client.post("/api/models", content=cut, headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 422 and r.json()["detail"] == "file: a multipart/form-data body without a boundary in its Content-Type"


def test_a_form_counts_against_the_upload_limit_as_it_streams(tmp_path):
    settings = Settings(upload_dir=tmp_path / "up", max_upload_bytes=2000)
    head = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="m.npz"\r\n\r\n'
    with TestClient(create_app(settings)) as c:
        r = c.post("/api/models", files={"file": ("m.npz", b"x" * 3000)})  # its Content-Length says so: refused unread
        assert r.status_code == 413 and r.json()["data"] == {"limit": 2000, "setting": "max_upload_bytes"}
        chunked = (part for part in [head] + [b"x" * 500] * 6)  # no Content-Length: counted as it arrives
        r = c.post("/api/models", content=chunked, headers={"Content-Type": "multipart/form-data; boundary=xyz"})
        assert r.status_code == 413 and r.json()["detail"].startswith("file: more than 2000 bytes is over the limit of 2000")
    assert not list((tmp_path / "up" / "incoming").iterdir())
