"""One training job, in its own process (started by app/routers/train.py with the "spawn" method).

A separate process keeps training off the server's GIL, so viewing stays
fast while users train, and lets the job use one core: the BLAS thread
count is set before NumPy loads, which is why nothing at the top of this
module imports NumPy. Messages go back to the server through ``conn``:

    ("progress", step, loss, accuracy)
    ("probe", step, {name: float32 (T, width) array of the probe input's trace})
    ("done", {"id", "stopped", "steps", "seconds", "evaluation", "model"})
    ("error", status, message, traceback)

An error's message is for the client: it names the exception's type only (a
message may carry a path); the traceback is for the server's log.
"""

from __future__ import annotations

import os
import time
import traceback


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

    from cells.training import tasks as task_registry
    from cells.training import train

    from .config import Settings
    from .inputs import parse_numbers
    from .store import ModelStore

    task = task_registry.get(request["task"])
    names = request["probe_names"]

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
        trace = model.run(probe_inputs(model))
        conn.send(("probe", step, {n: trace[n].astype(np.float32) for n in names if n in trace}))

    result = train(request["kind"], request["task"], hidden_size=request["hidden"], steps=request["steps"],
                   batch_size=request["batch_size"], learning_rate=request["learning_rate"], seed=request["seed"],
                   time_budget=request["time_budget"], cancel=cancel, callback=progress,
                   snapshot=snapshot, snapshot_every=probe_every, eval_sequences=256)
    snapshot(result.steps, result.model)
    model_id = ModelStore(Settings(upload_dir=upload_dir)).add_model(result.model)
    conn.send(("done", {"id": model_id, "stopped": result.stopped, "steps": result.steps, "seconds": round(result.seconds, 2),
                        "evaluation": {k: float(v) for k, v in result.evaluation.items() if isinstance(v, (int, float))},
                        "model": {**result.model.describe(), "id": model_id}}))
