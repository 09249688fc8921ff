"""Gradients against torch autograd: nn.RNN (tanh, relu), nn.LSTM (with and without proj_size) and nn.GRU, stacked, float64."""

import numpy as np
import pytest

from gatescope import cells
from gatescope.cells import backprop

torch = pytest.importorskip("torch")

MODULES = {
    "rnn_tanh": ("rnn", {}, lambda n_in, H, L: torch.nn.RNN(n_in, H, num_layers=L)),
    "rnn_relu": ("rnn", {"nonlinearity": "relu"}, lambda n_in, H, L: torch.nn.RNN(n_in, H, num_layers=L, nonlinearity="relu")),
    "lstm": ("lstm", {}, lambda n_in, H, L: torch.nn.LSTM(n_in, H, num_layers=L)),
    "lstm_proj": ("lstm", {}, lambda n_in, H, L: torch.nn.LSTM(n_in, H, num_layers=L, proj_size=H - 2)),
    "gru": ("gru", {}, lambda n_in, H, L: torch.nn.GRU(n_in, H, num_layers=L)),
}


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("module", list(MODULES))
def test_gradients_equal_torch_autograd(module, layers):
    kind, opts, make = MODULES[module]
    n_in, H, B, T = 4, 6, 3, 12
    torch.manual_seed(layers)
    net = make(n_in, H, layers).double()
    model = cells.load({k: v.detach().numpy() for k, v in net.state_dict().items()}, kind=kind, dtype="float64", **opts)
    rng = np.random.default_rng(layers)
    xs = rng.standard_normal((B, T, n_in))
    h0 = rng.standard_normal((layers, B, model.out_size))
    c0 = rng.standard_normal((layers, B, H))
    R_out, R_h, R_c = rng.standard_normal((B, T, model.out_size)), rng.standard_normal(h0.shape), rng.standard_normal(c0.shape)

    x_t = torch.tensor(xs.transpose(1, 0, 2), requires_grad=True)          # torch is time-major by default
    h_t, c_t = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    if kind == "lstm":
        out, (h_n, c_n) = net(x_t, (h_t, c_t))
    else:
        out, h_n = net(x_t, h_t)
    loss = (out * torch.tensor(R_out.transpose(1, 0, 2))).sum() + (h_n * torch.tensor(R_h)).sum()
    if kind == "lstm":
        loss = loss + (c_n * torch.tensor(R_c)).sum()
    loss.backward()

    tape = backprop.forward(model, xs, h0, c0 if kind == "lstm" else None)
    np.testing.assert_allclose(tape.output, out.detach().numpy().transpose(1, 0, 2), rtol=0, atol=1e-12)
    g = backprop.backward(tape, R_out, R_h, R_c if kind == "lstm" else None)
    named = dict(net.named_parameters())
    assert set(named) == set(g.params)
    for name, p in named.items():
        assert rel_err(g.params[name], p.grad.numpy()) <= 1e-6, name
    assert rel_err(g.xs, x_t.grad.numpy().transpose(1, 0, 2)) <= 1e-6
    assert rel_err(g.h0, h_t.grad.numpy()) <= 1e-6
    if kind == "lstm":
        assert rel_err(g.c0, c_t.grad.numpy()) <= 1e-6


def test_gradient_flow_equals_torch_jacobian():
    """dh(T)/dx(t) through a stacked LSTM, from torch.autograd.functional.jacobian."""
    torch.manual_seed(0)
    net = torch.nn.LSTM(3, 5, num_layers=2).double()
    model = cells.load({k: v.detach().numpy() for k, v in net.state_dict().items()}, kind="lstm", dtype="float64")
    xs = np.random.default_rng(0).standard_normal((15, 3))

    def last_h(x):
        out, _ = net(x[:, None])
        return out[-1, 0]

    J = torch.autograd.functional.jacobian(last_h, torch.tensor(xs)).numpy()   # (H, T, I)
    expected = np.sqrt((J ** 2).sum(axis=(0, 2)))
    np.testing.assert_allclose(cells.gradient_flow(model, xs)["x"], expected, rtol=1e-9, atol=1e-15)
