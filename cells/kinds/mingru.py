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
carried step by step (:func:`carry`). The same function (:func:`steps`) makes
the trace (T, width) and the backward pass's batch (T, B, width).

**The parallel form** (:func:`scan`, Heinsen 2023, "Efficient parallelization
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

import math

import numpy as np

from .._math import flat_outer, flush, g, sigmoid, softplus
from ..errors import CellsError, ShapeError
from ..spec import Glossary, Name, Phase
from . import _glossary as v
from ._grid import ACT, PRE, TOP
from .base import Kind, LayerState

#: colah's GRU figure with its reset column taken out: h(t−1) along the top, x(t) up from below into the σ box of z
#: and the g box of the candidate; z straight up through its 1 − z to the top ×, and across to the × over the candidate.
POSITIONS = {
    "x": (2.1, 0.3, {"label": "w"}), "h_prev": (0.85, TOP),
    "update_gate_pre": (4.2, PRE), "update_gate": (4.2, ACT), "update_complement": (4.2, 5.5),
    "candidate_pre": (7.0, PRE), "candidate": (7.0, ACT),
    "kept": (4.2, TOP), "written": (7.0, 4.8), "h": (7.0, TOP),
}


# -- what minGRU and minLSTM share -------------------------------------------------
def log_g(a: np.ndarray) -> np.ndarray:
    """log g(a): log(a + 0.5) for a >= 0, log σ(a) = -softplus(-a) below."""
    return np.where(a >= 0, np.log(np.maximum(a, 0.0) + 0.5), -softplus(-a))


def g_slope(pre: np.ndarray, out: np.ndarray) -> np.ndarray:
    """g'(pre), from the pre-activation and g's output: 1 for pre >= 0, σ(pre)(1 − σ(pre)) = out(1 − out) below."""
    return np.where(pre >= 0, 1.0, out * (1.0 - out))


def carry(keep: np.ndarray, write: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """Hs (T + 1, ..., H) with Hs[0] = h0 and Hs[t + 1] = keep[t] ⊙ Hs[t] + write[t]: the step form's one loop."""
    Hs = np.empty((len(keep) + 1,) + np.broadcast_shapes(keep.shape[1:], np.shape(h0)), keep.dtype)
    Hs[0] = h0
    for k, w, hp, hn in zip(keep, write, Hs[:-1], Hs[1:]):
        np.multiply(k, hp, out=hn)   # kept(t)
        hn += w                      # h(t) = kept(t) + written(t)
    return Hs


def scan(log_keep: np.ndarray, log_write: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """h(t) = keep(t) ⊙ h(t−1) + write(t) for every t at once (time on axis 0), from log keep and log write (write > 0):
    Heinsen's log-space scan, h(t) = e^{a*(t)} (h0 + Σ_{k<=t} e^{log write(k) − a*(k)}), a* = cumsum(log keep)."""
    a_star = np.cumsum(log_keep, axis=0)
    return np.exp(a_star + np.logaddexp.accumulate(log_write - a_star, axis=0)) + np.exp(a_star) * h0


def split_rows(weight_ih: np.ndarray, blocks: int, dtype) -> list[np.ndarray]:
    """weight_ih's row blocks, each transposed and contiguous, to multiply x on the right."""
    return [np.ascontiguousarray(w.T, dtype=dtype) for w in np.split(weight_ih, blocks)]


def read_reference(kind: Kind, linear: str, state: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict]:
    """minGRU-pytorch's weights as ours: its one Linear ``linear`` is weight_ih, its chunks our blocks in its order.
    Its expansion_factor other than 1 makes the hidden state wider than the input and adds ``to_out``, a Linear back
    to the input's width after the cell: no option of ours computes that, so it is refused by name."""
    extra = sorted(set(state) - {linear})
    if extra:
        raise CellsError(f"{kind.title}: {', '.join(extra)}: the reference module was built with expansion_factor ≠ 1 "
                         f"(a to_out projection after the cell), which the {kind.name} kind does not compute; "
                         "build it with expansion_factor=1.0")
    w = np.asarray(state[linear])
    if w.ndim != 2 or w.shape[0] % len(kind.blocks):
        raise ShapeError(linear, (f"{len(kind.blocks)}·hidden", "input"), w.shape, f"the blocks {', '.join(kind.blocks)} stacked")
    return {"weight_ih_l0": w}, {}


def torch_linear_init(kind: Kind, input_size: int, hidden_size: int, opts: dict, rng: np.random.Generator) -> dict:
    """nn.Linear's default init, as the reference's Linear has it: U(−1/√I, 1/√I) (bound from the input width)."""
    bound = 1.0 / math.sqrt(input_size)
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in kind.param_shapes(input_size, hidden_size, opts).items()}


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


class MinGRU(Kind):
    name = "mingru"
    title = "minGRU"
    summary = ("A GRU whose update gate and candidate read the input only, never h(t−1): no reset gate, no tanh, "
               "and a parallel scan computes the same states (Feng et al. 2024).")
    zh = {"title": "minGRU（最小 GRU）",
          "summary": "更新门和候选值只读当前输入、不读 h(t−1) 的 GRU：没有重置门，没有 tanh，并行扫描算出同样的状态（Feng 等人，2024）。"}
    reference = "Feng, Tung, Ahmed, Bengio & Hajimirsadeghi 2024, 'Were RNNs all we needed?', arXiv:2410.01201"
    blocks = ("candidate", "update_gate")          # the reference's chunk order: hidden, gate
    param_names = ("weight_ih",)                   # one bias-free Linear of x(t); no weight_hh
    state_line = ("h_prev", "kept", "h")
    reference_classes = ("minGRU",)
    reference_marks = frozenset({"to_hidden_and_gate.weight"})

    def init_params(self, input_size, hidden_size, opts, rng):
        return torch_linear_init(self, input_size, hidden_size, opts, rng)

    def from_reference(self, state, config):
        return read_reference(self, "to_hidden_and_gate.weight", state)

    def positions(self, glossary):
        return POSITIONS

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
            Name("candidate_pre", "candidate pre-activation", "h̃_pre", "pre", "real", "affine", ("x",),
                 "h̃_pre = W_h·x(t)", r"\tilde{h}^{\mathrm{pre}}_t = W_h x_t", "gates", zh={"label": "候选值预激活"}),
            Name("candidate", "candidate h̃(t)", "h̃(t)", "candidate", "real", "g", ("candidate_pre",),
                 "h̃(t) = g(h̃_pre)", r"\tilde{h}_t = g(\tilde{h}^{\mathrm{pre}}_t)", "gates", zh={"label": "候选值 h̃(t)"}),
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

    # -- the computation -------------------------------------------------
    def compile(self, params, opts, dtype):
        return split_rows(params["weight_ih"], len(self.blocks), dtype)

    def forward(self, plan, xs, state):
        out = steps(plan, xs, state.h)
        Hs = out.pop("Hs")
        return out, LayerState(h=Hs[-1].copy())

    def scan(self, params: dict[str, np.ndarray], xs: np.ndarray, h0: np.ndarray | float = 0.0) -> np.ndarray:
        """h(t) for every step of xs (T, ..., I) at once, by the log-space scan, in float64 (the parallel form)."""
        Wh, Wz = split_rows(params["weight_ih"], 2, np.float64)
        xs = np.asarray(xs, np.float64)
        z_pre, n_pre = xs @ Wz, xs @ Wh
        return scan(-softplus(z_pre), -softplus(-z_pre) + log_g(n_pre), h0)   # log(1 − z), log z + log h~

    # -- backward pass ---------------------------------------------------
    def tape_forward(self, p, opts, X, start: LayerState):
        out = steps(self.compile(p, opts, np.float64), X, start.h)
        out["X"] = X
        return out["h"], out, LayerState(h=out["Hs"][-1].copy())

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
        z, n, keep = cache["update_gate"], cache["candidate"], cache["update_complement"]
        dH = adjoints(keep, dY, dfinal)                                             # dh(t) for every t
        dz_pre = dH * (n - cache["h_prev"]) * z * keep                              # dz_pre = dh (h~ − h(t−1)) z (1 − z)
        dn_pre = dH * z * g_slope(cache["candidate_pre"], n)                        # dh~_pre = dh z g'
        dA = np.concatenate([dn_pre, dz_pre], axis=-1)                              # blocks h~, z, as weight_ih's rows
        grads = {"weight_ih": flat_outer(dA, cache["X"])} if params else None
        dh0 = dH[0] * keep[0]                                                       # dh(−1): what h0 gets
        return grads, dA @ p["weight_ih"], LayerState(h=dh0), ({"h": dH} if states else None)


def adjoints(keep: np.ndarray, dY: np.ndarray, dfinal: LayerState | None) -> np.ndarray:
    """dh(t) (T, S, H) for every step: the output's wish dY[t] plus dh(t + 1) ⊙ keep(t + 1), walked from the last step."""
    T, S, H = dY.shape
    dH = np.empty((T, S, H))
    dh = np.zeros((S, H)) if dfinal is None else np.broadcast_to(dfinal.h, (S, H)).copy()
    for t in range(T - 1, -1, -1):
        dh += dY[t]
        dH[t] = dh
        dh = flush(dh * keep[t])      # dh(t−1) from step t
    return dH


KIND = MinGRU()
