"""The public API of cells: shapes, stacking, and a clear error for every kind of bad input."""

import subprocess
import sys

import numpy as np
import pytest

from gatescope import cells


def test_importing_cells_pulls_in_no_web_framework():
    code = ("import sys, cells, numpy as np; cells.build('lstm', 2, 3).run(np.zeros((2, 2)));"
            "bad = [m for m in ('fastapi', 'starlette', 'uvicorn', 'jinja2', 'pydantic', 'torch') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_kinds_lists_every_formulation():
    # every formulation of the article and of Greff et al. is registered; a kind registered later adds to these
    assert {"rnn", "lstm", "peephole", "cifg", "gru", "mgu", "nig", "nfg", "nog", "niaf", "noaf", "fgr"} <= set(cells.KINDS)


def test_trace_api_shapes():
    model = cells.build("lstm", input_size=3, hidden_size=8, num_layers=2, bidirectional=True, seed=0)
    xs = np.random.default_rng(0).standard_normal((5, 3))
    trace = model.run(xs)
    assert trace.output.shape == (5, 16)
    assert trace["h"].shape == trace["c"].shape == trace["forget_gate"].shape == (5, 8)
    assert trace.layer(0, direction=1)["input_gate"].shape == (5, 8)
    assert trace.layer(1)["x"].shape == (5, 16)  # layer 1 reads both directions of layer 0
    np.testing.assert_array_equal(trace.output[:, 8:], trace.layer(1, 1)["h"])
    assert trace.final.h.shape == (4, 8) and trace.final.c.shape == (4, 8)
    # the reverse direction's final state belongs to t = 0
    np.testing.assert_array_equal(trace.final.h[1], trace.layer(0, 1)["h"][0])
    np.testing.assert_array_equal(trace.final.h[2], trace.layer(1, 0)["h"][-1])
    assert trace.at(-1)["h"].shape == (8,)
    with pytest.raises(IndexError, match="layer 2 does not exist"):
        trace.layer(2)


def test_projection_shapes_and_state():
    model = cells.build("lstm", 3, 6, proj_size=2, seed=0)
    trace = model.run(np.ones((4, 3)), h0=np.ones(2), c0=np.ones(6))
    assert trace["h"].shape == (4, 2) and trace["exposed"].shape == (4, 6) and trace["c"].shape == (4, 6)
    np.testing.assert_array_equal(trace["h_prev"][0], 1.0)


def test_states_share_memory_and_trace_is_contiguous():
    trace = cells.build("lstm", 4, 16, seed=0).run(np.ones((50, 4), np.float32))
    assert np.shares_memory(trace["h"], trace["h_prev"])
    assert all(trace[n].flags.c_contiguous for n in trace)
    assert trace.nbytes <= 14 * 51 * 16 * 4  # 13 named (T, H) arrays + one extra state row each


def test_step_rejects_bidirectional():
    model = cells.build("gru", 2, 3, bidirectional=True)
    with pytest.raises(cells.CellsError, match="unidirectional"):
        model.step(np.zeros(2))


# -- bad input: each error names what was wrong and what was expected ---------------

def test_unknown_kind_lists_kinds():
    with pytest.raises(cells.UnknownKindError) as e:
        cells.build("lstmm", 2, 3)
    assert "'lstmm'" in str(e.value) and all(k in str(e.value) for k in cells.KINDS)


def test_unknown_and_bad_options():
    with pytest.raises(cells.OptionError, match=r"unknown option\(s\) for kind 'gru': proj_size; valid options: reset_after"):
        cells.build("gru", 2, 3, proj_size=1)
    with pytest.raises(cells.OptionError, match="nonlinearity: got 'sigmoid'; expected one of 'tanh', 'relu'"):
        cells.build("rnn", 2, 3, nonlinearity="sigmoid")
    with pytest.raises(cells.OptionError, match="proj_size: got 5; expected a value smaller than hidden_size"):
        cells.build("lstm", 2, 5, proj_size=5)
    with pytest.raises(cells.OptionError, match="hidden_size: got 0; expected an integer >= 1"):
        cells.build("lstm", 2, 0)


def test_wrong_input_shape_names_expected_and_actual():
    model = cells.build("lstm", 3, 4)
    with pytest.raises(cells.ShapeError, match=r"xs: expected shape \(T, 3\), got \(5, 2\)"):
        model.run(np.zeros((5, 2)))
    with pytest.raises(cells.ShapeError, match=r"xs: expected shape \(T, 3\), got \(3,\)"):
        model.run(np.zeros(3))
    with pytest.raises(cells.ShapeError, match=r"x: expected shape \(3,\), got \(1, 3\)"):
        model.step(np.zeros((1, 3)))
    with pytest.raises(cells.ShapeError, match=r"h0: expected shape \(1, 4\), got \(2, 4\)"):
        model.run(np.zeros((2, 3)), h0=np.zeros((2, 4)))


def test_empty_sequence():
    with pytest.raises(cells.EmptySequenceError, match="xs: the sequence is empty"):
        cells.build("gru", 3, 4).run(np.zeros((0, 3)))


def test_nan_and_inf_are_named():
    model = cells.build("lstm", 2, 3)
    xs = np.zeros((4, 2))
    xs[2, 1] = np.nan
    with pytest.raises(cells.NonFiniteError, match="xs: 1 of 8 values are NaN or infinite"):
        model.run(xs)
    params = dict(model.params)
    params["weight_hh_l0"] = params["weight_hh_l0"].copy()
    params["weight_hh_l0"][0, 0] = np.inf
    with pytest.raises(cells.NonFiniteError, match="weight_hh_l0"):
        cells.load(params, kind="lstm")


def test_strings_and_objects_are_not_numbers():
    with pytest.raises(cells.CellsError, match="xs: expected real numbers"):
        cells.build("rnn", 1, 2).run([["a"], ["b"]])
    with pytest.raises(cells.CellsError, match="expected real numbers"):
        cells.build("rnn", 1, 2).run(np.array([[1 + 2j]]))


def test_c0_for_a_kind_without_cell_state():
    with pytest.raises(cells.CellsError, match="c0: the gru kind has no cell state"):
        cells.build("gru", 2, 3).run(np.zeros((2, 2)), c0=np.zeros(3))


def test_missing_unknown_and_misshapen_weights():
    arrays = cells.build("lstm", 3, 4).to_arrays("torch")
    broken = {k: v for k, v in arrays.items() if k != "bias_hh_l0"}
    with pytest.raises(cells.WeightNameError, match="missing weight\\(s\\): bias_hh_l0"):
        cells.load(broken, kind="lstm")
    with pytest.raises(cells.WeightNameError, match="unknown weight name\\(s\\): bias_xx_l0"):
        cells.load({**arrays, "bias_xx_l0": np.zeros(16)}, kind="lstm")
    with pytest.raises(cells.ShapeError, match=r"bias_ih_l0: expected shape \(16,\), got \(15,\)"):
        cells.load({**arrays, "bias_ih_l0": np.zeros(15)}, kind="lstm")
    keras = cells.build("gru", 3, 4).to_arrays("keras")
    with pytest.raises(cells.ShapeError, match=r"bias: expected shape \(2, 12\), got \(12,\)"):
        cells.load({**keras, "bias": np.zeros(12)}, kind="gru", layout="keras", reset_after=True)
    # without the option, the (3H,) bias is read as what it means: Cho et al.'s form
    assert cells.load({**keras, "bias": np.zeros(12)}, kind="gru", layout="keras").options["reset_after"] is False


def test_layout_a_kind_cannot_use():
    with pytest.raises(cells.OptionError, match="the mgu kind cannot be stored in the keras layout"):
        cells.build("mgu", 2, 3).to_arrays("keras")
    with pytest.raises(cells.OptionError, match="layout: got 'jax'"):
        cells.build("lstm", 2, 3).to_arrays("jax")


def test_bare_weights_say_their_kind_where_their_shapes_decide_it():
    assert cells.load(cells.build("lstm", 2, 3).to_arrays()).kind == "lstm"  # the framework's kind among those that fit
    assert cells.load(cells.build("mgu", 2, 3).to_arrays()).kind == "mgu"    # two gate blocks: only the MGU
    with pytest.raises(cells.KindNeededError, match=r"kind: not given, and the weights fit several kinds \(.*\); pass kind=") as e:
        cells.load(cells.build("cifg", 2, 3).to_arrays())  # no framework writes any of them: the caller says which
    assert {"cifg", "nfg"} <= set(e.value.kinds) and not {"lstm", "gru", "rnn"} & set(e.value.kinds)


def test_walk_names_each_layer_direction_once_with_its_input_width():
    model = cells.build("lstm", 3, 5, num_layers=2, bidirectional=True, proj_size=2)
    assert [tuple(s) for s in model.walk()] == [(0, 0, 3, "_l0"), (0, 1, 3, "_l0_reverse"), (1, 0, 4, "_l1"), (1, 1, 4, "_l1_reverse")]
    assert list(cells.model.walk(3, 2, 2, 2)) == list(model.walk())
    assert model.params.keys() == {n + s.suffix for s in model.walk() for n in model.layer_params(s)}


def test_outputs_follow_the_head():
    base = cells.build("gru", 2, 3, seed=1, dtype="float64")
    xs = np.random.default_rng(0).standard_normal((4, 2))
    head = (np.random.default_rng(1).standard_normal((3, 3)), np.zeros(3))

    def with_head(**kw):
        return cells.Model("gru", base.params, input_size=2, hidden_size=3, dtype="float64", **kw)

    out = base.run(xs).output
    assert base.head is None
    with pytest.raises(cells.CellsError, match="no decoder"):
        base.outputs(out)
    classifier, regressor = with_head(decoder=head, labels=["a", "b", "c"]), with_head(decoder=head)
    assert classifier.head == "softmax" and np.array_equal(classifier.outputs(out), classifier.predict(out))
    assert regressor.head == "linear" and np.array_equal(regressor.outputs(out), regressor.logits(out))
    stated = with_head(decoder=head, labels=["a", "b", "c"], card={"head": "linear"})   # the card says, when it does
    assert stated.head == "linear" and np.array_equal(stated.outputs(out), stated.logits(out))
