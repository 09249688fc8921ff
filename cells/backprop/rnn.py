"""Backpropagation through time for the Elman RNN (kind "rnn").

Forward, for a batch of B sequences (rows) at step t:

    a(t) = x(t) W_ih^T + b_ih + h(t-1) W_hh^T + b_hh      pre-activation, (B, H)
    h(t) = act(a(t))                                       act = tanh or relu

Reverse, with dh(t) the adjoint of h(t) (what the loss at t and every later
step wants of it):

    da(t)      = dh(t) * act'(a(t))       tanh' = 1 - h(t)^2;  relu' = [a(t) > 0]
    dh(t-1)   += da(t) W_hh               carried to the previous step
    dW_hh      = sum_t da(t)^T h(t-1),   dW_ih = sum_t da(t)^T x(t),   db_ih = db_hh = sum_t da(t)
    dx(t)      = da(t) W_ih

Arrays are time-major inside this package: X (T, B, I), outputs (T, B, H).
"""

from __future__ import annotations

import numpy as np

from ..kinds.base import LayerState
from ._common import flat_outer, flush


def forward(spec, p, opts, X, start: LayerState):
    T, B, _ = X.shape
    H = p["weight_hh"].shape[0]
    A = X @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])   # (T, B, H): input parts, then whole pre-activations
    Hs = np.empty((T + 1, B, H))                                # Hs[t] = h(t-1): row 0 is h0
    Hs[0] = start.h
    Wh = p["weight_hh"].T
    relu = opts["nonlinearity"] == "relu"
    for t in range(T):
        A[t] += Hs[t] @ Wh                                      # a(t)
        if relu:
            np.maximum(A[t], 0.0, out=Hs[t + 1])                # h(t) = relu(a(t))
        else:
            np.tanh(A[t], out=Hs[t + 1])                        # h(t) = tanh(a(t))
    cache = {"X": X, "A": A, "Hs": Hs, "relu": relu}
    return Hs[1:], cache, LayerState(h=Hs[T].copy())


def backward(spec, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
    X, A, Hs = cache["X"], cache["A"], cache["Hs"]
    T = len(X)
    S = dY.shape[1]
    H = Hs.shape[2]
    # act'(a(t)) for every step at once: it only depends on the forward pass
    dact = (A > 0.0).astype(np.float64) if cache["relu"] else 1.0 - Hs[1:] ** 2
    dA = np.empty((T, S, H))
    dh = np.zeros((S, H)) if dfinal is None else np.broadcast_to(dfinal.h, (S, H)).copy()
    dH = np.empty((T, S, H)) if states else None
    Whh = p["weight_hh"]
    for t in range(T - 1, -1, -1):
        dh += dY[t]                     # dh(t): the output's wish plus what later steps carried back
        if states:
            dH[t] = dh
        np.multiply(dh, dact[t], out=dA[t])     # da(t) = dh(t) * act'(a(t))
        dh = flush(dA[t] @ Whh)                 # dh(t-1) from step t
    grads = None
    if params:
        db = dA.sum(axis=(0, 1))
        grads = {"weight_ih": flat_outer(dA, X), "weight_hh": flat_outer(dA, Hs[:-1]), "bias_ih": db, "bias_hh": db.copy()}
    dX = dA @ p["weight_ih"]
    return grads, dX, LayerState(h=dh), ({"h": dH} if states else None)
