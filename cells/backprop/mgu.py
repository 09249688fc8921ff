"""Backpropagation through time for the Minimal Gated Unit (kind "mgu").

Forward at step t, blocks f, n (each (B, H)):

    f(t)  = sigma(x W_if^T + b_if + h(t-1) W_hf^T + b_hf)              forget gate
    n(t)  = tanh(x W_in^T + b_in + (f(t) * h(t-1)) W_hn^T + b_hn)       candidate
    h(t)  = (1 - f(t)) * h(t-1) + f(t) * n(t)

Reverse, with dh the adjoint of h(t):

    dn_pre   = dh * f * (1 - n^2)                      adjoint of the candidate's pre-activation
    d(f*h)   = dn_pre W_hn
    df       = dh * (n - h(t-1)) + d(f*h) * h(t-1)     f reaches h(t) directly and through the candidate
    df_pre   = df * f (1 - f)
    dh(t-1)  = dh * (1 - f) + d(f*h) * f + df_pre W_hf
"""

from __future__ import annotations

import numpy as np

from ..kinds.base import LayerState
from ._common import flat_outer, flush, sigmoid


def forward(spec, p, opts, X, start: LayerState):
    T, B, _ = X.shape
    H = p["weight_hh"].shape[1]
    A = X @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])   # (T, B, 2H): input parts and both biases
    Wf, Wn = p["weight_hh"][:H].T, p["weight_hh"][H:].T
    Hs = np.empty((T + 1, B, H))
    Hs[0] = start.h
    F, N, FH = (np.empty((T, B, H)) for _ in range(3))
    for t in range(T):
        hp = Hs[t]
        sigmoid(A[t, :, :H] + hp @ Wf, out=F[t])                   # f(t)
        np.multiply(F[t], hp, out=FH[t])                           # f(t) * h(t-1)
        np.tanh(A[t, :, H:] + FH[t] @ Wn, out=N[t])                # n(t)
        Hs[t + 1] = (1.0 - F[t]) * hp + F[t] * N[t]                # h(t)
    cache = {"X": X, "Hs": Hs, "F": F, "N": N, "FH": FH}
    return Hs[1:], cache, LayerState(h=Hs[T].copy())


def backward(spec, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
    X, Hs, F, N = cache["X"], cache["Hs"], cache["F"], cache["N"]
    T, S, H = len(X), dY.shape[1], Hs.shape[2]
    Wf, Wn = p["weight_hh"][:H], p["weight_hh"][H:]
    dA = np.empty((T, S, 2 * H))                   # [df_pre, dn_pre] for every step
    dh = np.zeros((S, H)) if dfinal is None else np.broadcast_to(dfinal.h, (S, H)).copy()
    dH = np.empty((T, S, H)) if states else None
    for t in range(T - 1, -1, -1):
        hp, f, n = Hs[t], F[t], N[t]
        dh += dY[t]
        if states:
            dH[t] = dh
        df_pre, dn_pre = dA[t, :, :H], dA[t, :, H:]
        np.multiply(dh * f, 1.0 - n * n, out=dn_pre)             # dn_pre = dh f (1 - n^2)
        dfh = dn_pre @ Wn                                        # d(f * h(t-1))
        np.multiply(dh * (n - hp) + dfh * hp, f * (1.0 - f), out=df_pre)
        dh = flush(dh * (1.0 - f) + dfh * f + df_pre @ Wf)        # dh(t-1)
    grads = None
    if params:
        db = dA.sum(axis=(0, 1))
        g_hh = np.concatenate([flat_outer(dA[..., :H], Hs[:-1]), flat_outer(dA[..., H:], cache["FH"])])
        grads = {"weight_ih": flat_outer(dA, X), "weight_hh": g_hh, "bias_ih": db, "bias_hh": db.copy()}
    dX = dA @ p["weight_ih"]
    return grads, dX, LayerState(h=dh), ({"h": dH} if states else None)
