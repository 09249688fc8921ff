"""Live parity with PyTorch on random configurations (runs where torch is installed).

The golden files (test_cells_parity.py) pin the numbers without torch; this
test draws fresh sizes, depths, directions, projections and initial states
each run and compares against the installed torch, in float64 and float32.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatescope import cells

ULPS = 64  # the largest gap seen over 3,000 random configurations is 2.4 units of eps * (|value| + 1)

torch = pytest.importorskip("torch")

configs = st.fixed_dictionaries({
    "module": st.sampled_from(["rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru"]),
    "input_size": st.integers(1, 5),
    "hidden_size": st.integers(2, 7),
    "num_layers": st.integers(1, 3),
    "bidirectional": st.booleans(),
    "T": st.integers(1, 15),
    "random_state": st.booleans(),
    "seed": st.integers(0, 2**31 - 1),
    "dtype": st.sampled_from(["float32", "float64"]),
})


def make(cfg):
    torch.manual_seed(cfg["seed"] % 2**31)
    common = dict(num_layers=cfg["num_layers"], bidirectional=cfg["bidirectional"])
    I, H = cfg["input_size"], cfg["hidden_size"]
    kind, opts = {"rnn_tanh": ("rnn", {}), "rnn_relu": ("rnn", {"nonlinearity": "relu"}), "lstm": ("lstm", {}),
                  "lstm_proj": ("lstm", {"proj_size": H - 1}), "gru": ("gru", {})}[cfg["module"]]
    if kind == "rnn":
        net = torch.nn.RNN(I, H, nonlinearity=opts.get("nonlinearity", "tanh"), **common)
    elif kind == "lstm":
        net = torch.nn.LSTM(I, H, proj_size=opts.get("proj_size", 0), **common)
    else:
        net = torch.nn.GRU(I, H, **common)
    return (net.double() if cfg["dtype"] == "float64" else net), kind


@settings(max_examples=60, deadline=None)
@given(cfg=configs)
def test_random_configurations_match_torch(cfg):
    net, kind = make(cfg)
    model = cells.load({k: v.detach().numpy() for k, v in net.state_dict().items()}, kind=kind, dtype=cfg["dtype"],
                       **({"nonlinearity": "relu"} if cfg["module"] == "rnn_relu" else {}))
    rng = np.random.default_rng(cfg["seed"])
    xs = rng.standard_normal((cfg["T"], cfg["input_size"])) * 2
    n = cfg["num_layers"] * (2 if cfg["bidirectional"] else 1)
    h0 = rng.standard_normal((n, model.out_size)) if cfg["random_state"] else np.zeros((n, model.out_size))
    c0 = rng.standard_normal((n, model.hidden_size)) if cfg["random_state"] else np.zeros((n, model.hidden_size))
    tdt = torch.float64 if cfg["dtype"] == "float64" else torch.float32
    x = torch.tensor(xs, dtype=tdt)[:, None]
    state = torch.tensor(h0, dtype=tdt)[:, None]
    with torch.no_grad():
        if kind == "lstm":
            out, (h_n, c_n) = net(x, (state, torch.tensor(c0, dtype=tdt)[:, None]))
        else:
            out, h_n = net(x, state)
    trace = model.run(xs, h0=h0, c0=c0 if kind == "lstm" else None)
    # |ours - torch| <= ULPS * eps * (|torch| + 1): the same float sums in other orders (see test_cells_properties.py);
    # relative, because relu units and cells grow past 10, where 1e-5 is a few float32 roundings.
    tol = ULPS * np.finfo(cfg["dtype"]).eps
    np.testing.assert_allclose(trace.output, out[:, 0].numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(trace.final.h, h_n[:, 0].numpy(), rtol=tol, atol=tol)
    if kind == "lstm":
        np.testing.assert_allclose(trace.final.c, c_n[:, 0].numpy(), rtol=tol, atol=tol)


def test_every_lstm_gate_matches_torch_ops_step_by_step():
    """The gates torch computes inside nn.LSTMCell, rebuilt from its weights with torch ops."""
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(3, 4).double()
    model = cells.load({k.replace("_ih", "_ih_l0").replace("_hh", "_hh_l0"): v.detach().numpy()
                        for k, v in cell.state_dict().items()}, kind="lstm", dtype="float64")
    xs = torch.randn(8, 3, dtype=torch.float64)
    trace = model.run(xs.numpy())
    h = c = torch.zeros(1, 4, dtype=torch.float64)
    with torch.no_grad():
        for t in range(8):
            z = xs[t:t + 1] @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
            i, f, g, o = z.chunk(4, 1)
            h_new, c_new = cell(xs[t:t + 1], (h, c))
            for name, value in {"input_gate_pre": i, "input_gate": i.sigmoid(), "forget_gate": f.sigmoid(), "candidate": g.tanh(),
                                "output_gate": o.sigmoid(), "kept": f.sigmoid() * c, "written": i.sigmoid() * g.tanh(),
                                "c": c_new, "h": h_new}.items():
                np.testing.assert_allclose(trace[name][t], value[0].numpy(), rtol=0, atol=1e-12, err_msg=f"{name} at {t}")
            h, c = h_new, c_new
