"""mLSTM (cells/kinds/mlstm.py) against the reference: PyPI xlstm, installed --no-deps beside torch; each test skips
without them. The shared helpers (the options, the kind registered for each test, lively weights) are test_mlstm.py's.

Checked: the layer (block=True) read with from_reference + cells.load against the reference's own mLSTMLayer in
float32, its parallel forward and its step path, states included; the cell alone against the reference's backends;
the backward pass against torch autograd through the reference's own step.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
from gatescope.cells.kinds import mlstm
from gatescope.cells.kinds.base import LayerState

# registered: test_mlstm.py's autouse fixture, imported so that it registers the kind for these tests too
from test_mlstm import KIND, OPTIONS, H, I, lively, registered  # noqa: F401

from gatescope import cells


# -- the reference -----------------------------------------------------------------------------------------------------
def reference():
    """torch, when it and the reference (PyPI xlstm, installed --no-deps beside it) are both there; else the test skips."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("xlstm")
    return torch


def reference_layer(T, dtype, seed=0):
    """The reference's mLSTMLayer (embedding 16 -> inner 64, 4 heads of 16), its gates, norm and skip made lively."""
    torch = reference()
    from xlstm.blocks.mlstm.layer import mLSTMLayer, mLSTMLayerConfig
    torch.manual_seed(seed)
    cfg = mLSTMLayerConfig(embedding_dim=16, num_heads=4, context_length=T)
    net = mLSTMLayer(cfg).to(dtype).eval()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.split(".")[-2:][0] in ("igate", "fgate", "outnorm") or name == "learnable_skip":
                p.add_(torch.randn_like(p) * 0.3)
    return net, dataclasses.asdict(cfg)


def ours(net, cfg, dtype):
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    params, opts = KIND.from_reference(state, cfg)
    assert opts == {"block": True, "heads": 4, "conv_kernel": 4, "qkv_blocksize": 4, "proj_size": 16}
    assert KIND.from_reference(state, {})[1] == opts                   # a saved state_dict alone: the weights say the sizes
    assert type(net).__name__ in KIND.reference_classes and KIND.reference_marks <= state.keys()
    return cells.load(params, "mlstm", dtype=dtype, **opts)


def test_the_layer_equals_the_reference_in_float32():
    torch = reference()
    T = 40
    net, cfg = reference_layer(T, torch.float32)
    model = ours(net, cfg, "float32")
    assert (model.input_size, model.hidden_size, model.out_size) == (16, 64, 16)
    xs = np.random.default_rng(0).standard_normal((T, 16)).astype(np.float32)
    with torch.no_grad():
        parallel = net(torch.tensor(xs[None]))[0].numpy()               # parallel_stabilized_simple
        state, stepped = {}, []
        for t in range(T):                                              # the step path: recurrent_step_stabilized_simple
            y, state = net.step(torch.tensor(xs[None, t:t + 1]), **state)
            stepped.append(y[0, 0].numpy())
    trace = model.run(xs)
    assert np.abs(trace.output - parallel).max() < 2e-5 * np.abs(parallel).max()   # the reference's ε = 1e-6: ~1e-6
    np.testing.assert_allclose(trace.output, np.array(stepped), rtol=1e-5, atol=2e-5)
    _, final = KIND.forward(model._plan(0, 0), xs, LayerState(h=np.zeros(16, np.float32)))
    C, n, m = (a[0].numpy() for a in state["mlstm_state"])              # the reference's C is k vᵀ: ours transposed
    np.testing.assert_allclose(final.more["C"].reshape(4, 16, 16), C.transpose(0, 2, 1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(final.more["n"], n.reshape(-1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(final.more["m"], np.repeat(m.reshape(-1), 16), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(final.more["mlstm_input"], state["conv_state"][0][0, 1:].numpy().reshape(-1), rtol=1e-5, atol=1e-6)


def test_the_references_epsilon_is_the_only_difference():
    """In float64, with the reference's ε (1e-6 in the denominator; the paper has none) set to 0, the layers agree exactly."""
    torch = reference()
    from xlstm.blocks.mlstm import backends
    net, cfg = reference_layer(30, torch.float64, seed=1)
    net.mlstm_cell.backend_fn = functools.partial(backends.parallel_stabilized_simple, eps=0.0)
    xs = np.random.default_rng(1).standard_normal((30, 16))
    with torch.no_grad():
        ref = net(torch.tensor(xs[None]))[0].numpy()
    np.testing.assert_allclose(ours(net, cfg, "float64").run(xs).output, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_cell_alone_equals_the_references_backends(dtype):
    """mlstm.memory (the step form) against parallel_stabilized_simple from a fresh state, and against
    recurrent_step_stabilized_simple from a given one, with their ε at 0 (at its default 1e-6 the gap is ε-sized)."""
    torch = reference()
    from xlstm.blocks.mlstm.backends import parallel_stabilized_simple, recurrent_step_stabilized_simple
    B, nh, d, T = 2, 3, 4, 25
    rng, tol = np.random.default_rng(2), (dict(rtol=2e-4, atol=2e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12))
    q, k, v = (rng.standard_normal((T, B, nh * d)).astype(dtype) for _ in range(3))
    ip, fp = (rng.normal(0, 3, (T, B, nh)).astype(dtype) for _ in range(2))
    P = {"heads": nh, "d": d, "unstabilized": False, "log_range": mlstm.LOG_RANGE[np.dtype(dtype)]}
    o = {"query": q, "key": k / np.asarray(math.sqrt(d), dtype), "value": v}
    C0, n0, m0 = rng.normal(0, 1, (B, nh, d, d)).astype(dtype), rng.normal(0, 1, (B, nh, d)).astype(dtype), rng.normal(0, 1, (B, nh)).astype(dtype)
    heads = lambda a: torch.tensor(a.reshape(T, B, nh, -1).transpose(1, 2, 0, 3))     # (B, NH, S, DH)
    fresh = mlstm.memory(P, o, ip, fp, np.zeros_like(C0), np.zeros_like(n0), np.zeros_like(m0))["R"]
    ref = parallel_stabilized_simple(heads(q), heads(k), heads(v), heads(ip), heads(fp), eps=0.0).numpy()
    np.testing.assert_allclose(fresh, ref.transpose(2, 0, 1, 3), **tol)
    ref_eps = parallel_stabilized_simple(heads(q), heads(k), heads(v), heads(ip), heads(fp)).numpy()
    assert np.abs(fresh - ref_eps.transpose(2, 0, 1, 3)).max() < 1e-3 * np.abs(fresh).max()
    c = mlstm.memory(P, o, ip, fp, C0, n0, m0)
    state = (torch.tensor(C0.transpose(0, 1, 3, 2)), torch.tensor(n0[..., None]), torch.tensor(m0[..., None, None]))
    for t in range(T):
        h, state = recurrent_step_stabilized_simple(*state, *(torch.tensor(a[t].reshape(B, nh, 1, -1)) for a in (q, k, v, ip, fp)), eps=0.0)
        np.testing.assert_allclose(c["R"][t], h.numpy()[:, :, 0], **tol)
    np.testing.assert_allclose(c["Cs"][-1], state[0].numpy().transpose(0, 1, 3, 2), **tol)
    np.testing.assert_allclose(c["Ns"][-1], state[1].numpy()[..., 0], **tol)
    np.testing.assert_allclose(c["M"][-1], state[2].numpy()[..., 0, 0], **tol)


# -- the backward pass, against torch autograd through the reference's step --------------------------------------------
def torch_cell(p, X, start, nh):
    """The cell in torch (float64): our q, k, v, gates and output gate, the reference's recurrent step (ε = 0) between."""
    import torch
    from xlstm.blocks.mlstm.backends import recurrent_step_stabilized_simple
    B, T, _ = X.shape
    lin = lambda name, bias=None: X @ p[name].T + (0 if bias is None else p[bias])
    q, k, v, ig, fg = lin("weight_q"), lin("weight_k"), lin("weight_v"), lin("weight_igate", "bias_igate"), lin("weight_fgate", "bias_fgate")
    state, hs = start, []
    for t in range(T):
        h, state = recurrent_step_stabilized_simple(*state, *(a[:, t].reshape(B, nh, 1, -1) for a in (q, k, v, ig, fg)), eps=0.0)
        hs.append(h.reshape(B, H))
    out = torch.sigmoid(lin("weight_ih", "bias_ih")) * torch.stack(hs, 1)
    return (out @ p["weight_hr"].T if "weight_hr" in p else out), state


def torch_layer(net, X, start, K):
    """The reference's layer, token by token through mLSTMLayer.step (ε = 0), from (C, n, m, conv window)."""
    import torch
    from xlstm.blocks.mlstm import backends
    net.mlstm_cell.backend_fn_step = functools.partial(backends.recurrent_step_stabilized_simple, eps=0.0)
    C0, n0, m0, w0 = start
    conv = torch.cat([torch.zeros_like(w0[:, :1]), w0], 1)              # the reference keeps K inputs; the oldest is dropped
    state, ys = {"mlstm_state": (C0, n0, m0), "conv_state": (conv,)}, []
    for t in range(X.shape[1]):
        y, state = net.step(X[:, t:t + 1], mlstm_state=state["mlstm_state"], conv_state=(state["conv_state"][0].clone(),))
        ys.append(y[:, 0])
    C, n, m = state["mlstm_state"]
    return torch.stack(ys, 1), (C, n, m, state["conv_state"][0][:, 1:])


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


@pytest.mark.parametrize("case", ["cell_proj", "layer"])
def test_gradients_equal_torch_autograd_through_the_references_step(case):
    torch = reference()
    B, T, rng = 3, 12, np.random.default_rng(5)
    if case == "layer":
        net, cfg = reference_layer(T, torch.float64, seed=5)
        model, opts = ours(net, cfg, "float64"), {"heads": 4, "block": True}
        nh, d, hid, K, inp = 4, 16, 64, 4, 16
    else:
        opts = OPTIONS["cell_proj"]
        model = lively(cells.build("mlstm", I, H, seed=5, dtype="float64", **opts), seed=5)
        nh, d, hid, K, inp = 2, 4, H, 1, I
    xs = rng.standard_normal((B, T, inp))
    C0, n0, m0, w0 = rng.normal(0, .5, (B, nh, d, d)), rng.normal(0, .5, (B, nh, d)), rng.normal(0, 1, (B, nh)), rng.normal(0, 1, (B, K - 1, hid))
    R_out = rng.standard_normal((B, T, model.out_size))
    R_C, R_n, R_m, R_w = rng.standard_normal(C0.shape), rng.standard_normal(n0.shape), rng.standard_normal(m0.shape), rng.standard_normal(w0.shape)

    leaves = [torch.tensor(a, requires_grad=True) for a in (xs, C0.transpose(0, 1, 3, 2), n0[..., None], m0[..., None, None], w0)]
    x_t, start = leaves[0], leaves[1:4]
    if case == "layer":
        out, (C, n, m, w) = torch_layer(net, x_t, (*start, leaves[4]), K)
        named = dict(net.named_parameters())
    else:
        named = {k.removesuffix("_l0"): torch.tensor(a, requires_grad=True) for k, a in model.params.items()}
        out, (C, n, m) = torch_cell(named, x_t, start, nh)
        w = torch.zeros(B, 0, hid)
    loss = ((out * torch.tensor(R_out)).sum() + (C * torch.tensor(R_C.transpose(0, 1, 3, 2))).sum() + (n[..., 0] * torch.tensor(R_n)).sum()
            + (m[..., 0, 0] * torch.tensor(R_m)).sum() + (w * torch.tensor(R_w)).sum())
    loss.backward()

    p = {k.removesuffix("_l0"): a for k, a in model.params.items()}
    more = {"C": C0.reshape(B, -1), "n": n0.reshape(B, -1), "m": np.repeat(m0, d, axis=-1)} | ({"mlstm_input": w0.reshape(B, -1)} if K > 1 else {})
    Y, cache, final = KIND.tape_forward(p, model.options, np.ascontiguousarray(xs.transpose(1, 0, 2)), LayerState(h=np.zeros((B, 1)), more=more))
    np.testing.assert_allclose(Y.transpose(1, 0, 2), out.detach().numpy(), rtol=1e-10, atol=1e-10)
    dm_end = np.zeros((B, nh, d))
    dm_end[..., 0] = R_m                                                # our m(T) is read from each head's first unit
    dfinal = LayerState(h=np.zeros((B, model.out_size)), more={"C": R_C.reshape(B, -1), "n": R_n.reshape(B, -1), "m": dm_end.reshape(B, -1)}
                        | ({"mlstm_input": R_w.reshape(B, -1)} if K > 1 else {}))
    grads, dX, d0, _ = KIND.tape_backward(p, model.options, cache, np.ascontiguousarray(R_out.transpose(1, 0, 2)), dfinal)
    for name, mine, theirs in reference_grads(case, grads, named, d):
        assert rel_err(mine, theirs) <= 1e-9, name
    assert rel_err(dX.transpose(1, 0, 2), x_t.grad.numpy()) <= 1e-9
    assert rel_err(d0.more["C"].reshape(C0.shape), leaves[1].grad.numpy().transpose(0, 1, 3, 2)) <= 1e-9
    assert rel_err(d0.more["n"].reshape(n0.shape), leaves[2].grad.numpy()[..., 0]) <= 1e-9
    assert rel_err(d0.more["m"].reshape(B, nh, d).sum(-1), leaves[3].grad.numpy()[..., 0, 0]) <= 1e-9
    if K > 1:
        assert rel_err(d0.more["mlstm_input"].reshape(w0.shape), leaves[4].grad.numpy()) <= 1e-9


def reference_grads(case, grads, named, d):
    """(torch's name, our gradient as the torch parameter's, torch's gradient) for every parameter."""
    g = {k: named[k].grad.numpy() for k in named}
    if case != "layer":
        assert grads.keys() == g.keys()
        return [(k, grads[k], g[k]) for k in grads]
    root, H_ = math.sqrt(d), len(grads["weight_up"])
    gate = lambda a: np.concatenate([a[:, :H_], a[:, H_:2 * H_] * root, a[:, 2 * H_:]], axis=1)   # our k columns are theirs / √d
    mine = {"proj_up.weight": np.concatenate([grads["weight_up"], grads["weight_ih"]]), "conv1d.conv.weight": grads["weight_conv"][:, None],
            "conv1d.conv.bias": grads["bias_conv"], "q_proj.weight": grads["weight_q"], "k_proj.weight": grads["weight_k"],
            "v_proj.weight": grads["weight_v"], "mlstm_cell.igate.weight": gate(grads["weight_igate"]),
            "mlstm_cell.fgate.weight": gate(grads["weight_fgate"]), "mlstm_cell.igate.bias": grads["bias_igate"],
            "mlstm_cell.fgate.bias": grads["bias_fgate"], "mlstm_cell.outnorm.weight": grads["weight_norm"],
            "learnable_skip": grads["weight_skip"], "proj_down.weight": grads["weight_hr"]}
    assert mine.keys() == g.keys() and len(grads) == len(mine) + 1
    return [(k, mine[k], g[k]) for k in g]
