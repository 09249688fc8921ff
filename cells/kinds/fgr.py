"""fgr: LSTM with full gate recurrence (FGR), one of Greff et al.'s (2017) variants of the peephole LSTM.

    z_k += R_k·[i(t−1), f(t−1), o(t−1)] for k in i, f, o; weight_gg (3H, 3H) holds the
    nine matrices, rows i, f, o by columns i(t−1), f(t−1), o(t−1).

All else is as in the peephole kind (see ``GreffVariant`` in _lstm_core); the gate blocks: i, f, g, o. The previous
gates become part of the state (initially 0).
"""

from ._lstm_core import GreffVariant, Variant

KIND = GreffVariant("fgr", "LSTM with full gate recurrence (FGR)", Variant(gate_recurrence=True),
                    "Full gate recurrence: every gate also sees the previous step's i, f and o through nine extra H×H matrices.",
                    {"title": "全门循环 LSTM（FGR）", "summary": "全门循环：每个门还通过九个额外的 H×H 矩阵看到上一步的 i、f 和 o。"})
