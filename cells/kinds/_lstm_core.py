"""The LSTM family: the computation shared by lstm, peephole and Greff's variants.

Every member is the peephole LSTM of Greff et al. (2017) with parts removed
or changed; a :class:`Variant` says which. For one step, with sigma the
logistic function and * the elementwise product:

    i(t) = sigma(W_ii x + b_ii + W_hi h(t-1) + b_hi [+ p_i * c(t-1)])   input gate
    f(t) = sigma(W_if x + b_if + W_hf h(t-1) + b_hf [+ p_f * c(t-1)])   forget gate
    g(t) = tanh (W_ig x + b_ig + W_hg h(t-1) + b_hg)                     candidate
    kept(t)    = f(t) * c(t-1)
    written(t) = i(t) * g(t)
    c(t) = kept(t) + written(t)            [clipped to +-cell_clip]
    o(t) = sigma(W_io x + b_io + W_ho h(t-1) + b_ho [+ p_o * c(t)])      output gate
    h(t) = o(t) * tanh(c(t))               [then W_hr @ h(t) with a projection]

Shapes: x (I,), h (H,) or (P,) with a projection, c and every gate (H,).
Parameters (torch layout): weight_ih (G*H, I), weight_hh (G*H, P or H),
bias_ih and bias_hh (G*H,), with the G gate blocks in PyTorch's order
i, f, g, o (absent gates skipped); peepholes weight_ci, weight_cf,
weight_co (H,); projection weight_hr (P, H); for FGR weight_gg (3H, 3H).

Two loops compute it. The plain LSTM (no peepholes, clip or projection)
takes a tuned loop that does one matrix-vector product and eight in-place
NumPy calls per step; everything else takes a general loop that is written
for clarity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _math
from ..backprop import lstm as backprop
from ..spec import Name, Option, Phase, Vocabulary
from . import _vocab as v
from ._grid import ACT, MID, PRE, TOP
from ._scratch import BLOCK, CHUNK, ScratchPool
from .base import Kind, LayerState

# Torch block order of every possible gate, and each block's short letter and symbol.
_ORDER = ("input", "forget", "candidate", "output")
_LETTER = {"input": "i", "forget": "f", "candidate": "g", "output": "o"}   # PyTorch's weight names: W_ii, W_hg, ...
_SYMBOL = {"input": "i", "forget": "f", "candidate": "c̃", "output": "o"}   # the article's symbols: c̃ for the candidate
_PEEP = {"input": "weight_ci", "forget": "weight_cf", "output": "weight_co"}


@dataclass(frozen=True)
class Variant:
    """Which parts of Greff's vanilla LSTM a kind keeps."""

    input_gate: bool = True        # NIG: False, i = 1
    forget_gate: bool = True       # NFG: False, f = 1
    coupled: bool = False          # CIFG: f = 1 - i, no forget-gate weights
    output_gate: bool = True       # NOG: False, o = 1
    candidate_act: str = "tanh"    # NIAF: "identity"
    cell_act: str = "tanh"         # NOAF: "identity"
    gate_recurrence: bool = False  # FGR: gates see the previous step's i, f, o


PHASES = {
    "inputs": v.INPUTS,
    "forget": Phase("forget", "Forget gate", "f(t) decides how much of each unit of c(t−1) to keep."),
    "input": Phase("input", "Input gate and candidate", "The candidate c̃(t) proposes new values; i(t) decides how much of each to write."),
    "update": Phase("update", "Cell-state update", "c(t) = f(t) ⊙ c(t−1) + i(t) ⊙ c̃(t): keep part of the old state, add part of the new."),
    "output": Phase("output", "Output gate", "o(t) decides how much of tanh(c(t)) to expose as h(t)."),
}

COMMON_OPTIONS = (
    Option("forget_bias", 0.0, "Added to the forget gate's pre-activation at run time (TensorFlow v1 uses 1.0).", float),
    Option("cell_clip", None, "Clip c(t) to ±cell_clip after each update (TensorFlow v1's cell_clip); null for no clip.", float,
           minimum=0.0, nullable=True),
)
PROJ_OPTION = Option("proj_size", 0, "Size of the projection h(t) = W_hr (o ⊙ tanh c(t)); 0 for none (PyTorch's proj_size).", int, minimum=0)
PEEPHOLE_OPTION = Option("peepholes", True, "Give the gates peephole connections to the cell state, as in Greff et al.'s vanilla LSTM.", bool)


# Where each name sits in the diagram: the cell state runs along the top, the four gates in a row below it.
POSITIONS = {
    "x": (2.2, 0.5), "h_prev": (0.9, 1.5), "c_prev": (0.9, TOP),
    "input_prev": (0.9, 3.2), "forget_prev": (0.9, 4.2), "output_prev": (0.9, 5.2),
    "forget_pre": (3.0, PRE), "forget": (3.0, ACT),
    "input_pre": (5.0, PRE), "input": (5.0, ACT),
    "candidate_pre": (7.0, PRE), "candidate": (7.0, ACT),
    "kept": (3.0, TOP), "written": (6.0, MID), "c": (8.4, TOP),
    "output_pre": (9.6, PRE), "output": (9.6, ACT),
    "tanh_c": (11.4, MID), "exposed": (11.4, ACT), "h": (12.6, 2.6),
}
NO_PROJ_POSITIONS = {**POSITIONS, "h": (11.4, ACT)}  # without a projection h(t) takes the place of m(t)

TF1_BLOCKS = (0, 2, 1, 3)  # TensorFlow v1 stores i, j, f, o (j: the candidate) where torch stores i, f, g, o


class LSTMFamily(Kind):
    variant = Variant()
    has_cell = True
    #: True: always peepholes; False: never; None: the ``peepholes`` option decides.
    fixed_peepholes: bool | None = False
    block_order = {"tf1": TF1_BLOCKS}  # used only by the kinds that list the tf1 layout (all four blocks)
    backprop = backprop
    state_line = ("c_prev", "kept", "c")

    @property
    def recurrent_gates(self) -> bool:
        return self.variant.gate_recurrence

    @property
    def remember_block(self) -> str | None:  # type: ignore[override]
        return "forget" if "forget" in self.blocks else None

    def positions(self, vocab):
        return POSITIONS if "exposed" in vocab else NO_PROJ_POSITIONS

    def memory_roles(self, vocab):
        return {"mem": "c", "what": "cell state", "keep": "forget" if "forget" in vocab else None, "keep_sym": "forget gate f",
                "write": "input" if "input" in vocab else None, "write_sym": "input gate i", "written": "i ⊙ c̃"}

    def assumed(self, layout, opts, has_bias):
        out = {}
        if layout == "tf1":
            if "forget_bias" not in opts:
                out["forget_bias"] = ("1.0 (TensorFlow's LSTMCell default, added at run time; not readable from the weights; "
                                      "pass forget_bias= if the cell was built with another)")
            if "cell_clip" not in opts:
                out["cell_clip"] = "none (not readable from the weights; pass cell_clip= for LSTMCell(cell_clip=...))"
        return {**out, **super().assumed(layout, opts, has_bias)}

    # -- structure -------------------------------------------------------
    @property
    def blocks(self) -> tuple[str, ...]:  # type: ignore[override]
        va = self.variant
        keep = {"input": va.input_gate, "forget": va.forget_gate and not va.coupled, "candidate": True, "output": va.output_gate}
        return tuple(g for g in _ORDER if keep[g])

    def peepholes(self, opts: dict) -> bool:
        return self.fixed_peepholes if self.fixed_peepholes is not None else bool(opts.get("peepholes"))

    def param_shapes(self, input_size, hidden_size, opts):
        shapes = super().param_shapes(input_size, hidden_size, opts)
        if self.peepholes(opts):
            for gate in self.blocks:
                if gate in _PEEP:
                    shapes[_PEEP[gate]] = (hidden_size,)
        if opts.get("proj_size"):
            shapes["weight_hr"] = (opts["proj_size"], hidden_size)
        if self.variant.gate_recurrence:
            shapes["weight_gg"] = (3 * hidden_size, 3 * hidden_size)
        return shapes

    def zero_state(self, hidden_size, opts, dtype):
        state = super().zero_state(hidden_size, opts, dtype)
        if self.variant.gate_recurrence:
            state.gates = np.zeros(3 * hidden_size, dtype)
        return state

    # -- vocabulary ------------------------------------------------------
    def vocabulary(self, opts: dict) -> Vocabulary:
        va, peep, proj = self.variant, self.peepholes(opts), bool(opts.get("proj_size"))
        fb, clip = opts.get("forget_bias") or 0.0, opts.get("cell_clip")
        recur = ("input_prev", "forget_prev", "output_prev") if va.gate_recurrence else ()
        names: list[Name] = [v.x(), v.h_prev("real" if proj or va.cell_act == "identity" else "signed", "proj" if proj else "hidden"), v.c_prev()]
        for g in ("input", "forget", "output"):
            if va.gate_recurrence:
                names.append(Name(f"{g}_prev", f"previous {g} gate {_LETTER[g]}(t−1)", f"{_LETTER[g]}(t−1)", "state_in", "unit", "shift", (g,),
                                  f"{_LETTER[g]}(t−1): the {g} gate of the previous step (0 at t = 0)", f"{_LETTER[g]}_{{t-1}}", "inputs"))

        def gate_pre(g: str, phase: str) -> Name:
            extra, tex, ins = "", "", ["x", "h_prev"]
            if peep and g in ("input", "forget"):
                extra, tex = f" + p_{_LETTER[g]} ⊙ c(t−1)", rf" + p_{_LETTER[g]} \odot c_{{t-1}}"
                ins.append("c_prev")
            if peep and g == "output":
                extra, tex = " + p_o ⊙ c(t)", r" + p_o \odot c_t"
                ins.append("c")
            if g == "forget" and fb:
                extra, tex = extra + f" + {fb:g} (forget_bias)", tex + f" + {fb:g}"
            if va.gate_recurrence and g != "candidate":
                extra, tex = extra + f" + R_{_LETTER[g]}·[i(t−1), f(t−1), o(t−1)]", tex + rf" + R_{_LETTER[g]} [i_{{t-1}}, f_{{t-1}}, o_{{t-1}}]"
                ins.extend(recur)
            return v.pre(g, _SYMBOL[g], _LETTER[g], phase, tuple(ins), extra, tex)

        if va.forget_gate and not va.coupled:
            names += [gate_pre("forget", "forget"), v.act("forget", "forget gate f(t)", "f(t)", "sigmoid", "forget")]
        if va.input_gate:
            names += [gate_pre("input", "input"), v.act("input", "input gate i(t)", "i(t)", "sigmoid", "input")]
        names += [gate_pre("candidate", "input"), v.act("candidate", "candidate c̃(t)", "c̃(t)", va.candidate_act, "input", role="candidate")]
        if va.coupled:
            names.append(v.one_minus("forget", "forget gate f(t) = 1 − i(t)", "f(t)", "input", "i(t)", "forget"))
        if va.forget_gate:
            names.append(v.product("kept", "kept f(t) ⊙ c(t−1)", "kept(t)", "forget", "c_prev", "f(t)", "c(t−1)", "update"))
        else:
            names.append(v.same("kept", "kept = c(t−1) (no forget gate)", "kept(t)", "c_prev", "c(t−1)", "update", "product"))
        if va.input_gate:
            names.append(v.product("written", "written i(t) ⊙ c̃(t)", "written(t)", "input", "candidate", "i(t)", "c̃(t)", "update"))
        else:
            names.append(v.same("written", "written = c̃(t) (no input gate)", "written(t)", "candidate", "c̃(t)", "update", "product"))
        names.append(v.total("c", "cell state c(t)", "c(t)", "kept", "written", "kept(t)", "written(t)", "update", clip=clip))
        if va.output_gate:
            names += [gate_pre("output", "output"), v.act("output", "output gate o(t)", "o(t)", "sigmoid", "output")]
        squashed = "c"
        if va.cell_act == "tanh":
            names.append(Name("tanh_c", "tanh(c(t))", "tanh(c(t))", "product", "signed", "tanh", ("c",), "tanh(c(t))", r"\tanh(c_t)", "output"))
            squashed = "tanh_c"
        ss = {"c": "c(t)", "tanh_c": "tanh(c(t))"}[squashed]
        target = "exposed" if proj else "h"
        label = "exposed o(t) ⊙ tanh(c(t))" if proj else "hidden state h(t)"
        role = "product" if proj else "output"
        rng = "signed" if squashed == "tanh_c" else "real"
        sym = "m(t)" if proj else "h(t)"
        if va.output_gate:
            names.append(v.product(target, label, sym, "output", squashed, "o(t)", ss, "output", role=role, rng=rng))
        else:
            names.append(v.same(target, label, sym, squashed, ss, "output", role, rng, " (no output gate)"))
        if proj:
            names.append(Name("h", "hidden state h(t) (projected)", "h(t)", "output", "real", "affine", ("exposed",),
                              "h(t) = W_hr·m(t)", r"h_t = W_{hr} m_t", "output", "proj"))
        phases = ["inputs"] + [p for p in ("forget", "input") if any(n.phase == p for n in names)]
        if va.coupled:
            phases = ["inputs", "input", "forget"]
        return Vocabulary(tuple(names), tuple(PHASES[p] for p in phases + ["update", "output"]))

    # -- computation -----------------------------------------------------
    def compile(self, params, opts, dtype):
        if self._is_plain(opts):
            return _FastPlan(params, opts.get("forget_bias") or 0.0, dtype)
        return _GeneralPlan(self, params, opts, dtype)

    def _is_plain(self, opts) -> bool:
        return (self.variant == Variant() and not self.peepholes(opts) and opts.get("cell_clip") is None
                and not opts.get("proj_size"))

    def forward(self, plan, xs, state):
        if isinstance(plan, _FastPlan):
            return _forward_fast(plan, xs, state)
        return _forward_general(plan, xs, state)


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

_FAST_NAMES = ("output", "input", "forget", "candidate", "c", "written", "kept", "tanh_c", "h")
_INTERNAL = ("output", "input", "forget", "candidate")  # internal gate-block order


class _FastPlan:
    def __init__(self, p, forget_bias, dtype):
        H = p["weight_hh"].shape[1]
        scale = np.array([0.5, 0.5, 0.5, 1.0])[:, None]  # o, i, f sigmoid (halved), g tanh
        rows = {g: slice(k * H, (k + 1) * H) for k, g in enumerate(_ORDER)}

        def blocks(m):  # (4H, ...) in torch order -> (4H, ...) in internal order, sigmoid rows halved
            return np.concatenate([m[rows[g]] * scale[k] if m.ndim == 1 else m[rows[g]] * scale[k][:, None]
                                   for k, g in enumerate(_INTERNAL)])

        bias = p["bias_ih"] + p["bias_hh"]
        bias[rows["forget"]] += forget_bias
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


def _forward_fast(plan: _FastPlan, xs: np.ndarray, state: LayerState):
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

class _GeneralPlan:
    def __init__(self, kind: LSTMFamily, p, opts, dtype):
        va = kind.variant
        self.va, self.blocks = va, kind.blocks
        H = p["weight_hh"].shape[0] // len(self.blocks)
        self.H, self.dtype = H, np.dtype(dtype)
        bias = p["bias_ih"] + p["bias_hh"]
        if "forget" in self.blocks:
            k = self.blocks.index("forget")
            bias[k * H:(k + 1) * H] += opts.get("forget_bias") or 0.0
        self.Wx = np.ascontiguousarray(p["weight_ih"].T, dtype=dtype)  # (I, G*H)
        self.Wh = np.ascontiguousarray(p["weight_hh"].T, dtype=dtype)  # (out, G*H)
        self.b = bias.astype(dtype)
        self.rows = {g: slice(k * H, (k + 1) * H) for k, g in enumerate(self.blocks)}
        self.peep = {g: p[_PEEP[g]].astype(dtype) for g in self.blocks if _PEEP.get(g) in p}
        self.Whr = np.ascontiguousarray(p["weight_hr"].T, dtype=dtype) if "weight_hr" in p else None  # (H, P)
        self.Wgg = np.ascontiguousarray(p["weight_gg"].T, dtype=dtype) if "weight_gg" in p else None  # (3H, 3H)
        self.clip = opts.get("cell_clip")
        self.cand = _math.ACTIVATIONS[va.candidate_act]
        self.out_size = self.Whr.shape[1] if self.Whr is not None else H


def _forward_general(plan: _GeneralPlan, xs: np.ndarray, state: LayerState):
    va, H, T, dt, rows = plan.va, plan.H, len(xs), plan.dtype, plan.rows
    sig = _math.sigmoid
    Z = xs @ plan.Wx + plan.b                   # (T, G*H): input projections, then full pre-activations
    C = np.empty((T + 1, H), dt)                # c_prev = C[:-1], c = C[1:]
    Hs = np.empty((T + 1, plan.out_size), dt)   # h_prev = Hs[:-1], h = Hs[1:]
    C[0], Hs[0] = state.c, state.h
    gates = {g: np.empty((T + 1, H), dt) for g in ("input", "forget", "output")}  # row t+1 is step t
    gates["candidate"] = np.empty((T, H), dt)
    for g in ("input", "forget", "output"):
        gates[g][0] = 0.0
    if va.gate_recurrence:
        gates["input"][0], gates["forget"][0], gates["output"][0] = np.split(state.gates, 3)
    kept, written = np.empty((T, H), dt), np.empty((T, H), dt)
    squashed = np.empty((T, H), dt) if va.cell_act == "tanh" else None
    exposed = np.empty((T, H), dt) if plan.Whr is not None else None
    for t in range(T):
        z, cp = Z[t], C[t]
        z += Hs[t] @ plan.Wh
        if va.gate_recurrence:                   # FGR: z_{i,f,o} += R [i, f, o](t-1)
            prev = np.concatenate([gates["input"][t], gates["forget"][t], gates["output"][t]])
            rec = prev @ plan.Wgg
            for k, g in enumerate(("input", "forget", "output")):
                z[rows[g]] += rec[k * H:(k + 1) * H]
        for g in ("input", "forget"):            # peepholes of i and f look at c(t-1)
            if g in plan.peep:
                z[rows[g]] += plan.peep[g] * cp
        i = sig(z[rows["input"]], out=gates["input"][t + 1]) if va.input_gate else None
        if va.coupled:
            f = np.subtract(1.0, i, out=gates["forget"][t + 1])
        elif va.forget_gate:
            f = sig(z[rows["forget"]], out=gates["forget"][t + 1])
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
            if "output" in plan.peep:            # the output gate's peephole looks at the new c(t)
                z[rows["output"]] += plan.peep["output"] * c
            o = sig(z[rows["output"]], out=gates["output"][t + 1])
            m = np.multiply(o, sq, out=exposed[t] if exposed is not None else Hs[t + 1])
        else:
            m = exposed[t] if exposed is not None else Hs[t + 1]
            m[...] = sq
        if plan.Whr is not None:
            np.dot(m, plan.Whr, out=Hs[t + 1])
    out = {"c_prev": C[:-1], "c": C[1:], "h_prev": Hs[:-1], "h": Hs[1:], "kept": kept, "written": written,
           "candidate": gates["candidate"]}
    for g in ("input", "forget", "output"):
        present = (g == "input" and va.input_gate) or (g == "forget" and (va.forget_gate or va.coupled)) or (g == "output" and va.output_gate)
        if present:
            out[g] = gates[g][1:]
        if va.gate_recurrence:
            out[f"{g}_prev"] = gates[g][:-1]
    for g in plan.blocks:
        out[f"{g}_pre"] = np.ascontiguousarray(Z[:, rows[g]])
    if squashed is not None:
        out["tanh_c"] = squashed
    if exposed is not None:
        out["exposed"] = exposed
    final_gates = np.concatenate([gates["input"][T], gates["forget"][T], gates["output"][T]]) if va.gate_recurrence else None
    return out, LayerState(h=Hs[T].copy(), c=C[T].copy(), gates=final_gates)
