"""The backward pass of the mlstm kind (cells/kinds/mlstm.py holds the kind, its forward and its equations), and the
small pieces the forward shares with it: the names q, k, v, SiLU and the reader of a layer state (mlstm.py imports
them from here, so that nothing here imports mlstm.py).

**The backward pass** (tape_forward, tape_backward; cells.backprop batches it, in float64) walks G = dL/dC and
N = dL/dn back through f, and M = dL/dm through the max (a tie splits, as torch's): see :func:`back_memory`.
"""

from __future__ import annotations

import math

import numpy as np

from .._math import flat_outer, sigmoid, silu_slope
from ..errors import ShapeError
from ._mlstm_reference import blocks_of
from .base import LayerState

CORE = ("query", "key", "value")


def outer(dA: np.ndarray, V: np.ndarray) -> np.ndarray:
    """flat_outer with V broadcast to dA's rows (gradient_flow's cache holds one row for many adjoints)."""
    return flat_outer(dA, np.broadcast_to(V, dA.shape[:-1] + V.shape[-1:]))


def initial(P: dict, more: dict, B: int, dtype) -> tuple:
    """C(0) (B, heads, d, d), n(0) (B, heads, d), m(0) (B, heads) and the convolution's window (K−1, B, H) from a
    state's ``more`` by glossary name (zeros where absent), each (width,) or (B, width) as MLSTM.carried says."""
    nh, d, H = P["heads"], P["d"], P["H"]
    got = {}
    for name, width in carried(H, d, P["K"], P["block"]).items():
        a = np.zeros(width, dtype) if more.get(name) is None else np.asarray(more[name], dtype)
        if a.shape not in ((width,), (B, width)):
            raise ShapeError(f"more[{name!r}]", (B, width) if a.ndim > 1 else (width,), a.shape, "the layer state's " + name)
        got[name] = np.broadcast_to(a, (B, width))
    window = got["mlstm_input"].reshape(B, -1, H).transpose(1, 0, 2) if P["block"] else None
    return got["C"].reshape(B, nh, d, d), got["n"].reshape(B, nh, d), got["m"].reshape(B, nh, d)[..., 0], window


def carried(H: int, d: int, K: int, block: bool) -> dict[str, int]:
    """What a layer carries besides h, by glossary name -> width (Kind.carried): C, n, m and, with ``block``, the window."""
    return {"C": H * d, "n": H, "m": H} | ({"mlstm_input": (K - 1) * H} if block else {})


# -- the backward pass -----------------------------------------------------------------------------------------------
def backward(p: dict, cache: dict, dY: np.ndarray, dfinal: LayerState | None, *, params: bool, states: bool) -> tuple:
    """MLSTM.tape_backward (Kind.tape_backward's contract), over the cache of MLSTM.tape_forward: the parameters'
    gradients, dL/dx (T, S, I), the initial state's adjoints and (``states``) every step's dL/dh."""
    P, o, c = cache["P"], cache["o"], cache["c"]
    (S, out), nh, d, gr = dY.shape[1:], P["heads"], P["d"], {}
    dY, more = dY.copy(), (dfinal.more if dfinal is not None else {})
    if dfinal is not None:
        dY[-1] += dfinal.h                                               # h(T) is the last step's output
    dR, dop, dxc = back_output(P, p, o, dY, gr)
    dC, dn, _, dwin = initial(P, more, S, np.float64)
    dm_end = np.asarray(more.get("m", np.zeros(P["H"])), np.float64).reshape(-1, nh, d).sum(-1)   # m(T) is on each unit of its head
    dm = back_memory(P, c, dR, dC, dn, dm_end)
    dX, dwin = back_front(P, o, cache["X"], dm, dop, dxc, dwin, gr)
    dm0 = np.zeros((S, nh, d))
    dm0[..., 0] = dm["m"]                                                # m(0) is read from each head's first unit
    d0 = {"C": dm["C"].reshape(S, -1), "n": dm["n"].reshape(S, -1), "m": dm0.reshape(S, -1)}
    if dwin is not None:
        d0["mlstm_input"] = dwin.transpose(1, 0, 2).reshape(S, -1)
    return gr if params else None, dX, LayerState(h=np.zeros((S, out)), more=d0), ({"h": dY} if states else None)


def back_memory(P: dict, c: dict, dR: np.ndarray, dC, dn, dm) -> dict:
    """dL/d(q, k, v) (T, S, heads, d), dL/d(i_pre, f_pre) (T, S, heads) and the initial C, n, m's, from dL/dh̃ = dR and
    the final memory's. With den = max(a, b), a = |nᵀq|, b = e^(−m), and G(t), N(t) the adjoints of C(t), n(t):

        dnum = dR / den,  dden = −dR·h̃ / den,  dqn = dden [a wins] sign(nᵀq)
        G(t) = dnum q(t)ᵀ + f(t+1) G(t+1),   N(t) = dqn q(t) + f(t+1) N(t+1)        the step-by-step lines
        df = ΣG ⊙ C(t−1) + N·n(t−1);  di = (G k)·v + N·k;  dv = i G k;  dk = i (Gᵀ v + N);  dq = C(t)ᵀ dnum + dqn n(t)
        M(t) = −dden [b wins] b − di i − df f + dcarry(t+1),  dcarry(t) = df f + M(t) [carry wins]   (dm(t−1) = dcarry(t))
        di_pre = di i + M(t) [i_pre wins],  df_pre = dcarry σ(−f_pre)
    """
    T, f, i, q, k, qn, bound = len(dR), c["f"], c["i"], c["q"], c["k"], c["qn"], c["bound"]
    dnum, dden = dR / c["den"][..., None], -(dR * c["R"]).sum(-1) / c["den"]
    wa = np.where(np.abs(qn) > bound, 1.0, np.where(np.abs(qn) == bound, 0.5, 0.0))   # torch.maximum: a tie splits
    dqn = dden * wa * np.sign(qn)
    Gin, Nin = dnum[..., :, None] * q[..., None, :], dqn[..., None] * q
    G, N = np.empty(Gin.shape), np.empty(Nin.shape)
    g, nn = np.broadcast_to(dC, G.shape[1:]).copy(), np.broadcast_to(dn, N.shape[1:]).copy()
    for t in range(T - 1, -1, -1):
        np.multiply(np.add(Gin[t], g, out=G[t]), f[t, ..., None, None], out=g)     # dC(t−1) = f(t) dC(t)
        np.multiply(np.add(Nin[t], nn, out=N[t]), f[t, ..., None], out=nn)
    df = (G * c["Cs"][:-1]).sum((-2, -1)) + (N * c["Ns"][:-1]).sum(-1)
    dwv = (G @ k[..., None])[..., 0]
    di = (dwv * c["v"]).sum(-1) + (N * k).sum(-1)
    out = {"C": g, "n": nn, "value": i[..., None] * dwv, "key": (c["wv"][..., None, :] @ G)[..., 0, :] + i[..., None] * N,
           "query": (np.swapaxes(c["Cs"][1:], -1, -2) @ dnum[..., None])[..., 0] + dqn[..., None] * c["Ns"][1:]}
    die, dfe = di * i, df * f
    dip, dcarry = die, dfe                                                   # unstabilized: m is the constant 0
    if not P["unstabilized"]:
        M, ip, carry = c["M"], c["ip"], c["carry"]
        held = (-M[1:] <= P["log_range"][0]) | (-M[1:] >= P["log_range"][1])
        here = -dden * (1.0 - wa) * bound * ~held - die - dfe                  # m(t) in exp(−m), i and f
        sel = np.where(carry > ip, 1.0, np.where(carry == ip, 0.5, 0.0))   # the max's choice: carry, or i_pre
        Mt, mc = np.empty(here.shape), np.broadcast_to(dm, here.shape[1:])
        for t in range(T - 1, -1, -1):
            Mt[t] = here[t] + mc
            mc = dfe[t] + Mt[t] * sel[t]
        dip, dcarry = die + Mt * (1.0 - sel), dfe + Mt * sel
    out |= {"m": dcarry[0], "ip": dip, "fp": dcarry * sigmoid(-c["fp"])}   # d log σ(x)/dx = σ(−x)
    return out


def back_output(P: dict, p: dict, o: dict, dY: np.ndarray, gr: dict) -> tuple:
    """dL/dh̃ (T, S, heads, d), dL/do_pre and (block) dL/dũ from dL/dh: the output side walked back."""
    T, S = dY.shape[:2]
    dgated, og = dY, o["output_gate"]
    if P["W_hr"] is not None:
        gr["weight_hr"], dgated = outer(dY, o["gated"]), dY @ p["weight_hr"]
    if not P["block"]:
        return (dgated * og).reshape(T, S, P["heads"], P["d"]), dgated * o["readout"] * og * (1.0 - og), None
    dS = dgated * og
    gr["weight_skip"], gr["weight_norm"] = (dS * o["conv_act"]).sum((0, 1)), (dS * o["xhat"]).sum((0, 1))
    dxh = (dS * P["gamma"]).reshape(T, S, P["heads"], P["d"])                # the group norm: y = γ x̂, x̂ = (x − μ) rstd
    xh = o["xhat"].reshape(*o["xhat"].shape[:2], P["heads"], P["d"])
    dR = o["rstd"] * (dxh - dxh.mean(-1, keepdims=True) - xh * (dxh * xh).mean(-1, keepdims=True))
    return dR, dgated * o["skip_sum"] * silu_slope(o["output_gate_pre"]), dS * P["skip"]


def back_front(P: dict, o: dict, X: np.ndarray, dm: dict, dop, dxc, dwin, gr: dict) -> tuple:
    """dL/dx (T, S, I) and (block) the first window's adjoint, from those of q, k, v, i_pre, f_pre, o_pre and the last window."""
    H, T, S = P["H"], len(X), dop.shape[1]
    dq, dk, dv = (dm[n].reshape(T, S, H) for n in CORE)
    dg = np.concatenate([dm["ip"], dm["fp"]], axis=-1)
    gr["bias_igate"], gr["bias_fgate"] = np.split(dg.sum((0, 1)), 2)
    if not P["block"]:
        dA = np.concatenate([dq, dk / math.sqrt(P["d"]), dv, dop, dg], axis=-1)
        rows = np.split(outer(dA, X), np.cumsum([H, H, H, H, P["heads"]]))
        gr |= dict(zip(("weight_q", "weight_k", "weight_v", "weight_ih", "weight_igate", "weight_fgate"), rows))
        gr["bias_ih"] = dop.sum((0, 1))
        return dA @ P["W_in"].T, None
    gr["weight_igate"], gr["weight_fgate"] = np.split(outer(dg, np.concatenate([o[n] for n in CORE], axis=-1)), 2)
    back = dg @ P["W_g"].T                                                   # the gates read q, k, v
    dq, dk, dv = dq + back[..., :H], (dk + back[..., H:2 * H]) / math.sqrt(P["d"]), dv + back[..., 2 * H:]
    for n, a, src in (("q", dq, "conv_act"), ("k", dk, "conv_act"), ("v", dv, "mlstm_input")):
        gr[f"weight_{n}"] = blocks_of(outer(a, o[src]), P["bs"])
    dconv = (dxc + np.concatenate([dq, dk], axis=-1) @ P["W_qk"].T) * silu_slope(o["conv"])
    K, dpad = P["K"], np.zeros((T + P["K"] - 1, S, H))
    dpad[T:] += dwin                                                         # the final state's window: pad's last K−1
    for j in range(K):                                                       # conv(t) = b + Σ_j w_j ⊙ pad(t + j)
        dpad[j:j + T] += dconv * P["conv_w"][j]
    gr["weight_conv"] = np.stack([(dconv * o["pad"][j:j + T]).sum((0, 1)) for j in range(K)], axis=1)
    gr["bias_conv"] = dconv.sum((0, 1))
    du = dpad[K - 1:] + dv @ P["W_v"].T
    gr["weight_up"], gr["weight_ih"] = outer(du, X), outer(dop, X)
    return np.concatenate([du, dop], axis=-1) @ P["W_in"].T, dpad[:K - 1]
