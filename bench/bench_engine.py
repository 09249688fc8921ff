"""Engine speed and memory against PyTorch, measured in the same run.

    python bench/bench_engine.py            # all sizes
    python bench/bench_engine.py --quick    # fewer repetitions

For each size it times, interleaved round by round so that a noisy shared
machine slows every contender alike (a short burst of runs per contender per
round), and reports the best run of all:

  gatescope   cells.build("lstm").run(xs): the full trace, every intermediate kept
  torch       torch.nn.LSTM forward under torch.no_grad() (keeps no gates)
  torch+grad  torch.nn.LSTM forward as a plain call (autograd recording)
  cell loop   a torch.nn.LSTMCell-style loop that computes and collects the gates

and prints the ratios. It then measures the memory of a T=10,000, H=256
float32 trace: the bytes the trace holds and the peak allocated while
computing it (tracemalloc, which sees NumPy's allocations).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gatescope import cells  # noqa: E402

SIZES = [(100, 64, 16), (1000, 64, 128), (10000, 64, 256)]


def interleaved(contenders: dict, rounds: int, burst: int = 3) -> dict[str, float]:
    """Best time of each contender over ``rounds`` rounds; in each round every contender runs ``burst``
    times in a row, so no contender is always timed right after another one's allocations and threads."""
    best = {name: float("inf") for name in contenders}
    for f in contenders.values():
        f()  # warm up: first-call allocations, scratch buffers, oneDNN primitives
    for _ in range(rounds):
        for name, f in contenders.items():
            for _ in range(burst):
                t0 = time.perf_counter()
                f()
                best[name] = min(best[name], time.perf_counter() - t0)
    return best


def torch_contenders(torch, xs: np.ndarray, I: int, H: int) -> dict:
    lstm = torch.nn.LSTM(I, H)
    x = torch.from_numpy(xs)[:, None]
    cell = torch.nn.LSTMCell(I, H)

    def no_grad():
        with torch.no_grad():
            lstm(x)

    def gate_loop():  # what a user writes to see the gates: one LSTMCell step at a time
        with torch.no_grad():
            w_ih, w_hh, b = cell.weight_ih, cell.weight_hh, cell.bias_ih + cell.bias_hh
            h, c = torch.zeros(1, H), torch.zeros(1, H)
            keep = []
            for t in range(len(x)):
                z = x[t] @ w_ih.T + h @ w_hh.T + b
                i, f, g, o = z.chunk(4, 1)
                i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
                c = f * c + i * g
                h = o * c.tanh()
                keep.append((i, f, g, o, c, h))
            return keep

    return {"torch": no_grad, "torch+grad": lambda: lstm(x), "cell loop": gate_loop}


def speed(rounds: int) -> None:
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: only gatescope's own times are printed (pip install torch==2.13.0)")
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, oneDNN {torch.backends.mkldnn.is_available()}; numpy {np.__version__}")
    header = (f"{'T':>6} {'I':>3} {'H':>4} | {'gatescope':>10} {'torch':>9} {'torch+grad':>10} {'cell loop':>10} | "
              f"{'/torch':>6} {'/+grad':>6} {'/loop':>6}")
    print(header)
    print("-" * len(header))
    for T, I, H in SIZES:
        xs = np.random.default_rng(0).standard_normal((T, I)).astype(np.float32)
        model = cells.build("lstm", I, H, seed=0)
        contenders = {"gatescope": lambda model=model, xs=xs: model.run(xs)}
        if torch is not None:
            contenders.update(torch_contenders(torch, xs, I, H))
        n = max(2, rounds * 1000 // T // 3)
        best = interleaved(contenders, n)
        ms = {k: v * 1e3 for k, v in best.items()}
        row = f"{T:>6} {I:>3} {H:>4} | {ms['gatescope']:>8.2f}ms"
        if torch is not None:
            row += (f" {ms['torch']:>7.2f}ms {ms['torch+grad']:>8.2f}ms {ms['cell loop']:>8.2f}ms |"
                    f" {ms['gatescope'] / ms['torch']:>6.2f} {ms['gatescope'] / ms['torch+grad']:>6.2f} {ms['gatescope'] / ms['cell loop']:>6.2f}")
        print(row + f"   ({n} rounds, {ms['gatescope'] * 1e3 / T:.2f} us/step)")


def memory() -> None:
    T, I, H = 10_000, 64, 256
    model = cells.build("lstm", I, H, seed=0)
    xs = np.random.default_rng(0).standard_normal((T, I)).astype(np.float32)
    model.run(xs[:10])  # scratch buffers are per thread and reused: allocate them outside the measurement
    tracemalloc.start()
    trace = model.run(xs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_name = T * H * 4
    names = [n for n in trace if n != "x"]
    contiguous = all(trace[n].flags.c_contiguous for n in trace)
    print(f"\nmemory, T={T} H={H} float32: trace holds {trace.nbytes / 1e6:.1f} MB for {len(names)} names "
          f"(+ x {xs.nbytes / 1e6:.1f} MB; one (T, H) array is {per_name / 1e6:.2f} MB); "
          f"peak while computing {peak / 1e6:.1f} MB; every name C-contiguous: {contiguous}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    args = ap.parse_args()
    speed(rounds=10 if args.quick else 40)
    memory()


if __name__ == "__main__":
    main()
