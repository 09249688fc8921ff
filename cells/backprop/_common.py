"""Small helpers shared by the backprop modules."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """sigma(z) = (1 + tanh(z/2)) / 2: the engine's form, which never overflows."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def flat_outer(dZ: np.ndarray, V: np.ndarray) -> np.ndarray:
    """sum over steps t and rows b of dZ[t, b]^T V[t, b]: a weight's gradient, (G, I), in one matmul."""
    return dZ.reshape(-1, dZ.shape[-1]).T @ V.reshape(-1, V.shape[-1])
