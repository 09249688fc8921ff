"""Train the shipped presets: lstm, gru and rnn on each of the five tasks, from fixed seeds.

    python -m cells.training.make_presets                     # all 15, into cells/presets/
    python -m cells.training.make_presets --only brackets     # one task (or: --only brackets-lstm,adding-gru)
    python -m cells.training.make_presets --check             # retrain and compare with the shipped weights
    python -m cells.training.make_presets --cards             # rewrite only the cards' notes and units, from the weights

Each preset is a bundle ``<task>-<kind>.safetensors`` with its model card in
the metadata. Every kind of a task gets the same recipe (hidden size,
steps, batch, learning rate, seed, length), so their accuracies compare
like with like. The weights depend only on the recipe, so a retrain on the
same NumPy and BLAS gives the same weights; the card's train_seconds is the
measured time of that run on the machine that ran it. The card's notes and
units are measured on the trained weights alone (cells.training.notes), so
``--cards`` rewrites them in seconds, without training, when that analysis
changes; the weights and the rest of the card stay as they were.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .. import load
from .notes import card_notes
from .tasks import TASKS
from .trainer import train

OUT = Path(__file__).resolve().parent.parent / "presets"
KINDS = ("lstm", "gru", "rnn")
TIME_BUDGET = 110.0   # seconds; every preset must train in under two minutes

RECIPES: dict[str, dict] = {
    "remember": dict(hidden_size=8, steps=3000, batch_size=32, learning_rate=0.01, seed=0),
    "brackets": dict(hidden_size=8, steps=2000, batch_size=32, learning_rate=0.01, seed=0),
    "charlm": dict(hidden_size=48, steps=3000, batch_size=32, learning_rate=0.01, seed=0),
    "sine": dict(hidden_size=16, steps=4000, batch_size=32, learning_rate=0.01, seed=0),
    "adding": dict(hidden_size=16, steps=2000, batch_size=32, learning_rate=0.01, seed=0),
}


def names(only: str | None) -> list[tuple[str, str]]:
    """(task, kind) pairs selected by --only: task names, preset names (task-kind), comma-separated."""
    every = [(t, k) for t in RECIPES for k in KINDS]
    if not only:
        return every
    picked = []
    for item in only.split(","):
        item = item.strip()
        match = [(t, k) for t, k in every if item in (t, f"{t}-{k}")]
        if not match:
            valid = ", ".join(list(RECIPES) + [f"{t}-{k}" for t, k in every])
            raise SystemExit(f"--only: unknown preset or task {item!r}; expected one of: {valid}")
        picked += [m for m in match if m not in picked]
    return picked


def rewrite_cards(selected: list[tuple[str, str]], out: Path) -> int:
    """Measure each shipped bundle's notes and units again on its own weights and write them into its card."""
    for task, kind in selected:
        path = out / f"{task}-{kind}.safetensors"
        model = load(path)
        notes, units = card_notes(model, TASKS[task])
        same = "same notes" if notes == model.card.get("notes") else "notes CHANGED"
        model.card = {**model.card, "notes": notes, "units": units}
        model.save(path)
        print(f"{task + '-' + kind:<16} units {units}  {same}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cells.training.make_presets", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated tasks or presets (e.g. brackets,adding-lstm)")
    ap.add_argument("--check", action="store_true", help="retrain and compare with the shipped bundles instead of writing them")
    ap.add_argument("--cards", action="store_true", help="only rewrite the bundles' card notes and units from their weights (no training)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"directory for the bundles (default: {OUT})")
    args = ap.parse_args(argv)
    if args.cards:
        return rewrite_cards(names(args.only), args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'preset':<16} {'accuracy':>8} {'loss':>8} {'steps':>6} {'train s':>8} {'KB':>6}  stopped")
    failures, start = 0, time.perf_counter()
    for task, kind in names(args.only):
        run = train(kind, task, time_budget=TIME_BUDGET, **RECIPES[task])
        card = run.model.card
        name = f"{task}-{kind}"
        path = args.out / f"{name}.safetensors"
        status = run.stopped
        if args.check:
            shipped = load(path)
            same = all(np.array_equal(shipped.params[k], v) for k, v in run.model.params.items())
            same = same and np.array_equal(shipped.decoder[0], run.model.decoder[0])
            status += ", same weights as shipped" if same else ", DIFFERENT weights from the shipped bundle"
            failures += not same
            size = path.stat().st_size / 1024
        else:
            run.model.save(path)
            size = path.stat().st_size / 1024
        print(f"{name:<16} {card['accuracy']:>8.3f} {card['loss']:>8.4f} {run.steps:>6} {card['train_seconds']:>8.1f} "
              f"{size:>6.1f}  {status}", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
