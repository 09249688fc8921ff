"""What keeping a training run's snapshots costs: time, against the same run without them, and size.

    python bench/bench_training_snapshots.py [--steps 1500] [--repeat 2]

1. Time: the remember task, LSTM, hidden 16 (the train dialog's defaults), trained with and without the worker's
   snapshot capture (app/train_worker.py: the probe traced on the example at step 0, every probe_every steps
   and the last, kept as float16), alternately, in this process, on one BLAS thread as the worker runs.
2. Size: per task and kind, at hidden 16 and 64 (max_train_hidden), for 1,500 steps: how many snapshots the
   cadence keeps, their values and bytes as stored (float16), against the cap (SNAPSHOT_VALUES).
3. The JSON of GET /api/models/{id}/training for the timed run, and how long "watch" takes to show it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from gatescope.app import train_worker  # noqa: E402
from gatescope.app.training_schemas import replay_body  # noqa: E402
from gatescope.cells.training import tasks, train  # noqa: E402

NAMES = {"lstm": ["forget_gate", "input_gate", "c", "output_gate", "h"], "gru": ["reset_gate", "update_gate", "h"]}
WATCH_S = 0.3  # static/controls/train-replay.js WATCH_MS


def run(steps: int, keep: bool):
    task, names, kept, spent = tasks.get("remember"), NAMES["lstm"], [], [0.0]
    every, _ = train_worker.probe_cadence(task, names, 16, steps)

    def snapshot(step, model):
        t = time.perf_counter()
        trace = model.run(model.embed(np.array(model.vocab.encode(task.example))))
        kept.append((step, {n: trace[n].astype(np.float16) for n in names}))
        spent[0] += time.perf_counter() - t

    start = time.perf_counter()
    result = train("lstm", "remember", hidden_size=16, steps=steps, seed=0, eval_sequences=256,
                   snapshot=snapshot if keep else None, snapshot_every=every, snapshot_start=True)
    if keep:
        snapshot(result.steps, result.model)
    return time.perf_counter() - start, kept, result, spent[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    plain, kept_t = [], []
    for _ in range(args.repeat):
        plain.append(run(args.steps, False)[0])
        seconds, kept, result, spent = run(args.steps, True)
        kept_t.append(seconds)
    a, b = min(plain), min(kept_t)
    print(f"1. remember, lstm, hidden 16, {args.steps} steps (best of {args.repeat}): without snapshots {a:.2f} s, "
          f"with {len(kept)} snapshots {b:.2f} s: x{b / a:.3f}; inside the snapshots themselves {spent * 1e3:.0f} ms "
          f"({spent / b:.1%} of that run)")
    print(f"2. snapshots kept for 1,500 steps (cap {train_worker.SNAPSHOT_VALUES:,} values = "
          f"{2 * train_worker.SNAPSHOT_VALUES / 1e6:.1f} MB float16):")
    for name in sorted(tasks.TASKS):
        for kind, names in NAMES.items():
            row = []
            for hidden in (16, 64):
                every, per = train_worker.probe_cadence(tasks.get(name), names, hidden, 1500)
                n = len({0, 1500, *range(every, 1501, every)})
                row.append(f"hidden {hidden}: {n} x {per:,} = {n * per:,} values, {2 * n * per / 1e6:.2f} MB")
            print(f"   {name:9s} {kind:5s} " + " | ".join(row))
    record = train_worker.training_record(tasks.get("remember"), "lstm", kept, result.history)
    body = replay_body("0" * 32, record)
    print(f"3. GET /api/models/{{id}}/training for run 1: {len(body) / 1e3:.0f} kB of JSON; watching its {len(kept)} "
          f"snapshots takes {len(kept) * WATCH_S:.1f} s in the page, the run {b:.2f} s on the server")


if __name__ == "__main__":
    main()
