"""ssm: Mamba's selective state space layer, S6, and the Mamba block around it (Gu & Dao 2023, arXiv:2312.00752).

Each of the D channels (D = hidden_size) keeps N numbers (option state_size): the state s(t), D × N (the paper's h(t);
here h is the layer's output, as in every kind). The step size Δ(t) is the gate: a large Δ forgets the state and
writes the input, a small one holds it. Δ, B and C read the input, so the state selects what to keep:

    Δ(t)  = softplus(W_Δ·(W_r·u(t)) + b_Δ)           per channel; W_r takes u down to rank R, W_Δ back up to D
    B(t)  = W_B·u(t),   C(t) = W_C·u(t)              N numbers each, shared by the channels
    Ā(t)  = exp(Δ(t) ⊗ A),   A = −exp(A_log)         the decay, D × N, in (0, 1]
    s(t)  = Ā(t) ⊙ s(t−1) + (Δ(t) ⊙ u(t)) ⊗ B(t)     kept + written (the paper's B̄ x with B̄ = Δ B, as the reference)
    y(t)  = s(t)·C(t) + D ⊙ u(t)                     each channel reads its N numbers through C; D is a skip

(a ⊗ b)[d, n] = a[d]·b[n]; s·C sums over n. The state is flattened row-major (d, n): the glossary's "state_size" is
D·N; B(t) and C(t) are N wide ("state_width"), the same N numbers for every channel.

**The block** (option block, default true: mambapy's MambaBlock, the paper's Figure 3): in_proj makes two branches,
u_pre = W_u·x(t) and z(t) = W_z·x(t); u_pre passes a causal depthwise convolution over its last d_conv values (the
last d_conv − 1 inputs are carried state) and SiLU, to give u(t); y(t) is gated by g(t) = SiLU(z(t)); with proj_size
P, out_proj W_out (P × D) writes it back to the model width (PyTorch's projection, weight_hr), so layers stack. Without
the block, u(t) = W_u·x(t) and h(t) = y(t) (or W_out·y(t)). Parameter names: Mamba.param_shapes; the carried state: Mamba.carried.

**One forward pass** (:func:`steps`): all but s(t) is computed for the whole sequence at once (the convolution is causal,
nothing else reads the past); s(t) is carried step by step (:func:`recur`), for the trace and the backward pass's batch.
**The parallel form** (:func:`parallel`): s(t) = Ā(t) s(t−1) + w(t) is diagonal per (d, n), an associative scan over the pairs
(Ā, w), (a₁, w₁)∘(a₂, w₂) = (a₁a₂, a₂w₁ + w₂): mambapy's pscan operator, in its log-depth doubling form, exact for signed writes.

The backward pass (:func:`backward`), with ds the adjoint of s(t) and dy of y(t):

    dy = dh·W_out ⊙ g,  dz = dh·W_out ⊙ y ⊙ SiLU′(z);  ds(t) = dy(t) ⊗ C(t) + Ā(t+1) ⊙ ds(t+1)   (the one loop)
    dC = Σ_d dy ⊙ s;  dΔA = ds ⊙ s(t−1) ⊙ Ā;  dA_log = Σ dΔA ⊙ Δ ⊙ A;  d(Δu) = Σ_n ds ⊙ B;  dB = Σ_d ds ⊙ Δu
    dΔ_pre = (Σ_n dΔA ⊙ A + d(Δu) ⊙ u) ⊙ σ(Δ_pre);  du = D ⊙ dy + d(Δu) ⊙ Δ + (back through W_r, W_B, W_C)
    du_pre(t − k) += w_k ⊙ du(t) ⊙ SiLU′(u_conv(t));  dx = du_pre·W_u + dz·W_z
"""

from __future__ import annotations

import math

import numpy as np

from .._math import silu, softplus
from ..errors import ShapeError
from ..spec import Glossary, Name, Option, Phase, tex
from . import _glossary as v
from ._grid import ACT, PRE, TOP
from ._ssm_backward import backward
from ._ssm_reference import REFERENCE_MARKS, from_reference
from .base import Kind, LayerState

#: A first layout (Figure 3 of the paper on its side): u_pre → u_conv → u(t) along the bottom, z(t) → g(t) up the right; u(t) fans out
#: into Δ (up the left to Ā and the top ×), B (with Δ ⊙ u into the write, up to the +), C (into the read-out) and the skip.
#: PROJECTED: with the block and out_proj, y(t) ⊙ g(t) first, then the projection above it.
POSITIONS = {
    "x": (0.9, 0.3, {"label": "e"}), "u_pre": (0.9, PRE), "u_conv": (2.9, PRE), "u": (4.9, PRE),
    "output_gate_pre": (11.6, PRE), "output_gate": (11.6, ACT), "delta_pre": (2.9, ACT), "delta": (2.9, 4.0, {"label": "w"}),
    "delta_A": (2.9, 5.0, {"label": "w"}), "decay": (2.9, 5.9, {"label": "e"}), "delta_u": (4.9, 4.0), "B": (6.4, ACT), "written": (6.4, 4.0),
    "state_prev": (0.9, TOP, {"label": "se"}), "kept": (2.9, TOP), "state": (6.4, TOP),
    "C": (8.4, ACT), "readout": (8.4, 5.3, {"label": "nw"}), "skip": (9.9, PRE), "y": (9.9, 5.3), "h": (11.6, 5.3),
}
PROJECTED = {**POSITIONS, "y": (9.9, 5.3, {"label": "nw"}), "gated": (11.6, 5.3, {"strip": "s"}), "h": (11.6, 6.2, {"label": "w"})}


# -- the arithmetic -------------------------------------------------------------------------------------------------


def room(decay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fresh (Ss, kept) for a scan of ``decay`` (T, ...): (T + 1, ...) and (T, ...)."""
    return np.empty((len(decay) + 1,) + decay.shape[1:], decay.dtype), np.empty_like(decay)


def recur(decay: np.ndarray, written: np.ndarray, s0: np.ndarray, out=None) -> tuple[np.ndarray, np.ndarray]:
    """The step form's one loop, into ``out`` = (Ss, kept) (:func:`room` if None): Ss[0] = s0, Ss[t + 1] = decay[t] ⊙ Ss[t]
    + written[t], and kept = decay ⊙ Ss[:-1], made after the loop in one multiply: the loop's own products, bit for bit."""
    (Ss, kept), T, mul, add = out or room(decay), len(decay), np.multiply, np.add
    Ss[0] = s0
    # Flat rows, positional outs and a product that stays in the cache: the loop's time is mostly its calls' overhead
    rows, product = Ss.reshape(T + 1, -1), np.empty(Ss[0].size, Ss.dtype)
    s = rows[0]
    for a, w, s_next in zip(decay.reshape(T, -1), written.reshape(T, -1), rows[1:]):
        add(mul(a, s, product), w, s_next)    # s(t) = Ā(t) ⊙ s(t−1) + written(t)
        s = s_next
    mul(decay, Ss[:-1], kept)                 # kept(t) = Ā(t) ⊙ s(t−1)
    return Ss, kept


def parallel(decay: np.ndarray, written: np.ndarray, s0: np.ndarray, out=None) -> tuple[np.ndarray, np.ndarray]:
    """The same (Ss, kept) by the associative scan: after the round of stride k, entry t holds the map s ↦ a·s + w of
    the steps t − 2k + 1 … t, so log₂ T rounds cover them all."""
    (Ss, kept), a = out or room(decay), decay.copy()
    Ss[0], Ss[1:] = s0, written
    w = Ss[1:]                            # the writes, then the states, in place
    w[0] += a[0] * s0                     # the first map applied to s0: every prefix then starts from 0
    for k in (1 << i for i in range((len(a) - 1).bit_length())):   # strides 1, 2, 4, … below T
        w[k:] += a[k:] * w[:-k]           # (a₁, w₁)∘(a₂, w₂): w = a₂ w₁ + w₂ (the right side is read first)
        a[k:] *= a[:-k]                   #                    a = a₁ a₂
    np.multiply(decay, Ss[:-1], kept)
    return Ss, kept


def plan_of(p: dict[str, np.ndarray], dtype) -> dict:
    """One layer's weights in the run's dtype, transposed to multiply rows on the right: conv (K, D), tap j reading u_pre(t − K + 1 + j);
    W_x, x_proj's chunks [W_r; W_B; W_C] in one matmul; A = −exp(A_log). Absent parts are None; K is 1 without the block."""
    t = {name: np.ascontiguousarray(a.T, dtype=dtype) for name, a in p.items()}
    W_x = np.concatenate([p["x_proj_dt"], p["x_proj_B"], p["x_proj_C"]]).T
    return {"W_u": t["weight_ih"], "W_z": t.get("weight_iz"), "conv": t.get("conv_weight"), "conv_bias": t.get("conv_bias"),
            "W_x": np.ascontiguousarray(W_x, dtype=dtype), "W_dt": t["dt_proj_weight"], "b_dt": t["dt_proj_bias"],
            "A": (-np.exp(p["A_log"].astype(np.float64))).astype(dtype), "D": t["D"], "W_out": t.get("weight_hr"),
            "R": len(p["x_proj_dt"]), "K": p["conv_weight"].shape[1] if "conv_weight" in p else 1}


def run(plan: dict, X: np.ndarray, more: dict, scan=None) -> dict[str, np.ndarray]:
    """:func:`steps` from a LayerState's ``more`` (Mamba.carried): "state" (*batch, D·N) and "u_pre" (*batch, (K − 1)·D), zeros
    for what it lacks, each checked against its shape; with underflow allowed (a decay that underflows is a state forgotten)."""
    (D, N), K, batch, dtype = plan["A"].shape, plan["K"], X.shape[1:-1], X.dtype
    s0, window = more.get("state"), more.get("u_pre")
    if s0 is not None and np.shape(s0) != batch + (D * N,):
        raise ShapeError("state", batch + (D * N,), np.shape(s0), "the SSM state s: D·N values, flattened (d, n) row-major")
    if window is not None and np.shape(window) != batch + ((K - 1) * D,):
        raise ShapeError("u_pre", batch + ((K - 1) * D,), np.shape(window), "the convolution's window: u_pre's last d_conv − 1 values, oldest first")
    s0 = np.zeros(batch + (D, N), dtype) if s0 is None else np.asarray(s0, dtype).reshape(batch + (D, N))
    window = np.zeros((K - 1,) + batch + (D,), dtype) if window is None else np.moveaxis(np.asarray(window, dtype).reshape(batch + (K - 1, D)), -2, 0)
    with np.errstate(under="ignore"):
        return steps(plan, X, s0, window, scan or recur)


def steps(plan: dict, X: np.ndarray, s0: np.ndarray, window: np.ndarray, scan=recur) -> dict[str, np.ndarray]:
    """The step form over X (T, ..., I): every glossary name but x (state-sized ones (T, ..., D, N); B and C (T, ..., N)),
    with Ss (T + 1, ..., D, N), the convolution's input ``pad`` (K − 1 + T, ..., D) and Δ's rank-R code ``low``."""
    T, out, block = len(X), {}, plan["W_z"] is not None
    if block:
        u_pre = X @ plan["W_u"]                                     # the SSM branch of in_proj
        pad = np.concatenate([window, u_pre])                       # the K − 1 carried inputs, then this chunk's
        conv = plan["conv_bias"] + pad[:T] * plan["conv"][0]
        for j in range(1, plan["K"]):                               # causal and depthwise: tap j reads pad[t + j]
            conv += pad[j:j + T] * plan["conv"][j]
        z = X @ plan["W_z"]                                         # the gate branch of in_proj
        out |= {"u_pre": u_pre, "u_conv": conv, "u": silu(conv), "output_gate_pre": z, "output_gate": silu(z), "pad": pad}
    else:
        out["u"] = X @ plan["W_u"]
    u, N, R = out["u"], plan["A"].shape[1], plan["R"]
    low, B, C = np.split(u @ plan["W_x"], [R, R + N], axis=-1)     # x_proj: Δ's rank-R code, B(t), C(t)
    out |= {"low": low, "delta_pre": low @ plan["W_dt"] + plan["b_dt"]}   # dt_proj
    out["delta"] = delta = softplus(out["delta_pre"])               # Δ(t) > 0
    out["delta_u"] = delta * u                                      # Δ(t) ⊙ u(t)
    # The (d, n) names, T·D·N values each, and the states: the trace keeps all five, and faulting their fresh pages in is
    # much of a run's time, so they are views of one array (one mapping, not five; a trace that keeps one name keeps
    # them all) and nothing that size is made twice. A broadcast copy fills a name and an in-place product on whole rows
    # finishes it: a broadcast product a[d]·b[n] would loop over N values at a time.
    grid = np.empty((5 * T + 1,) + delta.shape[1:] + (N,), delta.dtype)      # (5T + 1, ..., D, N)
    Ss, kept, delta_A, decay, written = np.split(grid, [T + 1 + k * T for k in range(4)])
    out |= {"B": np.ascontiguousarray(B), "C": np.ascontiguousarray(C), "delta_A": delta_A, "decay": decay, "written": written,
            "kept": kept}
    np.copyto(delta_A, delta[..., None])                            # Δ(t) for each of the N values,
    delta_A *= plan["A"]                                            # ⊙ A: Δ(t) ⊗ A ≤ 0
    np.exp(delta_A, out=decay)                                      # Ā(t) in (0, 1]: never overflows
    np.copyto(written, out["delta_u"][..., None])
    written *= out["B"][..., None, :]                               # (Δ(t) ⊙ u(t)) ⊗ B(t)
    scan(decay, written, s0, (Ss, kept))                            # s(t) and Ā(t) ⊙ s(t−1), step by step (or the scan)
    out["readout"] = (Ss[1:] @ C[..., None])[..., 0]                # s(t)·C(t), C(t)'s N numbers
    out["skip"] = plan["D"] * u                                     # D ⊙ u(t)
    out["y"] = out["readout"] + out["skip"]
    last = out["y"] * out["output_gate"] if block else out["y"]     # y(t) ⊙ SiLU(z(t)) with the block
    if plan["W_out"] is not None and block:
        out["gated"] = last
    out["h"], out["Ss"] = (last @ plan["W_out"] if plan["W_out"] is not None else last), Ss   # out_proj
    return out


# -- the glossary ---------------------------------------------------------------------------------------------------
#: name (" …": a variant): label, symbol, role, op, operands, equation, phase, Chinese label, size (hidden_size if absent)
S, N, P = "state_size", "state_width", "proj_size"
NAMES = {
    "u_pre": ("SSM branch before the convolution", "u_pre", "pre", "affine", "x", "u_pre = W_u·x(t)", "branches", "卷积前的 SSM 分支"),
    "u_conv": ("causal convolution", "u_conv", "pre", "affine", "u_pre", "", "branches", "因果卷积"),   # conv(K): its K taps
    "u": ("SSM input u(t)", "u(t)", "candidate", "silu", "u_conv", "u(t) = SiLU(u_conv)", "branches", "SSM 的输入 u(t)"),
    "u bare": ("SSM input u(t)", "u(t)", "candidate", "affine", "x", "u(t) = W_u·x(t)", "branches", "SSM 的输入 u(t)"),
    "output_gate_pre": ("gate branch z(t)", "z(t)", "pre", "affine", "x", "z(t) = W_z·x(t)", "branches", "门控分支 z(t)"),
    "output_gate": ("gate SiLU(z(t))", "g(t)", "gate", "silu", "output_gate_pre", "g(t) = SiLU(z(t))", "output", "门 SiLU(z(t))"),
    "delta_pre": ("step size pre-activation", "Δ_pre", "pre", "affine", "u", "Δ_pre = W_Δ·(W_r·u(t)) + b_Δ", "select", "步长预激活"),
    "delta": ("step size Δ(t)", "Δ(t)", "gate", "softplus", "delta_pre", "Δ(t) = softplus(Δ_pre)", "select", "步长 Δ(t)"),
    "B": ("input matrix B(t), shared by the channels", "B(t)", "candidate", "affine", "u", "B(t) = W_B·u(t)", "select", "输入矩阵 B(t)，各通道共用", N),
    "C": ("output matrix C(t), shared by the channels", "C(t)", "candidate", "affine", "u", "C(t) = W_C·u(t)", "select", "输出矩阵 C(t)，各通道共用", N),
    "delta_A": ("log of the decay Ā(t)", "ΔA(t)", "pre", "affine", "delta", "ΔA(t) = Δ(t) ⊗ A", "discretize", "衰减 Ā(t) 的对数", S),
    "decay": ("decay Ā(t)", "Ā(t)", "gate", "exp", "delta_A", "Ā(t) = exp(ΔA(t))", "discretize", "衰减 Ā(t)", S),
    "delta_u": ("step-scaled input", "Δu(t)", "product", "mul", "delta u", "Δu(t) = Δ(t) ⊙ u(t)", "update", "按步长缩放的输入"),
    "written": ("written Δu(t) ⊗ B(t)", "written(t)", "product", "outer", "delta_u B", "written(t) = Δu(t) ⊗ B(t)", "update", "写入 Δu(t) ⊗ B(t)", S),
    "kept": ("kept Ā(t) ⊙ s(t−1)", "kept(t)", "product", "mul", "decay state_prev", "kept(t) = Ā(t) ⊙ s(t−1)", "update", "保留部分 Ā(t) ⊙ s(t−1)", S),
    "state": ("SSM state s(t) (paper: h(t))", "s(t)", "state", "add", "kept written", "s(t) = kept(t) + written(t)", "update",
              "SSM 状态 s(t)（论文的 h(t)）", S),
    "readout": ("read out s(t)·C(t)", "read(t)", "product", "contract", "state C", "read(t) = s(t)·C(t)", "read", "读出 s(t)·C(t)"),
    "skip": ("skip D ⊙ u(t)", "skip(t)", "product", "affine", "u", "skip(t) = D ⊙ u(t)", "read", "跳连 D ⊙ u(t)"),
    "y": ("SSM output y(t)", "y(t)", "product", "add", "readout skip", "y(t) = read(t) + skip(t)", "read", "SSM 输出 y(t)"),
    "gated": ("gated output y(t) ⊙ g(t)", "gated(t)", "product", "mul", "y output_gate", "gated(t) = y(t) ⊙ g(t)", "output", "门控输出 y(t) ⊙ g(t)"),
    "h gated": ("output h(t)", "h(t)", "output", "affine", "gated", "h(t) = W_out·gated(t)", "output", "输出 h(t)", P),
    "h gate": ("output h(t) = y(t) ⊙ g(t)", "h(t)", "output", "mul", "y output_gate", "h(t) = y(t) ⊙ g(t)", "output", "输出 h(t) = y(t) ⊙ g(t)"),
    "h y": ("output h(t)", "h(t)", "output", "affine", "y", "h(t) = W_out·y(t)", "output", "输出 h(t)", P),
}
SSM = ("delta_pre", "delta", "B", "C", "delta_A", "decay", "delta_u", "written", "state_prev", "kept", "state", "readout", "skip", "y")
#: LaTeX beyond cells.spec.tex's rules: Greek, the bar, the outer product, the functions; the convolution's sum in full
TEX = (("Δ", r"\Delta "), ("Ā", r"\bar{A}"), (" ⊗ ", r" \otimes "), ("SiLU(", r"\mathrm{SiLU}("), ("softplus(", r"\mathrm{softplus}("),
       ("exp(", r"\exp("), ("W_out", r"W_{\mathrm{out}}"), ("u_{conv}", r"u^{\mathrm{conv}}_t"))


def conv(K: int) -> tuple[str, str]:
    """The causal convolution's equation, its K taps written out (w_k weighs u_pre k steps back), and its LaTeX."""
    back = [("u_pre", r"u^{\mathrm{pre}}_t")] + [(f"u_pre(t−{k})", rf"u^{{\mathrm{{pre}}}}_{{t-{k}}}") for k in range(1, K)]
    text = " + ".join(f"w_{k} ⊙ {b}" for k, (b, _) in enumerate(back))
    latex = " + ".join(rf"w_{k} \odot {b}" for k, (_, b) in enumerate(back))
    return f"u_conv = {text} + b_conv", rf"u^{{\mathrm{{conv}}}}_t = {latex} + b_{{\mathrm{{conv}}}}"


def name(key: str, K: int = 4) -> Name:
    if key == "state_prev":
        return Name("state_prev", "previous SSM state s(t−1)", "s(t−1)", "state_in", "real", "shift", ("state",), "s(t−1): the SSM state after "
                    "the previous step (s0 at t = 0)", "s_{t-1}", "given", "state_size",
                    {"label": "上一步的 SSM 状态 s(t−1)", "equation": "s(t−1)：上一步之后的 SSM 状态（t = 0 时为 s0）"})
    label, sym, role, op, operands, text, phase, zh, *size = NAMES[key]
    rng = "unit" if key == "decay" else "real"
    if key == "u_conv":
        text, latex = conv(K)
    else:
        latex = tex(text)
    for plain, typeset in TEX:
        latex = latex.replace(plain, typeset)
    return Name(key.split()[0], label, sym, role, rng, op, tuple(operands.split()), text, latex, phase, *size or ["hidden_size"], {"label": zh})


def glossary_names(block: bool, out: bool, K: int) -> tuple[Name, ...]:
    front = ("u_pre", "u_conv", "u", "output_gate_pre", "output_gate") if block else ("u bare",)
    tail = (("gated", "h gated") if out else ("h gate",)) if block else (("h y",) if out else ())
    bare = () if block or out else (v.same("h", "output h(t)", "h(t)", "y", "y(t)", "read", "output", zh="输出 h(t)"),)
    return (v.x(), *(name(k, K) for k in front + SSM + tail), *bare)


def phases(block: bool, out: bool) -> tuple[Phase, ...]:
    P, then = Phase, (", and out_proj writes it back to the model width.", "，再由 out_proj 写回模型宽度。") if out else (".", "。")
    front = P("branches", "Two branches", "in_proj makes two branches of x(t): u_pre for the state space model, z(t) for the gate. u_pre "
              "passes a short causal convolution over its last few steps and a SiLU, to give u(t).", {"title": "两个分支", "text":
              "in_proj 把 x(t) 分成两个分支：u_pre 送入状态空间模型，z(t) 作为门。u_pre 经过一个只看最近几步的短因果卷积和 SiLU，得到 u(t)。"}) \
        if block else P("branches", "Input", "u(t) = W_u·x(t): the input, one value per channel.",
                        {"title": "输入", "text": "u(t) = W_u·x(t)：输入，每个通道一个值。"})
    tail = P("output", "Gate and output", "y(t) is gated by SiLU(z(t))" + then[0],
             {"title": "门控与输出", "text": "y(t) 乘以门 SiLU(z(t))" + then[1]}) if block else \
        P("output", "Output", "out_proj writes y(t) back to the model width.", {"title": "输出", "text": "out_proj 把 y(t) 写回模型宽度。"})
    return (v.GIVEN, front,
            P("select", "Selection", "Δ(t), B(t) and C(t) are read off u(t): the step size, what to write and what to read.",
              {"title": "选择", "text": "Δ(t)、B(t) 和 C(t) 都由 u(t) 算出：步长、写入什么、读出什么。"}),
            P("discretize", "Discretize", "Ā(t) = exp(Δ(t)·A), A = −exp(A_log) < 0: a large step size forgets the state, a small one keeps it.",
              {"title": "离散化", "text": "Ā(t) = exp(Δ(t)·A)，A = −exp(A_log) < 0：步长大就忘掉状态，步长小就保留它。"}),
            P("update", "State update", "s(t) = Ā(t) ⊙ s(t−1) + (Δ(t) ⊙ u(t)) ⊗ B(t): each channel keeps N numbers.",
              {"title": "状态更新", "text": "s(t) = Ā(t) ⊙ s(t−1) + (Δ(t) ⊙ u(t)) ⊗ B(t)：每个通道保存 N 个数。"}),
            P("read", "Read out", "y(t) = s(t)·C(t) + D ⊙ u(t): each channel reads its N numbers through C(t).",
              {"title": "读出", "text": "y(t) = s(t)·C(t) + D ⊙ u(t)：每个通道通过 C(t) 读出它的 N 个数。"}), *((tail,) if block or out else ()))


class Mamba(Kind):
    name, title = "mamba", "Mamba (S6)"
    summary = ("A selective state space model: each channel keeps N numbers, and a step size Δ(t) read off the input "
               "decides how much of them to forget and how much of the input to write (Gu & Dao 2023).")
    zh = {"title": "Mamba（S6，选择性状态空间模型）",
          "summary": "选择性状态空间模型：每个通道保存 N 个数，由输入算出的步长 Δ(t) 决定忘掉多少旧状态、写入多少输入（Gu 与 Dao，2023）。",
          "removed": "没有输入门 i：一个步长 Δ(t) 同时决定保留多少、写入多少；每个通道的状态是 N 个数。"}
    reference = "Gu & Dao 2023, 'Mamba: Linear-Time Sequence Modeling with Selective State Spaces', arXiv:2312.00752"
    simplifies = ("rglru", "No input gate: one step size Δ(t) sets both how much is kept and how much is written; each channel keeps N numbers.")
    blocks = ("u",)       # weight_ih's rows: u(t) (u_pre, before the convolution, with the block)
    param_names = ("weight_ih", "x_proj_dt", "x_proj_B", "x_proj_C", "dt_proj_weight", "dt_proj_bias", "A_log", "D")
    options = (
        Option("state_size", 16, "N: the numbers each channel's state keeps (the reference's d_state).", int, minimum=1,
               zh={"doc": "N：每个通道的状态保存的数的个数（参考实现的 d_state）。"}),
        Option("dt_rank", 0, "R: the rank of Δ's projection, u → R → D; 0 for the reference's 'auto', ⌈input_size / 16⌉.", int,
               minimum=0, zh={"doc": "R：Δ 的投影 u → R → D 的秩；0 表示按参考实现自动取值，即 ⌈input_size / 16⌉。"}),
        Option("block", True, "The Mamba block around S6: in_proj to u and z, a causal convolution and SiLU on u, y ⊙ SiLU(z) "
               "(mambapy's MambaBlock); false: u(t) = W_u·x(t) and h(t) = y(t).", bool, zh={"doc": "S6 外面的 Mamba 块："
               "in_proj 得到 u 和 z，u 经过因果卷积和 SiLU，输出 y ⊙ SiLU(z)；false：u(t) = W_u·x(t)，h(t) = y(t)。"}),
        Option("d_conv", 4, "The causal convolution's kernel (with the block).", int, minimum=1, zh={"doc": "因果卷积的核长（有 Mamba 块时）。"}),
        Option("proj_size", 0, "out_proj's width P < hidden_size: the model width the layer writes back to; 0 for none.", int,
               minimum=0, zh={"doc": "out_proj 的宽度 P < hidden_size：该层写回的模型宽度；0 表示没有。"}),
    )
    state_line = ("state_prev", "kept", "state")
    reference_classes = ("MambaBlock",)            # mambapy.mamba.MambaBlock
    reference_marks = REFERENCE_MARKS
    # what-if clamps: how each affine name moves with a held operand (the matrices: Mamba.derived's and the weights)
    clamp_terms = {"delta_A": {"delta": ("A_spread", None, "matmul")}, "delta_pre": {"u": ("dt_low_rank", None, "matmul")},
                   "B": {"u": ("x_proj_B", None, "matmul")}, "C": {"u": ("x_proj_C", None, "matmul")},
                   "skip": {"u": ("D", None, "diag")},
                   "h": {"gated": ("weight_hr", None, "matmul"), "y": ("weight_hr", None, "matmul")}}

    def from_reference(self, state, config):
        return from_reference(state, config)

    def derived(self, params, opts):
        """Δ(t) ⊗ A as a matrix on Δ, (D·N, D) with A[d, n] at row d·N + n, column d; W_Δ·W_r, Δ_pre's map of u, (D, D)."""
        A = -np.exp(np.asarray(params["A_log"], np.float64))
        D, N = A.shape
        spread = np.zeros((D, N, D))
        spread[np.arange(D), :, np.arange(D)] = A
        return {"A_spread": spread.reshape(D * N, D), "dt_low_rank": params["dt_proj_weight"] @ params["x_proj_dt"]}

    def symbols(self, params, opts):
        p, K = params, opts.get("d_conv", 4)
        taps = {f"w_{k}": p["conv_weight"][:, K - 1 - k] for k in range(K)} if "conv_weight" in p else {}   # w_k: k steps back
        named = {"W_u": "weight_ih", "W_z": "weight_iz", "b_conv": "conv_bias", "W_r": "x_proj_dt", "W_Δ": "dt_proj_weight",
                 "b_Δ": "dt_proj_bias", "W_B": "x_proj_B", "W_C": "x_proj_C", "D": "D", "W_out": "weight_hr"}
        return {sym: p[n] for sym, n in named.items() if n in p} | taps | {"A": -np.exp(p["A_log"])}

    def sizes(self, input_size, hidden_size, opts):
        N = opts.get("state_size", 16)
        return {**super().sizes(input_size, hidden_size, opts), "state_size": hidden_size * N, "state_width": N}

    def param_shapes(self, input_size, hidden_size, opts):
        """The reference's pieces: weight_ih = W_u and weight_iz = W_z, in_proj's halves; conv_weight and conv_bias, conv1d's
        (its (D, 1, K) weight as (D, K)); x_proj_dt = W_r, x_proj_B = W_B, x_proj_C = W_C, x_proj's chunks; dt_proj_weight =
        W_Δ, dt_proj_bias = b_Δ; A_log; D; weight_hr = W_out, out_proj's (the reference's in_proj and out_proj have no bias)."""
        D, N, K, P = hidden_size, opts.get("state_size", 16), opts.get("d_conv", 4), opts.get("proj_size")
        R = opts.get("dt_rank") or math.ceil(input_size / 16)
        block = {"weight_iz": (D, input_size), "conv_weight": (D, K), "conv_bias": (D,)} if opts.get("block", True) else {}
        return {"weight_ih": (D, input_size), **block, "x_proj_dt": (R, D), "x_proj_B": (N, D), "x_proj_C": (N, D),
                "dt_proj_weight": (D, R), "dt_proj_bias": (D,), "A_log": (D, N), "D": (D,)} | ({"weight_hr": (P, D)} if P else {})

    def carried(self, input_size, hidden_size, opts):
        """LayerState.more: the state s (D·N, row-major (d, n)) and, with the block, u_pre's last d_conv − 1 values (oldest first)."""
        window = {"u_pre": (opts.get("d_conv", 4) - 1) * hidden_size} if opts.get("block", True) else {}
        return {"state": hidden_size * opts.get("state_size", 16), **window}

    def step_macs(self, input_size, hidden_size, opts):
        """The matrices (A_log's D·N for Δ ⊗ A among them), and the state's write, keep and read: 3·D·N more."""
        return super().step_macs(input_size, hidden_size, opts) + 3 * hidden_size * opts.get("state_size", 16)

    def init_params(self, input_size, hidden_size, opts, rng):
        """mambapy's MambaBlock init: U(±1/√fan_in) for in_proj, conv1d (fan_in d_conv), x_proj and out_proj (torch's Linear
        and Conv1d); dt_proj's weight U(±R^−½), its bias softplus⁻¹(Δ₀), Δ₀ log-uniform in [0.001, 0.1]; A_log = log(1 … N)."""
        shapes, out = self.param_shapes(input_size, hidden_size, opts), {}
        D, K, R, N = hidden_size, opts.get("d_conv", 4), shapes["x_proj_dt"][0], shapes["A_log"][1]
        fan_in = {"weight_ih": input_size, "weight_iz": input_size, "conv_weight": K, "conv_bias": K, "dt_proj_weight": R} | \
            {name: D for name in ("x_proj_dt", "x_proj_B", "x_proj_C", "weight_hr")}
        for name, shape in shapes.items():
            if name in fan_in:
                out[name] = rng.uniform(-fan_in[name] ** -0.5, fan_in[name] ** -0.5, size=shape)
            elif name == "dt_proj_bias":
                dt = np.maximum(np.exp(rng.uniform(size=D) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)), 1e-4)
                out[name] = dt + np.log(-np.expm1(-dt))             # softplus⁻¹(Δ₀), Δ₀ at least 1e-4
            else:                                                   # A_log: S4D-real; D: ones
                out[name] = np.log(np.tile(np.arange(1.0, N + 1), (D, 1))) if name == "A_log" else np.ones(shape)
        return out

    def glossary(self, opts):
        block, out = opts.get("block", True), bool(opts.get("proj_size"))
        return Glossary(glossary_names(block, out, opts.get("d_conv", 4)), phases(block, out))

    def positions(self, glossary):
        return {name: at for name, at in (PROJECTED if "gated" in glossary else POSITIONS).items() if name in glossary}

    def memory_roles(self, glossary):
        zh = {"what": "SSM 状态", "keep_sym": "衰减 Ā = exp(Δ·A)（s(t−1) 保留下来的份额）", "write_sym": "输入矩阵 B（输入写进 N 个数中的哪些）"}
        return {"mem": "state", "what": "SSM state", "keep": "decay", "keep_sym": "decay Ā = exp(Δ·A) (the share of s(t−1) kept)", "zh": zh,
                "write": "B", "write_sym": "input matrix B (which of each channel's N numbers the input goes to)", "written": "(Δ ⊙ u) ⊗ B"}

    # -- the computation: the trace, the parallel form, the backward pass --------------------------------------------
    def compile(self, params, opts, dtype):
        return plan_of(params, dtype)

    def forward(self, plan: dict, xs, state: LayerState):
        T, (D, N), out = len(xs), plan["A"].shape, run(plan, xs, state.more)
        Ss, pad, _ = out.pop("Ss").reshape(T + 1, D * N), out.pop("pad", None), out.pop("low")
        out |= {name: out[name].reshape(T, D * N) for name in ("delta_A", "decay", "written", "kept")}
        out |= {"state_prev": Ss[:-1], "state": Ss[1:]}                 # two views of one array, one row apart
        more = {"state": Ss[-1].copy()} | ({"u_pre": pad[T:].reshape(-1).copy()} if pad is not None else {})
        return {k: np.ascontiguousarray(a) for k, a in out.items()}, LayerState(h=out["h"][-1].copy(), more=more)

    def scan(self, params: dict[str, np.ndarray], xs: np.ndarray, state: LayerState | None = None) -> np.ndarray:
        """h(t) for every step of xs (T, ..., I) by the parallel form (the associative scan of the state), in float64."""
        return run(plan_of(params, np.float64), np.asarray(xs, np.float64), state.more if state else {}, parallel)["h"]

    def tape_forward(self, p, opts, X, start: LayerState):
        plan = plan_of(p, np.float64)
        cache = run(plan, X, start.more) | {"X": X, "plan": plan}
        final = {"state": cache["Ss"][-1].reshape(X.shape[1], -1).copy()}
        final |= {"u_pre": np.moveaxis(cache["pad"][len(X):], 0, 1).reshape(X.shape[1], -1).copy()} if "pad" in cache else {}   # (B, (K − 1)·D)
        return cache["h"], cache, LayerState(h=cache["h"][-1].copy(), more=final)

    def tape_backward(self, p, opts, c, dY, dfinal: LayerState | None, *, params=True, states=False):
        dH, more = dY.copy(), dfinal.more if dfinal is not None else {}
        dH[-1] += 0.0 if dfinal is None or dfinal.h is None else dfinal.h   # the final state's h is the last output
        with np.errstate(under="ignore"):
            g, dX, dS, start = backward(c, p, dH, more, params)
        T, S = dH.shape[:2]
        return g, dX, LayerState(h=np.zeros((S, dH.shape[-1])), more=start), ({"h": dH, "state": dS.reshape(T, S, -1)} if states else None)


KIND = Mamba()
