"""Issue 5 over HTTP: gradient flow, the tasks, the presets, the compare page."""

import numpy as np
from test_pages import config_of

from gatescope import cells


def test_gradient_flow_matches_the_engine(client):
    body = client.get("/api/gradients", params={"kind": "lstm", "input": "abcdef", "hidden": 4, "digits": 9}).json()
    from gatescope.app.inputs import fixed_embedding
    flow = cells.gradient_flow(cells.build("lstm", 8, 4), fixed_embedding(list("abcdef")))
    for key in ("h", "c", "x"):
        np.testing.assert_allclose(body["flow"][key], flow[key], rtol=1e-6, atol=1e-12)
    assert abs(body["flow"]["h"][-1] - 2.0) < 1e-6  # ||I|| = sqrt(hidden) at the last step
    assert body["flow"]["c"] is not None and body["steps"] == 6


def test_rnn_memory_fades_faster_than_the_gated_cells(client):
    """The default comparison: on the remember preset input, the rnn's dependence on step 0 is far below the gru's."""
    flows = {k: client.get("/api/gradients", params={"preset": f"remember-{k}"}).json()["flow"]["h"] for k in ("rnn", "gru")}
    assert flows["rnn"][0] < 1e-3 * flows["gru"][0]


def test_gradient_flow_errors(client):
    r = client.get("/api/gradients", params={"kind": "lstm", "bidirectional": True, "input": "ab"})
    assert r.status_code == 422 and "bidirectional" in r.json()["detail"]
    r = client.get("/api/gradients", params={"kind": "lstm", "hidden": 128, "input": "sine 4000", "input_type": "signal"})
    assert r.status_code == 413 and "GATESCOPE_MAX_GRADIENT_WORK" in r.json()["detail"]


def test_tasks_and_presets(client):
    tasks = {t["name"]: t for t in client.get("/api/tasks").json()}
    assert set(tasks) == {"remember", "brackets", "charlm", "sine", "adding"}
    presets = {p["name"]: p["card"] for p in client.get("/api/presets").json()}
    for task in tasks:
        for kind in ("rnn", "lstm", "gru"):
            card = presets[f"{task}-{kind}"]
            assert card["task"] == task and card["kind"] == kind and 0 <= card["accuracy"] <= 1 and card["notes"]


def test_every_preset_opens_on_its_example(client):
    for p in client.get("/api/presets").json():
        body = client.get("/api/trace", params={"preset": p["name"], "names": "h"}).json()
        assert body["steps"] > 0 and body["request"]["input"] == p["card"]["example"], p["name"]


def test_default_view_is_the_default_preset(client, settings):
    body = client.get("/api/trace", params={"names": "h"}).json()
    assert body["request"]["preset"] == settings.default_preset
    card = {p["name"]: p["card"] for p in client.get("/api/presets").json()}[settings.default_preset]
    assert body["predictions"]["head"] == card["head"] and body["request"]["input"] == card["example"]


def test_compare_page(client):
    r = client.get("/compare")
    assert r.status_code == 200 and "/static/compare.js" in r.text
    r = client.get("/compare", params={"compare": "preset:remember-rnn,kind:gru"})
    assert r.status_code == 200 and config_of(r.text)["view"]["compare"] == "preset:remember-rnn,kind:gru"
    r = client.get("/compare", params={"compare": "preset:remember-rnn,preset:remember-nothing"})   # each model is looked up
    assert r.status_code == 404 and "preset:remember-nothing" in r.text and config_of(r.text)["refused"]["status"] == 404
