"""peephole: the peephole LSTM of Gers & Schmidhuber (2000), TensorFlow v1's LSTMCell(use_peepholes=True).

The gates also look at the cell state through diagonal weights p (one per
unit): the input and forget gates see the old state c(t-1), the output gate
sees the new state c(t).

    i(t) = σ(W_ii x(t) + b_ii + W_hi h(t-1) + b_hi + p_i ⊙ c(t-1))
    f(t) = σ(W_if x(t) + b_if + W_hf h(t-1) + b_hf + p_f ⊙ c(t-1) [+ forget_bias])
    g(t) = tanh(W_ig x(t) + b_ig + W_hg h(t-1) + b_hg)
    c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t)          [clipped to ±cell_clip]
    o(t) = σ(W_io x(t) + b_io + W_ho h(t-1) + b_ho + p_o ⊙ c(t))
    h(t) = o(t) ⊙ tanh(c(t))                    [W_hr · that, with proj_size]

Shapes as for lstm, plus the peepholes weight_ci, weight_cf, weight_co (H,)
in the torch layout ("c to i", "c to f", "c to o"; TensorFlow calls them
w_i_diag, w_f_diag, w_o_diag, Keras input/forget/output_gate_peephole_weights).
This is the "vanilla" LSTM of Greff et al. (2017), whose variants are the
kinds cifg, nig, nfg, nog, niaf, noaf and fgr.

ONNX's LSTM operator with peepholes (input P, stored p_i, p_o, p_f) computes
exactly this: its i and f see C(t-1), its o sees C(t) (ONNX's P order lives
in cells.layouts, its gate blocks in lstm.ONNX_BLOCKS).
"""

from ._lstm_core import COMMON_OPTIONS, PROJ_OPTION, LSTMFamily
from .lstm import ONNX_ACTIVATIONS, ONNX_BLOCKS


class Peephole(LSTMFamily):
    name = "peephole"
    title = "Peephole LSTM"
    summary = "An LSTM whose gates also see the cell state: i and f see c(t−1), o sees c(t) (TensorFlow v1 LSTMCell with use_peepholes)."
    zh = {"title": "窥视孔 LSTM",
          "summary": "门也能看到细胞状态的 LSTM：i 和 f 看到 c(t−1)，o 看到 c(t)（TensorFlow v1 中设了 use_peepholes 的 LSTMCell）。"}
    reference = "Gers & Schmidhuber 2000, 'Recurrent nets that time and count', IJCNN; Gers, Schraudolph & Schmidhuber 2002, JMLR 3"
    options = (PROJ_OPTION,) + COMMON_OPTIONS
    layouts = ("torch", "keras", "tf1", "onnx")
    block_order = {**LSTMFamily.block_order, "onnx": ONNX_BLOCKS}
    fixed_peepholes = True
    onnx_activations = ONNX_ACTIVATIONS
    keras_caveat = ", nor tf.keras.experimental.PeepholeLSTMCell's default hard_sigmoid"


KIND = Peephole()
