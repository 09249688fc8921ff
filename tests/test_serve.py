"""gatescope serve (app/cli.py): whom a server on loopback answers to, and how long it waits for a request's headers
(issue 18, findings 10 and 11). The servers here are real `python -m gatescope serve` processes on free 127.0.0.1 ports,
started and stopped as tests/test_deploy.py does."""

from __future__ import annotations

import http.client
import os
import socket
import time

import pytest
from test_deploy import backend_env, free_port, serve, spawn, stop, wait_healthy

from gatescope.app import cli
from gatescope.app.config import Settings
from gatescope.app.serve_protocol import HeaderTimeoutProtocol

LOCAL = "localhost 127.0.0.1 [::1]"


# -- allowed_hosts on loopback (finding 10) -----------------------------------------------------------------------

@pytest.mark.parametrize("host, hosts", [
    ("127.0.0.1", LOCAL), ("localhost", LOCAL), ("LocalHost", LOCAL), ("::1", LOCAL), ("[::1]", LOCAL),
    ("127.0.1.1", "localhost 127.0.1.1 127.0.0.1 [::1]"),  # Debian's name for the machine's own host name
    ("127.0.0.2", "localhost 127.0.0.2 127.0.0.1 [::1]"),
    ("127.255.255.254", "localhost 127.255.255.254 127.0.0.1 [::1]"),
    ("127.1", "localhost 127.1 127.0.0.1 [::1]"),  # the system reads it as 127.0.0.1, and so binds it
    ("0.0.0.0", None), ("::", None), ("192.168.1.5", None), ("10.0.0.1", None), ("2001:db8::1", None),
    ("example.org", None), ("rebound.example", None),  # names are not looked up: only addresses and "localhost"
])
def test_every_loopback_address_answers_only_to_local_names(host, hosts):
    assert cli.loopback_hosts(host) == hosts


def unset(monkeypatch, *names):
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.mark.parametrize("host", ["127.0.0.2", "127.0.1.1"])
def test_serve_on_any_loopback_address_sets_allowed_hosts(monkeypatch, host):
    calls = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kw: calls.append(kw))
    unset(monkeypatch, "GATESCOPE_ALLOWED_HOSTS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    cli.main(["serve", "--host", host, "--port", "0"])
    assert os.environ["GATESCOPE_ALLOWED_HOSTS"] == f"localhost {host} 127.0.0.1 [::1]"
    monkeypatch.setenv("GATESCOPE_ALLOWED_HOSTS", "lecture.example")  # an operator's own choice stands
    cli.main(["serve", "--host", host, "--port", "0"])
    assert os.environ["GATESCOPE_ALLOWED_HOSTS"] == "lecture.example"
    assert calls[-1]["http"] is HeaderTimeoutProtocol and calls[-1]["host"] == host


def get(port: int, host_header: str, address: str = "127.0.0.1", path: str = "/healthz") -> int:
    conn = http.client.HTTPConnection(address, port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host_header})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def test_a_server_on_127_0_1_1_refuses_a_rebound_name(tmp_path):
    port, log = free_port(), tmp_path / "server.log"
    proc = spawn(serve(port, "--host", "127.0.1.1"), log, backend_env(tmp_path / "models"))
    try:
        while True:  # until it answers; a start that hangs is bounded by the suite's per-test timeout
            try:
                if get(port, f"127.0.1.1:{port}", "127.0.1.1") == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, log.read_text(errors="replace")
            time.sleep(0.05)
        assert get(port, f"localhost:{port}", "127.0.1.1") == 200
        assert get(port, f"rebound.example:{port}", "127.0.1.1") == 400  # a page on a name rebound to 127.0.1.1
    finally:
        stop(proc)


# -- the header timeout (finding 11) -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server whose header timeout is 1 s."""
    tmp = tmp_path_factory.mktemp("serve")
    port, log = free_port(), tmp / "server.log"
    proc = spawn(serve(port), log, backend_env(tmp / "models", header_timeout_seconds="1"))
    try:
        wait_healthy(port, [proc], [log])
        yield port
    finally:
        stop(proc)


def closed_by_server(sock: socket.socket, trickle: bytes, bound: float = 30.0) -> bytes | None:
    """Send ``trickle`` a byte a second until the server closes the connection (or ``bound`` s pass): what it sent
    back before closing, or None if it never closed."""
    sock.settimeout(1.0)
    got, deadline = b"", time.monotonic() + bound
    for byte in [trickle[i:i + 1] for i in range(len(trickle))] + [b""] * int(bound):
        if time.monotonic() > deadline:
            return None
        try:
            chunk = sock.recv(4096)
            if not chunk:
                return got
            got += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            return got
        try:
            if byte:
                sock.sendall(byte)
        except (BrokenPipeError, ConnectionResetError):
            return got
    return None


def test_a_request_whose_headers_trickle_in_is_closed(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        got = closed_by_server(sock, b"X-Slow: " + b"a" * 60)  # a minute of header, a byte a second
    assert got is not None, "the server kept a connection whose headers trickled in open for 30 s"
    assert got == b"" or got.startswith(b"HTTP/1.1 408"), got
    if got:
        assert b"GATESCOPE_HEADER_TIMEOUT_SECONDS" in got
    if "header_timeout_seconds" in Settings.model_fields:  # the setting, not the default (10 s), set the limit
        assert b"within 1 s" in got, got


def test_a_connection_that_sends_nothing_is_closed(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        assert closed_by_server(sock, b"") == b""  # nothing came, so nothing is answered: it is only closed


def test_a_second_request_whose_headers_trickle_in_is_closed(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first or not first.rstrip().endswith(b"}"):
            first += sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request starts, and stops uvicorn's keep-alive timer
        got = closed_by_server(sock, b"Host: 127.0.0.1\r\nX-Slow: " + b"a" * 60)
    assert got is not None and (got == b"" or got.startswith(b"HTTP/1.1 408")), got


def test_ordinary_and_kept_alive_requests_are_answered(server):
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        for pause in (0, 0, 2):  # 2 s idle: past the header timeout, within uvicorn's keep-alive (5 s)
            time.sleep(pause)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            assert r.status == 200 and r.read()
            assert conn.sock is not None  # the same connection, kept alive
        conn.request("POST", "/api/trace", body=b'{"kind": "lstm", "input": "ab"}', headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 200 and r.read()
    finally:
        conn.close()


def test_a_websocket_outlives_the_header_timeout(server):
    from websockets.sync.client import connect
    with connect(f"ws://127.0.0.1:{server}/ws/trace?kind=lstm&input=ab&frames=json", open_timeout=10) as ws:
        assert '"header"' in ws.recv(timeout=10)
        time.sleep(2)  # past the header timeout: the handshake's headers are done, the timer with them
        ws.ping().wait(timeout=10)


@pytest.mark.parametrize("size, piece", [(60_000, 4096), (1_000_000, None)])
def test_a_request_too_long_to_read_is_answered_400_and_the_client_reads_it(server, size, piece):
    """A request line past what the server reads (h11's limit on what it holds before a request is complete: a long
    one sent in pieces, or a huge one) is answered 400 while the client is still sending it; the server reads on and
    drops the rest before it closes, so the client reads the answer, not a reset."""
    request = b"GET /api/trace?input=" + b"x" * size + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(request), piece or len(request)):
            sock.sendall(request[i:i + (piece or len(request))])
            time.sleep(0.01 if piece else 0)  # pieces the server reads one by one: more than h11 holds, incomplete
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"Invalid HTTP request received."), answer[:200]
