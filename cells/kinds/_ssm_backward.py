"""The mamba kind's backward pass (cells/kinds/ssm.py holds the kind, its forward pass and the equations this reverses)."""

from __future__ import annotations

import numpy as np

from .._math import flat_outer, flush, sigmoid, silu_slope


def backward(c: dict, p: dict, dH: np.ndarray, more: dict, params: bool):
    """The reverse of :func:`steps` (its equations: the module's docstring): the gradients (if ``params``), dX, every ds (T, S, D, N)
    and the starting state's adjoints. Their batch S may differ from the cache's B = 1 (gradient_flow): all but the gradients broadcast."""
    plan, X, Ss, block = c["plan"], c["X"], c["Ss"], "pad" in c
    (T, S), (D, N), K, A, g, dlast = dH.shape[:2], plan["A"].shape, plan["K"], plan["A"], {}, dH
    if plan["W_out"] is not None:
        g["weight_hr"], dlast = (flat_outer(dH, c["gated" if block else "y"]) if params else None), dH @ p["weight_hr"]
    dy, dz = (dlast * c["output_gate"], dlast * c["y"] * silu_slope(c["output_gate_pre"])) if block else (dlast, None)
    dC = (dy[..., None, :] @ Ss[1:])[..., 0, :]                     # read(t) = s(t)·C(t)
    dread = dy[..., None] * c["C"][..., None, :]                    # read's share of ds(t): dy(t) ⊗ C(t)
    dS = np.empty((T, S, D, N))
    ds = np.zeros((S, D, N)) if "state" not in more else more["state"].reshape(S, D, N).copy()
    for t in range(T - 1, -1, -1):                                  # ds(t) = read's + Ā(t+1) ⊙ ds(t+1)
        ds += dread[t]
        dS[t] = ds
        ds = flush(ds * c["decay"][t])                              # ds(t−1) from step t
    ddelta_A = dS * Ss[:-1] * c["decay"]                            # dĀ ⊙ Ā: through Ā = exp(ΔA)
    ddelta_u, dB = (dS @ c["B"][..., :, None])[..., 0], (c["delta_u"][..., None, :] @ dS)[..., 0, :]   # written = Δu ⊗ B
    ddelta_pre = ((ddelta_A * A).sum(-1) + ddelta_u * c["u"]) * sigmoid(c["delta_pre"])        # softplus′ = σ
    dlow = ddelta_pre @ p["dt_proj_weight"]
    du = dy * plan["D"] + ddelta_u * c["delta"] + dlow @ p["x_proj_dt"] + dB @ p["x_proj_B"] + dC @ p["x_proj_C"]
    start, dX = {"state": ds.reshape(S, D * N)}, du @ p["weight_ih"]
    if block:
        dconv, dpad = du * silu_slope(c["u_conv"]), np.zeros((T + K - 1, S, D))
        dpad[T:] += np.moveaxis(more["u_pre"].reshape(S, K - 1, D), 1, 0) if "u_pre" in more else 0.0   # the final window: pad's last rows
        for j in range(K):
            dpad[j:j + T] += dconv * plan["conv"][j]                # tap j read pad[t + j]
        du_pre, start["u_pre"] = dpad[K - 1:], np.moveaxis(dpad[:K - 1], 0, 1).reshape(S, -1)
        dX = du_pre @ p["weight_ih"] + dz @ p["weight_iz"]
    if not params:
        return None, dX, dS, start
    g |= {"D": (dy * c["u"]).sum(axis=(0, 1)), "A_log": (ddelta_A * c["delta"][..., None]).sum(axis=(0, 1)) * A,   # dA ⊙ A
          "dt_proj_bias": ddelta_pre.sum(axis=(0, 1)), "dt_proj_weight": flat_outer(ddelta_pre, c["low"]),
          "x_proj_dt": flat_outer(dlow, c["u"]), "x_proj_B": flat_outer(dB, c["u"]), "x_proj_C": flat_outer(dC, c["u"])}
    g |= {"conv_weight": np.stack([(dconv * c["pad"][j:j + T]).sum(axis=(0, 1)) for j in range(K)], axis=1), "conv_bias": dconv.sum(axis=(0, 1)),
          "weight_ih": flat_outer(du_pre, X), "weight_iz": flat_outer(dz, X)} if block else {"weight_ih": flat_outer(du, X)}
    return {name: g[name] for name in p}, dX, dS, start
