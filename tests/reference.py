"""A deliberately plain reference of every cell kind, written from the papers.

No framework implements the peephole variants of Greff et al. or the MGU,
so the engine is checked against this: one timestep at a time, float64,
the textbook sigmoid, named weights sliced straight from the torch layout.
It shares no code with ``cells`` (only the torch naming convention).
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def split(w, n):
    return np.split(w, n, axis=0)


def lstm_family_step(p, x, h, c, prev, *, blocks, peep, coupled=False, cand="tanh", cell="tanh", fgr=False,
                     forget_bias=0.0, clip=None):
    """Greff et al.'s vanilla LSTM with the variant's change (blocks = present gates in torch order)."""
    n = len(blocks)
    zx = dict(zip(blocks, split(p["weight_ih"] @ x + p["bias_ih"], n)))
    zh = dict(zip(blocks, split(p["weight_hh"] @ h + p["bias_hh"], n)))
    z = {g: zx[g] + zh[g] for g in blocks}
    if fgr:
        H = len(c)
        R = p["weight_gg"]
        for k, g in enumerate(("input_gate", "forget_gate", "output_gate")):
            z[g] = z[g] + R[k * H:(k + 1) * H] @ prev
    if "forget_gate" in z:
        z["forget_gate"] = z["forget_gate"] + forget_bias
    if peep:
        if "input_gate" in z:
            z["input_gate"] = z["input_gate"] + p["weight_ci"] * c
        if "forget_gate" in z:
            z["forget_gate"] = z["forget_gate"] + p["weight_cf"] * c
    i = sigmoid(z["input_gate"]) if "input_gate" in z else np.ones_like(c)
    f = 1.0 - i if coupled else (sigmoid(z["forget_gate"]) if "forget_gate" in z else np.ones_like(c))
    g = np.tanh(z["candidate"]) if cand == "tanh" else z["candidate"]
    c_new = f * c + i * g
    if clip is not None:
        c_new = np.clip(c_new, -clip, clip)
    if "output_gate" in z:
        zo = z["output_gate"] + (p["weight_co"] * c_new if peep else 0.0)
        o = sigmoid(zo)
    else:
        o = np.ones_like(c)
    m = o * (np.tanh(c_new) if cell == "tanh" else c_new)
    h_new = p["weight_hr"] @ m if "weight_hr" in p else m
    return h_new, c_new, np.concatenate([i, f, o])


def gru_step(p, x, h, reset_after=True):
    r_x, z_x, n_x = split(p["weight_ih"] @ x + p["bias_ih"], 3)
    W_hr, W_hz, W_hn = split(p["weight_hh"], 3)
    b_hr, b_hz, b_hn = split(p["bias_hh"], 3)
    r = sigmoid(r_x + W_hr @ h + b_hr)
    z = sigmoid(z_x + W_hz @ h + b_hz)
    if reset_after:
        n = np.tanh(n_x + r * (W_hn @ h + b_hn))
    else:
        n = np.tanh(n_x + W_hn @ (r * h) + b_hn)
    return (1 - z) * n + z * h


def mgu_step(p, x, h):
    f_x, n_x = split(p["weight_ih"] @ x + p["bias_ih"], 2)
    W_f, W_n = split(p["weight_hh"], 2)
    b_f, b_n = split(p["bias_hh"], 2)
    f = sigmoid(f_x + W_f @ h + b_f)
    n = np.tanh(n_x + W_n @ (f * h) + b_n)
    return (1 - f) * h + f * n


def g(v):
    """Feng et al.'s candidate activation: v + 0.5 for v >= 0, sigma(v) below."""
    return np.where(v >= 0, v + 0.5, sigmoid(v))


def mingru_step(p, x, h):
    """Feng et al. 2024, minGRU: gates of x alone, z weights the new candidate."""
    n_x, z_x = split(p["weight_ih"] @ x, 2)
    z = sigmoid(z_x)
    return (1 - z) * h + z * g(n_x)


def minlstm_step(p, x, h):
    """Feng et al. 2024, minLSTM: f and i of x alone, normalised by their sum."""
    n_x, f_x, i_x = split(p["weight_ih"] @ x, 3)
    f, i = sigmoid(f_x), sigmoid(i_x)
    return f / (f + i) * h + i / (f + i) * g(n_x)


def rglru_step(p, x, h, first):
    """De et al. 2024, RG-LRU, after an input projection u = W x + b: gates block-diagonal over heads (each head's
    rows of weight_a and weight_x are its square block), log a = -8 softplus(lambda) r; at a sequence's first step
    a = 0 and the multiplier is 1, as the reference's segment position 0."""
    u = p["weight_ih"] @ x + p["bias_ih"]
    bw = p["weight_a"].shape[1]
    blocks = lambda w: np.concatenate([w[k:k + bw] @ u[k:k + bw] for k in range(0, len(u), bw)])
    r, i = sigmoid(blocks(p["weight_a"]) + p["bias_a"]), sigmoid(blocks(p["weight_x"]) + p["bias_x"])
    if first:
        return i * u
    log_a = -8.0 * np.log1p(np.exp(p["weight_lambda"])) * r
    # 1 - a^2 = -expm1(2 log a): as 1 - a * a it loses digits where a is near 1 (a decay that keeps nearly everything)
    return np.exp(log_a) * h + np.sqrt(-np.expm1(2 * log_a)) * i * u


def mamba_layer(p, xs):
    """Gu & Dao 2023, Mamba's S6 in a Mamba block (with conv_weight) or alone, one step at a time from a zero state:
    u = SiLU(causal depthwise conv of W_u x), delta = softplus(W_dt (W_r u) + b_dt), B = W_B u, C = W_C u, A = -exp(A_log);
    s = exp(delta A) * s + (delta u) outer B per channel; y = s C + D u, times SiLU(W_z x) with the block; then W_out."""
    silu = lambda a: a * sigmoid(a)
    A, block = -np.exp(p["A_log"]), "conv_weight" in p
    s, past, outs = np.zeros_like(A), [], []
    for x in xs:
        u = p["weight_ih"] @ x
        if block:
            past = [u] + past                          # u_pre(t), u_pre(t-1), ...: tap K-1-k reads k steps back
            K = p["conv_weight"].shape[1]
            u = silu(sum(p["conv_weight"][:, K - 1 - k] * past[k] for k in range(min(K, len(past)))) + p["conv_bias"])
        delta = np.log1p(np.exp(p["dt_proj_weight"] @ (p["x_proj_dt"] @ u) + p["dt_proj_bias"]))
        B, C = p["x_proj_B"] @ u, p["x_proj_C"] @ u
        s = np.exp(delta[:, None] * A) * s + np.outer(delta * u, B)
        y = s @ C + p["D"] * u
        if block:
            y = y * silu(p["weight_iz"] @ x)
        outs.append(p["weight_hr"] @ y if "weight_hr" in p else y)
    return np.array(outs)


def rnn_step(p, x, h, nonlinearity="tanh"):
    z = p["weight_ih"] @ x + p["bias_ih"] + p["weight_hh"] @ h + p["bias_hh"]
    return np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0.0)


LSTM_FAMILY = {
    "lstm": dict(blocks=("input_gate", "forget_gate", "candidate", "output_gate"), peep=False),
    "peephole": dict(blocks=("input_gate", "forget_gate", "candidate", "output_gate"), peep=True),
    "cifg": dict(blocks=("input_gate", "candidate", "output_gate"), coupled=True),
    "nig": dict(blocks=("forget_gate", "candidate", "output_gate")),
    "nfg": dict(blocks=("input_gate", "candidate", "output_gate")),
    "nog": dict(blocks=("input_gate", "forget_gate", "candidate")),
    "niaf": dict(blocks=("input_gate", "forget_gate", "candidate", "output_gate"), cand="identity"),
    "noaf": dict(blocks=("input_gate", "forget_gate", "candidate", "output_gate"), cell="identity"),
    "fgr": dict(blocks=("input_gate", "forget_gate", "candidate", "output_gate"), fgr=True),
}


def run_layer(kind, p, xs, h, c, opts):
    """Outputs (T, out) and final (h, c) of one layer-direction."""
    if kind == "mamba":   # its state is s, not h: a layer of its own
        outs = mamba_layer(p, xs)
        return outs, outs[-1], c
    outs, prev = [], np.zeros(3 * len(c)) if c is not None else None
    for t, x in enumerate(xs):
        if kind in LSTM_FAMILY:
            cfg = dict(LSTM_FAMILY[kind])
            cfg.setdefault("peep", opts.get("peepholes", False))
            h, c, prev = lstm_family_step(p, x, h, c, prev, forget_bias=opts.get("forget_bias", 0.0),
                                          clip=opts.get("cell_clip"), **cfg)
        elif kind == "gru":
            h = gru_step(p, x, h, opts.get("reset_after", True))
        elif kind == "mgu":
            h = mgu_step(p, x, h)
        elif kind in ("mingru", "minlstm"):
            h = (mingru_step if kind == "mingru" else minlstm_step)(p, x, h)
        elif kind == "rglru":
            h = rglru_step(p, x, h, first=t == 0)   # a run from zeros begins a sequence
        else:
            h = rnn_step(p, x, h, opts.get("nonlinearity", "tanh"))
        outs.append(h)
    return np.array(outs), h, c


def run(kind, params, xs, *, num_layers, bidirectional, hidden, out_size, opts):
    """What nn.LSTM-style stacking returns: (output (T, D*out), h_n, c_n)."""
    D = 2 if bidirectional else 1
    inp, hs, cs = xs, [], []
    for k in range(num_layers):
        outs = []
        for d in range(D):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            p = {name[: -len(sfx)]: w for name, w in params.items() if name.endswith(sfx)}
            c0 = np.zeros(hidden) if kind in LSTM_FAMILY else None
            seq = inp if d == 0 else inp[::-1]
            o, h, c = run_layer(kind, p, seq, np.zeros(out_size), c0, opts)
            outs.append(o if d == 0 else o[::-1])
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(outs, axis=1)
    return inp, np.array(hs), (np.array(cs) if cs[0] is not None else None)
