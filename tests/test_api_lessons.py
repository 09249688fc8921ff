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
