"""lstm: the LSTM of PyTorch's nn.LSTM and Keras' LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    i(t) = σ(W_ii x(t) + b_ii + W_hi h(t-1) + b_hi)       input gate
    f(t) = σ(W_if x(t) + b_if + W_hf h(t-1) + b_hf)       forget gate
    g(t) = tanh(W_ig x(t) + b_ig + W_hg h(t-1) + b_hg)    candidate c̃(t)
    o(t) = σ(W_io x(t) + b_io + W_ho h(t-1) + b_ho)       output gate
    c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ g(t)
    h(t) = o(t) ⊙ tanh(c(t))        (W_hr · that, with proj_size = P)

Shapes: x (I,), c (H,), h (H,) or (P,). weight_ih (4H, I) and weight_hh
(4H, H or P) stack the blocks in PyTorch's order i, f, g, o; bias_ih and
bias_hh (4H,) simply add; weight_hr (P, H). Options: proj_size (PyTorch),
forget_bias and cell_clip (TensorFlow v1's LSTMCell). This is Greff et
al.'s "NP" variant: the vanilla LSTM without peepholes.

ONNX's LSTM operator computes this kind with its default activations
f = Sigmoid, g = h = Tanh (ONNX's f gates i, o, f; g makes the candidate;
h squashes c(t)) and stores the blocks i, o, f, c: ONNX_BLOCKS below. A node
with peepholes (input P) is the peephole kind.
"""

from ._lstm_core import COMMON_OPTIONS, PROJ_OPTION, LSTMFamily

ONNX_BLOCKS = (0, 3, 1, 2)  # ONNX's i, o, f, c are torch's blocks i, o, f, g: 0, 3, 1, 2
ONNX_ACTIVATIONS = {("sigmoid", "tanh", "tanh"): {}}  # ONNX's f, g, h; other activations are no kind's


class LSTM(LSTMFamily):
    name = "lstm"
    title = "LSTM"
    summary = "Long short-term memory: a cell state c(t) carried along by forget, input and output gates (PyTorch nn.LSTM, Keras LSTM)."
    zh = {"title": "LSTM（长短期记忆）",
          "summary": "长短期记忆：细胞状态 c(t) 一路向前传递，由遗忘门、输入门和输出门控制（PyTorch 的 nn.LSTM，Keras 的 LSTM）。"}
    reference = "Hochreiter & Schmidhuber 1997, Neural Computation 9(8); forget gate: Gers, Schmidhuber & Cummins 2000"
    options = (PROJ_OPTION,) + COMMON_OPTIONS
    layouts = ("torch", "keras", "tf1", "onnx")
    block_order = {**LSTMFamily.block_order, "onnx": ONNX_BLOCKS}
    fixed_peepholes = False
    onnx_activations = ONNX_ACTIVATIONS
    onnx_inputs = {"P": "peephole"}


KIND = LSTM()
