"""cifg: CIFG LSTM, one of Greff et al.'s (2017) variants of the peephole LSTM.

    f(t) = 1 − i(t); the forget gate has no weights of its own.

All else is as in the peephole kind (see ``GreffVariant`` in _lstm_core); the gate blocks: i, g, o. Also the basis
of the GRU's coupled update gate (Cho et al. 2014).
"""

from ._lstm_core import GreffVariant, Variant

KIND = GreffVariant("cifg", "CIFG LSTM", Variant(coupled=True),
                    "Coupled input and forget gate: f(t) = 1 − i(t), so the cell writes exactly as much as it forgets.",
                    {"title": "CIFG LSTM（输入门与遗忘门耦合）", "summary": "输入门与遗忘门耦合：f(t) = 1 − i(t)，细胞写入多少就遗忘多少。"})
