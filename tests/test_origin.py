"""Origin checks (issue 8, M3): a page on another site may not open the WebSockets or POST; the app's own pages,
listed origins and clients that send no Origin (curl, scripts) may."""

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gatescope.app.config import Settings
from gatescope.app.main import create_app
from gatescope.app.origin import normalized

EVIL = "https://evil.example"


def refused_socket(client, path, origin):
    """The error message a refused WebSocket gets, after which it is closed with 1008."""
    with client.websocket_connect(path, headers={"origin": origin}) as ws:
        msg = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive_text()
    assert e.value.code == 1008
    return msg


@pytest.mark.parametrize("path", ["/ws/trace?kind=lstm&input=a", "/ws/train"])
@pytest.mark.parametrize("origin", [EVIL, "null", "http://testserver:8080", "https://testserver", "not an origin"])
def test_websockets_from_another_origin_are_refused(client, path, origin):
    msg = refused_socket(client, path, origin)
    assert msg["type"] == "error" and msg["status"] == 403, msg
    assert repr(origin) in msg["detail"] and "GATESCOPE_ALLOWED_ORIGINS" in msg["detail"] and "http://testserver:80" in msg["detail"]
    assert not client.app.state.streams.open and not client.app.state.jobs.running


@pytest.mark.parametrize("headers", [{}, {"origin": "http://testserver"}, {"origin": "HTTP://TestServer:80"}])
def test_the_apps_own_pages_and_clients_without_origin_may_stream(client, headers):
    with client.websocket_connect("/ws/trace?kind=lstm&input=ab", headers=headers) as ws:
        assert ws.receive_json()["type"] == "header"
    with client.websocket_connect("/ws/train", headers=headers) as ws:
        ws.send_json({"type": "start", "hidden": 99999})
        assert ws.receive_json()["status"] == 413  # got as far as reading the request


def test_the_scheme_is_part_of_the_origin(client):
    with client.websocket_connect("wss://testserver/ws/trace?kind=lstm&input=a", headers={"origin": "https://testserver"}) as ws:
        assert ws.receive_json()["type"] == "header"
    assert refused_socket(client, "wss://testserver/ws/trace?kind=lstm&input=a", "http://testserver")["status"] == 403


def test_listed_origins_may(tmp_path):
    with TestClient(create_app(Settings(upload_dir=tmp_path, allowed_origins="https://slides.example http://localhost:3000"))) as c:
        for origin in ("https://slides.example", "https://slides.example:443", "http://localhost:3000"):
            with c.websocket_connect("/ws/trace?kind=lstm&input=a", headers={"origin": origin}) as ws:
                assert ws.receive_json()["type"] == "header", origin
        assert refused_socket(c, "/ws/trace?kind=lstm&input=a", "http://localhost:3001")["status"] == 403
        assert c.post("/api/models", content=b"x", headers={"origin": "https://slides.example"}).status_code != 403


@pytest.mark.parametrize("origin", [EVIL, "null"])
def test_posts_from_another_origin_are_refused(client, origin, settings):
    # what a page elsewhere can send without asking: a no-cors POST with a text/plain body
    r = client.post("/api/models", content=b"PK\x03\x04 a model", headers={"origin": origin, "content-type": "text/plain"})
    assert r.status_code == 403 and "GATESCOPE_ALLOWED_ORIGINS" in r.json()["detail"], r.text
    assert not list(settings.upload_dir.glob("**/*.safetensors")) and not list(settings.upload_dir.glob("**/*.npz"))
    r = client.post("/api/trace", content=b'{"kind": "lstm", "input": "a"}', headers={"origin": origin, "content-type": "text/plain"})
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("headers", [{}, {"origin": "http://testserver"}])
def test_posts_without_origin_or_from_the_app_itself(client, headers):
    assert client.post("/api/trace", json={"kind": "lstm", "input": "a"}, headers=headers).status_code == 200
    assert client.post("/api/models", content=b"not a model", headers=headers).status_code not in (403, 201)


def test_gets_are_not_checked(client):  # a cross-site page cannot read them (no CORS), and links and embeds must work
    assert client.get("/api/trace", params={"kind": "lstm", "input": "a"}, headers={"origin": EVIL}).status_code == 200


@pytest.mark.parametrize("origin,expected", [
    ("http://Example.COM", "http://example.com:80"),
    ("https://example.com:443", "https://example.com:443"),
    ("http://[::1]:8000", "http://[::1]:8000"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
    ("ftp://example.com", None), ("null", None), ("http://", None), ("http://example.com:99999", None),
    ("http://example.com/path", None), ("http://user@example.com", None),
])
def test_normalized(origin, expected):
    assert normalized(origin) == expected


# -- POST /api/lessons (issue 18, finding 3): a stored lesson is listed to everyone, as an uploaded model is ----------

LESSON = {"name": "mine", "title": {"en": "Mine", "zh": "我的"},
          "stops": [{"title": {"en": "One", "zh": "一"}, "text": {"en": "The *forget* gate $f$.", "zh": "遗忘门 $f$。"},
                     "view": {"kind": "lstm", "input": "abc", "highlight": "forget_gate"}}]}


def uploaded_lessons(client) -> list[str]:
    return [row["name"] for row in client.get("/api/lessons").json()["lessons"] if row["source"] == "upload"]


@pytest.mark.parametrize("origin", [EVIL, "null", "http://testserver:8080"])
def test_a_lesson_from_another_origin_is_refused_and_not_stored(client, origin):
    import json
    # a no-cors POST with a text/plain body: what any page can send without a preflight
    r = client.post("/api/lessons", content=json.dumps(LESSON), headers={"origin": origin, "content-type": "text/plain"})
    assert r.status_code == 403, r.text
    detail = r.json()["detail"]
    assert repr(origin) in detail and "GATESCOPE_ALLOWED_ORIGINS" in detail and "http://testserver:80" in detail
    assert uploaded_lessons(client) == []


@pytest.mark.parametrize("headers", [{}, {"origin": "http://testserver"}, {"origin": "HTTP://TestServer:80"}])
def test_a_lesson_from_the_app_itself_or_without_origin_is_stored(client, headers):
    import json
    r = client.post("/api/lessons", content=json.dumps(LESSON), headers=headers)
    assert r.status_code == 201, r.text
    assert uploaded_lessons(client) == [r.json()["name"]]


def test_a_lesson_from_a_listed_origin_is_stored(tmp_path):
    import json
    with TestClient(create_app(Settings(upload_dir=tmp_path, allowed_origins="https://slides.example"))) as c:
        assert c.post("/api/lessons", content=json.dumps(LESSON), headers={"origin": "https://slides.example"}).status_code == 201
        assert c.post("/api/lessons", content=json.dumps(LESSON), headers={"origin": EVIL}).status_code == 403
