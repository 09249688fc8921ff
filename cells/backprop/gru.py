"""Backpropagation through time for the GRU (kind "gru"), both placements of the reset gate.

Forward at step t, blocks in PyTorch's order r, z, n (each (B, H)):

    a(t) = x(t) W_ih^T + b_ih                                input parts a_r, a_z, a_n
    u(t) = h(t-1) W_hh^T + b_hh                              recurrent parts u_r, u_z, u_n
    r(t) = sigma(a_r + u_r)                                  reset gate
    z(t) = sigma(a_z + u_z)                                  update gate
    n(t) = tanh(a_n + r(t) * u_n)                            reset_after=True (PyTorch)
    n(t) = tanh(a_n + (r(t) * h(t-1)) W_hn^T + b_hn)         reset_after=False (Cho et al.)
    h(t) = (1 - z(t)) * n(t) + z(t) * h(t-1)

Reverse, with dh the adjoint of h(t):

    dn = dh * (1 - z)            dz = dh * (h(t-1) - n)          dh(t-1) = dh * z + ...
    dn_pre = dn * (1 - n^2)                                     adjoint of n's pre-activation
    reset_after:   du_n = dn_pre * r          dr = dn_pre * u_n
    reset_before:  d(r*h) = dn_pre W_hn      dr = d(r*h) * h(t-1)    dh(t-1) += d(r*h) * r
    dr_pre = dr * r (1 - r)      dz_pre = dz * z (1 - z)
    dh(t-1) += [dr_pre, dz_pre, du_n] W_hh   (reset_before: only the r, z blocks here)

The weights' gradients are sums over steps of outer products, done after
the loop in one matmul each.
"""

from __future__ import annotations

import numpy as np

from ..kinds.base import LayerState
from ._common import flat_outer, flush, sigmoid


def forward(spec, p, opts, X, start: LayerState):
    T, B, _ = X.shape
    H = p["weight_hh"].shape[1]
    after = opts["reset_after"]
    Ai = X @ p["weight_ih"].T + p["bias_ih"]        # (T, B, 3H): a_r, a_z, a_n
    Wh, bh = p["weight_hh"].T, p["bias_hh"]          # (H, 3H)
    Hs = np.empty((T + 1, B, H))
    Hs[0] = start.h
    RZ, N = np.empty((T, B, 2 * H)), np.empty((T, B, H))   # r(t) and z(t) side by side, n(t)
    Un = np.empty((T, B, H)) if after else None      # u_n(t) = W_hn h(t-1) + b_hn, kept for the reverse pass
    RH = None if after else np.empty((T, B, H))      # r(t) * h(t-1), ditto
    for t in range(T):
        hp = Hs[t]
        if after:
            u = hp @ Wh + bh                                      # u(t), all three blocks
            sigmoid(Ai[t, :, :2 * H] + u[:, :2 * H], out=RZ[t])   # r(t), z(t)
            Un[t] = u[:, 2 * H:]
            np.tanh(Ai[t, :, 2 * H:] + RZ[t, :, :H] * Un[t], out=N[t])   # n(t) = tanh(a_n + r * u_n)
        else:
            u = hp @ Wh[:, :2 * H] + bh[:2 * H]                   # u_r, u_z
            sigmoid(Ai[t, :, :2 * H] + u, out=RZ[t])
            np.multiply(RZ[t, :, :H], hp, out=RH[t])              # r(t) * h(t-1)
            np.tanh(Ai[t, :, 2 * H:] + RH[t] @ Wh[:, 2 * H:] + bh[2 * H:], out=N[t])
        z = RZ[t, :, H:]
        Hs[t + 1] = (1.0 - z) * N[t] + z * hp                     # h(t) = (1 - z) n + z h(t-1)
    R, Z = RZ[..., :H], RZ[..., H:]
    cache = {"X": X, "Hs": Hs, "R": R, "Z": Z, "N": N, "Un": Un, "RH": RH, "after": after}
    return Hs[1:], cache, LayerState(h=Hs[T].copy())


def backward(spec, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
    X, Hs, R, Z, N = cache["X"], cache["Hs"], cache["R"], cache["Z"], cache["N"]
    after = cache["after"]
    T, S, H = len(X), dY.shape[1], Hs.shape[2]
    W = p["weight_hh"]                                # (3H, H)
    Wrz, Wn = W[:2 * H], W[2 * H:]
    dA = np.empty((T, S, 3 * H))                      # adjoints of the pre-activations' input parts
    dUn = np.empty((T, S, H)) if after else None      # adjoint of u_n (differs from dA's n block when reset_after)
    dh = np.zeros((S, H)) if dfinal is None else np.broadcast_to(dfinal.h, (S, H)).copy()
    dH = np.empty((T, S, H)) if states else None
    # local derivatives, for every step at once (they depend only on the forward pass)
    dn_pre_dh = (1.0 - Z) * (1.0 - N * N)              # dh(t) -> n's pre-activation
    dz_pre_dh = (Hs[:-1] - N) * Z * (1.0 - Z)          # dh(t) -> z's pre-activation
    sig_r = R * (1.0 - R)
    for t in range(T - 1, -1, -1):
        hp, r = Hs[t], R[t]
        dh += dY[t]                                   # dh(t)
        if states:
            dH[t] = dh
        dr_pre, dz_pre, dn_pre = dA[t, :, :H], dA[t, :, H:2 * H], dA[t, :, 2 * H:]
        np.multiply(dh, dn_pre_dh[t], out=dn_pre)     # dn_pre = dh (1 - z)(1 - n^2)
        np.multiply(dh, dz_pre_dh[t], out=dz_pre)     # dz_pre = dh (h(t-1) - n) z (1 - z)
        dh_prev = dh * Z[t]                           # through the z * h(t-1) path
        if after:
            np.multiply(dn_pre, r, out=dUn[t])        # du_n = dn_pre * r
            np.multiply(dn_pre * cache["Un"][t], sig_r[t], out=dr_pre)
            dh_prev += dA[t, :, :2 * H] @ Wrz + dUn[t] @ Wn
        else:
            drh = dn_pre @ Wn                         # d(r * h(t-1))
            np.multiply(drh * hp, sig_r[t], out=dr_pre)
            dh_prev += drh * r + dA[t, :, :2 * H] @ Wrz
        dh = flush(dh_prev)
    grads = None
    if params:
        g_ih = flat_outer(dA, X)
        if after:
            dU = np.concatenate([dA[..., :2 * H], dUn], axis=-1)
            g_hh, db_hh = flat_outer(dU, Hs[:-1]), dU.sum(axis=(0, 1))
        else:
            g_hh = np.concatenate([flat_outer(dA[..., :2 * H], Hs[:-1]), flat_outer(dA[..., 2 * H:], cache["RH"])])
            db_hh = dA.sum(axis=(0, 1))
        grads = {"weight_ih": g_ih, "weight_hh": g_hh, "bias_ih": dA.sum(axis=(0, 1)), "bias_hh": db_hh}
    dX = dA @ p["weight_ih"]
    return grads, dX, LayerState(h=dh), ({"h": dH} if states else None)
