"""Settings refuse what would silently weaken a limit."""

import pytest
from pydantic import ValidationError

from gatescope.app.config import Settings


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.example", "127.0.0.1,10.0.0.2"])
def test_a_malformed_proxy_is_refused_not_read_as_trust_nobody(value, tmp_path):
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(upload_dir=tmp_path, trusted_proxies=value)


def test_proxies_take_addresses_networks_and_any(tmp_path):
    assert Settings(upload_dir=tmp_path, trusted_proxies="127.0.0.1 10.0.0.0/8 ::1 *").trusted_proxies.split()[-1] == "*"


@pytest.mark.parametrize("value", ["slides.example", "https://slides.example/deck", "ftp://slides.example"])
def test_allowed_origins_must_be_origins(value, tmp_path):
    with pytest.raises(ValidationError, match="allowed_origins"):
        Settings(upload_dir=tmp_path, allowed_origins=value)


def unset(monkeypatch, *names):
    """Unset ``names`` for this test and have whatever the test sets removed after it (delenv of an unset
    name records nothing to undo, so set it first)."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_the_server_runs_one_blas_thread_per_computation_unless_told(monkeypatch):
    import os

    from gatescope.app import cli
    unset(monkeypatch, "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GATESCOPE_ALLOWED_HOSTS")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setattr(cli.uvicorn, "run", lambda *a, **k: None)
    cli.main(["serve", "--port", "0"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "3"


def test_a_rebound_host_name_is_refused_where_hosts_are_named(tmp_path):
    from fastapi.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from gatescope.app.main import create_app
    with TestClient(create_app(Settings(upload_dir=tmp_path, allowed_hosts="localhost 127.0.0.1 [::1] *.lecture.example"))) as c:
        for host in ("127.0.0.1:8000", "localhost", "[::1]:8000", "[::1]", "LocalHost:80", "room1.lecture.example"):
            assert c.get("/healthz", headers={"host": host}).status_code == 200, host
        for host in ("attacker.example", "127.0.0.1.attacker.example", "[::2]:8000", "lecture.example.evil", ""):
            r = c.get("/healthz", headers={"host": host})
            assert r.status_code == 400 and "GATESCOPE_ALLOWED_HOSTS" in r.json()["detail"], host
        with pytest.raises(WebSocketDisconnect):  # the WebSocket handshake is refused as well
            with c.websocket_connect("/ws/trace?kind=lstm", headers={"host": "attacker.example"}) as ws:
                ws.receive_text()


def test_serve_on_loopback_answers_only_to_local_names_unless_told(monkeypatch):
    import os

    from gatescope.app import cli
    monkeypatch.setattr(cli.uvicorn, "run", lambda *a, **k: None)
    unset(monkeypatch, "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GATESCOPE_ALLOWED_HOSTS")
    cli.main(["serve", "--port", "0"])
    assert os.environ["GATESCOPE_ALLOWED_HOSTS"] == "localhost 127.0.0.1 [::1]"
    monkeypatch.setenv("GATESCOPE_ALLOWED_HOSTS", "*")
    cli.main(["serve", "--port", "0", "--host", "0.0.0.0"])
    assert os.environ["GATESCOPE_ALLOWED_HOSTS"] == "*"


def test_security_headers_on_every_answer(tmp_path):
    from fastapi.testclient import TestClient

    from gatescope.app.main import create_app
    with TestClient(create_app(Settings(upload_dir=tmp_path))) as c:
        page, api = c.get("/"), c.get("/healthz")
    assert api.headers["x-content-type-options"] == "nosniff" and api.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" not in api.headers
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
