"""Training keeps its probe snapshots with the model: enough of them to scrub (>= 20 for 1,500 steps), never more
than a size cap, stored beside the bundle and evicted with it, and served at GET /api/models/{id}/training."""

import numpy as np
import pytest

from gatescope import cells
from gatescope.app import train_worker
from gatescope.app.store import TRAINING, ModelStore
from gatescope.app.training_schemas import TrainingReplay
from gatescope.cells.training import tasks, train
from gatescope.cells.training.trainer import SNAPSHOTS, initial_model, snapshot_cadence, with_task

RUN = {"type": "start", "task": "remember", "kind": "lstm", "hidden": 16, "steps": 1500, "learning_rate": 0.01, "seed": 0}
KIND_NAMES = {"lstm": ["forget_gate", "input_gate", "c", "output_gate", "h"], "gru": ["reset_gate", "update_gate", "h"]}


def count(steps, every):
    """Snapshots of a run: step 0, every multiple of ``every``, and the last step."""
    return len({0, steps, *range(every, steps + 1, every)})


@pytest.mark.parametrize("steps", [1, 7, 39, 40, 41, 300, 1500, 5000, 20_000])
def test_the_cadence_gives_a_short_run_every_step_and_a_long_one_a_bounded_number(steps):
    every = snapshot_cadence(steps, 1000, 10**9)
    n = count(steps, every)
    assert n == steps + 1 if steps <= SNAPSHOTS else 20 <= n <= SNAPSHOTS + 2


@pytest.mark.parametrize("task", sorted(tasks.TASKS))
@pytest.mark.parametrize("kind", sorted(KIND_NAMES))
def test_every_task_keeps_20_snapshots_of_1500_steps_within_the_size_cap(task, kind):
    for hidden in (16, 64):  # the page's default, and max_train_hidden
        for steps in (1500, 5000, 20_000):
            every, per = train_worker.probe_cadence(tasks.get(task), KIND_NAMES[kind], hidden, steps)
            n = count(steps, every)
            assert n * per <= train_worker.SNAPSHOT_VALUES, (hidden, steps)
            assert n >= 20 or (task, hidden) == ("charlm", 64), (hidden, steps, n)  # 117 steps x 5 x 64 per snapshot
    with pytest.raises(cells.CellsError, match="budget"):
        snapshot_cadence(100, 10**6, 10**6)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One 1,500-step run through WS /ws/train; its messages, the stored training, and the client (kept open)."""
    from fastapi.testclient import TestClient

    from gatescope.app.config import Settings
    from gatescope.app.main import create_app
    settings = Settings(upload_dir=tmp_path_factory.mktemp("models"))
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect("/ws/train") as ws:
            ws.send_json(RUN)
            got = []
            while not got or got[-1]["type"] not in ("done", "error"):
                got.append(ws.receive_json())
        assert got[-1]["type"] == "done", got[-1]
        r = client.get(f"/api/models/{got[-1]['id']}/training")
        assert r.status_code == 200, r.text
        yield {"messages": got, "body": r.json(), "client": client, "settings": settings}


def test_a_1500_step_run_keeps_its_probes_from_step_0_to_the_last(trained):
    body, got = trained["body"], trained["messages"]
    TrainingReplay.model_validate(body)
    steps = [s["step"] for s in body["snapshots"]]
    assert 20 <= len(steps) <= SNAPSHOTS + 2 and steps[0] == 0 and steps[-1] == 1500 and steps == sorted(set(steps))
    assert got[-1]["snapshots"] == len(steps)
    assert [m["step"] for m in got if m["type"] == "probe"] == steps  # what the page watched is what is kept
    assert body["names"] == KIND_NAMES["lstm"] and body["task"] == "remember" and body["tokens"] == list(tasks.get("remember").example)
    for s in body["snapshots"]:
        assert set(s["values"]) == set(body["names"])
        assert np.array(s["values"]["forget_gate"]).shape == (len(body["tokens"]), 16)
        assert np.isfinite(s["loss"]) and 0 <= s["accuracy"] <= 1
    first, last = body["snapshots"][0], body["snapshots"][-1]
    assert last["loss"] < first["loss"] - 0.2  # the run learned: the curve's ends are the snapshots' ends
    assert body["curve"]["step"][0] == 1 and len(body["curve"]["step"]) <= 500
    assert body["stored"] == {"dtype": "float16", "values": len(steps) * 19 * 16 * 5, "bytes": 2 * len(steps) * 19 * 16 * 5}


def probe(model, names):
    trace = model.run(model.embed(np.array(model.vocab.encode(tasks.get("remember").example))))
    return {n: trace[n] for n in names}


def test_the_last_snapshot_is_the_trained_model_and_the_first_the_untrained_one(trained):
    body, client = trained["body"], trained["client"]
    model = client.app.state.store.get(body["id"])
    for n, want in probe(model, body["names"]).items():
        np.testing.assert_allclose(body["snapshots"][-1]["values"][n], want, rtol=2e-3, atol=2e-3)  # float16, 4 digits
    t = tasks.get("remember")
    start = initial_model("lstm", t, RUN["hidden"], 1, RUN["seed"], {})
    start = with_task(start, t, start.decoder, "float32")
    for n, want in probe(start, body["names"]).items():
        np.testing.assert_allclose(body["snapshots"][0]["values"][n], want, rtol=2e-3, atol=2e-3)
    middle = body["snapshots"][len(body["snapshots"]) // 2]
    assert not np.allclose(middle["values"]["forget_gate"], body["snapshots"][0]["values"]["forget_gate"], atol=0.05)  # they moved
    # training is seeded: the same run stopped at a middle snapshot's step ends on the model that snapshot traced
    run = train("lstm", "remember", hidden_size=RUN["hidden"], steps=middle["step"], learning_rate=RUN["learning_rate"],
                seed=RUN["seed"], batch_size=32, eval_sequences=1)
    for n, want in probe(run.model, body["names"]).items():
        np.testing.assert_allclose(middle["values"][n], want, rtol=2e-3, atol=2e-3)


def test_the_snapshots_are_stored_beside_the_model_and_evicted_with_it(trained, tmp_path):
    body, settings = trained["body"], trained["settings"]
    kept = settings.upload_dir / f"{body['id']}{TRAINING}"
    assert kept.is_file() and kept.stat().st_size < 2 * train_worker.SNAPSHOT_VALUES + 10_000
    from gatescope.app.config import Settings
    store = ModelStore(Settings(upload_dir=tmp_path, max_store_models=1))
    one, two = (cells.build("gru", 3, 4, seed=s) for s in (1, 2))
    record = {"meta": {"names": ["h"], "steps": [0]}, "arrays": {"h": np.zeros((1, 5, 4), np.float16)}}
    first = store.add_model(one, training=record)
    assert store.training(first)["arrays"]["h"].shape == (1, 5, 4)
    second = store.add_model(two)
    assert not (tmp_path / f"{first}{TRAINING}").exists() and (tmp_path / f"{second}.safetensors").exists()
    # the snapshots count against max_store_bytes: two bundles fit, two bundles and one model's snapshots do not
    bundle = (tmp_path / f"{second}.safetensors").stat().st_size
    store = ModelStore(Settings(upload_dir=tmp_path / "capped", max_store_bytes=2 * bundle + 200))
    first = store.add_model(one, training={**record, "arrays": {"h": np.zeros((1, 50, 4), np.float16)}})
    assert (tmp_path / "capped" / f"{first}{TRAINING}").stat().st_size > 400
    store.add_model(two)
    assert not (tmp_path / "capped" / f"{first}.safetensors").exists() and not (tmp_path / "capped" / f"{first}{TRAINING}").exists()


def test_unknown_and_uploaded_models_are_404s_that_say_why(trained, tmp_path):
    client = trained["client"]
    r = client.get("/api/models/" + "ab" * 16 + "/training")
    assert r.status_code == 404 and "ab" * 16 in r.json()["detail"]
    path = tmp_path / "m.safetensors"
    cells.build("lstm", 3, 4, seed=9).save(path)
    up = client.post("/api/models", content=path.read_bytes())
    assert up.status_code == 201, up.text
    r = client.get(f"/api/models/{up.json()['id']}/training")
    assert r.status_code == 404 and "uploaded, not trained" in r.json()["detail"] and up.json()["id"] in r.json()["detail"]
    assert client.get("/api/models/not-an-id/training").status_code == 422
