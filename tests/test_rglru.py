"""The RG-LRU of Griffin and Hawk (De et al. 2024; cells/kinds/rglru.py).

Checked: the step form against the
reference implementation (PyPI recurrentgemma, ``recurrentgemma.torch.layers.RGLRU``) in float32, its weights read
with ``from_reference`` and ``cells.load``, a fresh sequence and its decoding mode (a cache and segment_pos > 0);
the parallel form (the associative scan) against the step form in float64; every name of the trace against its op;
the backward pass against torch autograd through the reference's own module (its accumulator widened to float64);
bad shapes refused by name.

recurrentgemma's package ``__init__`` imports its JAX half (flax), which is not installed here; its torch layers need
only torch, einops and jaxtyping, so :func:`reference_layers` imports ``recurrentgemma/torch/layers.py`` under
stand-in parent packages, without running the package's ``__init__``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import types
import warnings
from functools import cache, partial
from pathlib import Path

import numpy as np
import pytest
from gatescope.cells import backprop
from gatescope.cells.kinds import rglru
from gatescope.cells.kinds.base import LayerState

from gatescope import cells

KIND = rglru.KIND
OPS = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "exp": np.exp, "sqrt_one_minus_square": lambda a: np.sqrt(1 - a * a),
       "mul": lambda a, b: a * b, "add": lambda a, b: a + b}


@pytest.fixture
def kind():
    return KIND.name


@cache
def _layers():
    """recurrentgemma.torch.layers, imported without the package's __init__ (which needs flax) where flax is missing."""
    if importlib.util.find_spec("flax") is not None:
        return importlib.import_module("recurrentgemma.torch.layers")
    root = Path(importlib.util.find_spec("recurrentgemma").submodule_search_locations[0])
    before = set(sys.modules)
    for name, path in (("recurrentgemma", root), ("recurrentgemma.torch", root / "torch")):
        stand_in = types.ModuleType(name)
        stand_in.__path__ = [str(path)]
        sys.modules[name] = stand_in
    try:
        return importlib.import_module("recurrentgemma.torch.layers")
    finally:  # the module keeps what it imported; the stand-ins leave nothing behind for anyone else
        for name in set(sys.modules) - before:
            if name.startswith("recurrentgemma"):
                del sys.modules[name]


def reference_layers():
    pytest.importorskip("torch")
    pytest.importorskip("einops")
    pytest.importorskip("jaxtyping")
    if importlib.util.find_spec("recurrentgemma") is None:
        pytest.skip("recurrentgemma is not installed")
    return _layers()


def reference(width: int, heads: int, seed: int, dtype):
    """The reference RG-LRU with its own init, biases made non-zero (its init zeroes them) so that they are read too."""
    layers = reference_layers()
    import torch
    torch.manual_seed(seed)
    net = layers.RGLRU(width=width, num_heads=heads, dtype=dtype)
    with torch.no_grad():
        net.a_gate.b.normal_(0.0, 0.5)
        net.input_gate.b.normal_(0.0, 0.5)
    return net


def numpy_state(net) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


def loaded(net, dtype: str, heads: int):
    params, opts = rglru.from_reference(numpy_state(net), {"width": net.width, "num_heads": heads})
    assert opts == {"heads": heads}
    return cells.load(params, "rglru", dtype=dtype, **opts)


@pytest.mark.parametrize("heads", [1, 2])
def test_step_form_equals_the_reference_in_float32(kind, heads):
    import torch
    H, T, T1 = 8, 48, 20
    net = reference(H, heads, heads, torch.float32)
    model = loaded(net, "float32", heads)
    assert (model.input_size, model.hidden_size, model.options) == (H, H, {"heads": heads})
    xs = np.random.default_rng(0).standard_normal((T, H)).astype(np.float32) * 2
    x = torch.tensor(xs[None])
    with torch.no_grad():
        y, last = net(x, torch.arange(T)[None])                                   # a fresh sequence: segment_pos 0, 1, ...
        y1, h1 = net(x[:, :T1], torch.arange(T1)[None])
        y2, h2 = net(x[:, T1:], torch.arange(T1, T)[None], cache=h1)              # its decoding mode: a cache, segment_pos > 0
    trace = model.run(xs)
    np.testing.assert_allclose(trace.output, y[0].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(trace.final.h[0], last[0].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(trace["written"][0], trace["gated"][0], rtol=0, atol=0)   # the first step writes i ⊙ u whole
    plan = KIND.compile(model.layer_params(model.walk()[0]), model.options, np.float32)
    first, state = KIND.forward(plan, xs[:T1], LayerState(h=np.zeros(H, np.float32)))
    assert int(state.more["position"]) == T1
    second, end = KIND.forward(plan, xs[T1:], state)
    np.testing.assert_allclose(first["h"], y1[0].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(second["h"], y2[0].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(end.h, h2[0].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(second["h"], trace.output[T1:], rtol=1e-5, atol=1e-5)   # chunks continue as one run
    np.testing.assert_allclose(model.run(xs[T1:], h0=h1[0].numpy()).output, y2[0].numpy(), rtol=1e-5, atol=1e-5)  # a given h0


def test_where_a_sequence_begins(kind):
    """Position 0 drops h0 as the reference does given a cache at segment_pos 0 (it multiplies it by a = 0); a state
    without a position begins a sequence when h0 is zero (a fresh run) and continues one (decoding mode) when it is not."""
    import torch
    H, T = 6, 9
    net = reference(H, 1, 7, torch.float64)
    model = loaded(net, "float64", 1)
    plan = KIND.compile(model.layer_params(model.walk()[0]), model.options, np.float64)
    rng = np.random.default_rng(7)
    xs, h0 = rng.standard_normal((T, H)), rng.standard_normal(H)
    x, cache = torch.tensor(xs[None]), torch.tensor(h0[None], dtype=torch.float32)    # its cache is float32
    with torch.no_grad():
        begun, _ = net(x, torch.arange(T)[None], cache=cache)
        continued, _ = net(x, torch.arange(1, T + 1)[None], cache=cache)
    dropped, end = KIND.forward(plan, xs, LayerState(h=h0, more={"position": np.array(0)}))
    fresh = model.run(xs)
    np.testing.assert_array_equal(dropped["h"], fresh.output)
    np.testing.assert_allclose(dropped["h"], begun[0].numpy(), rtol=1e-6, atol=1e-6)   # its accumulator is float32
    np.testing.assert_allclose(model.run(xs, h0=h0).output, continued[0].numpy(), rtol=1e-6, atol=1e-6)
    assert int(end.more["position"]) == T
    for trace in (fresh, dropped):
        np.testing.assert_array_equal(trace["continues"][:, 0], [0.0] + [1.0] * (T - 1))
        np.testing.assert_array_equal(trace["decay_applied"][0], 0.0)
        assert (trace["decay"][0] > 0).all()           # a(t) is the gate's; s(t) = 0 is what drops h(t−1)
        np.testing.assert_array_equal(trace["kept"][0], 0.0)
        np.testing.assert_array_equal(trace["multiplier"][0], 1.0)
    assert (model.run(xs, h0=h0)["decay_applied"][0] > 0).all()


@pytest.mark.parametrize("start", [0, 5])
def test_the_scan_equals_the_step_form_in_float64(kind, start):
    model = cells.build(kind, 4, 6, heads=2, seed=3, dtype="float64")
    p = model.layer_params(model.walk()[0])
    rng = np.random.default_rng(3)
    xs, h0 = rng.standard_normal((300, 4)) * 3, rng.standard_normal(6) * 2     # a signed h0, and signed writes
    plan = KIND.compile(p, model.options, np.float64)
    step, _ = KIND.forward(plan, xs, LayerState(h=h0, more={"position": np.array(start)}))
    assert (step["written"] < 0).any() and (step["written"] > 0).any()
    np.testing.assert_allclose(KIND.scan(p, xs, h0, start=start), step["h"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(KIND.scan(p, xs), model.run(xs).output, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(KIND.scan(p, xs, h0), model.run(xs, h0=h0).output, rtol=1e-6, atol=1e-6)
    batch, H0 = rng.standard_normal((64, 3, 4)), rng.standard_normal((3, 6))    # (T, B, I): a batch scans at once
    out, _, _ = KIND.tape_forward(p, model.options, batch, LayerState(h=H0, more={"position": np.array(start)}))
    np.testing.assert_allclose(KIND.scan(p, batch, H0, start=start), out, rtol=1e-6, atol=1e-6)
    H0[1] = 0.0                                                                 # without a position, each sequence's own h0 says
    out, cache, _ = KIND.tape_forward(p, model.options, batch, LayerState(h=H0))
    assert (cache["continues"][0] == 0).all(axis=-1).tolist() == [False, True, False]
    np.testing.assert_allclose(KIND.scan(p, batch, H0), out, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("start", [0, 3])
def test_every_name_is_what_it_says(kind, start):
    model = cells.build(kind, 3, 6, heads=3, seed=2, dtype="float64")
    p = model.layer_params(model.walk()[0])
    assert model.params.keys() == {n + "_l0" for n in KIND.param_names}
    xs, h0 = np.random.default_rng(0).standard_normal((9, 3)) * 2, np.random.default_rng(1).standard_normal(6)
    if start == 0:
        trace = model.run(xs)
        h0 = np.zeros(6)
    else:  # a run that continues a sequence: a non-zero h0 without a position
        trace = model.run(xs, h0=h0)
    assert list(trace) == list(model.glossary.keys())
    blocks = {"recurrence_gate_pre": ("weight_a", "bias_a"), "input_gate_pre": ("weight_x", "bias_x")}
    for n in model.glossary:
        a = trace[n.name]
        assert a.shape == (9, 3 if n.size == "input_size" else 6) and a.flags.c_contiguous, n.name
        ins = [trace[i] for i in n.operands]
        if n.op in OPS:
            np.testing.assert_allclose(a, OPS[n.op](*ins), rtol=0, atol=1e-12, err_msg=n.name)
        elif n.name == "projection":
            np.testing.assert_allclose(a, xs @ p["weight_ih"].T + p["bias_ih"], rtol=0, atol=1e-12)
        elif n.name in blocks:                 # head k's block reads head k's units of u only
            w, b = p[blocks[n.name][0]], p[blocks[n.name][1]]
            want = np.concatenate([ins[0][:, k:k + 2] @ w[k:k + 2].T for k in range(0, 6, 2)], axis=1) + b
            np.testing.assert_allclose(a, want, rtol=0, atol=1e-12, err_msg=n.name)
        elif n.name == "log_decay":            # −c·softplus(Λ) ⊙ r(t), c = 8
            np.testing.assert_allclose(a, -8 * np.log1p(np.exp(p["weight_lambda"])) * ins[0], rtol=0, atol=1e-12)
        elif n.op == "shift":
            np.testing.assert_array_equal(a[1:], ins[0][:-1])
            np.testing.assert_array_equal(a[0], h0)
        elif n.name == "continues":            # the reference's reset: 0 at a sequence's first step
            np.testing.assert_array_equal(a, np.repeat([[0.0 if start == 0 else 1.0]] + [[1.0]] * 8, 6, axis=1))
        elif n.op == "given":
            np.testing.assert_array_equal(a, xs)
        else:
            raise AssertionError(f"{n.name}: op {n.op} not checked")
        if n.range == "unit":
            assert (a >= 0).all() and (a <= 1).all(), n.name
    np.testing.assert_allclose(trace["decay_applied"] ** 2 + trace["multiplier"] ** 2, 1.0, rtol=0, atol=1e-15)


def test_large_inputs_neither_overflow_nor_warn(kind):
    for dtype in ("float32", "float64"):
        model = cells.build(kind, 5, 4, seed=1, dtype=dtype)
        xs = np.random.default_rng(1).standard_normal((30, 5)) * 1e30
        with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
            warnings.simplefilter("error")
            trace = model.run(xs)
            tape = backprop.forward(model, xs[None])
            grads = backprop.backward(tape, np.ones_like(tape.output))
        assert all(np.isfinite(a).all() for a in trace.values()) and np.isfinite(grads.xs).all()
        assert all(np.isfinite(g).all() for g in grads.params.values())


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


def torch_stack(layers: int, I: int, H: int, heads: int):
    """Per layer: a torch Linear (our projection) and the reference RG-LRU after it, float64."""
    import torch
    out = []
    for k in range(layers):
        torch.manual_seed(20 + k)
        proj = torch.nn.Linear(I if k == 0 else H, H, dtype=torch.float64)
        out.append((proj, reference(H, heads, 30 + k, torch.float64)))
    return out


def our_params(stack, heads: int) -> dict[str, np.ndarray]:
    arrays = {}
    for k, (proj, net) in enumerate(stack):
        params, _ = rglru.from_reference(numpy_state(net), {"width": net.width, "num_heads": heads})
        params |= {"weight_ih_l0": proj.weight.detach().numpy(), "bias_ih_l0": proj.bias.detach().numpy()}
        arrays |= {name.replace("_l0", f"_l{k}"): a for name, a in params.items()}
    return arrays


def check_grads(grads: dict[str, np.ndarray], stack, suffix=lambda k: f"_l{k}"):
    for k, (proj, net) in enumerate(stack):
        H, bw = net.width, net.a_gate.block_width
        want = {"weight_ih": proj.weight.grad, "bias_ih": proj.bias.grad, "weight_lambda": net.a_param.grad,
                "weight_a": net.a_gate.w.grad.transpose(1, 2).reshape(H, bw), "bias_a": net.a_gate.b.grad.reshape(H),
                "weight_x": net.input_gate.w.grad.transpose(1, 2).reshape(H, bw), "bias_x": net.input_gate.b.grad.reshape(H)}
        for name, g in want.items():
            assert rel_err(grads[name + suffix(k)], g.numpy()) <= 1e-9, (name, k)


@pytest.fixture
def float64_reference(monkeypatch):
    """The reference accumulates h in float32 whatever its dtype (rnn_scan's acc_dtype): widened here, for float64 grads."""
    import torch
    layers = reference_layers()
    monkeypatch.setattr(layers, "rnn_scan", partial(layers.rnn_scan, acc_dtype=torch.float64))


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("begins", [True, False])
def test_gradients_equal_torch_autograd(kind, float64_reference, layers, begins):
    """A fresh run (h0 = 0) is the reference from segment_pos 0, whose cache is multiplied by a = 0; a given h0 is its
    decoding mode, segment_pos from 1."""
    import torch
    I, H, heads, B, T = 3, 4, 2, 3, 10
    stack = torch_stack(layers, I, H, heads)
    model = cells.load(our_params(stack, heads), kind, dtype="float64", heads=heads)
    rng = np.random.default_rng(layers)
    xs, h0 = rng.standard_normal((B, T, I)), rng.standard_normal((layers, B, H)) * (not begins)
    R_out, R_h = rng.standard_normal((B, T, H)), rng.standard_normal((layers, B, H))
    x_t, h_t = torch.tensor(xs, requires_grad=True), torch.tensor(h0, requires_grad=True)
    inp, finals = x_t, []
    for k, (proj, net) in enumerate(stack):
        inp, last = net(proj(inp), torch.arange(T).expand(B, T) + (not begins), cache=h_t[k])
        finals.append(last)
    loss = (inp * torch.tensor(R_out)).sum() + (torch.stack(finals) * torch.tensor(R_h)).sum()
    loss.backward()

    tape = backprop.forward(model, xs, h0)
    np.testing.assert_allclose(tape.output, inp.detach().numpy(), rtol=0, atol=1e-12)
    grads = backprop.backward(tape, R_out, R_h)
    check_grads(grads.params, stack)
    assert rel_err(grads.xs, x_t.grad.numpy()) <= 1e-9
    if begins:
        np.testing.assert_array_equal(grads.h0, 0.0)
        np.testing.assert_array_equal(h_t.grad.numpy(), 0.0)
    else:
        assert rel_err(grads.h0, h_t.grad.numpy()) <= 1e-9
    flow = cells.gradient_flow(model, xs[0])
    assert flow.keys() == {"h", "x"} and np.isclose(flow["h"][-1], np.sqrt(H))


def test_gradients_of_a_continued_sequence_equal_torch_autograd(kind, float64_reference):
    """Decoding mode (segment_pos > 0), so h0 matters; half the units have a decay so near 1 that the reference's
    bounded square-root derivative acts (1 − a² < 2.5e-7), and our backward pass bounds it the same way."""
    import torch
    I, H, heads, B, T, start = 3, 6, 3, 2, 8, 4
    (proj, net), = stack = torch_stack(1, I, H, heads)
    with torch.no_grad():
        net.a_param[::2] = -25.0                           # softplus(Λ) ≈ 1.4e-11
    p = {k.removesuffix("_l0"): a for k, a in our_params(stack, heads).items()}
    rng = np.random.default_rng(9)
    X, H0, dY, dH = (rng.standard_normal(s) for s in ((T, B, I), (B, H), (T, B, H), (B, H)))
    x_t, h_t = torch.tensor(X.transpose(1, 0, 2), requires_grad=True), torch.tensor(H0, requires_grad=True)
    y, last = net(proj(x_t), torch.arange(start, start + T).expand(B, T), cache=h_t)
    ((y * torch.tensor(dY.transpose(1, 0, 2))).sum() + (last * torch.tensor(dH)).sum()).backward()

    opts = {"heads": heads}
    out, cache, final = KIND.tape_forward(p, opts, X, LayerState(h=H0, more={"position": np.array(start)}))
    assert (cache["multiplier"][:, :, ::2] ** 2 < 2.5e-7).all()       # 1 − ā²: the bounded √′ is in play
    # 1e-9, not 1e-12: the reference's 1 − exp(2 log a) keeps ~6 digits of 1 − a² ≈ 1e-10; ours is −expm1(2 log a)
    np.testing.assert_allclose(out, y.detach().numpy().transpose(1, 0, 2), rtol=0, atol=1e-9)
    grads, dX, d0, _ = KIND.tape_backward(p, opts, cache, dY, LayerState(h=dH))
    check_grads(grads, stack, suffix=lambda k: "")
    assert rel_err(dX, x_t.grad.numpy().transpose(1, 0, 2)) <= 1e-9
    assert rel_err(d0.h, h_t.grad.numpy()) <= 1e-9 and np.abs(d0.h).min() > 0


def test_build_run_describe_and_stacks(kind, tmp_path):
    xs = np.random.default_rng(4).standard_normal((8, 3))
    for layers, both in ((1, False), (2, True)):
        model = cells.build(kind, 3, 6, num_layers=layers, bidirectional=both, heads=2, seed=4)
        trace = model.run(xs)
        assert trace.kind == kind and trace.output.shape == (8, 6 * (2 if both else 1)) and trace.output.dtype == np.float32
    d = cells.describe(kind)
    json.dumps(d)
    assert d["blocks"] == ["projection"] and d["layouts"] == ["torch"] and not d["has_cell"]
    assert all(e["text"] and e["latex"] for e in d["equations"])
    assert set(KIND.positions(cells.glossary(kind))) == set(cells.glossary(kind).keys())
    roles = KIND.memory_roles(cells.glossary(kind))
    assert {roles["mem"], roles["keep"], roles["write"]} <= set(cells.glossary(kind).keys())
    model.save(tmp_path / "m.safetensors")
    back = cells.load(tmp_path / "m.safetensors")
    assert back.kind == kind and back.config() == model.config()
    assert all(np.array_equal(back.params[n], model.params[n]) for n in model.params)


def test_init_is_the_references(kind):
    model = cells.build(kind, 50, 40, heads=4, seed=0, dtype="float64")
    p = model.layer_params(model.walk()[0])
    rad = np.exp(-np.log1p(np.exp(p["weight_lambda"])))      # exp(−softplus(Λ)): the decay at c·r = 1
    assert (rad >= 0.9 - 1e-9).all() and (rad <= 0.999 + 1e-9).all()
    for name in ("bias_ih", "bias_a", "bias_x"):
        np.testing.assert_array_equal(p[name], 0.0)
    assert p["weight_a"].shape == (40, 10) and abs(p["weight_a"].std() - np.sqrt(1 / 10)) < 0.05
    assert abs(p["weight_ih"].std() - np.sqrt(1 / 50)) < 0.02
    assert KIND.step_macs(50, 40, {"heads": 4}) == 40 * 50 + 2 * 40 * 10


def test_bad_shapes_and_options_are_refused_by_name(kind):
    model = cells.build(kind, 3, 6, heads=2, seed=0)
    with pytest.raises(cells.ShapeError, match=r"xs: expected shape \(T, 3\), got \(5, 4\)"):
        model.run(np.zeros((5, 4)))
    arrays = {k: v.copy() for k, v in model.params.items()}
    arrays["weight_a_l0"] = np.zeros((6, 6), np.float32)
    with pytest.raises(cells.ShapeError, match=r"weight_a_l0: expected shape \(6, 3\), got \(6, 6\)"):
        cells.load(arrays, kind, heads=2)
    with pytest.raises(cells.OptionError, match="heads: got 4; hidden_size 6"):
        cells.build(kind, 3, 6, heads=4)
    state = {"a_param": np.zeros(6), "a_gate.w": np.zeros((2, 3, 3)), "a_gate.b": np.zeros((2, 3)),
             "input_gate.w": np.zeros((3, 2, 2)), "input_gate.b": np.zeros((2, 3))}
    with pytest.raises(cells.ShapeError, match=r"input_gate.w: expected shape \(2, 3, 3\), got \(3, 2, 2\)"):
        rglru.from_reference(state, {"width": 6, "num_heads": 2})
    with pytest.raises(cells.ShapeError, match=r"a_param: expected shape \(8,\), got \(6,\)"):
        rglru.from_reference(state, {"width": 8, "num_heads": 2})


def test_the_diagram_keeps_every_rule_of_the_geometry_tests(kind):
    """Every check of tests/test_diagram_geometry.py that takes a drawn diagram, on this kind's first layout."""
    from tests.test_diagram_geometry import keeps_every_rule
    drawn = cells.diagram(kind)
    assert {n["name"] for n in drawn["nodes"]} == set(cells.glossary(kind).keys())
    assert keeps_every_rule(drawn) >= 10
