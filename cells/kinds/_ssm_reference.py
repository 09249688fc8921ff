"""The mamba kind's weights as the reference has them: PyPI mambapy's ``mambapy.mamba.MambaBlock`` (cells/kinds/ssm.py holds
the kind)."""

from __future__ import annotations

import numpy as np

from ..errors import OptionError, ShapeError

#: state_dict names that mark a MambaBlock's saved weights (cells.load, an upload)
REFERENCE_MARKS = frozenset({"A_log", "x_proj.weight", "dt_proj.weight", "dt_proj.bias", "D"})


def from_reference(state: dict[str, np.ndarray], config: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Our layer-0 parameters (``_l0`` names, as cells.load takes them) and options from a mambapy MambaBlock's state_dict()
    (NumPy arrays) and its MambaConfig's fields (a dict; sizes are read off the arrays). ``config["block"] = False`` takes its S6
    alone, u(t) = x(t) (weight_ih the identity): the model reads u and gives y, as the reference's ``ssm(u, z)`` does."""
    for key, what in (("bias", "in_proj and out_proj biases"), ("inner_layernorms", "normalised Δ, B and C")):
        if config.get(key):
            raise OptionError(f"from_reference: MambaConfig({key}=True) gives {what}, which this kind has not")
    a = {k: np.asarray(w) for k, w in state.items()}
    A_log, x_proj, dt_w = a["A_log"], a["x_proj.weight"], a["dt_proj.weight"]
    (D, N), R = A_log.shape, dt_w.shape[1]
    if x_proj.shape != (R + 2 * N, D):
        raise ShapeError("x_proj.weight", (R + 2 * N, D), x_proj.shape, "dt_rank + 2·d_state rows, d_inner columns")
    params = {"x_proj_dt": x_proj[:R], "x_proj_B": x_proj[R:R + N], "x_proj_C": x_proj[R + N:], "dt_proj_weight": dt_w,
              "dt_proj_bias": a["dt_proj.bias"], "A_log": A_log, "D": a["D"]}
    opts = {"state_size": N, "dt_rank": R, "block": bool(config.get("block", True))}
    if not opts["block"]:
        return {k + "_l0": w for k, w in {"weight_ih": np.eye(D, dtype=A_log.dtype), **params}.items()}, {**opts, "proj_size": 0}
    in_proj, out_proj, conv = a["in_proj.weight"], a["out_proj.weight"], a["conv1d.weight"]
    if in_proj.shape[0] != 2 * D or out_proj.shape[1:] != (D,):
        raise ShapeError("in_proj.weight", (2 * D, in_proj.shape[1]), in_proj.shape, "u and z, d_inner rows each")
    if out_proj.shape[0] >= D:
        raise OptionError(f"from_reference: out_proj is {out_proj.shape}: gatescope's projection must be narrower than the "
                          f"{D} channels (expand_factor > 1)")
    params |= {"weight_ih": in_proj[:D], "weight_iz": in_proj[D:], "conv_weight": conv[:, 0, :],
               "conv_bias": a.get("conv1d.bias", np.zeros(D, conv.dtype)), "weight_hr": out_proj}
    return {k + "_l0": w for k, w in params.items()}, {**opts, "d_conv": conv.shape[-1], "proj_size": out_proj.shape[0]}
