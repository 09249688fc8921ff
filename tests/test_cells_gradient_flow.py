"""cells.gradient_flow: the norms of dh(T)/dh(t), dh(T)/dc(t) and dh(T)/dx(t), against finite differences through model.run."""

import numpy as np
import pytest
from cases import CASES, IDS

from gatescope import cells

EPS = 1e-6


def scaled(kind, layers=1, scale=1.5, n_in=2, H=4, **opts):
    m = cells.build(kind, n_in, H, num_layers=layers, seed=2, dtype="float64", **opts)
    return cells.Model(kind, {k: scale * v for k, v in m.params.items()}, input_size=n_in, hidden_size=H,
                       num_layers=layers, options=opts, dtype="float64")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes_and_the_last_entries(case):
    kind, opts = case
    model = scaled(kind, layers=2, **opts)
    flow = cells.gradient_flow(model, np.random.default_rng(0).standard_normal((7, 2)))
    assert set(flow) == ({"h", "c", "x"} if model.spec.has_cell else {"h", "x"})
    for key, a in flow.items():
        assert a.shape == (7,) and a.dtype == np.float64 and np.isfinite(a).all(), key
    assert flow["h"][-1] == pytest.approx(np.sqrt(model.out_size), rel=1e-15)   # dh(T)/dh(T) = I
    if "c" in flow:
        assert flow["c"][-1] == 0.0                                               # h(T) held fixed
    assert (flow["x"] > 0).all()


def state_after(model, trace, t):
    """The whole model's state after step t, as model.run's state= takes it."""
    layers = [trace.layer(k) for k in range(model.num_layers)]
    return cells.State(
        h=np.stack([lt["h"][t] for lt in layers]),
        c=np.stack([lt["c"][t] for lt in layers]) if model.spec.has_cell else None,
        gates=np.stack([np.concatenate([lt["input_gate"][t], lt["forget_gate"][t], lt["output_gate"][t]]) for lt in layers])
        if model._recurrent_gates else None)


def fd_flow(model, xs):
    """The same three norms by central differences, perturbing one number at a time and rerunning model.run."""
    T = len(xs)
    trace = model.run(xs)
    top = model.num_layers - 1
    out = {"h": np.zeros(T), "x": np.zeros(T)}
    if model.spec.has_cell:
        out["c"] = np.zeros(T)
    for t in range(T):
        for key in [k for k in ("h", "c") if k in out]:
            if t == T - 1:
                out[key][t] = np.sqrt(model.out_size) if key == "h" else 0.0
                continue
            base = state_after(model, trace, t)
            cols = []
            for j in range(getattr(base, key).shape[1]):
                ends = []
                for sign in (1, -1):
                    s = state_after(model, trace, t)
                    getattr(s, key)[top, j] += sign * EPS
                    ends.append(model.run(xs[t + 1:], state=s).final.h[top])
                cols.append((ends[0] - ends[1]) / (2 * EPS))
            out[key][t] = np.linalg.norm(np.array(cols))
        cols = []
        for j in range(xs.shape[1]):
            ends = []
            for sign in (1, -1):
                x = xs.copy()
                x[t, j] += sign * EPS
                ends.append(model.run(x).final.h[top])
            cols.append((ends[0] - ends[1]) / (2 * EPS))
        out["x"][t] = np.linalg.norm(np.array(cols))
    return out


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_equals_finite_difference_jacobians(case, layers):
    kind, opts = case
    model = scaled(kind, layers=layers, **opts)
    xs = np.random.default_rng(1).standard_normal((9, 2))
    flow, fd = cells.gradient_flow(model, xs), fd_flow(model, xs)
    assert set(flow) == set(fd)
    for key in fd:
        np.testing.assert_allclose(flow[key], fd[key], rtol=1e-6, atol=1e-9, err_msg=key)


def test_a_given_initial_state_is_used():
    model = scaled("lstm")
    xs = np.random.default_rng(0).standard_normal((6, 2))
    h0, c0 = np.full((1, 4), 0.5), np.full((1, 4), -2.0)
    a, b = cells.gradient_flow(model, xs), cells.gradient_flow(model, xs, h0=h0, c0=c0)
    assert not np.allclose(a["h"][:-1], b["h"][:-1])
    with pytest.raises(cells.ShapeError, match="h0"):
        cells.gradient_flow(model, xs, h0=np.zeros((2, 4)))


def test_bad_input():
    with pytest.raises(cells.CellsError, match="not supported for gradient_flow"):
        cells.gradient_flow(cells.build("gru", 2, 3, bidirectional=True), np.zeros((4, 2)))
    model = scaled("gru")
    with pytest.raises(cells.ShapeError, match="xs"):
        cells.gradient_flow(model, np.zeros((1, 4, 2)))
    with pytest.raises(cells.ShapeError, match="xs"):
        cells.gradient_flow(model, np.zeros((0, 2)))
    with pytest.raises(cells.NonFiniteError):
        cells.gradient_flow(model, np.full((3, 2), np.inf))


def test_a_plain_rnn_forgets_faster_than_an_lstm_with_open_forget_gates():
    """On a long input, an RNN's dh(T)/dh(t) decays geometrically; an LSTM whose forget gates sit near 1 keeps dh(T)/dc(t) up."""
    T = 200
    xs = np.random.default_rng(0).standard_normal((T, 2))
    rnn = cells.build("rnn", 2, 8, seed=0, dtype="float64")
    lstm = cells.build("lstm", 2, 8, seed=0, dtype="float64", forget_bias=4.0)   # sigma(4) = 0.982
    f_rnn, f_lstm = cells.gradient_flow(rnn, xs), cells.gradient_flow(lstm, xs)
    assert f_rnn["h"][T - 101] < 1e-12 * f_rnn["h"][-1]
    assert f_lstm["c"][T - 101] > 1e-2
    assert f_lstm["x"][T - 101] > 1e6 * f_rnn["x"][T - 101]


def test_on_the_remember_presets_the_rnn_forgets_the_first_letter_fastest():
    """Over a 98-letter input, the first letter's influence on h(T) survives in the trained LSTM and GRU, not in the RNN."""
    from gatescope.cells.presets import load_preset
    text = "C" + "ABDCABDCBADCBBAD" * 6 + "?"
    reach = {}
    for kind in ("lstm", "gru", "rnn"):
        model = load_preset(f"remember-{kind}")
        flow = cells.gradient_flow(model, model.embed(model.vocab.encode(text)))
        reach[kind] = flow["x"][0] / flow["x"].max()
    assert reach["rnn"] < 1e-20
    assert reach["lstm"] > 1e10 * reach["rnn"] and reach["gru"] > 1e10 * reach["rnn"]
