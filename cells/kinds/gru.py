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
"""

from __future__ import annotations

import numpy as np

from .. import _math
from ..backprop import gru as backprop
from ..errors import OptionError
from ..spec import Name, Option, Phase, Vocabulary
from . import _vocab as v
from ._grid import GATED, GATED_STATE_LINE
from .base import Kind, LayerState

PHASES = (
    v.INPUTS,
    Phase("reset", "Reset gate", "r(t) decides how much of the previous state the candidate may use."),
    Phase("candidate", "Candidate", "The candidate n(t) is built from x(t) and the reset-gated previous state."),
    Phase("update", "Update", "z(t) blends the old state and the candidate: h(t) = (1 − z(t)) ⊙ n(t) + z(t) ⊙ h(t−1)."),
)


def blend_names(gate: str, sym: str, phase: str) -> list[Name]:
    """The GRU's last step: h(t) as a blend of h(t-1) and the candidate, weighted by z(t)."""
    return [
        v.one_minus(f"{gate}_complement", f"1 − {sym}", f"1 − {sym}", gate, sym, phase),
        v.product("kept", f"kept {sym} ⊙ h(t−1)", "kept(t)", gate, "h_prev", sym, "h(t−1)", phase),
        v.product("written", f"written (1 − {sym}) ⊙ n(t)", "written(t)", f"{gate}_complement", "candidate", f"1 − {sym}", "n(t)", phase),
        v.total("h", "hidden state h(t)", "h(t)", "kept", "written", "kept(t)", "written(t)", phase, role="output"),
    ]


class GRU(Kind):
    name = "gru"
    title = "GRU"
    summary = "Gated recurrent unit: reset and update gates, no separate cell state (PyTorch nn.GRU, Keras GRU)."
    reference = "Cho et al. 2014, 'Learning phrase representations using RNN encoder-decoder', EMNLP; arXiv:1406.1078"
    blocks = ("reset", "update", "candidate")
    options = (Option("reset_after", True, "Apply the reset gate after the recurrent matmul (PyTorch, cuDNN, Keras default); "
                      "false for Cho et al.'s original form.", bool),)
    layouts = ("torch", "keras")
    block_order = {"keras": (1, 0, 2)}   # Keras stores z, r, h
    backprop = backprop
    state_line = GATED_STATE_LINE

    def two_biases(self, layout, opts):
        return layout == "keras" and bool(opts.get("reset_after"))  # b_hn sits inside r(t) ⊙ (...), so it cannot join b_in

    def options_from_bias(self, layout, bias_ndim):
        return {"reset_after": bias_ndim == 2} if layout == "keras" else {}  # only reset_after=True has a (2, 3H) bias

    def assumed(self, layout, opts, has_bias):
        out = super().assumed(layout, opts, has_bias)
        if layout == "keras" and not has_bias and "reset_after" not in opts:
            out["reset_after"] = "true (Keras' default; without a bias the weights cannot say; pass reset_after=false for GRU(reset_after=False))"
        return out

    def check_file_options(self, layout, opts):
        if layout == "torch" and opts["reset_after"] is False:
            raise OptionError("reset_after: False given, but torch-layout GRU weights are nn.GRU's, which always applies the reset gate "
                              "after the recurrent matmul (reset_after=True); Keras GRU(reset_after=False) weights load with layout=keras, "
                              "and a gatescope model travels as a bundle (model.save)")

    def positions(self, vocab):
        return GATED

    def memory_roles(self, vocab):
        return {"mem": "h", "what": "hidden state", "keep": "update", "keep_sym": "update gate z (the share of h(t−1) kept)",
                "write": "update_complement", "write_sym": "1 − z", "written": "(1 − z) ⊙ n"}

    def vocabulary(self, opts):
        after = opts["reset_after"]
        names = [v.x(), v.h_prev(),
                 v.pre("reset", "r", "r", "reset", ("x", "h_prev")), v.act("reset", "reset gate r(t)", "r(t)", "sigmoid", "reset")]
        if after:
            names += [
                Name("candidate_recurrent", "recurrent part of the candidate", "W_hn·h(t−1)", "pre", "real", "affine", ("h_prev",),
                     "W_hn·h(t−1) + b_hn", r"W_{hn} h_{t-1} + b_{hn}", "candidate"),
                Name("reset_recurrent", "reset ⊙ recurrent part", "r ⊙ W_hn·h(t−1)", "product", "real", "mul", ("reset", "candidate_recurrent"),
                     "r(t) ⊙ (W_hn·h(t−1) + b_hn)", r"r_t \odot (W_{hn} h_{t-1} + b_{hn})", "candidate"),
                Name("candidate_pre", "candidate pre-activation", "n_pre", "pre", "real", "affine", ("x", "reset_recurrent"),
                     "n_pre = W_in·x(t) + b_in + r(t) ⊙ (W_hn·h(t−1) + b_hn)",
                     r"n^{pre}_t = W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})", "candidate"),
            ]
        else:
            names += [
                v.product("reset_hidden", "reset previous state r(t) ⊙ h(t−1)", "r(t) ⊙ h(t−1)", "reset", "h_prev", "r(t)", "h(t−1)",
                          "candidate", rng="signed"),
                Name("candidate_pre", "candidate pre-activation", "n_pre", "pre", "real", "affine", ("x", "reset_hidden"),
                     "n_pre = W_in·x(t) + b_in + W_hn·(r(t) ⊙ h(t−1)) + b_hn",
                     r"n^{pre}_t = W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn}", "candidate"),
            ]
        names += [v.act("candidate", "candidate n(t)", "n(t)", "tanh", "candidate", role="candidate"),
                  v.pre("update", "z", "z", "update", ("x", "h_prev")), v.act("update", "update gate z(t)", "z(t)", "sigmoid", "update")]
        names += blend_names("update", "z(t)", "update")
        return Vocabulary(tuple(names), PHASES)

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
        names = ("reset_pre", "reset", *mid, "candidate_pre", "candidate", "update_pre", "update", "update_complement", "kept", "written")
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


KIND = GRU()
