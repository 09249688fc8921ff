"""How strongly the last hidden state depends on each earlier step: the norms of three Jacobians.

For one sequence of T steps, with h(T) the top layer's last hidden state:

    flow["h"][t] = || dh(T) / dh(t) ||_F    h(t): the top layer's hidden state after step t
    flow["c"][t] = || dh(T) / dc(t) ||_F    c(t): its cell state (kinds with one)
    flow["x"][t] = || dh(T) / dx(t) ||_F    x(t): the model's input at step t

Each is a partial derivative with the rest of the state after step t held
fixed, so the last entries are ||I|| = sqrt(out) for "h" (out = hidden, or
proj_size with a projection) and 0 for "c" (h(T) is itself part of the state
after the last step). A plain RNN's "h" decays geometrically; an LSTM whose
forget gates stay near 1 keeps "c" up over long spans.

All T Jacobians come from one reverse pass that carries ``out`` adjoint
vectors at once, one per component of h(T) (the rows of the identity), so
the cost is about ``out`` backward passes of one sequence, not T of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from ..model import Model, as_real_array, check_finite
from . import check_trainable, forward


def gradient_flow(model: Model, xs: Any, h0: Any = None, c0: Any = None) -> dict[str, np.ndarray]:
    """Norms of dh(T)/dh(t), dh(T)/dc(t) and dh(T)/dx(t) for t = 0..T-1, as float64 arrays of length T.

    ``xs`` is one sequence (T, input_size), as for ``model.run``; ``h0`` and
    ``c0`` use model.run's layout, (num_layers, width). Keys: "h", "x", and
    "c" for kinds with a cell state.
    """
    check_trainable(model, "gradient_flow")
    xs = as_real_array("xs", xs)
    if xs.ndim != 2 or xs.shape[1] != model.input_size or xs.shape[0] == 0:
        raise ShapeError("xs", ("T", model.input_size), xs.shape, "T >= 1 timesteps of input_size values each")
    check_finite("xs", xs)
    L = model.num_layers
    state = model._check_state(h0, c0, None)   # zeros when not given; checks shapes and finiteness
    tape = forward(model, xs[None], h0=state.h[:, None], c0=None if state.c is None else state.c[:, None],
                   gates0=None if state.gates is None else state.gates[:, None])
    T, out = xs.shape[0], model.out_size
    # Seeds: adjoint s of the top layer's output is the s-th row of the identity, at the last step only.
    dY = np.zeros((T, out, out))
    dY[T - 1] = np.eye(out)
    top = L - 1
    _, dX, _, adj = model.spec.tape_backward(tape.params[top], model.options, tape.caches[top], dY, None,
                                              params=False, states=True)
    flow = {"h": np.sqrt((adj["h"] ** 2).sum(axis=(1, 2)))}
    if adj.get("c") is not None:
        flow["c"] = np.sqrt((adj["c"] ** 2).sum(axis=(1, 2)))
    for k in range(top - 1, -1, -1):               # the input's influence passes through every layer below
        _, dX, _, _ = model.spec.tape_backward(tape.params[k], model.options, tape.caches[k], dX, None, params=False)
    flow["x"] = np.sqrt((dX ** 2).sum(axis=(1, 2)))
    return {key: flow[key] for key in ("h", "c", "x") if key in flow}
