"""The linear recurrence h(t) = keep(t) ⊙ h(t−1) + write(t), whose keep and write read the input alone (minGRU,
minLSTM, RG-LRU): its step form, its parallel form and the adjoint of h. Each kind computes its keep and write; this is
the one loop they share, and the scan that replaces it.
"""

from __future__ import annotations

import numpy as np

from .._math import flush
from .base import LayerState


def carry(keep: np.ndarray, write: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """Hs (T + 1, ..., H) with Hs[0] = h0 and Hs[t + 1] = keep[t] ⊙ Hs[t] + write[t]: the step form's one loop."""
    Hs = np.empty((len(keep) + 1,) + np.broadcast_shapes(keep.shape[1:], np.shape(h0)), keep.dtype)
    Hs[0] = h0
    for k, w, hp, hn in zip(keep, write, Hs[:-1], Hs[1:]):
        np.multiply(k, hp, out=hn)   # kept(t)
        hn += w                      # h(t) = kept(t) + written(t)
    return Hs


def scan(log_keep: np.ndarray, log_write: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """h(t) = keep(t) ⊙ h(t−1) + write(t) for every t at once (time on axis 0), from log keep and log write (write > 0):
    Heinsen's log-space scan, h(t) = e^{a*(t)} (h0 + Σ_{k<=t} e^{log write(k) − a*(k)}), a* = cumsum(log keep)."""
    a_star = np.cumsum(log_keep, axis=0)
    return np.exp(a_star + np.logaddexp.accumulate(log_write - a_star, axis=0)) + np.exp(a_star) * h0


def adjoints(keep: np.ndarray, dY: np.ndarray, dfinal: LayerState | None) -> np.ndarray:
    """dh(t) (T, S, H) for every step: the output's wish dY[t] plus dh(t + 1) ⊙ keep(t + 1), walked from the last step."""
    T, S, H = dY.shape
    dH = np.empty((T, S, H))
    dh = np.zeros((S, H)) if dfinal is None else np.broadcast_to(dfinal.h, (S, H)).copy()
    for t in range(T - 1, -1, -1):
        dh += dY[t]
        dH[t] = dh
        dh = flush(dh * keep[t])      # dh(t−1) from step t
    return dH
