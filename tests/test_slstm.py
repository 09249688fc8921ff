"""sLSTM (Beck et al. 2024; cells/kinds/slstm.py), not yet in BUILT_IN: registered inside each test that needs it.

Checked here: every name of the trace against its op; the stabilizer against a high-precision (decimal) evaluation
of the unstabilized equations with pre-activations of ±1e4; the ``unstabilized`` option's overflow; the backward
pass through the engine against finite differences, and the gradient flow. Against the reference package (PyPI
xlstm) and torch autograd: tests/test_slstm_reference.py, which imports the ``kind`` fixture and the helpers below.
sLSTM has no parallel form (R h(t−1) passes through the nonlinear gates), so there is no scan to compare.
"""

from __future__ import annotations

import json
import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest
from gatescope.cells import backprop
from gatescope.cells.kinds import slstm
from gatescope.cells.kinds.base import LayerState

from gatescope import cells

OPTION_CASES = [{}, {"heads": 3}, {"forget": "exp"}, {"unstabilized": True}, {"unstabilized": True, "forget": "exp", "heads": 3}]
OPS = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh, "exp": np.exp, "log_sigmoid": lambda a: -np.logaddexp(0, -a),
       "max": np.maximum, "sub": np.subtract, "mul": np.multiply, "add": np.add, "div": np.divide,
       "capped_add": lambda a, b, c, n: np.where(n == 0, np.minimum(a + b, c), a + b)}


@pytest.fixture
def kind():
    with cells.registered(slstm.KIND) as k:
        yield k.name
    assert "slstm" not in cells.KINDS


def model_with_recurrence(H=6, I=3, seed=0, dtype="float64", input_bias=0.0, **opts):
    """A built model with a larger R than the init's U(±1/√H), so that h(t−1) matters (and ĩ's bias moved by input_bias)."""
    model = cells.build("slstm", I, H, seed=seed, dtype=dtype, **opts)
    params = dict(model.params)
    params["weight_hh_l0"] = np.random.default_rng(seed + 100).uniform(-0.8, 0.8, params["weight_hh_l0"].shape)
    params["bias_l0"] = params["bias_l0"] + np.repeat([input_bias, 0.0, 0.0, 0.0], H)
    return cells.load(params, "slstm", dtype=dtype, **model.options)


def run_layer(model, xs, state: LayerState | None = None):
    """The kind's own forward pass over one layer, from ``state`` (n and m included): the trace and the final state."""
    plan = model.spec.compile(model.layer_params(model.walk()[0]), model.options, model.dtype)
    start = state or model.spec.zero_state(model.hidden_size, model.options, model.dtype)
    return model.spec.forward(plan, np.asarray(xs, model.dtype), start)


def dense(model):
    """W (4H, I), R (4H, H) dense, b (4H,) of layer 0."""
    p = model.layer_params(model.walk()[0])
    return p["weight_ih"], slstm.dense_recurrent(p["weight_hh"], model.options["heads"]), p["bias"]


def test_the_kind_is_not_built_in_and_has_no_parallel_form():
    assert "slstm" not in cells.KINDS and "slstm" not in cells.kinds.BUILT_IN
    assert not hasattr(slstm.KIND, "scan")


# -- the glossary --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("opts", OPTION_CASES, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "defaults")
@pytest.mark.parametrize("start", ["zero", "given"])
def test_every_name_is_what_it_says(kind, opts, start):
    model = model_with_recurrence(input_bias=-1.5, **opts)                # ĩ below f̃′ here and there: the cap binds
    H, T = 6, 12
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((T, 3)) * 2
    state = None
    if start == "given":
        state = LayerState(h=rng.uniform(-1, 1, H), c=rng.standard_normal(H), more={"n": rng.uniform(0.5, 2, H), "m": rng.standard_normal(H)})
        if opts.get("unstabilized"):
            del state.more["m"]
    trace, final = run_layer(model, xs, state)
    glossary = model.glossary
    assert set(trace) == set(glossary.keys()) - {"x"}
    trace["x"] = xs
    W, R, b = dense(model)
    blocks = dict(zip(slstm.BLOCKS, range(4)))
    for n in glossary:
        a = trace[n.name]
        assert a.shape == (T, 3 if n.size == "input_size" else H) and a.flags.c_contiguous, n.name
        ins = [trace[o] for o in n.operands]
        if n.op in OPS:
            np.testing.assert_allclose(a, OPS[n.op](*ins), rtol=1e-12, atol=1e-12, err_msg=n.name)
        elif n.op == "affine":
            assert n.operands == ("x", "h_prev")
            rows = slice(blocks[n.name.removesuffix("_pre")] * H, (blocks[n.name.removesuffix("_pre")] + 1) * H)
            np.testing.assert_allclose(a, xs @ W[rows].T + trace["h_prev"] @ R[rows].T + b[rows], rtol=1e-12, atol=1e-12, err_msg=n.name)
        elif n.op == "shift":
            src = n.operands[0]
            np.testing.assert_array_equal(a[1:], trace[src][:-1], err_msg=n.name)
            first = 0.0 if state is None else {"h": state.h, "c": state.c}.get(src, state.more.get(src))
            np.testing.assert_array_equal(a[0], first, err_msg=n.name)
        else:
            assert n.op == "given", n.name
        if n.range == "unit":
            assert (a >= 0).all() and (a <= 1).all(), n.name
        if n.range == "signed":
            assert (np.abs(a) <= 1).all(), n.name
    for name in ("h", "c", "n", "m"):
        if name in trace:
            np.testing.assert_array_equal(final.h if name == "h" else final.c if name == "c" else final.more[name], trace[name][-1])
    if "m" in trace:
        assert (trace["input_exponent"] <= 0).all() and (trace["forget_exponent"] <= 0).all()   # no gate above 1: no clip binds
        lf = trace["forget_gate_pre" if opts.get("forget") == "exp" else "log_forget"]
        capped = trace["forget_carried"][0] < lf[0] + trace["m_prev"][0]
        assert capped.any() if start == "zero" else not capped.any()                         # the first step's rule, only there
        assert (trace["n"] >= 1).all() or start == "given"


def test_describe_glossary_phases_and_diagram(kind, tmp_path):
    for opts in OPTION_CASES:
        d = cells.describe(kind, **opts)
        json.dumps(d)
        assert d["has_cell"] and d["blocks"] == list(slstm.BLOCKS) and d["layouts"] == ["torch"]
        assert all(e["text"] and e["latex"] for e in d["equations"])
        phases = [p["name"] for p in d["glossary"]["phases"]]
        assert phases == (["given", "pre", "gates", "update", "output"] if opts.get("unstabilized") else
                          ["given", "pre", "stabilize", "gates", "update", "output"])
        assert all(n["zh"].get("label") for n in d["glossary"]["names"]), "every label has its Chinese"
        assert all(p["zh"].get("title") and p["zh"].get("text") for p in d["glossary"]["phases"])
        glossary = cells.glossary(kind, **opts)
        assert set(slstm.KIND.positions(glossary)) == set(glossary.keys())
        roles = slstm.KIND.memory_roles(glossary)
        assert {roles["mem"], roles["keep"], roles["write"]} <= set(glossary.keys())
        drawn = cells.diagram(kind, opts)                                 # every wire found a route
        assert {n["name"] for n in drawn["nodes"]} == set(glossary.keys())
    m = cells.glossary(kind)["m"]
    assert m.op == "max" and m.operands == ("forget_carried", "input_gate_pre")
    assert cells.glossary(kind)["forget_carried"].operands == ("log_forget", "m_prev", "input_gate_pre", "n_prev")
    assert cells.glossary(kind, forget="exp")["forget_carried"].operands[0] == "forget_gate_pre"


def test_the_unstabilized_diagram_keeps_every_rule_of_the_geometry_tests(kind):
    """A first layout: without m every check of tests/test_diagram_geometry.py that takes a drawn diagram holds (the
    stabilized diagram's 25 names are drawn, but some labels and wires still crowd: the lead tunes POSITIONS)."""
    from tests.test_diagram_geometry import keeps_every_rule
    for forget in ("sigmoid", "exp"):
        assert keeps_every_rule(cells.diagram(kind, {"unstabilized": True, "forget": forget})) >= 10


def test_build_run_stack_save_and_load(kind, tmp_path):
    xs = np.random.default_rng(4).standard_normal((8, 3))
    for layers in (1, 2):
        model = cells.build(kind, 3, 4, num_layers=layers, heads=2, seed=4)
        trace = model.run(xs)
        assert trace.output.shape == (8, 4) and trace.output.dtype == np.float32 and np.isfinite(trace.output).all()
    state, _ = cells.build(kind, 3, 4, seed=4).step(xs[0])
    assert state.h.shape == (1, 4) and state.c.shape == (1, 4)
    model.save(tmp_path / "m.safetensors")
    back = cells.load(tmp_path / "m.safetensors")
    assert back.kind == kind and back.config() == model.config() and back.options["heads"] == 2
    assert all(np.array_equal(back.params[n], model.params[n]) for n in model.params)
    assert model.spec.step_macs(3, 4, model.options) == 16 * 3 + 16 * 2      # W, and R's two 2 × 2 blocks per gate


def test_a_run_split_in_two_carries_n_and_m(kind):
    """Two calls, the second from the first's final state (n and m in ``more``), give the one call's numbers; also
    across the loop's chunks (T > CHUNK) and for a batch (the backward pass's forward)."""
    model = model_with_recurrence(H=5, I=2, heads=5)
    xs = np.random.default_rng(5).standard_normal((300, 2)) * 2
    whole, final = run_layer(model, xs)
    first, mid = run_layer(model, xs[:170])
    second, end = run_layer(model, xs[170:], mid)
    for name in whole:
        np.testing.assert_array_equal(np.concatenate([first[name], second[name]]), whole[name], err_msg=name)
    assert end.more.keys() == {"n", "m"} and np.array_equal(end.more["m"], final.more["m"])
    batch = np.random.default_rng(6).standard_normal((3, 40, 2))
    tape = backprop.forward(model, batch)
    for b in range(3):
        np.testing.assert_allclose(tape.output[b], model.run(batch[b]).output, rtol=0, atol=1e-13)


def test_heads_must_divide_the_hidden_size(kind):
    with pytest.raises(cells.OptionError, match="hidden_size 6 is not divisible by heads 4"):
        cells.build(kind, 3, 6, heads=4)
    with pytest.raises(cells.OptionError, match="heads"):
        cells.build(kind, 3, 6, heads=0)


def test_bad_input_names_the_tensor_and_both_shapes(kind):
    model = cells.build(kind, 3, 4, heads=2)
    with pytest.raises(cells.ShapeError, match=r"xs: expected shape \(T, 3\), got \(5, 4\)"):
        model.run(np.zeros((5, 4)))
    params = dict(model.params)
    params["weight_hh_l0"] = np.zeros((16, 4), np.float32)                # a full R, but the options say two heads
    with pytest.raises(cells.ShapeError, match=r"weight_hh_l0: expected shape \(16, 2\), got \(16, 4\)"):
        cells.load(params, kind, heads=2)
    with pytest.raises(cells.ShapeError, match=r"xs: expected shape \(B, T, 3\)"):
        backprop.forward(model, np.zeros((2, 5, 4)))


# -- numerics ------------------------------------------------------------------------------------------------------------
def exact_h(model, xs) -> list[list[Decimal]]:
    """h(t) of the unstabilized equations (i = exp(ĩ), f = σ(f̃)) in 60-digit decimal arithmetic, from the model's own
    float weights and inputs read exactly: e^10000 is an ordinary decimal number."""
    W, R, b = (np.asarray(a, np.float64) for a in dense(model))
    H = model.hidden_size
    with localcontext() as ctx:
        ctx.prec = 60
        one = Decimal(1)
        Wd, Rd, bd = ([[Decimal(float(v)) for v in row] for row in M] for M in (W, R, b[:, None]))
        h, c, n, out = [Decimal(0)] * H, [Decimal(0)] * H, [Decimal(0)] * H, []
        for x in np.asarray(xs, np.float64):
            xd = [Decimal(float(v)) for v in x]
            pre = [sum((w * v for w, v in zip(Wd[r], xd)), Decimal(0)) + sum((w * v for w, v in zip(Rd[r], h)), Decimal(0)) + bd[r][0]
                   for r in range(4 * H)]
            i = [p.exp() for p in pre[:H]]
            f = [one / (one + (-p).exp()) for p in pre[H:2 * H]]
            z = [one - 2 / ((2 * p).exp() + one) for p in pre[2 * H:3 * H]]
            o = [one / (one + (-p).exp()) for p in pre[3 * H:]]
            c = [fk * ck + ik * zk for fk, ck, ik, zk in zip(f, c, i, z)]
            n = [fk * nk + ik for fk, nk, ik in zip(f, n, i)]
            h = [ok * ck / nk for ok, ck, nk in zip(o, c, n)]
            out.append(h)
        return out


def huge_model(kind_opts: dict, dtype: str):
    """A model whose ĩ and f̃ sit near ±1e4 (their biases), each unit a different case: ĩ ≈ +1e4 with f̃ ≈ +1e4 (exp(ĩ)
    overflows; f ≈ 1 keeps a running, reweighted mean), ĩ ≈ −1e4 (exp(ĩ) underflows to 0 and c / n is 0 / 0 without m),
    f̃ ≈ −1e4 (forgets at once), and z̃, õ of order 1, so that h is no saturated ±1 or 0."""
    model = model_with_recurrence(H=4, I=3, seed=8, dtype="float64", **kind_opts)
    params = dict(model.params)
    bias = np.zeros(16)
    bias[:4] = [1.0002e4, -1.0002e4, 1.0002e4, 1.0002e4]            # ĩ
    bias[4:8] = [1.0002e4, 1.0002e4, -1.0002e4, 2e3]                # f̃
    params["bias_l0"] = bias
    params["weight_ih_l0"] = params["weight_ih_l0"] * 4              # ĩ varies by a few units from step to step
    return cells.load(params, "slstm", dtype=dtype, **model.options)


def huge_inputs():
    return np.random.default_rng(9).standard_normal((24, 3))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_stabilizer_keeps_preactivations_of_1e4_finite_and_exact(kind, dtype):
    model, xs = huge_model({}, dtype), huge_inputs()
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        trace = model.run(xs)
    assert trace["input_gate_pre"].max() >= 1e4 and trace["input_gate_pre"].min() <= -1e4 and trace["forget_gate_pre"].min() <= -1e4
    assert all(np.isfinite(trace[n]).all() for n in trace)
    assert ((np.abs(trace.output) > 0.05) & (np.abs(trace.output) < 0.95)).mean() > 0.5     # no saturated ±1 or 0
    exact = np.array([[float(v) for v in row] for row in exact_h(model, xs)])
    assert np.isfinite(exact).all()
    # float64: rounding only; float32: ĩ of 1e4 is held to 1e-3 (its spacing there), so the gates to ~1e-3 relative
    np.testing.assert_allclose(trace.output, exact, rtol=0, atol=1e-10 if dtype == "float64" else 2e-3)


def test_the_unstabilized_form_overflows_where_the_stabilized_does_not(kind):
    xs = huge_inputs()
    stable, unstable = huge_model({}, "float64").run(xs).output, huge_model({"unstabilized": True}, "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                   # quietly: the inf and nan are the lesson
        trace = unstable.run(xs)
    assert np.isfinite(stable).all() and not np.isfinite(trace.output).all()
    assert np.isinf(trace["input_gate"]).any() and np.isnan(trace["h"]).any()


@pytest.mark.parametrize("forget", ["sigmoid", "exp"])
def test_otherwise_m_cancels_and_both_forms_give_the_same_h(kind, forget):
    xs = np.random.default_rng(11).standard_normal((80, 3)) * 3      # (f = e^f̃ grows C and N by up to e^5 a step)
    stable = model_with_recurrence(forget=forget).run(xs)
    unstable = model_with_recurrence(forget=forget, unstabilized=True).run(xs)
    np.testing.assert_allclose(unstable.output, stable.output, rtol=1e-10, atol=1e-12)
    m = stable["m"]
    np.testing.assert_allclose(unstable["c"], stable["c"] * np.exp(m), rtol=1e-10, atol=1e-12)   # C = c e^m
    np.testing.assert_allclose(unstable["n"], stable["n"] * np.exp(m), rtol=1e-10, atol=1e-12)   # N = n e^m


# -- the backward pass ---------------------------------------------------------------------------------------------------
def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


@pytest.mark.parametrize("layers", [1, 2])
def test_backprop_and_gradient_flow_through_the_engine(kind, layers):
    """The public road (cells.backprop: h0 and c0, n and m start empty) against finite differences of model.run."""
    H = 4
    model = model_with_recurrence(H=H, I=3, heads=2)
    if layers == 2:
        second = model_with_recurrence(H=H, I=H, seed=9, heads=2)
        model = cells.load({**model.params, **{k.replace("_l0", "_l1"): v for k, v in second.params.items()}},
                           "slstm", dtype="float64", heads=2)
    rng = np.random.default_rng(13)
    xs, h0 = rng.standard_normal((1, 6, 3)), rng.uniform(-1, 1, (layers, 1, H))
    R_out = rng.standard_normal((1, 6, H))
    tape = backprop.forward(model, xs, h0)
    grads = backprop.backward(tape, R_out)

    def loss(params=None, x=xs[0], h=h0[:, 0]):
        m = model if params is None else cells.Model("slstm", params, input_size=3, hidden_size=H, num_layers=layers,
                                                     options=model.options, dtype="float64")
        return float((m.run(x, h0=h).output * R_out[0]).sum())

    eps = 1e-6
    for name in ("weight_hh_l0", "bias_l0", f"weight_ih_l{layers - 1}"):
        a = model.params[name]
        fd = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = dict(model.params), dict(model.params)
            plus[name], minus[name] = a.copy(), a.copy()
            plus[name][idx] += eps
            minus[name][idx] -= eps
            fd[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        assert rel_err(grads.params[name], fd) <= 1e-6, name
    flow = cells.gradient_flow(model, xs[0])
    assert flow.keys() == {"h", "c", "x"} and np.isclose(flow["h"][-1], np.sqrt(H)) and flow["c"][-1] == 0.0


@pytest.mark.parametrize("opts", [{}, {"unstabilized": True}, {"heads": 2}], ids=["defaults", "unstabilized", "heads=2"])
def test_gradient_flow_holds_n_and_m_with_the_rest_of_the_state(kind, opts):
    """flow["h"][t] and flow["c"][t] against central differences from the state after step t: h, c, n and m, one of h or
    c nudged, the rest held (a state without n and m would be another state: tests/test_cells_gradient_flow.py's
    state_after must carry them once the kind is registered)."""
    model = model_with_recurrence(H=4, I=2, **opts)
    xs = np.random.default_rng(0).standard_normal((6, 2))
    flow = cells.gradient_flow(model, xs)
    trace, _ = run_layer(model, xs)
    for t in range(5):
        for key in ("h", "c"):
            columns = []
            for j in range(4):
                ends = []
                for sign in (1, -1):
                    state = LayerState(h=trace["h"][t].copy(), c=trace["c"][t].copy(),
                                       more={k: trace[k][t].copy() for k in ("n", "m") if k in trace})
                    getattr(state, key)[j] += sign * 1e-6
                    ends.append(run_layer(model, xs[t + 1:], state)[0]["h"][-1])
                columns.append((ends[0] - ends[1]) / 2e-6)
            assert flow[key][t] == pytest.approx(np.linalg.norm(columns), rel=1e-6, abs=1e-9), (key, t)
