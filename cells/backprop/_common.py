"""Small helpers shared by the backprop modules."""

from __future__ import annotations

import numpy as np

from .._math import sigmoid  # noqa: F401  (the engine's overflow-free form, shared by the backprop modules)


def flat_outer(dZ: np.ndarray, V: np.ndarray) -> np.ndarray:
    """sum over steps t and rows b of dZ[t, b]^T V[t, b]: a weight's gradient, (G, I), in one matmul."""
    return dZ.reshape(-1, dZ.shape[-1]).T @ V.reshape(-1, V.shape[-1])
