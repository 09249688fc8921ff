"""The grid every kind's diagram is drawn on, in the style of colah's figures, and the GRU/MGU positions.

Coordinates are in diagram units (width 14, height 9, y up). The learned
layers sit in a row above the inputs x(t) and h(t-1), pointwise products
between them and the state line, and the state line (the LSTM's cell state,
the GRU's hidden state) runs along the top. Each kind places its own names
(``Kind.positions``); ``cells.diagram`` turns that into nodes and edges.
"""

from __future__ import annotations

WIDTH, HEIGHT = 14.0, 9.0
PRE, ACT, MID, TOP = 2.4, 4.2, 6.1, 8.0  # rows: pre-activations, gates, products, state line

#: gru and mgu share one drawing: the old state runs along the top, blended with the candidate at the right.
GATED = {
    "x": (2.2, 0.5), "h_prev": (0.9, TOP),
    "reset_gate_pre": (2.8, PRE), "reset_gate": (2.8, ACT),
    "candidate_recurrent": (4.7, PRE), "reset_recurrent": (4.7, ACT), "reset_hidden": (4.7, MID),
    "candidate_pre": (6.6, PRE), "candidate": (6.6, ACT),
    "update_gate_pre": (8.6, PRE), "update_gate": (8.6, ACT), "update_complement": (9.9, MID),
    "forget_gate_pre": (2.8, PRE), "forget_gate": (2.8, ACT), "forget_complement": (9.9, MID),
    "kept": (8.6, TOP), "written": (11.3, MID), "h": (11.3, TOP),
}
GATED_STATE_LINE = ("h_prev", "kept", "h")
