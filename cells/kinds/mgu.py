"""mgu: the Minimal Gated Unit of Zhou, Wu, Zhang & Zhou (2016), arXiv:1603.09420.

One gate does the work of the GRU's two: the forget gate f(t) both resets
the state the candidate sees and blends old state with new.

    f(t)  = σ(W_if x(t) + b_if + W_hf h(t-1) + b_hf)                  forget gate
    h~(t) = tanh(W_in x(t) + b_in + W_hn (f(t) ⊙ h(t-1)) + b_hn)        candidate
    h(t)  = (1 - f(t)) ⊙ h(t-1) + f(t) ⊙ h~(t)

Note the direction of the blend: here f weights the NEW candidate (as z
does in colah's GRU diagram), and 1 - f keeps the old state.

Shapes: x (I,), h (H,); weight_ih (2H, I), weight_hh (2H, H), bias_ih and
bias_hh (2H,), with the blocks f, n in that order (torch-style names chosen
by this project; the paper writes W_f, U_f, b_f and W_h, U_h, b_h).

The backward pass (tape_forward, tape_backward; cells.backprop batches it):

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

from .. import _math
from .._math import flat_outer, flush, sigmoid
from ..spec import Glossary, Name, Phase
from . import _glossary as v
from ._grid import GATED, GATED_STATE_LINE
from .base import Kind, LayerState


class MGU(Kind):
    name = "mgu"
    title = "Minimal gated unit"
    summary = "A single forget gate that both resets the state the candidate sees and blends old with new (Zhou et al. 2016)."
    zh = {"title": "最小门控单元（MGU）", "summary": "只有一个遗忘门：它既重置候选值看到的状态，又混合新旧状态（Zhou 等人，2016）。"}
    reference = "Zhou, Wu, Zhang & Zhou 2016, 'Minimal gated unit for recurrent neural networks', IJAC 13(3); arXiv:1603.09420"
    blocks = ("forget_gate", "candidate")
    state_line = GATED_STATE_LINE
    clamp_terms = {"candidate_pre": {"reset_hidden": ("weight_hh", "candidate", "matmul")}}  # + W_hn·(f(t) ⊙ h(t−1))

    def positions(self, glossary):
        return GATED

    def memory_roles(self, glossary):
        return {"mem": "h", "what": "hidden state", "keep": "forget_complement", "keep_sym": "1 − f (the share of h(t−1) kept)",
                "write": "forget_gate", "write_sym": "forget gate f", "written": "f ⊙ h̃",
                "zh": {"what": "隐藏状态", "keep_sym": "1 − f（h(t−1) 保留下来的份额）", "write_sym": "遗忘门 f"}}

    def glossary(self, opts):
        names = [
            v.x(), v.h_prev(),
            v.pre("forget_gate", "f", "f", "forget", ("x", "h_prev")),
            v.act("forget_gate", "forget gate f(t)", "f(t)", "sigmoid", "forget", zh="遗忘门 f(t)"),
            v.product("reset_hidden", "gated previous state f(t) ⊙ h(t−1)", "f(t) ⊙ h(t−1)", "forget_gate", "h_prev", "f(t)", "h(t−1)",
                      "candidate", rng="signed", zh="经过门的上一步状态 f(t) ⊙ h(t−1)"),
            Name("candidate_pre", "candidate pre-activation", "h̃_pre", "pre", "real", "affine", ("x", "reset_hidden"),
                   "h̃_pre = W_in·x(t) + b_in + W_hn·(f(t) ⊙ h(t−1)) + b_hn",
                   r"\tilde{h}^{\mathrm{pre}}_t = W_{in} x_t + b_{in} + W_{hn} (f_t \odot h_{t-1}) + b_{hn}", "candidate",
                   zh={"label": "候选值预激活"}),
            v.act("candidate", "candidate h̃(t)", "h̃(t)", "tanh", "candidate", role="candidate", zh="候选值 h̃(t)"),
            v.one_minus("forget_complement", "forget complement 1 − f(t)", "1 − f(t)", "forget_gate", "f(t)", "update", zh="遗忘门的补 1 − f(t)"),
            v.product("kept", "kept (1 − f(t)) ⊙ h(t−1)", "kept(t)", "forget_complement", "h_prev", "1 − f(t)", "h(t−1)", "update",
                      zh="保留部分 (1 − f(t)) ⊙ h(t−1)"),
            v.product("written", "written f(t) ⊙ h̃(t)", "written(t)", "forget_gate", "candidate", "f(t)", "h̃(t)", "update",
                      zh="写入部分 f(t) ⊙ h̃(t)"),
            v.total("h", "hidden state h(t)", "h(t)", "kept", "written", "kept(t)", "written(t)", "update", role="output", zh="隐藏状态 h(t)"),
        ]
        phases = (v.GIVEN,
                  Phase("forget", "Forget gate", "f(t) decides how much to forget, and which part of h(t−1) the candidate sees.",
                        {"title": "遗忘门", "text": "f(t) 决定遗忘多少，也决定候选值能看到 h(t−1) 的哪一部分。"}),
                  Phase("candidate", "Candidate", "The candidate h̃(t) is built from x(t) and f(t) ⊙ h(t−1).",
                        {"title": "候选值", "text": "候选值 h̃(t) 由 x(t) 和 f(t) ⊙ h(t−1) 构成。"}),
                  Phase("update", "Update", "h(t) = (1 − f(t)) ⊙ h(t−1) + f(t) ⊙ h̃(t).",
                        {"title": "更新", "text": "新的隐藏状态：h(t) = (1 − f(t)) ⊙ h(t−1) + f(t) ⊙ h̃(t)。"}))
        return Glossary(tuple(names), phases)

    def compile(self, params, opts, dtype):
        H = params["weight_hh"].shape[1]
        return {
            "Wx": np.ascontiguousarray(params["weight_ih"].T, dtype=dtype),
            "Wf": np.ascontiguousarray(params["weight_hh"][:H].T, dtype=dtype),
            "Wn": np.ascontiguousarray(params["weight_hh"][H:].T, dtype=dtype),
            "b": (params["bias_ih"] + params["bias_hh"]).astype(dtype),
        }

    def forward(self, plan, xs, state):
        T, H = len(xs), plan["Wf"].shape[0]
        dt = plan["Wf"].dtype
        X = xs @ plan["Wx"] + plan["b"]          # (T, 2H): input parts of f and the candidate, both biases
        Hs = np.empty((T + 1, H), dt)
        Hs[0] = state.h
        names = ("forget_gate_pre", "forget_gate", "reset_hidden", "candidate_pre", "candidate", "forget_complement", "kept", "written")
        out = {k: np.empty((T, H), dt) for k in names}
        mul, add, dot = np.multiply, np.add, np.dot
        for xf, xn, hp, hn, fp, f, fh, npre, n, fc, kept, written in zip(X[:, :H], X[:, H:], Hs[:-1], Hs[1:], *(out[k] for k in names)):
            add(xf, dot(hp, plan["Wf"]), fp)
            _math.sigmoid(fp, f)             # f(t)
            mul(f, hp, fh)                   # f(t) ⊙ h(t-1)
            add(xn, dot(fh, plan["Wn"]), npre)
            np.tanh(npre, n)                 # h~(t)
            np.subtract(1.0, f, fc)
            mul(fc, hp, kept)                # (1 - f) ⊙ h(t-1)
            mul(f, n, written)               # f ⊙ h~(t)
            add(kept, written, hn)           # h(t)
        out["h_prev"], out["h"] = Hs[:-1], Hs[1:]
        return out, LayerState(h=Hs[T].copy())

    # -- backward pass ---------------------------------------------------
    def tape_forward(self, p, opts, X, start: LayerState):
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

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
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


KIND = MGU()
