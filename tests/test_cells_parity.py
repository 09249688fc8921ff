"""Parity with PyTorch, Keras 3 and TensorFlow v1, from golden files the frameworks made.

tests/make_golden.py made every file in tests/golden/ (it names the framework
versions); no number in them comes from our own equations. Each file holds
the framework's weights in its own layout, the input, the initial state and
the framework's outputs; we load the weights through cells.load with that
layout and compare. Tolerances: 1e-9 in float64, 1e-5 in float32.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from gatescope import cells

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.npz"))
TOL = {"float64": 1e-9, "float32": 1e-5}


def read(path):
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    return json.loads(str(data.pop("meta"))), data


@pytest.fixture(params=GOLDEN, ids=[p.stem for p in GOLDEN])
def golden(request):
    return read(request.param)


def test_golden_files_cover_every_framework_and_dtype():
    metas = [read(p)[0] for p in GOLDEN]
    cases = {(m["framework"], m["kind"], m["dtype"]) for m in metas}
    for framework, kind in [("torch", "rnn"), ("torch", "lstm"), ("torch", "gru"), ("keras", "lstm"), ("keras", "gru"),
                            ("keras", "rnn"), ("tf1", "peephole"), ("tf1", "lstm")]:
        for dtype in ("float32", "float64"):
            assert (framework, kind, dtype) in cases


def test_matches_framework(golden):
    meta, data = golden
    weights = {k[2:]: v for k, v in data.items() if k.startswith("w/")}
    model = cells.load(weights, kind=meta["kind"], layout=meta["layout"], dtype=meta["dtype"], **meta["options"])
    assert model.num_layers == meta["num_layers"]
    assert model.bidirectional == meta["bidirectional"]
    assert model.hidden_size == meta["hidden_size"]
    trace = model.run(data["xs"], h0=data.get("h0"), c0=data.get("c0"))
    tol = TOL[meta["dtype"]]
    assert trace.output.dtype == np.dtype(meta["dtype"])
    np.testing.assert_allclose(trace.output, data["out/output"], rtol=0, atol=tol)
    np.testing.assert_allclose(trace.final.h, data["out/h_n"], rtol=0, atol=tol)
    if "out/c_n" in data:
        np.testing.assert_allclose(trace.final.c, data["out/c_n"], rtol=0, atol=tol)
    if "out/c" in data:
        np.testing.assert_allclose(trace["c"], data["out/c"], rtol=0, atol=tol)


def test_layout_round_trip_is_exact(golden):
    """Reading a layout and writing it back gives the very same arrays."""
    meta, data = golden
    weights = {k[2:]: v for k, v in data.items() if k.startswith("w/")}
    model = cells.load(weights, kind=meta["kind"], layout=meta["layout"], dtype=meta["dtype"], **meta["options"])
    back = model.to_arrays(meta["layout"])
    assert set(back) == set(weights)
    for name, a in weights.items():
        assert back[name].shape == a.shape, name
        np.testing.assert_array_equal(back[name], a.astype(meta["dtype"]), err_msg=name)


def test_clip_case_really_clips():
    meta, data = read(Path(__file__).parent / "golden" / "tf1_peephole_clip_f64.npz")
    clip = meta["options"]["cell_clip"]
    assert np.isclose(np.abs(data["out/c"]).max(), clip)
