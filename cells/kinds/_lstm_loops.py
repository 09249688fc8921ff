"""The two loops that run the LSTM family forward (see _lstm_core for the equations).

The plain LSTM (no peepholes, clip or projection) takes a tuned loop that
does one matrix-vector product and eight in-place NumPy calls per step;
everything else takes a general loop that is written for clarity. Both
return every glossary name as a (T, width) array and the final state.
"""

from __future__ import annotations

import numpy as np

from .. import _math
from ._scratch import BLOCK, CHUNK, ScratchPool
from .base import LayerState

# Torch block order of every possible gate, and each gate's peephole weight.
ORDER = ("input_gate", "forget_gate", "candidate", "output_gate")
PEEP = {"input_gate": "weight_ci", "forget_gate": "weight_cf", "output_gate": "weight_co"}


# ---------------------------------------------------------------------------
# The tuned loop for the plain LSTM.
#
# The sigmoid gates are computed as sigma(z) = (1 + tanh(z/2)) / 2. The
# sigmoid columns of the weights and bias are pre-scaled by 1/2, so one tanh
# call over the whole 4H pre-activation row gives tanh(z/2) for o, i, f and
# tanh(z) for g; two calls then turn the first 3H into sigmoids. Scaling by
# a power of two is exact in floating point, so multiplying the stored
# pre-activations by 2 afterwards restores them bit for bit.
#
# Scratch row j (step t0 + j) holds, in this order and each H wide:
#   o i f g | c_prev | written kept | tanh_c | h_prev
# so that [i, f] * [g, c_prev] = [written, kept] is one call, and c(t), h(t)
# are written straight into the c_prev, h_prev slots of row j + 1.
# ---------------------------------------------------------------------------

_FAST_NAMES = ("output_gate", "input_gate", "forget_gate", "candidate", "c", "written", "kept", "tanh_c", "h")
_INTERNAL = ("output_gate", "input_gate", "forget_gate", "candidate")  # internal gate-block order


class FastPlan:
    def __init__(self, p, forget_bias, dtype):
        H = p["weight_hh"].shape[1]
        scale = np.array([0.5, 0.5, 0.5, 1.0])[:, None]  # o, i, f sigmoid (halved), g tanh
        rows = {g: slice(k * H, (k + 1) * H) for k, g in enumerate(ORDER)}

        def blocks(m):  # (4H, ...) in torch order -> (4H, ...) in internal order, sigmoid rows halved
            return np.concatenate([m[rows[g]] * scale[k] if m.ndim == 1 else m[rows[g]] * scale[k][:, None]
                                   for k, g in enumerate(_INTERNAL)])

        bias = p["bias_ih"] + p["bias_hh"]
        bias[rows["forget_gate"]] += forget_bias
        self.Wx = np.ascontiguousarray(blocks(p["weight_ih"]).T, dtype=dtype)  # (I, 4H)
        self.b = blocks(bias).astype(dtype)                                     # (4H,)
        self.Wh = np.ascontiguousarray(blocks(p["weight_hh"]).T, dtype=dtype)  # (H, 4H)
        self.unscale = np.array([2.0, 2.0, 2.0, 1.0], dtype)[:, None, None]
        self.H, self.dtype = H, np.dtype(dtype)


def _build_fast_scratch(H, dtype):
    K = CHUNK
    S = np.zeros((K + 1, 9 * H), dtype)
    P = np.empty((BLOCK, 4 * H), dtype)  # input projections of up to BLOCK steps, then pre-activations
    tmp = np.empty(4 * H, dtype)
    halves = np.full(3 * H, 0.5, dtype)
    a = [k * H for k in range(10)]
    views = []
    for j in range(K):
        r, n = S[j], S[j + 1]
        views.append((
            r[a[8]:a[9]].dot, r[:a[4]], r[:a[3]],      # h_prev.dot (bound once: saves a dispatch per step), gates, sigmoid gates
            r[a[1]:a[3]], r[a[3]:a[5]], r[a[5]:a[7]],  # [i, f], [g, c_prev], [written, kept]
            n[a[4]:a[5]], r[a[5]:a[6]], r[a[6]:a[7]],  # c(t) (into next row), written, kept
            r[a[7]:a[8]], r[:a[1]], n[a[8]:a[9]],      # tanh_c, o, h(t) (into next row)
        ))
    return S, P, tmp, halves, views


_FAST_POOL = ScratchPool(_build_fast_scratch)


def forward_fast(plan: FastPlan, xs: np.ndarray, state: LayerState):
    T, H, K = len(xs), plan.H, CHUNK
    pre = np.empty((4, T, H), plan.dtype)      # name-major pre-activations
    blk = np.empty((9, T + 1, H), plan.dtype)  # name-major; c and h rows are shifted by one step
    Wh, Wx, b, unscale = plan.Wh, plan.Wx, plan.b, plan.unscale
    add, mul, tanh = np.add, np.multiply, np.tanh
    with _FAST_POOL.borrow(H, plan.dtype) as (S, P, tmp, halves, views):
        S[0, 4 * H:5 * H] = state.c
        S[0, 8 * H:] = state.h
        for b0 in range(0, T, BLOCK):
            nb = min(BLOCK, T - b0)
            np.matmul(xs[b0:b0 + nb], Wx, out=P[:nb])  # every step's input projection in one GEMM
            add(P[:nb], b, P[:nb])
            for c0 in range(0, nb, K):
                k, t0 = min(K, nb - c0), b0 + c0
                for (hp_dot, a, s, i_f, g_cp, w_k, c, w, kp, tc, o, hn), z in zip(views, P[c0:c0 + k]):
                    hp_dot(Wh, tmp)     # W_h· h(t-1) for all four blocks
                    add(z, tmp, z)      # pre-activations (sigmoid blocks at half scale)
                    tanh(z, a)          # tanh(z/2) for o, i, f and tanh(z) = g
                    mul(s, halves, s)
                    add(s, halves, s)   # o, i, f = (1 + tanh(z/2)) / 2
                    mul(i_f, g_cp, w_k)  # written = i*g, kept = f*c(t-1)
                    add(w, kp, c)       # c(t) = kept + written
                    tanh(c, tc)         # tanh(c(t))
                    mul(o, tc, hn)      # h(t) = o * tanh(c(t))
                mul(P[c0:c0 + k].reshape(k, 4, H).transpose(1, 0, 2), unscale, out=pre[:, t0:t0 + k])
                np.copyto(blk[:, t0:t0 + k], S[:k].reshape(k, 9, H).transpose(1, 0, 2))
                S[0] = S[k]
        np.copyto(blk[:, T], S[0].reshape(9, H))
    blk[[0, 1, 2, 3, 5, 6, 7], T] = 0.0  # the extra row only matters for the shifted states
    out = {name: blk[k, :T] for k, name in enumerate(_FAST_NAMES)}
    out["c_prev"], out["c"] = blk[4, :T], blk[4, 1:]
    out["h_prev"], out["h"] = blk[8, :T], blk[8, 1:]
    for k, g in enumerate(_INTERNAL):
        out[f"{g}_pre"] = pre[k]
    return out, LayerState(h=blk[8, T].copy(), c=blk[4, T].copy())


# ---------------------------------------------------------------------------
# The general loop: peepholes, cell clip, projection and Greff's variants.
# ---------------------------------------------------------------------------

class GeneralPlan:
    def __init__(self, kind, p, opts, dtype):
        va = kind.variant
        self.va, self.blocks = va, kind.blocks
        H = p["weight_hh"].shape[0] // len(self.blocks)
        self.H, self.dtype = H, np.dtype(dtype)
        bias = p["bias_ih"] + p["bias_hh"]
        if "forget_gate" in self.blocks:
            k = self.blocks.index("forget_gate")
            bias[k * H:(k + 1) * H] += opts.get("forget_bias") or 0.0
        self.Wx = np.ascontiguousarray(p["weight_ih"].T, dtype=dtype)  # (I, G*H)
        self.Wh = np.ascontiguousarray(p["weight_hh"].T, dtype=dtype)  # (out, G*H)
        self.b = bias.astype(dtype)
        self.rows = {g: slice(k * H, (k + 1) * H) for k, g in enumerate(self.blocks)}
        self.peep = {g: p[PEEP[g]].astype(dtype) for g in self.blocks if PEEP.get(g) in p}
        self.Whr = np.ascontiguousarray(p["weight_hr"].T, dtype=dtype) if "weight_hr" in p else None  # (H, P)
        self.Wgg = np.ascontiguousarray(p["weight_gg"].T, dtype=dtype) if "weight_gg" in p else None  # (3H, 3H)
        self.clip = opts.get("cell_clip")
        self.cand = _math.ACTIVATIONS[va.candidate_act]
        self.out_size = self.Whr.shape[1] if self.Whr is not None else H


def forward_general(plan: GeneralPlan, xs: np.ndarray, state: LayerState):
    va, H, T, dt, rows = plan.va, plan.H, len(xs), plan.dtype, plan.rows
    sig = _math.sigmoid
    Z = xs @ plan.Wx + plan.b                   # (T, G*H): input projections, then full pre-activations
    C = np.empty((T + 1, H), dt)                # c_prev = C[:-1], c = C[1:]
    Hs = np.empty((T + 1, plan.out_size), dt)   # h_prev = Hs[:-1], h = Hs[1:]
    C[0], Hs[0] = state.c, state.h
    gates = {g: np.empty((T + 1, H), dt) for g in ("input_gate", "forget_gate", "output_gate")}  # row t+1 is step t
    gates["candidate"] = np.empty((T, H), dt)
    for g in ("input_gate", "forget_gate", "output_gate"):
        gates[g][0] = 0.0
    if va.gate_recurrence:
        gates["input_gate"][0], gates["forget_gate"][0], gates["output_gate"][0] = np.split(state.gates, 3)
    kept, written = np.empty((T, H), dt), np.empty((T, H), dt)
    squashed = np.empty((T, H), dt) if va.cell_act == "tanh" else None
    exposed = np.empty((T, H), dt) if plan.Whr is not None else None
    for t in range(T):
        z, cp = Z[t], C[t]
        z += Hs[t] @ plan.Wh
        if va.gate_recurrence:                   # FGR: z_{i,f,o} += R [i, f, o](t-1)
            prev = np.concatenate([gates["input_gate"][t], gates["forget_gate"][t], gates["output_gate"][t]])
            rec = prev @ plan.Wgg
            for k, g in enumerate(("input_gate", "forget_gate", "output_gate")):
                z[rows[g]] += rec[k * H:(k + 1) * H]
        for g in ("input_gate", "forget_gate"):            # peepholes of i and f look at c(t-1)
            if g in plan.peep:
                z[rows[g]] += plan.peep[g] * cp
        i = sig(z[rows["input_gate"]], out=gates["input_gate"][t + 1]) if va.input_gate else None
        if va.coupled:
            f = np.subtract(1.0, i, out=gates["forget_gate"][t + 1])
        elif va.forget_gate:
            f = sig(z[rows["forget_gate"]], out=gates["forget_gate"][t + 1])
        g_ = plan.cand(z[rows["candidate"]], out=gates["candidate"][t])
        if va.forget_gate:
            np.multiply(f, cp, out=kept[t])
        else:
            kept[t] = cp
        if va.input_gate:
            np.multiply(i, g_, out=written[t])
        else:
            written[t] = g_
        c = np.add(kept[t], written[t], out=C[t + 1])
        if plan.clip is not None:
            np.clip(c, -plan.clip, plan.clip, out=c)
        sq = np.tanh(c, out=squashed[t]) if squashed is not None else c
        if va.output_gate:
            if "output_gate" in plan.peep:            # the output gate's peephole looks at the new c(t)
                z[rows["output_gate"]] += plan.peep["output_gate"] * c
            o = sig(z[rows["output_gate"]], out=gates["output_gate"][t + 1])
            m = np.multiply(o, sq, out=exposed[t] if exposed is not None else Hs[t + 1])
        else:
            m = exposed[t] if exposed is not None else Hs[t + 1]
            m[...] = sq
        if plan.Whr is not None:
            np.dot(m, plan.Whr, out=Hs[t + 1])
    return _general_outputs(plan, Z, C, Hs, gates, kept, written, squashed, exposed)


def _general_outputs(plan: GeneralPlan, Z, C, Hs, gates, kept, written, squashed, exposed):
    """The general loop's arrays under their glossary names, and the final state."""
    va, T, rows = plan.va, len(Z), plan.rows
    out = {"c_prev": C[:-1], "c": C[1:], "h_prev": Hs[:-1], "h": Hs[1:], "kept": kept, "written": written,
           "candidate": gates["candidate"]}
    present = {"input_gate": va.input_gate, "forget_gate": va.forget_gate or va.coupled, "output_gate": va.output_gate}
    for g in ("input_gate", "forget_gate", "output_gate"):
        if present[g]:
            out[g] = gates[g][1:]
        if va.gate_recurrence:
            out[f"{g}_prev"] = gates[g][:-1]
    for g in plan.blocks:
        out[f"{g}_pre"] = np.ascontiguousarray(Z[:, rows[g]])
    if squashed is not None:
        out["tanh_c"] = squashed
    if exposed is not None:
        out["exposed"] = exposed
    final_gates = np.concatenate([gates["input_gate"][T], gates["forget_gate"][T], gates["output_gate"][T]]) if va.gate_recurrence else None
    return out, LayerState(h=Hs[T].copy(), c=C[T].copy(), gates=final_gates)
