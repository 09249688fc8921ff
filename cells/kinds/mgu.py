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
"""

from __future__ import annotations

import numpy as np

from .. import _math
from ..backprop import mgu as backprop
from ..spec import Name, Phase, Vocabulary
from . import _vocab as v
from ._grid import GATED, GATED_STATE_LINE
from .base import Kind, LayerState


class MGU(Kind):
    name = "mgu"
    title = "Minimal gated unit"
    summary = "A single forget gate that both resets the state the candidate sees and blends old with new (Zhou et al. 2016)."
    reference = "Zhou, Wu, Zhang & Zhou 2016, 'Minimal gated unit for recurrent neural networks', IJAC 13(3); arXiv:1603.09420"
    blocks = ("forget", "candidate")
    backprop = backprop
    state_line = GATED_STATE_LINE

    def positions(self, vocab):
        return GATED

    def memory_roles(self, vocab):
        return {"mem": "h", "what": "hidden state", "keep": "forget_complement", "keep_sym": "1 − f (the share of h(t−1) kept)",
                "write": "forget", "write_sym": "forget gate f", "written": "f ⊙ h̃"}

    def vocabulary(self, opts):
        names = [
            v.x(), v.h_prev(),
            v.pre("forget", "f", "f", "forget", ("x", "h_prev")), v.act("forget", "forget gate f(t)", "f(t)", "sigmoid", "forget"),
            v.product("reset_hidden", "gated previous state f(t) ⊙ h(t−1)", "f(t) ⊙ h(t−1)", "forget", "h_prev", "f(t)", "h(t−1)",
                      "candidate", rng="signed"),
            Name("candidate_pre", "candidate pre-activation", "h̃_pre", "pre", "real", "affine", ("x", "reset_hidden"),
                   "h̃_pre = W_in·x(t) + b_in + W_hn·(f(t) ⊙ h(t−1)) + b_hn",
                   r"\tilde{h}^{pre}_t = W_{in} x_t + b_{in} + W_{hn} (f_t \odot h_{t-1}) + b_{hn}", "candidate"),
            v.act("candidate", "candidate h̃(t)", "h̃(t)", "tanh", "candidate", role="candidate"),
            v.one_minus("forget_complement", "1 − f(t)", "1 − f(t)", "forget", "f(t)", "update"),
            v.product("kept", "kept (1 − f(t)) ⊙ h(t−1)", "kept(t)", "forget_complement", "h_prev", "1 − f(t)", "h(t−1)", "update"),
            v.product("written", "written f(t) ⊙ h̃(t)", "written(t)", "forget", "candidate", "f(t)", "h̃(t)", "update"),
            v.total("h", "hidden state h(t)", "h(t)", "kept", "written", "kept(t)", "written(t)", "update", role="output"),
        ]
        phases = (v.INPUTS,
                  Phase("forget", "Forget gate", "f(t) decides how much to forget, and which part of h(t−1) the candidate sees."),
                  Phase("candidate", "Candidate", "The candidate h̃(t) is built from x(t) and f(t) ⊙ h(t−1)."),
                  Phase("update", "Update", "h(t) = (1 − f(t)) ⊙ h(t−1) + f(t) ⊙ h̃(t)."))
        return Vocabulary(tuple(names), phases)

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
        names = ("forget_pre", "forget", "reset_hidden", "candidate_pre", "candidate", "forget_complement", "kept", "written")
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


KIND = MGU()
