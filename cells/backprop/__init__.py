"""Backpropagation through time for every cell kind, batched, in float64.

    from gatescope.cells import backprop
    tape = backprop.forward(model, xs)            # xs: (B, T, input_size), B sequences of T steps
    tape.output                                   # (B, T, out): model.run(xs[b]).output for each b
    grads = backprop.backward(tape, d_output)     # d_output: dLoss/d output, (B, T, out)
    grads.params["weight_hh_l0"], grads.xs, grads.h0, grads.c0

The forward pass keeps what the reverse pass needs (every gate, every
state); the reverse pass walks the steps from last to first, carrying the
adjoints of the state back one step at a time. Each kind differentiates
itself, in its own module and with the equations it differentiates written
out (``Kind.tape_forward``, ``Kind.tape_backward``: cells/kinds/rnn.py,
gru.py, mgu.py, and _lstm_backward.py for lstm, peephole and Greff's
variants); this module batches layers and checks shapes.

Everything is computed in float64 whatever the model's dtype. Gradients
come back under the model's torch names, with the shapes of
``model.params``; initial states use PyTorch's batched layout, (num_layers,
B, width). Bidirectional models are not supported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CellsError, ShapeError
from ..kinds.base import LayerState
from ..model import Model, as_real_array, check_finite


def check_differentiable(model: Model) -> None:
    """A kind without a backward pass of its own (Kind.tape_forward, tape_backward) is refused, naming itself."""
    if not model.spec.trainable:
        raise CellsError(f"the {model.kind} kind has no backward pass (Kind.tape_forward, tape_backward), "
                         "so it cannot be trained or differentiated")


def check_trainable(model: Model, what: str = "training") -> None:
    if model.bidirectional:
        raise CellsError(f"bidirectional models are not supported for {what} (backpropagation and gradient_flow run "
                         "forward in time only); use a unidirectional model")


@dataclass
class Tape:
    """A batched forward pass and everything the reverse pass needs."""

    model: Model
    output: np.ndarray          # (B, T, out): the top layer's h(t) for every sequence and step
    h_n: np.ndarray             # (L, B, out): final h of each layer
    c_n: np.ndarray | None      # (L, B, hidden) for kinds with a cell state
    gates_n: np.ndarray | None  # (L, B, 3*hidden) for FGR
    params: list[dict]          # per layer: float64 parameters, unsuffixed names
    caches: list[dict]          # per layer: the module's cache (time-major arrays)
    more_n: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (L, B, width): what else a kind carries (Kind.carried)


@dataclass
class Gradients:
    """dLoss/d everything: ``params`` under the model's torch names, and the inputs and initial state."""

    params: dict[str, np.ndarray]
    xs: np.ndarray              # (B, T, input_size)
    h0: np.ndarray              # (L, B, out)
    c0: np.ndarray | None       # (L, B, hidden)
    gates0: np.ndarray | None   # (L, B, 3*hidden), FGR only
    more0: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (L, B, width), as the kind returns them


def layer_params(model: Model, layer: int) -> dict[str, np.ndarray]:
    """Layer ``layer``'s parameters in float64 under their unsuffixed names (weight_ih, ...)."""
    return {n: a.astype(np.float64) for n, a in model.layer_params(model.walk()[layer]).items()}


def _initial(model: Model, name: str, value: Any, B: int, width: int) -> np.ndarray:
    shape = (model.num_layers, B, width)
    if value is None:
        return np.zeros(shape)
    a = as_real_array(name, value)
    if a.ndim == 2 and model.num_layers == 1:
        a = a[None]
    if a.shape != shape:
        raise ShapeError(name, shape, a.shape, "(num_layers, batch, width), as PyTorch's h0")
    check_finite(name, a)
    return a.astype(np.float64)


def forward(model: Model, xs: Any, h0: Any = None, c0: Any = None, gates0: Any = None, more0: dict | None = None) -> Tape:
    """Run ``model`` over B sequences at once, xs (B, T, input_size), keeping what backward() needs. ``more0``: what else
    the kind carries (Kind.carried: sLSTM's n and m), name -> (num_layers, B, width); zeros where not given."""
    check_trainable(model)
    xs = as_real_array("xs", xs)
    if xs.ndim == 2:
        raise ShapeError("xs", ("B", "T", model.input_size), xs.shape, "a batch of sequences; use xs[None] for one sequence")
    if xs.ndim != 3 or xs.shape[2] != model.input_size or 0 in xs.shape:
        raise ShapeError("xs", ("B", "T", model.input_size), xs.shape, "B sequences of T >= 1 steps")
    check_finite("xs", xs)
    B = xs.shape[0]
    check_differentiable(model)
    H0 = _initial(model, "h0", h0, B, model.out_size)
    C0 = _initial(model, "c0", c0, B, model.hidden_size) if model.spec.has_cell else None
    recur = model._recurrent_gates
    Q0 = _initial(model, "gates0", gates0, B, 3 * model.hidden_size) if recur else None
    if c0 is not None and C0 is None:
        raise CellsError(f"c0: the {model.kind} kind has no cell state; pass h0 only")
    carried = model.spec.carried(model.input_size, model.hidden_size, model.options)
    if unknown := sorted(set(more0 or {}) - set(carried)):
        raise CellsError(f"more0: {', '.join(unknown)} is no state of the {model.kind} kind; it carries {', '.join(carried) or 'nothing more'}")
    M0 = {k: _initial(model, k, (more0 or {}).get(k), B, w) for k, w in carried.items()}
    inp = np.ascontiguousarray(xs.transpose(1, 0, 2), dtype=np.float64)   # time-major (T, B, I)
    params, caches, finals = [], [], []
    for k in range(model.num_layers):
        p = layer_params(model, k)
        start = LayerState(h=H0[k], c=None if C0 is None else C0[k], gates=None if Q0 is None else Q0[k], more={n: a[k] for n, a in M0.items()})
        inp, cache, final = model.spec.tape_forward(p, model.options, inp, start)
        params.append(p)
        caches.append(cache)
        finals.append(final)
    return Tape(model, output=inp.transpose(1, 0, 2), h_n=np.stack([f.h for f in finals]),
                c_n=np.stack([f.c for f in finals]) if C0 is not None else None,
                gates_n=np.stack([f.gates for f in finals]) if recur else None, params=params, caches=caches,
                more_n={n: np.stack([f.more[n] for f in finals]) for n in M0})


def backward(tape: Tape, d_output: Any = None, d_h_n: Any = None, d_c_n: Any = None, d_gates_n: Any = None,
             d_more_n: dict | None = None) -> Gradients:
    """Gradients of a loss whose derivatives w.r.t. the outputs and final states are given (None: zero)."""
    model = tape.model
    check_differentiable(model)
    B, T, out = tape.output.shape
    dY = np.zeros((T, B, out)) if d_output is None else _adjoint("d_output", d_output, (B, T, out)).transpose(1, 0, 2)
    L = model.num_layers
    dh_n = None if d_h_n is None else _adjoint("d_h_n", d_h_n, tape.h_n.shape)
    dc_n = None if d_c_n is None or tape.c_n is None else _adjoint("d_c_n", d_c_n, tape.c_n.shape)
    dq_n = None if d_gates_n is None or tape.gates_n is None else _adjoint("d_gates_n", d_gates_n, tape.gates_n.shape)
    dm_n = {n: _adjoint(f"d_more_n[{n!r}]", (d_more_n or {})[n], a.shape) for n, a in tape.more_n.items() if n in (d_more_n or {})}
    grads: dict[str, np.ndarray] = {}
    d0 = [None] * L
    for k in range(L - 1, -1, -1):
        dfinal = None
        if dh_n is not None or dc_n is not None or dq_n is not None or dm_n:
            dfinal = LayerState(h=np.zeros((B, tape.h_n.shape[2])) if dh_n is None else dh_n[k],
                                c=None if tape.c_n is None else (np.zeros((B, model.hidden_size)) if dc_n is None else dc_n[k]),
                                gates=None if dq_n is None else dq_n[k],
                                more={n: dm_n[n][k] if n in dm_n else np.zeros_like(a[k]) for n, a in tape.more_n.items()})
        g, dY, d0[k], _ = model.spec.tape_backward(tape.params[k], model.options, tape.caches[k], dY, dfinal)
        for name, a in g.items():
            grads[name + model.walk()[k].suffix] = a
    return Gradients(params={name: grads[name] for name in model.params}, xs=dY.transpose(1, 0, 2),
                     h0=np.stack([d.h for d in d0]),
                     c0=np.stack([d.c for d in d0]) if tape.c_n is not None else None,
                     gates0=np.stack([d.gates for d in d0]) if tape.gates_n is not None else None,
                     more0={n: np.stack([d.more[n] for d in d0]) for n in tape.more_n if all(n in d.more for d in d0)})


def _adjoint(name: str, value: Any, shape: tuple) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.shape != tuple(shape):
        raise ShapeError(name, shape, a.shape)
    return a


__all__ = ["Tape", "Gradients", "forward", "backward", "check_differentiable", "layer_params", "check_trainable"]
