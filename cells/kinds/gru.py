"""gru: the gated recurrent unit of PyTorch's nn.GRU and cuDNN (Cho et al. 2014, as PyTorch computes it).

    r(t) = σ(W_ir x(t) + b_ir + W_hr h(t-1) + b_hr)                   reset gate
    z(t) = σ(W_iz x(t) + b_iz + W_hz h(t-1) + b_hz)                   update gate
    n(t) = tanh(W_in x(t) + b_in + r(t) ⊙ (W_hn h(t-1) + b_hn))        candidate
    h(t) = (1 - z(t)) ⊙ n(t) + z(t) ⊙ h(t-1)

The reset gate acts AFTER the recurrent matmul, and b_hn sits inside it,
so the two biases cannot be folded together. With reset_after=False the
candidate is Cho et al.'s original (and Keras' reset_after=False):

    n(t) = tanh(W_in x(t) + b_in + W_hn (r(t) ⊙ h(t-1)) + b_hn)

For the same weights the two differ by ~0.1, not by rounding. Note that
z(t) here weights the OLD state: colah's diagram and the article write
h(t) = (1 - z) ⊙ h(t-1) + z ⊙ h~(t), with z weighting the new candidate.

Shapes: x (I,), h (H,); weight_ih (3H, I), weight_hh (3H, H), bias_ih and
bias_hh (3H,), blocks in PyTorch's order r, z, n (Keras orders z, r, h).

The backward pass (tape_forward, tape_backward; cells.backprop batches it):

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

from .. import _math
from .._math import flat_outer, flush, sigmoid
from ..errors import OptionError
from ..spec import Glossary, Name, Option, Phase
from . import _glossary as v
from ._grid import GATED, GATED_STATE_LINE, GATED_TORCH
from .base import Kind, LayerState

PHASES = (
    v.GIVEN,
    Phase("reset", "Reset gate", "r(t) decides how much of the previous state the candidate may use.",
          {"title": "重置门", "text": "r(t) 决定候选值可以用上一步状态的多少。"}),
    Phase("candidate", "Candidate", "The candidate n(t) is built from x(t) and the reset-gated previous state.",
          {"title": "候选值", "text": "候选值 n(t) 由 x(t) 和经过重置门的上一步状态构成。"}),
    Phase("update", "Update", "z(t) blends the old state and the candidate: h(t) = (1 − z(t)) ⊙ n(t) + z(t) ⊙ h(t−1).",
          {"title": "更新", "text": "z(t) 混合旧状态和候选值：h(t) = (1 − z(t)) ⊙ n(t) + z(t) ⊙ h(t−1)。"}),
)


def blend_names(gate: str, sym: str, phase: str) -> list[Name]:
    """The GRU's last step: h(t) as a blend of h(t-1) and the candidate, weighted by z(t)."""
    comp = gate.replace("_gate", "_complement")  # update_gate -> update_complement, 1 − z(t)
    return [
        v.one_minus(comp, f"{comp.replace('_', ' ')} 1 − {sym}", f"1 − {sym}", gate, sym, phase, zh=f"{v.GATE_ZH[gate]}的补 1 − {sym}"),
        v.product("kept", f"kept {sym} ⊙ h(t−1)", "kept(t)", gate, "h_prev", sym, "h(t−1)", phase, zh=f"保留部分 {sym} ⊙ h(t−1)"),
        v.product("written", f"written (1 − {sym}) ⊙ n(t)", "written(t)", comp, "candidate", f"1 − {sym}", "n(t)", phase,
                  zh=f"写入部分 (1 − {sym}) ⊙ n(t)"),
        v.total("h", "hidden state h(t)", "h(t)", "kept", "written", "kept(t)", "written(t)", phase, role="output", zh="隐藏状态 h(t)"),
    ]


class GRU(Kind):
    name = "gru"
    title = "GRU"
    summary = "Gated recurrent unit: reset and update gates, no separate cell state (PyTorch nn.GRU, Keras GRU)."
    zh = {"title": "GRU（门控循环单元）",
          "summary": "门控循环单元：有重置门和更新门，没有单独的细胞状态（PyTorch 的 nn.GRU，Keras 的 GRU）。",
          "removed": "一个更新门做遗忘门和输入门的工作；没有输出门，除 h 之外没有细胞状态。"}
    simplifies = ("lstm", "One update gate does the forget and input gates' work; no output gate, no cell state apart from h.")
    reference = "Cho et al. 2014, 'Learning phrase representations using RNN encoder-decoder', EMNLP; arXiv:1406.1078"
    blocks = ("reset_gate", "update_gate", "candidate")
    options = (Option("reset_after", True, "Apply the reset gate after the recurrent matmul (PyTorch, cuDNN, Keras default); "
                      "false for Cho et al.'s original form.", bool,
                      zh={"doc": "在循环矩阵乘法之后施加重置门（PyTorch、cuDNN 和 Keras 的默认做法）；false 表示 Cho 等人的原始形式。"}),)
    layouts = ("torch", "keras", "onnx")
    block_order = {"keras": (1, 0, 2), "onnx": (1, 0, 2)}   # Keras and ONNX store z, r, h
    onnx_activations = {("sigmoid", "tanh"): {}}            # ONNX's f (the gates) and g (the candidate)
    onnx_flags = {"linear_before_reset": "reset_after"}     # 1: r(t) ⊙ (R_h h(t-1) + Rb_h), torch's form; 0 (ONNX's default): Cho's
    state_line = GATED_STATE_LINE
    clamp_terms = {"candidate_pre": {"reset_recurrent": (None, None, "identity"),           # + r(t) ⊙ (W_hn·h(t−1) + b_hn)
                                     "reset_hidden": ("weight_hh", "candidate", "matmul")}}  # + W_hn·(r(t) ⊙ h(t−1))

    def two_biases(self, layout, opts):
        return layout == "keras" and bool(opts.get("reset_after"))  # b_hn sits inside r(t) ⊙ (...), so it cannot join b_in

    def options_from_bias(self, layout, bias_ndim):
        return {"reset_after": bias_ndim == 2} if layout == "keras" else {}  # only reset_after=True has a (2, 3H) bias

    def assumed(self, layout, opts, has_bias):
        out = super().assumed(layout, opts, has_bias)
        if layout == "keras" and not has_bias and "reset_after" not in opts:
            out["reset_after"] = "true (Keras' default; without a bias the weights cannot say; pass reset_after=false for GRU(reset_after=False))"
        if layout == "onnx" and "reset_after" not in opts:  # arrays in the onnx layout, not an .onnx file (its node says)
            out["reset_after"] = ("true (linear_before_reset=1, as torch.onnx.export writes it; not readable from the weights; "
                                  "pass reset_after=false for linear_before_reset=0)")
        return out

    def check_file_options(self, layout, opts):
        if layout == "torch" and opts["reset_after"] is False:
            raise OptionError("reset_after: False given, but torch-layout GRU weights are nn.GRU's, which always applies the reset gate "
                              "after the recurrent matmul (reset_after=True); Keras GRU(reset_after=False) weights load with layout=keras, "
                              "and a gatescope model travels as a bundle (model.save)")

    def positions(self, glossary):
        return GATED_TORCH if "candidate_recurrent" in glossary else GATED  # torch's form, or Cho's as colah draws it

    def memory_roles(self, glossary):
        return {"mem": "h", "what": "hidden state", "keep": "update_gate", "keep_sym": "update gate z (the share of h(t−1) kept)",
                "write": "update_complement", "write_sym": "1 − z", "written": "(1 − z) ⊙ n",
                "zh": {"what": "隐藏状态", "keep_sym": "更新门 z（h(t−1) 保留下来的份额）", "write_sym": "1 − z"}}

    def glossary(self, opts):
        after = opts["reset_after"]
        names = [v.x(), v.h_prev(),
                 v.pre("reset_gate", "r", "r", "reset", ("x", "h_prev")),
                 v.act("reset_gate", "reset gate r(t)", "r(t)", "sigmoid", "reset", zh="重置门 r(t)")]
        if after:
            names += [
                Name("candidate_recurrent", "recurrent part of the candidate", "W_hn·h(t−1)", "pre", "real", "affine", ("h_prev",),
                     "W_hn·h(t−1) + b_hn", r"W_{hn} h_{t-1} + b_{hn}", "candidate", zh={"label": "候选值的循环部分"}),
                Name("reset_recurrent", "reset ⊙ recurrent part", "r ⊙ W_hn·h(t−1)", "product", "real", "mul", ("reset_gate", "candidate_recurrent"),
                     "r(t) ⊙ (W_hn·h(t−1) + b_hn)", r"r_t \odot (W_{hn} h_{t-1} + b_{hn})", "candidate", zh={"label": "重置门 ⊙ 循环部分"}),
                Name("candidate_pre", "candidate pre-activation", "n_pre", "pre", "real", "affine", ("x", "reset_recurrent"),
                     "n_pre = W_in·x(t) + b_in + r(t) ⊙ (W_hn·h(t−1) + b_hn)",
                     r"n^{\mathrm{pre}}_t = W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})", "candidate", zh={"label": "候选值预激活"}),
            ]
        else:
            names += [
                v.product("reset_hidden", "reset previous state r(t) ⊙ h(t−1)", "r(t) ⊙ h(t−1)", "reset_gate", "h_prev", "r(t)", "h(t−1)",
                          "candidate", rng="signed", zh="重置后的上一步状态 r(t) ⊙ h(t−1)"),
                Name("candidate_pre", "candidate pre-activation", "n_pre", "pre", "real", "affine", ("x", "reset_hidden"),
                     "n_pre = W_in·x(t) + b_in + W_hn·(r(t) ⊙ h(t−1)) + b_hn",
                     r"n^{\mathrm{pre}}_t = W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn}", "candidate", zh={"label": "候选值预激活"}),
            ]
        names += [v.act("candidate", "candidate n(t)", "n(t)", "tanh", "candidate", role="candidate", zh="候选值 n(t)"),
                  v.pre("update_gate", "z", "z", "update", ("x", "h_prev")),
                  v.act("update_gate", "update gate z(t)", "z(t)", "sigmoid", "update", zh="更新门 z(t)")]
        names += blend_names("update_gate", "z(t)", "update")
        return Glossary(tuple(names), PHASES)

    def compile(self, params, opts, dtype):
        H = params["weight_hh"].shape[1]
        b = params["bias_ih"].copy()
        b[:2 * H] += params["bias_hh"][:2 * H]  # r and z may fold both biases; b_hn may not
        return {
            "Wx": np.ascontiguousarray(params["weight_ih"].T, dtype=dtype),
            "Wh": np.ascontiguousarray(params["weight_hh"].T, dtype=dtype),  # (H, 3H)
            "b": b.astype(dtype),
            "b_hn": params["bias_hh"][2 * H:].astype(dtype),
            "after": opts["reset_after"],
        }

    def forward(self, plan, xs, state):
        T, H = len(xs), plan["Wh"].shape[0]
        dt = plan["Wh"].dtype
        X = xs @ plan["Wx"] + plan["b"]          # (T, 3H): input parts of r, z, n (+ b_hr, b_hz)
        Hs = np.empty((T + 1, H), dt)
        Hs[0] = state.h
        after = plan["after"]
        mid = ("candidate_recurrent", "reset_recurrent") if after else ("reset_hidden",)
        names = ("reset_gate_pre", "reset_gate", *mid, "candidate_pre", "candidate",
                 "update_gate_pre", "update_gate", "update_complement", "kept", "written")
        out = {k: np.empty((T, H), dt) for k in names}
        Wh, Wn, b_hn = plan["Wh"], plan["Wh"][:, 2 * H:], plan["b_hn"]
        rec = np.empty(3 * H, dt)
        rec_r, rec_z, rec_n = rec[:H], rec[H:2 * H], rec[2 * H:]
        sig, mul, add, dot = _math.sigmoid, np.multiply, np.add, np.dot
        rows = zip(X[:, :H], X[:, H:2 * H], X[:, 2 * H:], Hs[:-1], Hs[1:], *(out[k] for k in names))
        for row in rows:
            xr, xz, xn, hp, hn, rp, r, *m, npre, n, zp, z, zc, kept, written = row
            dot(hp, Wh, rec)                 # W_h·h(t-1) for the r, z and n blocks
            add(xr, rec_r, rp)
            sig(rp, r)                       # r(t)
            if after:
                cand_rec, reset_rec = m
                add(rec_n, b_hn, cand_rec)   # W_hn·h(t-1) + b_hn
                mul(r, cand_rec, reset_rec)  # r(t) ⊙ (W_hn·h(t-1) + b_hn)
                add(xn, reset_rec, npre)
            else:
                reset_hidden, = m
                mul(r, hp, reset_hidden)     # r(t) ⊙ h(t-1)
                dot(reset_hidden, Wn, rec_n)  # W_hn·(r ⊙ h(t-1)): a second matmul that needs r first
                add(xn, rec_n, npre)
                add(npre, b_hn, npre)
            np.tanh(npre, n)                 # n(t)
            add(xz, rec_z, zp)
            sig(zp, z)                       # z(t)
            np.subtract(1.0, z, zc)
            mul(z, hp, kept)                 # z ⊙ h(t-1)
            mul(zc, n, written)              # (1 - z) ⊙ n(t)
            add(kept, written, hn)           # h(t)
        out["h_prev"], out["h"] = Hs[:-1], Hs[1:]
        return out, LayerState(h=Hs[T].copy())

    # -- backward pass ---------------------------------------------------
    def tape_forward(self, p, opts, X, start: LayerState):
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

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
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


KIND = GRU()
