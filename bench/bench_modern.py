"""The modern cells' speed against the LSTM's, measured in the same run (issue 20's targets).

    python bench/bench_modern.py            # T=1000, input and hidden 128, float32
    python bench/bench_modern.py --quick    # fewer rounds

For each kind it times ``model.run(xs)``, the full trace with every intermediate kept, interleaved round by round
with the LSTM's (bench_engine.interleaved: a noisy shared machine slows every contender alike), and prints the best
run of each and its ratio to the LSTM's (target: within 3x). Then the paused step: one step from a carried state,
``model.step(x, state)``, for mLSTM with 4 heads of 16 and Mamba with N = 16 (target: within the page's 16 ms).

A kind not yet in the registry (cells/kinds/*.py exporting KIND, not in BUILT_IN) is registered for the run.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import interleaved  # noqa: E402

from gatescope import cells  # noqa: E402

#: kind -> its module under cells/kinds/, and the options it is timed with (each kind's defaults, and the variants)
MODERN = {"mingru": ("mingru", {}), "minlstm": ("minlstm", {}), "rglru": ("rglru", {}), "slstm": ("slstm", {}),
          "slstm 4 heads": ("slstm", {"heads": 4}), "mlstm": ("mlstm", {}), "mamba": ("ssm", {}),
          "mamba, S6 alone": ("ssm", {"block": False})}


def registered(stack: ExitStack, module: str) -> str:
    """The kind of cells/kinds/<module>.py, registered for the run if it is not built in."""
    kind = import_module(f"gatescope.cells.kinds.{module}").KIND
    if kind.name not in cells.KINDS:
        stack.enter_context(cells.registered(kind))
    return kind.name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    T, I, H = 1000, 128, 128
    rounds = 3 if args.quick else 8
    xs = np.random.default_rng(0).standard_normal((T, I)).astype(np.float32)
    with ExitStack() as stack:
        lstm = cells.build("lstm", I, H, seed=0, dtype="float32")
        print(f"full trace, T={T}, input {I}, hidden {H}, float32; best of {rounds} rounds x 3, interleaved with the LSTM")
        print(f"{'kind':<18} {'ms':>8} {'LSTM ms':>8} {'ratio':>6}")
        for label, (module, opts) in MODERN.items():
            model = cells.build(registered(stack, module), I, H, seed=0, dtype="float32", **opts)
            best = interleaved({"kind": lambda: model.run(xs), "lstm": lambda: lstm.run(xs)}, rounds)
            print(f"{label:<18} {best['kind'] * 1e3:8.1f} {best['lstm'] * 1e3:8.1f} {best['kind'] / best['lstm']:6.2f}")
        print("\npaused step: model.step(x, state) from a carried state (target: 16 ms)")
        for label, module, hidden, opts in (("mlstm 4 heads x 16", "mlstm", 64, {"heads": 4}),
                                            ("mamba N=16", "ssm", 128, {"state_size": 16})):
            model = cells.build(registered(stack, module), I, hidden, seed=0, dtype="float32", **opts)
            state = model.run(xs[:50]).final
            best = interleaved({"step": lambda: model.step(xs[50], state)}, rounds * 10)
            print(f"{label:<22} {best['step'] * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
