"""sLSTM (cells/kinds/slstm.py) against its reference, PyPI xlstm, and torch autograd; each test skips without them.

Checked: the reference's layer (PyPI xlstm, sLSTMLayer with backend="vanilla", conv1d_kernel_size=0) read through
``from_reference`` and ``cells.load`` gives its cell's h and final state and, with its group norm applied, its output,
in float32, heads > 1 included, from an empty and from a given state; the cuda backend's layout read alike; the
reference found by cells.load and gatescope.from_torch; what from_reference refuses; the init against the
reference's defaults; the backward pass against torch autograd through the reference's own cell, and the forms the
reference lacks against autograd through the equations written in torch. The ``kind`` fixture and the helpers
shared with the other tests are tests/test_slstm.py's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gatescope.cells.kinds import slstm
from gatescope.cells.kinds._slstm_reference import compact_recurrent
from gatescope.cells.kinds.base import LayerState
from test_slstm import kind as kind  # the fixture: registers the kind for the test
from test_slstm import model_with_recurrence, rel_err, run_layer

from gatescope import cells


# -- the reference -----------------------------------------------------------------------------------------------------
def reference_layer(H: int, heads: int, seed: int, **config):
    """The reference's sLSTMLayer (vanilla backend), with R, b and the group norm's weight drawn so nothing is trivial."""
    pytest.importorskip("torch")
    pytest.importorskip("xlstm")
    import torch
    from xlstm.blocks.slstm.layer import sLSTMLayer, sLSTMLayerConfig
    torch.manual_seed(seed)
    cfg = sLSTMLayerConfig(embedding_dim=H, num_heads=heads, conv1d_kernel_size=0, backend="vanilla",
                           recurrent_weight_init="standard", **config)
    net = sLSTMLayer(cfg)
    with torch.no_grad():
        net.slstm_cell._bias_.copy_(torch.randn(4 * H) * 2)
        net.slstm_cell._bias_[:H] -= 3.0                                  # ĩ below f̃′ for some units: the first step's rule binds
        net.slstm_cell._recurrent_kernel_.mul_(4)
        for gate in (net.igate, net.fgate, net.zgate, net.ogate):
            gate.weight.mul_(3)
        net.group_norm.weight.copy_(torch.randn(H) * 0.3)
    return net, cfg


def state_dict(net) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


def group_norm(h: np.ndarray, heads: int, weight: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """The layer's MultiHeadLayerNorm: each head's units normalized, then scaled by 1 + weight."""
    T, H = h.shape
    g = h.reshape(T, heads, H // heads).astype(np.float64)
    g = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)
    return g.reshape(T, H) * (1.0 + weight)


@pytest.mark.parametrize("heads", [1, 2, 4])
@pytest.mark.parametrize("start", ["empty", "given", "given_n_zero"])
def test_the_references_layer_in_float32(kind, heads, start):
    """Our h and final (h, c, n, m) equal its cell's; its output equals its group norm of our h. "given_n_zero" is a state
    with n = 0 but c, h, m not: the reference's first-step rule (m = ĩ, f clipped at 1) on a nonzero c(t−1)."""
    torch = pytest.importorskip("torch")
    H, T = 8, 40
    net, cfg = reference_layer(H, heads, seed=heads)
    params, opts = slstm.from_reference(state_dict(net), dataclasses.asdict(cfg))
    model = cells.load(params, kind, dtype="float32", **opts)
    assert model.options == {"heads": heads, "forget": "sigmoid", "unstabilized": False} and model.input_size == H
    rng = np.random.default_rng(heads)
    xs = (rng.standard_normal((T, H)) * 2).astype(np.float32)
    h0, c0, m0 = (rng.standard_normal(H).astype(np.float32) for _ in range(3))
    n0 = {"empty": np.zeros(H), "given": rng.uniform(0.5, 3.0, H), "given_n_zero": np.zeros(H)}[start].astype(np.float32)
    if start == "empty":
        h0, c0, m0 = (np.zeros(H, np.float32) for _ in range(3))
    caught = {}
    net.slstm_cell.register_forward_hook(lambda module, args, out: caught.update(y=out[0], state=out[1]))
    with torch.no_grad():
        ref_state = torch.tensor(np.stack([h0, c0, n0, m0])[:, None])          # (4, B, H): y, c, n, m
        out = net(torch.tensor(xs[None]), slstm_state=ref_state)[0].numpy()
    y = caught["y"][0].transpose(0, 1).reshape(T, H).numpy()                    # (B, heads, T, d) -> (T, H)
    trace, final = run_layer(model, xs, LayerState(h=h0, c=c0, more={"n": n0, "m": m0}))
    np.testing.assert_allclose(trace["h"], y, rtol=0, atol=2e-6)
    for ours, theirs in zip((final.h, final.c, final.more["n"], final.more["m"]), caught["state"][:, 0].numpy()):
        np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(group_norm(trace["h"], heads, state_dict(net)["group_norm.weight"]), out, rtol=0, atol=2e-5)
    if start == "empty":                                                        # model.run starts from the same state
        np.testing.assert_array_equal(model.run(xs).output, trace["h"])
    if start != "given":                                                         # the cap was exercised
        assert (trace["forget_carried"][0] < trace["log_forget"][0] + trace["m_prev"][0]).any()


def test_from_reference_reads_the_cuda_layout_alike():
    """The cuda backend stores R as (heads, d, 4d) and b head-major; the same cell's weights read the same, the layout
    told by R's shape when no config says it (a saved state_dict)."""
    pytest.importorskip("xlstm")
    import torch
    from xlstm.blocks.slstm.cell import sLSTMCell_cuda
    net, cfg = reference_layer(8, 2, seed=7)
    vanilla = net.slstm_cell
    cuda = sLSTMCell_cuda(dataclasses.replace(vanilla.config, backend="cuda"), skip_backend_init=True)
    with torch.no_grad():
        cuda._recurrent_kernel_.copy_(cuda._recurrent_kernel_ext2int(vanilla._recurrent_kernel_int2ext(vanilla._recurrent_kernel_)))
        cuda._bias_.copy_(cuda._bias_ext2int(vanilla._bias_int2ext(vanilla._bias_)))
    sd = state_dict(net)
    assert sd["slstm_cell._recurrent_kernel_"].shape != cuda._recurrent_kernel_.shape       # the layouts differ
    as_cuda = {**sd, "slstm_cell._recurrent_kernel_": cuda._recurrent_kernel_.detach().numpy(),
               "slstm_cell._bias_": cuda._bias_.detach().numpy()}
    ours, opts = slstm.from_reference(sd, dataclasses.asdict(cfg))
    for state, config in ((as_cuda, {**dataclasses.asdict(cfg), "backend": "cuda"}), (as_cuda, {}), (sd, {})):
        theirs, their_opts = slstm.from_reference(state, config)
        assert their_opts == opts
        for name in ours:
            np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    with pytest.raises(cells.CellsError, match="is the cuda backend's, but the config says 'vanilla'"):
        slstm.from_reference(as_cuda, dataclasses.asdict(cfg))


def test_the_reference_is_read_by_load_and_from_torch(kind):
    """cells.load knows a saved state_dict by its names (Kind.reference_marks), prefixed or not; gatescope.from_torch a
    live sLSTMLayer by its class (Kind.reference_classes), its config read from the module."""
    import gatescope
    net, cfg = reference_layer(8, 4, seed=3)
    xs = np.random.default_rng(3).standard_normal((12, 8)).astype(np.float32)
    params, opts = slstm.from_reference(state_dict(net), dataclasses.asdict(cfg))
    want = cells.load(params, kind, **opts).run(xs).output
    for arrays in (state_dict(net), {f"blocks.0.layer.{k}": v for k, v in state_dict(net).items()}):
        model = cells.load(arrays)
        assert model.kind == kind and model.options["heads"] == 4
        np.testing.assert_array_equal(model.run(xs).output, want)
    live = gatescope.from_torch(net)
    assert live.kind == kind and live.options["heads"] == 4
    np.testing.assert_array_equal(live.run(xs).output, want)


def test_from_reference_refuses_what_the_kind_does_not_compute():
    pytest.importorskip("xlstm")
    net, cfg = reference_layer(8, 2, seed=1)
    with pytest.raises(cells.OptionError, match="conv1d_kernel_size: got 4"):
        slstm.from_reference(state_dict(net), {**dataclasses.asdict(cfg), "conv1d_kernel_size": 4})
    from xlstm.blocks.slstm.layer import sLSTMLayer
    with_conv = sLSTMLayer(dataclasses.replace(cfg, conv1d_kernel_size=4))             # a saved one: its conv1d's weights say it
    with pytest.raises(cells.OptionError, match="conv1d_kernel_size: got a conv1d"):
        slstm.from_reference(state_dict(with_conv), {})
    bent = {**state_dict(net), "slstm_cell._recurrent_kernel_": np.zeros((2, 4, 4))}
    with pytest.raises(cells.ShapeError, match=r"slstm_cell._recurrent_kernel_: expected shape \(2, 16, 4\), got \(2, 4, 4\)"):
        slstm.from_reference(bent, {})
    with pytest.raises(cells.CellsError, match="slstm_cell._bias_"):
        slstm.from_reference({k: v for k, v in state_dict(net).items() if "bias" not in k}, dataclasses.asdict(cfg))


def test_init_params_are_the_references_defaults(kind):
    """b: the reference's powerlaw_blockdependent f̃ ramp in each head, zeros elsewhere; W: its small init; R: its
    recurrent_weight_init="standard", U(±1/√H) (its default, zeros, would leave h(t−1) without effect)."""
    pytest.importorskip("xlstm")
    from xlstm.blocks.slstm.layer import sLSTMLayer, sLSTMLayerConfig
    H, heads = 16, 4
    fresh = sLSTMLayer(sLSTMLayerConfig(embedding_dim=H, num_heads=heads, conv1d_kernel_size=0, backend="vanilla"))
    theirs, _ = slstm.from_reference(state_dict(fresh), {"embedding_dim": H, "num_heads": heads, "backend": "vanilla"})
    model = cells.build(kind, 256, H, heads=heads, seed=3, dtype="float64")
    np.testing.assert_allclose(model.params["bias_l0"], theirs["bias_l0"], rtol=0, atol=1e-6)
    R, bound = model.params["weight_hh_l0"], 1 / np.sqrt(H)
    assert np.abs(R).max() <= bound and R.std() == pytest.approx(bound / np.sqrt(3), rel=0.15)
    assert model.params["weight_ih_l0"].std() == pytest.approx(np.sqrt(2 / (5 * 256)), rel=0.02)
    one_unit_heads = cells.build(kind, 3, 4, heads=4)                  # d = 1: the reference would divide by zero
    assert np.isfinite(one_unit_heads.params["bias_l0"]).all()


# -- the backward pass against torch autograd --------------------------------------------------------------------------
def cell_weights(R: np.ndarray, b: np.ndarray, heads: int):
    """Our weight_hh and bias (and options) from a vanilla sLSTMCell's internal R and b, through from_reference."""
    H = b.size // 4
    zero = np.zeros((heads, H // heads, H // heads))
    return slstm.from_reference({**{f"{g}gate.weight": zero for g in "fizo"}, "slstm_cell._recurrent_kernel_": R,
                                 "slstm_cell._bias_": b}, {"embedding_dim": H, "num_heads": heads, "backend": "vanilla"})


@pytest.mark.parametrize("heads", [1, 3])
@pytest.mark.parametrize("start", ["empty", "given"])
def test_gradients_equal_torch_autograd_through_the_references_cell(kind, heads, start):
    """Our W (dense) feeding the reference's own vanilla sLSTMCell in float64; a loss on every h and the final state."""
    pytest.importorskip("xlstm")
    import torch
    from xlstm.blocks.slstm.cell import sLSTMCell, sLSTMCellConfig
    H, I, B, T = 6, 4, 3, 9
    torch.manual_seed(heads)
    cell = sLSTMCell(sLSTMCellConfig(hidden_size=H, num_heads=heads, backend="vanilla", recurrent_weight_init="standard")).double()
    with torch.no_grad():
        cell._bias_.copy_(torch.randn(4 * H, dtype=torch.float64) * 2)
        cell._recurrent_kernel_.mul_(4)
    rng = np.random.default_rng(heads)
    W = rng.standard_normal((4 * H, I))
    xs = rng.standard_normal((B, T, I))
    h0, c0, m0 = (rng.standard_normal((B, H)) for _ in range(3))
    n0 = rng.uniform(0.5, 2.0, (B, H)) if start == "given" else np.zeros((B, H))
    if start == "empty":
        c0, m0 = np.zeros((B, H)), np.zeros((B, H))
    R_out = rng.standard_normal((B, T, H))
    R_final = rng.standard_normal((4, B, H))

    W_t, x_t = torch.tensor(W, requires_grad=True), torch.tensor(xs, requires_grad=True)
    s_t = torch.tensor(np.stack([h0, c0, n0, m0]), requires_grad=True)
    y, final = cell(x_t @ W_t.T, s_t)
    y = y.transpose(1, 2).reshape(B, T, H)
    loss = (y * torch.tensor(R_out)).sum() + (final * torch.tensor(R_final)).sum()
    loss.backward()

    params, opts = cell_weights(cell._recurrent_kernel_.detach().numpy(), cell._bias_.detach().numpy(), heads)
    p = {"weight_ih": W, "weight_hh": params["weight_hh_l0"], "bias": params["bias_l0"]}
    X = xs.transpose(1, 0, 2)
    out, cache, last = slstm.KIND.tape_forward(p, opts, X, LayerState(h=h0, c=c0, more={"n": n0, "m": m0}))
    np.testing.assert_allclose(out.transpose(1, 0, 2), y.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.stack([last.h, last.c, last.more["n"], last.more["m"]]), final.detach().numpy(), rtol=0, atol=1e-12)
    dfinal = LayerState(h=R_final[0], c=R_final[1], more={"n": R_final[2], "m": R_final[3]})
    grads, dX, d0, _ = slstm.KIND.tape_backward(p, opts, cache, R_out.transpose(1, 0, 2), dfinal)
    theirs, _ = cell_weights(cell._recurrent_kernel_.grad.numpy(), cell._bias_.grad.numpy(), heads)   # a linear map
    assert rel_err(grads["weight_ih"], W_t.grad.numpy()) <= 1e-9
    assert rel_err(grads["weight_hh"], theirs["weight_hh_l0"]) <= 1e-9
    assert rel_err(grads["bias"], theirs["bias_l0"]) <= 1e-9
    assert rel_err(dX.transpose(1, 0, 2), x_t.grad.numpy()) <= 1e-9
    ds = s_t.grad.numpy()
    for ours, theirs_, name in ((d0.h, ds[0], "h0"), (d0.c, ds[1], "c0"), (d0.more["n"], ds[2], "n0"), (d0.more["m"], ds[3], "m0")):
        if np.linalg.norm(theirs_) == 0:
            np.testing.assert_allclose(ours, 0.0, rtol=0, atol=1e-12, err_msg=name)
        else:
            assert rel_err(ours, theirs_) <= 1e-9, name


@pytest.mark.parametrize("opts", [{"forget": "exp"}, {"unstabilized": True}, {"unstabilized": True, "forget": "exp"}],
                         ids=["exp", "unstabilized", "unstabilized-exp"])
def test_gradients_of_the_other_forms_equal_torch_autograd(kind, opts):
    """The forms the reference lacks, against autograd through the module docstring's equations written in torch."""
    torch = pytest.importorskip("torch")
    model = model_with_recurrence(H=6, I=3, heads=2, **opts)
    p = {k.removesuffix("_l0"): v for k, v in model.params.items()}
    rng = np.random.default_rng(12)
    B, T, H = 2, 8, 6
    xs, h0, c0 = rng.standard_normal((B, T, 3)), rng.uniform(-1, 1, (B, H)), rng.standard_normal((B, H))
    n0, m0 = rng.uniform(0.5, 2, (B, H)), rng.standard_normal((B, H))
    R_out = rng.standard_normal((B, T, H))
    stable, exp_forget = not model.options["unstabilized"], model.options["forget"] == "exp"
    t = {k: torch.tensor(v, requires_grad=True) for k, v in
         {"W": p["weight_ih"], "R": slstm.dense_recurrent(p["weight_hh"], 2), "b": p["bias"], "x": xs, "h": h0, "c": c0, "n": n0, "m": m0}.items()}
    h, c, n, m, ys = t["h"], t["c"], t["n"], t["m"], []
    for k in range(T):
        ip, fp, zp, op = (t["x"][:, k] @ t["W"].T + h @ t["R"].T + t["b"]).split(H, dim=-1)
        if stable:
            lf = fp if exp_forget else torch.nn.functional.logsigmoid(fp)
            m_new = torch.maximum(lf + m, ip)
            i, f, m = torch.exp(ip - m_new), torch.exp(lf + m - m_new), m_new
        else:
            i, f = torch.exp(ip), torch.exp(fp) if exp_forget else torch.sigmoid(fp)
        c, n = f * c + i * torch.tanh(zp), f * n + i
        h = torch.sigmoid(op) * c / n
        ys.append(h)
    (torch.stack(ys, 1) * torch.tensor(R_out)).sum().backward()
    state = LayerState(h=h0, c=c0, more={"n": n0, "m": m0} if stable else {"n": n0})
    out, cache, _ = slstm.KIND.tape_forward(p, model.options, xs.transpose(1, 0, 2), state)
    np.testing.assert_allclose(out.transpose(1, 0, 2), torch.stack(ys, 1).detach().numpy(), rtol=0, atol=1e-12)
    grads, dX, d0, _ = slstm.KIND.tape_backward(p, model.options, cache, R_out.transpose(1, 0, 2), None)
    assert rel_err(grads["weight_ih"], t["W"].grad.numpy()) <= 1e-9
    assert rel_err(grads["weight_hh"], compact_recurrent(t["R"].grad.numpy(), 2)) <= 1e-9
    assert rel_err(grads["bias"], t["b"].grad.numpy()) <= 1e-9
    assert rel_err(dX.transpose(1, 0, 2), t["x"].grad.numpy()) <= 1e-9
    for name in ("h", "c", "n") + (("m",) if stable else ()):
        ours = d0.h if name == "h" else d0.c if name == "c" else d0.more[name]
        if name == "m":
            np.testing.assert_allclose(ours, t["m"].grad.numpy(), rtol=0, atol=1e-9)   # m cancels in h: its adjoint is ~0
        else:
            assert rel_err(ours, t[name].grad.numpy()) <= 1e-9, name
