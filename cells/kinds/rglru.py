"""rglru: the Real-Gated Linear Recurrent Unit of Griffin and Hawk (De et al. 2024), arXiv:2402.19427.

A diagonal linear recurrence whose decay is gated by the input. Its gates
read u(t) only, never h(t-1), so a scan computes it in parallel:

    u(t)     = W_u x(t) + b_u                              projection (see below)
    r(t)     = σ(W_a u(t) + b_a)                           recurrence gate
    i(t)     = σ(W_x u(t) + b_x)                           input gate
    log a(t) = −c · softplus(Λ) ⊙ r(t),   c = 8            the decay, in logarithms
    a(t)     = exp(log a(t))                               in (0, 1): the share of h(t-1) kept
    h(t)     = a(t) ⊙ h(t-1) + √(1 − a(t)²) ⊙ (i(t) ⊙ u(t))

√(1 − a²) is the paper's normalisation: if h(t-1) and i ⊙ u have unit
variance and are independent, so has h(t), since a² + (1 − a²) = 1.

**The first step of a sequence** is the reference's (PyPI recurrentgemma,
``recurrentgemma/torch/layers.py``, ``RGLRU``): where ``segment_pos == 0`` it
multiplies a by 0 (``rnn_scan``: a * ~reset) and sets the multiplier to 1, so
h = i ⊙ u and h(0) is dropped whatever it was. Here that is a name of its
own, s(t) ("continues": 0 at a sequence's first step, 1 after it), and the
recurrence uses ā(t) = s(t) ⊙ a(t): at a first step ā = 0, so ā² = 0,
√(1 − ā²) = 1 and kept = 0 follow by their own ops, and every equation holds
at every step. Whether a run begins a sequence is its start state's
``more["position"]``, the reference's segment_pos of the run's first step
(0: it begins one); the final state carries position + T. A state without a
position begins a sequence when h(0) is all zeros, a fresh start (the
reference's training mode, segment_pos 0, 1, ...), and continues one
otherwise (its decoding mode: a cache and segment_pos > 0), so a given h0
is never silently dropped. Only a zero state meant as a continuation reads
differently (its first multiplier is 1, not √(1 − a²)): give it a position.

**The projection.** The recurrence is as wide as its input; gatescope's
inputs are often one-hot tokens of another width, so the cell reads
u(t) = W_u x(t) + b_u, always (weight_ih (H, I), bias_ih (H,)): one set of
parameters whatever the sizes, so every layer of a stack, a weights file and
the backward pass have one shape. In Griffin the RG-LRU always sits after a
Linear (the recurrent block's linear_x, then a causal conv1d this kind does
not have); the reference's RG-LRU layer alone reads as W_u = I, b_u = 0
(:func:`from_reference`).

Shapes: x (I,), h (H,). weight_ih (H, I), bias_ih (H,); weight_a and weight_x
(H, H/heads): the block-diagonal gates of the reference (BlockDiagonalLinear,
``heads`` blocks), head k's (out, in) block in rows k·H/heads onwards, applied
as in torch (u_k @ block.T); bias_a, bias_x (H,); weight_lambda (H,) is Λ, the
reference's ``a_param`` (see the note on the paper at :func:`init_lambda`).

**The parallel form** (:meth:`RGLRU.scan`): h(t) = a(t) h(t-1) + b(t) with
b = √(1 − a²) ⊙ i ⊙ u of either sign, so no logarithm of b: an associative
scan over the pairs (a, b), (a1, b1)∘(a2, b2) = (a1 a2, a2 b1 + b2), in
⌈log2 T⌉ NumPy passes (Hillis and Steele), then h(t) = B(t) + A(t) h(0).

The backward pass (tape_forward, tape_backward; cells.backprop batches it),
with dh the adjoint of h(t) and m = √(1 − ā²):

    dh(t-1)  += dh(t) ⊙ ā(t)                             the one step-by-step line
    dm        = dh ⊙ i ⊙ u,    d(i ⊙ u) = dh ⊙ m
    dlog a    = dh ⊙ h(t-1) ⊙ ā − 2 ā² ⊙ dm / √max(4(1 − ā²), 10⁻⁶)
                (0 at a sequence's first step, where ā = 0: a and m are constants there)
    dr_pre    = dlog a ⊙ (−c softplus(Λ)) ⊙ r (1 − r)
    di_pre    = dh ⊙ m ⊙ u ⊙ i (1 − i)
    du        = dh ⊙ m ⊙ i + dr_pre W_a + di_pre W_x
    dΛ        = Σ_t dlog a ⊙ r ⊙ (−c σ(Λ))
The square root's derivative is the reference's SqrtBoundDerivative: 1/(2√y)
capped at 1000, so a decay rounded to 1 (r(t) → 0) gives a finite gradient.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._math import flat_outer, sigmoid, softplus
from ..errors import OptionError
from ..spec import Glossary, Name, Option, Phase
from . import _glossary as v
from ._grid import ACT, PRE, TOP
from ._linear import adjoints, carry
from ._rglru_reference import REFERENCE_NAMES, from_reference
from .base import Kind, LayerState

C = 8.0                   # the paper's and the reference's c: log a = −c · softplus(Λ) ⊙ r
MAX_SQRT_GRADIENT = 1000.0  # the reference's _MAX_SQRT_GRADIENT

#: colah's style: x(t) up into the projection u, whose line runs along the bottom into the σ boxes of r and i and up
#: into the × of i ⊙ u at the right; r's column goes up to log a, which turns right into a; a goes up into the × where
#: s(t) comes in from the left (ā = s ⊙ a), and on up to the top × (kept); ā also runs right through the multiplier
#: √(1 − ā²) into the × of what is written, which goes up into h.
POSITIONS = {
    "x": (2.1, 0.3, {"label": "w"}), "h_prev": (0.85, TOP), "continues": (4.0, 5.5, {"label": "w"}),
    "projection": (2.1, PRE),
    "recurrence_gate_pre": (4.0, PRE), "recurrence_gate": (4.0, ACT),
    "log_decay": (4.0, 4.2), "decay": (6.0, 4.2), "decay_applied": (6.0, 5.5, {"strip": "ne"}),
    "multiplier": (8.0, 5.5, {"label": "s"}),
    "input_gate_pre": (8.4, PRE), "input_gate": (8.4, ACT), "gated": (10.2, ACT),
    "written": (10.2, 5.5, {"strip": "e"}), "kept": (6.0, TOP), "h": (10.2, TOP),
}


class Plan(NamedTuple):
    """One layer-direction's parameters, arranged for the step (cast to the run's dtype once)."""

    Wu: np.ndarray    # (I, H): weight_ih.T
    bu: np.ndarray    # (H,)
    Wa: np.ndarray    # (H, H): the block-diagonal W_a as a dense (in, out) matrix
    ba: np.ndarray
    Wx: np.ndarray    # (H, H): W_x likewise
    bx: np.ndarray
    coef: np.ndarray  # (H,): −c · softplus(Λ), the learned vector log a applies to r


def block_diagonal(stacked: np.ndarray) -> np.ndarray:
    """(H, H/heads) with head k's (out, in) block in its rows -> the dense (in, out) block-diagonal (H, H)."""
    H, bw = stacked.shape
    dense = np.zeros((H, H), stacked.dtype)
    for k in range(0, H, bw):
        dense[k:k + bw, k:k + bw] = stacked[k:k + bw].T
    return dense


def block_gradient(dZ: np.ndarray, U: np.ndarray, bw: int) -> np.ndarray:
    """Σ over steps and rows of head k's outer products dZ_kᵀ U_k, stacked as the weight is: (H, H/heads)."""
    heads = dZ.shape[-1] // bw
    Z, V = dZ.reshape(-1, heads, bw).transpose(1, 2, 0), U.reshape(-1, heads, bw).transpose(1, 0, 2)
    return (Z @ V).reshape(heads * bw, bw)


def init_lambda(rng: np.random.Generator, size: int, min_rad: float = 0.9, max_rad: float = 0.999) -> np.ndarray:
    """The reference's rnn_param_init: exp(−softplus(Λ)), the decay at r = 1/c, drawn with its square uniform on
    [min_rad², max_rad²] ("uniformly on a ring"); Λ = softplus⁻¹(−log rad). The paper writes a = σ(Λ), so its Λ is
    the negative of this one (−softplus(−Λ) = log σ(Λ)); the reference's sign is kept."""
    rad_log = 0.5 * np.log(rng.uniform(min_rad ** 2 + 1e-8, max_rad ** 2 + 1e-8, size))
    return np.log(np.expm1(-rad_log))


def position(h0: np.ndarray, given=None) -> np.ndarray:
    """The segment position of a run's first step, per sequence (h0 is (H,) or (B, H)): ``given`` (a state's
    more["position"]) if there is one; else 0, a sequence's first step, where h0 is all zeros, and 1 where it is not."""
    if given is not None:
        return np.broadcast_to(np.asarray(given, np.int64), np.shape(h0)[:-1])
    return np.any(np.asarray(h0) != 0, axis=-1).astype(np.int64)


def final(Hs: np.ndarray, start: np.ndarray) -> LayerState:
    """The state after the last step: h(T), and the position of the next step."""
    return LayerState(h=Hs[-1].copy(), more={"position": start + (len(Hs) - 1)})


def steps(plan: Plan, X: np.ndarray, h0: np.ndarray, first: np.ndarray) -> dict[str, np.ndarray]:
    """The step form over X (T, ..., I) from h0: every glossary name but x, and Hs (T + 1, ..., H).
    ``first`` (a bool per sequence, shaped as X[0] without its last axis): X[0] is that sequence's first step."""
    out = inputs(plan, X, first)
    Hs = carry(out["decay_applied"], out["written"], h0)                # h(t), one step at a time
    out["kept"] = out["decay_applied"] * Hs[:-1]                        # ā(t) ⊙ h(t−1)
    out["h_prev"], out["h"], out["Hs"] = Hs[:-1], Hs[1:], Hs
    return out


def inputs(plan: Plan, X: np.ndarray, first: np.ndarray) -> dict[str, np.ndarray]:
    """Everything that reads x(t) only, for all steps at once: the gates, the decay and what is written."""
    out = {"projection": X @ plan.Wu + plan.bu}                         # u(t)
    u = out["projection"]
    out["recurrence_gate_pre"] = u @ plan.Wa + plan.ba                  # W_a·u(t) + b_a
    out["input_gate_pre"] = u @ plan.Wx + plan.bx                       # W_x·u(t) + b_x
    r = out["recurrence_gate"] = sigmoid(out["recurrence_gate_pre"])    # r(t)
    i = out["input_gate"] = sigmoid(out["input_gate_pre"])              # i(t)
    out["log_decay"] = r * plan.coef                                    # log a = −c·softplus(Λ) ⊙ r
    out["decay"] = np.exp(out["log_decay"])                             # a(t) in (0, 1]
    s = out["continues"] = np.ones_like(u)                              # s(t): 0 at a sequence's first step
    s[0][first] = 0.0
    out["decay_applied"] = s * out["decay"]                             # ā(t) = s(t) ⊙ a(t): the reference's a·~reset
    comp = -np.expm1(2.0 * out["log_decay"])                            # 1 − a², exact where a is near 1 ...
    comp[0][first] = 1.0                                                # ... and 1 − 0² where ā = 0
    out["multiplier"] = np.sqrt(comp)                                   # √(1 − ā(t)²)
    out["gated"] = i * u                                                # i(t) ⊙ u(t)
    out["written"] = out["multiplier"] * out["gated"]                   # √(1 − ā²) ⊙ i ⊙ u
    return out


def linear_scan(a: np.ndarray, b: np.ndarray, h0: np.ndarray | float) -> np.ndarray:
    """h(t) = a(t) h(t−1) + b(t) for every t (time on axis 0), b of any sign: Hillis and Steele's scan of the pairs
    (a, b) under (a1, b1)∘(a2, b2) = (a1 a2, a2 b1 + b2), ⌈log2 T⌉ passes; then h(t) = B(t) + A(t) h0."""
    A, B, d = a.copy(), b.copy(), 1
    while d < len(A):
        B[d:] = A[d:] * B[:-d] + B[d:]    # the right side is computed whole before it is written
        A[d:] = A[d:] * A[:-d]
        d *= 2
    return B + A * h0


def _pre(gate: str, label: str, sym: str, letter: str, heads: int, zh: str) -> Name:
    """A gate's pre-activation from u(t), through its block-diagonal weight."""
    text, tex = f"{sym}_pre = W_{letter}·u(t) + b_{letter}", rf"{sym}^{{\mathrm{{pre}}}}_t = W_{letter} u_t + b_{letter}"
    if heads == 1:
        return Name(f"{gate}_pre", label, f"{sym}_pre", "pre", "real", "affine", ("projection",), text, tex, "gates", zh={"label": zh})
    note, note_zh = f"(block-diagonal, {heads} heads)", f"（分块对角，{heads} 个头）"     # a note after the equation
    words = {"label": zh, "equation": f"{text} {note_zh}", "latex": rf"{tex} \quad \text{{{note_zh}}}"}
    return Name(f"{gate}_pre", label, f"{sym}_pre", "pre", "real", "affine", ("projection",), f"{text} {note}",
                rf"{tex} \quad \text{{{note}}}", "gates", zh=words)


class RGLRU(Kind):
    name = "rglru"
    title = "RG-LRU"
    summary = ("Griffin's real-gated linear recurrent unit: a diagonal linear recurrence whose decay a(t) is set by a "
               "recurrence gate that reads the input only, with √(1 − a²) scaling what is written; a parallel scan "
               "computes the same states (De et al. 2024).")
    zh = {"title": "RG-LRU（实门控线性循环单元）",
          "summary": ("Griffin 的实门控线性循环单元：对角线性递推，衰减 a(t) 由只读输入的循环门决定，写入部分乘以 √(1 − a²)；"
                      "并行扫描算出同样的状态（De 等人，2024）。"),
          "removed": "没有候选值的激活 g(·)：写入的是投影后的输入本身 i ⊙ u，乘以 √(1 − a²)。"}
    reference = ("De, Smith, Fernando, Botev et al. 2024, 'Griffin: mixing gated linear recurrences with local attention "
                 "for efficient language models', arXiv:2402.19427")
    simplifies = ("mingru", "No activation on the candidate: it writes the projected input itself, i ⊙ u, scaled by √(1 − a²).")
    blocks = ("projection",)          # weight_ih's one block: u(t)
    param_names = ("weight_ih", "bias_ih", "weight_a", "bias_a", "weight_x", "bias_x", "weight_lambda")
    options = (Option("heads", 1, "Number of diagonal blocks of the gates' weights W_a and W_x (the reference's num_heads); "
                      "hidden_size must be a multiple of it.", int, minimum=1, divides="hidden_size",
                      zh={"doc": "门权重 W_a 和 W_x 的对角块数（参考实现的 num_heads）；hidden_size 须为它的倍数。"}),)
    state_line = ("h_prev", "kept", "h")
    reference_classes = ("RGLRU",)                 # recurrentgemma.torch.layers.RGLRU
    reference_marks = frozenset(REFERENCE_NAMES)

    # what-if clamps: a held u(t) moves both gates' pre-activations through the dense block-diagonal weights, a held r(t)
    # moves log a(t) by the decay rate −c·softplus(Λ) (Kind.derived)
    clamp_terms = {"recurrence_gate_pre": {"projection": ("dense_a", None, "matmul")},
                   "input_gate_pre": {"projection": ("dense_x", None, "matmul")},
                   "log_decay": {"recurrence_gate": ("decay_rate", None, "diag")}}

    def from_reference(self, state, config):
        return from_reference(state, config)

    def derived(self, params, opts):
        return {"decay_rate": -C * softplus(np.asarray(params["weight_lambda"])),
                "dense_a": block_diagonal(params["weight_a"]).T, "dense_x": block_diagonal(params["weight_x"]).T}

    def symbols(self, params, opts):
        d = self.derived(params, opts)
        return {"W_u": params["weight_ih"], "b_u": params["bias_ih"], "W_a": d["dense_a"], "b_a": params["bias_a"],
                "W_x": d["dense_x"], "b_x": params["bias_x"], "Λ": params["weight_lambda"], "c": C}

    def param_shapes(self, input_size, hidden_size, opts):
        heads = opts.get("heads", 1)
        if hidden_size % heads:
            raise OptionError(f"heads: got {heads}; hidden_size {hidden_size} is not a multiple of it "
                              "(the gates are block-diagonal, hidden_size / heads units a block)")
        H, bw = hidden_size, hidden_size // heads
        return {"weight_ih": (H, input_size), "bias_ih": (H,), "weight_a": (H, bw), "bias_a": (H,),
                "weight_x": (H, bw), "bias_x": (H,), "weight_lambda": (H,)}

    def init_params(self, input_size, hidden_size, opts, rng):
        """The reference's: the projection as Griffin's linear_x (normal, variance 1/I, bias 0), the gates as
        BlockDiagonalLinear (normal, variance 1/(H/heads), bias 0), Λ by rnn_param_init (min_rad 0.9, max_rad 0.999)."""
        shapes = self.param_shapes(input_size, hidden_size, opts)
        bw = shapes["weight_a"][1]
        out = {name: np.zeros(shape) for name, shape in shapes.items()}
        out["weight_ih"] = rng.normal(0.0, math.sqrt(1.0 / input_size), shapes["weight_ih"])
        out["weight_a"] = rng.normal(0.0, math.sqrt(1.0 / bw), shapes["weight_a"])
        out["weight_x"] = rng.normal(0.0, math.sqrt(1.0 / bw), shapes["weight_x"])
        out["weight_lambda"] = init_lambda(rng, hidden_size)
        return out

    def positions(self, glossary):
        return POSITIONS

    def memory_roles(self, glossary):
        return {"mem": "h", "what": "hidden state", "keep": "decay", "keep_sym": "decay a (the share of h(t−1) kept)",
                "write": "input_gate", "write_sym": "input gate i", "written": "√(1 − ā²) ⊙ i ⊙ u",
                "zh": {"what": "隐藏状态", "keep_sym": "衰减 a（h(t−1) 保留下来的份额）", "write_sym": "输入门 i"}}

    def glossary(self, opts):
        heads = opts.get("heads", 1)
        names = (
            v.x(),
            Name("continues", "sequence continues s(t)", "s(t)", "given", "unit", "given", (),
                 "s(t): 0 at a sequence's first step, 1 after it", "s_t", "given",
                 zh={"label": "序列延续 s(t)", "equation": "s(t)：序列第一步为 0，之后为 1"}),
            v.h_prev("real"),
            Name("projection", "projection u(t)", "u(t)", "candidate", "real", "affine", ("x",),
                 "u(t) = W_u·x(t) + b_u", r"u_t = W_u x_t + b_u", "gates", zh={"label": "投影 u(t)"}),
            _pre("recurrence_gate", "recurrence gate pre-activation", "r", "a", heads, "循环门预激活"),
            v.act("recurrence_gate", "recurrence gate r(t)", "r(t)", "sigmoid", "gates", zh="循环门 r(t)"),
            _pre("input_gate", "input gate pre-activation", "i", "x", heads, "输入门预激活"),
            v.act("input_gate", "input gate i(t)", "i(t)", "sigmoid", "gates", zh="输入门 i(t)"),
            Name("log_decay", "log decay log a(t)", "log a(t)", "pre", "real", "affine", ("recurrence_gate",),
                 "log a(t) = −c·softplus(Λ) ⊙ r(t) (c = 8, a constant)",
                 r"\log a_t = -c\,\mathrm{softplus}(\Lambda) \odot r_t \quad \text{(c = 8, a constant)}", "decay",
                 zh={"label": "a(t) 的对数", "equation": "log a(t) = −c·softplus(Λ) ⊙ r(t)（c = 8，常数）",
                     "latex": r"\log a_t = -c\,\mathrm{softplus}(\Lambda) \odot r_t \quad \text{（c = 8，常数）}"}),
            Name("decay", "decay a(t)", "a(t)", "gate", "unit", "exp", ("log_decay",), "a(t) = exp(log a(t))",
                 r"a_t = \exp(\log a_t)", "decay", zh={"label": "衰减 a(t)"}),
            Name("decay_applied", "decay applied ā(t)", "ā(t)", "gate", "unit", "mul", ("continues", "decay"),
                 "ā(t) = s(t) ⊙ a(t)", r"\bar{a}_t = s_t \odot a_t", "decay", zh={"label": "实际使用的衰减 ā(t)"}),
            Name("multiplier", "input multiplier √(1 − ā(t)²)", "√(1 − ā(t)²)", "gate", "unit", "sqrt_one_minus_square", ("decay_applied",),
                 "√(1 − ā(t)²)", r"\sqrt{1 - \bar{a}_t^2}", "decay", zh={"label": "输入乘数 √(1 − ā(t)²)"}),
            Name("gated", "gated input i(t) ⊙ u(t)", "i(t) ⊙ u(t)", "product", "real", "mul", ("input_gate", "projection"),
                 "i(t) ⊙ u(t)", r"i_t \odot u_t", "update", zh={"label": "门控后的输入 i(t) ⊙ u(t)"}),
            Name("written", "written √(1 − ā(t)²) ⊙ (i(t) ⊙ u(t))", "written(t)", "product", "real", "mul", ("multiplier", "gated"),
                 "written(t) = √(1 − ā(t)²) ⊙ (i(t) ⊙ u(t))", r"\mathrm{written}_t = \sqrt{1 - \bar{a}_t^2} \odot (i_t \odot u_t)",
                 "update", zh={"label": "写入部分 √(1 − ā(t)²) ⊙ (i(t) ⊙ u(t))"}),
            v.product("kept", "kept ā(t) ⊙ h(t−1)", "kept(t)", "decay_applied", "h_prev", "ā(t)", "h(t−1)", "update",
                      zh="保留部分 ā(t) ⊙ h(t−1)"),
            v.total("h", "hidden state h(t)", "h(t)", "kept", "written", "kept(t)", "written(t)", "update", role="output",
                    zh="隐藏状态 h(t)"),
        )
        phases = (v.GIVEN,
                  Phase("gates", "Projection and gates from x(t)",
                        "u(t) is a linear projection of x(t); the recurrence gate r(t) and the input gate i(t) read u(t) only, "
                        "never h(t−1).",
                        {"title": "由 x(t) 算出的投影和门",
                         "text": "u(t) 是 x(t) 的线性投影；循环门 r(t) 和输入门 i(t) 只读 u(t)，从不读 h(t−1)。"}),
                  Phase("decay", "Decay",
                        "The recurrence gate r(t) sets the decay a(t) between 0 and 1: the larger r(t), the smaller a(t) and "
                        "the faster a unit forgets. What is written is scaled by the square root of 1 − ā(t) ⊙ ā(t), so h(t) "
                        "keeps its size. At a sequence's first step s(t) = 0 makes ā(t) = 0: nothing is kept and the input "
                        "is written whole.",
                        {"title": "衰减",
                         "text": "循环门 r(t) 把衰减 a(t) 定在 0 和 1 之间：r(t) 越大，a(t) 越小，单元忘得越快。写入的部分乘以 "
                                 "1 − ā(t) ⊙ ā(t) 的平方根，使 h(t) 保持大小。序列第一步 s(t) = 0 使 ā(t) = 0：什么也不保留，"
                                 "输入整个写入。"}),
                  Phase("update", "Update", "h(t) = ā(t) ⊙ h(t−1) + written(t).",
                        {"title": "更新", "text": "新的隐藏状态：h(t) = ā(t) ⊙ h(t−1) + written(t)。"}))
        return Glossary(names, phases)

    # -- the computation -------------------------------------------------
    def compile(self, params, opts, dtype):
        p = params
        return Plan(np.ascontiguousarray(p["weight_ih"].T, dtype), np.asarray(p["bias_ih"], dtype),
                    block_diagonal(np.asarray(p["weight_a"], dtype)), np.asarray(p["bias_a"], dtype),
                    block_diagonal(np.asarray(p["weight_x"], dtype)), np.asarray(p["bias_x"], dtype),
                    np.asarray(-C * softplus(np.asarray(p["weight_lambda"], np.float64)), dtype))

    def forward(self, plan, xs, state):
        start = position(state.h, state.more.get("position"))
        out = steps(plan, xs, state.h, start == 0)
        return out, final(out.pop("Hs"), start)

    def scan(self, params: dict[str, np.ndarray], xs: np.ndarray, h0: np.ndarray | float = 0.0, start=None) -> np.ndarray:
        """h(t) for every step of xs (T, ..., I) at once, by the associative scan, in float64 (the parallel form);
        ``start`` is the position of xs[0], read off h0 when None, as the step form reads it (:func:`position`)."""
        xs = np.asarray(xs, np.float64)
        h0 = np.broadcast_to(np.asarray(h0, np.float64), xs.shape[1:-1] + (params["weight_lambda"].shape[0],))
        out = inputs(self.compile(params, {}, np.float64), xs, position(h0, start) == 0)
        return linear_scan(out["decay_applied"], out["written"], h0)

    # -- backward pass ---------------------------------------------------
    def tape_forward(self, p, opts, X, start: LayerState):
        first = position(start.h, start.more.get("position"))
        plan = self.compile(p, opts, np.float64)
        out = steps(plan, X, start.h, first == 0)
        out.update(X=X, plan=plan)
        return out["h"], out, final(out["Hs"], first)

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
        plan, a, r, i, u = cache["plan"], cache["decay_applied"], cache["recurrence_gate"], cache["input_gate"], cache["projection"]
        m = cache["multiplier"]
        comp = m * m                                                            # 1 − ā²
        dH = adjoints(a, dY, dfinal)                                            # dh(t) for every t
        dm = dH * cache["gated"]                                                # d√(1 − ā²)
        dgated = dH * m                                                         # d(i ⊙ u)
        dcomp = dm / np.sqrt(np.maximum(4.0 * comp, 1.0 / MAX_SQRT_GRADIENT ** 2))   # the reference's bounded √′
        # through ā = s·e^{log a} and 1 − e^{2 log a}; both terms are 0 at a first step, where ā = 0
        dlog = dH * cache["h_prev"] * a - 2.0 * a * a * dcomp
        dr_pre = dlog * plan.coef * r * (1.0 - r)
        di_pre = dgated * u * i * (1.0 - i)
        du = dgated * i + dr_pre @ plan.Wa.T + di_pre @ plan.Wx.T
        grads = None
        if params:
            bw = p["weight_a"].shape[1]
            sum_rows = tuple(range(du.ndim - 1))
            grads = {"weight_ih": flat_outer(du, cache["X"]), "bias_ih": du.sum(axis=sum_rows),
                     "weight_a": block_gradient(dr_pre, u, bw), "bias_a": dr_pre.sum(axis=sum_rows),
                     "weight_x": block_gradient(di_pre, u, bw), "bias_x": di_pre.sum(axis=sum_rows),
                     "weight_lambda": (dlog * r).sum(axis=sum_rows) * -C * sigmoid(np.asarray(p["weight_lambda"], np.float64))}
        dh0 = dH[0] * a[0]                                                      # 0 at a sequence's first step
        return grads, du @ p["weight_ih"], LayerState(h=dh0), ({"h": dH} if states else None)


KIND = RGLRU()
