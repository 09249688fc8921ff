"""The deployment in deploy/: Debian's nginx on loopback in front of two `gatescope serve` processes
sharing one model store, with the global per-client limits at the proxy; and whose X-Forwarded-For
the app believes (the setting trusted_proxies, nobody by default).

Clients connect from their own loopback addresses (127.0.0.11, .12, ...), so nginx sees each as
another client and each test has its own limits. The backends' access logs say which address they
believed. Every process started here runs in its own session and is stopped with its group.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from gatescope import cells
from gatescope.app.config import Settings
from gatescope.app.main import create_app

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NGINX = "/usr/sbin/nginx"
START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    with open(log, "wb") as f:  # a file, not a pipe: a pipe nobody reads would block the process
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
                                start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process's group (uvicorn's workers, nginx's workers), SIGKILL if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def get(port: int, path: str, source: str = "127.0.0.1", method: str = "GET", body: bytes | None = None,
        headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def wait_healthy(port: int, procs: list[subprocess.Popen], logs: list[Path]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs):
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if get(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered GET /healthz on port {port} within {START_SECONDS} s")


def backend_env(upload_dir: Path, **settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATESCOPE_")}
    return {**env, "GATESCOPE_UPLOAD_DIR": str(upload_dir), **{f"GATESCOPE_{k.upper()}": v for k, v in settings.items()}}


def serve(port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "gatescope.app", "serve", "--port", str(port), "--log-level", "info", *args]


def seen_as(log: Path, what: str) -> list[str]:
    """The client addresses a backend's access log gives for requests whose line contains ``what``."""
    return re.findall(r"INFO:\s+([0-9a-f.:\[\]]+):\d+ - \"" + re.escape(what), log.read_text(errors="replace"))


def render(site: str, listen: int, backends: list[int]) -> str:
    """deploy/gatescope.conf with this test's ports; each line it changes must be there exactly once."""
    for old, new in [("listen 8080;", f"listen 127.0.0.1:{listen};"),
                     ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{backends[0]} "),
                     ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{backends[1]} ")]:
        assert site.count(old) == 1, f"deploy/gatescope.conf: expected one {old!r}"
        site = site.replace(old, new)
    return site


class Deployment:
    def __init__(self, tmp: Path):
        self.tmp, self.procs = tmp, []
        self.site = (DEPLOY / "gatescope.conf").read_text()
        self.streams_limit = int(re.search(r"limit_conn gatescope_streams (\d+);", self.site)[1])
        self.rate = int(re.search(r"zone=gatescope_requests:\w+ rate=(\d+)r/s;", self.site)[1])
        self.burst = int(re.search(r"limit_req zone=gatescope_requests burst=(\d+) nodelay;", self.site)[1])
        self.ports = [free_port(), free_port()]
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.logs = [tmp / "backend-a.log", tmp / "backend-b.log"]

    def start(self) -> None:
        upload_dir = self.tmp / "models"  # one store for both
        # a: trusted_proxies from the environment; b: from the command line, in two worker processes
        self.procs.append(spawn(serve(self.ports[0]), self.logs[0], backend_env(upload_dir, trusted_proxies="127.0.0.1")))
        self.procs.append(spawn(serve(self.ports[1], "--workers", "2", "--trusted-proxies", "127.0.0.1"), self.logs[1],
                                backend_env(upload_dir)))
        prefix = self.tmp / "nginx"
        (prefix / "logs").mkdir(parents=True)
        (prefix / "nginx.conf").write_text((DEPLOY / "nginx.conf").read_text())
        (prefix / "gatescope.conf").write_text(render(self.site, self.port, self.ports))
        # as root, workers would run as nobody, who cannot enter pytest's private temp folders
        config = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        nginx_log = prefix / "logs" / "error.log"
        self.procs.append(spawn([NGINX, "-p", str(prefix), "-e", str(nginx_log), "-c", str(prefix / "nginx.conf"), "-g", config],
                                self.tmp / "nginx.out"))
        for port, proc, log in [(self.ports[0], self.procs[0], self.logs[0]), (self.ports[1], self.procs[1], self.logs[1]),
                                (self.port, self.procs[2], nginx_log)]:
            wait_healthy(port, [proc], [log])
        for proc in self.procs:  # still ours: not another server on a reused port
            assert proc.poll() is None, proc.args

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)

    def ws(self, path: str, source: str, **kw):
        return connect(f"ws://127.0.0.1:{self.port}{path}", origin=self.origin, source_address=(source, 0), proxy=None,
                       open_timeout=10, close_timeout=2, **kw)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    if not os.access(NGINX, os.X_OK):
        message = f"{NGINX} is missing: apt-get install nginx (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    d = Deployment(tmp_path_factory.mktemp("deploy"))
    try:
        d.start()
        yield d
    finally:
        d.stop()


def read_run(ws) -> list[dict]:
    """Messages up to and including the summary (a bounded number)."""
    messages = []
    for _ in range(1000):
        messages.append(json.loads(ws.recv(timeout=10)))
        if messages[-1]["type"] in ("summary", "error"):
            return messages
    raise AssertionError("no summary in 1000 messages")


# -- through nginx ---------------------------------------------------------------------------------

def test_websocket_streams_through_the_proxy_and_the_backend_sees_the_client(deployment):
    with deployment.ws("/ws/trace?kind=lstm&input=hello&frames=json", "127.0.0.11") as ws:
        messages = read_run(ws)
        assert messages[0]["type"] == "header" and messages[-1]["type"] == "summary", messages[0]
        assert sum(m["count"] for m in messages if m["type"] == "steps") == messages[-1]["steps"] == 5
        ws.send(json.dumps({"type": "append", "input": "!"}))  # the run goes on in the process that holds it
        assert json.loads(ws.recv(timeout=10))["type"] == "tokens"
        assert json.loads(ws.recv(timeout=10))["t0"] == 5
    seen = [a for log in deployment.logs for a in seen_as(log, "WebSocket /ws/trace")]
    assert seen == ["127.0.0.11"]  # nginx's X-Forwarded-For, believed from 127.0.0.1


def test_server_sent_events_through_the_proxy(deployment):
    conn = http.client.HTTPConnection("127.0.0.1", deployment.port, timeout=10, source_address=("127.0.0.12", 0))
    try:
        conn.request("GET", "/api/trace/stream?kind=gru&input=abc")
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("content-type").startswith("text/event-stream")
        assert r.getheader("content-length") is None  # streamed as it comes, not collected first
        events, data = [], None
        for _ in range(1000):
            line = r.readline()
            if not line:
                break
            if line.startswith(b"event: "):
                events.append(line[7:].strip().decode())
            elif line.startswith(b"data: "):
                data = json.loads(line[6:])
    finally:
        conn.close()
    assert events[0] == "header" and events[-1] == "summary" and set(events[1:-1]) == {"steps"}, events
    assert data["steps"] == 3
    assert "proxy_buffering off;" in deployment.site.split("location = /api/trace/stream")[1].split("}")[0]


def test_an_upload_through_the_proxy_is_read_by_every_backend(deployment, tmp_path):
    path = tmp_path / "m.safetensors"
    cells.build("lstm", 3, 4).save(path)
    status, _, body = get(deployment.port, "/api/models", "127.0.0.13", "POST", path.read_bytes(),
                          {"Origin": deployment.origin, "Content-Type": "application/octet-stream"})
    assert status == 201, body
    model_id = json.loads(body)["id"]
    for port in deployment.ports:  # each backend directly
        status, _, body = get(port, f"/api/models/{model_id}")
        assert status == 200 and json.loads(body)["id"] == model_id, body
    status, headers, _ = get(deployment.port, "/api/models", "127.0.0.13", "POST", b"",
                             {"Origin": deployment.origin, "Content-Length": str(60 * 1024 * 1024)})
    assert status == 413  # nginx's client_max_body_size, before a byte of the body


def test_streams_per_client_are_limited_at_the_proxy_across_backends(deployment):
    limit, client, path = deployment.streams_limit, "127.0.0.14", "/ws/trace?kind=lstm&input=hi&frames=json"
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(deployment.ws(path, client)) for _ in range(limit)]
        for ws in held:
            assert read_run(ws)[-1]["type"] == "summary"
        with pytest.raises(InvalidStatus) as e, deployment.ws(path, client):
            pass
        assert e.value.response.status_code == 429 and b"limit_conn" in e.value.response.body
        status, headers, body = get(deployment.port, "/api/trace/stream?kind=gru&input=abc", client)
        assert status == 429 and headers["retry-after"] == "1" and json.loads(body)["field"] is None  # WS and SSE together
        with deployment.ws(path, "127.0.0.15") as other:  # another client
            assert read_run(other)[-1]["type"] == "summary"
        # each backend holds some of them and is far below its own per-process limit: the limit is nginx's
        per_backend = [seen_as(log, "WebSocket /ws/trace").count(client) for log in deployment.logs]
        assert sum(per_backend) == limit and min(per_backend) >= 1, per_backend
        held[0].close()
        for _ in range(40):  # a closed stream frees its slot (once nginx has seen the close)
            try:
                with deployment.ws(path, client) as again:
                    assert read_run(again)[-1]["type"] == "summary"
                break
            except InvalidStatus:
                time.sleep(0.05)
        else:
            raise AssertionError("the slot of a closed stream was not freed within 2 s")


def test_a_burst_of_requests_is_limited_at_the_proxy_across_backends(deployment):
    client, most = "127.0.0.16", 10 * deployment.burst
    conn = http.client.HTTPConnection("127.0.0.1", deployment.port, timeout=10, source_address=(client, 0))
    statuses, started = [], time.monotonic()
    try:
        while len(statuses) < most and time.monotonic() - started < 10 and statuses.count(429) < 5:
            conn.request("GET", "/healthz", headers={"X-Forwarded-For": "6.6.6.6"})  # one kept-alive connection, as a browser's
            r = conn.getresponse()
            body = r.read()
            statuses.append(r.status)
    finally:
        conn.close()
    elapsed = time.monotonic() - started
    assert 429 in statuses and json.loads(body)["detail"].startswith("too many requests"), statuses
    passed = statuses.count(200)  # the burst at once, then what the rate refilled meanwhile
    assert deployment.burst <= passed <= deployment.burst + 1 + deployment.rate * elapsed + 1, (passed, elapsed)
    per_backend = [seen_as(log, "GET /healthz") for log in deployment.logs]
    assert all(client in seen for seen in per_backend), "both backends served part of the burst"
    assert sum(seen.count(client) for seen in per_backend) == passed  # nginx's X-Forwarded-For, not the client's
    assert not any("6.6.6.6" in seen for seen in per_backend)


# -- whom the app believes ----------------------------------------------------------------------------

def test_gatescope_serve_believes_no_forwarded_header_by_default(tmp_path):
    port, log = free_port(), tmp_path / "server.log"
    proc = spawn(serve(port), log, backend_env(tmp_path / "models"))
    try:
        wait_healthy(port, [proc], [log])
        assert get(port, "/healthz?probe", headers={"X-Forwarded-For": "1.2.3.4"})[0] == 200
        assert seen_as(log, "GET /healthz?probe") == ["127.0.0.1"]  # uvicorn's own default would have said 1.2.3.4
    finally:
        stop(proc)


@pytest.mark.parametrize("trusted, believed", [
    ("", False),                         # the default: nobody
    ("127.0.0.1", True),
    ("10.0.0.0/8 127.0.0.0/8", True),    # networks, as uvicorn's ProxyHeadersMiddleware reads them
    ("10.0.0.0/8 ::1", False),
])
def test_the_stream_limit_counts_the_address_trusted_proxies_allow(tmp_path, trusted, believed):
    settings = Settings(upload_dir=tmp_path / "models", max_streams_per_client=1, trusted_proxies=trusted)
    forwarded = {"X-Forwarded-For": "1.2.3.4", "Origin": "http://testserver"}
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as c:
        with c.websocket_connect("/ws/trace?kind=lstm&input=hi&frames=json", headers={"Origin": "http://testserver"}) as ws:
            assert ws.receive_json()["type"] == "header"  # 127.0.0.1 holds its one stream
            r = c.get("/api/trace/stream?kind=gru&input=abc", headers=forwarded)
            assert r.status_code == (200 if believed else 429), r.text
            with c.websocket_connect("/ws/trace?kind=lstm&input=hi&frames=json", headers=forwarded) as other:
                first = other.receive_json()
                assert first["type"] == ("header" if believed else "error"), first
                if not believed:
                    assert first["status"] == 429
                    with pytest.raises(WebSocketDisconnect):
                        other.receive_json()


def test_serve_turns_uvicorn_s_own_proxy_headers_off(monkeypatch):
    calls = []
    monkeypatch.setattr("gatescope.app.cli.uvicorn.run", lambda app, **kw: calls.append(kw))
    monkeypatch.setattr("gatescope.app.cli.run_workers", lambda config: calls.append(vars(config)))
    monkeypatch.setenv("GATESCOPE_TRUSTED_PROXIES", "")  # so that the test's own change is undone
    monkeypatch.delenv("GATESCOPE_TRUSTED_PROXIES")
    from gatescope.app.cli import main
    main(["serve", "--port", "8123"])
    assert calls[-1]["proxy_headers"] is False and "GATESCOPE_TRUSTED_PROXIES" not in os.environ
    main(["serve", "--workers", "2", "--trusted-proxies", "10.0.0.0/8 127.0.0.1"])
    assert calls[-1]["proxy_headers"] is False and calls[-1]["workers"] == 2 and calls[-1]["factory"] is True
    assert os.environ["GATESCOPE_TRUSTED_PROXIES"] == "10.0.0.0/8 127.0.0.1"  # read by the factory in each worker


def old_bind_socket(config):
    """uvicorn's Config.bind_socket before the fix of its issue 3149 (pyproject allows uvicorn >= 0.31): proto 0."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    sock.bind((config.host, config.port))
    sock.set_inheritable(True)
    return sock


@pytest.mark.parametrize("bind", [None, old_bind_socket], ids=["uvicorn-installed", "uvicorn-binding-proto-0"])
def test_the_workers_socket_turns_nagle_off_on_every_connection(monkeypatch, bind):
    """A socket bound with proto 0 (uvicorn's --workers path, before its issue 3149 was fixed) makes asyncio leave
    Nagle's algorithm on in the workers, and each kept-alive request after the first waits ~40 ms for a delayed ACK
    (app/cli.py, run_workers). The socket run_workers hands the workers, served as a worker serves it (uvicorn:
    loop.create_server(sock=...)), gives every connection it accepts TCP_NODELAY, whichever uvicorn bound it.
    (What that is worth in time: bench/bench_workers.py.)"""
    import asyncio
    import concurrent.futures

    import uvicorn

    from gatescope.app.cli import run_workers
    handed = []

    class Supervisor:  # uvicorn's Multiprocess, which would spawn the workers with these sockets
        def __init__(self, config, sockets):
            handed.extend(sockets)

        def run(self):
            pass

    monkeypatch.setattr("gatescope.app.cli.Multiprocess", Supervisor)
    if bind:
        monkeypatch.setattr(uvicorn.Config, "bind_socket", bind)
    run_workers(uvicorn.Config("gatescope.app.main:create_app", factory=True, host="127.0.0.1", port=0, workers=2))
    [sock] = handed

    async def nodelay_of_an_accepted_connection() -> int:
        loop = asyncio.get_running_loop()
        accepted = loop.create_future()

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport):
                accepted.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Protocol, sock=sock)  # the server owns the socket now, and closes it
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            try:
                return await asyncio.wait_for(accepted, 60)
            finally:
                writer.close()

    # in a thread of its own: the browser tests' Playwright keeps an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, nodelay_of_an_accepted_connection()).result() != 0
