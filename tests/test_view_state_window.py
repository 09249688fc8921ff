"""The time window in the view state: `window=START-END`, the steps the heatmaps and the line plots show (both
included). Declared once in ViewState; the page reads it from the field table, writes it as the user zooms, and
redraws nothing for it (view_kept); the server refuses a window that cannot be a span of steps, naming why."""

import pytest

from gatescope.app.schemas import STEP_CEILING, VIEW_ONLY, ViewState, view_fields

RUN = {"kind": "lstm", "input": "hello", "names": "h"}


def test_the_window_is_a_view_only_field_the_view_keeps():
    field = next(f for f in view_fields() if f["name"] == "window")
    assert field["type"] == "string" and field["default"] is None and field["nullable"]
    assert field["view_only"] and field["view_kept"] and "window" in VIEW_ONLY  # it changes the picture, not the numbers
    assert [f["name"] for f in view_fields() if f["view_kept"]] == ["window"]


@pytest.mark.parametrize("given, kept", [("120-220", "120-220"), ("0-0", "0-0"), ("007-9", "7-9"), ("", None),
                                         (f"0-{STEP_CEILING}", f"0-{STEP_CEILING}")])
def test_a_span_of_steps_is_kept_as_written(given, kept):
    assert ViewState(window=given).window == kept


def test_the_api_and_the_page_take_a_window(client):
    with_window = client.get("/api/trace", params={**RUN, "window": "1-3"})
    assert with_window.status_code == 200, with_window.text
    assert with_window.json()["values"] == client.get("/api/trace", params=RUN).json()["values"]  # the numbers do not change
    assert client.get("/", params={**RUN, "window": "1-3"}).status_code == 200


@pytest.mark.parametrize("window", ["220-120", "120", "a-b", "-5-10", "5-99999999", "1-2-3", "¹-²"])

def test_a_window_that_is_no_span_of_steps_is_refused_naming_field_value_and_limit(client, window):
    for path in ("/api/trace", "/"):
        r = client.get(path, params={**RUN, "window": window})
        assert r.status_code == 422, (path, r.text)
    detail = client.get("/api/trace", params={**RUN, "window": window}).json()["detail"]
    assert [e["loc"] for e in detail] == [["query", "window"]]
    assert detail[0]["input"] == window
    limit = f"START-END with START ≤ END ≤ {STEP_CEILING}"  # the rule, whichever part of it is broken
    assert detail[0]["msg"] == f"'{window}' is not a span of steps {limit}: window=120-220 shows steps 120 to 220"
