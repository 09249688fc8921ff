"""Elementwise functions, written so that no input overflows.

The logistic function is computed as sigma(z) = (1 + tanh(z/2)) / 2. The
textbook 1/(1 + exp(-z)) overflows in exp for z < -709 in float64 (about
-88 in float32) and warns; tanh saturates quietly at +-1, so the identity
gives exact 0 and 1 at the extremes and no warning anywhere.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def tanh(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.tanh(z, out=out)


def relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(z, 0.0, out=out)


def identity(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    if out is None:
        return z.copy()
    np.copyto(out, z)
    return out


def g(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """minGRU's and minLSTM's candidate activation (Feng et al. 2024): z + 0.5 for z >= 0, sigma(z) below.
    Continuous at 0 (both 0.5), always positive, so the parallel scan can take its logarithm."""
    pos, shifted = z >= 0, z + 0.5                # taken before ``out`` (which may be z) is written
    out = sigmoid(np.minimum(z, 0.0), out=out)    # sigma(z) where z < 0 (0.5 where z >= 0, overwritten next)
    np.copyto(out, shifted, where=pos)
    return out


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) = max(z, 0) + log(1 + e^−|z|), without overflow; e^−|z| underflowing to 0 far from 0 is the right
    answer, not an error. (np.logaddexp(0, z) is the same number at ~8x the time.)"""
    z = np.asarray(z)
    with np.errstate(under="ignore"):
        return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log σ(z) = −softplus(−z): a forget gate in logarithms (sLSTM, mLSTM), exact far below 0 where σ rounds to 0."""
    return -softplus(-z)


def silu(z: np.ndarray) -> np.ndarray:
    """z·σ(z) (SiLU, or swish): Mamba's and mLSTM's gate branch."""
    return z * sigmoid(z)


def silu_slope(z: np.ndarray) -> np.ndarray:
    """SiLU′(z) = σ(z)·(1 + z·(1 − σ(z))), for the backward passes."""
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "identity": identity, "g": g}

#: Every op of the glossary's vocabulary (cells.spec.OPS) that is a function of its operands' vectors at one step, so
#: a clamp can compute a name again from held operands. outer and contract are the state-space products: a (D,) with
#: b (N,) to (D·N,) row-major, and a state (D·N,) with b (N,) to (D,).
POINTWISE = {**ACTIVATIONS, "one_minus": lambda a: 1.0 - a, "mul": np.multiply, "div": np.divide, "add": np.add,
             "sub": np.subtract, "max": np.maximum, "exp": np.exp, "softplus": softplus, "log_sigmoid": log_sigmoid,
             "silu": silu, "sqrt": np.sqrt, "sqrt_one_minus_square": lambda a: np.sqrt(1.0 - a * a), "outer": lambda a, b: np.multiply.outer(a, b).reshape(*a.shape[:-1], -1),
             "contract": lambda s, b: (s.reshape(*b.shape[:-1], -1, b.shape[-1]) * b[..., None, :]).sum(-1)}


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
