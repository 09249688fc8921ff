"""Training, measured: the presets' accuracy and training time, and how long a gap each kind bridges in the adding problem.

    python bench/bench_training.py              # presets (evaluated now) + the adding problem: about 8 minutes
    python bench/bench_training.py --retrain    # retrain every preset from its recipe first (about 4 more minutes)
    python bench/bench_training.py --skip-adding
    python bench/bench_training.py --lengths 10,20,50 --steps 500    # a quicker, rougher adding sweep

Part 1, presets: each shipped preset is evaluated in this run on fresh data
(held-out text for charlm) with a seed other than the one its card used; the
training time is the card's (measured when the preset was made), or, with
--retrain, the time of a training run made now from the same recipe.

Part 2, the adding problem (Hochreiter & Schmidhuber 1997): rnn, lstm and gru
are trained with one fixed budget (the same steps, batch, hidden size,
learning rate, clipping and seed for every kind and length) for T = 10, 20,
50, 100, 200, 400, 800. A kind SOLVES a length when its mean squared error
on 512 fresh sequences is below a tenth of the baseline's, 0.1 * 1/6 = 0.0167
(the baseline always answers 1, the mean of the sum). Lengths grow until a
kind fails once; the table gives the longest length it solved.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gatescope.cells.presets import list_presets, load_preset  # noqa: E402
from gatescope.cells.training import TASKS, evaluate, train  # noqa: E402
from gatescope.cells.training.make_presets import RECIPES  # noqa: E402

ADDING_BUDGET = dict(hidden_size=16, steps=2000, batch_size=32, learning_rate=0.01, clip=1.0, seed=0)
LENGTHS = (10, 20, 50, 100, 200, 400, 800)
SOLVED = 0.1 * TASKS["adding"].baseline_mse


def presets(retrain: bool) -> None:
    print("Presets" + (" (retrained now)" if retrain else " (shipped weights, evaluated now)"))
    print(f"  {'preset':<16} {'accuracy':>9} {'card says':>9} {'train s':>8}  accuracy counts")
    for p in list_presets():
        card = p["card"]
        task = TASKS[card["task"]]
        if retrain:
            run = train(card["kind"], card["task"], time_budget=600, **RECIPES[card["task"]])
            model, seconds = run.model, run.seconds
        else:
            model, seconds = load_preset(p["name"]), card["train_seconds"]
        fresh = evaluate(model, task, sequences=1024, seq_len=card["seq_len"], seed=[2024, 11])
        print(f"  {p['name']:<16} {fresh['accuracy']:>9.3f} {card['accuracy']:>9.3f} {seconds:>8.1f}  {task.accuracy_rule}",
              flush=True)


def adding(lengths: tuple[int, ...], budget: dict) -> None:
    print(f"\nThe adding problem: solved = MSE < {SOLVED:.4f} on 512 fresh sequences; budget per run: "
          + ", ".join(f"{k}={v}" for k, v in budget.items()))
    print(f"  {'kind':<5} {'T':>5} {'MSE':>8} {'within 0.04':>11} {'train s':>8}  solved")
    longest: dict[str, int | None] = {}
    failed: dict[str, bool] = {}
    for kind in ("rnn", "lstm", "gru"):
        longest[kind], failed[kind] = None, False
        for T in lengths:
            run = train(kind, "adding", seq_len=T, time_budget=600, eval_sequences=512, **budget)
            mse = run.evaluation["loss"]
            ok = mse < SOLVED
            acc = run.evaluation["accuracy"]
            print(f"  {kind:<5} {T:>5} {mse:>8.4f} {acc:>11.3f} {run.seconds:>8.1f}  {'yes' if ok else 'no'}", flush=True)
            if not ok:
                failed[kind] = True
                break
            longest[kind] = T

    def said(kind):
        if longest[kind] is None:
            return f"{kind} none (failed at T={lengths[0]})"
        return f"{kind} {longest[kind]}" + ("" if failed[kind] else " (solved every length tried)")
    print("\n  longest T solved: " + ", ".join(said(k) for k in longest))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--retrain", action="store_true", help="retrain every preset now instead of evaluating the shipped ones")
    ap.add_argument("--skip-adding", action="store_true", help="only the presets")
    ap.add_argument("--lengths", default=",".join(map(str, LENGTHS)), help="comma-separated T for the adding sweep")
    ap.add_argument("--steps", type=int, default=ADDING_BUDGET["steps"], help="training steps per adding run")
    args = ap.parse_args()
    start = time.perf_counter()
    print(f"machine: {os.cpu_count()} cores; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    presets(args.retrain)
    if not args.skip_adding:
        adding(tuple(int(v) for v in args.lengths.split(",")), {**ADDING_BUDGET, "steps": args.steps})
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
