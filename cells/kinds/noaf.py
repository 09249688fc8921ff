"""noaf: LSTM without output activation (NOAF), a variant from Greff et al. (2017), "LSTM: A Search Space Odyssey".

No output activation function: h(t) = o(t) ⊙ c(t), unbounded.

Greff et al.'s vanilla LSTM is the peephole LSTM (see peephole.py); this
variant changes one thing:

    h(t) = o(t) ⊙ c(t) (no tanh).

Everything else is as in the peephole kind: i and f see c(t-1) through the
diagonal peepholes, o sees c(t); c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t),
h(t) = o(t) ⊙ tanh(c(t)). Set peepholes=False to drop the peepholes.
Weights in the torch layout: weight_ih (G*H, I) and weight_hh (G*H, H) with
blocks i, f, g, o in that order, bias_ih and bias_hh, and the peepholes weight_c? of
the gates it has.
"""

from ._lstm_core import COMMON_OPTIONS, PEEPHOLE_OPTION, LSTMFamily, Variant


class NOAF(LSTMFamily):
    name = "noaf"
    title = "LSTM without output activation (NOAF)"
    summary = "No output activation function: h(t) = o(t) ⊙ c(t), unbounded."
    reference = "Greff, Srivastava, Koutník, Steunebrink & Schmidhuber 2017, 'LSTM: A Search Space Odyssey', IEEE TNNLS 28(10), arXiv:1503.04069"
    variant = Variant(cell_act="identity")
    options = (PEEPHOLE_OPTION, COMMON_OPTIONS[0], COMMON_OPTIONS[1])
    fixed_peepholes = None


KIND = NOAF()
