"""rnn: the Elman network of PyTorch's nn.RNN and Keras' SimpleRNN (Elman 1990).

    h(t) = act(W_ih x(t) + b_ih + W_hh h(t-1) + b_hh),   act = tanh or relu

Shapes: x (I,), h (H,); weight_ih (H, I), weight_hh (H, H), bias_ih and
bias_hh (H,). One layer of the classic diagram: a single tanh box fed by
h(t-1) and x(t). It has no gates, which is why its memory fades: the
gradient through many steps is a product of many W_hh·diag(act') factors.
"""

from __future__ import annotations

import numpy as np

from ..backprop import rnn as backprop
from ..spec import Name, Option, Phase, Vocabulary
from . import _vocab as v
from ._grid import ACT, PRE
from .base import Kind, LayerState

POSITIONS = {"x": (3.6, 0.5), "h_prev": (0.9, 4.2), "h_pre": (5.4, PRE), "h": (5.4, ACT + 0.4)}


class RNN(Kind):
    name = "rnn"
    title = "Elman RNN"
    summary = "The plain recurrent cell: one tanh (or relu) layer fed by the input and the previous hidden state (PyTorch nn.RNN, Keras SimpleRNN)."
    reference = "Elman 1990, 'Finding structure in time', Cognitive Science 14(2)"
    blocks = ("h",)
    options = (Option("nonlinearity", "tanh", "The activation: tanh or relu (PyTorch's nonlinearity).", str, choices=("tanh", "relu")),)
    layouts = ("torch", "keras")
    backprop = backprop

    def assumed(self, layout, opts, has_bias):
        if "nonlinearity" in opts:
            return {}
        how = "SimpleRNN(activation='relu')" if layout == "keras" else "nn.RNN(nonlinearity='relu')"
        return {"nonlinearity": f"tanh (not readable from the weights; pass nonlinearity=relu for {how})"}

    def positions(self, vocab):
        return POSITIONS

    def vocabulary(self, opts):
        fn = opts["nonlinearity"]
        names = (
            v.x(),
            v.h_prev("signed" if fn == "tanh" else "real"),
            Name("h_pre", "pre-activation", "h_pre", "pre", "real", "affine", ("x", "h_prev"),
                 "h_pre = W_ih·x(t) + b_ih + W_hh·h(t−1) + b_hh", r"h^{pre}_t = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}", "hidden"),
            Name("h", "hidden state h(t)", "h(t)", "output", "signed" if fn == "tanh" else "real", fn, ("h_pre",),
                 f"h(t) = {fn}(h_pre)", rf"h_t = \{fn}(h^{{pre}}_t)" if fn == "tanh" else r"h_t = \max(0, h^{pre}_t)", "hidden"),
        )
        return Vocabulary(names, (v.INPUTS, Phase("hidden", "New hidden state", f"One {fn} layer mixes x(t) and h(t−1) into h(t).")))

    def compile(self, params, opts, dtype):
        return {
            "Wx": np.ascontiguousarray(params["weight_ih"].T, dtype=dtype),
            "Wh": np.ascontiguousarray(params["weight_hh"].T, dtype=dtype),
            "b": (params["bias_ih"] + params["bias_hh"]).astype(dtype),
            "relu": opts["nonlinearity"] == "relu",
        }

    def forward(self, plan, xs, state):
        T, H = len(xs), plan["Wh"].shape[0]
        Z = xs @ plan["Wx"] + plan["b"]             # (T, H): input projections, then pre-activations
        Hs = np.empty((T + 1, H), Z.dtype)
        Hs[0] = state.h
        tmp = np.empty(H, Z.dtype)
        Wh, dot, add = plan["Wh"], np.dot, np.add
        act = (lambda z, out: np.maximum(z, 0.0, out=out)) if plan["relu"] else np.tanh
        for z, hp, hn in zip(Z, Hs[:-1], Hs[1:]):
            dot(hp, Wh, tmp)   # W_hh·h(t-1)
            add(z, tmp, z)     # h_pre
            act(z, hn)         # h(t)
        return {"h_pre": Z, "h_prev": Hs[:-1], "h": Hs[1:]}, LayerState(h=Hs[T].copy())


KIND = RNN()
