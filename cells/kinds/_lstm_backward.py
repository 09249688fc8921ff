"""Backpropagation through time for the LSTM family: lstm, peephole, cifg, nig, nfg, nog, niaf, noaf, fgr.

Every member is Greff et al.'s peephole LSTM with parts removed or changed
(see ``cells/kinds/_lstm_core.py``). Forward at step t, for B rows at once,
with the gate blocks in PyTorch's order i, f, g, o (absent ones skipped):

    z(t)   = x W_ih^T + b_ih + b_hh + h(t-1) W_hh^T                 pre-activations, (B, G*H)
    z_f   += forget_bias
    z_ifo += q(t-1) W_gg^T,  q(t-1) = [i, f, o](t-1)                 FGR only: the gates recur
    z_i   += p_i * c(t-1),   z_f += p_f * c(t-1)                     peepholes of i and f see c(t-1)
    i = sigma(z_i)      (NIG: i = 1)
    f = sigma(z_f)      (NFG: f = 1;  CIFG: f = 1 - i)
    g = tanh(z_g)       (NIAF: g = z_g)
    c(t) = clip(f * c(t-1) + i * g, +-cell_clip)
    z_o += p_o * c(t)                                                the output peephole sees the new c(t)
    o = sigma(z_o)      (NOG: o = 1)
    s = tanh(c(t))      (NOAF: s = c(t))
    m = o * s;   h(t) = m W_hr^T with a projection, else h(t) = m

An absent gate is the constant 1 here, so one set of formulas covers the
whole family; its pre-activation simply gets no adjoint.

Reverse, with dh, dc, dq the adjoints of h(t), c(t), q(t) carried back from
step t+1 (plus the loss's wish for h(t)):

    dm  = dh W_hr  (or dh)
    do  = dm * s (+ dq_o);             dz_o = do * o (1 - o)
    dc += dm * o * (1 - s^2)  (NOAF: dm * o);   dc += dz_o * p_o
    dc *= [|c_raw| <= cell_clip]                                     no gradient where the clip bites
    di  = dc * g (+ dq_i);   dg = dc * i;   df = dc * c(t-1) (+ dq_f)
    CIFG: di -= df                                                   since f = 1 - i
    dz_i = di * i (1 - i);   dz_f = df * f (1 - f);   dz_g = dg * (1 - g^2)  (NIAF: dg)
    dc(t-1) = dc * f + dz_i * p_i + dz_f * p_f
    dh(t-1) = dz W_hh;       dq(t-1) = dz_ifo W_gg                   FGR

Weights' gradients are sums over steps of outer products (one matmul each
after the loop); the peepholes' are sums of elementwise products.
"""

from __future__ import annotations

import numpy as np

from .._math import flat_outer, flush, sigmoid
from .base import LayerState

_PEEP = (("input_gate", "weight_ci"), ("forget_gate", "weight_cf"), ("output_gate", "weight_co"))


def _layout(spec, p, opts):
    blocks = spec.blocks
    H = p["weight_hh"].shape[0] // len(blocks)
    rows = {g: slice(k * H, (k + 1) * H) for k, g in enumerate(blocks)}
    peep = {g: p[name] for g, name in _PEEP if name in p}
    return H, rows, peep


def _add_before_cell(z, cp, q_prev, Wgg, rows, peep, H):
    """The terms of the pre-activations that need more than x and h(t-1): FGR's q(t-1) W_gg^T, the peepholes on c(t-1)."""
    if q_prev is not None:                                        # FGR: z_ifo += q(t-1) W_gg^T
        rec = q_prev @ Wgg.T
        for k, g in enumerate(("input_gate", "forget_gate", "output_gate")):
            z[:, rows[g]] += rec[:, k * H:(k + 1) * H]
    for g in ("input_gate", "forget_gate"):                                 # peepholes of i, f see c(t-1)
        if g in peep:
            z[:, rows[g]] += peep[g] * cp


def forward(spec, p, opts, X, start: LayerState):
    va = spec.variant
    T, B, _ = X.shape
    H, rows, peep = _layout(spec, p, opts)
    clip = opts.get("cell_clip")
    Whr, Wgg = p.get("weight_hr"), p.get("weight_gg")
    out = Whr.shape[0] if Whr is not None else H
    Z = X @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])     # (T, B, G*H): input parts, then full pre-activations
    if "forget_gate" in rows:
        Z[..., rows["forget_gate"]] += opts.get("forget_bias") or 0.0
    Wh = p["weight_hh"].T
    Hs, C = np.empty((T + 1, B, out)), np.empty((T + 1, B, H))   # row 0: the initial state
    Hs[0], C[0] = start.h, start.c
    Gi, Gf, Gg, Go, Sq = (np.ones((T, B, H)) for _ in range(5))  # gates i, f, g, o and s; absent gates stay 1
    M = np.empty((T, B, H)) if Whr is not None else None         # m = o * s before the projection
    Mask = np.empty((T, B, H), bool) if clip is not None else None
    Q = None
    if va.gate_recurrence:
        Q = np.empty((T + 1, B, 3 * H))                          # q(t) = [i, f, o](t); row 0 from the state
        Q[0] = start.gates
    for t in range(T):
        z, cp = Z[t], C[t]
        z += Hs[t] @ Wh
        _add_before_cell(z, cp, None if Q is None else Q[t], Wgg, rows, peep, H)
        if va.input_gate:
            sigmoid(z[:, rows["input_gate"]], out=Gi[t])                # i(t)
        if va.coupled:
            np.subtract(1.0, Gi[t], out=Gf[t])                      # f(t) = 1 - i(t)
        elif va.forget_gate:
            sigmoid(z[:, rows["forget_gate"]], out=Gf[t])               # f(t)
        if va.candidate_act == "tanh":
            np.tanh(z[:, rows["candidate"]], out=Gg[t])            # g(t)
        else:
            Gg[t] = z[:, rows["candidate"]]
        c = Gf[t] * cp + Gi[t] * Gg[t]                               # f * c(t-1) + i * g
        if clip is not None:
            np.less_equal(np.abs(c), clip, out=Mask[t])
            np.clip(c, -clip, clip, out=c)
        C[t + 1] = c
        if va.output_gate:
            if "output_gate" in peep:
                z[:, rows["output_gate"]] += peep["output_gate"] * c        # the output peephole sees c(t)
            sigmoid(z[:, rows["output_gate"]], out=Go[t])               # o(t)
        if va.cell_act == "tanh":
            np.tanh(c, out=Sq[t])                                 # s = tanh(c(t))
        else:
            Sq[t] = c
        if Whr is not None:
            np.multiply(Go[t], Sq[t], out=M[t])
            np.matmul(M[t], Whr.T, out=Hs[t + 1])                 # h(t) = W_hr m
        else:
            np.multiply(Go[t], Sq[t], out=Hs[t + 1])               # h(t) = o * s
        if Q is not None:
            Q[t + 1] = np.concatenate([Gi[t], Gf[t], Go[t]], axis=-1)
    cache = {"X": X, "Z": Z, "Hs": Hs, "C": C, "Gi": Gi, "Gf": Gf, "Gg": Gg, "Go": Go, "Sq": Sq, "M": M, "Mask": Mask, "Q": Q}
    final = LayerState(h=Hs[T].copy(), c=C[T].copy(), gates=None if Q is None else Q[T].copy())
    return Hs[1:], cache, final


def backward(spec, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
    va = spec.variant
    X, Hs, C, Q, Mask = cache["X"], cache["Hs"], cache["C"], cache["Q"], cache["Mask"]
    T, S = len(X), dY.shape[1]
    H, rows, peep = _layout(spec, p, opts)
    Whr, Wgg, Whh = p.get("weight_hr"), p.get("weight_gg"), p["weight_hh"]
    out = Hs.shape[2]
    dZ = np.zeros((T, S, len(spec.blocks) * H))       # adjoints of the pre-activations; absent blocks stay 0
    dHt = np.empty((T, S, out))                        # adjoint of h(t), every step
    dCt = np.empty((T, S, H)) if states else None      # adjoint of c(t) with h(t) held fixed
    dh, dc, dq = _final_adjoints(dfinal, S, out, H, Q is not None)
    Gi, Gf, Gg, Go, Sq = cache["Gi"], cache["Gf"], cache["Gg"], cache["Go"], cache["Sq"]
    o_ds, i_dg, sig_i, sig_f, sig_o = _local_derivatives(va, Gi, Gf, Gg, Go, Sq)
    zi, zf, zg, zo = (rows.get(k) for k in ("input_gate", "forget_gate", "candidate", "output_gate"))
    has_i, has_f, has_o = va.input_gate, va.forget_gate and not va.coupled, va.output_gate
    p_i, p_f, p_o = peep.get("input_gate"), peep.get("forget_gate"), peep.get("output_gate")
    for t in range(T - 1, -1, -1):
        dz = dZ[t]
        dh += dY[t]
        dHt[t] = dh
        if states:
            dCt[t] = dc
        dm = dh @ Whr if Whr is not None else dh               # through the projection h = W_hr m
        dc += dm * o_ds[t]                                      # through m = o * s(c)
        if has_o:
            do = dm * Sq[t]
            if dq is not None:
                do += dq[:, 2 * H:]
            np.multiply(do, sig_o[t], out=dz[:, zo])            # dz_o
            if p_o is not None:
                dc += dz[:, zo] * p_o                           # the output peephole saw c(t)
        if Mask is not None:
            dc *= Mask[t]                                       # the clip passes no gradient
        np.multiply(dc, i_dg[t], out=dz[:, zg])                 # dz_g = dc i g'
        df = dc * C[t]                                          # f multiplied c(t-1)
        if dq is not None:
            df += dq[:, H:2 * H]
        if has_i:
            di = dc * Gg[t]                                     # i multiplied g
            if dq is not None:
                di += dq[:, :H]
            if va.coupled:
                di -= df                                        # f = 1 - i
            np.multiply(di, sig_i[t], out=dz[:, zi])            # dz_i
        dc_prev = dc * Gf[t]                                    # dc(t-1) through f * c(t-1)
        if has_f:
            np.multiply(df, sig_f[t], out=dz[:, zf])            # dz_f
            if p_f is not None:
                dc_prev += dz[:, zf] * p_f
        if p_i is not None:
            dc_prev += dz[:, zi] * p_i
        dh = dz @ Whh                                           # dh(t-1)
        if dq is not None:                                      # dq(t-1) = dz_ifo W_gg
            dq = flush(np.concatenate([dz[:, zi], dz[:, zf], dz[:, zo]], axis=-1) @ Wgg)
        dc = flush(dc_prev)
        flush(dh)
    grads = _param_grads(cache, dZ, dHt, rows, peep) if params else None
    dX = dZ @ p["weight_ih"]
    d0 = LayerState(h=dh, c=dc, gates=dq)
    return grads, dX, d0, ({"h": dHt, "c": dCt} if states else None)


def _final_adjoints(dfinal: LayerState | None, S: int, out: int, H: int, recur: bool):
    """dh, dc and (FGR) dq after the last step, one row per seed: what the loss wants of the final state, else 0."""
    dfinal = dfinal or LayerState(h=np.zeros(out), c=np.zeros(H), gates=np.zeros(3 * H))
    dh = np.broadcast_to(dfinal.h, (S, out)).copy()
    dc = np.broadcast_to(dfinal.c, (S, H)).copy()
    dq = np.broadcast_to(dfinal.gates if dfinal.gates is not None else 0.0, (S, 3 * H)).copy() if recur else None
    return dh, dc, dq


def _local_derivatives(va, Gi, Gf, Gg, Go, Sq):
    """The local derivatives, which depend only on the forward pass: computed for every step at once,
    so that the reverse loop does only what must wait for the adjoint of the next step."""
    o_ds = Go * (1.0 - Sq * Sq) if va.cell_act == "tanh" else Go      # dh/dc through s = tanh(c): o (1 - s^2)
    i_dg = Gi * (1.0 - Gg * Gg) if va.candidate_act == "tanh" else Gi  # dc/dz_g = i (1 - g^2)
    return o_ds, i_dg, Gi * (1.0 - Gi), Gf * (1.0 - Gf), Go * (1.0 - Go)   # sigma' = sigma (1 - sigma) for i, f, o


def _param_grads(cache: dict, dZ, dHt, rows: dict, peep: dict) -> dict[str, np.ndarray]:
    """Each weight's gradient: a sum over steps and rows of adjoint times what the weight multiplied."""
    X, Hs, C, Q = cache["X"], cache["Hs"], cache["C"], cache["Q"]
    db = dZ.sum(axis=(0, 1))
    grads = {"weight_ih": flat_outer(dZ, X), "weight_hh": flat_outer(dZ, Hs[:-1]), "bias_ih": db, "bias_hh": db.copy()}
    sees = {"input_gate": C[:-1], "forget_gate": C[:-1], "output_gate": C[1:]}   # which c each peephole multiplies
    for gate, name in _PEEP:
        if gate in peep:
            grads[name] = (dZ[..., rows[gate]] * sees[gate]).sum(axis=(0, 1))
    if cache["M"] is not None:
        grads["weight_hr"] = flat_outer(dHt, cache["M"])
    if Q is not None:
        dZq = np.concatenate([dZ[..., rows[k]] for k in ("input_gate", "forget_gate", "output_gate")], axis=-1)
        grads["weight_gg"] = flat_outer(dZq, Q[:-1])
    return grads
