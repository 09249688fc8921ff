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

Two loops compute it (``_lstm_loops``): a tuned one for the plain LSTM,
a general one, written for clarity, for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec import Glossary, Name, Option, Phase
from . import _glossary as v
from . import _lstm_backward as bptt
from ._grid import ACT, MID, PRE, TOP
from ._lstm_loops import ORDER, PEEP, FastPlan, GeneralPlan, forward_fast, forward_general
from .base import Kind

# Each gate block's short letter and symbol.
_LETTER = {"input_gate": "i", "forget_gate": "f", "candidate": "g", "output_gate": "o"}   # PyTorch's weight names: W_ii, W_hg, ...
_SYMBOL = {"input_gate": "i", "forget_gate": "f", "candidate": "c̃", "output_gate": "o"}   # the article's symbols: c̃ for the candidate


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
    "given": v.GIVEN,
    "forget": Phase("forget", "Forget gate", "f(t) decides how much of each unit of c(t−1) to keep.",
                    {"title": "遗忘门", "text": "f(t) 决定 c(t−1) 的每个单元保留多少。"}),
    "write": Phase("write", "Input gate and candidate", "The candidate c̃(t) proposes new values; i(t) decides how much of each to write.",
                   {"title": "输入门与候选值", "text": "候选值 c̃(t) 提出新的值；i(t) 决定每个值写入多少。"}),
    "update": Phase("update", "Cell-state update", "c(t) = f(t) ⊙ c(t−1) + i(t) ⊙ c̃(t): keep part of the old state, add part of the new.",
                    {"title": "细胞状态更新", "text": "c(t) = f(t) ⊙ c(t−1) + i(t) ⊙ c̃(t)：保留旧状态的一部分，加上新值的一部分。"}),
    "output": Phase("output", "Output gate", "o(t) decides how much of tanh(c(t)) to expose as h(t).",
                    {"title": "输出门", "text": "o(t) 决定把 tanh(c(t)) 的多少作为 h(t) 输出。"}),
}

COMMON_OPTIONS = (
    Option("forget_bias", 0.0, "Added to the forget gate's pre-activation at run time (TensorFlow v1 uses 1.0).", float,
           zh={"doc": "运行时加到遗忘门的预激活上（TensorFlow v1 用 1.0）。"}),
    Option("cell_clip", None, "Clip c(t) to ±cell_clip after each update (TensorFlow v1's cell_clip); null for no clip.", float,
           minimum=0.0, nullable=True, zh={"doc": "每次更新后把 c(t) 截断到 ±cell_clip（TensorFlow v1 的 cell_clip）；null 表示不截断。"}),
)
PROJ_OPTION = Option("proj_size", 0, "Size of the projection h(t) = W_hr (o ⊙ tanh c(t)); 0 for none (PyTorch's proj_size).", int, minimum=0,
                     zh={"doc": "投影 h(t) = W_hr (o ⊙ tanh c(t)) 的大小；0 表示不投影（PyTorch 的 proj_size）。"})
PEEPHOLE_OPTION = Option("peepholes", True, "Give the gates peephole connections to the cell state, as in Greff et al.'s vanilla LSTM.", bool,
                         zh={"doc": "给门加上通向细胞状态的窥视孔连接，如 Greff 等人的标准（vanilla）LSTM。"})


# Where each name sits in the diagram (kinds/_grid.py): the cell state runs along the top, the four gates in a row
# below it, 2 units apart so that a peephole can come down between two columns and turn into a pre-activation.
POSITIONS = {
    "x": (2.1, 0.3, {"label": "e"}), "h_prev": (0.85, 0.9, {"label": "n"}), "c_prev": (0.85, TOP),
    "forget_gate_pre": (3.1, PRE), "forget_gate": (3.1, ACT),
    "input_gate_pre": (5.1, PRE), "input_gate": (5.1, ACT),
    "candidate_pre": (7.1, PRE), "candidate": (7.1, ACT),
    "kept": (3.1, TOP), "written": (7.1, MID, {"strip": "nw"}), "c": (7.1, TOP),
    "output_gate_pre": (9.1, PRE), "output_gate": (9.1, ACT),
    "tanh_c": (10.6, MID, {"strip": "nw"}), "exposed": (10.6, ACT), "h": (10.6, 0.8),
}
NO_PROJ_POSITIONS = {**POSITIONS, "h": POSITIONS["exposed"]}  # without a projection h(t) takes the place of m(t)
# FGR: last step's gates stand on the left, between h(t−1) and c(t−1), and their bus runs over the pre-activations,
# under the boxes (the gates a little higher), so the gate columns move right to leave it room beside the peepholes.
FGR_POSITIONS = {
    **NO_PROJ_POSITIONS,
    "input_gate_prev": (0.85, PRE + 0.6, {"label": "n"}), "forget_gate_prev": (0.85, PRE + 1.4, {"label": "n"}),
    "output_gate_prev": (0.85, PRE + 2.2, {"label": "n"}),
    "forget_gate_pre": (3.3, PRE), "forget_gate": (3.3, ACT + 0.3), "kept": (3.3, TOP),
    "input_gate_pre": (5.3, PRE), "input_gate": (5.3, ACT + 0.3),
    "candidate_pre": (7.2, PRE), "candidate": (7.2, ACT + 0.3), "written": (7.2, MID, {"strip": "nw"}), "c": (7.2, TOP),
    "output_gate_pre": (9.2, PRE), "output_gate": (9.2, ACT + 0.3),
    "tanh_c": (10.7, MID, {"strip": "nw"}), "h": (10.7, ACT + 0.3),
}

TF1_BLOCKS = (0, 2, 1, 3)  # TensorFlow v1 stores i, j, f, o (j: the candidate) where torch stores i, f, g, o


def _gate_pre(g: str, phase: str, peep: bool, fb: float, recur: tuple[str, ...]) -> Name:
    """One gate's pre-activation, with the terms a variant adds: peepholes, forget_bias, FGR's recurrent gates."""
    extra, tex, ins = "", "", ["x", "h_prev"]
    if peep and g in ("input_gate", "forget_gate"):
        extra, tex = f" + p_{_LETTER[g]} ⊙ c(t−1)", rf" + p_{_LETTER[g]} \odot c_{{t-1}}"
        ins.append("c_prev")
    if peep and g == "output_gate":
        extra, tex = " + p_o ⊙ c(t)", r" + p_o \odot c_t"
        ins.append("c")
    if g == "forget_gate" and fb:
        extra, tex = extra + f" + {fb:g} (forget_bias)", tex + f" + {fb:g}"
    if recur and g != "candidate":
        extra, tex = extra + f" + R_{_LETTER[g]}·[i(t−1), f(t−1), o(t−1)]", tex + rf" + R_{_LETTER[g]} [i_{{t-1}}, f_{{t-1}}, o_{{t-1}}]"
        ins.extend(recur)
    return v.pre(g, _SYMBOL[g], _LETTER[g], phase, tuple(ins), extra, tex)


def _previous_gate(g: str) -> Name:
    """FGR's state: a gate's value at the previous step."""
    words, sym = g.replace("_", " "), f"{_LETTER[g]}(t−1)"
    return Name(f"{g}_prev", f"previous {words} {sym}", sym, "state_in", "unit", "shift", (g,),
                f"{sym}: the {words} of the previous step (0 at t = 0)", f"{_LETTER[g]}_{{t-1}}", "given",
                zh={"label": f"上一步的{v.GATE_ZH[g]} {sym}", "equation": f"{sym}：上一步的{v.GATE_ZH[g]}（t = 0 时为 0）"})


class LSTMFamily(Kind):
    variant = Variant()
    has_cell = True
    #: True: always peepholes; False: never; None: the ``peepholes`` option decides.
    fixed_peepholes: bool | None = False
    block_order = {"tf1": TF1_BLOCKS}  # used only by the kinds that list the tf1 layout (all four blocks)
    state_line = ("c_prev", "kept", "c")
    clamp_terms = {"output_gate_pre": {"c": ("weight_co", None, "diag")},    # the output gate's peephole p_o ⊙ c(t)
                   "h": {"exposed": ("weight_hr", None, "matmul")}}          # the projection h(t) = W_hr·m(t)
    clip_option = "cell_clip"

    @property
    def recurrent_gates(self) -> bool:
        return self.variant.gate_recurrence

    @property
    def remember_block(self) -> str | None:  # type: ignore[override]
        return "forget_gate" if "forget_gate" in self.blocks else None

    def positions(self, glossary):
        return FGR_POSITIONS if "input_gate_prev" in glossary else POSITIONS if "exposed" in glossary else NO_PROJ_POSITIONS

    def memory_roles(self, glossary):
        return {"mem": "c", "what": "cell state", "keep": "forget_gate" if "forget_gate" in glossary else None, "keep_sym": "forget gate f",
                "write": "input_gate" if "input_gate" in glossary else None, "write_sym": "input gate i", "written": "i ⊙ c̃",
                "zh": {"what": "细胞状态", "keep_sym": "遗忘门 f", "write_sym": "输入门 i"}}

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
        keep = {"input_gate": va.input_gate, "forget_gate": va.forget_gate and not va.coupled, "candidate": True, "output_gate": va.output_gate}
        return tuple(g for g in ORDER if keep[g])

    def peepholes(self, opts: dict) -> bool:
        return self.fixed_peepholes if self.fixed_peepholes is not None else bool(opts.get("peepholes"))

    def param_shapes(self, input_size, hidden_size, opts):
        shapes = super().param_shapes(input_size, hidden_size, opts)
        if self.peepholes(opts):
            for gate in self.blocks:
                if gate in PEEP:
                    shapes[PEEP[gate]] = (hidden_size,)
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

    # -- glossary --------------------------------------------------------
    def glossary(self, opts: dict) -> Glossary:
        va, peep, proj = self.variant, self.peepholes(opts), bool(opts.get("proj_size"))
        fb, clip = opts.get("forget_bias") or 0.0, opts.get("cell_clip")
        recur = ("input_gate_prev", "forget_gate_prev", "output_gate_prev") if va.gate_recurrence else ()
        h_range = "real" if proj or va.cell_act == "identity" else "signed"
        names: list[Name] = [v.x(), v.h_prev(h_range, "proj_size" if proj else "hidden_size"), v.c_prev()]
        if va.gate_recurrence:
            names += [_previous_gate(g) for g in ("input_gate", "forget_gate", "output_gate")]

        def gate_pre(g: str, phase: str) -> Name:
            return _gate_pre(g, phase, peep, fb, recur)

        if va.forget_gate and not va.coupled:
            names += [gate_pre("forget_gate", "forget"), v.act("forget_gate", "forget gate f(t)", "f(t)", "sigmoid", "forget", zh="遗忘门 f(t)")]
        if va.input_gate:
            names += [gate_pre("input_gate", "write"), v.act("input_gate", "input gate i(t)", "i(t)", "sigmoid", "write", zh="输入门 i(t)")]
        names += [gate_pre("candidate", "write"),
                  v.act("candidate", "candidate c̃(t)", "c̃(t)", va.candidate_act, "write", role="candidate", zh="候选值 c̃(t)")]
        if va.coupled:
            names.append(v.one_minus("forget_gate", "forget gate f(t) = 1 − i(t)", "f(t)", "input_gate", "i(t)", "forget", zh="遗忘门 f(t) = 1 − i(t)"))
        if va.forget_gate:
            names.append(v.product("kept", "kept f(t) ⊙ c(t−1)", "kept(t)", "forget_gate", "c_prev", "f(t)", "c(t−1)", "update",
                                   zh="保留部分 f(t) ⊙ c(t−1)"))
        else:
            names.append(v.same("kept", "kept = c(t−1) (no forget gate)", "kept(t)", "c_prev", "c(t−1)", "update", "product",
                                zh="保留部分 = c(t−1)（无遗忘门）"))
        if va.input_gate:
            names.append(v.product("written", "written i(t) ⊙ c̃(t)", "written(t)", "input_gate", "candidate", "i(t)", "c̃(t)", "update",
                                   zh="写入部分 i(t) ⊙ c̃(t)"))
        else:
            names.append(v.same("written", "written = c̃(t) (no input gate)", "written(t)", "candidate", "c̃(t)", "update", "product",
                                zh="写入部分 = c̃(t)（无输入门）"))
        names.append(v.total("c", "cell state c(t)", "c(t)", "kept", "written", "kept(t)", "written(t)", "update", clip=clip, zh="细胞状态 c(t)"))
        if va.output_gate:
            names += [gate_pre("output_gate", "output"), v.act("output_gate", "output gate o(t)", "o(t)", "sigmoid", "output", zh="输出门 o(t)")]
        squashed = "c"
        if va.cell_act == "tanh":
            names.append(Name("tanh_c", "squashed cell state tanh(c(t))", "tanh(c(t))", "product", "signed", "tanh", ("c",),
                              "tanh(c(t))", r"\tanh(c_t)", "output", zh={"label": "压缩后的细胞状态 tanh(c(t))"}))
            squashed = "tanh_c"
        ss = {"c": "c(t)", "tanh_c": "tanh(c(t))"}[squashed]
        target = "exposed" if proj else "h"
        label = "exposed o(t) ⊙ tanh(c(t))" if proj else "hidden state h(t)"
        label_zh = "投影前的输出 o(t) ⊙ tanh(c(t))" if proj else "隐藏状态 h(t)"
        role = "product" if proj else "output"
        rng = "signed" if squashed == "tanh_c" else "real"
        sym = "m(t)" if proj else "h(t)"
        if va.output_gate:
            names.append(v.product(target, label, sym, "output_gate", squashed, "o(t)", ss, "output", role=role, rng=rng, zh=label_zh))
        else:
            names.append(v.same(target, label, sym, squashed, ss, "output", role, rng, " (no output gate)", zh=label_zh, why_zh="（无输出门）"))
        if proj:
            names.append(Name("h", "hidden state h(t) (projected)", "h(t)", "output", "real", "affine", ("exposed",),
                              "h(t) = W_hr·m(t)", r"h_t = W_{hr} m_t", "output", "proj_size", {"label": "隐藏状态 h(t)（投影后）"}))
        phases = ["given"] + [p for p in ("forget", "write") if any(n.phase == p for n in names)]
        if va.coupled:
            phases = ["given", "write", "forget"]
        return Glossary(tuple(names), tuple(PHASES[p] for p in phases + ["update", "output"]))

    # -- backward pass (_lstm_backward; cells.backprop batches it) --------
    def tape_forward(self, p, opts, X, start):
        return bptt.forward(self, p, opts, X, start)

    def tape_backward(self, p, opts, cache, dY, dfinal, *, params=True, states=False):
        return bptt.backward(self, p, opts, cache, dY, dfinal, params=params, states=states)

    # -- computation -----------------------------------------------------
    def compile(self, params, opts, dtype):
        if self._is_plain(opts):
            return FastPlan(params, opts.get("forget_bias") or 0.0, dtype)
        return GeneralPlan(self, params, opts, dtype)

    def _is_plain(self, opts) -> bool:
        return (self.variant == Variant() and not self.peepholes(opts) and opts.get("cell_clip") is None
                and not opts.get("proj_size"))

    def forward(self, plan, xs, state):
        if isinstance(plan, FastPlan):
            return forward_fast(plan, xs, state)
        return forward_general(plan, xs, state)


GREFF = "Greff, Srivastava, Koutník, Steunebrink & Schmidhuber 2017, 'LSTM: A Search Space Odyssey', IEEE TNNLS 28(10), arXiv:1503.04069"


class GreffVariant(LSTMFamily):
    """One of Greff et al.'s variants of the vanilla LSTM, which is the peephole LSTM (peephole.py).

    A variant changes one thing, which its :class:`Variant` says; everything
    else is as in the peephole kind: i and f see c(t-1) through the diagonal
    peepholes, o sees c(t); c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t),
    h(t) = o(t) ⊙ tanh(c(t)). The option peepholes=False drops the
    peepholes; forget_bias is offered where the variant keeps a forget gate
    of its own. Weights in the torch layout: weight_ih (G*H, I) and
    weight_hh (G*H, H) with the blocks it keeps in the order i, f, g, o,
    bias_ih and bias_hh, and the peepholes weight_c? of the gates it has.
    """

    reference = GREFF
    fixed_peepholes = None

    def __init__(self, name: str, title: str, variant: Variant, summary: str, zh: dict[str, str] | None = None):
        self.name, self.title, self.summary, self.variant, self.zh = name, title, summary, variant, zh or {}
        own_forget = variant.forget_gate and not variant.coupled  # forget_bias needs a forget gate with a pre-activation
        self.options = (PEEPHOLE_OPTION, *(COMMON_OPTIONS if own_forget else COMMON_OPTIONS[1:]))
