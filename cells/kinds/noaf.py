"""noaf: LSTM without output activation (NOAF), one of Greff et al.'s (2017) variants of the peephole LSTM.

    h(t) = o(t) ⊙ c(t) (no tanh).

All else is as in the peephole kind (see ``GreffVariant`` in _lstm_core); the gate blocks: i, f, g, o.
"""

from ._lstm_core import GreffVariant, Variant

KIND = GreffVariant("noaf", "LSTM without output activation (NOAF)", Variant(cell_act="identity"),
                    "No output activation function: h(t) = o(t) ⊙ c(t), unbounded.",
                    {"title": "无输出激活函数 LSTM（NOAF）", "summary": "没有输出激活函数：h(t) = o(t) ⊙ c(t)，没有界限。"})
