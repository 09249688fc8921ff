"""nfg: LSTM without forget gate (NFG), one of Greff et al.'s (2017) variants of the peephole LSTM.

    f(t) = 1, so kept(t) = c(t−1).

All else is as in the peephole kind (see ``GreffVariant`` in _lstm_core); the gate blocks: i, g, o.
"""

from ._lstm_core import GreffVariant, Variant

KIND = GreffVariant("nfg", "LSTM without forget gate (NFG)", Variant(forget_gate=False),
                    "No forget gate: f(t) = 1, the cell only accumulates (the original 1997 LSTM).",
                    {"title": "无遗忘门 LSTM（NFG）", "summary": "没有遗忘门：f(t) = 1，细胞只会累加（1997 年最初的 LSTM）。"})
