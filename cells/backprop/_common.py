"""Small helpers shared by the backprop modules."""

from __future__ import annotations

import numpy as np

from .._math import sigmoid  # noqa: F401  (the engine's overflow-free form, shared by the backprop modules)


def flat_outer(dZ: np.ndarray, V: np.ndarray) -> np.ndarray:
    """sum over steps t and rows b of dZ[t, b]^T V[t, b]: a weight's gradient, (G, I), in one matmul."""
    return dZ.reshape(-1, dZ.shape[-1]).T @ V.reshape(-1, V.shape[-1])


# Adjoints that have vanished below this are set to zero. Over a long sequence a vanishing gradient
# shrinks through 1e-300 into float64's subnormal range, where each multiply costs ~100x a normal one
# (T = 1200 took 16 s instead of 1.6). 1e-250 is far below anything a float32 model can hold (1e-45)
# and far above the subnormals, so no step can jump from above it into them.
TINY = 1e-250


def flush(a: np.ndarray) -> np.ndarray:
    """Set the entries of ``a`` smaller in magnitude than TINY to zero, in place."""
    np.copyto(a, 0.0, where=np.abs(a) < TINY)
    return a
