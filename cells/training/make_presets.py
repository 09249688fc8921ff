"""Train the shipped presets: lstm, gru, rnn, mingru and minlstm on each of the five tasks, from fixed seeds.

    python -m cells.training.make_presets                     # all 25, into cells/presets/
    python -m cells.training.make_presets --only brackets     # one task (or: --only brackets-lstm,adding-gru)
    python -m cells.training.make_presets --check             # retrain and compare with the shipped weights
    python -m cells.training.make_presets --cards             # rewrite only the cards' notes, units and Chinese, from the weights

Each preset is a bundle ``<task>-<kind>.safetensors`` with its model card in
the metadata. Every kind of a task gets the same recipe (hidden size,
steps, batch, learning rate, seed, length), so their accuracies compare
like with like. The weights depend only on the recipe, so a retrain on the
same NumPy and BLAS gives the same weights; the card's train_seconds is the
measured time of that run on the machine that ran it. The card's notes and
units are measured on the trained weights alone (cells.training.notes), so
``--cards`` rewrites them in seconds, without training, when that analysis
changes, with the card's words in Chinese (its ``zh``: title, task, notes,
...; the notes from the same measurements as the English ones); the weights
(checked: a hash of every tensor before and after) and the rest of the card
stay as they were.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

from .. import load
from .notes import card_notes, card_zh
from .tasks import TASKS
from .trainer import evaluate, train

OUT = Path(__file__).resolve().parent.parent / "presets"
KINDS = ("lstm", "gru", "rnn", "mingru", "minlstm")
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


def tensor_hashes(path: Path) -> dict[str, str]:
    """Every tensor of a bundle as the hash of its dtype, shape and bytes."""
    from safetensors.numpy import load_file
    return {k: hashlib.sha256(f"{a.dtype} {a.shape}".encode() + a.tobytes()).hexdigest() for k, a in load_file(path).items()}


def rewrite_cards(selected: list[tuple[str, str]], out: Path) -> int:
    """Measure each shipped bundle's notes and units again on its own weights and write them, and the card's words in
    Chinese, into its card. What the accuracy was measured on is counted again by the trainer's evaluation (its
    English must be the card's); the weights must come back byte for byte."""
    for task, kind in selected:
        path, t = out / f"{task}-{kind}.safetensors", TASKS[task]
        before, model = tensor_hashes(path), load(path)
        card, notes = model.card, card_notes(model, t)
        evaluation = evaluate(model, t, sequences=512, seq_len=card["seq_len"], seed=[card["seed"], 3])  # as train() did
        evaluated_on, evaluated_on_zh = t.evaluated_on(evaluation["sequences"], evaluation["lengths"])
        if evaluated_on != card["evaluated_on"]:
            raise SystemExit(f"{path.name}: evaluated on {evaluated_on!r} now, but its card says {card['evaluated_on']!r}")
        same = "same notes" if notes.text == card.get("notes") else "notes CHANGED"
        model.card = {**card, "notes": notes.text, "units": notes.units, "zh": card_zh(model, t, evaluated_on_zh, notes.zh)}
        model.save(path)
        if tensor_hashes(path) != before:
            raise SystemExit(f"{path.name}: the weights changed when the card was rewritten")
        print(f"{task + '-' + kind:<16} units {notes.units}  {same}, same weights", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cells.training.make_presets", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated tasks or presets (e.g. brackets,adding-lstm)")
    ap.add_argument("--check", action="store_true", help="retrain and compare with the shipped bundles instead of writing them")
    ap.add_argument("--cards", action="store_true",
                    help="only rewrite the bundles' card notes, units and Chinese words from their weights (no training)")
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
