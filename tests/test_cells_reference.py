"""Every kind, option and stacking against the plain reference in tests/reference.py (float64)."""

import numpy as np
import pytest
import reference

import cells

CASES = [
    ("rnn", {}), ("rnn", {"nonlinearity": "relu"}),
    ("lstm", {}), ("lstm", {"proj_size": 3}), ("lstm", {"forget_bias": 1.0, "cell_clip": 0.5}),
    ("peephole", {}), ("peephole", {"cell_clip": 0.3, "forget_bias": 0.5}), ("peephole", {"proj_size": 2}),
    ("cifg", {}), ("cifg", {"peepholes": False}),
    ("gru", {}), ("gru", {"reset_after": False}),
    ("mgu", {}),
    ("nig", {}), ("nfg", {}), ("nog", {}), ("niaf", {}), ("noaf", {}), ("fgr", {}), ("fgr", {"peepholes": False}),
]


def ids(case):
    kind, opts = case
    return kind + "".join(f"-{k}={v}" for k, v in opts.items())


@pytest.mark.parametrize("case", CASES, ids=[ids(c) for c in CASES])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
def test_engine_matches_reference(case, layers, bidirectional):
    kind, opts = case
    model = cells.build(kind, 3, 5, num_layers=layers, bidirectional=bidirectional, seed=7, dtype="float64", **opts)
    # scale the weights up so gates saturate, clips bite and relu units die
    model = cells.Model(kind, {k: 2.5 * v for k, v in model.params.items()}, input_size=3, hidden_size=5,
                        num_layers=layers, bidirectional=bidirectional, options=opts, dtype="float64")
    xs = np.random.default_rng(1).standard_normal((11, 3))
    out, h_n, c_n = reference.run(kind, model.params, xs, num_layers=layers, bidirectional=bidirectional,
                                  hidden=5, out_size=model.out_size, opts=model.options)
    trace = model.run(xs)
    np.testing.assert_allclose(trace.output, out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.final.h, h_n, rtol=0, atol=1e-12)
    if c_n is not None:
        np.testing.assert_allclose(trace.final.c, c_n, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[ids(c) for c in CASES])
def test_float32_close_to_float64(case):
    kind, opts = case
    m64 = cells.build(kind, 4, 6, seed=3, dtype="float64", **opts)
    xs = np.random.default_rng(2).standard_normal((40, 4))
    a = m64.run(xs)
    b = m64.astype("float32").run(xs)
    assert b.output.dtype == np.float32
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-5, err_msg=name)
