"""nog: LSTM without output gate (NOG), one of Greff et al.'s (2017) variants of the peephole LSTM.

    o(t) = 1, so h(t) = tanh(c(t)).

All else is as in the peephole kind (see ``GreffVariant`` in _lstm_core); the gate blocks: i, f, g.
"""

from ._lstm_core import GreffVariant, Variant

KIND = GreffVariant("nog", "LSTM without output gate (NOG)", Variant(output_gate=False),
                    "No output gate: o(t) = 1, h(t) = tanh(c(t)) exposes the whole cell.",
                    {"title": "无输出门 LSTM（NOG）", "summary": "没有输出门：o(t) = 1，h(t) = tanh(c(t)) 输出整个细胞状态。"})
