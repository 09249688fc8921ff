"""niaf: LSTM without input activation (NIAF), a variant from Greff et al. (2017), "LSTM: A Search Space Odyssey".

No input activation function: the candidate is linear, c̃(t) = its pre-activation.

Greff et al.'s vanilla LSTM is the peephole LSTM (see peephole.py); this
variant changes one thing:

    g(t) = W_ig x(t) + b_ig + W_hg h(t−1) + b_hg (no tanh).

Everything else is as in the peephole kind: i and f see c(t-1) through the
diagonal peepholes, o sees c(t); c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t),
h(t) = o(t) ⊙ tanh(c(t)). Set peepholes=False to drop the peepholes.
Weights in the torch layout: weight_ih (G*H, I) and weight_hh (G*H, H) with
blocks i, f, g, o in that order, bias_ih and bias_hh, and the peepholes weight_c? of
the gates it has.
"""

from ._lstm_core import COMMON_OPTIONS, PEEPHOLE_OPTION, LSTMFamily, Variant


class NIAF(LSTMFamily):
    name = "niaf"
    title = "LSTM without input activation (NIAF)"
    summary = "No input activation function: the candidate is linear, c̃(t) = its pre-activation."
    reference = "Greff, Srivastava, Koutník, Steunebrink & Schmidhuber 2017, 'LSTM: A Search Space Odyssey', IEEE TNNLS 28(10), arXiv:1503.04069"
    variant = Variant(candidate_act="identity")
    options = (PEEPHOLE_OPTION, COMMON_OPTIONS[0], COMMON_OPTIONS[1])
    fixed_peepholes = None


KIND = NIAF()
