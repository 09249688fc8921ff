"""The streams: WebSocket frames and SSE events carry exactly the engine's numbers, typing extends a run,
and a client that leaves stops the work."""

import struct
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gatescope import cells
from gatescope.app import run
from gatescope.app.config import Settings
from gatescope.app.inputs import fixed_embedding
from gatescope.app.main import create_app


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
    assert [f["name"] for f in header["fields"]] == list(cells.glossary("lstm").keys())
    trace = cells.build("lstm", 8, 6, seed=2).run(fixed_embedding(list("hello world")))
    for name in ("forget_gate", "c", "written", "h"):
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


def test_appending_is_held_to_the_work_of_the_whole_run(tmp_path):
    """A short first request passes max_work; the typed extension is checked as the whole run it makes."""
    with TestClient(create_app(Settings(upload_dir=tmp_path, max_work=(4 * 64 * (8 + 64) + run.STEP_OVERHEAD) * 30))) as c:
        with c.websocket_connect("/ws/trace?kind=lstm&hidden=64&input=abcd") as ws:
            read_stream(ws)
            ws.send_json({"type": "append", "input": "x" * 40})
            msg = ws.receive_json()
            assert msg["status"] == 413 and "44 steps" in msg["detail"] and "GATESCOPE_MAX_WORK" in msg["detail"], msg
            ws.send_json({"type": "append", "input": "xy"})  # a shorter one still fits, from where the run stands
            assert ws.receive_json() == {"type": "tokens", "t0": 4, "tokens": ["x", "y"]}


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


def wait_until(predicate, timeout=30.0):
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
    assert r.status_code == 422 and "GATESCOPE_MAX_HIDDEN" in r.json()["detail"]
    assert not client.app.state.streams.open, "a refused stream kept its slot"


# -- failures become an error message, then a close (issue 8, M1 and M5) -------------------------------------------

def receive_until_error(ws):
    """Messages up to and including the first error (the header, frames and a summary may come before it)."""
    while True:
        msg = ws.receive()
        if msg.get("text") is not None:
            body = __import__("json").loads(msg["text"])
            if body["type"] == "error":
                return body


def closed_with(ws) -> int:
    with pytest.raises(WebSocketDisconnect) as e:
        ws.receive_text()
    return e.value.code


def test_names_that_name_nothing_are_an_error_then_close(client):
    with client.websocket_connect("/ws/trace?kind=lstm&input=ab&names=%2C") as ws:
        msg = receive_until_error(ws)
        assert msg["status"] == 422 and msg["field"] == "names", msg
        assert closed_with(ws) == 1008


def test_a_failure_mid_stream_is_an_error_message_then_close(client, monkeypatch, caplog):
    from gatescope.app import wire
    real, calls = wire.step_rows, []

    def failing(r, trace):
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("the second chunk breaks")
        return real(r, trace)

    monkeypatch.setattr(wire, "step_rows", failing)
    with client.websocket_connect("/ws/trace?kind=lstm&input=sine%20200&input_type=signal&hidden=4") as ws:
        assert ws.receive_json()["type"] == "header"
        ws.receive_bytes()
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["status"] == 500 and "ValueError" in msg["detail"], msg
        assert closed_with(ws) == 1011
    assert wait_until(lambda: not client.app.state.streams.open)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "the second chunk breaks" in caplog.text, "a server fault is logged once, with its cause"


@pytest.mark.parametrize("send,words", [
    (lambda ws: ws.send_bytes(b'{"kind": "lstm"}'), ["binary", "text message"]),
    (lambda ws: ws.send_text("{not json"), ["not JSON"]),
    (lambda ws: ws.send_text("[1]"), ["list", "JSON object"]),
    (lambda ws: ws.send_text('"x"'), ["str", "JSON object"]),
    (lambda ws: ws.send_text("1"), ["int", "JSON object"]),
])
def test_a_first_message_that_is_no_json_object(client, send, words):
    with client.websocket_connect("/ws/trace") as ws:
        send(ws)
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["status"] == 422, msg
        for w in words:
            assert w in msg["detail"], (w, msg)
        assert closed_with(ws) == 1008


def test_no_first_message_names_the_wait(client, monkeypatch):
    from gatescope.app.routers import stream
    monkeypatch.setattr(stream, "FIRST_MESSAGE_SECONDS", 0.2)
    with client.websocket_connect("/ws/trace") as ws:
        msg = ws.receive_json()
        assert msg["status"] == 408 and "no first message within 0.2 s" in msg["detail"] and "view parameters" in msg["detail"], msg
        assert closed_with(ws) == 1008


@pytest.mark.parametrize("text", ["[1]", '"x"', "1", "{not json"])
def test_messages_that_are_no_json_object_keep_the_stream_open(client, text):
    with client.websocket_connect("/ws/trace?kind=lstm&input=a") as ws:
        read_stream(ws)
        ws.send_text(text)
        msg = ws.receive_json()
        assert msg["status"] == 422 and "message:" in msg["detail"], msg
        ws.send_json({"type": "append", "input": "b"})
        assert ws.receive_json()["type"] == "tokens"


def busy_pool_after(app, calls: int):
    """Make the app's pool answer 503 from its ``calls``+1-th call on, as a pool with no free worker does."""
    from gatescope.app.errors import AppError
    pool, real, seen = app.state.pool, app.state.pool.run, []

    async def run(fn, *args, **kw):
        seen.append(fn)
        if len(seen) > calls:
            raise AppError(503, "server: all 2 workers are busy (test)", headers={"Retry-After": "5"})
        return await real(fn, *args, **kw)

    pool.run = run


def test_a_chunk_that_gets_no_worker_ends_the_stream_with_503(client):
    busy_pool_after(client.app, 2)  # resolve, the first chunk; the second chunk finds every worker busy
    with client.websocket_connect("/ws/trace?kind=lstm&input=sine%20300&input_type=signal&hidden=4") as ws:
        assert ws.receive_json()["type"] == "header"
        ws.receive_bytes()
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["status"] == 503 and msg["retry_after"] == 5, msg
        assert closed_with(ws) == 1013
    assert wait_until(lambda: not client.app.state.streams.open)


def test_a_stream_waits_for_the_pool_and_gives_up_in_time(tmp_path):
    """Streams count against heavy_workers: with the only worker held, the request is answered 503, WS and SSE."""
    with TestClient(create_app(Settings(upload_dir=tmp_path, heavy_workers=1, queue_seconds=0.2))) as c:
        pool, token = c.app.state.pool, object()
        c.portal.call(pool._limiter.acquire_on_behalf_of, token)
        try:
            with c.websocket_connect("/ws/trace?kind=lstm&input=a") as ws:
                msg = ws.receive_json()
                assert msg["status"] == 503 and "GATESCOPE_HEAVY_WORKERS" in msg["detail"], msg
                assert closed_with(ws) == 1013
            r = c.get("/api/trace/stream", params={"kind": "lstm", "input": "a"})
            assert r.status_code == 503 and r.headers["retry-after"]
        finally:
            c.portal.call(pool._limiter.release_on_behalf_of, token)
        assert not c.app.state.streams.open
        with c.websocket_connect("/ws/trace?kind=lstm&input=a") as ws:
            read_stream(ws)


def test_sse_ends_with_an_error_event_when_a_chunk_gets_no_worker(client):
    busy_pool_after(client.app, 2)
    text = client.get("/api/trace/stream", params={"kind": "lstm", "input": "sine 300", "input_type": "signal", "hidden": 4}).text
    names = [block.split("\n", 1)[0].removeprefix("event: ") for block in text.strip().split("\n\n")]
    assert names[0] == "header" and names[-1] == "error" and "summary" not in names
    assert '"status":503' in text.rsplit("\n\n", 2)[-2] and not client.app.state.streams.open


# -- SSE slots are given back when the response ends, however it ends (H6) ----------------------------------------

def sse_scope(query: bytes, spec: str) -> dict:
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": spec}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/api/trace/stream", "raw_path": b"/api/trace/stream", "query_string": query,
            "headers": [(b"host", b"testserver")], "client": ("10.0.0.7", 5000), "server": ("testserver", 80), "root_path": ""}


@pytest.mark.parametrize("leaves,spec", [
    ("stops reading, then disconnects", "2.3"),  # uvicorn today: the stream is cancelled, its generator left at a yield
    ("gone before the response starts", "2.4"),  # the first send raises: the generator is never started
    ("gone mid-body", "2.4"),                    # a later send raises
])
def test_an_sse_slot_is_given_back_at_once(tmp_path, leaves, spec):
    import anyio
    app = create_app(Settings(upload_dir=tmp_path))
    streams = app.state.streams

    async def main():
        gone, reading = anyio.Event(), anyio.Event()

        async def receive():
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(msg):
            if leaves == "gone before the response starts" or (leaves == "gone mid-body" and msg["type"] == "http.response.body"):
                raise OSError("connection reset by peer")
            if msg["type"] == "http.response.body":
                reading.set()
                await gone.wait()  # a client that stopped reading; once it is gone, sends go nowhere (as uvicorn's do)

        async def serve():
            try:
                await app(sse_scope(b"kind=lstm&input=sine%205000&input_type=signal", spec), receive, send)
            except OSError:  # re-raised by main.py's http middleware (BaseHTTPMiddleware), outside the stream
                pass

        async with anyio.create_task_group() as tg:
            tg.start_soon(serve)
            if leaves == "stops reading, then disconnects":
                await reading.wait()
                assert streams.open == {"10.0.0.7": 1}
                gone.set()
        assert streams.open == {}, "the slot outlived the response"

    # in a thread of its own: Playwright's sync API keeps an event loop running in the main thread while the browser
    # tests' session-scoped browser is alive, and anyio.run refuses to start a second one there
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, main).result(timeout=60)


@pytest.mark.parametrize("query", ["kind=lstm&proj_size=2&hidden=4&input=ab", "kind=gru&reset_after=false&input=ab", "preset=remember-gru"])
def test_the_header_carries_the_kinds_description(client, query):
    """The page draws from the header alone: the description is the one GET /api/kinds/{kind} gives under the model's options."""
    with client.websocket_connect(f"/ws/trace?{query}") as ws:
        header = ws.receive_json()
    model = header["model"]
    options = {k: ("true" if v is True else "false" if v is False else v) for k, v in model["options"].items() if v is not None}
    assert header["kind_info"] == client.get(f"/api/kinds/{model['kind']}", params=options).json()
    assert header["kind_info"]["name"] == model["kind"] and header["kind_info"]["diagram"]["nodes"]
