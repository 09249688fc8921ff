"""mlstm: the matrix-memory LSTM of xLSTM (Beck, Pöppel, Spanring et al. 2024), arXiv:2405.04517.

Per head (``heads`` of them, d = hidden_size / heads units each) a d × d memory C, a normalizer n and a
stabilizer m. No recurrent weights: the gates read the present only, so a parallel form gives the same h.

    q = W_q x(t),  k = W_k x(t) / √d,  v = W_v x(t);   i_pre, f_pre = W_i x + b_i, W_f x + b_f (one per head)
    m(t) = max(log σ(f_pre) + m(t−1), i_pre);   i = exp(i_pre − m(t)),  f = exp(log σ(f_pre) + m(t−1) − m(t))
    C(t) = f C(t−1) + i v kᵀ,  n(t) = f n(t−1) + i k;   h̃ = C q / max(|nᵀq|, exp(−m));  h = σ(W_o x + b_o) ⊙ h̃

**Why m.** The memory is kept scaled by e^(−m(t)): the paper's C* = e^m C (n* alike) and max(|n*ᵀq|, 1) =
e^m max(|nᵀq|, e^(−m)), so h̃ is the paper's C* q / max(|n*ᵀq|, 1) whatever m is, and the max makes every
exponent ≤ 0: no overflow, whatever the pre-activations. ``unstabilized`` holds m at 0 (C = C*): the same h
until exp(i_pre) overflows (inf in the trace, for teaching). exp(−m) is held inside the dtype's normal numbers
(|m| ≤ 87 in float32), where h̃ is its limit either way. No ε in the denominator (the reference adds 1e-6).

**The trace.** C is the glossary size "state_size" = heads·d·d, flattened (head, row, col): row a unit of v,
col one of k (the paper's v kᵀ; the reference stores k vᵀ). Per-head values (i_pre, m, i, f, den ...) are
shown on each unit of their head. LayerState.more carries C, n, m (m read from each head's first unit) and,
with ``block``, "mlstm_input": the last K − 1 values of u(t), oldest first, flat. A fresh state is zeros: m(0) = 0
as in the reference's step (its parallel form's row maximum gives the same h).

**block=True** is the reference's layer (PyPI xlstm 2.0.6, ``xlstm.blocks.mlstm.layer.mLSTMLayer``): input E,
hidden H its inner width, output proj_size = E. u, o_pre = W_up x, W_z x (proj_up's halves); ũ = SiLU(causal
depthwise conv1d of u, conv_kernel taps); q, k = W_q ũ, W_k ũ / √d and v = W_v u (block-diagonal); i_pre,
f_pre = W [q, k, v] + b (the reference reads k unscaled: its k columns are ×√d here); then h̃ as above,
norm = γ ⊙ GroupNorm(h̃) per head (ε 1e-5), h = W_hr ((norm + s ⊙ ũ) ⊙ SiLU(o_pre)).

Parameters (``param_shapes``): weight_q, weight_k, weight_v (H, I); weight_igate, weight_fgate (heads, I) and
their biases; weight_ih, bias_ih: the output gate, the one block of H rows (the layouts read H off it). Block:
weight_up, weight_ih (H, E); weight_conv (H, K), bias_conv; weight_q/k/v (H/bs, bs, bs) as LinearHeadwiseExpand;
the gates (heads, 3H); weight_norm = γ, weight_skip = s (H,). weight_hr (P, H) when proj_size > 0.

**The parallel form** (:meth:`MLSTM.scan`, the reference's ``parallel_stabilized_simple`` plus a column for the
initial state): F(t) = Σ_{r≤t} log σ(f_pre), log D(t, s) = F(t) − F(s) + i_pre(s) (s ≤ t), m = the row's max.
Beside it: _mlstm_backward.py (the backward pass, its adjoint equations), _mlstm_reference.py (the reference's weights).
"""

from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np

from .._math import sigmoid, silu
from ..spec import Glossary, Name, Option, Phase
from . import _glossary as v
from ._grid import TOP
from ._mlstm_backward import CORE, backward, carried, initial
from ._mlstm_reference import NORM_EPS, block_diag, from_reference, heads_of, reference_init
from .base import Kind, LayerState

#: Where exp() stays a normal number: exp(−m) is held inside, so that it neither overflows nor reaches 0 (0/0 where q = 0).
LOG_RANGE = {np.dtype(t): (float(np.log(np.finfo(t).tiny)), float(np.log(np.finfo(t).max)) - 1.0) for t in (np.float32, np.float64)}


def front(P: dict, X: np.ndarray, window) -> tuple[dict, np.ndarray, np.ndarray]:
    """What x(t) alone gives, every step at once: the names before the memory, and i_pre, f_pre (T, B, heads)."""
    H, nh, d = P["H"], P["heads"], P["d"]
    A = X @ P["W_in"]                                                        # one matmul for every block
    if not P["block"]:
        A += P["b_in"]
        q, k, val, o_pre, ip, fp = np.split(A, np.cumsum([H, H, H, H, nh]), axis=-1)
        return {"query": q, "key": k / math.sqrt(d), "value": val, "output_gate_pre": o_pre}, ip, fp
    u, pad, T = A[..., :H], np.concatenate([window, A[..., :H]]), len(X)     # proj_up's halves; the window, then u
    conv = P["conv_b"] + sum(pad[j:j + T] * P["conv_w"][j] for j in range(P["K"]))   # causal: tap K−1 is u(t)
    uc = silu(conv)
    qk = uc @ P["W_qk"]
    o = {"mlstm_input": u, "output_gate_pre": A[..., H:], "conv": conv, "conv_act": uc, "pad": pad,
         "query": qk[..., :H], "key": qk[..., H:] / math.sqrt(d), "value": u @ P["W_v"]}
    g = np.concatenate([o[n] for n in CORE], axis=-1) @ P["W_g"] + P["b_g"]  # the gates read q, k, v
    return o, g[..., :nh], g[..., nh:]


def memory(P: dict, o: dict, ip: np.ndarray, fp: np.ndarray, C0, n0, m0) -> dict:
    """The step form: m, i, f, then C and n one step at a time, then h̃. Per head: (T, B, heads[, d[, d]])."""
    T, B, H = o["query"].shape
    nh, d = P["heads"], P["d"]
    q, k, val = (o[n].reshape(T, B, nh, d) for n in CORE)
    c = {"q": q, "k": k, "v": val, "ip": ip, "fp": fp, "lf": -np.logaddexp(0.0, -fp)}   # log σ(f_pre), finite for any f_pre
    M = c["M"] = np.zeros((T + 1, B, nh), ip.dtype)
    M[0] = m0
    for lf, m0_, m1, i_pre in zip(c["lf"], M, M[1:], ip) if not P["unstabilized"] else ():    # unstabilized: m(t) = 0
        np.maximum(np.add(lf, m0_, out=m1), i_pre, out=m1)                   # m(t) = max(f′(t) + m(t−1), i_pre)
    c["carry"] = c["lf"] + M[:-1]                                            # f′(t) + m(t−1)
    with np.errstate(over="ignore", invalid="ignore") if P["unstabilized"] else nullcontext():
        c["ie"], c["fe"] = ip - M[1:], c["carry"] - M[1:]
        i, f = c["i"], c["f"] = np.exp(c["ie"]), np.exp(c["fe"])            # stabilized: every exponent ≤ 0
        wv = c["wv"] = i[..., None] * val                                    # i(t) ⊙ v(t)
        W = c["W"] = np.einsum("tbhr,tbhc->tbhrc", wv, k)                    # i(t) v(t) k(t)ᵀ, per head
        nw = c["nw"] = i[..., None] * k                                      # i(t) ⊙ k(t)
        Cs, Ns = c["Cs"], c["Ns"] = np.empty((T + 1, *W.shape[1:]), W.dtype), np.empty((T + 1, *nw.shape[1:]), W.dtype)
        Cs[0], Ns[0] = C0, n0
        kept, nkept = c["kept"], c["nkept"] = np.empty_like(W), np.empty_like(nw)
        for fc, c0, c1, kc, w, fn, n_0, n_1, kn, wn in zip(f[..., None, None], Cs, Cs[1:], kept, W, f[..., None], Ns, Ns[1:], nkept, nw):
            np.add(np.multiply(fc, c0, out=kc), w, out=c1)                   # C(t) = f(t) C(t−1) + written(t): the only
            np.add(np.multiply(fn, n_0, out=kn), wn, out=n_1)                # n(t) = f(t) n(t−1) + i(t) k(t)  step-by-step lines
        c["num"] = (Cs[1:] @ q[..., None])[..., 0]                           # C(t) q(t)
        c["qn"] = np.einsum("tbhd,tbhd->tbh", Ns[1:], q)                     # n(t)ᵀ q(t)
        c["bound"] = np.exp(np.clip(-M[1:], *P["log_range"]))               # exp(−m(t)), held a normal number
        c["den"] = np.maximum(np.abs(c["qn"]), c["bound"])
        c["R"] = c["num"] / c["den"][..., None]                              # h̃(t)
    return c


def finish(P: dict, o: dict, R: np.ndarray) -> None:
    """From h̃ (T, B, heads, d) to h: the output gate (with ``block``, the group norm and the skip first), and W_hr."""
    o["readout"] = R.reshape(*R.shape[:2], -1)
    if P["block"]:
        centred = R - R.mean(-1, keepdims=True)
        o["rstd"] = 1.0 / np.sqrt((centred * centred).mean(-1, keepdims=True) + NORM_EPS)
        o["xhat"] = (centred * o["rstd"]).reshape(o["readout"].shape)       # per head: mean 0, variance 1
        o["normed"], o["skip"] = o["xhat"] * P["gamma"], P["skip"] * o["conv_act"]
        o["skip_sum"] = o["normed"] + o["skip"]
        o["output_gate"] = silu(o["output_gate_pre"])                        # the z branch
        gated = o["skip_sum"] * o["output_gate"]
    else:
        o["output_gate"] = sigmoid(o["output_gate_pre"])
        gated = o["output_gate"] * o["readout"]
    o["gated"], o["h"] = gated, gated if P["W_hr"] is None else gated @ P["W_hr"]


def steps(P: dict, X: np.ndarray, start: LayerState) -> tuple[dict, dict, dict]:
    """One forward pass over X (T, B, I): the names (T, B, width), the cache, and the final state's ``more``."""
    C0, n0, m0, window = initial(P, start.more, X.shape[1], X.dtype)
    o, ip, fp = front(P, X, window)
    c = memory(P, o, ip, fp, C0, n0, m0)
    finish(P, o, c["R"])
    per_head = (("input_gate_pre", ip), ("forget_gate_pre", fp), ("forget_gate_log", c["lf"]), ("m_prev", c["M"][:-1]),
                ("forget_carry", c["carry"]), ("m", c["M"][1:]), ("input_exponent", c["ie"]), ("input_gate", c["i"]),
                ("forget_exponent", c["fe"]), ("forget_gate", c["f"]), ("query_dot", c["qn"]), ("query_dot_abs", np.abs(c["qn"])),
                ("m_neg", -c["M"][1:]), ("bound", c["bound"]), ("denominator", c["den"]))
    shown = np.empty((len(per_head), *ip.shape, P["d"]), ip.dtype)          # one block: NumPy asks huge pages for it
    for k, (name, a) in enumerate(per_head):
        shown[k] = a[..., None]                                              # a head's value on each of its units
        o[name] = shown[k].reshape(*ip.shape[:2], -1)
    flat = lambda a: a.reshape(*a.shape[:2], -1)
    o |= {name: flat(c[k]) for name, k in (("written_value", "wv"), ("written", "W"), ("kept", "kept"), ("n_kept", "nkept"), ("n_written", "nw"),
          ("numerator", "num"))}
    o |= {"C_prev": flat(c["Cs"][:-1]), "C": flat(c["Cs"][1:]), "n_prev": flat(c["Ns"][:-1]), "n": flat(c["Ns"][1:])}
    more = {"C": o["C"][-1].copy(), "n": o["n"][-1].copy(), "m": o["m"][-1].copy()}
    if P["block"]:
        more["mlstm_input"] = o["pad"][len(X):].transpose(1, 0, 2).reshape(X.shape[1], -1)   # the last K−1 values of u
    return o, c, more


# -- the glossary: (name, symbol, role, op, operands, equation, note, phase, what, 中文); every range "real" --------------
_TEX = (("exp(", r"\exp("), ("max(", r"\max("), ("log ", r"\log "), ("√d", r"\sqrt{d}"), ("ᵀ", r"^\top "), ("′", "'"), ("ũ", r"\tilde{u}"),
        ("SiLU(", r"\mathrm{SiLU}("), ("GN(", r"\mathrm{GN}("), ("Σ_j", r"\sum_j"), ("γ", r"\gamma "))
NOTES = {"head": ("one value per head", "每个头一个值"), "blocks": ("block-diagonal", "分块对角"), "outer": ("per head, d × d", "逐头，d × d"),
         "causal": ("causal, over the last K steps", "因果，覆盖最近 K 步"), "gn": ("per head: mean 0, variance 1", "逐头：均值 0，方差 1"),
         "zero": ("unstabilized: no stabilizer", "未稳定化：没有稳定器")}
STATE = {"C_prev", "written", "kept", "C"}
PRE_I, PRE_F = ("input gate pre-activation", "输入门预激活"), ("forget gate pre-activation", "遗忘门预激活")
CORE_STATE = (
    ("C_prev", "C(t−1)", "state_in", "shift", ("C",), "C(t−1): the memory after the previous step (C0 at t = 0)",
     "C(t−1)：上一步之后的记忆（t = 0 时为 C0）", "given", "previous matrix memory", "上一步的矩阵记忆"),
    ("n_prev", "n(t−1)", "state_in", "shift", ("n",), "n(t−1): the normalizer after the previous step (n0 at t = 0)",
     "n(t−1)：上一步之后的归一化器（t = 0 时为 n0）", "given", "previous normalizer", "上一步的归一化器"),
    ("m_prev", "m(t−1)", "state_in", "shift", ("m",), "m(t−1): the stabilizer after the previous step (0 at t = 0)",
     "m(t−1)：上一步之后的稳定器（t = 0 时为 0）", "given", "previous stabilizer", "上一步的稳定器"))
FRONT = {False: (
    ("query", "q(t)", "pre", "affine", ("x",), "q(t) = W_q·x(t)", "", "project", "query", "查询"),
    ("key", "k(t)", "pre", "affine", ("x",), "k(t) = W_k·x(t) / √d", "", "project", "key", "键"),
    ("value", "v(t)", "pre", "affine", ("x",), "v(t) = W_v·x(t)", "", "project", "value", "值"),
    ("output_gate_pre", "o_pre", "pre", "affine", ("x",), "o_pre = W_o·x(t) + b_o", "", "project", "output gate pre-activation",
     "输出门预激活"),
    ("input_gate_pre", "i_pre", "pre", "affine", ("x",), "i_pre = W_i·x(t) + b_i", "head", "gates", *PRE_I),
    ("forget_gate_pre", "f_pre", "pre", "affine", ("x",), "f_pre = W_f·x(t) + b_f", "head", "gates", *PRE_F)), True: (
    ("mlstm_input", "u(t)", "pre", "affine", ("x",), "u(t) = W_up·x(t)", "", "branch", "memory branch", "记忆支路"),
    ("output_gate_pre", "o_pre", "pre", "affine", ("x",), "o_pre = W_z·x(t)", "", "branch", "output gate pre-activation",
     "输出门预激活"),
    ("conv", "conv(t)", "pre", "affine", ("mlstm_input",), "conv(t) = b_conv + Σ_j w_j ⊙ u(t − K + 1 + j)", "causal", "branch",
     "convolution", "卷积"),
    ("conv_act", "ũ(t)", "candidate", "silu", ("conv",), "ũ(t) = SiLU(conv(t))", "", "branch", "convolved branch", "卷积后的支路"),
    ("query", "q(t)", "pre", "affine", ("conv_act",), "q(t) = W_q·ũ(t)", "blocks", "project", "query", "查询"),
    ("key", "k(t)", "pre", "affine", ("conv_act",), "k(t) = W_k·ũ(t) / √d", "blocks", "project", "key", "键"),
    ("value", "v(t)", "pre", "affine", ("mlstm_input",), "v(t) = W_v·u(t)", "blocks", "project", "value", "值"),
    ("input_gate_pre", "i_pre", "pre", "affine", CORE, "i_pre = W_i·[q(t), k(t), v(t)] + b_i", "head", "gates", *PRE_I),
    ("forget_gate_pre", "f_pre", "pre", "affine", CORE, "f_pre = W_f·[q(t), k(t), v(t)] + b_f", "head", "gates", *PRE_F))}
MIDDLE = (
    ("forget_gate_log", "f′(t)", "gate", "log_sigmoid", ("forget_gate_pre",), "f′(t) = log σ(f_pre)", "", "gates", "log forget gate",
     "对数遗忘门"),
    ("forget_carry", "f′(t) + m(t−1)", "product", "add", ("forget_gate_log", "m_prev"), "f′(t) + m(t−1)", "", "gates",
     "carried stabilizer", "沿用的稳定器"),
    ("m", "m(t)", "state", "max", ("forget_carry", "input_gate_pre"), "m(t) = max(f′(t) + m(t−1), i_pre)", "", "gates", "stabilizer",
     "稳定器"),
    ("input_exponent", "i_pre − m(t)", "product", "sub", ("input_gate_pre", "m"), "i_pre − m(t)", "", "gates", "input gate exponent",
     "输入门指数"),
    ("input_gate", "i(t)", "gate", "exp", ("input_exponent",), "i(t) = exp(i_pre − m(t))", "", "gates", "input gate", "输入门"),
    ("forget_exponent", "f′(t) + m(t−1) − m(t)", "product", "sub", ("forget_carry", "m"), "f′(t) + m(t−1) − m(t)", "", "gates",
     "forget gate exponent", "遗忘门指数"),
    ("forget_gate", "f(t)", "gate", "exp", ("forget_exponent",), "f(t) = exp(f′(t) + m(t−1) − m(t))", "", "gates", "forget gate",
     "遗忘门"),
    ("written_value", "i(t) ⊙ v(t)", "product", "mul", ("input_gate", "value"), "i(t) ⊙ v(t)", "", "memory", "written value",
     "写入的值"),
    ("written", "written(t)", "product", "head_outer", ("written_value", "key"), "written(t) = (i(t) ⊙ v(t))·k(t)ᵀ", "outer", "memory",
     "written i(t) v(t) k(t)ᵀ", "写入部分 i(t) v(t) k(t)ᵀ"),
    ("kept", "kept(t)", "product", "head_scale", ("forget_gate", "C_prev"), "kept(t) = f(t)·C(t−1)", "outer", "memory", "kept f(t) C(t−1)",
     "保留部分 f(t) C(t−1)"),
    ("C", "C(t)", "state", "add", ("kept", "written"), "C(t) = kept(t) + written(t)", "", "memory", "matrix memory", "矩阵记忆"),
    ("n_kept", "f(t) ⊙ n(t−1)", "product", "mul", ("forget_gate", "n_prev"), "f(t) ⊙ n(t−1)", "", "memory", "kept normalizer",
     "保留的归一化器"),
    ("n_written", "i(t) ⊙ k(t)", "product", "mul", ("input_gate", "key"), "i(t) ⊙ k(t)", "", "memory", "written key", "写入的键"),
    ("n", "n(t)", "state", "add", ("n_kept", "n_written"), "n(t) = f(t) ⊙ n(t−1) + i(t) ⊙ k(t)", "", "memory", "normalizer",
     "归一化器"),
    ("numerator", "C(t)·q(t)", "product", "head_matvec", ("C", "query"), "C(t)·q(t)", "", "read", "read memory", "读出的记忆"),
    ("query_dot", "n(t)ᵀ·q(t)", "product", "head_dot", ("n", "query"), "n(t)ᵀ·q(t)", "head", "read", "read normalizer",
     "读出的归一化器"),
    ("query_dot_abs", "|n(t)ᵀ·q(t)|", "product", "abs", ("query_dot",), "|n(t)ᵀ·q(t)|", "", "read", "size of the normalizer read",
     "读出的归一化器的绝对值"),
    ("m_neg", "−m(t)", "product", "neg", ("m",), "−m(t)", "", "read", "negated stabilizer", "稳定器的相反数"),
    ("bound", "exp(−m(t))", "product", "exp", ("m_neg",), "exp(−m(t))", "", "read", "lower bound", "下界"),
    ("denominator", "den(t)", "product", "max", ("query_dot_abs", "bound"), "den(t) = max(|n(t)ᵀ·q(t)|, exp(−m(t)))", "", "read",
     "denominator", "分母"),
    ("readout", "h̃(t)", "candidate", "div", ("numerator", "denominator"), "h̃(t) = C(t)·q(t) / den(t)", "", "read", "readout",
     "读出值"))
BACK = {False: (("output_gate", "o(t)", "gate", "sigmoid", ("output_gate_pre",), "o(t) = σ(o_pre)", "", "output", "output gate",
                 "输出门"),), True: (
    ("normed", "norm(t)", "product", "affine", ("readout",), "norm(t) = γ ⊙ GN(h̃(t))", "gn", "output", "group-normed readout",
     "组归一化后的读出"),
    ("skip", "skip(t)", "product", "affine", ("conv_act",), "skip(t) = s ⊙ ũ(t)", "", "output", "learnable skip", "可学习的跳连"),
    ("skip_sum", "norm(t) + skip(t)", "product", "add", ("normed", "skip"), "norm(t) + skip(t)", "", "output", "readout and skip",
     "读出加跳连"),
    ("output_gate", "o(t)", "gate", "silu", ("output_gate_pre",), "o(t) = SiLU(o_pre)", "", "output", "output gate", "输出门"))}
PHASES = {  # name: (title, text, 标题, 说明)
    "branch": ("Up-projection and convolution", "x(t) is projected up into the memory's branch u(t) and the output gate's o_pre; "
               "a causal convolution over the last K steps and SiLU give ũ(t).", "上投影与卷积",
               "x(t) 被上投影为记忆支路 u(t) 和输出门的 o_pre；对最近 K 步的因果卷积再经 SiLU 得到 ũ(t)。"),
    "project": ("Query, key and value", "q(t), k(t) and v(t) read the present only, never h(t−1): what to look up, where to write, "
                "what to write.", "查询、键和值", "q(t)、k(t) 和 v(t) 只读当前，从不读 h(t−1)：查什么、写到哪里、写什么。"),
    "gates": ("Exponential gates, stabilized", "i(t) = exp(i_pre − m(t)) and f(t) = exp(f′(t) + m(t−1) − m(t)), one value per head: "
              "the stabilizer m(t) keeps every exponent at or below 0.", "稳定化的指数门",
              "i(t) = exp(i_pre − m(t))，f(t) = exp(f′(t) + m(t−1) − m(t))，每个头一个值：稳定器 m(t) 使每个指数不大于 0。"),
    "memory": ("Matrix memory", "Each head writes the outer product of value and key, C(t) = f(t) C(t−1) + i(t) v(t) k(t)ᵀ, "
               "and its key to n(t).", "矩阵记忆", "每个头写入值与键的外积 C(t) = f(t) C(t−1) + i(t) v(t) k(t)ᵀ，并把键写入 n(t)。"),
    "read": ("Read out", "The query reads the memory, over the larger of |n(t)ᵀ·q(t)| and exp(−m(t)): h̃(t) = C(t)·q(t) / den(t).",
             "读出", "查询读出记忆，再除以 |n(t)ᵀ·q(t)| 与 exp(−m(t)) 中较大者：h̃(t) = C(t)·q(t) / den(t)。"),
    "output": ("Output", "The output gate o(t) scales what was read: h(t).", "输出", "输出门 o(t) 缩放读出的值，得到 h(t)。")}


def _name(name, sym, role, op, operands, text, note, phase, what, zh, size=None) -> Name:
    """A Name from a row, its LaTeX made from its text (cells.spec.tex and the few symbols this cell adds), a note beside it;
    a row whose note is not in NOTES is prose, the note its Chinese."""
    latex = v._tex(sym if op == "shift" else text)                         # the previous step's value: its symbol
    for plain, tex in _TEX:
        latex = latex.replace(plain, tex)
    word = sym.split("(")[0]
    sym_label = "" if what.endswith("pre-activation") or (len(word) > 1 and word in what) else " " + sym   # no "skip skip(t)"
    words = {"label": zh + sym_label}
    if note in NOTES:
        (en, cn), eq, tx = NOTES[note], text, latex
        text, latex = f"{eq} ({en})", rf"{tx} \quad \text{{{en}}}"
        words |= {"equation": f"{eq} ({cn})", "latex": rf"{tx} \quad \text{{{cn}}}"}
    elif note:
        words["equation"] = note
    size = size or ("state_size" if name in STATE else "hidden_size")
    return Name(name, what + sym_label, sym, role, "real", op, tuple(operands), text, latex, phase, size, zh=words)


#: A first layout on the grid of cells/kinds/_grid.py, by phase: the memory C along the top (C(t−1) → × → + and out),
#: n under it, q, k, v and the gates' pre-activations along the bottom, the stabilizer and the readout on the right.
#: The router cannot yet route it (about 40 names where the LSTM has 15): the page work tunes it.
POSITIONS = {
    "x": (0.6, 0.3), "C_prev": (0.85, TOP), "kept": (2.6, TOP), "C": (4.4, TOP), "n_prev": (0.85, 5.3), "n_kept": (2.6, 5.3),
    "n": (4.4, 5.3), "n_written": (4.4, 4.3), "query": (2.0, 1.2), "key": (3.7, 1.2), "value": (5.4, 1.2), "input_gate_pre": (7.1, 1.2),
    "forget_gate_pre": (8.8, 1.2), "output_gate_pre": (11.2, 1.2), "output_gate": (11.2, 2.5), "written_value": (6.1, 2.4),
    "written": (6.1, 6.0), "forget_gate_log": (8.8, 2.2), "m_prev": (10.6, 3.4), "forget_carry": (8.8, 3.1), "m": (8.8, 4.0),
    "input_exponent": (7.3, 4.0), "input_gate": (7.3, 2.2), "forget_exponent": (10.4, 4.4), "forget_gate": (3.4, 2.6),
    "numerator": (6.1, 4.7), "query_dot": (3.0, 3.6), "query_dot_abs": (1.4, 3.6), "m_neg": (10.0, 5.1), "bound": (8.6, 5.1),
    "denominator": (7.3, 4.9), "readout": (7.6, 5.9), "gated": (9.8, 5.9), "h": (11.4, 5.9), "mlstm_input": (0.6, 1.2),
    "conv": (0.6, 2.1), "conv_act": (0.6, 3.0), "normed": (8.6, 5.9), "skip": (1.8, 3.0), "skip_sum": (10.4, 4.9)}


class MLSTM(Kind):
    name, title = "mlstm", "mLSTM"
    summary = ("xLSTM's matrix-memory LSTM: per head a d × d memory written with the outer product of value and key under exponential gates "
               "held finite by a stabilizer, read out by a query; no recurrent weights, so a parallel form gives the same h (Beck et al. 2024).")
    zh = {"title": "mLSTM（矩阵记忆 LSTM）",
          "summary": "xLSTM 的矩阵记忆 LSTM：每个头一个 d × d 记忆，以值与键的外积在指数门下写入，稳定器使其保持有限，"
                     "再由查询读出；没有循环权重，并行形式算出同样的 h（Beck 等人，2024）。"}
    reference = ("Beck, Pöppel, Spanring, Auer, Prudnikova, Kopp, Klambauer, Brandstetter & Hochreiter 2024, "
                 "'xLSTM: Extended Long Short-Term Memory', arXiv:2405.04517")
    blocks, param_names, state_line = ("output_gate",), ("weight_ih",), ("C_prev", "kept", "C")
    reference_classes, reference_marks = ("mLSTMLayer",), frozenset({"mlstm_cell.outnorm.weight", "proj_up.weight"})
    from_reference = staticmethod(from_reference)                           # _mlstm_reference.py: its weights as ours
    options = (
        Option("heads", 4, "Heads, each with a d × d memory (d = hidden_size / heads; the reference's num_heads).", int, minimum=1,
               zh={"doc": "头数，每个头一个 d × d 记忆（d = hidden_size / heads；参考实现的 num_heads）。"}),
        Option("block", False, "The reference's whole mLSTM layer: up-projection, causal convolution, block-diagonal q/k/v, group norm, skip, "
               "SiLU output gate.", bool, zh={"doc": "参考实现的整个 mLSTM 层：上投影、因果卷积、分块对角的 q/k/v、组归一化、跳连、SiLU 输出门。"}),
        Option("proj_size", 0, "Width of h(t) = W_hr·gated(t) (the layer's down-projection); 0 for none.", int, minimum=0,
               zh={"doc": "h(t) = W_hr·gated(t) 的宽度（该层的下投影）；0 表示没有。"}),
        Option("conv_kernel", 4, "Taps of the block's causal convolution (conv1d_kernel_size).", int, minimum=1,
               zh={"doc": "该层因果卷积的抽头数（conv1d_kernel_size）。"}),
        Option("qkv_blocksize", 4, "Width of each diagonal block of the block's q, k, v maps (qkv_proj_blocksize).", int, minimum=1,
               zh={"doc": "该层 q、k、v 映射每个对角块的宽度（qkv_proj_blocksize）。"}),
        Option("unstabilized", False, "Hold the stabilizer m at 0, to show how exp(i_pre) overflows (for teaching).", bool,
               zh={"doc": "把稳定器 m 固定为 0，以展示 exp(i_pre) 如何溢出（用于教学）。"}))

    def sizes(self, input_size, hidden_size, opts):
        return {**super().sizes(input_size, hidden_size, opts), "state_size": hidden_size * heads_of(hidden_size, opts)[1]}

    def param_shapes(self, input_size, hidden_size, opts):
        nh, H, I, bs = heads_of(hidden_size, opts)[0], hidden_size, input_size, opts["qkv_blocksize"]
        reads = 3 * H if opts["block"] else I                                # the gates read [q, k, v], or x
        gates = {"weight_igate": (nh, reads), "bias_igate": (nh,), "weight_fgate": (nh, reads), "bias_fgate": (nh,)}
        if opts["block"]:
            s = {"weight_up": (H, I), "weight_ih": (H, I), "weight_conv": (H, opts["conv_kernel"]), "bias_conv": (H,),
                 **{f"weight_{n}": (H // bs, bs, bs) for n in "qkv"}, **gates, "weight_norm": (H,), "weight_skip": (H,)}
        else:
            s = {**{f"weight_{n}": (H, I) for n in "qkv"}, **gates, "weight_ih": (H, I), "bias_ih": (H,)}
        return s | ({"weight_hr": (opts["proj_size"], H)} if opts["proj_size"] else {})

    def carried(self, input_size, hidden_size, opts):
        return carried(hidden_size, heads_of(hidden_size, opts)[1], opts["conv_kernel"], opts["block"])

    def step_macs(self, input_size, hidden_size, opts):
        """The weights, and per head the memory's three d × d products (written, kept, C q)."""
        shapes = self.param_shapes(input_size, hidden_size, opts).values()
        return sum(math.prod(s) for s in shapes if len(s) > 1) + 3 * self.sizes(input_size, hidden_size, opts)["state_size"]

    def init_params(self, input_size, hidden_size, opts, rng):
        return reference_init(self.param_shapes(input_size, hidden_size, opts), input_size, opts, rng)

    def glossary(self, opts):
        names = [v.x()] + [_name(*r) for r in (*CORE_STATE, *FRONT[opts["block"]], *MIDDLE, *BACK[opts["block"]])]
        if opts["unstabilized"]:
            names[[n.name for n in names].index("m")] = _name("m", "m(t)", "state", "given", (), "m(t) = 0", "zero", "gates", "stabilizer", "稳定器")
        rhs, ins = ("o(t) ⊙ (norm(t) + skip(t))", ("skip_sum", "output_gate")) if opts["block"] else ("o(t) ⊙ h̃(t)", ("output_gate", "readout"))
        if opts["proj_size"]:                                                # h = W_hr·gated, the down-projection
            names += [_name("gated", "gated(t)", "product", "mul", ins, "gated(t) = " + rhs, "", "output", "gated readout", "门控后的读出"),
                      _name("h", "h(t)", "output", "affine", ("gated",), "h(t) = W_hr·gated(t)", "", "output", "output", "输出", "proj_size")]
        else:
            names.append(_name("h", "h(t)", "output", "mul", ins, "h(t) = " + rhs, "", "output", "output", "输出"))
        shown = [p for p in PHASES if p != "branch" or opts["block"]]
        return Glossary(tuple(names), (v.GIVEN, *(Phase(p, *PHASES[p][:2], {"title": PHASES[p][2], "text": PHASES[p][3]}) for p in shown)))

    def positions(self, glossary):
        return {n: POSITIONS[n] for n in glossary.keys()}

    def memory_roles(self, glossary):
        return {"mem": "C", "what": "matrix memory", "keep": "forget_gate", "keep_sym": "forget gate f (one per head)", "write": "input_gate",
                "write_sym": "input gate i (one per head)", "written": "i v kᵀ",
                "zh": {"what": "矩阵记忆", "keep_sym": "遗忘门 f（每个头一个）", "write_sym": "输入门 i（每个头一个）"}}

    # -- the computation -------------------------------------------------------------------------------------------
    def compile(self, params, opts, dtype):
        """Every matrix that reads x(t) side by side (one matmul for them all), transposed to multiply on the right."""
        H, p, c = len(params["weight_ih"]), params, (lambda a: np.ascontiguousarray(a, dtype))
        nh, d = heads_of(H, opts)
        P = {"H": H, "heads": nh, "d": d, "K": opts["conv_kernel"], "bs": opts["qkv_blocksize"], "block": opts["block"],
             "unstabilized": opts["unstabilized"], "log_range": LOG_RANGE[np.dtype(dtype)], "names": list(self.glossary(opts).keys())[1:],
             "W_hr": c(p["weight_hr"].T) if "weight_hr" in p else None}
        if not opts["block"]:                                                # q, k, v, o_pre, i_pre, f_pre
            rows = [p[n] for n in ("weight_q", "weight_k", "weight_v", "weight_ih", "weight_igate", "weight_fgate")]
            return P | {"W_in": c(np.concatenate(rows).T), "b_in": c(np.concatenate([np.zeros(3 * H), p["bias_ih"], p["bias_igate"],
                                                                                     p["bias_fgate"]]))}
        return P | {"W_in": c(np.concatenate([p["weight_up"], p["weight_ih"]]).T), "conv_w": c(p["weight_conv"].T),
                    "conv_b": c(p["bias_conv"]), "W_qk": c(np.concatenate([block_diag(p["weight_q"]), block_diag(p["weight_k"])]).T),
                    "W_v": c(block_diag(p["weight_v"]).T), "W_g": c(np.concatenate([p["weight_igate"], p["weight_fgate"]]).T),
                    "b_g": c(np.concatenate([p["bias_igate"], p["bias_fgate"]])), "gamma": c(p["weight_norm"]), "skip": c(p["weight_skip"])}

    def forward(self, plan, xs, state):
        o, _, more = steps(plan, xs[:, None], state)
        out = {n: np.ascontiguousarray(o[n][:, 0]) for n in plan["names"]}
        return out, LayerState(h=out["h"][-1].copy(), more={k: a[0] for k, a in more.items()})

    def scan(self, params: dict, xs: np.ndarray, opts: dict | None = None, state: LayerState | None = None) -> np.ndarray:
        """h(t) for every step of xs (T, ..., I) at once, in float64: the parallel form, from ``state`` (zeros when None);
        always stabilized (``unstabilized`` changes no h, only where it overflows)."""
        opts = self.check_options(opts or {})
        P, xs = self.compile(params, opts, np.float64), np.asarray(xs, np.float64)
        X = xs.reshape(len(xs), -1, xs.shape[-1])
        C0, n0, m0, window = initial(P, state.more if state else {}, X.shape[1], np.float64)
        o, ip, fp = front(P, X, window)
        q, k, val = (o[n].reshape(*X.shape[:2], P["heads"], P["d"]).transpose(1, 2, 0, 3) for n in CORE)   # (B, heads, T, d)
        F = np.cumsum(-np.logaddexp(0.0, -fp), axis=0).transpose(1, 2, 0)                             # Σ_{r≤t} log σ(f_pre)
        logD = np.where(np.tri(len(X), dtype=bool), F[..., :, None] - F[..., None, :] + ip.transpose(1, 2, 0)[..., None, :], -np.inf)
        log0 = m0[..., None] + F                                                                       # the initial state's column
        m = np.maximum(logD.max(-1), log0)
        D, D0 = np.exp(logD - m[..., None]), np.exp(log0 - m)
        S = (q @ np.swapaxes(k, -1, -2)) * D                                                           # q(t)·k(s) weighted
        num = S @ val + D0[..., None] * (q @ np.swapaxes(C0, -1, -2))
        qn = S.sum(-1) + D0 * (q @ n0[..., None])[..., 0]
        R = num / np.maximum(np.abs(qn), np.exp(np.clip(-m, *P["log_range"])))[..., None]
        finish(P, o, R.transpose(2, 0, 1, 3))
        return o["h"].reshape(*xs.shape[:-1], -1)

    # -- the backward pass (cells.backprop batches it, in float64) -------------------------------------------------
    def tape_forward(self, p, opts, X, start: LayerState):
        P = self.compile(p, opts, np.float64)
        o, c, more = steps(P, X, start)
        return o["h"], {"P": P, "o": o, "c": c, "X": X}, LayerState(h=o["h"][-1].copy(), more=more)

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
        return backward(p, cache, dY, dfinal, params=params, states=states)


KIND = MLSTM()
