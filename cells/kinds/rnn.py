"""rnn: the Elman network of PyTorch's nn.RNN and Keras' SimpleRNN (Elman 1990).

    h(t) = act(W_ih x(t) + b_ih + W_hh h(t-1) + b_hh),   act = tanh or relu

Shapes: x (I,), h (H,); weight_ih (H, I), weight_hh (H, H), bias_ih and
bias_hh (H,). One layer of the classic diagram: a single tanh box fed by
h(t-1) and x(t). It has no gates, which is why its memory fades: the
gradient through many steps is a product of many W_hh·diag(act') factors.

The backward pass (tape_forward, tape_backward; cells.backprop batches it):

Forward, for a batch of B sequences (rows) at step t:

    a(t) = x(t) W_ih^T + b_ih + h(t-1) W_hh^T + b_hh      pre-activation, (B, H)
    h(t) = act(a(t))                                       act = tanh or relu

Reverse, with dh(t) the adjoint of h(t) (what the loss at t and every later
step wants of it):

    da(t)      = dh(t) * act'(a(t))       tanh' = 1 - h(t)^2;  relu' = [a(t) > 0]
    dh(t-1)   += da(t) W_hh               carried to the previous step
    dW_hh      = sum_t da(t)^T h(t-1),   dW_ih = sum_t da(t)^T x(t),   db_ih = db_hh = sum_t da(t)
    dx(t)      = da(t) W_ih

Arrays are time-major in the backward pass: X (T, B, I), outputs (T, B, H).
"""

from __future__ import annotations

import numpy as np

from .._math import flat_outer, flush
from ..spec import Glossary, Name, Option, Phase
from . import _glossary as v
from ._grid import ACT, PRE
from .base import Kind, LayerState

# colah's RNN: h(t−1) in from the left, x(t) from below, one layer, h(t) out to the right; raised to the middle.
POSITIONS = {"x": (4.2, 2.5, {"label": "e"}), "h_prev": (1.6, 3.1, {"label": "n"}), "h_pre": (6.0, PRE + 2.2), "h": (6.0, ACT + 2.2)}


class RNN(Kind):
    name = "rnn"
    title = "Elman RNN"
    summary = "The plain recurrent cell: one tanh (or relu) layer fed by the input and the previous hidden state (PyTorch nn.RNN, Keras SimpleRNN)."
    zh = {"title": "Elman 循环神经网络",
          "summary": "最简单的循环单元：一个 tanh（或 relu）层，输入是当前输入和上一步的隐藏状态（PyTorch 的 nn.RNN，Keras 的 SimpleRNN）。"}
    reference = "Elman 1990, 'Finding structure in time', Cognitive Science 14(2)"
    blocks = ("h",)
    options = (Option("nonlinearity", "tanh", "The activation: tanh or relu (PyTorch's nonlinearity).", str, choices=("tanh", "relu"),
                      zh={"doc": "激活函数：tanh 或 relu（PyTorch 的 nonlinearity）。"}),)
    layouts = ("torch", "keras", "onnx")
    onnx_activations = {("tanh",): {"nonlinearity": "tanh"}, ("relu",): {"nonlinearity": "relu"}}  # ONNX's f

    def assumed(self, layout, opts, has_bias):
        if "nonlinearity" in opts:
            return {}
        how = "SimpleRNN(activation='relu')" if layout == "keras" else "nn.RNN(nonlinearity='relu')"
        return {"nonlinearity": f"tanh (not readable from the weights; pass nonlinearity=relu for {how})"}

    def positions(self, glossary):
        return POSITIONS

    def glossary(self, opts):
        fn = opts["nonlinearity"]
        names = (
            v.x(),
            v.h_prev("signed" if fn == "tanh" else "real"),
            Name("h_pre", "pre-activation", "h_pre", "pre", "real", "affine", ("x", "h_prev"),
                 "h_pre = W_ih·x(t) + b_ih + W_hh·h(t−1) + b_hh", r"h^{\mathrm{pre}}_t = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}", "hidden",
                 zh={"label": "预激活"}),
            Name("h", "hidden state h(t)", "h(t)", "output", "signed" if fn == "tanh" else "real", fn, ("h_pre",),
                 f"h(t) = {fn}(h_pre)", rf"h_t = \{fn}(h^{{\mathrm{{pre}}}}_t)" if fn == "tanh" else r"h_t = \max(0, h^{\mathrm{pre}}_t)", "hidden",
                 zh={"label": "隐藏状态 h(t)"}),
        )
        return Glossary(names, (v.GIVEN, Phase("hidden", "New hidden state", f"One {fn} layer mixes x(t) and h(t−1) into h(t).",
                                               {"title": "新的隐藏状态", "text": f"一个 {fn} 层把 x(t) 和 h(t−1) 混合成 h(t)。"})))

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

    # -- backward pass ---------------------------------------------------
    def tape_forward(self, p, opts, X, start: LayerState):
        T, B, _ = X.shape
        H = p["weight_hh"].shape[0]
        A = X @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])   # (T, B, H): input parts, then whole pre-activations
        Hs = np.empty((T + 1, B, H))                                # Hs[t] = h(t-1): row 0 is h0
        Hs[0] = start.h
        Wh = p["weight_hh"].T
        relu = opts["nonlinearity"] == "relu"
        for t in range(T):
            A[t] += Hs[t] @ Wh                                      # a(t)
            if relu:
                np.maximum(A[t], 0.0, out=Hs[t + 1])                # h(t) = relu(a(t))
            else:
                np.tanh(A[t], out=Hs[t + 1])                        # h(t) = tanh(a(t))
        cache = {"X": X, "A": A, "Hs": Hs, "relu": relu}
        return Hs[1:], cache, LayerState(h=Hs[T].copy())

    def tape_backward(self, p, opts, cache, dY, dfinal: LayerState | None, *, params=True, states=False):
        X, A, Hs = cache["X"], cache["A"], cache["Hs"]
        T = len(X)
        S = dY.shape[1]
        H = Hs.shape[2]
        # act'(a(t)) for every step at once: it only depends on the forward pass
        dact = (A > 0.0).astype(np.float64) if cache["relu"] else 1.0 - Hs[1:] ** 2
        dA = np.empty((T, S, H))
        dh = np.zeros((S, H)) if dfinal is None else np.broadcast_to(dfinal.h, (S, H)).copy()
        dH = np.empty((T, S, H)) if states else None
        Whh = p["weight_hh"]
        for t in range(T - 1, -1, -1):
            dh += dY[t]                     # dh(t): the output's wish plus what later steps carried back
            if states:
                dH[t] = dh
            np.multiply(dh, dact[t], out=dA[t])     # da(t) = dh(t) * act'(a(t))
            dh = flush(dA[t] @ Whh)                 # dh(t-1) from step t
        grads = None
        if params:
            db = dA.sum(axis=(0, 1))
            grads = {"weight_ih": flat_outer(dA, X), "weight_hh": flat_outer(dA, Hs[:-1]), "bias_ih": db, "bias_hh": db.copy()}
        dX = dA @ p["weight_ih"]
        return grads, dX, LayerState(h=dh), ({"h": dH} if states else None)


KIND = RNN()
