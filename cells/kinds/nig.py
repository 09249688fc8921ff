"""nig: LSTM without input gate (NIG), one of Greff et al.'s (2017) variants of the peephole LSTM.

    i(t) = 1, so written(t) = c̃(t).

All else is as in the peephole kind (see ``GreffVariant`` in _lstm_core); the gate blocks: f, g, o.
"""

from ._lstm_core import GreffVariant, Variant

KIND = GreffVariant("nig", "LSTM without input gate (NIG)", Variant(input_gate=False),
                    "No input gate: i(t) = 1, the whole candidate is written into the cell every step.",
                    {"title": "无输入门 LSTM（NIG）", "summary": "没有输入门：i(t) = 1，每一步都把整个候选值写入细胞。"})
