"""WS /ws/train: a job streams progress and probes, returns a model like an uploaded one, stops on request or on
disconnect, and leaves no worker behind."""

import multiprocessing
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gatescope.app.config import Settings
from gatescope.app.main import create_app

SMALL = {"type": "start", "task": "remember", "kind": "lstm", "hidden": 8, "steps": 150, "learning_rate": 0.02, "seed": 1}


def messages(ws, until):
    out = []
    while True:
        msg = ws.receive_json()
        out.append(msg)
        if msg["type"] in until or msg["type"] == "error":
            return out


def no_worker_left(timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not multiprocessing.active_children():
            return True
        time.sleep(0.05)
    return False


def test_a_job_runs_and_its_model_is_a_model(client):
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json(SMALL)
        got = messages(ws, {"done"})
    kinds = [m["type"] for m in got]
    assert kinds[0] == "started" and kinds[-1] == "done", kinds
    progress = [m for m in got if m["type"] == "progress"]
    assert progress and progress[-1]["step"] == 150 and all(np.isfinite(m["loss"]) for m in progress)
    probes = [m for m in got if m["type"] == "probe"]
    assert probes and {"forget_gate", "c", "h"} <= set(probes[-1]["values"])
    assert np.array(probes[-1]["values"]["forget_gate"]).shape[1] == 8
    done = got[-1]
    assert done["stopped"] == "done" and done["steps"] == 150 and len(done["id"]) == 32
    body = client.get("/api/trace", params={"model": done["id"]}).json()  # a permalink to the trained model
    assert body["model"]["card"]["task"] == "remember" and body["predictions"]["head"] == "softmax"
    assert no_worker_left()


def test_stop_keeps_the_model_and_stopping_twice_is_harmless(client):
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({**SMALL, "steps": 5000})
        messages(ws, {"progress"})
        ws.send_json({"type": "stop"})
        ws.send_json({"type": "stop"})
        got = messages(ws, {"done"})
    stopping = [m for m in got if m["type"] == "stopping"]
    assert [m["again"] for m in stopping] == [False, True]
    assert got[-1]["stopped"] == "cancelled" and got[-1]["steps"] < 5000
    assert no_worker_left()


def test_closing_the_browser_stops_the_worker(client):
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({**SMALL, "steps": 5000})
        messages(ws, {"progress"})
    assert no_worker_left(), "the training process outlived its client"
    end = time.monotonic() + 5
    while client.app.state.jobs.running and time.monotonic() < end:
        time.sleep(0.05)
    assert not client.app.state.jobs.running


@pytest.mark.parametrize("change,status,words", [
    ({"task": "poetry"}, 422, ["poetry", "remember"]),
    ({"kind": "lstmm"}, 422, ["lstmm"]),
    ({"hidden": 500}, 413, ["hidden", "500", "64", "GATESCOPE_MAX_TRAIN_HIDDEN"]),
    ({"steps": 99999}, 413, ["steps", "99999", "GATESCOPE_MAX_TRAIN_STEPS"]),
    ({"learning_rate": 0}, 422, ["learning_rate"]),
    ({"warp": 9}, 422, ["warp"]),
])
def test_bad_requests(client, change, status, words):
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({**SMALL, **change})
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["status"] == status, msg
        for w in words:
            assert w in str(msg["detail"]), (w, msg)
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_one_job_per_client_and_a_server_limit(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_training_jobs=1))) as c:
        with c.websocket_connect("/ws/train") as first:
            first.send_json({**SMALL, "steps": 5000})
            messages(first, {"progress"})
            with c.websocket_connect("/ws/train") as second:
                second.send_json(SMALL)
                msg = second.receive_json()
                assert msg["status"] == 429 and "already training" in msg["detail"]
            first.send_json({"type": "stop"})
            messages(first, {"done"})
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_training_jobs=0))) as c:
        with c.websocket_connect("/ws/train") as ws:
            ws.send_json(SMALL)
            assert "GATESCOPE_MAX_TRAINING_JOBS" in ws.receive_json()["detail"]
    assert no_worker_left()


# -- issue 8: bad messages, a client that leaves early, the slot after done ---------------------------------------

def closed_with(ws) -> int:
    with pytest.raises(WebSocketDisconnect) as e:
        ws.receive_text()
    return e.value.code


@pytest.mark.parametrize("send,words", [
    (lambda ws: ws.send_bytes(b'{"type": "start"}'), ["binary"]),
    (lambda ws: ws.send_text("{not json"), ["not JSON"]),
    (lambda ws: ws.send_text("[1]"), ["list"]),
    (lambda ws: ws.send_text('"x"'), ["str"]),
    (lambda ws: ws.send_text("1"), ["int"]),
])
def test_a_first_message_that_is_no_json_object(client, send, words):
    with client.websocket_connect("/ws/train") as ws:
        send(ws)
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["status"] == 422 and all(w in msg["detail"] for w in words), msg
        assert closed_with(ws) == 1008
    assert not multiprocessing.active_children()


def test_no_start_message_names_the_wait(client, monkeypatch):
    from gatescope.app.routers import train
    monkeypatch.setattr(train, "FIRST_MESSAGE_SECONDS", 0.2)
    with client.websocket_connect("/ws/train") as ws:
        msg = ws.receive_json()
        assert msg["status"] == 408 and "no first message within 0.2 s" in msg["detail"] and '"type": "start"' in msg["detail"], msg
        assert closed_with(ws) == 1008


@pytest.mark.parametrize("text", ["{not json", "[1]", '"x"', "1", '{"type": "pause"}'])
def test_bad_messages_during_a_job_are_answered_and_the_job_goes_on(client, text):
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({**SMALL, "steps": 5000})
        messages(ws, {"progress"})
        ws.send_text(text)
        got = messages(ws, {"error"})
        assert got[-1]["status"] == 422 and "message:" in got[-1]["detail"], got[-1]
        messages(ws, {"progress"})  # still training
        ws.send_json({"type": "stop"})
        assert messages(ws, {"done"})[-1]["type"] == "done"
    assert no_worker_left()


def test_a_client_that_leaves_before_started_leaves_no_worker(client, monkeypatch):
    """The socket is gone by the time "started" is sent (a real server raises on that send): the worker is reaped."""
    from gatescope.app.routers import train
    real = train.send

    async def send(ws, body):
        if body["type"] == "started":
            raise WebSocketDisconnect(1001)
        await real(ws, body)

    monkeypatch.setattr(train, "send", send)
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({**SMALL, "steps": 5000, "hidden": 64})
        time.sleep(0.2)
    assert no_worker_left(timeout=train.GRACE_SECONDS + 2), "the worker outlived a client that left before it started"
    assert not client.app.state.jobs.running


def test_a_new_job_may_start_as_soon_as_done_arrives(client):
    with client.websocket_connect("/ws/train") as first:
        first.send_json({**SMALL, "steps": 20})
        assert messages(first, {"done"})[-1]["type"] == "done"
        with client.websocket_connect("/ws/train") as second:  # the first socket is still open
            second.send_json({**SMALL, "steps": 20})
            got = messages(second, {"started"})
            assert got[-1]["type"] == "started", got[-1]
            assert messages(second, {"done"})[-1]["type"] == "done"
    assert no_worker_left()


# -- review: an idle training socket is a stream; a failing worker is logged, told generically, and closed with 1011 --

def streams_closed(app, timeout=5.0):
    end = time.monotonic() + timeout
    while app.state.streams.open and time.monotonic() < end:
        time.sleep(0.02)
    return not app.state.streams.open


def test_idle_training_sockets_count_against_the_stream_limit(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_streams_per_client=2))) as c:
        with c.websocket_connect("/ws/train"), c.websocket_connect("/ws/train"):  # connected, no first message
            assert c.app.state.streams.open == {"testclient": 2}
            with c.websocket_connect("/ws/train") as third:
                msg = third.receive_json()
                assert msg["type"] == "error" and msg["status"] == 429 and "GATESCOPE_MAX_STREAMS_PER_CLIENT" in msg["detail"], msg
                assert closed_with(third) == 1013
            with c.websocket_connect("/ws/trace") as trace:  # the same limit as the trace streams
                assert trace.receive_json()["status"] == 429
        assert streams_closed(c.app), "the training sockets' slots were not given back"
        with c.websocket_connect("/ws/train") as ws:
            ws.send_json({**SMALL, "steps": 5})
            assert messages(ws, {"done"})[-1]["type"] == "done"
            assert closed_with(ws) == 1000
        assert streams_closed(c.app)
    assert no_worker_left()


def test_a_failing_worker_is_logged_and_closes_with_1011(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("a regular file, not a directory")
    caplog.set_level("ERROR", logger="gatescope")
    with TestClient(create_app(Settings(upload_dir=blocker / "models"))) as c:
        with c.websocket_connect("/ws/train") as ws:
            ws.send_json({**SMALL, "kind": "rnn", "hidden": 2, "steps": 5})
            msg = messages(ws, {"done"})[-1]
            assert msg["type"] == "error" and msg["status"] == 500, msg
            assert "NotADirectoryError" in msg["detail"] and "server's log" in msg["detail"], msg
            assert "/" not in msg["detail"] and str(tmp_path) not in msg["detail"], "an error must not carry a path"
            assert closed_with(ws) == 1011
        assert streams_closed(c.app) and not c.app.state.jobs.running
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    logged = errors[0].getMessage()
    assert "Traceback" in logged and "NotADirectoryError" in logged and str(blocker) in logged, logged
    assert no_worker_left()


def test_a_worker_that_dies_without_a_word_is_a_1011(client, monkeypatch, caplog):
    """A worker that ends with no "done" and no "error" (killed, or failing before it can send) is a server fault too."""
    import sys
    import types

    from gatescope.app.routers import train
    monkeypatch.setattr(train, "train_worker", types.SimpleNamespace(run=sys.exit))  # sys.exit(5 arguments): exit code 1
    caplog.set_level("ERROR", logger="gatescope")
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({**SMALL, "steps": 5})
        msg = messages(ws, {"done"})[-1]
        assert msg["type"] == "error" and msg["status"] == 500 and "exit code 1" in msg["detail"], msg
        assert closed_with(ws) == 1011
    assert "exit code 1" in caplog.text
    assert no_worker_left()
