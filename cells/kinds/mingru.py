"""mingru: the minimal GRU of Feng, Tung, Ahmed, Bengio & Hajimirsadeghi (2024), arXiv:2410.01201.

The gates read x(t) only, never h(t-1); that is what lets the cell train
as a parallel scan. No reset gate, no tanh, no biases:

    z(t)  = σ(W_z x(t))                                   update gate
    h~(t) = g(W_h x(t))                                   candidate
    h(t)  = (1 - z(t)) ⊙ h(t-1) + z(t) ⊙ h~(t)

    g(v)  = v + 0.5 for v >= 0, σ(v) below: continuous, always positive, so
            the scan below may take its logarithm.

Note the direction of the blend: z weights the NEW candidate (as in the
paper and colah's GRU figure; torch's nn.GRU has it the other way round).

Shapes: x (I,), h (H,); weight_ih (2H, I), blocks h~, z in that order: the
reference's one bias-free Linear(dim, 2·dim_inner), ``to_hidden_and_gate``,
chunked (hidden, gate) (PyPI mingru-pytorch, ``minGRU_pytorch.minGRU`` with
expansion_factor 1, whose ``to_out`` is then the identity). There is no
weight_hh (``Kind.param_names``) and no bias; h(0) = 0 unless given.

**One forward pass.** Every gate reads x(t) only, so all pre-activations of a
sequence are one matmul and every gate one elementwise call; only h(t) is
carried step by step (cells.kinds._linear.carry). The same function (:func:`steps`) makes
the trace (T, width) and the backward pass's batch (T, B, width).

**The parallel form** (cells.kinds._linear.scan, Heinsen 2023, "Efficient parallelization
of a ubiquitous sequential computation", arXiv:2311.06281): h(t) = a(t) h(t-1)
+ b(t) with a = 1 - z and b = z ⊙ h~ > 0 unrolls to

    h(t) = A(t) h(0) + A(t) Σ_{k<=t} b(k) / A(k),     A(t) = a(0) ⋯ a(t)

and in logarithms, a* = cumsum(log a): log of the sum = a*(t) + logcumsumexp(log b - a*)(t).
log a = -softplus(z_pre), log b = -softplus(-z_pre) + log g(h~_pre). The h(0)
term is added outside the logarithm, so a negative h(0) scans too.

The backward pass (tape_forward, tape_backward; cells.backprop batches it),
with dh the adjoint of h(t):

    dh(t-1)  += dh(t) ⊙ (1 - z(t))                       the one step-by-step line
    dz_pre    = dh ⊙ (h~ - h(t-1)) ⊙ z (1 - z)
    dh~_pre   = dh ⊙ z ⊙ g'(h~_pre)                       g' = 1 for v >= 0, σ(v)(1 - σ(v)) = h~(1 - h~) below
    dW_ih     = Σ_t [dh~_pre, dz_pre]^T x(t),   dx(t) = [dh~_pre, dz_pre] W_ih
"""

from __future__ import annotations

import numpy as np

from .._math import flat_outer, g, sigmoid, softplus
from ..spec import Glossary, Name, Phase
from . import _glossary as v
from ._grid import ACT, PRE, TOP
from ._linear import adjoints, carry
from ._linear import scan as log_scan
from ._minimal import CANDIDATE, Minimal, g_slope, log_g, split_rows
from .base import LayerState

#: colah's GRU figure with its reset column taken out: h(t−1) along the top, x(t) up from below into the σ box of z
#: and the g box of the candidate; z straight up through its 1 − z to the top ×, and across to the × over the candidate.
POSITIONS = {
    "x": (2.1, 0.3, {"label": "w"}), "h_prev": (0.85, TOP),
    "update_gate_pre": (4.2, PRE), "update_gate": (4.2, ACT), "update_complement": (4.2, 5.5),
    "candidate_pre": (7.0, PRE), "candidate": (7.0, ACT),
    "kept": (4.2, TOP), "written": (7.0, 4.8), "h": (7.0, TOP),
}


# -- the kind ------------------------------------------------------------------
def steps(W: list[np.ndarray], X: np.ndarray, h0: np.ndarray) -> dict[str, np.ndarray]:
    """The step form over X (T, ..., I) from h0: every glossary name but x, and Hs (T + 1, ..., H)."""
    Wh, Wz = W
    out = {"candidate_pre": X @ Wh, "update_gate_pre": X @ Wz}     # h~_pre, z_pre: x(t) only, all steps in one matmul
    out["candidate"] = g(out["candidate_pre"])                       # h~(t)
    out["update_gate"] = sigmoid(out["update_gate_pre"])             # z(t)
    out["update_complement"] = 1.0 - out["update_gate"]              # 1 − z(t)
    out["written"] = out["update_gate"] * out["candidate"]           # z(t) ⊙ h~(t)
    Hs = carry(out["update_complement"], out["written"], h0)         # h(t), one step at a time
    out["kept"] = out["update_complement"] * Hs[:-1]                 # (1 − z(t)) ⊙ h(t−1)
    out["h_prev"], out["h"], out["Hs"] = Hs[:-1], Hs[1:], Hs
    return out


class MinGRU(Minimal):
    name = "mingru"
    title = "minGRU"
    summary = ("A GRU whose update gate and candidate read the input only, never h(t−1): no reset gate, no tanh, "
               "and a parallel scan computes the same states (Feng et al. 2024).")
    zh = {"title": "minGRU（最小 GRU）",
          "summary": "更新门和候选值只读当前输入、不读 h(t−1) 的 GRU：没有重置门，没有 tanh，并行扫描算出同样的状态（Feng 等人，2024）。",
          "removed": "门只读 x(t)：没有从 h(t−1) 通向门的箭头，没有重置门，没有 tanh。"}
    simplifies = ("gru", "The gates read x(t) alone: no arrow from h(t−1) into them, no reset gate, no tanh.")
    blocks = ("candidate", "update_gate")          # the reference's chunk order: hidden, gate
    reference_classes = ("minGRU",)
    reference_marks = frozenset({"to_hidden_and_gate.weight"})

    layout = POSITIONS
    steps = staticmethod(steps)

    def memory_roles(self, glossary):
        return {"mem": "h", "what": "hidden state", "keep": "update_complement", "keep_sym": "1 − z (the share of h(t−1) kept)",
                "write": "update_gate", "write_sym": "update gate z", "written": "z ⊙ h̃",
                "zh": {"what": "隐藏状态", "keep_sym": "1 − z（h(t−1) 保留下来的份额）", "write_sym": "更新门 z"}}

    def glossary(self, opts):
        names = (
            v.x(), v.h_prev("real"),
            Name("update_gate_pre", "update gate pre-activation", "z_pre", "pre", "real", "affine", ("x",),
                 "z_pre = W_z·x(t)", r"z^{\mathrm{pre}}_t = W_z x_t", "gates", zh={"label": "更新门预激活"}),
            v.act("update_gate", "update gate z(t)", "z(t)", "sigmoid", "gates", zh="更新门 z(t)"),
            *CANDIDATE,
            v.one_minus("update_complement", "update complement 1 − z(t)", "1 − z(t)", "update_gate", "z(t)", "update",
                        zh="更新门的补 1 − z(t)"),
            v.product("kept", "kept (1 − z(t)) ⊙ h(t−1)", "kept(t)", "update_complement", "h_prev", "1 − z(t)", "h(t−1)", "update",
                      zh="保留部分 (1 − z(t)) ⊙ h(t−1)"),
            v.product("written", "written z(t) ⊙ h̃(t)", "written(t)", "update_gate", "candidate", "z(t)", "h̃(t)", "update",
                      zh="写入部分 z(t) ⊙ h̃(t)"),
            v.total("h", "hidden state h(t)", "h(t)", "kept", "written", "kept(t)", "written(t)", "update", role="output",
                    zh="隐藏状态 h(t)"),
        )
        phases = (v.GIVEN,
                  Phase("gates", "Gate and candidate from x(t)",
                        "z(t) and h̃(t) read x(t) only, never h(t−1): g(v) = v + 0.5 for v ≥ 0 and σ(v) below keeps h̃(t) positive.",
                        {"title": "只由 x(t) 算出的门和候选值",
                         "text": "z(t) 和 h̃(t) 只读 x(t)，从不读 h(t−1)：g(v) 在 v ≥ 0 时为 v + 0.5，否则为 σ(v)，使 h̃(t) 总为正。"}),
                  Phase("update", "Update", "h(t) = (1 − z(t)) ⊙ h(t−1) + z(t) ⊙ h̃(t).",
                        {"title": "更新", "text": "新的隐藏状态：h(t) = (1 − z(t)) ⊙ h(t−1) + z(t) ⊙ h̃(t)。"}))
        return Glossary(names, phases)

    # -- the parallel form and the backward pass (the trace's and the batch's: Minimal, by ``steps``) ----------
    def scan(self, params: dict[str, np.ndarray], xs: np.ndarray, h0: np.ndarray | float = 0.0) -> np.ndarray:
        """h(t) for every step of xs (T, ..., I) at once, by the log-space scan, in float64 (the parallel form)."""
        Wh, Wz = split_rows(params["weight_ih"], 2, np.float64)
        xs = np.asarray(xs, np.float64)
        z_pre, n_pre = xs @ Wz, xs @ Wh
        return log_scan(-softplus(z_pre), -softplus(-z_pre) + log_g(n_pre), h0)   # log(1 − z), log z + log h~

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
        z, n, keep = cache["update_gate"], cache["candidate"], cache["update_complement"]
        dH = adjoints(keep, dY, dfinal)                                             # dh(t) for every t
        dz_pre = dH * (n - cache["h_prev"]) * z * keep                              # dz_pre = dh (h~ − h(t−1)) z (1 − z)
        dn_pre = dH * z * g_slope(cache["candidate_pre"], n)                        # dh~_pre = dh z g'
        dA = np.concatenate([dn_pre, dz_pre], axis=-1)                              # blocks h~, z, as weight_ih's rows
        grads = {"weight_ih": flat_outer(dA, cache["X"])} if params else None
        dh0 = dH[0] * keep[0]                                                       # dh(−1): what h0 gets
        return grads, dA @ p["weight_ih"], LayerState(h=dh0), ({"h": dH} if states else None)


KIND = MinGRU()
