"""minlstm: the minimal LSTM of Feng, Tung, Ahmed, Bengio & Hajimirsadeghi (2024), arXiv:2410.01201.

Like minGRU, its gates read x(t) only. No output gate and no cell state
apart from h; the forget and input gates are normalised to sum to one, so
h(t) stays a weighted mean of h(t-1) and the candidate (time-independent
scale):

    f(t)  = σ(W_f x(t)),   i(t) = σ(W_i x(t))             forget and input gates
    h~(t) = g(W_h x(t))                                   candidate (g as in cells.kinds.mingru)
    f'(t) = f(t) / (f(t) + i(t)),   i'(t) = i(t) / (f(t) + i(t))
    h(t)  = f'(t) ⊙ h(t-1) + i'(t) ⊙ h~(t)

Shapes: x (I,), h (H,); weight_ih (3H, I), blocks h~, f, i in that order: the
reference's one bias-free Linear(dim, 3·dim_inner), ``to_hidden_and_f_i_gate``,
chunked (hidden, f, i) (PyPI mingru-pytorch, ``minGRU_pytorch.minLSTM.minLSTM``
with expansion_factor 1). No weight_hh, no bias; h(0) = 0 unless given.

The step form is one pass (cells.kinds._linear.carry); the parallel form is
the same log-space scan with log f' = -softplus(d), log i' = -softplus(-d),
d = softplus(-f_pre) - softplus(-i_pre) (the reference's arithmetic).
(The reference's parallel path, given a previous hidden state, starts from
g(prev_hidden) where its step path starts from prev_hidden; here both forms
start from h(0) itself.)

The backward pass, with dh the adjoint of h(t) and s = f + i:

    dh(t-1)  += dh(t) ⊙ f'(t)                            the one step-by-step line
    df', di'  = dh ⊙ h(t-1),  dh ⊙ h~
    df_pre    = i (df' - di') / s² ⊙ f (1 - f)            ∂f'/∂f = i/s², ∂i'/∂f = −i/s²
              = (df' − di') f' i' (1 − f)                  written so, as f i / s² = f' i' has no 0/0
    di_pre    = (di' − df') f' i' (1 − i)
    dh~_pre   = dh ⊙ i' ⊙ g'(h~_pre)
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

#: colah's LSTM figure without its output gate and cell state: the σ boxes f and i and the g box of the candidate
#: along the bottom row; f + i between f and i (its strip to the left), the two shares f′ and i′ straight above f and
#: i, each also fed by the sum; f′ up to the top ×, i′ across to the × over the candidate.
POSITIONS = {
    "x": (2.1, 0.3, {"label": "w"}), "h_prev": (0.85, TOP),
    "forget_gate_pre": (2.9, PRE), "forget_gate": (2.9, ACT),
    "input_gate_pre": (5.7, PRE), "input_gate": (5.7, ACT),
    "candidate_pre": (9.0, PRE), "candidate": (9.0, ACT),
    "gate_sum": (4.3, 4.1, {"strip": "w"}), "forget_share": (2.9, 5.3), "input_share": (5.7, 5.3),
    "kept": (2.9, TOP), "written": (9.0, 5.3), "h": (9.0, TOP),
}


def steps(W: list[np.ndarray], X: np.ndarray, h0: np.ndarray) -> dict[str, np.ndarray]:
    """The step form over X (T, ..., I) from h0: every glossary name but x, and Hs (T + 1, ..., H)."""
    Wh, Wf, Wi = W
    out = {"candidate_pre": X @ Wh, "forget_gate_pre": X @ Wf, "input_gate_pre": X @ Wi}   # x(t) only, one matmul each
    out["candidate"] = g(out["candidate_pre"])                    # h~(t)
    out["forget_gate"] = sigmoid(out["forget_gate_pre"])          # f(t)
    out["input_gate"] = sigmoid(out["input_gate_pre"])            # i(t)
    out["gate_sum"] = out["forget_gate"] + out["input_gate"]      # f(t) + i(t)
    # f' = f / (f + i) = σ(log f − log i): the same number, and defined where f and i both round to 0 (pre < −18 in
    # float32, where the quotient is 0/0); log f − log i = softplus(−i_pre) − softplus(−f_pre), the reference's d.
    d = softplus(-out["input_gate_pre"]) - softplus(-out["forget_gate_pre"])
    out["forget_share"] = sigmoid(d)                              # f'(t)
    out["input_share"] = sigmoid(-d)                              # i'(t)
    out["written"] = out["input_share"] * out["candidate"]        # i'(t) ⊙ h~(t)
    Hs = carry(out["forget_share"], out["written"], h0)           # h(t), one step at a time
    out["kept"] = out["forget_share"] * Hs[:-1]                   # f'(t) ⊙ h(t−1)
    out["h_prev"], out["h"], out["Hs"] = Hs[:-1], Hs[1:], Hs
    return out


def _share(name: str, label: str, sym: str, tex: str, gate: str, gsym: str, zh: str) -> Name:
    """f′ or i′: a gate over the sum of both."""
    return Name(name, label, sym, "gate", "unit", "div", (gate, "gate_sum"), f"{sym} = {gsym} / (f(t) + i(t))",
                rf"{tex} = \frac{{{gsym[0]}_t}}{{f_t + i_t}}", "share", zh={"label": zh})


class MinLSTM(Minimal):
    name = "minlstm"
    title = "minLSTM"
    summary = ("An LSTM whose forget and input gates and candidate read the input only, normalised to sum to one: "
               "no output gate, no separate cell state, and a parallel scan computes the same states (Feng et al. 2024).")
    zh = {"title": "minLSTM（最小 LSTM）",
          "summary": ("遗忘门、输入门和候选值只读当前输入、两门归一化使其和为一的 LSTM："
                      "没有输出门，没有单独的细胞状态，并行扫描算出同样的状态（Feng 等人，2024）。")}
    blocks = ("candidate", "forget_gate", "input_gate")   # the reference's chunk order: hidden, f, i
    reference_classes = ("minLSTM",)
    reference_marks = frozenset({"to_hidden_and_f_i_gate.weight"})

    layout = POSITIONS
    steps = staticmethod(steps)

    def memory_roles(self, glossary):
        return {"mem": "h", "what": "hidden state", "keep": "forget_share", "keep_sym": "f′ = f / (f + i) (the share of h(t−1) kept)",
                "write": "input_share", "write_sym": "i′ = i / (f + i) (the share of h̃ written)", "written": "i′ ⊙ h̃",
                "zh": {"what": "隐藏状态", "keep_sym": "f′ = f / (f + i)（h(t−1) 保留下来的份额）", "write_sym": "i′ = i / (f + i)（h̃ 写入的份额）"}}

    def glossary(self, opts):
        names = (
            v.x(), v.h_prev("real"),
            Name("forget_gate_pre", "forget gate pre-activation", "f_pre", "pre", "real", "affine", ("x",),
                 "f_pre = W_f·x(t)", r"f^{\mathrm{pre}}_t = W_f x_t", "gates", zh={"label": "遗忘门预激活"}),
            v.act("forget_gate", "forget gate f(t)", "f(t)", "sigmoid", "gates", zh="遗忘门 f(t)"),
            Name("input_gate_pre", "input gate pre-activation", "i_pre", "pre", "real", "affine", ("x",),
                 "i_pre = W_i·x(t)", r"i^{\mathrm{pre}}_t = W_i x_t", "gates", zh={"label": "输入门预激活"}),
            v.act("input_gate", "input gate i(t)", "i(t)", "sigmoid", "gates", zh="输入门 i(t)"),
            *CANDIDATE,
            v.total("gate_sum", "gate sum f(t) + i(t)", "f(t) + i(t)", "forget_gate", "input_gate", "f(t)", "i(t)", "share",
                    role="product", zh="两门之和 f(t) + i(t)"),
            _share("forget_share", "normalised forget gate f′(t)", "f′(t)", "f'_t", "forget_gate", "f(t)", "归一化遗忘门 f′(t)"),
            _share("input_share", "normalised input gate i′(t)", "i′(t)", "i'_t", "input_gate", "i(t)", "归一化输入门 i′(t)"),
            v.product("kept", "kept f′(t) ⊙ h(t−1)", "kept(t)", "forget_share", "h_prev", "f′(t)", "h(t−1)", "update",
                      zh="保留部分 f′(t) ⊙ h(t−1)"),
            v.product("written", "written i′(t) ⊙ h̃(t)", "written(t)", "input_share", "candidate", "i′(t)", "h̃(t)", "update",
                      zh="写入部分 i′(t) ⊙ h̃(t)"),
            v.total("h", "hidden state h(t)", "h(t)", "kept", "written", "kept(t)", "written(t)", "update", role="output",
                    zh="隐藏状态 h(t)"),
        )
        phases = (v.GIVEN,
                  Phase("gates", "Gates and candidate from x(t)",
                        "f(t), i(t) and h̃(t) read x(t) only, never h(t−1): g(v) = v + 0.5 for v ≥ 0 and σ(v) below keeps h̃(t) positive.",
                        {"title": "只由 x(t) 算出的门和候选值",
                         "text": "f(t)、i(t) 和 h̃(t) 只读 x(t)，从不读 h(t−1)：g(v) 在 v ≥ 0 时为 v + 0.5，否则为 σ(v)，使 h̃(t) 总为正。"}),
                  Phase("share", "Normalised gates", "f′(t) and i′(t) are f(t) and i(t) divided by their sum: they add up to 1.",
                        {"title": "归一化的门", "text": "f′(t) 和 i′(t) 是 f(t) 和 i(t) 各自除以两者之和：它们加起来等于 1。"}),
                  Phase("update", "Update", "h(t) = f′(t) ⊙ h(t−1) + i′(t) ⊙ h̃(t).",
                        {"title": "更新", "text": "新的隐藏状态：h(t) = f′(t) ⊙ h(t−1) + i′(t) ⊙ h̃(t)。"}))
        return Glossary(names, phases)

    # -- the parallel form and the backward pass (the trace's and the batch's: Minimal, by ``steps``) ----------
    def scan(self, params: dict[str, np.ndarray], xs: np.ndarray, h0: np.ndarray | float = 0.0) -> np.ndarray:
        """h(t) for every step of xs (T, ..., I) at once, by the log-space scan, in float64 (the parallel form)."""
        Wh, Wf, Wi = split_rows(params["weight_ih"], 3, np.float64)
        xs = np.asarray(xs, np.float64)
        d = softplus(-(xs @ Wf)) - softplus(-(xs @ Wi))             # log i − log f
        return log_scan(-softplus(d), -softplus(-d) + log_g(xs @ Wh), h0)  # log f′, log i′ + log h~

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
        f, i, fs, is_ = cache["forget_gate"], cache["input_gate"], cache["forget_share"], cache["input_share"]
        dH = adjoints(fs, dY, dfinal)                                  # dh(t) for every t
        dfs, dis = dH * cache["h_prev"], dH * cache["candidate"]        # df′, di′
        shares = (dfs - dis) * fs * is_                                 # i/s² · f = f′ i′, so no 0/0 where f + i is 0
        df_pre = shares * (1.0 - f)
        di_pre = -shares * (1.0 - i)
        dn_pre = dH * cache["input_share"] * g_slope(cache["candidate_pre"], cache["candidate"])
        dA = np.concatenate([dn_pre, df_pre, di_pre], axis=-1)          # blocks h~, f, i, as weight_ih's rows
        grads = {"weight_ih": flat_outer(dA, cache["X"])} if params else None
        return grads, dA @ p["weight_ih"], LayerState(h=dH[0] * fs[0]), ({"h": dH} if states else None)


KIND = MinLSTM()
