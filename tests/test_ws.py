"""The streams: WebSocket frames and SSE events carry exactly the engine's numbers, typing extends a run,
and a client that leaves stops the work."""

import struct
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import cells
from app.config import Settings
from app.inputs import fixed_embedding
from app.main import create_app


def read_stream(ws):
    """header, (T, stride) rows, summary, and the sizes of the frames."""
    header = ws.receive_json()
    assert header["type"] == "header", header
    rows, sizes = {}, []
    while True:
        msg = ws.receive()
        if msg.get("bytes") is not None:
            t0, n = struct.unpack_from("<II", msg["bytes"])
            block = np.frombuffer(msg["bytes"], "<f4", offset=8).reshape(n, header["stride"])
            for i in range(n):
                rows[t0 + i] = block[i]
            sizes.append(n)
        else:
            body = __import__("json").loads(msg["text"])
            if body["type"] == "summary":
                return header, np.array([rows[t] for t in sorted(rows)]), body, sizes
            if body["type"] == "steps":
                for i, r in enumerate(body["values"]):
                    rows[body["t0"] + i] = np.array(r)
                sizes.append(body["count"])


def field(header, rows, name):
    f = next(f for f in header["fields"] if f["name"] == name)
    return rows[:, f["offset"]:f["offset"] + f["width"]]


def test_frames_carry_the_engine_numbers(client):
    with client.websocket_connect("/ws/trace?kind=lstm&input=hello%20world&hidden=6&seed=2") as ws:
        header, rows, summary, sizes = read_stream(ws)
    assert header["tokens"] == list("hello world") and header["steps"] == 11
    assert [f["name"] for f in header["fields"]] == list(cells.vocabulary("lstm").keys())
    trace = cells.build("lstm", 8, 6, seed=2).run(fixed_embedding(list("hello world")))
    for name in ("forget", "c", "written", "h"):
        np.testing.assert_allclose(field(header, rows, name), trace[name], atol=1e-6)
    assert sizes[0] <= 8 and sum(sizes) == 11
    assert summary["steps"] == 11 and summary["bytes_per_snapshot"] > header["stride"] * 4


def test_typing_extends_the_run_from_the_last_state(client):
    with client.websocket_connect("/ws/trace?kind=gru&input=ab&hidden=4") as ws:
        header, rows, _, _ = read_stream(ws)
        ws.send_json({"type": "append", "input": "cd"})
        tokens = ws.receive_json()
        assert tokens == {"type": "tokens", "t0": 2, "tokens": ["c", "d"]}
        frame = ws.receive_bytes()
    t0, n = struct.unpack_from("<II", frame)
    assert (t0, n) == (2, 2)
    appended = np.frombuffer(frame, "<f4", offset=8).reshape(n, header["stride"])
    whole = cells.build("gru", 8, 4).run(fixed_embedding(list("abcd")))
    np.testing.assert_allclose(field(header, appended, "h"), whole["h"][2:], atol=1e-6)


def test_json_frames_and_a_request_in_the_first_message(client):
    with client.websocket_connect("/ws/trace?frames=json") as ws:
        ws.send_json({"kind": "rnn", "input": "0.5, 1, -1", "input_type": "numbers", "hidden": 3})
        header, rows, summary, _ = read_stream(ws)
    assert header["format"] == "json" and rows.shape == (3, header["stride"])
    np.testing.assert_allclose(field(header, rows, "x")[:, 0], [0.5, 1, -1])


def test_invalid_request_is_an_error_message_then_close(client):
    with client.websocket_connect("/ws/trace?kind=lstm&hidden=0") as ws:
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["status"] == 422 and "hidden" in str(msg["detail"])
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive_json()
        assert e.value.code == 1008


def test_bad_messages_keep_the_stream_open(client):
    with client.websocket_connect("/ws/trace?kind=lstm&input=a") as ws:
        read_stream(ws)
        ws.send_text("not json")
        assert ws.receive_json()["status"] == 422
        ws.send_json({"type": "append", "input": 5})
        assert ws.receive_json()["status"] == 422
        ws.send_json({"type": "append", "input": "b"})
        assert ws.receive_json()["type"] == "tokens"


def test_bidirectional_models_cannot_be_extended(client):
    with client.websocket_connect("/ws/trace?kind=lstm&input=abc&bidirectional=true") as ws:
        header, rows, _, _ = read_stream(ws)
        assert rows.shape[0] == 3
        ws.send_json({"type": "append", "input": "d"})
        assert "unidirectional" in ws.receive_json()["detail"]


def test_appending_past_the_step_limit(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_steps=5))) as c:
        with c.websocket_connect("/ws/trace?kind=lstm&input=abcd") as ws:
            read_stream(ws)
            ws.send_json({"type": "append", "input": "xyz"})
            msg = ws.receive_json()
            assert msg["status"] == 413 and "7 steps" in msg["detail"] and "GATESCOPE_MAX_STEPS" in msg["detail"]


def test_streams_per_client_are_limited(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_streams_per_client=2))) as c:
        with c.websocket_connect("/ws/trace?kind=lstm&input=a") as a, c.websocket_connect("/ws/trace?kind=lstm&input=b") as b:
            read_stream(a), read_stream(b)
            with c.websocket_connect("/ws/trace?kind=lstm&input=c") as third:
                msg = third.receive_json()
                assert msg["status"] == 429 and "GATESCOPE_MAX_STREAMS_PER_CLIENT" in msg["detail"]
            assert c.get("/api/trace/stream", params={"kind": "lstm"}).status_code == 429
        with c.websocket_connect("/ws/trace?kind=lstm&input=d") as d:  # slots are given back on close
            assert read_stream(d)[0]["type"] == "header"


def wait_until(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_a_client_that_leaves_stops_the_computation(client):
    streams = client.app.state.streams
    before = streams.steps_computed
    with client.websocket_connect("/ws/trace?kind=lstm&hidden=256&input=sine%205000&input_type=signal") as ws:
        ws.receive_json()
        ws.receive_bytes()  # the first chunk, then leave
    assert wait_until(lambda: not streams.open), "the stream's slot was not given back"
    done = streams.steps_computed - before
    time.sleep(0.3)
    assert streams.steps_computed - before == done, "work went on after the client left"
    assert done < 5000


def test_sse_twin_sends_the_same_numbers(client):
    params = {"kind": "peephole", "input": "abc", "hidden": 3, "digits": 9}
    with client.stream("GET", "/api/trace/stream", params=params) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = r.read().decode()
    events = [block.split("\n", 1) for block in text.strip().split("\n\n")]
    names = [e[0].removeprefix("event: ") for e in events]
    assert names[0] == "header" and names[-1] == "summary" and set(names[1:-1]) == {"steps"}
    import json
    header = json.loads(events[0][1].removeprefix("data: "))
    rows = np.concatenate([json.loads(e[1].removeprefix("data: "))["values"] for e in events[1:-1]])
    trace = cells.build("peephole", 8, 3).run(fixed_embedding(list("abc")))
    np.testing.assert_allclose(field(header, rows, "c"), trace["c"], atol=1e-6)


def test_sse_rejects_bad_requests_before_streaming(client):
    r = client.get("/api/trace/stream", params={"kind": "lstm", "hidden": 99999})
    assert r.status_code == 413
