"""minGRU and minLSTM (Feng et al. 2024; cells/kinds/mingru.py, minlstm.py).

Checked: the step form against the
reference implementation (PyPI mingru-pytorch, expansion_factor 1) in float32, both its sequential and its parallel
path; the parallel form (the log-space scan) against the step form in float64; every name of the trace against its
op; the backward pass against torch autograd through the reference's own step; weights read with ``cells.load``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from gatescope.cells import backprop
from gatescope.cells._math import g
from gatescope.cells.kinds import mingru, minlstm

import gatescope
from gatescope import cells

KINDS = {"mingru": mingru.KIND, "minlstm": minlstm.KIND}
#: The reference's Linear, as its state_dict names it.
LINEAR = {"mingru": "to_hidden_and_gate.weight", "minlstm": "to_hidden_and_f_i_gate.weight"}

OPS = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "g": lambda a: np.where(a >= 0, a + 0.5, 1 / (1 + np.exp(-a))),
       "one_minus": lambda a: 1 - a, "mul": lambda a, b: a * b, "div": lambda a, b: a / b, "add": lambda a, b: a + b}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return request.param


def reference(kind: str, dim: int, seed: int, dtype):
    """The reference module, expansion_factor 1 (its to_out is the identity), with its weights drawn from ``seed``."""
    pytest.importorskip("minGRU_pytorch")
    import torch
    from minGRU_pytorch import minGRU
    from minGRU_pytorch.minLSTM import minLSTM
    torch.manual_seed(seed)
    net = (minGRU if kind == "mingru" else minLSTM)(dim, expansion_factor=1.0).to(dtype)
    assert isinstance(net.to_out, torch.nn.Identity)
    return net


def loaded(kind: str, net, dtype: str):
    """Our model of the reference module's weights: its one Linear is weight_ih_l0, blocks in its chunk order."""
    return cells.load({"weight_ih_l0": net.state_dict()[LINEAR[kind]].numpy()}, kind, dtype=dtype)


def test_step_form_equals_the_reference_in_float32(kind):
    import torch
    H, T = 6, 40
    net = reference(kind, H, 0, torch.float32)
    model = loaded(kind, net, "float32")
    assert model.params.keys() == {"weight_ih_l0"} and model.hidden_size == model.input_size == H
    xs = np.random.default_rng(0).standard_normal((T, H)).astype(np.float32) * 2
    with torch.no_grad():
        x = torch.tensor(xs[None])
        parallel = net(x)[0].numpy()                                   # the reference's log-space path, h(0) = 0
        h0 = np.random.default_rng(1).standard_normal(H).astype(np.float32)
        prev, sequential = torch.tensor(h0[None, None]), []
        for t in range(T):                                             # its step path, one token at a time, from h0
            prev = net(x[:, t:t + 1], prev)
            sequential.append(prev[0, 0].numpy())
    ours = model.run(xs).output
    np.testing.assert_allclose(ours, parallel, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.run(xs, h0=h0).output, np.array(sequential), rtol=1e-5, atol=1e-5)


def test_the_references_parallel_path_given_a_state(kind):
    """Given prev_hidden p, the reference's minGRU scan starts from p (its log: p > 0 only); its minLSTM scan starts from
    g(p) where its step path starts from p. Pinned here, so a new version of the reference that changes it is noticed."""
    import torch
    H, T = 5, 12
    net = reference(kind, H, 2, torch.float64)
    model = loaded(kind, net, "float64")
    rng = np.random.default_rng(2)
    xs, p = rng.standard_normal((T, H)), rng.uniform(0.1, 2.0, H)
    with torch.no_grad():
        out = net(torch.tensor(xs[None]), torch.tensor(p[None, None]))[0].numpy()
    start = p if kind == "mingru" else g(p)
    np.testing.assert_allclose(model.run(xs, h0=start).output, out, rtol=0, atol=1e-12)


@pytest.mark.parametrize("h0_sign", ["zero", "signed"])
def test_the_scan_equals_the_step_form_in_float64(kind, h0_sign):
    model = cells.build(kind, 4, 7, seed=3, dtype="float64")
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((300, 4)) * 3
    h0 = np.zeros(7) if h0_sign == "zero" else rng.standard_normal(7) * 2    # the h(0) term is added outside the logs
    step = model.run(xs, h0=h0).output
    scan = model.spec.scan(model.layer_params(model.walk()[0]), xs, h0)
    np.testing.assert_allclose(scan, step, rtol=1e-6, atol=1e-6)
    batch = rng.standard_normal((50, 3, 4))                                   # (T, B, I): a batch scans at once
    tape = backprop.forward(model, batch.transpose(1, 0, 2))
    np.testing.assert_allclose(model.spec.scan(model.layer_params(model.walk()[0]), batch), tape.output.transpose(1, 0, 2),
                               rtol=1e-6, atol=1e-6)


def test_every_name_is_what_it_says(kind):
    model = cells.build(kind, 3, 6, seed=2, dtype="float64")
    assert model.params.keys() == {"weight_ih_l0"}
    assert model.params["weight_ih_l0"].shape == (len(model.spec.blocks) * 6, 3)
    xs = np.random.default_rng(0).standard_normal((9, 3)) * 2
    trace = model.run(xs)
    assert list(trace) == list(model.glossary.keys())
    W = dict(zip(model.spec.blocks, np.split(model.params["weight_ih_l0"], len(model.spec.blocks))))
    for n in model.glossary:
        a = trace[n.name]
        assert a.shape == (9, 3 if n.size == "input_size" else 6) and a.flags.c_contiguous, n.name
        ins = [trace[i] for i in n.operands]
        if n.op in OPS:
            np.testing.assert_allclose(a, OPS[n.op](*ins), rtol=0, atol=1e-12, err_msg=n.name)
        elif n.op == "affine":   # x(t) only: its block of weight_ih, no bias, no h(t−1)
            assert n.operands == ("x",)
            np.testing.assert_allclose(a, xs @ W[n.name.removesuffix("_pre")].T, rtol=0, atol=1e-12, err_msg=n.name)
        elif n.op == "shift":
            np.testing.assert_array_equal(a[1:], ins[0][:-1])
            np.testing.assert_array_equal(a[0], 0.0)
        if n.range == "unit":
            assert (a >= 0).all() and (a <= 1).all(), n.name
    assert (trace["candidate"] > 0).all()                                   # g keeps h~ positive
    if kind == "minlstm":
        np.testing.assert_allclose(trace["forget_share"] + trace["input_share"], 1.0, rtol=0, atol=1e-15)


def test_build_run_describe_and_stacks(kind, tmp_path):
    xs = np.random.default_rng(4).standard_normal((8, 3))
    for layers, both in ((1, False), (2, True)):
        model = cells.build(kind, 3, 5, num_layers=layers, bidirectional=both, seed=4)
        trace = model.run(xs)
        assert trace.kind == kind and trace.output.shape == (8, 5 * (2 if both else 1)) and trace.output.dtype == np.float32
        state, snap = cells.build(kind, 3, 5, seed=4).step(xs[0])
        assert state.h.shape == (1, 5)
    d = cells.describe(kind)
    json.dumps(d)
    assert d["blocks"] == list(KINDS[kind].blocks) and d["layouts"] == ["torch"] and not d["has_cell"]
    assert all(e["text"] and e["latex"] for e in d["equations"])
    model.save(tmp_path / "m.safetensors")
    back = cells.load(tmp_path / "m.safetensors")
    assert back.kind == kind and back.config() == model.config()
    assert all(np.array_equal(back.params[n], model.params[n]) for n in model.params)
    with pytest.raises(cells.OptionError, match="cannot be stored in the keras layout"):
        model.to_arrays("keras")


def test_load_reads_sizes_off_weight_ih_and_refuses_what_does_not_fit(kind):
    G = len(KINDS[kind].blocks)
    model = cells.load({"weight_ih_l0": np.zeros((G * 4, 3), np.float32), "weight_ih_l1": np.zeros((G * 4, 4), np.float32)}, kind)
    assert (model.input_size, model.hidden_size, model.num_layers) == (3, 4, 2)
    with pytest.raises(cells.ShapeError, match=f"stacks {G} gate blocks"):
        cells.load({"weight_ih_l0": np.zeros((G * 4 + 1, 3), np.float32)}, kind)
    with pytest.raises(cells.WeightNameError, match="weight_hh_l0"):   # an LSTM's 4·6 rows would fit; its weight_hh does not
        cells.load({k: np.zeros(s, np.float32) for k, s in cells.build("lstm", 3, 6).expected_shapes().items()}, kind)


def test_clamps_recompute_through_g_and_the_division(kind):
    model = cells.build(kind, 3, 5, seed=5, dtype="float64")
    xs = np.random.default_rng(5).standard_normal((6, 3))
    free = model.run(xs)
    held = model.run(xs, clamp="update:0" if kind == "mingru" else "input:0")   # nothing written: h stays h(0) = 0
    np.testing.assert_array_equal(held.output, 0.0)
    if kind == "minlstm":
        np.testing.assert_array_equal(held["forget_share"], 1.0)
    opened = model.run(xs, clamp="update:1" if kind == "mingru" else "forget:0")  # everything written: h = h~
    np.testing.assert_allclose(opened.output, free["candidate"], rtol=0, atol=1e-15)


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


@pytest.mark.parametrize("layers", [1, 2])
def test_gradients_equal_torch_autograd_through_the_references_step(kind, layers):
    import torch
    H, B, T = 5, 3, 10
    nets = [reference(kind, H, 10 + k, torch.float64) for k in range(layers)]
    arrays = {f"weight_ih_l{k}": net.state_dict()[LINEAR[kind]].numpy() for k, net in enumerate(nets)}
    model = cells.load(arrays, kind, dtype="float64")
    rng = np.random.default_rng(layers)
    xs, h0 = rng.standard_normal((B, T, H)), rng.standard_normal((layers, B, H))
    R_out, R_h = rng.standard_normal((B, T, H)), rng.standard_normal((layers, B, H))

    x_t, h_t = torch.tensor(xs, requires_grad=True), torch.tensor(h0, requires_grad=True)
    inp, finals = x_t, []
    for k, net in enumerate(nets):                     # the reference's step path, token by token, layer on layer
        prev, outs = h_t[k][:, None], []
        for t in range(T):
            prev = net(inp[:, t:t + 1], prev)
            outs.append(prev)
        inp = torch.cat(outs, dim=1)
        finals.append(prev[:, 0])
    loss = (inp * torch.tensor(R_out)).sum() + (torch.stack(finals) * torch.tensor(R_h)).sum()
    loss.backward()

    tape = backprop.forward(model, xs, h0)
    np.testing.assert_allclose(tape.output, inp.detach().numpy(), rtol=0, atol=1e-12)
    grads = backprop.backward(tape, R_out, R_h)
    for k, net in enumerate(nets):
        assert rel_err(grads.params[f"weight_ih_l{k}"], net.get_parameter(LINEAR[kind]).grad.numpy()) <= 1e-9
    assert rel_err(grads.xs, x_t.grad.numpy()) <= 1e-9
    assert rel_err(grads.h0, h_t.grad.numpy()) <= 1e-9
    flow = cells.gradient_flow(model, xs[0])
    assert flow.keys() == {"h", "x"} and np.isclose(flow["h"][-1], np.sqrt(H))


def test_the_diagram_keeps_every_rule_of_the_geometry_tests(kind):
    """Every check of tests/test_diagram_geometry.py that takes a drawn diagram, on this kind's."""
    from tests.test_diagram_geometry import keeps_every_rule
    drawn = cells.diagram(kind)
    assert {n["name"] for n in drawn["nodes"]} == set(cells.glossary(kind).keys())
    assert keeps_every_rule(drawn) >= 10


# -- the reference's own module and files ----------------------------------------------------------

def test_from_torch_reads_the_reference_module_and_gives_its_forward_pass(kind):
    import torch
    net = reference(kind, 7, 3, torch.float32).eval()
    model = gatescope.from_torch(net)
    assert (model.kind, model.input_size, model.hidden_size) == (kind, 7, 7)
    x = torch.randn(1, 30, 7, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        want = net(x)[0].numpy()
    np.testing.assert_allclose(model.run(x[0].numpy()).output, want, rtol=1e-5, atol=1e-6)


def test_a_saved_state_dict_loads_by_the_references_own_names_from_a_file_too(kind, tmp_path):
    import torch
    from safetensors.numpy import save_file
    net = reference(kind, 5, 4, torch.float32)
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    assert set(state) == {LINEAR[kind]}
    prefixed = {f"encoder.rnn.{k}": v for k, v in state.items()}
    for arrays, prefix in ((state, None), (prefixed, None), (prefixed, "encoder.rnn.")):
        save_file(arrays, tmp_path / "ref.safetensors")
        for source in (arrays, tmp_path / "ref.safetensors"):
            model = cells.load(source, prefix=prefix)
            assert model.kind == kind and model.hidden_size == 5
            np.testing.assert_array_equal(model.params["weight_ih_l0"], state[LINEAR[kind]])


def test_a_wider_reference_is_refused_by_the_name_of_what_it_adds(kind):
    import torch
    pytest.importorskip("minGRU_pytorch")
    from minGRU_pytorch import minGRU
    from minGRU_pytorch.minLSTM import minLSTM
    net = (minGRU if kind == "mingru" else minLSTM)(4, expansion_factor=2.0)
    with pytest.raises(cells.CellsError, match=r"to_out\.weight.*expansion_factor"):
        gatescope.from_torch(net)
    with pytest.raises(cells.CellsError, match=r"to_out\.weight.*expansion_factor"):
        cells.load({k: v.numpy() for k, v in net.state_dict().items()})
    assert isinstance(net, torch.nn.Module)


def test_a_bare_weight_ih_that_both_kinds_fit_asks_for_the_kind():
    with pytest.raises(cells.KindNeededError) as e:
        cells.load({"weight_ih_l0": np.zeros((12, 3), np.float32)})   # minGRU of 6 or minLSTM of 4
    assert {"mingru", "minlstm"} <= set(e.value.kinds)   # and any kind registered later with these shapes
