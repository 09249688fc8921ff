"""Where each vector sits in the cell diagram, in the style of colah's figures.

The engine says what each name is computed from (its vocabulary); this
module only adds positions. The cell state (LSTM family) or the hidden state
(GRU, MGU) runs along the top as a "state line"; the learned layers sit in a
row above the inputs x(t) and h(t-1); pointwise products sit between.
Coordinates are in diagram units (width 14, height 9, y up).
"""

from __future__ import annotations

from functools import lru_cache

import cells

WIDTH, HEIGHT = 14.0, 9.0
PRE, ACT, MID, TOP = 2.4, 4.2, 6.1, 8.0  # rows: pre-activations, gates, products, state line

_LSTM = {
    "x": (2.2, 0.5), "h_prev": (0.9, 1.5), "c_prev": (0.9, TOP),
    "input_prev": (0.9, 3.2), "forget_prev": (0.9, 4.2), "output_prev": (0.9, 5.2),
    "forget_pre": (3.0, PRE), "forget": (3.0, ACT),
    "input_pre": (5.0, PRE), "input": (5.0, ACT),
    "candidate_pre": (7.0, PRE), "candidate": (7.0, ACT),
    "kept": (3.0, TOP), "written": (6.0, MID), "c": (8.4, TOP),
    "output_pre": (9.6, PRE), "output": (9.6, ACT),
    "tanh_c": (11.4, MID), "exposed": (11.4, ACT), "h": (12.6, 2.6),
}
_LSTM_NO_PROJ = {"h": (11.4, ACT)}

_GRU = {
    "x": (2.2, 0.5), "h_prev": (0.9, TOP),
    "reset_pre": (2.8, PRE), "reset": (2.8, ACT),
    "candidate_recurrent": (4.7, PRE), "reset_recurrent": (4.7, ACT), "reset_hidden": (4.7, MID),
    "candidate_pre": (6.6, PRE), "candidate": (6.6, ACT),
    "update_pre": (8.6, PRE), "update": (8.6, ACT), "update_complement": (9.9, MID),
    "forget_pre": (2.8, PRE), "forget": (2.8, ACT), "forget_complement": (9.9, MID),
    "kept": (8.6, TOP), "written": (11.3, MID), "h": (11.3, TOP),
}

_RNN = {"x": (3.6, 0.5), "h_prev": (0.9, 4.2), "h_pre": (5.4, PRE), "h": (5.4, ACT + 0.4)}

_LAYOUTS = {"rnn": _RNN, "gru": _GRU, "mgu": _GRU}
_STATE_LINES = {"rnn": [], "gru": ["h_prev", "kept", "h"], "mgu": ["h_prev", "kept", "h"]}


def _shape(name: cells.Name) -> str:
    if name.op in ("sigmoid", "tanh", "relu", "identity") and name.inputs and name.inputs[0].endswith("_pre"):
        return "layer"  # a learned layer: the yellow box of colah's figures
    if name.op in ("mul", "add", "clip", "one_minus", "tanh", "identity"):
        return "op"     # a pointwise operation: the pink circle
    return "strip"


def _style(kind: str, source: str, target: cells.Name, state_line: list[str]) -> str:
    if source in state_line and target.name in state_line:
        return "state"
    if source in ("c", "c_prev") and target.role == "pre":
        return "peephole"
    if source.endswith("_prev") and target.role == "pre" and source not in ("h_prev", "c_prev"):
        return "gate"   # FGR: last step's gates feed this step's
    if source in ("input", "forget", "output", "reset", "update", "update_complement", "forget_complement") and target.op != "sigmoid":
        return "gate"
    return "main"


@lru_cache(maxsize=256)
def _diagram(kind: str, options: tuple) -> dict:
    vocab = cells.vocabulary(kind, **dict(options))
    if kind in _LAYOUTS:
        pos = dict(_LAYOUTS[kind])
        state_line = list(_STATE_LINES[kind])
    else:
        pos = dict(_LSTM)
        if "exposed" not in vocab:
            pos.update(_LSTM_NO_PROJ)
        state_line = ["c_prev", "kept", "c"]
    nodes, edges = [], []
    for n in vocab:
        x, y = pos[n.name]
        nodes.append({"name": n.name, "x": x, "y": y, "shape": _shape(n), "label": n.symbol})
        for source in n.inputs:
            if n.op == "shift":
                continue  # h_prev <- h is the recurrence itself, drawn as the way out and in
            edges.append({"source": source, "target": n.name, "style": _style(kind, source, n, state_line)})
    return {"width": WIDTH, "height": HEIGHT, "nodes": nodes, "edges": edges, "state_lines": state_line}


def diagram(kind: str, options: dict | None = None) -> dict:
    """The diagram of ``kind`` under ``options``: nodes with positions, edges, and the state line."""
    spec = cells.REGISTRY[kind]
    opts = spec.check_options(options or {})
    return _diagram(kind, tuple(sorted(opts.items())))
