"""The model card's units reach the page: in GET /api/presets, in the trace's model, and in the stream header
(``header.model.card.units``, what the diagram draws first); a card without them is sent as written, not with nulls."""

from __future__ import annotations

from gatescope.cells.presets import list_presets


def test_presets_carry_their_cards_units(client):
    r = client.get("/api/presets")
    assert r.status_code == 200
    sent = {p["name"]: p["card"]["units"] for p in r.json()}
    assert sent == {p["name"]: p["card"]["units"] for p in list_presets()}
    units = client.get("/openapi.json").json()["components"]["schemas"]["ModelCard"]["properties"]["units"]
    assert units["anyOf"][0]["type"] == "array" and "Unit indices" in units["description"]


def test_the_stream_header_and_the_trace_carry_the_units(client):
    card = next(p["card"] for p in list_presets() if p["name"] == "charlm-lstm")
    with client.websocket_connect("/ws/trace?preset=charlm-lstm&input=it%20is") as ws:
        header = ws.receive_json()
    assert header["type"] == "header" and header["model"]["card"]["units"] == card["units"]
    assert 38 in card["units"]  # "unit 38 tracks spaces": a unit past the 24 the diagram draws by default
    r = client.get("/api/trace?preset=charlm-lstm&input=it&names=c")
    assert r.status_code == 200 and r.json()["model"]["card"]["units"] == card["units"]


def test_a_model_without_a_card_sends_an_empty_one(client):
    r = client.get("/api/trace?kind=lstm&input=ab&names=h")
    assert r.status_code == 200 and r.json()["model"]["card"] == {}
