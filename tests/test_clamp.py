"""What-if clamps (cells.clamp): the text reads back as written, bad text is refused naming the part, the value and the
limit, and a clamped run is the model's math with the held values in it, for every kind and option (tests/cases.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from cases import CASES, HIDDEN_MIN, IDS
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cells_equations import evaluate, parse, tokens, weights

from gatescope import cells
from gatescope.cells.clamp import MAX_HOLDS, MAX_INDEX, MAX_TEXT, Clamp, ClampError, Hold, clampable

RNG = np.random.default_rng(7)
XS = RNG.standard_normal((12, 3)) * 1.5


def build(kind, opts=None, dtype="float64", **kw):
    return cells.build(kind, 3, max(5, HIDDEN_MIN), seed=4, dtype=dtype, **(opts or {}), **kw)


def mid(name_range: str) -> float:
    return {"unit": 0.75, "signed": -0.5, "real": 1.25}[name_range]


# -- the text -------------------------------------------------------------------------

@pytest.mark.parametrize("text, canonical", [
    ("forget:1", "forget:1"),
    ("input[3]:0@10-", "input[3]:0@10-"),
    (" forget_gate:1 ; input[5,0,2-3,1]:0.5@3-7 ", "forget_gate:1;input[0-3,5]:0.5@3-7"),
    ("l1.c[2]:-0.25@5", "l1.c[2]:-0.25@5"),
    ("h:1e-3@4-4", "h:0.001@4"),
    ("update:+.5", "update:0.5"),
])
def test_the_text_reads_back_as_the_same_clamp(text, canonical):
    c = Clamp.parse(text)
    assert str(c) == canonical
    assert Clamp.parse(str(c)) == c


holds = st.builds(
    Hold,
    name=st.sampled_from(["forget", "input_gate", "c", "h", "update", "candidate"]),
    value=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    units=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 5)), max_size=4).map(
        lambda spans: Clamp.parse("x[" + ",".join(f"{a}-{a + n}" for a, n in spans) + "]:0").holds[0].units if spans else ()),
    steps=st.one_of(st.none(), st.tuples(st.integers(0, 99), st.one_of(st.none(), st.integers(0, 50))).map(
        lambda s: (s[0], None if s[1] is None else s[0] + s[1]))),
    layer=st.one_of(st.none(), st.integers(0, 3)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(holds, min_size=1, max_size=MAX_HOLDS))
def test_any_clamp_round_trips_through_its_text(hs):
    c = Clamp(tuple(hs))
    assert Clamp.parse(str(c)) == c


@pytest.mark.parametrize("text, words", [
    (";;", ["empty hold"]),
    ("forget:1;", ["empty hold"]),
    ("forget", ["name[units]:value@steps"]),
    ("forget:", ["value ''", "finite"]),
    ("forget:nan", ["'nan'", "finite"]),
    ("forget:inf", ["'inf'", "finite"]),
    ("forget:1e400", ["'1e400'", "finite"]),
    ("forget:１", ["finite"]),                    # a full-width digit is not ASCII
    ("ｆorget:1", ["name[units]:value@steps"]),
    ("forget[1000000000]:1", ["unit 1000000000", f"limit of {MAX_INDEX}"]),
    ("forget:1@1000000000-", ["step 1000000000", f"limit of {MAX_INDEX}"]),
    ("forget[5-2]:1", ["downwards", "2-5"]),
    ("forget[]:1", ["units ''"]),
    ("forget[2-]:1", ["units '2-'"]),
    ("forget:1@-3", ["steps '-3'"]),
    ("forget:1@3-7-9", ["steps '3-7-9'"]),
    ("l.forget:1", ["name[units]:value@steps"]),
    ("x" * (MAX_TEXT + 1), [f"{MAX_TEXT + 1} characters", f"limit of {MAX_TEXT}"]),
    (";".join(["forget:1"] * (MAX_HOLDS + 1)), [f"{MAX_HOLDS + 1} holds", f"limit of {MAX_HOLDS}"]),
])
def test_bad_text_is_refused_naming_the_part(text, words):
    with pytest.raises(ClampError) as e:
        Clamp.parse(text)
    assert isinstance(e.value, cells.CellsError) and str(e.value).startswith("clamp")
    for w in words:
        assert w in str(e.value)


def test_empty_text_is_no_clamp():
    assert not Clamp.parse("") and not Clamp.parse("  ") and str(Clamp.parse("")) == ""


@pytest.mark.parametrize("kind, text, words", [
    ("lstm", "forgt:1", ["'forgt:1'", "no gate or state 'forgt' in lstm", "clampable: forget_gate, input_gate, candidate, c, output_gate, h"]),
    ("lstm", "forget:1.5", ["value 1.5", "forget_gate's range [0, 1]"]),
    ("lstm", "candidate:-2", ["value -2", "candidate's range [-1, 1]"]),
    ("lstm", "forget[5]:1", ["unit 5", "5 units (0-4)"]),
    ("lstm", "l1.forget:1", ["layer 1 does not exist", "1 layer(s)"]),
    ("lstm", "forget_gate_pre:0", ["forget_gate_pre cannot be held", "pre-activation", "clampable: forget_gate"]),
    ("lstm", "x:0", ["x cannot be held"]),
    ("lstm", "c_prev:0", ["c_prev cannot be held"]),
    ("rnn", "forget:1", ["no gate or state 'forget' in rnn", "clampable: h"]),
    ("gru", "forget:1", ["clampable: reset_gate, candidate, update_gate, h"]),
    ("gru", "update_complement:1", ["update_complement cannot be held"]),
])
def test_a_clamp_the_model_cannot_hold_is_refused_before_it_runs(kind, text, words):
    m = cells.build(kind, 3, 5)
    with pytest.raises(ClampError) as e:
        m.run(XS, clamp=text)
    for w in words:
        assert w in str(e.value)


def test_short_words_and_old_spellings_bind_to_the_glossary_names():
    m = cells.build("gru", 3, 5)
    assert str(Clamp.parse("reset:0;update[1]:1@2-;candidate:0.5").bind(m)) == "reset_gate:0;update_gate[1]:1@2-;candidate:0.5"


def test_every_kind_can_hold_its_gates_and_states():
    for kind in cells.KINDS:
        m = build(kind)
        names = clampable(m.spec, m.glossary)
        assert "h" in names, kind
        gates = [n.name for n in m.glossary if n.role == "gate" and n.op != "shift" and n.equation != n.symbol]   # not 1 − z(t)
        assert set(gates) <= set(names), (kind, gates, names)
        assert not any(m.glossary[n].role == "pre" for n in names)


# -- the math -----------------------------------------------------------------------------

def test_no_clamp_is_the_plain_run():
    for case in CASES:
        m = build(*case)
        plain = m.run(XS)
        for none in (None, "", Clamp()):
            again = m.run(XS, clamp=none)
            for n in m.glossary:
                np.testing.assert_array_equal(again[n.name], plain[n.name])


@pytest.mark.parametrize("kind", [k for k in cells.KINDS if cells.REGISTRY[k].has_cell and {"forget_gate", "input_gate"} <= set(cells.glossary(k).keys())])
def test_forget_one_and_input_zero_keep_the_cell_state(kind):
    m = build(kind)
    c0 = RNG.standard_normal((1, m.hidden_size))
    t = m.run(XS, c0=c0, clamp="forget:1;input:0")
    assert (t["c"] == c0).all() and (t["c_prev"] == c0).all()   # exactly: 1·c + 0·c̃ is c
    assert not np.allclose(m.run(XS, c0=c0)["c"], c0)


def test_a_gru_holding_its_update_gate_at_one_keeps_h_and_an_mgu_its_forget_gate_at_zero():
    h0 = RNG.standard_normal((1, 5))
    for kind, text in (("gru", "update:1"), ("mgu", "forget:0")):
        t = build(kind).run(XS, h0=h0, clamp=text)
        assert (t["h"] == h0).all(), kind


@settings(max_examples=40, deadline=None)
@given(case=st.sampled_from(CASES), k=st.integers(1, len(XS) - 1), data=st.data())
def test_a_clamp_from_step_k_leaves_the_steps_before_k_as_they_were(case, k, data):
    m = build(*case, dtype="float32")
    name = data.draw(st.sampled_from(clampable(m.spec, m.glossary)))
    text = f"{name}:{mid(m.glossary[name].range)}@{k}-"
    plain, held = m.run(XS), m.run(XS, clamp=text)
    for n in m.glossary:
        np.testing.assert_allclose(held[n.name][:k], plain[n.name][:k], rtol=1e-6, atol=1e-7, err_msg=n.name)
    assert (held[name][k:] == np.float32(mid(m.glossary[name].range))).all()
    assert not np.allclose(held["h"][k:], plain["h"][k:], atol=1e-6), text   # and the rest of the run follows from the value


def held_mask(m, trace, hold: Hold) -> np.ndarray:
    mask = np.zeros(trace[hold.name].shape, bool)
    mask[np.ix_(list(hold.step_range(0, trace.T)), hold.index(trace[hold.name].shape[1]))] = True
    return mask


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_clamped_run_is_the_models_math_with_the_held_values_in_it(case):
    """Every name of every kind held in turn, at some units and steps: the held entries are the value, and every
    equation the page shows still gives the trace's numbers from the trace's own vectors (held ones included), so
    what follows a hold, within its step and after it, is computed from the held value."""
    m = build(*case)
    env0 = weights(m)
    for name in clampable(m.spec, m.glossary):
        hold = Hold(name, mid(m.glossary[name].range), ((0, 1),), (3, 7))   # h of a projection is 2 wide
        trace = m.run(XS, clamp=Clamp((hold,)))
        mask = held_mask(m, trace, hold)
        assert (trace[name][mask] == hold.value).all()
        assert not (trace[name][~mask] == hold.value).all()
        env = dict(env0) | {n.symbol: trace[n.name] for n in m.glossary if len(tokens(n.symbol)[0]) == 1}
        for n in m.glossary:
            if n.op == "shift":
                np.testing.assert_array_equal(trace[n.name][1:], trace[n.operands[0]][:-1], err_msg=f"{name}: {n.name}")
            if n.op in ("given", "shift"):
                continue
            _, rhs = parse(tokens(n.equation)[0])
            want, got = evaluate(rhs, env), trace[n.name]
            keep = ~mask if n.name == name else np.ones(got.shape, bool)
            np.testing.assert_allclose(got[keep], np.broadcast_to(want, got.shape)[keep], rtol=1e-9, atol=1e-12,
                                       err_msg=f"holding {name}: {n.name} = {n.equation}")


def test_stacked_and_bidirectional_models_hold_every_layer_or_the_one_named():
    m = build("lstm", num_layers=2, bidirectional=True)
    every, low = m.run(XS, clamp="forget:1@0-2"), m.run(XS, clamp="l0.forget:1@0-2")
    for k in range(2):
        for d in range(2):
            f = every.layer(k, d)["forget_gate"]
            assert (f[:3] == 1).all() and (f[3:] != 1).any(), (k, d)   # steps in the input's order in both directions
    assert (low.layer(0, 1)["forget_gate"][:3] == 1).all()
    assert not (low.layer(1, 0)["forget_gate"][:3] == 1).all()
    assert not np.allclose(low.layer(1, 0)["h"], m.run(XS).layer(1, 0)["h"])   # layer 1 reads the changed layer 0


def test_a_run_in_chunks_is_held_at_the_steps_of_the_whole_run():
    m = build("peephole", dtype="float32")
    text = "forget[0,2]:1@4-8;output:0.5@9-"
    whole = m.run(XS, clamp=text)
    first = m.run(XS[:6], clamp=text)
    second = m.run(XS[6:], state=first.final, clamp=text, t0=6)
    for n in ("forget_gate", "output_gate", "c", "h"):
        np.testing.assert_allclose(np.concatenate([first[n], second[n]]), whole[n], rtol=1e-6, atol=1e-7, err_msg=n)
    assert (second["output_gate"][3:] == 0.5).all()


def test_steps_past_the_end_hold_nothing_and_later_holds_win():
    m = build("lstm")
    np.testing.assert_array_equal(m.run(XS, clamp="forget:1@500-")["h"], m.run(XS)["h"])
    assert (m.run(XS, clamp="forget:1;forget[0]:0")["forget_gate"][:, 0] == 0).all()


def test_a_registered_kind_is_clamped_without_code_of_its_own(tmp_path):
    source = (Path(__file__).parents[1] / "cells" / "kinds" / "rnn.py").read_text().replace('name = "rnn"', 'name = "clamp_rnn"')
    path = tmp_path / "clamp_rnn.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("gatescope.cells.kinds.clamp_rnn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with cells.registered(module.KIND):
        t = cells.build("clamp_rnn", 3, 4).run(XS, clamp="h[1]:0.5@2-")
        assert (t["h"][2:, 1] == np.float32(0.5)).all() and (t["h_prev"][3:, 1] == np.float32(0.5)).all()


def test_bad_arguments_of_run_are_refused():
    m = build("lstm")
    with pytest.raises(cells.CellsError, match="t0"):
        m.run(XS, clamp="forget:1", t0=-1)
    with pytest.raises(ClampError, match="expected text"):
        m.run(XS, clamp=3)
