"""What a request costs, in the units of its settings, known before anything it sizes exists (app/run)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gatescope import cells

from ..config import Settings
from ..errors import over_limit

# What a step costs beyond its multiply-adds, in multiply-adds of the same time. Measured here (issue 18's note): about
# 5 GMAC/s; a free layer-step 2-30 us whatever its size (rnn 1.7, lstm 2.5, gru 12, fgr 30), a held one 35-80 us with 1 to
# 16 holds: a held step runs alone, and its names downstream of the hold are computed again from the glossary (cells/clamp.py).
STEP_OVERHEAD = 50_000
HELD_OVERHEAD = 500_000

#: counts of the work this process did, by what: "plan" (a request checked), "resolve" (a run's model and input made
#: ready), "run" (a model run over a whole input). A test counts a page load's.
COUNTS: dict[str, int] = {"plan": 0, "resolve": 0, "run": 0}


@dataclass(frozen=True)
class Cost:
    macs: int          # multiply-adds, with each step's fixed overhead in the same unit
    trace_bytes: int   # every name of every step, layer and direction, of every run the request makes
    weight_bytes: int  # a model's arrays, once built


def cost(spec, opts: dict, steps: int, input_size: int, hidden: int, layers: int, directions: int, itemsize: int,
         outputs: int = 0, held: int = 0, runs: int = 1) -> Cost:
    """What running a model costs, known before any weight is drawn.

    Each layer-direction multiplies its weights by its inputs every step (``Kind.step_macs``), plus a fixed overhead
    a step (``held`` of the steps run alone, at the held overhead); its trace keeps every name of the glossary, each
    H, P or input wide, for every step. A decoder of ``outputs`` rows reads the top layer's output every step and its
    predictions are kept too. ``runs``: 2 when the run without the clamp is made beside the clamped one.
    """
    out = spec.out_size(hidden, opts)
    names = spec.glossary(opts)
    macs = nbytes = weights = 0
    for k in range(layers):
        width = input_size if k == 0 else directions * out
        macs += directions * steps * (spec.step_macs(width, hidden, opts) + STEP_OVERHEAD)
        sizes = spec.sizes(width, hidden, opts)
        nbytes += directions * steps * sum(sizes[n.size] for n in names) * itemsize
        weights += directions * sum(math.prod(s) for s in spec.param_shapes(width, hidden, opts).values()) * itemsize
    macs += directions * held * HELD_OVERHEAD
    macs += steps * outputs * directions * out
    nbytes += steps * outputs * itemsize * 2  # logits, then the probabilities made of them
    return Cost(runs * macs, runs * nbytes, weights + outputs * directions * out * itemsize)


def check(c: Cost, settings: Settings, shape: str, weights: bool) -> None:
    """Each part of a cost against its setting; ``weights``: the model is still to be built (a random one)."""
    if weights and c.weight_bytes > settings.max_model_bytes:
        raise over_limit("hidden", f"a random model of {shape} = {c.weight_bytes} bytes of weights", settings.max_model_bytes,
                         "max_model_bytes", hint="a smaller hidden size, fewer layers, or one direction")
    if c.macs > settings.max_work:
        raise over_limit("input", f"{shape} = {c.macs} multiply-adds (a step's overhead and held steps included)", settings.max_work,
                         "max_work", hint="a shorter input, fewer layers, or fewer held steps")
    if c.trace_bytes > settings.max_trace_bytes:
        raise over_limit("input", f"a trace of {shape} = {c.trace_bytes} bytes", settings.max_trace_bytes, "max_trace_bytes")


def cost_of(model_or_plan, steps: int, clamp: cells.Clamp, compare: bool, input_width: int | None = None) -> tuple[Cost, str]:
    """The cost of a run of ``steps`` of a model (or a plan's random one), and its shape in words for a message."""
    p = model_or_plan
    if isinstance(p, cells.Model):
        spec, opts, width, hidden, layers, dirs, itemsize, outputs = (p.spec, p.options, p.input_size, p.hidden_size, p.num_layers,
                                                                      p.directions, p.dtype.itemsize, p.n_outputs)
    else:
        spec, opts, width, hidden, layers, dirs, itemsize, outputs = (p.spec, p.options, input_width, p.view.hidden, p.view.layers,
                                                                      2 if p.view.bidirectional else 1, 4, 0)
    held = clamp.held(steps, layers) if clamp else 0
    runs = 2 if clamp and compare else 1
    c = cost(spec, opts, steps, width, hidden, layers, dirs, itemsize, outputs, held, runs)
    shape = (f"{steps} steps x {layers} layer(s) x {dirs} direction(s) x hidden {hidden} (input width {width}"
             + (f", {held} held layer-step(s)" if held else "") + (", twice: with and without the clamp" if runs == 2 else "") + ")")
    return c, shape
