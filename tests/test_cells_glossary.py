"""The glossary is the page's legend and diagram: check that it tells the truth.

Every name a kind declares must be in its trace, with the width it declares,
and every name computed elementwise (sigmoid, mul, add, ...) must equal that
op applied to the names it says it reads. The diagram draws exactly these
arrows, so a wrong input list would draw a wrong picture.
"""

import json

import numpy as np
import pytest
from cases import CASES, IDS

from gatescope import cells

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
    glossary = model.glossary
    assert list(trace) == list(glossary.keys())
    sizes = model.spec.sizes(3, 6, model.options)
    assert sizes["hidden_size"] == 6 and sizes["input_size"] == 3 and sizes["proj_size"] == model.out_size
    for n in glossary:
        a = trace[n.name]
        assert a.shape == (9, sizes[n.size]), n.name
        assert a.flags.c_contiguous, n.name
        ins = [trace[i] for i in n.operands]
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
    names = [n["name"] for n in d["glossary"]["names"]]
    assert {"x", "h"} <= set(names)
    assert "h_prev" in names or any(n["role"] == "state_in" for n in d["glossary"]["names"])   # Mamba carries s, not h
    phases = [p["name"] for p in d["glossary"]["phases"]]
    assert phases[0] == "given" and len(phases) >= 2
    assert all(n["phase"] in phases for n in d["glossary"]["names"])
    assert d["equations"] and all(e["text"] and e["latex"] for e in d["equations"])
    assert d["reference"] and d["title"]


def test_phases_follow_the_article():
    """The animation order of the article: forget, input, update, output (LSTM); reset, candidate, update (GRU)."""
    lstm = [p["name"] for p in cells.describe("lstm")["glossary"]["phases"]]
    assert lstm == ["given", "forget", "write", "update", "output"]
    gru = [p["name"] for p in cells.describe("gru")["glossary"]["phases"]]
    assert gru == ["given", "reset", "candidate", "update"]


def test_options_change_the_glossary():
    assert "exposed" in cells.glossary("lstm", proj_size=2) and "exposed" not in cells.glossary("lstm")
    assert "reset_hidden" in cells.glossary("gru", reset_after=False)
    assert "reset_recurrent" in cells.glossary("gru")
    assert "p_f ⊙ c(t−1)" in cells.glossary("peephole")["forget_gate_pre"].equation
    assert "c_prev" in cells.glossary("peephole")["forget_gate_pre"].operands
    assert "c" in cells.glossary("peephole")["output_gate_pre"].operands
    assert "input_gate" not in cells.glossary("nig") and "tanh_c" not in cells.glossary("noaf")
    assert cells.glossary("cifg")["forget_gate"].op == "one_minus"


def test_old_spellings_are_read_as_todays_names():
    lstm, gru, fgr = cells.glossary("lstm"), cells.glossary("gru"), cells.glossary("fgr")
    assert lstm.lookup("forget") == "forget_gate" and lstm.lookup("input_pre") == "input_gate_pre" and lstm.lookup("c") == "c"
    assert gru.lookup("update") == "update_gate" and gru.lookup("forget") is None and lstm.lookup("nonsense") is None
    assert fgr.lookup("output_prev") == "output_gate_prev"
    assert set(lstm.renamed.values()) <= set(lstm.keys()) and not set(lstm.renamed) & set(lstm.keys())
