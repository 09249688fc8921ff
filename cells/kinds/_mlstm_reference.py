"""The mlstm kind's weights as the reference has them (cells/kinds/mlstm.py holds the kind, its forward and equations).

With ``block`` the q, k, v maps are the reference's LinearHeadwiseExpand: weight (blocks, bs, bs), stored without the
zeros between its blocks; :func:`block_diag` spreads it into the dense (H, H) matrix the products use
(:func:`blocks_of` is its inverse, for the gradient). :func:`heads_of` checks that the heads and blocks split the
hidden size; NORM_EPS is the ε of the reference's group norm. :func:`reference_init` draws fresh weights as the
reference does; :func:`from_reference` reads its weights, an ``xlstm`` mLSTMLayer's state_dict (PyPI xlstm 2.0.6).
mlstm.py imports all of these from here; nothing here imports mlstm.py.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import OptionError, ShapeError, WeightNameError

NORM_EPS = 1e-5  # the reference's MultiHeadLayerNorm


def heads_of(hidden: int, opts: dict) -> tuple[int, int]:
    """(heads, d), refusing a hidden_size that the heads (or the block's q/k/v blocks) do not divide."""
    nh, bs = opts["heads"], opts["qkv_blocksize"]
    if hidden % nh:
        raise OptionError(f"heads: hidden_size {hidden} does not split into {nh} heads; give a hidden_size that is a multiple of {nh}")
    if opts["block"] and hidden % bs:
        raise OptionError(f"qkv_blocksize: hidden_size {hidden} does not split into blocks of {bs}")
    return nh, hidden // nh


def block_diag(w: np.ndarray) -> np.ndarray:
    """The (H, H) matrix of a LinearHeadwiseExpand weight (blocks, out, in): block b on the diagonal."""
    nb, bs, _ = w.shape
    out = np.zeros((nb, bs, nb, bs), w.dtype)
    out[np.arange(nb), :, np.arange(nb), :] = w
    return out.reshape(nb * bs, nb * bs)


def blocks_of(g: np.ndarray, bs: int) -> np.ndarray:
    """block_diag's inverse on a gradient: its diagonal blocks (blocks, out, in)."""
    nb = len(g) // bs
    return g.reshape(nb, bs, nb, bs)[np.arange(nb), :, np.arange(nb), :]


def from_reference(state: dict[str, np.ndarray], config: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Our parameters (``_l0``) and options from an mLSTMLayer's state_dict (as NumPy arrays) and its config
    (mLSTMLayerConfig's fields, or {}: the weights say the sizes, the gates one row per head): block=True; the gates'
    k columns ×√d, since our k is scaled; γ = 1 + the norm's weight."""
    if config.get("bias") or "proj_up.bias" in state:
        raise OptionError("bias: the reference layer was built with bias=True; only bias=False (its default) can be read")
    names = {"proj_up.weight", "conv1d.conv.weight", "conv1d.conv.bias", "q_proj.weight", "k_proj.weight", "v_proj.weight",
             "learnable_skip", "proj_down.weight", *(f"mlstm_cell.{g}.{w}" for g in ("igate", "fgate") for w in ("weight", "bias")),
             "mlstm_cell.outnorm.weight"}
    if names - set(state):
        raise WeightNameError(missing=names - set(state), layout="mLSTMLayer", expected=names)
    s = {k: np.asarray(a) for k, a in state.items()}
    up, nh, bs = s["proj_up.weight"], len(s["mlstm_cell.igate.weight"]), s["q_proj.weight"].shape[-1]
    if config.get("num_heads", nh) != nh:
        raise ShapeError("mlstm_cell.igate.weight", (config["num_heads"], "3·inner"), s["mlstm_cell.igate.weight"].shape, "one row per head")
    opts = {"block": True, "heads": nh, "conv_kernel": s["conv1d.conv.weight"].shape[-1], "qkv_blocksize": bs,
            "proj_size": len(s["proj_down.weight"])}
    H = len(up) // 2
    root = math.sqrt(heads_of(H, opts)[1])
    gate = lambda w: np.concatenate([w[:, :H], w[:, H:2 * H] * w.dtype.type(root), w[:, 2 * H:]], axis=1)
    p = {"weight_up": up[:H], "weight_ih": up[H:], "weight_conv": s["conv1d.conv.weight"][:, 0, :], "bias_conv": s["conv1d.conv.bias"],
         **{f"weight_{n}": s[f"{n}_proj.weight"] for n in "qkv"}, "weight_skip": s["learnable_skip"], "weight_hr": s["proj_down.weight"],
         **{f"{w}_{g}": s[f"mlstm_cell.{g}.{w}"] for g in ("igate", "fgate") for w in ("weight", "bias")},
         "weight_norm": 1 + s["mlstm_cell.outnorm.weight"]}
    p["weight_igate"], p["weight_fgate"] = gate(p["weight_igate"]), gate(p["weight_fgate"])
    return {k + "_l0": np.ascontiguousarray(a) for k, a in p.items()}, opts


def reference_init(shapes: dict, input_size: int, opts: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The reference's own init (mLSTMLayer.reset_parameters, mLSTMCell's): small_init N(0, 2/(5E)) for proj_up and q/k/v (E =
    input_size), wang_init N(0, (2/E)²) for proj_down, nn.Conv1d's U(±1/√K), zero gate weights, the forget bias linspace(3, 6),
    the input bias N(0, 0.1²), γ = 1, s = 1; the cell's output gate as proj_up, its bias 0."""
    out, small = {}, math.sqrt(2 / (5 * input_size))
    for name, shape in shapes.items():
        if name in ("weight_up", "weight_ih", "weight_q", "weight_k", "weight_v"):
            out[name] = rng.normal(0.0, small, shape)
        elif name in ("weight_conv", "bias_conv"):
            out[name] = rng.uniform(-1, 1, shape) / math.sqrt(opts["conv_kernel"])
        elif name == "weight_hr":
            out[name] = rng.normal(0.0, 2 / math.sqrt(shape[0]), shape)
        elif name == "bias_igate":
            out[name] = rng.normal(0.0, 0.1, shape)
        else:
            out[name] = np.linspace(3.0, 6.0, shape[0]) if name == "bias_fgate" else np.full(shape, float(name in ("weight_norm", "weight_skip")))
    return out
