"""fgr: LSTM with full gate recurrence (FGR), a variant from Greff et al. (2017), "LSTM: A Search Space Odyssey".

Full gate recurrence: every gate also sees the previous step's i, f and o through nine extra H×H matrices.

Greff et al.'s vanilla LSTM is the peephole LSTM (see peephole.py); this
variant changes one thing:

    z_k += R_k·[i(t−1), f(t−1), o(t−1)] for k in i, f, o; weight_gg (3H, 3H) holds the nine matrices, rows i, f, o by columns i(t−1), f(t−1), o(t−1).

Everything else is as in the peephole kind: i and f see c(t-1) through the
diagonal peepholes, o sees c(t); c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t),
h(t) = o(t) ⊙ tanh(c(t)). Set peepholes=False to drop the peepholes.
Weights in the torch layout: weight_ih (G*H, I) and weight_hh (G*H, H) with
blocks i, f, g, o in that order, bias_ih and bias_hh, and the peepholes weight_c? of
the gates it has. The previous gates become part of the state (initially 0).
"""

from ._lstm_core import COMMON_OPTIONS, PEEPHOLE_OPTION, LSTMFamily, Variant


class FGR(LSTMFamily):
    name = "fgr"
    title = "LSTM with full gate recurrence (FGR)"
    summary = "Full gate recurrence: every gate also sees the previous step's i, f and o through nine extra H×H matrices."
    reference = "Greff, Srivastava, Koutník, Steunebrink & Schmidhuber 2017, 'LSTM: A Search Space Odyssey', IEEE TNNLS 28(10), arXiv:1503.04069"
    variant = Variant(gate_recurrence=True)
    options = (PEEPHOLE_OPTION, COMMON_OPTIONS[0], COMMON_OPTIONS[1])
    fixed_peepholes = None


KIND = FGR()
