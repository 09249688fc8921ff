"""nfg: LSTM without forget gate (NFG), a variant from Greff et al. (2017), "LSTM: A Search Space Odyssey".

No forget gate: f(t) = 1, the cell only accumulates (the original 1997 LSTM).

Greff et al.'s vanilla LSTM is the peephole LSTM (see peephole.py); this
variant changes one thing:

    f(t) = 1, so kept(t) = c(t−1).

Everything else is as in the peephole kind: i and f see c(t-1) through the
diagonal peepholes, o sees c(t); c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t),
h(t) = o(t) ⊙ tanh(c(t)). Set peepholes=False to drop the peepholes.
Weights in the torch layout: weight_ih (G*H, I) and weight_hh (G*H, H) with
blocks i, g, o in that order, bias_ih and bias_hh, and the peepholes weight_c? of
the gates it has.
"""

from ._lstm_core import COMMON_OPTIONS, PEEPHOLE_OPTION, LSTMFamily, Variant


class NFG(LSTMFamily):
    name = "nfg"
    title = "LSTM without forget gate (NFG)"
    summary = "No forget gate: f(t) = 1, the cell only accumulates (the original 1997 LSTM)."
    reference = "Greff, Srivastava, Koutník, Steunebrink & Schmidhuber 2017, 'LSTM: A Search Space Odyssey', IEEE TNNLS 28(10), arXiv:1503.04069"
    variant = Variant(forget_gate=False)
    options = (PEEPHOLE_OPTION, COMMON_OPTIONS[1])
    fixed_peepholes = None


KIND = NFG()
