"""The slstm kind's weights as the reference has them (cells/kinds/slstm.py holds the kind, its forward and equations).

R is block-diagonal, one d × d block per head in each gate block: weight_hh (4H, d) stores the blocks without the
zeros between them, and :func:`dense_recurrent` spreads them into the dense R (4H, H) the products use
(:func:`compact_recurrent` is its inverse, for R's gradient). :func:`reference_init` draws fresh weights as the
reference does; :func:`from_reference` reads its weights, an ``xlstm`` sLSTMLayer's state_dict (PyPI xlstm 2.0.6).

**What the reference's layer adds** (``sLSTMLayer``), and why it is not here: head-wise gate projections (a
block-diagonal W: :func:`from_reference` writes it into the dense weight_ih, zeros off the blocks); a causal conv1d
with SiLU that feeds ĩ and f̃ only (a layer over time before the cell, refused by :func:`from_reference` when
conv1d_kernel_size > 0); dropout (training only); a group norm of h per head (after the cell, not fed back: the
layer's output is GroupNorm(h), h itself is what the next step reads).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import CellsError, OptionError, ShapeError


# -- the recurrent weight: stored without its zeros, used dense ------------------------------------------------------
def block_diagonal(blocks: np.ndarray) -> np.ndarray:
    """(..., K, d, d) -> (..., K·d, K·d): the K blocks on the diagonal, zeros elsewhere."""
    *lead, K, d, _ = blocks.shape
    out = np.zeros((*lead, K, d, K, d), blocks.dtype)
    k = np.arange(K)
    out[..., k, :, k, :] = np.moveaxis(blocks, -3, 0)     # advanced indices apart: their axis goes first
    return out.reshape(*lead, K * d, K * d)


def dense_recurrent(weight_hh: np.ndarray, heads: int) -> np.ndarray:
    """R (4H, H) from weight_hh (4H, d): each head's d × d block on the diagonal of each gate block, zeros elsewhere."""
    d = weight_hh.shape[1]
    return block_diagonal(weight_hh.reshape(4, heads, d, d)).reshape(4 * heads * d, heads * d)


def compact_recurrent(R: np.ndarray, heads: int) -> np.ndarray:
    """The inverse of :func:`dense_recurrent`: the diagonal blocks of R (4H, H) as weight_hh (4H, d) (the rest dropped)."""
    H = R.shape[1]
    d = H // heads
    k = np.arange(heads)
    return np.ascontiguousarray(R.reshape(4, heads, d, heads, d)[:, k, :, k, :].transpose(1, 0, 2, 3).reshape(4 * H, d))


# -- the reference's init --------------------------------------------------------------------------------------------
def reference_init(shapes: dict, input_size: int, hidden_size: int, opts: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The reference's init: W its small_init, normal with std √(2 / (5 I)) (its gate projections); b zeros but
    f̃'s, its "powerlaw_blockdependent" ramp in each head, −(−5 + 12 (k / (d − 1))^0.3) for k = 0 … d − 1, from +5
    down to −7 (for d = 1, where the reference divides by zero, just +5). R: its recurrent_weight_init="standard",
    U(−1/√H, 1/√H), not its default "zeros": with R = 0, h(t−1) has no effect at all, so a fresh model would show
    no recurrence through h and the gradient checks on h(0) would have nothing to check."""
    d = hidden_size // opts.get("heads", 1)
    ramp = -(-5.0 + 12.0 * (np.arange(d) / max(d - 1, 1)) ** 0.3)
    bias = np.zeros(shapes["bias"])
    bias[hidden_size:2 * hidden_size] = np.tile(ramp, hidden_size // d)
    bound = 1.0 / math.sqrt(hidden_size)
    return {"weight_ih": rng.normal(0.0, math.sqrt(2.0 / (5.0 * input_size)), size=shapes["weight_ih"]),
            "weight_hh": rng.uniform(-bound, bound, size=shapes["weight_hh"]), "bias": bias}


# -- the reference's weights -----------------------------------------------------------------------------------------
def from_reference(state: dict[str, np.ndarray], config: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Our parameters (``_l0``) and options from an ``xlstm`` sLSTMLayer's state_dict (as NumPy, names unprefixed) and
    its config's fields ({} for a saved state_dict: the shapes say the rest).

    The layer's gate projections are block-diagonal, (heads, d, d) each; they become the dense weight_ih with zeros
    off the blocks. Note the reference's names: ĩ comes from ``fgate`` and f̃ from ``igate`` (sLSTMLayer.forward
    computes ``i, f, z, o = fgate(x), igate(x), zgate(x), ogate(x)``). The cell stores R and b in its backend's
    layout, which R's shape tells: "vanilla" (heads, 4d, d), rows gate-major, b gate-major (4, heads, d); "cuda"
    (heads, d, 4d), b head-major (heads, 4, d). The group norm's weight is not the cell's and is not read; a causal
    conv1d (conv1d_kernel_size > 0) is refused, since it feeds ĩ and f̃ a convolution of the input this kind lacks.
    """
    def find(name: str) -> np.ndarray:
        if name not in state:
            raise CellsError(f"{name}: not in the state_dict; an xlstm sLSTMLayer's has fgate.weight, igate.weight, "
                             "zgate.weight, ogate.weight, slstm_cell._recurrent_kernel_ and slstm_cell._bias_")
        return np.asarray(state[name])

    if config.get("conv1d_kernel_size") or any(n.startswith("conv1d.") for n in state):
        got = config.get("conv1d_kernel_size") or "a conv1d in the state_dict"
        raise OptionError(f"conv1d_kernel_size: got {got}; the slstm kind has no input convolution (the layer's causal "
                          "conv1d feeds ĩ and f̃ only); only conv1d_kernel_size=0 is read")
    gates = [find(f"{g}gate.weight") for g in ("f", "i", "z", "o")]       # (heads, d_out, d_in); ĩ from fgate!
    R, b = find("slstm_cell._recurrent_kernel_"), find("slstm_cell._bias_")
    if gates[0].ndim != 3 or gates[0].shape[1] != gates[0].shape[2]:
        raise ShapeError("fgate.weight", ("heads", "d", "d"), gates[0].shape, "one d × d block per head")
    heads, d = gates[0].shape[0], gates[0].shape[-1]
    H = heads * d
    if config.get("num_heads", heads) != heads or config.get("embedding_dim", H) != H:
        raise CellsError(f"fgate.weight: shape {gates[0].shape} holds {heads} heads of {d}, but the config says "
                         f"num_heads {config.get('num_heads')} and embedding_dim {config.get('embedding_dim')}")
    for g, w in zip("fizo", gates):
        if w.shape != (heads, d, d):
            raise ShapeError(f"{g}gate.weight", (heads, d, d), w.shape)
    if b.shape != (4 * H,):
        raise ShapeError("slstm_cell._bias_", (4 * H,), b.shape)
    layouts = {"vanilla": (heads, 4 * d, d), "cuda": (heads, d, 4 * d)}
    backend = next((k for k, shape in layouts.items() if R.shape == shape), None)
    if backend is None:
        raise ShapeError("slstm_cell._recurrent_kernel_", layouts["vanilla"], R.shape, f"or {layouts['cuda']} (the cuda backend's)")
    if config.get("backend", backend) != backend:
        raise CellsError(f"slstm_cell._recurrent_kernel_: shape {R.shape} is the {backend} backend's, "
                         f"but the config says {config['backend']!r}")
    weight_ih = np.concatenate([block_diagonal(w) for w in gates])
    if backend == "vanilla":
        weight_hh = R.reshape(heads, 4, d, d).transpose(1, 0, 2, 3).reshape(4 * H, d)   # [k, g·d + j, l] -> [g·H + k·d + j, l]
        bias = b
    else:
        weight_hh = R.reshape(heads, d, 4, d).transpose(2, 0, 3, 1).reshape(4 * H, d)   # [k, l, g, j] -> [g·H + k·d + j, l]
        bias = b.reshape(heads, 4, d).transpose(1, 0, 2).reshape(4 * H)
    params = {"weight_ih_l0": weight_ih, "weight_hh_l0": np.ascontiguousarray(weight_hh), "bias_l0": np.ascontiguousarray(bias)}
    return params, {"heads": heads, "forget": "sigmoid", "unstabilized": False}
