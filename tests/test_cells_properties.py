"""Properties every kind must have, over random sizes, weights and inputs (Hypothesis)."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import cells

TANH_BOUNDED = ["rnn", "lstm", "peephole", "cifg", "gru", "mgu", "nig", "nfg", "nog", "niaf", "fgr"]  # not noaf, not relu

sizes = st.tuples(st.integers(1, 6), st.integers(1, 7), st.integers(1, 12))  # input, hidden, T
seeds = st.integers(0, 2**31 - 1)


def inputs(seed, T, n, scale=3.0):
    return np.random.default_rng(seed).standard_normal((T, n)) * scale


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(cells.KINDS), size=sizes, seed=seeds, dtype=st.sampled_from(["float32", "float64"]))
def test_gates_in_unit_interval_and_tanh_states_bounded(kind, size, seed, dtype):
    I, H, T = size
    model = cells.build(kind, I, H, seed=seed, dtype=dtype)
    trace = model.run(inputs(seed, T, I))
    for n in model.vocabulary:
        a = trace[n.name]
        assert np.isfinite(a).all(), n.name
        if n.range == "unit":
            assert a.min() >= 0 and a.max() <= 1, n.name
    if kind in TANH_BOUNDED:
        assert np.abs(trace["h"]).max() <= 1


@settings(max_examples=30, deadline=None)
@given(size=sizes, seed=seeds, clip=st.one_of(st.none(), st.floats(0.1, 3)))
def test_peephole_with_zero_peepholes_is_the_plain_lstm(size, seed, clip):
    I, H, T = size
    lstm = cells.build("lstm", I, H, seed=seed, dtype="float64", cell_clip=clip)
    params = dict(lstm.params)
    for name in ("weight_ci_l0", "weight_cf_l0", "weight_co_l0"):
        params[name] = np.zeros(H)
    peep = cells.Model("peephole", params, input_size=I, hidden_size=H, options={"cell_clip": clip}, dtype="float64")
    xs = inputs(seed, T, I)
    a, b = lstm.run(xs), peep.run(xs)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-12, err_msg=name)


@settings(max_examples=30, deadline=None)
@given(size=sizes, seed=seeds, peepholes=st.booleans())
def test_cifg_forget_is_one_minus_input(size, seed, peepholes):
    I, H, T = size
    trace = cells.build("cifg", I, H, seed=seed, dtype="float64", peepholes=peepholes).run(inputs(seed, T, I))
    np.testing.assert_allclose(trace["forget"], 1 - trace["input"], rtol=0, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(cells.KINDS), size=sizes, seed=seeds)
def test_same_seed_same_trace_other_seed_other_weights(kind, size, seed):
    I, H, T = size
    xs = inputs(seed, T, I)
    a = cells.build(kind, I, H, seed=seed).run(xs)
    b = cells.build(kind, I, H, seed=seed).run(xs)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    other = cells.build(kind, I, H, seed=seed + 1)
    assert any(not np.array_equal(other.params[k], v) for k, v in cells.build(kind, I, H, seed=seed).params.items())


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(cells.KINDS), size=sizes, seed=seeds, layers=st.integers(1, 2),
       dtype=st.sampled_from(["float32", "float64"]))
def test_run_equals_stepping(kind, size, seed, layers, dtype):
    I, H, T = size
    model = cells.build(kind, I, H, num_layers=layers, seed=seed, dtype=dtype)
    xs = inputs(seed, T, I)
    trace = model.run(xs)
    state = None
    tol = 1e-12 if dtype == "float64" else 1e-6
    for t in range(T):
        state, snap = model.step(xs[t], state)
        for k in range(layers):
            ref = trace.layer(k).at(t)
            for name, v in snap.layer(k).items():
                np.testing.assert_allclose(v, ref[name], rtol=0, atol=tol, err_msg=f"{name} layer {k} step {t}")
    np.testing.assert_allclose(state.h, trace.final.h, rtol=0, atol=tol)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(cells.KINDS), seed=seeds, dtype=st.sampled_from(["float32", "float64"]),
       sign=st.sampled_from([1.0, -1.0]))
def test_extreme_preactivations_give_no_warning_or_nan(kind, seed, dtype, sign):
    model = cells.build(kind, 2, 4, seed=seed, dtype=dtype)
    xs = np.full((6, 2), sign * 1e4)
    xs[::2] *= -1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            trace = model.run(xs)
    pre = [n.name for n in model.vocabulary if n.role == "pre"]
    assert max(np.abs(trace[p]).max() for p in pre) > 1e3  # the test really reaches the extremes
    for name in trace:
        assert np.isfinite(trace[name]).all(), name
    for n in model.vocabulary:
        if n.range == "unit":
            assert trace[n.name].min() >= 0 and trace[n.name].max() <= 1
