"""What minGRU and minLSTM share (Feng et al. 2024; cells.kinds.mingru, minlstm): g's logarithm and slope, the one
Linear of x(t) they both read, its init, the reference's (minGRU-pytorch's) weights read as theirs, their candidate,
and :class:`Minimal`, the kind both are: one step function (a module's ``steps``) makes the trace and the backward
pass's batch.
"""

from __future__ import annotations

import math

import numpy as np

from .._math import softplus
from ..errors import CellsError, ShapeError
from ..spec import Name
from .base import Kind, LayerState


def log_g(a: np.ndarray) -> np.ndarray:
    """log g(a): log(a + 0.5) for a >= 0, log σ(a) = -softplus(-a) below."""
    return np.where(a >= 0, np.log(np.maximum(a, 0.0) + 0.5), -softplus(-a))


def g_slope(pre: np.ndarray, out: np.ndarray) -> np.ndarray:
    """g'(pre), from the pre-activation and g's output: 1 for pre >= 0, σ(pre)(1 − σ(pre)) = out(1 − out) below."""
    return np.where(pre >= 0, 1.0, out * (1.0 - out))


def split_rows(weight_ih: np.ndarray, blocks: int, dtype) -> list[np.ndarray]:
    """weight_ih's row blocks, each transposed and contiguous, to multiply x on the right."""
    return [np.ascontiguousarray(w.T, dtype=dtype) for w in np.split(weight_ih, blocks)]


def read_reference(kind: Kind, linear: str, state: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict]:
    """minGRU-pytorch's weights as ours: its one Linear ``linear`` is weight_ih, its chunks our blocks in its order.
    Its expansion_factor other than 1 makes the hidden state wider than the input and adds ``to_out``, a Linear back
    to the input's width after the cell: no option of ours computes that, so it is refused by name."""
    extra = sorted(set(state) - {linear})
    if extra:
        raise CellsError(f"{kind.title}: {', '.join(extra)}: the reference module was built with expansion_factor ≠ 1 "
                         f"(a to_out projection after the cell), which the {kind.name} kind does not compute; "
                         "build it with expansion_factor=1.0")
    w = np.asarray(state[linear])
    if w.ndim != 2 or w.shape[0] % len(kind.blocks):
        raise ShapeError(linear, (f"{len(kind.blocks)}·hidden", "input"), w.shape, f"the blocks {', '.join(kind.blocks)} stacked")
    return {"weight_ih_l0": w}, {}


def torch_linear_init(kind: Kind, input_size: int, hidden_size: int, opts: dict, rng: np.random.Generator) -> dict:
    """nn.Linear's default init, as the reference's Linear has it: U(−1/√I, 1/√I) (bound from the input width)."""
    bound = 1.0 / math.sqrt(input_size)
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in kind.param_shapes(input_size, hidden_size, opts).items()}


#: The candidate both kinds write, h̃(t) = g(W_h·x(t)): its pre-activation and its activation, in the glossary.
CANDIDATE = (
    Name("candidate_pre", "candidate pre-activation", "h̃_pre", "pre", "real", "affine", ("x",),
         "h̃_pre = W_h·x(t)", r"\tilde{h}^{\mathrm{pre}}_t = W_h x_t", "gates", zh={"label": "候选值预激活"}),
    Name("candidate", "candidate h̃(t)", "h̃(t)", "candidate", "real", "g", ("candidate_pre",),
         "h̃(t) = g(h̃_pre)", r"\tilde{h}_t = g(\tilde{h}^{\mathrm{pre}}_t)", "gates", zh={"label": "候选值 h̃(t)"}),
)


class Minimal(Kind):
    """A kind of Feng et al.: one bias-free Linear of x(t) (weight_ih, the reference's ``reference_marks``' one name,
    chunked in ``blocks`` order), h(t) carried alone, and ``steps`` (X (T, ..., I), W, h0) -> every name and Hs."""

    reference = "Feng, Tung, Ahmed, Bengio & Hajimirsadeghi 2024, 'Were RNNs all we needed?', arXiv:2410.01201"
    param_names = ("weight_ih",)                   # one bias-free Linear of x(t); no weight_hh
    state_line = ("h_prev", "kept", "h")
    layout: dict = {}                              # the diagram's positions

    @staticmethod
    def steps(W: list[np.ndarray], X: np.ndarray, h0: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def init_params(self, input_size, hidden_size, opts, rng):
        return torch_linear_init(self, input_size, hidden_size, opts, rng)

    def from_reference(self, state, config):
        return read_reference(self, next(iter(self.reference_marks)), state)

    def positions(self, glossary):
        return self.layout

    def compile(self, params, opts, dtype):
        return split_rows(params["weight_ih"], len(self.blocks), dtype)

    def forward(self, plan, xs, state):
        out = self.steps(plan, xs, state.h)
        Hs = out.pop("Hs")
        return out, LayerState(h=Hs[-1].copy())

    def tape_forward(self, p, opts, X, start: LayerState):
        out = self.steps(self.compile(p, opts, np.float64), X, start.h)
        out["X"] = X
        return out["h"], out, LayerState(h=out["Hs"][-1].copy())
