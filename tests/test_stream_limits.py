"""Streams against a real server (issue 8): concurrent streams from one address are held to the limit and their
slots come back as soon as they close; clients that leave mid-stream log no tracebacks; a training client that
leaves at once leaves no worker behind."""

import socket
import threading
import time
from pathlib import Path

import pytest
from browser.conftest import start_server, stop_server
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

LIMIT = 8
LONG = "kind=lstm&hidden=256&input=sine%205000&input_type=signal"  # megabytes of steps: open until the client leaves


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("server")
    proc, base = start_server(workdir, {"GATESCOPE_MAX_STREAMS_PER_CLIENT": str(LIMIT)})
    yield proc, base, workdir / "server.log"
    stop_server(proc)


def sse_open(base: str) -> tuple[socket.socket, int]:
    """A raw SSE request that reads only the status line: the stream stays open, unread, until the socket closes."""
    host, port = base.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(f"GET /api/trace/stream?{LONG} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n" not in head:
        head += s.recv(64)
    return s, int(head.split()[1])


def ws_open(base: str):
    """A WebSocket on the long stream and the type (or error status) of its first message."""
    ws = connect(base.replace("http", "ws") + f"/ws/trace?{LONG}", open_timeout=30, legacy=True)  # closed by the caller
    first = ws.recv(timeout=30)
    return ws, ("429" if '"status":429' in first else first.split('"type":"')[1].split('"')[0])


def at_once(opener, base, n):
    """``n`` streams opened together from one address."""
    out, barrier = [], threading.Barrier(n)

    def one():
        barrier.wait()
        out.append(opener(base))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def close_all(opened):
    for conn, _ in opened:
        conn.close()


@pytest.mark.parametrize("opener,accepted", [(sse_open, 200), (ws_open, "header")], ids=["sse", "ws"])
def test_concurrent_streams_are_held_to_the_limit_and_come_back_on_close(server, opener, accepted):
    _, base, _ = server
    opened = at_once(opener, base, 30)
    try:
        got = sorted(str(status) for _, status in opened)
        assert got.count(str(accepted)) == LIMIT and got.count("429") == 30 - LIMIT, got
    finally:
        close_all(opened)
    deadline = time.monotonic() + 30  # the server notices the closes (no garbage collector is waited for); a wait, not a measure
    while True:
        again = at_once(opener, base, LIMIT)
        close_all(again)
        statuses = [str(s) for _, s in again]
        if statuses == [str(accepted)] * LIMIT or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert statuses == [str(accepted)] * LIMIT, f"slots were not given back: {statuses}"


def test_clients_that_leave_mid_stream_log_nothing(server):
    _, base, log = server
    time.sleep(0.5)
    before = log.stat().st_size
    for _ in range(4):
        ws, _ = ws_open(base)
        ws.recv(timeout=30)  # a frame, then a clean close
        ws.close()
        ws, _ = ws_open(base)
        ws.recv(timeout=30)
        ws.socket.close()  # gone without a close frame
        s, status = sse_open(base)
        assert status == 200
        s.recv(4096)
        s.close()
    time.sleep(1.5)
    with open(log, "rb") as f:
        f.seek(before)
        text = f.read().decode(errors="replace")
    assert "Traceback" not in text and "ERROR" not in text, text[:3000]
    assert len(text.splitlines()) <= 12, text[:3000]  # one line per client at most


def spawned_workers(pid: int) -> list[int]:
    """The server's training processes (not multiprocessing's resource tracker)."""
    out = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"multiprocessing" in cmd and b"resource_tracker" not in cmd:
            out.append(int(child))
    return out


def test_a_training_client_that_leaves_at_once_leaves_no_worker(server):
    proc, base, _ = server
    with connect(base.replace("http", "ws") + "/ws/train") as ws:
        ws.send('{"type": "start", "task": "remember", "kind": "lstm", "hidden": 64, "steps": 5000}')
    deadline = time.monotonic() + 10
    while spawned_workers(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not spawned_workers(proc.pid), "the worker outlived a client that left before it started"


def test_a_long_handshake_is_answered_and_a_bad_frame_logs_nothing(server):
    """A request line over 8 KB (the websockets-sansio protocol left it unanswered) and a text frame that is not UTF-8
    (it logged a traceback): the server answers the first and closes on the second, quietly."""
    _, base, log = server
    before = log.stat().st_size
    host = base.split("//")[1]
    with socket.create_connection(("127.0.0.1", int(host.split(":")[1])), timeout=10) as s:
        s.sendall(("GET /ws/trace?kind=lstm&input=" + "a" * 9000 + f" HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        assert s.recv(64).startswith(b"HTTP/1.1 "), "no answer to a long handshake"
    from websockets.frames import Frame, Opcode
    with connect(base.replace("http", "ws") + "/ws/train") as ws:
        with ws.protocol_mutex:
            ws.protocol.send_frame(Frame(Opcode.TEXT, b"\xed\xa0\x80"))  # a lone surrogate's bytes: not UTF-8
            ws.send_data()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    time.sleep(0.5)
    with open(log, "rb") as f:
        f.seek(before)
        text = f.read().decode(errors="replace")
    assert "Traceback" not in text, text[:3000]


def test_idle_training_sockets_are_held_to_the_stream_limit(server):
    """Connected /ws/train sockets that send nothing yet count as streams: one over the limit is refused (429, 1013)."""
    _, base, _ = server
    url = base.replace("http", "ws") + "/ws/train"
    idle = [connect(url, open_timeout=30, legacy=True) for _ in range(LIMIT)]  # closed below
    try:
        with connect(url, open_timeout=30) as over:
            assert '"status":429' in over.recv(timeout=10)
            with pytest.raises(ConnectionClosed) as e:
                over.recv(timeout=10)
            assert e.value.rcvd.code == 1013
    finally:
        for ws in idle:
            ws.close()
    deadline = time.monotonic() + 30
    while True:  # the slots come back as the server notices the closes (a wait, not a measure)
        with connect(url, open_timeout=30) as ws:
            ws.send("[1]")
            first = ws.recv(timeout=10)
        if '"status":422' in first or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert '"status":422' in first, first
