"""cifg: CIFG LSTM, a variant from Greff et al. (2017), "LSTM: A Search Space Odyssey".

Coupled input and forget gate: f(t) = 1 − i(t), so the cell writes exactly as much as it forgets.

Greff et al.'s vanilla LSTM is the peephole LSTM (see peephole.py); this
variant changes one thing:

    f(t) = 1 − i(t); the forget gate has no weights of its own.

Everything else is as in the peephole kind: i and f see c(t-1) through the
diagonal peepholes, o sees c(t); c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t),
h(t) = o(t) ⊙ tanh(c(t)). Set peepholes=False to drop the peepholes.
Weights in the torch layout: weight_ih (G*H, I) and weight_hh (G*H, H) with
blocks i, g, o in that order, bias_ih and bias_hh, and the peepholes weight_c? of
the gates it has. Also the basis of the GRU's coupled update gate (Cho et al. 2014).
"""

from ._lstm_core import COMMON_OPTIONS, PEEPHOLE_OPTION, LSTMFamily, Variant


class CIFG(LSTMFamily):
    name = "cifg"
    title = "CIFG LSTM"
    summary = "Coupled input and forget gate: f(t) = 1 − i(t), so the cell writes exactly as much as it forgets."
    reference = "Greff, Srivastava, Koutník, Steunebrink & Schmidhuber 2017, 'LSTM: A Search Space Odyssey', IEEE TNNLS 28(10), arXiv:1503.04069"
    variant = Variant(coupled=True)
    options = (PEEPHOLE_OPTION, COMMON_OPTIONS[1])
    fixed_peepholes = None


KIND = CIFG()
