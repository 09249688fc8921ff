"""The vocabulary is the page's legend and diagram: check that it tells the truth.

Every name a kind declares must be in its trace, with the width it declares,
and every name computed elementwise (sigmoid, mul, add, ...) must equal that
op applied to the names it says it reads. The diagram draws exactly these
arrows, so a wrong input list would draw a wrong picture.
"""

import json

import numpy as np
import pytest
from cases import CASES, IDS

import cells

OPS = {
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0),
    "identity": lambda a: a,
    "one_minus": lambda a: 1 - a,
    "mul": lambda a, b: a * b,
    "add": lambda a, b: a + b,
}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_name_is_what_it_says(case):
    kind, opts = case
    model = cells.build(kind, 3, 6, seed=2, dtype="float64", **opts)
    trace = model.run(np.random.default_rng(0).standard_normal((9, 3)) * 2)
    vocab = model.vocabulary
    assert list(trace) == list(vocab.keys())
    widths = {"hidden": 6, "input": 3, "proj": model.out_size}
    for n in vocab:
        a = trace[n.name]
        assert a.shape == (9, widths[n.width]), n.name
        assert a.flags.c_contiguous, n.name
        ins = [trace[i] for i in n.inputs]
        if n.op in OPS:
            np.testing.assert_allclose(a, OPS[n.op](*ins), rtol=0, atol=1e-12, err_msg=n.name)
        elif n.op == "clip":
            clip = model.options["cell_clip"]
            np.testing.assert_allclose(a, np.clip(ins[0] + ins[1], -clip, clip), rtol=0, atol=1e-12, err_msg=n.name)
        elif n.op == "shift":  # the previous step's value, the initial state first
            np.testing.assert_array_equal(a[1:], ins[0][:-1], err_msg=n.name)
            np.testing.assert_array_equal(a[0], 0.0, err_msg=n.name)
        if n.range == "unit":
            assert (a >= 0).all() and (a <= 1).all(), n.name
        if n.range == "signed":
            assert (np.abs(a) <= 1).all(), n.name


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_describe_is_plain_data_with_phases_and_equations(case):
    kind, opts = case
    d = cells.describe(kind, **opts)
    json.dumps(d)  # the API sends it as is
    names = [n["name"] for n in d["vocabulary"]["names"]]
    assert {"x", "h_prev", "h"} <= set(names)
    phases = [p["name"] for p in d["vocabulary"]["phases"]]
    assert phases[0] == "inputs" and len(phases) >= 2
    assert all(n["phase"] in phases for n in d["vocabulary"]["names"])
    assert d["equations"] and all(e["text"] and e["latex"] for e in d["equations"])
    assert d["reference"] and d["title"]


def test_phases_follow_the_article():
    """The animation order of the article: forget, input, update, output (LSTM); reset, candidate, update (GRU)."""
    lstm = [p["name"] for p in cells.describe("lstm")["vocabulary"]["phases"]]
    assert lstm == ["inputs", "forget", "input", "update", "output"]
    gru = [p["name"] for p in cells.describe("gru")["vocabulary"]["phases"]]
    assert gru == ["inputs", "reset", "candidate", "update"]


def test_options_change_the_vocabulary():
    assert "exposed" in cells.vocabulary("lstm", proj_size=2) and "exposed" not in cells.vocabulary("lstm")
    assert "reset_hidden" in cells.vocabulary("gru", reset_after=False)
    assert "reset_recurrent" in cells.vocabulary("gru")
    assert "p_f ⊙ c(t−1)" in cells.vocabulary("peephole")["forget_pre"].equation
    assert "c_prev" in cells.vocabulary("peephole")["forget_pre"].inputs
    assert "c" in cells.vocabulary("peephole")["output_pre"].inputs
    assert "input" not in cells.vocabulary("nig") and "tanh_c" not in cells.vocabulary("noaf")
    assert cells.vocabulary("cifg")["forget"].op == "one_minus"
