#!/usr/bin/env python3
"""Generate the framework golden files in tests/golden/ (one .npz per case).

Every number in the golden files comes from the frameworks themselves
(PyTorch, Keras 3, TensorFlow v1 LSTMCell); nothing is derived from our own
equations.  Weights, inputs and initial states are drawn with NumPy from fixed
per-case seeds, loaded into the framework, and the framework's outputs are
saved.  The float32 and float64 variant of a case use the same draws (the
float32 file stores the float32-rounded values actually loaded).

How to run (from the repo root)
-------------------------------
The script generates only the cases whose framework is importable and prints
a "skip" line for the others, so it is run once per interpreter:

    # torch cases (system python, torch 2.13.0 CPU)
    python3 tests/make_golden.py
    # keras + tf1 cases (venv: python3 -m venv /tmp/tfenv &&
    #   /tmp/tfenv/bin/pip install tensorflow-cpu==2.21.0 tf_keras==2.21.0)
    /tmp/tfenv/bin/python tests/make_golden.py

Options: ``--only SUBSTR`` restricts to case names containing SUBSTR;
``--check`` regenerates into a temporary directory and compares byte for byte
with the committed files instead of writing (exit status 1 on mismatch);
``--out DIR`` writes somewhere else.

Versions used to make the committed files
-----------------------------------------
    torch 2.13.0+cpu          (system Python 3.11.7, numpy 2.4.6)
    tensorflow(-cpu) 2.21.0   (/tmp/tfenv, Python 3.11.7, numpy 2.4.6)
    keras 3.15.1              (Keras 3, TensorFlow backend)
    tf_keras 2.21.0           (provides tf.compat.v1.nn.rnn_cell.LSTMCell)

Notes
-----
* With Keras 3 installed, ``tf.compat.v1.nn.rnn_cell.LSTMCell`` raises
  "not available with Keras 3" unless TF_USE_LEGACY_KERAS=1 is set before TF is
  imported; with that variable it is exactly
  ``tf_keras.src.layers.rnn.legacy_cells.LSTMCell``.  We import that class
  directly so that the Keras 3 cases and the tf1 cases can run in the same
  process.  The tf1 sequence outputs come from tf.compat.v1.nn.dynamic_rnn
  (eager); the per-step cell states from calling the cell step by step (the
  two are asserted to agree).
* TF_ENABLE_ONEDNN_OPTS=0 is set (unless already set) before importing
  TensorFlow, to avoid oneDNN-specific rounding.
* Files are written in the exact np.savez layout (uncompressed zip of .npy
  files, no pickles) but with a fixed zip timestamp, so that re-running the
  script reproduces the files byte for byte (np.savez stamps the current time).

File format (cases: TORCH_CASES, KERAS_CASES, TF1_CASES below): ``meta``
(0-d unicode array holding JSON), ``w/<framework weight name>``, ``xs``
(T, input_size), optional ``h0`` / ``c0`` ((num_layers*directions, H)),
``out/output`` (T, D*H_out), ``out/h_n``, ``out/c_n``
((num_layers*directions, H_out / hidden)), optional ``out/c`` (T, hidden) =
cell state after each step.
"""

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile
import zlib

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN_DIR = os.path.join(HERE, "golden")

INPUT_SIZE = 3
W_SCALE = 0.8     # weights  ~ U(-0.8, 0.8)
B_SCALE = 0.5     # biases   ~ U(-0.5, 0.5)
X_SCALE = 1.5     # inputs   ~ U(-1.5, 1.5)
S_SCALE = 0.8     # h0 / c0  ~ U(-0.8, 0.8)

DTYPES = {"f32": np.float32, "f64": np.float64}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def rng_for(name):
    """Per-case generator; same draws for the _f32 and _f64 variants."""
    return np.random.default_rng(zlib.crc32(name.encode()) + 20240601)


def uni(rng, shape, scale):
    return rng.uniform(-1.0, 1.0, size=shape) * scale


def save_npz(path, arrays):
    """np.savez-compatible writer with a fixed timestamp (reproducible bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, mode="w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as zf:
        for key, val in arrays.items():
            val = np.asanyarray(val)
            assert val.dtype != object, key
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fid:
                np.lib.format.write_array(fid, val, allow_pickle=False)
    data = buf.getvalue()
    with open(path, "wb") as f:
        f.write(data)
    # round trip: loadable without pickle, same content
    with np.load(path, allow_pickle=False) as z:
        assert list(z.keys()) == list(arrays.keys())
        for k in arrays:
            np.testing.assert_array_equal(z[k], np.asarray(arrays[k]))
    return len(data)


def make_meta(**kw):
    meta = dict(kw)
    meta["numpy_version"] = np.__version__
    return np.array(json.dumps(meta, sort_keys=True))


def assert_close(a, b, tol, what):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    assert err <= tol, f"{what}: max abs diff {err:.3g} > {tol:.3g}"
    return err


def tol_for(dt):
    return 1e-6 if dt == np.float32 else 1e-12


# --------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------

TORCH_CASES = [
    # name, kind, ctor kwargs, T, nonzero initial state
    ("torch_rnn_tanh", "rnn", dict(hidden_size=4, nonlinearity="tanh"), 8, True),
    ("torch_rnn_relu", "rnn", dict(hidden_size=4, nonlinearity="relu"), 9, False),
    ("torch_rnn_tanh_bidir", "rnn",
     dict(hidden_size=4, nonlinearity="tanh", bidirectional=True), 7, True),
    ("torch_lstm", "lstm", dict(hidden_size=5), 10, True),
    ("torch_lstm_proj", "lstm", dict(hidden_size=5, proj_size=3), 9, True),
    ("torch_lstm_2layer", "lstm", dict(hidden_size=4, num_layers=2), 8, False),
    ("torch_lstm_bidir", "lstm", dict(hidden_size=4, bidirectional=True), 7, False),
    ("torch_lstm_2layer_bidir", "lstm",
     dict(hidden_size=4, num_layers=2, bidirectional=True), 6, True),
    ("torch_gru", "gru", dict(hidden_size=5), 11, False),
    ("torch_gru_2layer_bidir", "gru",
     dict(hidden_size=4, num_layers=2, bidirectional=True), 6, True),
]


def torch_describe(kind, kw, nonzero):
    cls = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[kind]
    args = [str(INPUT_SIZE), str(kw["hidden_size"])]
    for k in ("num_layers", "nonlinearity", "proj_size", "bidirectional"):
        if k in kw:
            args.append(f"{k}={kw[k]!r}")
    st = {"rnn": "h0", "gru": "h0", "lstm": "h0/c0"}[kind]
    return (f"torch.nn.{cls}({', '.join(args)}), batch 1 (batch_first=False), "
            f"{'random' if nonzero else 'zero (omitted)'} {st}")


def run_torch_case(name, kind, kw, T, nonzero, dt):
    import torch
    torch.manual_seed(0)  # only affects the default init, overwritten below
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    H = kw["hidden_size"]
    L = kw.get("num_layers", 1)
    D = 2 if kw.get("bidirectional", False) else 1
    P = kw.get("proj_size", 0)
    Hout = P if P else H
    tdt = torch.float32 if dt == np.float32 else torch.float64

    mod = cls(INPUT_SIZE, **kw).to(tdt)
    rng = rng_for(name)
    weights = {}
    with torch.no_grad():
        for pname, p in mod.named_parameters():
            scale = B_SCALE if pname.startswith("bias") else W_SCALE
            w = uni(rng, tuple(p.shape), scale).astype(dt)
            p.copy_(torch.from_numpy(w))
            weights[pname] = w
    sd_names = list(mod.state_dict().keys())
    assert sd_names == list(weights.keys()), (sd_names, list(weights))

    xs = uni(rng, (T, INPUT_SIZE), X_SCALE).astype(dt)
    h0 = c0 = None
    if nonzero:
        h0 = uni(rng, (L * D, Hout), S_SCALE).astype(dt)
        if kind == "lstm":
            c0 = uni(rng, (L * D, H), S_SCALE).astype(dt)

    x_t = torch.from_numpy(xs)[:, None, :]  # (T, 1, I)
    with torch.no_grad():
        if kind == "lstm":
            if nonzero:
                st = (torch.from_numpy(h0)[:, None, :], torch.from_numpy(c0)[:, None, :])
                out, (hn, cn) = mod(x_t, st)
            else:
                out, (hn, cn) = mod(x_t)
        else:
            if nonzero:
                out, hn = mod(x_t, torch.from_numpy(h0)[:, None, :])
            else:
                out, hn = mod(x_t)
            cn = None

    res = {"out/output": out[:, 0, :].numpy().copy(),
           "out/h_n": hn[:, 0, :].numpy().copy()}
    if cn is not None:
        res["out/c_n"] = cn[:, 0, :].numpy().copy()
    assert res["out/output"].shape == (T, D * Hout)
    assert res["out/h_n"].shape == (L * D, Hout)
    tol = tol_for(dt)

    # per-step cell state for single-layer unidirectional LSTMs
    if kind == "lstm" and L == 1 and D == 1:
        hh = torch.from_numpy(h0) if nonzero else torch.zeros(1, Hout, dtype=tdt)
        cc = torch.from_numpy(c0) if nonzero else torch.zeros(1, H, dtype=tdt)
        cs = []
        with torch.no_grad():
            if not P:
                # nn.LSTMCell loop with the same weights
                cell = torch.nn.LSTMCell(INPUT_SIZE, H).to(tdt)
                for pn in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(cell, pn).copy_(getattr(mod, pn + "_l0"))
                hs = []
                for t in range(T):
                    hh, cc = cell(torch.from_numpy(xs[t:t + 1]), (hh, cc))
                    hs.append(hh[0].numpy().copy())
                    cs.append(cc[0].numpy().copy())
                assert_close(np.array(hs), res["out/output"], 10 * tol,
                             f"{name}: LSTMCell loop h vs nn.LSTM")
            else:
                # LSTMCell has no proj_size: run nn.LSTM on each prefix x[:t+1]
                for t in range(T):
                    st = (hh[:, None, :], cc[:, None, :])
                    o, (hp, cp) = mod(x_t[:t + 1], st)
                    cs.append(cp[0, 0].numpy().copy())
                    assert_close(o[-1, 0].numpy(), res["out/output"][t], 10 * tol,
                                 f"{name}: prefix run h vs full run")
        res["out/c"] = np.array(cs)
        assert_close(res["out/c"][-1], res["out/c_n"][0], 10 * tol, f"{name}: c[-1] vs c_n")

    # GRU: sanity check nn.GRUCell loop against nn.GRU
    if kind == "gru" and L == 1 and D == 1:
        cell = torch.nn.GRUCell(INPUT_SIZE, H).to(tdt)
        with torch.no_grad():
            for pn in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, pn).copy_(getattr(mod, pn + "_l0"))
            hh = torch.from_numpy(h0) if nonzero else torch.zeros(1, H, dtype=tdt)
            hs = []
            for t in range(T):
                hh = cell(torch.from_numpy(xs[t:t + 1]), hh)
                hs.append(hh[0].numpy().copy())
        assert_close(np.array(hs), res["out/output"], 10 * tol, f"{name}: GRUCell loop")

    if kind == "rnn" and kw["nonlinearity"] == "relu":
        o = res["out/output"]
        assert (o == 0).any() and (o > 0).any(), "relu case should hit both regimes"

    options = {}
    if kind == "rnn":
        options["nonlinearity"] = kw["nonlinearity"]
    if P:
        options["proj_size"] = P
    if kind == "gru":
        options["reset_after"] = True
    meta = make_meta(
        framework="torch", framework_version=torch.__version__, kind=kind,
        layout="torch", dtype=np.dtype(dt).name, input_size=INPUT_SIZE,
        hidden_size=H, num_layers=L, bidirectional=D == 2, options=options,
        description=torch_describe(kind, kw, nonzero))
    arrays = {"meta": meta}
    arrays.update({"w/" + k: v for k, v in weights.items()})
    arrays["xs"] = xs
    if h0 is not None:
        arrays["h0"] = h0
    if c0 is not None:
        arrays["c0"] = c0
    arrays.update(res)
    return arrays


# --------------------------------------------------------------------------
# keras (Keras 3, TensorFlow backend)
# --------------------------------------------------------------------------

KERAS_CASES = [
    # name, kind, layer, hidden, T, nonzero initial state, options
    ("keras_lstm", "lstm", "LSTM", 5, 10, True, {}),
    ("keras_gru_reset_after", "gru", "GRU", 4, 9, True, {"reset_after": True}),
    ("keras_gru_reset_before", "gru", "GRU", 4, 8, False, {"reset_after": False}),
    ("keras_simplernn", "rnn", "SimpleRNN", 4, 12, False, {"nonlinearity": "tanh"}),
]


def run_keras_case(name, kind, layer_name, H, T, nonzero, options, dt):
    import keras
    import tensorflow as tf
    kdt = np.dtype(dt).name
    kwargs = dict(return_sequences=True, return_state=True, dtype=kdt)
    if layer_name == "GRU":
        kwargs["reset_after"] = options["reset_after"]
    if layer_name == "SimpleRNN":
        kwargs["activation"] = "tanh"
    layer = getattr(keras.layers, layer_name)(H, **kwargs)
    layer.build((1, T, INPUT_SIZE))
    cell = layer.cell

    rng = rng_for(name)
    weights = {}
    for var in cell.weights:
        vname = var.path.split("/")[-1]
        scale = B_SCALE if vname == "bias" else W_SCALE
        w = uni(rng, tuple(var.shape), scale).astype(dt)
        var.assign(w)
        weights[vname] = w
    assert list(weights) == ["kernel", "recurrent_kernel", "bias"], list(weights)
    G = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    assert weights["kernel"].shape == (INPUT_SIZE, G * H)
    assert weights["recurrent_kernel"].shape == (H, G * H)
    if kind == "gru" and options["reset_after"]:
        assert weights["bias"].shape == (2, 3 * H)
    else:
        assert weights["bias"].shape == (G * H,)

    xs = uni(rng, (T, INPUT_SIZE), X_SCALE).astype(dt)
    h0 = c0 = None
    if nonzero:
        h0 = uni(rng, (1, H), S_SCALE).astype(dt)
        if kind == "lstm":
            c0 = uni(rng, (1, H), S_SCALE).astype(dt)
    init = None
    if nonzero:
        init = [h0, c0] if kind == "lstm" else [h0]

    outs = layer(xs[None], initial_state=init) if init is not None else layer(xs[None])
    outs = [np.asarray(o) for o in outs]
    for o in outs:
        assert o.dtype == dt, (o.dtype, dt)
    res = {"out/output": outs[0][0], "out/h_n": outs[1]}
    if kind == "lstm":
        res["out/c_n"] = outs[2]

    # step the layer's own cell to get the per-step states
    tol = tol_for(dt)
    hh = tf.constant(h0 if nonzero else np.zeros((1, H), dt))
    cc = tf.constant(c0 if c0 is not None else np.zeros((1, H), dt))
    hs, cs = [], []
    for t in range(T):
        x = tf.constant(xs[t:t + 1])
        if kind == "lstm":
            y, (hh, cc) = cell(x, [hh, cc])
            cs.append(np.asarray(cc)[0])
        else:
            y, st = cell(x, [hh])
            hh = st[0] if isinstance(st, (list, tuple)) else st
        hs.append(np.asarray(y)[0])
    assert_close(np.array(hs), res["out/output"], 10 * tol, f"{name}: cell loop vs layer")
    if kind == "lstm":
        res["out/c"] = np.array(cs)
        assert_close(res["out/c"][-1], res["out/c_n"][0], 10 * tol, f"{name}: c[-1] vs c_n")

    desc = {"LSTM": f"keras.layers.LSTM({H})",
            "GRU": f"keras.layers.GRU({H}, reset_after={options.get('reset_after')})",
            "SimpleRNN": f"keras.layers.SimpleRNN({H}, activation='tanh')"}[layer_name]
    st = "h0/c0" if kind == "lstm" else "h0"
    desc += (f", return_sequences=True, return_state=True, dtype={kdt}, batch 1, "
             f"{'random' if nonzero else 'zero (omitted)'} {st} "
             f"(TensorFlow backend {tf.__version__})")
    meta = make_meta(
        framework="keras", framework_version=keras.__version__, kind=kind,
        layout="keras", dtype=kdt, input_size=INPUT_SIZE, hidden_size=H,
        num_layers=1, bidirectional=False, options=options, description=desc)
    arrays = {"meta": meta}
    arrays.update({"w/" + k: v for k, v in weights.items()})
    arrays["xs"] = xs
    if h0 is not None:
        arrays["h0"] = h0
    if c0 is not None:
        arrays["c0"] = c0
    arrays.update(res)
    return arrays


# --------------------------------------------------------------------------
# tf1: tf.compat.v1.nn.rnn_cell.LSTMCell
# --------------------------------------------------------------------------

TF1_CASES = [
    # name, kind, hidden, T, nonzero initial state, cell kwargs
    ("tf1_peephole_clip", "peephole", 4, 12, False,
     dict(use_peepholes=True, cell_clip=3.0, forget_bias=1.0)),
    ("tf1_peephole_fb05", "peephole", 4, 9, True,
     dict(use_peepholes=True, cell_clip=None, forget_bias=0.5)),
    ("tf1_lstm", "lstm", 4, 8, False,
     dict(use_peepholes=False, cell_clip=None, forget_bias=1.0)),
    ("tf1_peephole_proj", "peephole", 5, 10, True,
     dict(use_peepholes=True, cell_clip=None, forget_bias=1.0, num_proj=3)),
]


_REPORTED = set()


def tf1_lstm_cell_class():
    import tensorflow as tf
    try:
        return tf.compat.v1.nn.rnn_cell.LSTMCell  # works with TF_USE_LEGACY_KERAS=1
    except (AttributeError, ImportError):
        from tf_keras.src.layers.rnn import legacy_cells
        return legacy_cells.LSTMCell


def tf1_draw(name, H, P, dt, clip_case):
    rng = rng_for(name)
    Hr = P if P else H
    w = {"kernel": uni(rng, (INPUT_SIZE + Hr, 4 * H), W_SCALE),
         "bias": uni(rng, (4 * H,), B_SCALE)}
    if clip_case:
        # make |c| grow past the clip: input and forget gates mostly open,
        # candidate j strongly driven with a sign fixed by x.
        # candidate j biased positive for unit 0, negative for unit 1.
        w["bias"][0:H] += 2.0           # i
        w["bias"][2 * H:3 * H] += 2.5   # f (plus forget_bias at run time)
        w["bias"][H + 0] += 2.5         # j, unit 0
        w["bias"][H + 1] -= 2.5         # j, unit 1
    return w, rng


def run_tf1_case(name, kind, H, T, nonzero, ckw, dt):
    import warnings

    import tensorflow as tf
    LSTMCell = tf1_lstm_cell_class()
    P = ckw.get("num_proj")
    Hout = P if P else H
    tfdt = tf.float32 if dt == np.float32 else tf.float64
    clip_case = ckw.get("cell_clip") is not None

    base, rng = tf1_draw(name, H, P, dt, clip_case)
    weights = {"kernel": base["kernel"].astype(dt), "bias": base["bias"].astype(dt)}
    if ckw["use_peepholes"]:
        for k in ("w_i_diag", "w_f_diag", "w_o_diag"):
            weights[k] = uni(rng, (H,), W_SCALE)
        if clip_case:
            # keep the forget gate open as |c| grows
            weights["w_f_diag"] = np.abs(weights["w_f_diag"]) * 0.25 * np.array(
                [1.0, -1.0] + [1.0] * (H - 2))
        for k in ("w_i_diag", "w_f_diag", "w_o_diag"):
            weights[k] = weights[k].astype(dt)
    if P:
        weights["projection/kernel"] = uni(rng, (H, P), W_SCALE).astype(dt)
    xs = uni(rng, (T, INPUT_SIZE), X_SCALE).astype(dt)
    h0 = c0 = None
    if nonzero:
        h0 = uni(rng, (1, Hout), S_SCALE).astype(dt)
        c0 = uni(rng, (1, H), S_SCALE).astype(dt)

    def make_cell(cell_clip):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kw = dict(ckw)
            kw["cell_clip"] = cell_clip
            cell = LSTMCell(H, dtype=tfdt, **kw)
        cell.build(tf.TensorShape([1, INPUT_SIZE]))
        got = {}
        for v in cell.variables:
            vname = v.name.split(":")[0].split("/", 1)[1]  # strip "lstm_cell/"
            got[vname] = v
        assert sorted(got) == sorted(weights), (sorted(got), sorted(weights))
        for k, v in got.items():
            assert tuple(v.shape) == weights[k].shape, (k, v.shape, weights[k].shape)
            v.assign(weights[k])
        return cell

    def step(cell):
        if nonzero:
            c, h = tf.constant(c0), tf.constant(h0)
        else:
            c, h = tf.zeros((1, H), tfdt), tf.zeros((1, Hout), tfdt)
        hs, cs = [], []
        state = (c, h)
        for t in range(T):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y, state = cell(tf.constant(xs[t:t + 1]), state)
            hs.append(np.asarray(y)[0])
            cs.append(np.asarray(state[0])[0])
            assert np.array_equal(np.asarray(state[1]), np.asarray(y))
        return np.array(hs), np.array(cs)

    cell = make_cell(ckw.get("cell_clip"))
    # whole sequence through tf.compat.v1.nn.dynamic_rnn (eager), state is (c, h)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {}
        if nonzero:
            st_cls = type(cell.zero_state(1, tfdt))
            kw["initial_state"] = st_cls(tf.constant(c0), tf.constant(h0))
        else:
            kw["dtype"] = tfdt
        out, (cn, hn) = tf.compat.v1.nn.dynamic_rnn(cell, tf.constant(xs[None]), **kw)
    res = {"out/output": np.asarray(out)[0], "out/h_n": np.asarray(hn),
           "out/c_n": np.asarray(cn)}
    assert res["out/output"].dtype == dt
    hs, cs = step(cell)
    tol = tol_for(dt)
    assert_close(hs, res["out/output"], 10 * tol, f"{name}: step loop vs dynamic_rnn")
    assert_close(cs[-1], res["out/c_n"][0], 10 * tol, f"{name}: c[-1] vs c_n")
    res["out/c"] = cs
    assert res["out/h_n"].shape == (1, Hout) and res["out/c_n"].shape == (1, H)

    if clip_case:
        clip = ckw["cell_clip"]
        _, cs_free = step(make_cell(None))
        steps_over = int((np.abs(cs_free) > clip).any(axis=1).sum())
        assert steps_over >= 2, f"{name}: unclipped |c| exceeds {clip} at only {steps_over} steps"
        assert np.max(np.abs(cs)) == np.asarray(clip, dt), "clipped c should saturate"
        assert not np.allclose(hs, step(make_cell(None))[0]), "clip should change h"
        if name + str(dt) not in _REPORTED:
            _REPORTED.add(name + str(dt))
            print(f"  {name} ({np.dtype(dt).name}): unclipped max|c| = {np.max(np.abs(cs_free)):.3f} "
                  f"(> {clip} at {steps_over}/{T} steps)")

    options = {"forget_bias": float(ckw["forget_bias"]),
               "cell_clip": None if ckw.get("cell_clip") is None else float(ckw["cell_clip"])}
    if P:
        options["proj_size"] = int(P)
    desc = (f"tf.compat.v1.nn.rnn_cell.LSTMCell({H}, use_peepholes={ckw['use_peepholes']}, "
            f"cell_clip={ckw.get('cell_clip')}, forget_bias={ckw['forget_bias']}"
            + (f", num_proj={P}" if P else "") +
            f") via tf.compat.v1.nn.dynamic_rnn (eager), batch 1, "
            f"{'random' if nonzero else 'zero'} initial state (c, h); "
            f"cell class from tf_keras {tf1_tf_keras_version()}")
    meta = make_meta(
        framework="tf1", framework_version=tf.__version__, kind=kind, layout="tf1",
        dtype=np.dtype(dt).name, input_size=INPUT_SIZE, hidden_size=H, num_layers=1,
        bidirectional=False, options=options, description=desc)
    arrays = {"meta": meta}
    arrays.update({"w/" + k: v for k, v in weights.items()})
    arrays["xs"] = xs
    if h0 is not None:
        arrays["h0"] = h0
    if c0 is not None:
        arrays["c0"] = c0
    arrays.update(res)
    return arrays


def tf1_tf_keras_version():
    try:
        import tf_keras
        return tf_keras.__version__
    except ImportError:
        return "n/a"


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

def available(mod):
    try:
        __import__(mod)
        return True
    except Exception as e:  # noqa: BLE001
        print(f"skip: cannot import {mod} ({type(e).__name__}: {e})")
        return False


def all_jobs(only):
    """Yield (case name, framework, callable(dtype))."""
    jobs = []
    for (n, kind, kw, T, nz) in TORCH_CASES:
        jobs.append((n, "torch", lambda dt, a=(n, kind, kw, T, nz): run_torch_case(*a, dt)))
    for (n, kind, ln, H, T, nz, opt) in KERAS_CASES:
        jobs.append((n, "keras", lambda dt, a=(n, kind, ln, H, T, nz, opt): run_keras_case(*a, dt)))
    for (n, kind, H, T, nz, ckw) in TF1_CASES:
        jobs.append((n, "tf1", lambda dt, a=(n, kind, H, T, nz, ckw): run_tf1_case(*a, dt)))
    return [j for j in jobs if only is None or only in j[0]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=GOLDEN_DIR)
    ap.add_argument("--only", default=None)
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temp dir and compare with --out byte for byte")
    args = ap.parse_args()

    have = {"torch": available("torch")}
    have_tf = available("tensorflow")
    have["keras"] = have_tf and available("keras") and \
        __import__("keras").__version__.startswith("3")
    if have_tf and not have["keras"]:
        print("skip: keras cases need Keras 3")
    have["tf1"] = False
    if have_tf:
        try:
            tf1_lstm_cell_class()
            have["tf1"] = True
        except Exception as e:  # noqa: BLE001
            print(f"skip: tf1 cases, no LSTMCell ({e}); pip install tf_keras")

    if have["keras"] or have["tf1"]:
        import tensorflow as tf
        tf.get_logger().setLevel("ERROR")

    target = tempfile.mkdtemp(prefix="golden_check_") if args.check else args.out
    os.makedirs(target, exist_ok=True)
    mismatches = 0
    for name, fw, fn in all_jobs(args.only):
        if not have[fw]:
            print(f"skip: {name}_f32/_f64 ({fw} not available)")
            continue
        results = {}
        for suffix, dt in DTYPES.items():
            results[suffix] = fn(dt)
            # determinism within the process: a second run gives identical arrays
            again = fn(dt)
            for k in results[suffix]:
                assert np.array_equal(results[suffix][k], again[k]), f"{name}: {k} not reproducible"
        # float32 vs float64 sanity
        for k in results["f64"]:
            if k.startswith("out/"):
                assert_close(results["f32"][k], results["f64"][k], 1e-5,
                             f"{name}: f32 vs f64 {k}")
        err = max(float(np.max(np.abs(results["f32"][k].astype(np.float64) - results["f64"][k])))
                  for k in results["f64"] if k.startswith("out/"))
        for suffix in DTYPES:
            fname = f"{name}_{suffix}.npz"
            path = os.path.join(target, fname)
            size = save_npz(path, results[suffix])
            status = ""
            if args.check:
                ref = os.path.join(args.out, fname)
                same = os.path.exists(ref) and open(ref, "rb").read() == open(path, "rb").read()
                status = "  identical" if same else "  MISMATCH"
                mismatches += not same
            print(f"wrote {fname:40s} {size:6d} B  (f32-f64 max diff {err:.1e}){status}")
    if args.check:
        shutil.rmtree(target, ignore_errors=True)
        print("check:", "OK" if mismatches == 0 else f"{mismatches} mismatching files")
        return 1 if mismatches else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
