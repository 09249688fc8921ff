"""nig: LSTM without input gate (NIG), a variant from Greff et al. (2017), "LSTM: A Search Space Odyssey".

No input gate: i(t) = 1, the whole candidate is written into the cell every step.

Greff et al.'s vanilla LSTM is the peephole LSTM (see peephole.py); this
variant changes one thing:

    i(t) = 1, so written(t) = c̃(t).

Everything else is as in the peephole kind: i and f see c(t-1) through the
diagonal peepholes, o sees c(t); c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t),
h(t) = o(t) ⊙ tanh(c(t)). Set peepholes=False to drop the peepholes.
Weights in the torch layout: weight_ih (G*H, I) and weight_hh (G*H, H) with
blocks f, g, o in that order, bias_ih and bias_hh, and the peepholes weight_c? of
the gates it has.
"""

from ._lstm_core import COMMON_OPTIONS, PEEPHOLE_OPTION, LSTMFamily, Variant


class NIG(LSTMFamily):
    name = "nig"
    title = "LSTM without input gate (NIG)"
    summary = "No input gate: i(t) = 1, the whole candidate is written into the cell every step."
    reference = "Greff, Srivastava, Koutník, Steunebrink & Schmidhuber 2017, 'LSTM: A Search Space Odyssey', IEEE TNNLS 28(10), arXiv:1503.04069"
    variant = Variant(input_gate=False)
    options = (PEEPHOLE_OPTION, COMMON_OPTIONS[0], COMMON_OPTIONS[1])
    fixed_peepholes = None


KIND = NIG()
