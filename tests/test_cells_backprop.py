"""Backpropagation through time for every kind and option, against central finite differences (float64).

The loss is a random linear functional of everything a forward pass returns
(every output, the final h, c and FGR gates), so every path the gradient can
take is exercised. Weights are scaled up so gates saturate, clips bite and
relu units die, as in test_cells_reference.py.
"""

import numpy as np
import pytest
from cases import CASES, IDS

from gatescope import cells
from gatescope.cells import backprop

EPS = 1e-4   # the fourth-order stencil's step: its error ~EPS⁴ f⁽⁵⁾ and its rounding ~1e-16·|loss| / EPS, both far below TOL,
TOL = 1e-6   # also for a gradient 1e4 times smaller than the loss (Mamba's A_log: rounding swamped 2-point differences)


def make(kind, opts, layers, n_in=2, H=3, scale=2.0, seed=1):
    m = cells.build(kind, n_in, H, num_layers=layers, seed=seed, dtype="float64", **opts)
    return cells.Model(kind, {k: scale * v for k, v in m.params.items()}, input_size=n_in, hidden_size=H,
                       num_layers=layers, options=opts, dtype="float64")


def initial_state(model, B, rng):
    L = model.num_layers
    h0 = rng.standard_normal((L, B, model.out_size))
    c0 = 0.2 * rng.standard_normal((L, B, model.hidden_size)) if model.spec.has_cell else None
    q0 = rng.uniform(0, 1, (L, B, 3 * model.hidden_size)) if model._recurrent_gates else None
    return h0, c0, q0


def rel_err(analytic, numeric):
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    assert scale > 0, "the gradient is identically zero: the check would prove nothing"
    return np.linalg.norm(analytic - numeric) / scale


def numeric_grad(f, a):
    """Central differences of the scalar f() with respect to every entry of ``a`` (perturbed in place), to fourth order:
    (8 (f(+h) − f(−h)) − (f(+2h) − f(−2h))) / 12h."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old, at = a[idx], {}
        for k in (-2, -1, 1, 2):
            a[idx] = old + k * EPS
            at[k] = f()
        a[idx] = old
        g[idx] = (8 * (at[1] - at[-1]) - (at[2] - at[-2])) / (12 * EPS)
    return g


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_match_finite_differences(case, layers):
    kind, opts = case
    model = make(kind, opts, layers)
    rng = np.random.default_rng(layers)
    B, T = 2, 5
    xs = rng.standard_normal((B, T, model.input_size)) * 1.5
    h0, c0, q0 = initial_state(model, B, rng)
    carried = model.spec.carried(model.input_size, model.hidden_size, model.options)
    more0 = {k: 0.2 * rng.standard_normal((layers, B, w)) for k, w in carried.items()}   # sLSTM's n and m, Mamba's state, ...
    tape = backprop.forward(model, xs, h0, c0, q0, more0)
    R = {"out": rng.standard_normal(tape.output.shape), "h": rng.standard_normal(tape.h_n.shape),
         "c": None if tape.c_n is None else rng.standard_normal(tape.c_n.shape),
         "q": None if tape.gates_n is None else rng.standard_normal(tape.gates_n.shape),
         "more": {k: rng.standard_normal(a.shape) for k, a in tape.more_n.items()}}

    def loss():
        t = backprop.forward(model, xs, h0, c0, q0, more0)
        total = (t.output * R["out"]).sum() + (t.h_n * R["h"]).sum() + sum((t.more_n[k] * r).sum() for k, r in R["more"].items())
        if t.c_n is not None:
            total += (t.c_n * R["c"]).sum()
        if t.gates_n is not None:
            total += (t.gates_n * R["q"]).sum()
        return total

    grads = backprop.backward(tape, R["out"], R["h"], R["c"], R["q"], R["more"])
    assert list(grads.params) == list(model.params)
    for name, w in model.params.items():   # model.params are the arrays the forward pass reads
        assert grads.params[name].shape == w.shape
        assert rel_err(grads.params[name], numeric_grad(loss, w)) <= TOL, name
    assert rel_err(grads.xs, numeric_grad(loss, xs)) <= TOL, "xs"
    if "h_prev" in model.glossary:
        assert rel_err(grads.h0, numeric_grad(loss, h0)) <= TOL, "h0"
    else:   # a kind that carries no h (Mamba: its state is s) never reads h0
        assert not grads.h0.any() and not numeric_grad(loss, h0).any(), "h0"
    for k, m0 in more0.items():
        assert rel_err(grads.more0[k], numeric_grad(loss, m0)) <= TOL, k
    if c0 is not None:
        assert rel_err(grads.c0, numeric_grad(loss, c0)) <= TOL, "c0"
    if q0 is not None:
        assert rel_err(grads.gates0, numeric_grad(loss, q0)) <= TOL, "gates0"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_batched_forward_equals_model_run(case):
    kind, opts = case
    model = make(kind, opts, 2, n_in=3, H=5, scale=2.5, seed=7)
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((3, 9, 3))
    h0, c0, q0 = initial_state(model, 3, rng)
    tape = backprop.forward(model, xs, h0, c0, q0)
    for b in range(3):
        state = cells.State(h=h0[:, b], c=None if c0 is None else c0[:, b], gates=None if q0 is None else q0[:, b])
        trace = model.run(xs[b], state=state)
        np.testing.assert_allclose(tape.output[b], trace.output, rtol=0, atol=1e-12)
        np.testing.assert_allclose(tape.h_n[:, b], trace.final.h, rtol=0, atol=1e-12)
        if c0 is not None:
            np.testing.assert_allclose(tape.c_n[:, b], trace.final.c, rtol=0, atol=1e-12)
        if q0 is not None:
            np.testing.assert_allclose(tape.gates_n[:, b], trace.final.gates, rtol=0, atol=1e-12)


def test_the_clip_bites_in_the_finite_difference_cases():
    """So that test_gradients_match_finite_differences covers both sides of the clip."""
    for kind, opts in CASES:
        if opts.get("cell_clip") is None:
            continue
        for layers in (1, 2):
            model = make(kind, opts, layers)
            xs = np.random.default_rng(layers).standard_normal((2, 5, 2)) * 1.5
            mask = np.stack([c["Mask"] for c in backprop.forward(model, xs).caches])
            assert 0 < mask.sum() < mask.size, (kind, opts, layers)


def test_a_clipped_cell_passes_no_gradient():
    model = make("lstm", {"cell_clip": 1e-9}, 1)
    xs = np.random.default_rng(0).standard_normal((3, 1, 2))
    tape = backprop.forward(model, xs)
    assert not tape.caches[0]["Mask"].any()            # every unit of every row is clipped
    g = backprop.backward(tape, d_c_n=np.ones_like(tape.c_n))
    assert all(not a.any() for a in g.params.values()) and not g.xs.any() and not g.c0.any()
    unclipped = make("lstm", {}, 1)
    g = backprop.backward(backprop.forward(unclipped, xs), d_c_n=np.ones((1, 3, 3)))
    assert g.params["weight_ih_l0"].any()


def test_float32_model_is_differentiated_in_float64():
    m64 = make("gru", {}, 1)
    m32 = m64.astype("float32")
    xs = np.random.default_rng(0).standard_normal((2, 4, 2))
    tape = backprop.forward(m32, xs)
    assert tape.output.dtype == np.float64
    g = backprop.backward(tape, np.ones_like(tape.output))
    assert all(a.dtype == np.float64 for a in g.params.values())
    np.testing.assert_allclose(tape.output, backprop.forward(m64, xs).output, atol=1e-6)


def test_bad_input_is_refused_clearly():
    model = make("lstm", {}, 1)
    with pytest.raises(cells.ShapeError, match="xs.*B, T, 2"):
        backprop.forward(model, np.zeros((5, 2)))
    with pytest.raises(cells.ShapeError, match="xs"):
        backprop.forward(model, np.zeros((1, 5, 3)))
    with pytest.raises(cells.NonFiniteError, match="xs"):
        backprop.forward(model, np.full((1, 5, 2), np.nan))
    with pytest.raises(cells.ShapeError, match="h0"):
        backprop.forward(model, np.zeros((2, 5, 2)), h0=np.zeros((1, 3, 3)))
    with pytest.raises(cells.CellsError, match="c0: the gru kind has no cell state"):
        backprop.forward(make("gru", {}, 1), np.zeros((1, 5, 2)), c0=np.zeros((1, 1, 3)))
    bi = cells.build("lstm", 2, 3, bidirectional=True)
    with pytest.raises(cells.CellsError, match="bidirectional models are not supported for training"):
        backprop.forward(bi, np.zeros((1, 5, 2)))
    with pytest.raises(cells.ShapeError, match="d_output"):
        backprop.backward(backprop.forward(model, np.zeros((1, 5, 2))), np.zeros((5, 3)))
