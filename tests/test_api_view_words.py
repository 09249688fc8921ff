"""The server's part of issue 10: stacked and bidirectional streams have T steps from t = 0 and every layer and
direction can be asked for; errors count positions in the whole input (a typed extension included); the phase is
part of the view state."""

import struct

import numpy as np
import pytest

from gatescope.app.schemas import VIEW_ONLY, view_fields

STACKED = "kind=lstm&layers=2&bidirectional=true&input=hello&hidden=4"


def stream(client, query: str):
    """(header, {t: row}) of a WebSocket run with binary frames."""
    with client.websocket_connect(f"/ws/trace?{query}") as ws:
        header, rows = ws.receive_json(), {}
        while True:
            msg = ws.receive()
            if msg.get("bytes") is not None:
                t0, n = struct.unpack_from("<II", msg["bytes"])
                block = np.frombuffer(msg["bytes"], "<f4", offset=8).reshape(n, header["stride"])
                rows.update({t0 + i: block[i] for i in range(n)})
            elif '"summary"' in msg["text"]:
                return header, rows


@pytest.mark.parametrize("layer,direction", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_a_bidirectional_stack_streams_T_steps_of_the_layer_and_direction_asked_for(client, layer, direction):
    header, rows = stream(client, f"{STACKED}&layer={layer}&direction={direction}&names=h")
    assert header["steps"] == 5 and sorted(rows) == [0, 1, 2, 3, 4]  # was t0 = 5: steps 5..9 of a 10-step page
    assert (header["layer"], header["direction"]) == (layer, direction)
    body = client.get(f"/api/trace?{STACKED}&layer={layer}&direction={direction}&names=h&digits=9").json()
    h = np.array([rows[t][:4] for t in range(5)])
    np.testing.assert_allclose(h, np.array(body["values"]["h"]), rtol=1e-5, atol=1e-6)


def test_the_reverse_direction_is_on_the_forward_time_axis(client):
    """Row t of the reverse direction is its state after reading x(T-1) ... x(t): at t = T-1 it has read one character,
    so it equals the first step of the reverse direction run over the last character alone."""
    _, rows = stream(client, "kind=lstm&bidirectional=true&input=hello&hidden=4&direction=1&names=h")
    _, last = stream(client, "kind=lstm&bidirectional=true&input=o&hidden=4&direction=1&names=h")
    np.testing.assert_allclose(rows[4], last[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(rows[0], last[0], atol=1e-3)


def test_layer_and_direction_rerun_and_phase_is_view_state():
    assert "layer" not in VIEW_ONLY and "direction" not in VIEW_ONLY  # the stream holds one layer-direction
    phase = next(f for f in view_fields() if f["name"] == "phase")
    assert phase["view_only"] and phase["default"] is None and phase["nullable"]


def test_a_phase_that_is_not_a_name_is_refused_naming_the_field(client):
    r = client.get("/api/trace", params={"kind": "lstm", "input": "hi", "phase": "Gate!"})
    assert r.status_code == 422 and "phase" in r.text
    assert client.get("/api/trace", params={"kind": "lstm", "input": "hi", "phase": "gates", "names": "h"}).status_code == 200


def test_an_unknown_character_typed_later_is_counted_in_the_whole_input(client):
    with client.websocket_connect("/ws/trace?preset=charlm-lstm&input=the%20cat&frames=json") as ws:
        while ws.receive_json()["type"] != "summary":
            pass
        ws.send_json({"type": "append", "input": " sat"})
        assert ws.receive_json()["type"] == "tokens"
        while ws.receive_json()["type"] != "steps":
            pass
        ws.send_json({"type": "append", "input": " On"})
        err = ws.receive_json()
    assert err["type"] == "error" and err["status"] == 422
    assert "'O' at 12" in err["detail"] and "unknown=skip" in err["detail"]  # "the cat sat On": O is character 12, not 1


def test_an_unknown_character_in_the_input_itself_and_the_choices(client):
    r = client.get("/api/trace", params={"preset": "charlm-lstm", "input": "The cat", "names": "h"})
    assert r.status_code == 422 and "'T' at 0" in r.json()["detail"] and "unknown=skip" in r.json()["detail"]
    body = client.get("/api/trace", params={"preset": "charlm-lstm", "input": "The cat", "unknown": "skip", "names": "h"}).json()
    assert body["tokens"] == list("he cat")
    header, _ = stream(client, "preset=charlm-lstm&input=the&names=h")
    assert header["unknown_token"] is None  # its vocabulary has no <unk>: the page offers no "map"


def test_text_at_a_numbers_model_says_what_it_reads(client):
    r = client.get("/api/trace", params={"preset": "adding-lstm", "input": "The cat sat on the mat"})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "'The' at step 0 is not a number" in detail and "e.g. '0.5, -1, 2'" in detail


def test_a_typed_number_that_is_not_one_is_counted_from_the_start(client):
    with client.websocket_connect("/ws/trace?kind=lstm&input_type=numbers&input=1,2,3&frames=json") as ws:
        while ws.receive_json()["type"] != "summary":
            pass
        ws.send_json({"type": "append", "input": ", 4, x"})
        err = ws.receive_json()
    assert err["type"] == "error" and "'x' at step 4" in err["detail"]


def test_the_header_lists_a_character_vocabulary_for_the_pages_hint(client):
    header, _ = stream(client, "preset=charlm-lstm&input=the&names=h")
    assert header["vocab"][:3] == [" ", "a", "b"] and len(header["vocab"]) == 36
    header, _ = stream(client, "preset=adding-lstm&names=h")
    assert header["vocab"] is None  # it reads numbers
