"""/api/lessons and /api/lessons/<name>, the JSON twins of /lesson and /lesson/<name>?stop=N."""

import pytest


def test_the_list_names_every_lesson_with_its_links(client):
    body = client.get("/api/lessons").json()
    rows = {row["name"]: row for row in body["lessons"]}
    assert {"lstm", "adding", "remember", "brackets", "sine", "charlm"} <= set(rows) and body["problems"] == []
    assert rows["lstm"]["url"] == "/lesson/lstm" and rows["lstm"]["api"] == "/api/lessons/lstm" and rows["lstm"]["stops"] >= 8
    assert rows["lstm"]["title"]["zh"] and rows["lstm"]["source"] == "built-in"


def test_one_lesson_is_its_stops_in_both_languages(client):
    body = client.get("/api/lessons/lstm").json()
    assert body["name"] == "lstm" and len(body["stops"]) >= 8
    stop = body["stops"][3]
    assert set(stop) >= {"title", "text", "view", "facts"} and stop["text"]["en"] and stop["text"]["zh"]


@pytest.mark.parametrize("path,status", [("/api/lessons/nope", 404), ("/api/lessons/Bad_Name", 422), ("/lesson/nope", 404),
                                         ("/lesson/lstm?stop=0", 422), ("/lesson/lstm?stop=99", 422), ("/lesson/lstm?stop=two", 422),
                                         ("/lesson/lstm?step=-1", 422), ("/lesson/lstm?lang=fr", 422)])
def test_a_bad_name_or_stop_is_refused_clearly(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    if path.startswith("/api"):
        assert r.json()["detail"]
    else:  # the page says what is wrong and links the list
        assert 'href="/lesson"' in r.text and ("stop" in r.text or "lesson" in r.text)


def test_a_stop_past_the_end_says_how_many_there_are(client):
    n = len(client.get("/api/lessons/lstm").json()["stops"])
    r = client.get("/lesson/lstm?stop=99")
    assert f"write a number from 1 to {n}" in r.text


def test_the_pages_carry_the_lesson_and_the_stop(client):
    r = client.get("/lesson/adding?stop=2&lang=zh")
    assert r.status_code == 200 and 'id="lesson"' in r.text and '"stop": 2' in r.text and "/static/main.js" in r.text
    listing = client.get("/lesson?lang=zh").text
    assert "/lesson/lstm?lang=zh" in listing and "一步一步看懂 LSTM" in listing


def test_the_view_state_takes_lang_and_highlight_as_view_only(client):
    a = client.get("/api/trace", params={"kind": "lstm", "input": "ab", "lang": "zh", "highlight": "forget_gate,c"})
    b = client.get("/api/trace", params={"kind": "lstm", "input": "ab"})
    assert a.status_code == 200 and a.json()["values"] == b.json()["values"]
    assert client.get("/api/trace", params={"kind": "lstm", "input": "ab", "lang": "fr"}).status_code == 422


# -- bodies that are not ordinary JSON are answered 422, never 500 (issue 18, finding 4) -------------------------

@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"name": "mine", "stops": ' + b"[" * 2_000 + b"]" * 2_000 + b"}"])
def test_a_lesson_nested_too_deeply_is_422(client, body):
    r = client.post("/api/lessons", content=body)
    assert r.status_code == 422, r.text
    assert "nested" in r.json()["detail"] and r.json()["field"] == "lesson"


@pytest.mark.parametrize("body", [b'{"name": "\\ud800"}', b'{"name": "x", "title": {"en": "a \\udfff", "zh": "b"}}',
                                  b'{"\\ud800": 1}'])
def test_a_lesson_with_a_lone_surrogate_is_422(client, body):
    r = client.post("/api/lessons", content=body)
    assert r.status_code == 422, r.text
    assert "unpaired surrogate" in r.json()["detail"] and "at character" in r.json()["detail"]


def test_no_error_body_is_a_500_for_what_utf8_cannot_encode(settings):
    """An error whose words hold a lone surrogate (a user's input, echoed) is still answered, the surrogate escaped."""
    from fastapi import HTTPException
    from fastapi.testclient import TestClient

    from gatescope import cells
    from gatescope.app.errors import AppError
    from gatescope.app.main import create_app
    app = create_app(settings)

    @app.get("/raise/{what}")
    def boom(what: str):
        raise {"app": AppError(422, "input: '\ud800' is not a name", "in\udc00put", offer={"label": "x\ud800", "patch": {"a\ud800": 1}}),
               "http": HTTPException(422, "input: '\ud800'"),
               "cells": cells.CellsError("input: '\ud800'")}[what]

    with TestClient(app, raise_server_exceptions=False) as c:
        for what in ("app", "http", "cells"):
            r = c.get(f"/raise/{what}")
            assert r.status_code == 422, (what, r.text)
            assert "\\ud800" in r.json()["detail"], (what, r.text)


def test_other_json_bodies_nested_too_deeply_or_with_a_lone_surrogate_are_422(client):
    for body in (b"[" * 100_000, b'{"kind": "lstm", "input": ' + b"[" * 100_000 + b"}", b'{"kind": "lstm", "input": "\\ud800"}',
                 b'{"\\ud800": 1}', b'{"kind": "\\udc00"}'):
        r = client.post("/api/trace", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, (body[:40], r.text)
        assert r.json()["detail"], r.text


@pytest.mark.parametrize("path", ["/ws/trace", "/ws/train"])
@pytest.mark.parametrize("message", ["[" * 100_000, '{"type": "start", "task": "\\ud800"}', '{"\\ud800": 1}'])
def test_a_first_message_nested_too_deeply_or_with_a_lone_surrogate_is_422(client, path, message):
    with client.websocket_connect(path) as ws:
        ws.send_text(message)
        msg = ws.receive_json()
    assert msg["type"] == "error" and msg["status"] == 422, msg
