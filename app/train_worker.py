"""One training job, in its own process (started by app/routers/train.py with the "spawn" method).

A separate process keeps training off the server's GIL, so viewing stays
fast while users train, and lets the job use one core: the BLAS thread
count is set before NumPy loads, which is why nothing at the top of this
module imports NumPy. Messages go back to the server through ``conn``:

    ("progress", step, loss, accuracy)
    ("probe", step, {name: float32 (T, width) array of the probe input's trace})
    ("done", {"id", "stopped", "steps", "seconds", "evaluation", "model", "snapshots"})

The probes are also kept, as float16, and stored with the trained model (ModelStore.add_model's ``training``):
step 0 (untrained), every ``probe_every`` steps, and the last step; ``probe_cadence`` picks ``probe_every``
so that a run has about 40 of them and all of them hold at most SNAPSHOT_VALUES values.
    ("error", status, message, traceback)

An error's message is for the client: it names the exception's type only (a
message may carry a path); the traceback is for the server's log.
"""

from __future__ import annotations

import os
import time
import traceback

SNAPSHOT_VALUES = 800_000  # values of every snapshot of one run, at most: 1.6 MB as float16 beside the model


def probe_tokens(task) -> list[str]:
    """The steps of the task's example input, as the probe traces it (no model needed): one label each."""
    if task.input_type == "text":
        from gatescope.cells.vocab import Vocab
        vocab = Vocab(task.tokens)
        return [vocab.tokens[i] for i in vocab.encode(task.example, on_unknown="skip")]
    from .inputs import parse_numbers
    return parse_numbers(task.example).tokens


def probe_cadence(task, names: list[str], hidden: int, steps: int) -> tuple[int, int]:
    """(probe_every, values per snapshot) for a run, its size known before anything is allocated: every probe
    name is at most ``hidden`` wide (the page trains without options, so no projection)."""
    from gatescope.cells.training.trainer import snapshot_cadence
    per = len(probe_tokens(task)) * len(names) * hidden
    return snapshot_cadence(steps, per, SNAPSHOT_VALUES), per


def run(conn, cancel, request: dict, upload_dir: str, probe_every: int) -> None:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    try:
        _train(conn, cancel, request, upload_dir, probe_every)
    except Exception as e:  # report, never hang the server's stream; the parent logs the traceback
        conn.send(("error", 500, f"training failed: an internal error ({type(e).__name__}); it is in the server's log",
                   traceback.format_exc()))
    finally:
        conn.close()


def _train(conn, cancel, request: dict, upload_dir: str, probe_every: int) -> None:
    import numpy as np

    from gatescope.cells.training import tasks as task_registry
    from gatescope.cells.training import train

    from .config import Settings
    from .inputs import parse_numbers
    from .store import ModelStore

    task = task_registry.get(request["task"])
    names = request["probe_names"]
    kept: list[tuple[int, dict]] = []  # (step, {name: float16 (T, width)}): the snapshots stored with the model

    def probe_inputs(model):
        if task.input_type == "text":
            return model.embed(np.array(model.vocab.encode(task.example, on_unknown="skip")))
        return parse_numbers(task.example).xs

    last = [0.0]

    def progress(step, loss, accuracy):
        now = time.monotonic()
        if now - last[0] >= 0.1 or step == request["steps"]:  # at most ten messages a second
            last[0] = now
            conn.send(("progress", step, float(loss), float(accuracy)))

    def snapshot(step, model):
        if kept and kept[-1][0] == step:  # the last step, already taken as a multiple of probe_every: the same model
            return
        trace = model.run(probe_inputs(model))
        values = {n: trace[n].astype(np.float32) for n in names if n in trace}
        kept.append((step, {n: v.astype(np.float16) for n, v in values.items()}))
        conn.send(("probe", step, values))

    result = train(request["kind"], request["task"], hidden_size=request["hidden"], steps=request["steps"],
                   batch_size=request["batch_size"], learning_rate=request["learning_rate"], seed=request["seed"],
                   time_budget=request["time_budget"], cancel=cancel, callback=progress,
                   snapshot=snapshot, snapshot_every=probe_every, snapshot_start=True, eval_sequences=256)
    snapshot(result.steps, result.model)
    record = training_record(task, request["kind"], kept, result.history)
    model_id = ModelStore(Settings(upload_dir=upload_dir)).add_model(result.model, training=record)
    conn.send(("done", {"id": model_id, "stopped": result.stopped, "steps": result.steps, "seconds": round(result.seconds, 2),
                        "evaluation": {k: float(v) for k, v in result.evaluation.items() if isinstance(v, (int, float))},
                        "model": {**result.model.describe(), "id": model_id}, "snapshots": len(kept)}))


CURVE_POINTS = 500  # the loss and accuracy curve kept with the snapshots, thinned to about this many steps


def training_record(task, kind: str, kept: list[tuple[int, dict]], history: dict) -> dict:
    """What ModelStore keeps of a run beside its model: a JSON-able ``meta`` and the snapshots' float16 arrays.

    A snapshot's loss and accuracy are those of the first training batch its model met: step s + 1's batch
    (the model after s steps computed it, before update s + 1), step s's for the last one.
    """
    import numpy as np

    steps = history["step"]
    where = {s: i for i, s in enumerate(steps)}

    def at(key, s):
        i = where.get(s + 1, where.get(s))
        return None if i is None else float(history[key][i])

    shots = [s for s, _ in kept]
    names = list(kept[0][1]) if kept else []
    thin = max(1, -(-len(steps) // CURVE_POINTS))
    curve = {k: [float(v) for v in history[k][::thin]] for k in ("step", "loss", "accuracy")}
    meta = {"kind": kind, "task": task.name, "task_title": task.title, "example": task.example, "input_type": task.input_type,
            "tokens": probe_tokens(task), "names": names, "steps": shots, "loss": [at("loss", s) for s in shots],
            "accuracy": [at("accuracy", s) for s in shots], "curve": curve}
    arrays = {n: np.stack([v[n] for _, v in kept]) for n in names}  # (snapshots, T, width) each
    return {"meta": meta, "arrays": arrays}
