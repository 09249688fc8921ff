"""mLSTM (xLSTM, Beck et al. 2024; cells/kinds/mlstm.py), not yet in BUILT_IN: registered inside each test.

Checked: the parallel form (scan) against the step form in float64; every name of the trace against its op; the
stabilizer against overflow; the backward pass against finite differences through cells.backprop; options, errors,
files and the reference's init. Against the reference itself (PyPI xlstm, torch autograd): test_mlstm_reference.py,
which imports its helpers from here.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from gatescope.cells import backprop
from gatescope.cells.kinds import mlstm
from gatescope.cells.kinds.base import LayerState

from gatescope import cells

KIND = mlstm.KIND
OPTIONS = {"cell": {"heads": 2}, "cell_proj": {"heads": 2, "proj_size": 3},
           "block": {"heads": 2, "block": True, "qkv_blocksize": 2, "conv_kernel": 3},
           "block_proj": {"heads": 2, "block": True, "qkv_blocksize": 4, "proj_size": 5}}
I, H = 5, 8


@pytest.fixture(autouse=True)
def registered():
    with cells.registered(KIND):
        yield
    assert "mlstm" not in cells.KINDS


def lively(model, seed=0, scale=0.5):
    """The model with random gate weights, norm and skip: the reference's init has zero gate weights, γ = s = 1."""
    rng = np.random.default_rng(seed)
    p = {k: a + (rng.normal(0, scale, a.shape) if k.split("_l")[0] in ("weight_igate", "weight_fgate", "weight_norm", "weight_skip")
                 else 0) for k, a in model.params.items()}
    return cells.Model("mlstm", p, input_size=model.input_size, hidden_size=model.hidden_size, num_layers=model.num_layers,
                       options=model.options, dtype=model.dtype)


def random_state(opts, B=None, seed=7):
    """A layer state (C, n, m by glossary name; the window with block), each head's m on its units."""
    rng, d = np.random.default_rng(seed), H // opts["heads"]
    lead = () if B is None else (B,)
    more = {"C": rng.normal(0, 0.5, lead + (H * d,)), "n": rng.normal(0, 0.5, lead + (H,)),
            "m": np.repeat(rng.normal(0, 1, lead + (opts["heads"],)), d, axis=-1)}
    if opts.get("block"):
        more["mlstm_input"] = rng.normal(0, 1, lead + ((opts.get("conv_kernel", 4) - 1) * H,))
    return LayerState(h=np.zeros(lead + (KIND.out_size(H, KIND.check_options(opts)),)), more=more)


def test_the_kind_is_not_built_in():
    assert "mlstm" not in cells.kinds.BUILT_IN


# -- the engine's own checks -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(OPTIONS))
@pytest.mark.parametrize("start", ["fresh", "given"])
def test_the_parallel_form_equals_the_step_form_in_float64(case, start):
    opts = OPTIONS[case]
    model = lively(cells.build("mlstm", I, H, seed=3, dtype="float64", **opts), seed=3)
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((160, I)) * 2
    state = random_state(opts) if start == "given" else LayerState(h=np.zeros(model.out_size))
    step, final = KIND.forward(model._plan(0, 0), xs, state)
    params = model.layer_params(model.walk()[0])
    np.testing.assert_allclose(KIND.scan(params, xs, model.options, state), step["h"], rtol=1e-6, atol=1e-6)
    batch = rng.standard_normal((64, 3, I))                             # (T, B, I): a batch scans at once
    tape = backprop.forward(model, batch.transpose(1, 0, 2))
    np.testing.assert_allclose(KIND.scan(params, batch, model.options), tape.output.transpose(1, 0, 2), rtol=1e-6, atol=1e-6)
    first, mid = KIND.forward(model._plan(0, 0), xs[:70], state)       # a run continued from its state is one run
    second, end = KIND.forward(model._plan(0, 0), xs[70:], mid)
    np.testing.assert_allclose(np.concatenate([first["h"], second["h"]]), step["h"], rtol=1e-12, atol=1e-12)
    assert end.more.keys() == final.more.keys() and all(np.allclose(end.more[k], final.more[k], rtol=1e-12, atol=1e-12) for k in end.more)


@pytest.mark.parametrize("case", ["cell_proj", "block"])
def test_a_run_in_chunks_is_one_run(case):
    """Model.run carries the memory (C, n, m and the window) in State.more, by glossary name, across chunks and layers."""
    if not hasattr(KIND, "carried") or "more" not in cells.State.__dataclass_fields__:
        pytest.skip("this engine does not carry Kind.carried's state between runs yet")
    model = lively(cells.build("mlstm", I, H, num_layers=2, seed=8, dtype="float64", **OPTIONS[case]), seed=8)
    xs = np.random.default_rng(8).standard_normal((30, I))
    whole = model.run(xs)
    first = model.run(xs[:11])
    assert first.final.more.keys() == KIND.carried(I, H, model.options).keys()
    second = model.run(xs[11:], state=first.final)
    np.testing.assert_allclose(np.concatenate([first.output, second.output]), whole.output, rtol=1e-12, atol=1e-12)
    for name, a in whole.final.more.items():
        np.testing.assert_allclose(second.final.more[name], a, rtol=1e-12, atol=1e-12, err_msg=name)
    assert cells.build("mlstm", I, H, bidirectional=True, **OPTIONS[case]).run(xs).output.shape == (30, 2 * model.out_size)


def head_ops(heads):
    """The per-head ops of the vocabulary (cells.spec.OPS), on (T, width) traces: a head is d = width / heads units."""
    split = lambda a: a.reshape(len(a), heads, -1)
    return {
        "head_outer": lambda a, b: (split(a)[..., :, None] * split(b)[..., None, :]).reshape(len(a), -1),
        "head_scale": lambda a, S: (S.reshape(len(S), a.shape[1], -1) * a[..., None]).reshape(len(S), -1),
        "head_matvec": lambda S, b: np.einsum("thrc,thc->thr", S.reshape(len(S), heads, b.shape[1] // heads, -1), split(b)).reshape(len(b), -1),
        "head_dot": lambda a, b: np.repeat((split(a) * split(b)).sum(-1), a.shape[1] // heads, axis=-1),
    }


OPS = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "silu": lambda a: a / (1 + np.exp(-a)), "log_sigmoid": lambda a: -np.logaddexp(0, -a),
       "exp": np.exp, "abs": np.abs, "neg": np.negative, "mul": np.multiply, "div": np.divide, "add": np.add, "sub": np.subtract, "max": np.maximum}


def affine(model, trace):
    """Every affine name, recomputed from the model's weights apart from the kind's code."""
    p, opts = {k.removesuffix("_l0"): a for k, a in model.params.items()}, model.options
    x, nh, d = trace["x"], opts["heads"], H // opts["heads"]
    per_head = lambda a: np.repeat(a, d, axis=-1)
    out = {"h": trace["gated"] @ p["weight_hr"].T} if opts["proj_size"] else {}
    if not opts["block"]:
        return out | {"query": x @ p["weight_q"].T, "key": x @ p["weight_k"].T / math.sqrt(d), "value": x @ p["weight_v"].T,
                      "output_gate_pre": x @ p["weight_ih"].T + p["bias_ih"], "input_gate_pre": per_head(x @ p["weight_igate"].T + p["bias_igate"]),
                      "forget_gate_pre": per_head(x @ p["weight_fgate"].T + p["bias_fgate"])}
    u, K = trace["mlstm_input"], opts["conv_kernel"]
    pad = np.concatenate([np.zeros((K - 1, H)), u])
    conv = p["bias_conv"] + sum(pad[j:j + len(u)] * p["weight_conv"][:, j] for j in range(K))
    dense = {n: mlstm.block_diag(p[f"weight_{n}"]) for n in "qkv"}
    qkv = np.concatenate([trace["query"], trace["key"], trace["value"]], axis=1)
    R = trace["readout"].reshape(len(x), nh, d)
    gn = ((R - R.mean(-1, keepdims=True)) / np.sqrt(R.var(-1, keepdims=True) + 1e-5)).reshape(len(x), H)
    return out | {"mlstm_input": x @ p["weight_up"].T, "output_gate_pre": x @ p["weight_ih"].T, "conv": conv,
                  "query": trace["conv_act"] @ dense["q"].T, "key": trace["conv_act"] @ dense["k"].T / math.sqrt(d), "value": u @ dense["v"].T,
                  "input_gate_pre": per_head(qkv @ p["weight_igate"].T + p["bias_igate"]),
                  "forget_gate_pre": per_head(qkv @ p["weight_fgate"].T + p["bias_fgate"]),
                  "normed": gn * p["weight_norm"], "skip": p["weight_skip"] * trace["conv_act"]}


@pytest.mark.parametrize("case", list(OPTIONS) + ["unstabilized"])
def test_every_name_is_what_it_says(case):
    opts = OPTIONS.get(case, {"heads": 4, "unstabilized": True})
    model = lively(cells.build("mlstm", I, H, seed=2, dtype="float64", **opts), seed=2)
    trace = model.run(np.random.default_rng(0).standard_normal((9, I)) * 2)
    assert list(trace) == list(model.glossary.keys())
    sizes = KIND.sizes(I, H, model.options)
    assert sizes["state_size"] == H * H // opts["heads"]
    ops, recomputed = OPS | head_ops(opts["heads"]), affine(model, trace)
    for n in model.glossary:
        a, ins = trace[n.name], [trace[i] for i in n.operands]
        assert a.shape == (9, sizes[n.size]) and a.flags.c_contiguous, n.name
        if n.op in ops:
            np.testing.assert_allclose(a, ops[n.op](*ins), rtol=1e-12, atol=1e-12, err_msg=n.name)
        elif n.op == "affine":
            np.testing.assert_allclose(a, recomputed.pop(n.name), rtol=1e-12, atol=1e-12, err_msg=n.name)
        elif n.op == "shift":
            np.testing.assert_array_equal(a[1:], ins[0][:-1], err_msg=n.name)
            np.testing.assert_array_equal(a[0], 0.0, err_msg=n.name)
        else:
            assert (n.name, n.op) in {("x", "given"), ("m", "given")}, n.name
    assert not recomputed
    d = H // opts["heads"]
    for name in ("input_gate", "forget_gate", "m", "denominator"):      # a head's value on each of its units
        np.testing.assert_array_equal(trace[name], np.repeat(trace[name][:, ::d], d, axis=1))
    if not model.options["unstabilized"]:
        assert (trace["input_gate"] <= 1).all() and (trace["forget_gate"] <= 1).all()   # every exponent ≤ 0
    else:
        np.testing.assert_array_equal(trace["m"], 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("block", [False, True])
def test_the_stabilizer_keeps_exp_finite(dtype, block):
    """Pre-activations up to ±1e4: no warning and finite numbers; unstabilized, exp(i_pre) overflows; moderate, both agree."""
    opts = {"heads": 2, "block": block, "qkv_blocksize": 2}
    model = lively(cells.build("mlstm", I, H, seed=4, dtype=dtype, **opts), seed=4)
    held = cells.Model("mlstm", model.params, input_size=I, hidden_size=H, options={**model.options, "unstabilized": True}, dtype=dtype)
    xs = np.random.default_rng(4).standard_normal((30, I))
    big = xs * (1e4 / np.abs(model.run(xs)["input_gate_pre"]).max())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = model.run(big)
        assert np.abs(trace["input_gate_pre"]).max() > 5e3
        assert all(np.isfinite(trace[n]).all() for n in trace), [n for n in trace if not np.isfinite(trace[n]).all()]
        loud = held.run(big)                                             # the overflow is shown, not warned about
    assert np.isinf(loud["input_gate"]).any() and not np.isfinite(loud.output).all()
    tol = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(held.run(xs).output, model.run(xs).output, rtol=tol, atol=tol)


def test_the_backward_pass_through_the_batch_api_and_gradient_flow():
    """Two stacked layers through cells.backprop against finite differences of the loss (float64)."""
    model = lively(cells.build("mlstm", I, H, num_layers=2, seed=6, dtype="float64", heads=2, proj_size=3), seed=6)
    rng = np.random.default_rng(6)
    xs, R = rng.standard_normal((2, 7, I)), rng.standard_normal((2, 7, 3))
    grads = backprop.backward(backprop.forward(model, xs), R)
    loss = lambda m, x: (backprop.forward(m, x).output * R).sum()
    def bumped(name, step):
        params = dict(model.params)
        params[name] = params[name].copy()
        params[name].flat[1] += step
        return cells.Model("mlstm", params, input_size=I, hidden_size=H, num_layers=2, options=model.options, dtype="float64")
    for name in ("weight_k_l0", "bias_fgate_l0", "weight_igate_l1", "weight_hr_l1"):
        numeric = (loss(bumped(name, 1e-6), xs) - loss(bumped(name, -1e-6), xs)) / 2e-6
        assert grads.params[name].flat[1] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    flow = cells.gradient_flow(model, xs[0])
    assert np.isfinite(flow["x"]).all() and flow["h"][-1] == pytest.approx(math.sqrt(3))


# -- options, errors, files -------------------------------------------------------------------------------------------
def test_bad_sizes_and_shapes_are_refused_naming_what_was_wrong():
    with pytest.raises(cells.OptionError, match="heads: hidden_size 6 does not split into 4 heads"):
        cells.build("mlstm", 3, 6)
    with pytest.raises(cells.OptionError, match="qkv_blocksize: hidden_size 8 does not split into blocks of 3"):
        cells.build("mlstm", 3, 8, heads=2, block=True, qkv_blocksize=3)
    model = cells.build("mlstm", 3, 8, heads=2)
    with pytest.raises(cells.ShapeError, match=r"xs: expected shape \(T, 3\), got \(4, 5\)"):
        model.run(np.zeros((4, 5)))
    arrays = {k: a for k, a in model.params.items()}
    with pytest.raises(cells.ShapeError, match=r"weight_k_l0: expected shape \(8, 3\), got \(8, 4\)"):
        cells.load({**arrays, "weight_k_l0": np.zeros((8, 4), np.float32)}, "mlstm", heads=2)
    with pytest.raises(cells.ShapeError, match=r"more\['C'\]: expected shape \(32,\), got \(31,\)"):
        KIND.forward(model._plan(0, 0), np.zeros((2, 3), np.float32), LayerState(h=np.zeros(8), more={"C": np.zeros(31)}))
    with pytest.raises(cells.OptionError, match="bias=True"):
        mlstm.from_reference({}, {"bias": True, "num_heads": 4})
    with pytest.raises(cells.WeightNameError, match="proj_down.weight"):
        KIND.from_reference({}, {})


@pytest.mark.parametrize("case", list(OPTIONS))
def test_build_describe_save_and_load(case, tmp_path):
    opts = OPTIONS[case]
    model = cells.build("mlstm", I, H, seed=1, **opts)
    d = cells.describe("mlstm", **opts)
    json.dumps(d)
    assert d["title"] == "mLSTM" and all(e["text"] and e["latex"] for e in d["equations"]) and d["zh"]["title"]
    assert {n["name"] for n in d["glossary"]["names"]} == set(KIND.positions(model.glossary))
    assert {d["memory"][k] for k in ("mem", "keep", "write")} <= set(model.glossary.keys())
    assert KIND.step_macs(I, H, model.options) > sum(a.size for k, a in model.params.items() if a.ndim > 1)
    assert model.run(np.zeros((3, I))).output.shape == (3, model.out_size)
    model.save(tmp_path / "m.safetensors")
    back = cells.load(tmp_path / "m.safetensors")
    assert back.kind == "mlstm" and back.config() == model.config()
    assert all(np.array_equal(back.params[n], model.params[n]) for n in model.params)


def test_init_is_the_references():
    p = cells.build("mlstm", 16, 64, seed=0, dtype="float64", block=True, proj_size=16).params
    np.testing.assert_array_equal(p["bias_fgate_l0"], np.linspace(3.0, 6.0, 4))
    assert not p["weight_igate_l0"].any() and not p["weight_fgate_l0"].any()
    np.testing.assert_array_equal(p["weight_norm_l0"], 1.0)
    np.testing.assert_array_equal(p["weight_skip_l0"], 1.0)
    assert p["weight_up_l0"].std() == pytest.approx(math.sqrt(2 / 80), rel=0.1)
    assert np.abs(p["weight_conv_l0"]).max() <= 0.5
