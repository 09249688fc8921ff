"""slstm: the scalar-memory LSTM of xLSTM (Beck, Pöppel, Spanring, Auer, Prudnikova, Kopp, Klambauer, Brandstetter &
Hochreiter 2024, arXiv:2405.04517): exponential gates, a normalizer state, and a stabilizer that keeps them finite.

    [ĩ, f̃, z̃, õ](t) = W x(t) + R h(t-1) + b              pre-activations; R block-diagonal, one block per head
    f̃'(t) = log σ(f̃(t))                                   log of the sigmoid forget gate (the "exp" forget gate: f̃ itself)
    m(t)  = max(f̃'(t) + m(t-1), ĩ(t))                      stabilizer: the larger of the two log gates
    i(t)  = exp(ĩ(t) - m(t)),   f(t) = exp(f̃'(t) + m(t-1) - m(t))    both in (0, 1]
    o(t)  = σ(õ(t)),            z(t) = tanh(z̃(t))          output gate, cell input
    c(t)  = f(t) ⊙ c(t-1) + i(t) ⊙ z(t)                    cell state
    n(t)  = f(t) ⊙ n(t-1) + i(t)                           normalizer: the same sum with z = 1
    h~(t) = c(t) / n(t),        h(t) = o(t) ⊙ h~(t)

**Why m.** Without it, i = exp(ĩ) overflows for ĩ > 88 in float32 (709 in float64). With it, c, n and m hold
C = c·e^m and N = n·e^m, the unstabilized sums, in parts: every exponent above is ≤ 0, and m cancels in c / n.
So h is the same with and without m wherever the unstabilized form is finite; the option ``unstabilized``
computes it without m (i = exp(ĩ), f = σ(f̃) or exp(f̃)), to show the overflow.

**The reference** (PyPI xlstm 2.0.6, ``xlstm/blocks/slstm/src/vanilla/slstm.py``) differs from the paper in two
places, and this module follows the reference: (1) the first step. From an empty state (n(t-1) = 0) it takes
m(t) = ĩ(t), where the paper's recursion from m = 0 gives max(f̃', ĩ); h is the same, but c, n and m differ by a
factor e^m. (2) It clips i and f at 1. With m as above the clip binds only for f at that first step, where
f̃' + m(t-1) > ĩ(t), and f then multiplies c(t-1) = n(t-1) = 0. Here both are one rule on the glossary's
name f̃'(t) + m(t-1): where n(t-1) = 0 it is capped at ĩ(t) (op ``capped_add``); then m(t) = max(…) = ĩ(t) and
f(t) = exp(min(f̃' + m(t-1) − ĩ, 0)) = the reference's min(exp(…), 1), so every exponent stays ≤ 0 and the clip
never binds. The reference tests n = 0 over the whole batch at once (``torch.all``); here each unit tests its own,
so one sequence's numbers never depend on another's (the same for any state the cell itself reaches: n ≥ 1 after
a step). The reference has only the sigmoid forget gate; ``forget="exp"`` is the paper's other choice.

Shapes: x (I,), h, c, n, m (H,); heads K divides H, d = H / K. weight_ih (4H, I) and bias (4H,), blocks ĩ, f̃, z̃,
õ in the reference's order; weight_hh (4H, d): row r of gate block g belongs to head k = (r mod H) // d and reads
h(t-1)'s units k·d … k·d + d − 1 only (the block-diagonal R, stored without its zeros). One bias, as the
reference has it. h(0), c(0), n(0), m(0) = 0 unless given (n and m in ``LayerState.more``).

No parallel form: R h(t-1) passes through the nonlinear gates, so step t needs h(t-1). Beside this module:
cells/kinds/_slstm_backward.py, the backward pass and its adjoint equations; cells/kinds/_slstm_reference.py, R's
storage, the reference's init, the reader of its weights (``from_reference``) and what its layer adds to the cell.
"""

from __future__ import annotations

import numpy as np

from .._math import sigmoid
from ..errors import OptionError
from ..spec import Glossary, Name, Option, Phase
from . import _glossary as v
from . import _slstm_backward as bptt
from ._grid import ACT, PRE, TOP
from ._scratch import CHUNK, ScratchPool
from ._slstm_reference import dense_recurrent, from_reference, reference_init
from .base import Kind, LayerState

# The paper's symbols of the pre-activations, with a combining tilde (U+0303), as the equations' grammar reads them.
I_, F_, Z_, O_ = "i\u0303", "f\u0303", "z\u0303", "o\u0303"
LOGF = F_ + "′"                                   # f̃′ = log σ(f̃)
BLOCKS = ("input_gate", "forget_gate", "candidate", "output_gate")
_TEX = {I_: r"\tilde{i}", F_: r"\tilde{f}", Z_: r"\tilde{z}", O_: r"\tilde{o}"}

#: A first layout on the grid of cells/kinds/_grid.py: the cell state c along the top as in the LSTM, the normalizer
#: n on a line under it, m(t−1) coming in from the left into the stabilizer's column f̃ → f̃′ → f̃′ + m(t−1) →
#: log f → f above f̃, m and log i → i to its right, z and o as the LSTM's boxes, and h̃ = c / n on the n line,
#: fed down from the c line, into h beside o.
POSITIONS = {
    "x": (2.1, 0.3, {"label": "w"}), "h_prev": (0.85, 0.9, {"label": "n"}),
    "c_prev": (0.85, TOP), "n_prev": (0.85, 5.4), "m_prev": (0.85, 3.3),
    "forget_gate_pre": (2.9, PRE), "log_forget": (2.9, 2.45, {"label": "e"}), "forget_carried": (2.9, 3.3, {"label": "se"}),
    "forget_exponent": (2.9, 4.1, {"label": "sw"}), "forget_gate": (2.9, 4.75, {"label": "w"}), "kept": (2.9, TOP),
    "n_kept": (4.3, 5.4, {"strip": "n"}),
    "input_gate_pre": (5.1, PRE), "m": (5.1, 3.3, {"label": "ne"}),
    "input_exponent": (6.6, 3.3), "input_gate": (6.6, 4.1, {"label": "e"}), "n": (6.6, 5.4, {"strip": "n"}),
    "candidate_pre": (8.2, PRE), "candidate": (8.2, ACT), "written": (8.2, 4.4, {"strip": "e"}), "c": (8.2, TOP),
    "output_gate_pre": (9.9, PRE), "output_gate": (9.9, ACT),
    "normalized": (10.6, 5.4, {"strip": "e"}), "h": (11.4, ACT, {"strip": "s"}),
}
#: Without the stabilizer (``unstabilized``) each exponential gate stands straight over its pre-activation.
UNSTABLE_POSITIONS = {**{k: p for k, p in POSITIONS.items() if k not in ("m_prev", "log_forget", "forget_carried", "m",
                                                                        "input_exponent", "forget_exponent")},
                      "forget_gate": (2.9, 3.3, {"label": "e"}), "input_gate": (5.1, 3.3, {"label": "e"})}


# -- the step form ---------------------------------------------------------------------------------------------------
# The loop works on a small row-major scratch (cells.kinds._scratch): row j holds step j's values, each H wide, at
# these slots, and step j writes its states c, n, m, h into row j + 1, where step j + 1 reads them as c(t−1), ....
# Pairs that one call handles together sit side by side: [K, ĩ] − m = the two exponents, exp of them = [f, i],
# tanh([õ/2, z̃]) = [tanh(õ/2), z], f ⊙ [c(t−1), n(t−1)] = [kept, f ⊙ n(t−1)], i ⊙ [z, 1] = [written, i], and
# their sum is [c(t), n(t)]. Each finished chunk of rows is copied into name-major arrays in one call.
SLOTS = ("forget_carried", "input_gate_pre", "forget_gate_pre", "output_gate_pre", "candidate_pre", "log_forget", "m",
         "forget_exponent", "input_exponent", "forget_gate", "input_gate", "tanh_half_o", "candidate", "one",
         "output_gate", "c", "n", "kept", "n_kept", "written", "input_copy", "normalized", "h")
_AT = {name: k for k, name in enumerate(SLOTS)}
_STATES = ("m", "c", "n", "h")      # row j holds their values before step j: x_prev = blk[:T], x = blk[1:]
_PRE_ORDER = (0, 1, 3, 2)           # the scratch's pre-activation blocks ĩ, f̃, õ, z̃ are torch's blocks 0, 1, 3, 2


class Plan:
    """One layer-direction's weights arranged for :func:`steps`: x W and h R as right products, (I, 4H) and (H, 4H),
    their columns in the scratch's block order ĩ, f̃, õ, z̃.

    Two exact rearrangements save calls in the loop (scaling by −1 and ½ changes no bit): the f̃ block is stored
    negated for the stabilized sigmoid forget gate, so one logaddexp gives −log σ(f̃) = softplus(−f̃); the õ block
    is halved, so one tanh gives tanh(õ/2) beside z, and o = (1 + tanh(õ/2)) / 2. :func:`steps` undoes both.
    """

    def __init__(self, p: dict, opts: dict, dtype):
        H, heads = p["weight_hh"].shape[0] // 4, opts["heads"]
        self.H, self.stable, self.exp_forget = H, not opts["unstabilized"], opts["forget"] == "exp"
        self.sign = -1.0 if self.stable and not self.exp_forget else 1.0     # −f̃ for the logaddexp
        scale = np.repeat([1.0, self.sign, 0.5, 1.0], H)[:, None]

        def order(a: np.ndarray) -> np.ndarray:   # torch's blocks (4H, ...) in the scratch's order, scaled
            return np.concatenate([a[k * H:(k + 1) * H] for k in _PRE_ORDER]) * (scale if a.ndim == 2 else scale[:, 0])

        self.Wx = np.ascontiguousarray(order(p["weight_ih"]).T, dtype=dtype)                            # (I, 4H)
        self.Rh = np.ascontiguousarray(order(dense_recurrent(p["weight_hh"], heads)).T, dtype=dtype)    # (H, 4H)
        self.b = order(p["bias"]).astype(dtype)


def _build_scratch(batch: tuple, H: int, dtype):
    """The scratch rows and, for each row, the views its step works on (built once, reused chunk after chunk)."""
    S = np.zeros((CHUNK + 1,) + batch + (len(SLOTS) * H,), dtype)
    S[..., _AT["one"] * H:(_AT["one"] + 1) * H] = 1.0

    def one(row, name, width=1):
        return row[..., _AT[name] * H:(_AT[name] + width) * H]

    def pair(row, name):
        return one(row, name, 2).reshape(batch + (2, H))

    views = []
    for r, nx in zip(S[:-1], S[1:]):
        views.append((
            one(r, "h").dot, one(r, "input_gate_pre", 4), one(r, "forget_gate_pre"), one(r, "log_forget"),
            one(r, "m"), one(r, "forget_carried"), one(r, "input_gate_pre"), one(nx, "m"), pair(r, "forget_carried"),
            one(nx, "m")[..., None, :], pair(r, "forget_exponent"), pair(r, "forget_gate"), one(r, "output_gate_pre", 2),
            one(r, "tanh_half_o", 2), one(r, "tanh_half_o"), one(r, "output_gate"), one(r, "forget_gate")[..., None, :],
            pair(r, "c"), pair(r, "kept"), one(r, "input_gate")[..., None, :], pair(r, "candidate"), pair(r, "written"),
            pair(nx, "c"), one(nx, "c"), one(nx, "n"), one(r, "normalized"), one(nx, "h"),
            one(r, "forget_gate"), one(r, "input_gate")))
    return S, np.empty(batch + (4 * H,), dtype), views


_POOL = ScratchPool(_build_scratch)


def steps(plan: Plan, X: np.ndarray, start: LayerState) -> dict[str, np.ndarray]:
    """The step form over X (T, ..., I) from ``start``: every glossary name but x, each (T, ..., H) and C-contiguous."""
    T, H, dt, stable, exp_forget, batch = len(X), plan.H, plan.Wx.dtype, plan.stable, plan.exp_forget, X.shape[1:-1]
    P = X @ plan.Wx + plan.b                          # (T, ..., 4H): W x(t) + b for every step at once
    blk = np.empty((len(SLOTS), T + 1) + batch + (H,), dt)   # name-major; a state's row t is its value before step t
    add, sub, mul = np.add, np.subtract, np.multiply
    with _POOL.borrow(batch, H, dt) as (S, tmp, views), (np.errstate(over="ignore", invalid="ignore", divide="ignore")
                                                          if not stable else np.errstate()):   # unstabilized: the overflow is the lesson
        for name, value in (("h", start.h), ("c", start.c), ("n", start.more.get("n", 0.0)), ("m", start.more.get("m", 0.0))):
            S[0, ..., _AT[name] * H:(_AT[name] + 1) * H] = value
        empty = S[0, ..., _AT["n"] * H:(_AT["n"] + 1) * H] == 0        # n(−1) = 0: the first step's rule applies
        first = stable and bool(empty.any())
        for t0 in range(0, T, CHUNK):
            k = min(CHUNK, T - t0)
            for (hp_dot, pre, nf, sp, mp, K, pi, mn, KI, mn2, E, FI, oz, TZ, tho, o, f2, CNp, KN, i2, Z1, WI, CNn,
                 cn, nn, hn, hnext, fg, ig), xw in zip(views, P[t0:t0 + k]):
                hp_dot(plan.Rh, tmp)
                add(xw, tmp, out=pre)                   # [ĩ, f̃ (negated), õ/2, z̃] = W x(t) + R h(t−1) + b
                if stable:
                    if exp_forget:
                        add(mp, nf, out=K)              # f̃ + m(t−1)
                    else:
                        np.logaddexp(0.0, nf, out=sp)   # softplus(−f̃) = −log σ(f̃)
                        sub(mp, sp, out=K)              # f̃′ + m(t−1)
                    if first:                           # n(t−1) = 0 only at a first step: n ≥ 1 after any step
                        np.copyto(K, np.minimum(K, pi), where=empty)   # capped at ĩ (module docstring)
                        first = False
                    np.maximum(K, pi, out=mn)           # m(t)
                    sub(KI, mn2, out=E)                 # [f̃′ + m(t−1) − m(t), ĩ − m(t)]
                    np.exp(E, out=FI)                   # [f(t), i(t)]
                else:
                    np.exp(pi, out=ig)                  # i(t) = exp(ĩ)
                    np.exp(nf, out=fg) if exp_forget else sigmoid(nf, out=fg)
                np.tanh(oz, out=TZ)                     # [tanh(õ/2), z(t)]
                mul(tho, 0.5, out=o)
                add(o, 0.5, out=o)                      # o(t) = (1 + tanh(õ/2)) / 2
                mul(f2, CNp, out=KN)                    # [f ⊙ c(t−1), f ⊙ n(t−1)]
                mul(i2, Z1, out=WI)                     # [i ⊙ z, i]
                add(KN, WI, out=CNn)                    # [c(t), n(t)]
                np.divide(cn, nn, out=hn)               # h~(t) = c(t) / n(t)
                mul(o, hn, out=hnext)                   # h(t)
            np.copyto(blk[:, t0:t0 + k], np.moveaxis(S[:k].reshape((k,) + batch + (len(SLOTS), H)), -2, 0))
            S[0] = S[k]
        np.copyto(blk[:, T], np.moveaxis(S[0].reshape(batch + (len(SLOTS), H)), -2, 0))
    blk[_AT["forget_gate_pre"]] *= plan.sign          # undo the loop's scaling: exact
    blk[_AT["output_gate_pre"]] *= 2.0
    names = [n for n in SLOTS if n not in ("tanh_half_o", "one", "input_copy")]
    if not stable:
        names = [n for n in names if n not in ("forget_carried", "log_forget", "m", "forget_exponent", "input_exponent")]
    elif exp_forget:
        names.remove("log_forget")
    else:
        blk[_AT["log_forget"]] *= -1.0                # f̃′ = −softplus(−f̃)
    out = {}
    for name in names:
        if name in _STATES:
            out[name + "_prev"], out[name] = blk[_AT[name], :T], blk[_AT[name], 1:]
        else:
            out[name] = blk[_AT[name], :T]
    return out


def final_state(out: dict[str, np.ndarray]) -> LayerState:
    """The state after the last step: h, c, and n and m in ``more``."""
    more = {k: out[k][-1].copy() for k in ("n", "m") if k in out}
    return LayerState(h=out["h"][-1].copy(), c=out["c"][-1].copy(), more=more)


# -- the kind --------------------------------------------------------------------------------------------------------
def _pre(name: str, gate: str, sym: str, zh: str) -> Name:
    """One block of W x(t) + R h(t−1) + b."""
    s, t = sym[0], _TEX[sym]
    return Name(name, f"{gate} pre-activation {sym}(t)", f"{sym}(t)", "pre", "real", "affine", ("x", "h_prev"),
                f"{sym}(t) = W_{s}·x(t) + R_{s}·h(t−1) + b_{s}", rf"{t}_t = W_{s} x_t + R_{s} h_{{t-1}} + b_{s}", "pre",
                zh={"label": f"{zh}预激活 {sym}(t)"})


def _state_prev(name: str, src: str, sym: str, words: str, zh: str) -> Name:
    return Name(name, f"previous {words} {sym}(t−1)", f"{sym}(t−1)", "state_in", "real", "shift", (src,),
                f"{sym}(t−1): the {words} after the previous step (0 at t = 0)", f"{sym}_{{t-1}}", "given",
                zh={"label": f"上一步的{zh} {sym}(t−1)", "equation": f"{sym}(t−1)：上一步之后的{zh}（t = 0 时为 0）"})


class SLSTM(Kind):
    name = "slstm"
    title = "sLSTM"
    summary = ("xLSTM's scalar LSTM: exponential input and forget gates, kept finite by a stabilizer m(t), a normalizer "
               "n(t) that divides the cell state, and recurrent weights that mix units within each head only (Beck et al. 2024).")
    zh = {"title": "sLSTM（标量 LSTM）",
          "summary": "xLSTM 的标量 LSTM：指数输入门和遗忘门，由稳定器 m(t) 保持有限；细胞状态除以归一化状态 n(t)；"
                     "循环权重只在每个头内部混合单元（Beck 等人，2024）。"}
    reference = ("Beck, Pöppel, Spanring, Auer, Prudnikova, Kopp, Klambauer, Brandstetter & Hochreiter 2024, "
                 "'xLSTM: Extended Long Short-Term Memory', arXiv:2405.04517")
    blocks = BLOCKS                                   # the reference's order: i, f, z, o
    param_names = ("weight_ih", "weight_hh", "bias")  # one bias, as the reference has it
    has_cell = True
    state_line = ("c_prev", "kept", "c")
    reference_classes = ("sLSTMLayer",)
    reference_marks = frozenset({"fgate.weight", "igate.weight", "zgate.weight", "ogate.weight",
                                 "slstm_cell._recurrent_kernel_", "slstm_cell._bias_"})
    options = (
        Option("heads", 1, "Heads of the recurrent weights: R is block-diagonal, each head's units read only that head's "
               "part of h(t−1); hidden_size must be divisible by it (the reference's layer uses 4).", int, minimum=1,
               zh={"doc": "循环权重的头数：R 是分块对角的，每个头的单元只读 h(t−1) 中属于该头的部分；hidden_size 必须能被它整除"
                          "（参考实现的层用 4）。"}),
        Option("forget", "sigmoid", "The forget gate: 'sigmoid', f̃′ = log σ(f̃) (the reference's), or 'exp', f̃′ = f̃ "
               "(the paper's other choice).", str, choices=("sigmoid", "exp"),
               zh={"doc": "遗忘门：σ 门，f̃′ = log σ(f̃)（参考实现所用），或指数门，f̃′ = f̃（论文的另一种选择）。"}),
        Option("unstabilized", False, "Compute the gates without the stabilizer m: i = exp(ĩ), f = σ(f̃) or exp(f̃). "
               "The same h where it is finite; overflows for large pre-activations (to show why m is there).", bool,
               zh={"doc": "不用稳定器 m 计算门：i = exp(ĩ)，f = σ(f̃) 或 exp(f̃)。有限时 h 相同；预激活大时溢出（用来说明 m 的作用）。"}),
    )

    # -- sizes and parameters --------------------------------------------
    def param_shapes(self, input_size, hidden_size, opts):
        heads = opts.get("heads", 1)
        if hidden_size % heads:
            raise OptionError(f"heads: hidden_size {hidden_size} is not divisible by heads {heads}")
        return {"weight_ih": (4 * hidden_size, input_size), "weight_hh": (4 * hidden_size, hidden_size // heads),
                "bias": (4 * hidden_size,)}

    def init_params(self, input_size, hidden_size, opts, rng):
        return reference_init(self.param_shapes(input_size, hidden_size, opts), input_size, hidden_size, opts, rng)

    def carried(self, input_size, hidden_size, opts):
        """n(t), and m(t) unless unstabilized: zeros at the start, the empty state the first step's rule knows."""
        return {k: hidden_size for k in (("n",) if opts.get("unstabilized") else ("n", "m"))}

    def from_reference(self, state, config):
        return from_reference(state, config)

    def zero_state(self, hidden_size, opts, dtype):
        state = super().zero_state(hidden_size, opts, dtype)
        state.more = {k: np.zeros(w, dtype) for k, w in self.carried(hidden_size, hidden_size, opts).items()}
        return state

    # -- what the page reads ---------------------------------------------
    def positions(self, glossary):
        return {k: p for k, p in (POSITIONS if "m" in glossary else UNSTABLE_POSITIONS).items() if k in glossary}

    def memory_roles(self, glossary):
        return {"mem": "c", "what": "cell state", "keep": "forget_gate", "keep_sym": "forget gate f", "write": "input_gate",
                "write_sym": "input gate i", "written": "i ⊙ z", "zh": {"what": "细胞状态", "keep_sym": "遗忘门 f", "write_sym": "输入门 i"}}

    def glossary(self, opts):
        stable, exp_forget = not opts["unstabilized"], opts["forget"] == "exp"
        names = [v.x(), v.h_prev("signed"), v.c_prev(), _state_prev("n_prev", "n", "n", "normalizer state", "归一化状态")]
        if stable:
            names.append(_state_prev("m_prev", "m", "m", "stabilizer state", "稳定器状态"))
        names += [_pre("input_gate_pre", "input gate", I_, "输入门"), _pre("forget_gate_pre", "forget gate", F_, "遗忘门"),
                  _pre("candidate_pre", "cell input", Z_, "单元输入"), _pre("output_gate_pre", "output gate", O_, "输出门")]
        if stable:
            names += self._stabilizer(exp_forget)
        else:
            fn, rng = ("exp", "real") if exp_forget else ("sigmoid", "unit")
            shown, shown_tex = ("exp", r"\exp") if exp_forget else ("σ", r"\sigma")
            names += [
                Name("input_gate", f"input gate i(t) = exp({I_}(t))", "i(t)", "gate", "real", "exp", ("input_gate_pre",),
                     f"i(t) = exp({I_}(t))", r"i_t = \exp(\tilde{i}_t)", "gates", zh={"label": f"输入门 i(t) = exp({I_}(t))"}),
                Name("forget_gate", f"forget gate f(t) = {shown}({F_}(t))", "f(t)", "gate", rng, fn, ("forget_gate_pre",),
                     f"f(t) = {shown}({F_}(t))", rf"f_t = {shown_tex}(\tilde{{f}}_t)", "gates",
                     zh={"label": f"遗忘门 f(t) = {shown}({F_}(t))"})]
        names += [
            Name("output_gate", "output gate o(t)", "o(t)", "gate", "unit", "sigmoid", ("output_gate_pre",),
                 f"o(t) = σ({O_}(t))", r"o_t = \sigma(\tilde{o}_t)", "gates", zh={"label": "输出门 o(t)"}),
            Name("candidate", "cell input z(t)", "z(t)", "candidate", "signed", "tanh", ("candidate_pre",),
                 f"z(t) = tanh({Z_}(t))", r"z_t = \tanh(\tilde{z}_t)", "gates", zh={"label": "单元输入 z(t)"}),
            v.product("kept", "kept f(t) ⊙ c(t−1)", "kept(t)", "forget_gate", "c_prev", "f(t)", "c(t−1)", "update",
                      zh="保留部分 f(t) ⊙ c(t−1)"),
            v.product("written", "written i(t) ⊙ z(t)", "written(t)", "input_gate", "candidate", "i(t)", "z(t)", "update",
                      zh="写入部分 i(t) ⊙ z(t)"),
            v.total("c", "cell state c(t)", "c(t)", "kept", "written", "kept(t)", "written(t)", "update", zh="细胞状态 c(t)"),
            v.product("n_kept", "kept normalizer f(t) ⊙ n(t−1)", "f(t) ⊙ n(t−1)", "forget_gate", "n_prev", "f(t)", "n(t−1)",
                      "update", zh="保留的归一化状态 f(t) ⊙ n(t−1)"),
            v.total("n", "normalizer state n(t)", "n(t)", "n_kept", "input_gate", "f(t) ⊙ n(t−1)", "i(t)", "update",
                    zh="归一化状态 n(t)"),
            Name("normalized", "normalized cell state h̃(t) = c(t) / n(t)", "h̃(t)", "product", "signed", "div", ("c", "n"),
                 "h̃(t) = c(t) / n(t)", r"\tilde{h}_t = \frac{c_t}{n_t}", "output", zh={"label": "归一化的细胞状态 h̃(t) = c(t) / n(t)"}),
            v.product("h", "hidden state h(t)", "h(t)", "output_gate", "normalized", "o(t)", "h̃(t)", "output", role="output",
                      rng="signed", zh="隐藏状态 h(t)"),
        ]
        return Glossary(tuple(names), self._phases(stable))

    @staticmethod
    def _stabilizer(exp_forget: bool) -> list[Name]:
        """f̃′, f̃′ + m(t−1), m(t) and the stabilized gates: every exponent ≤ 0."""
        lf, lf_tex, lf_name = (F_, r"\tilde{f}", "forget_gate_pre") if exp_forget else (LOGF, r"\tilde{f}'", "log_forget")
        carried, carried_tex = f"{lf}(t) + m(t−1)", rf"{lf_tex}_t + m_{{t-1}}"
        out = [] if exp_forget else [
            Name("log_forget", f"log forget gate {LOGF}(t) = log σ({F_}(t))", f"{LOGF}(t)", "pre", "real", "log_sigmoid",
                 ("forget_gate_pre",), f"{LOGF}(t) = log σ({F_}(t))", r"\tilde{f}'_t = \log\sigma(\tilde{f}_t)", "stabilize",
                 zh={"label": f"对数遗忘门 {LOGF}(t) = log σ({F_}(t))"})]
        note, note_zh = f" (at a first step, from n = 0: at most {I_})", f"（第一步、n = 0 时：至多为 {I_}）"
        out += [
            Name("forget_carried", f"carried log scale {carried}", carried, "product", "real", "capped_add",
                 (lf_name, "m_prev", "input_gate_pre", "n_prev"), carried + note,
                 carried_tex + rf" \quad \text{{{note.strip()}}}", "stabilize",
                 zh={"label": f"延续的对数尺度 {carried}", "equation": carried + note_zh,
                     "latex": carried_tex + rf" \quad \text{{{note_zh}}}"}),
            Name("m", "stabilizer state m(t)", "m(t)", "state", "real", "max", ("forget_carried", "input_gate_pre"),
                 f"m(t) = max({carried}, {I_}(t))", rf"m_t = \max({carried_tex}, \tilde{{i}}_t)", "stabilize",
                 zh={"label": "稳定器状态 m(t)"}),
            Name("input_exponent", f"stabilized log input gate log i(t) = {I_}(t) − m(t)", "log i(t)", "pre", "real", "sub",
                 ("input_gate_pre", "m"), f"log i(t) = {I_}(t) − m(t)", r"\log i_t = \tilde{i}_t - m_t", "gates",
                 zh={"label": f"稳定后的对数输入门 log i(t) = {I_}(t) − m(t)"}),
            Name("input_gate", "input gate i(t)", "i(t)", "gate", "unit", "exp", ("input_exponent",),
                 f"i(t) = exp({I_}(t) − m(t))", r"i_t = \exp(\tilde{i}_t - m_t)", "gates", zh={"label": "输入门 i(t)"}),
            Name("forget_exponent", f"stabilized log forget gate log f(t) = {carried} − m(t)", "log f(t)", "pre", "real", "sub",
                 ("forget_carried", "m"), f"log f(t) = {carried} − m(t)", rf"\log f_t = {carried_tex} - m_t", "gates",
                 zh={"label": f"稳定后的对数遗忘门 log f(t) = {carried} − m(t)"}),
            Name("forget_gate", "forget gate f(t)", "f(t)", "gate", "unit", "exp", ("forget_exponent",),
                 f"f(t) = exp({carried} − m(t))", rf"f_t = \exp({carried_tex} - m_t)", "gates", zh={"label": "遗忘门 f(t)"}),
        ]
        return out

    @staticmethod
    def _phases(stable: bool) -> tuple[Phase, ...]:
        pre = Phase("pre", "Pre-activations", "Each gate and the cell input read x(t) and h(t−1). The recurrent weights are "
                    "block-diagonal: a head's units read only that head's part of h(t−1).",
                    {"title": "预激活", "text": "每个门和单元输入都读 x(t) 和 h(t−1)。循环权重是分块对角的："
                                             "一个头的单元只读 h(t−1) 中属于该头的部分。"})
        stabilize = Phase("stabilize", "Stabilizer", "Exponential gates overflow, so the cell carries m(t), the larger of its "
                          "two log gates; the gates are then exponentials of differences from m(t), never above 1.",
                          {"title": "稳定器", "text": "指数门会溢出，所以单元携带 m(t)，即两个对数门中较大的一个；"
                                                   "门于是成为与 m(t) 之差的指数，从不超过 1。"})
        gates = Phase("gates", "Gates", "i(t) and f(t) decide how much to write and keep, o(t) how much to expose; z(t) is "
                      "what may be written." if stable else "i(t) = exp(ĩ) is unbounded: without m it overflows for large ĩ.",
                      {"title": "门", "text": "i(t) 和 f(t) 决定写入和保留多少，o(t) 决定输出多少；z(t) 是可写入的内容。" if stable else
                       "i(t) = exp(ĩ) 没有上界：没有 m 时，ĩ 大了就会溢出。"})
        update = Phase("update", "Cell and normalizer update", "c(t) = f(t) ⊙ c(t−1) + i(t) ⊙ z(t); the normalizer n(t) sums "
                       "the same gates: n(t) = f(t) ⊙ n(t−1) + i(t).",
                       {"title": "细胞状态和归一化状态更新", "text": "c(t) = f(t) ⊙ c(t−1) + i(t) ⊙ z(t)；归一化状态 n(t) 累加同样的门："
                        "n(t) = f(t) ⊙ n(t−1) + i(t)。"})
        output = Phase("output", "Output", "h(t) = o(t) ⊙ c(t) / n(t): a gated weighted mean of what was written. m(t) scales "
                       "c(t) and n(t) alike and cancels.",
                       {"title": "输出", "text": "h(t) = o(t) ⊙ c(t) / n(t)：对写入内容的加权平均再经门控。"
                                               "m(t) 对 c(t) 和 n(t) 的缩放相同，相除后抵消。"})
        return (v.GIVEN, pre, *((stabilize,) if stable else ()), gates, update, output)

    # -- the computation -------------------------------------------------
    def compile(self, params, opts, dtype):
        return Plan(params, opts, dtype)

    def forward(self, plan, xs, state):
        out = steps(plan, xs, state)
        return out, final_state(out)

    # -- backward pass (_slstm_backward; cells.backprop batches it) ------
    def tape_forward(self, p, opts, X, start: LayerState):
        return bptt.tape_forward(self, p, opts, X, start)

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
        return bptt.tape_backward(p, opts, cache, dY, dfinal, params=params, states=states)


KIND = SLSTM()
