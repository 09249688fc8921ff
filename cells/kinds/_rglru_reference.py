"""The rglru kind's weights as the reference has them (cells/kinds/rglru.py holds the kind, its forward and equations).

The reference is PyPI recurrentgemma's ``recurrentgemma/torch/layers.py``, ``RGLRU(width, num_heads)``: its gates are
``BlockDiagonalLinear`` (w: (heads, in, out) per head, b: (heads, width/heads)) and its Λ is ``a_param``.
"""

from __future__ import annotations

import numpy as np

from ..errors import CellsError, OptionError, ShapeError, WeightNameError

REFERENCE_NAMES = ("a_param", "a_gate.w", "a_gate.b", "input_gate.w", "input_gate.b")   # RGLRU's state_dict


def from_reference(state: dict[str, np.ndarray], config: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Our parameters (``_l0``, as cells.load takes them) and options for the reference's ``RGLRU(width, num_heads)``,
    from its state_dict as NumPy arrays and its settings (``width``, ``num_heads``; {} reads them off the shapes):
    the projection is the identity (the layer alone reads its input as is), BlockDiagonalLinear's w (heads, in, out)
    becomes the stacked (out, in) blocks, its b (heads, H/heads) a vector, a_param is Λ."""
    extra = sorted(set(state) - set(REFERENCE_NAMES))
    if extra:
        raise CellsError(f"RG-LRU: {', '.join(extra)}: not weights of the reference's RGLRU layer "
                         f"({', '.join(REFERENCE_NAMES)}); pass the RG-LRU's own state_dict (a Griffin block's rg_lru)")
    missing = [n for n in REFERENCE_NAMES if n not in state]
    if missing:
        raise WeightNameError(missing=missing, message=f"RG-LRU: missing {', '.join(missing)} of the reference's RGLRU layer")
    lam = np.asarray(state["a_param"])
    H = int(config.get("width", lam.shape[0] if lam.ndim == 1 else 0))
    heads = int(config.get("num_heads", np.shape(state["a_gate.w"])[0] if np.ndim(state["a_gate.w"]) == 3 else 1))
    if heads < 1 or H < 1 or H % heads:
        raise OptionError(f"num_heads: got {heads}; the width {H} must be a positive multiple of it")
    bw = H // heads
    if lam.shape != (H,):
        raise ShapeError("a_param", (H,), lam.shape)
    out = {"weight_ih_l0": np.eye(H, dtype=lam.dtype), "bias_ih_l0": np.zeros(H, lam.dtype)}
    for gate, ours in (("a_gate", "a"), ("input_gate", "x")):
        w, b = np.asarray(state[f"{gate}.w"]), np.asarray(state[f"{gate}.b"])
        if w.shape != (heads, bw, bw):
            raise ShapeError(f"{gate}.w", (heads, bw, bw), w.shape, "BlockDiagonalLinear: (num_heads, in, out) per head")
        if b.shape != (heads, bw):
            raise ShapeError(f"{gate}.b", (heads, bw), b.shape)
        out[f"weight_{ours}_l0"] = np.ascontiguousarray(w.transpose(0, 2, 1).reshape(H, bw))
        out[f"bias_{ours}_l0"] = b.reshape(H).copy()
    out["weight_lambda_l0"] = lam.copy()
    return out, {"heads": heads}
