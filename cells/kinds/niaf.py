"""niaf: LSTM without input activation (NIAF), one of Greff et al.'s (2017) variants of the peephole LSTM.

    g(t) = W_ig x(t) + b_ig + W_hg h(t−1) + b_hg (no tanh).

All else is as in the peephole kind (see ``GreffVariant`` in _lstm_core); the gate blocks: i, f, g, o.
"""

from ._lstm_core import GreffVariant, Variant

KIND = GreffVariant("niaf", "LSTM without input activation (NIAF)", Variant(candidate_act="identity"),
                    "No input activation function: the candidate is linear, c̃(t) = its pre-activation.",
                    {"title": "无输入激活函数 LSTM（NIAF）", "summary": "没有输入激活函数：候选值是线性的，c̃(t) 就是它的预激活。"})
