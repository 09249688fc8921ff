"""slstm's adjoints: the helper module of cells/kinds/slstm.py (the kind, its forward and its equations).

The backward pass (tape_forward, tape_backward; cells.backprop batches it), with dh, dc, dn, dm the adjoints of
h(t), c(t), n(t), m(t) arriving from step t + 1 (dh also from the outputs):

    do  = dh ⊙ h~,             dh~ = dh ⊙ o
    dc' = dc + dh~ / n,        dn' = dn − dh~ ⊙ h~ / n             c(t), n(t) through h~ = c / n
    df  = dc' ⊙ c(t-1) + dn' ⊙ n(t-1),   di = dc' ⊙ z + dn',   dz = dc' ⊙ i
    dc(t-1) = dc' ⊙ f,         dn(t-1) = dn' ⊙ f
    dei = di ⊙ i,  def = df ⊙ f                                    the exponents ĩ − m and f̃' + m(t-1) − m
    dm' = dm − dei − def                                           m(t): into step t+1's f̃' + m(t), and both exponents
    dK  = def + dm' [where f̃' + m(t-1) > ĩ],   dĩ = dei + dm' [where ĩ ≥ f̃' + m(t-1)]    the max
    (capped at the first step: dĩ += dK, dK = 0 there)
    dm(t-1) = dK,  df̃ = dK ⊙ σ(−f̃)   (exp forget gate: df̃ = dK)
    unstabilized:  dĩ = di ⊙ i,  df̃ = df ⊙ f (1 − f)  (exp: df ⊙ f)
    dz̃ = dz ⊙ (1 − z²),  dõ = do ⊙ o (1 − o);  dpre = [dĩ, df̃, dz̃, dõ]
    dh(t-1) = dpre R,  dW = Σ dpreᵀ x,  dR = Σ dpreᵀ h(t-1) (its blocks),  db = Σ dpre,  dx = dpre W
"""

from __future__ import annotations

import numpy as np

from .._math import flat_outer, sigmoid
from ._slstm_reference import compact_recurrent, dense_recurrent
from .base import LayerState


def tape_forward(kind, p, opts, X, start: LayerState):
    """SLSTM.tape_forward: the kind's own forward pass in float64, its trace (and X) kept as the cache."""
    out, final = kind.forward(kind.compile(p, opts, np.float64), X, start)
    out["X"] = X
    return out["h"], out, final


def tape_backward(p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
    """SLSTM.tape_backward (Kind.tape_backward's contract), over the cache of SLSTM.tape_forward: the trace's names
    (T, S, H) and X. The loop runs the equations above from the last step to the first."""
    T, S, H = dY.shape
    stable, exp_forget = not opts["unstabilized"], opts["forget"] == "exp"
    R = dense_recurrent(p["weight_hh"], opts["heads"])                         # (4H, H)

    def start(value) -> np.ndarray:
        return np.zeros((S, H)) if value is None else np.broadcast_to(value, (S, H)).copy()

    more = dfinal.more if dfinal is not None else {}
    dh, dc = start(dfinal.h if dfinal else None), start(dfinal.c if dfinal else None)
    dn, dm = start(more.get("n")), start(more.get("m"))
    dP = np.empty((T, S, 4 * H))
    dH, dC = (np.empty((T, S, H)), np.empty((T, S, H))) if states else (None, None)
    c = cache
    for t in range(T - 1, -1, -1):
        dh += dY[t]
        if states:
            dH[t], dC[t] = dh, dc                                              # c(t)'s adjoint with h(t) held
        o, hn, n, i, f = c["output_gate"][t], c["normalized"][t], c["n"][t], c["input_gate"][t], c["forget_gate"][t]
        z = c["candidate"][t]
        dhn = dh * o
        dc_ = dc + dhn / n                                                     # dc'
        dn_ = dn - dhn * hn / n                                                # dn'
        df = dc_ * c["c_prev"][t] + dn_ * c["n_prev"][t]
        di = dc_ * z + dn_
        dP[t, :, 2 * H:3 * H] = dc_ * i * (1.0 - z * z)                       # dz̃
        dP[t, :, 3 * H:] = dh * hn * o * (1.0 - o)                            # dõ
        dc, dn = dc_ * f, dn_ * f                                              # into c(t−1), n(t−1)
        if stable:
            dei, def_ = di * i, df * f
            dmt = dm - dei - def_                                              # dm'
            pi, K = c["input_gate_pre"][t], c["forget_carried"][t]
            wins = pi >= K                                                     # the max took ĩ
            dK = def_ + np.where(wins, 0.0, dmt)
            dpi = dei + np.where(wins, dmt, 0.0)
            if t == 0:                                                         # the first step's cap
                lf = c["forget_gate_pre"][0] if exp_forget else c["log_forget"][0]
                uncapped = lf + c["m_prev"][0]
                capped = (c["n_prev"][0] == 0) & (uncapped > pi)
                dpi = dpi + np.where(capped, dK, 0.0)
                dK = np.where(capped, 0.0, dK)
            dm = dK                                                            # into m(t−1)
            dP[t, :, :H] = dpi
            dP[t, :, H:2 * H] = dK if exp_forget else dK * sigmoid(-c["forget_gate_pre"][t])
        else:
            dP[t, :, :H] = di * i
            dP[t, :, H:2 * H] = df * f if exp_forget else df * f * (1.0 - f)
        dh = dP[t] @ R                                                         # into h(t−1)
    grads = None
    if params:
        grads = {"weight_ih": flat_outer(dP, c["X"]),
                 "weight_hh": compact_recurrent(flat_outer(dP, c["h_prev"]), opts["heads"]),
                 "bias": dP.sum(axis=(0, 1))}
    d0 = LayerState(h=dh, c=dc, more={"n": dn, "m": dm} if stable else {"n": dn})
    return grads, dP @ p["weight_ih"], d0, ({"h": dH, "c": dC} if states else None)
