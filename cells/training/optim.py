"""Adam and global-norm gradient clipping, over dicts of named float64 arrays (updated in place)."""

from __future__ import annotations

import math

import numpy as np


def clip_global_norm(grads: dict[str, np.ndarray], max_norm: float | None) -> float:
    """Scale every gradient by min(1, max_norm / ||all gradients||) in place; returns the norm before clipping."""
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    if max_norm is not None and norm > max_norm:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm


class Adam:
    """Kingma & Ba 2015, with bias correction.

        m <- b1 m + (1 - b1) g            first moment
        v <- b2 v + (1 - b2) g^2          second moment
        w <- w - lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)
    """

    def __init__(self, params: dict[str, np.ndarray], lr: float = 1e-2, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        c1, c2 = 1.0 - self.b1 ** self.t, 1.0 - self.b2 ** self.t
        for k, w in params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * g * g
            w -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
