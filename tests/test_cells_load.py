"""cells.load takes the files users have: restated torch keywords, prefixed and Keras names, missing biases,
Keras vocabularies; and refuses hostile files from their headers, before anything is allocated."""

import io
import json
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest
from safetensors.numpy import save_file

from gatescope import cells
from gatescope.cells import layouts

try:
    import torch
except ImportError:  # CI has torch; the tests that compare with it are skipped elsewhere
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
XS = np.random.default_rng(0).standard_normal((7, 3))


def raw_safetensors(path, header, data=b""):
    """A safetensors file written byte by byte, so that it can say anything."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + data)
    return path


def lstm_sd(**kw):
    return cells.build("lstm", 3, 4, seed=1, **kw).to_arrays("torch")


def work(call) -> tuple[int, int]:
    """What ``call`` did, counted rather than timed (timing is bench/'s): the lines of Python it ran and the peak of
    the memory it allocated (NumPy's arrays included)."""
    lines = 0

    def count(frame, event, arg):
        nonlocal lines
        lines += event == "line"
        return count
    before = sys.gettrace()
    tracemalloc.start()
    sys.settrace(count)
    try:
        call()
    finally:
        sys.settrace(before)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return lines, peak


# -- 1. PyTorch's constructor arguments, restated ----------------------------------------

def test_torch_users_restate_the_structure():
    sd = lstm_sd(num_layers=2, bidirectional=True)
    model = cells.load(sd, kind="lstm", layout="torch", num_layers=2, bidirectional=True, hidden_size=4, input_size=3,
                       proj_size=0, bias=True)
    assert model.num_layers == 2 and model.bidirectional and model.options["proj_size"] == 0
    proj = cells.build("lstm", 3, 5, proj_size=2).to_arrays()
    assert cells.load(proj, kind="lstm", proj_size=2).out_size == 2
    assert cells.load(cells.build("gru", 3, 4).to_arrays(), kind="gru", proj_size=0).kind == "gru"


@pytest.mark.parametrize("keyword,value,message", [
    ("num_layers", 3, "num_layers: 3 given, but the weights hold 2 layers (weight_ih_l0, weight_ih_l1)"),
    ("bidirectional", False, "bidirectional: False given, but the weights hold a reverse direction (weight_ih_l0_reverse)"),
    ("hidden_size", 8, "hidden_size: 8 given, but weight_hh_l0 has shape (16, 4): hidden_size 4"),
    ("input_size", 5, "input_size: 5 given, but weight_ih_l0 has shape (16, 3): input_size 3"),
    ("proj_size", 2, "proj_size: 2 given, but the weights hold no projection (no weight_hr_l0)"),
    ("bias", False, "bias: False given, but the weights hold bias_ih_l0"),
])
def test_restated_keywords_that_contradict_the_weights(keyword, value, message):
    with pytest.raises(cells.OptionError) as e:
        cells.load(lstm_sd(num_layers=2, bidirectional=True), kind="lstm", **{keyword: value})
    assert str(e.value) == message


def test_more_contradictions():
    with pytest.raises(cells.OptionError, match=r"bidirectional: True given, but the weights hold one direction \(no weight_ih_l0_reverse\)"):
        cells.load(lstm_sd(), kind="lstm", bidirectional=True)
    with pytest.raises(cells.OptionError, match=r"proj_size: 3 given, but weight_hr_l0 has shape \(2, 5\): proj_size 2"):
        cells.load(cells.build("lstm", 3, 5, proj_size=2).to_arrays(), kind="lstm", proj_size=3)
    with pytest.raises(cells.OptionError, match="proj_size: 2 given, but the gru kind has no projection"):
        cells.load(cells.build("gru", 3, 4).to_arrays(), kind="gru", proj_size=2)
    nobias = {k: v for k, v in lstm_sd().items() if not k.startswith("bias")}
    with pytest.raises(cells.OptionError, match=r"bias: True given, but the weights hold no biases \(no bias_ih_l0, bias_hh_l0\)"):
        cells.load(nobias, kind="lstm", bias=True)
    with pytest.raises(cells.OptionError, match="option num_layers: got 'two'"):
        cells.load(lstm_sd(), kind="lstm", num_layers="two")
    keras = cells.build("gru", 3, 4).to_arrays("keras")
    with pytest.raises(cells.OptionError, match=r"hidden_size: 5 given, but recurrent_kernel has shape \(4, 12\): hidden_size 4"):
        cells.load(keras, kind="gru", layout="keras", hidden_size=5)


def test_a_kind_with_another_block_count_is_named():
    with pytest.raises(cells.ShapeError, match="a gru stacks 3 gate blocks"):
        cells.load(lstm_sd(), kind="gru")


# -- 2. prefixed names -------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["module.", "_orig_mod.", "rnn.", "module.rnn.", "_orig_mod.module.encoder.rnn."])
def test_wrapper_and_submodule_prefixes(prefix):
    base = cells.build("gru", 3, 4, num_layers=2, seed=3)
    sd = {prefix + k: v for k, v in base.to_arrays().items()}
    sd.update({"embedding.weight": np.ones((9, 2)), "fc.weight": np.ones((9, 4)), "fc.bias": np.zeros(9),
               prefix + "extra_state": np.zeros(1)})
    model = cells.load(sd, kind="gru")
    assert model.source["prefix"] == prefix
    # a whole model's embedding and classifier are left out, and said to be: without their vocabulary they read nothing
    assert model.embedding is None and model.decoder is None
    assert {"embedding.weight", "fc.weight", "fc.bias"} <= set(model.source["unused"])
    np.testing.assert_array_equal(model.run(XS).output, base.run(XS).output)
    assert model.describe()["source"]["prefix"] == prefix


def test_several_recurrent_groups_need_a_prefix():
    sd = {**{"encoder.lstm." + k: v for k, v in lstm_sd().items()},
          **{"decoder.lstm." + k: v for k, v in cells.build("lstm", 4, 6).to_arrays().items()}}
    with pytest.raises(cells.AmbiguousWeightsError) as e:
        cells.load(sd, kind="lstm")
    assert "2 groups of recurrent weights: 'decoder.lstm.' (lstm; also niaf, noaf); 'encoder.lstm.' (lstm; also niaf, noaf)" in str(e.value)
    assert "prefix=" in str(e.value)
    assert e.value.groups == ["decoder.lstm.", "encoder.lstm."]
    assert cells.load(sd, kind="lstm", prefix="decoder.lstm.").hidden_size == 6
    assert cells.load(sd, kind="lstm", prefix="encoder.lstm").hidden_size == 4  # the trailing dot may be left off
    with pytest.raises(cells.AmbiguousWeightsError, match="prefix: 'decoder.gru' names no recurrent weights; the file holds"):
        cells.load(sd, kind="lstm", prefix="decoder.gru")


def test_bare_names_stay_strict():
    """At the root a stray name is a typo, not another module's tensor."""
    with pytest.raises(cells.WeightNameError, match=r"unknown weight name\(s\): weight_ih_10"):
        cells.load({**lstm_sd(), "weight_ih_10": np.zeros((16, 3))}, kind="lstm")
    assert cells.load({**lstm_sd(), "fc.weight": np.zeros((2, 4))}, kind="lstm").source["unused"] == ["fc.weight"]


KERAS_PATHS = [
    ("sequential/lstm/lstm_cell/{}:0", "sequential/lstm/lstm_cell/"),  # tf.keras 2 variable names
    ("sequential/lstm/lstm_cell/{}", "sequential/lstm/lstm_cell/"),    # Keras 3 variable paths
    ("lstm/lstm_cell/{}", "lstm/lstm_cell/"),
]


@pytest.mark.parametrize("pattern,prefix", KERAS_PATHS)
def test_keras_variable_paths(pattern, prefix):
    base = cells.build("lstm", 3, 4, seed=2)
    named = {pattern.format(k): v for k, v in base.to_arrays("keras").items()}
    named.update({"sequential/embedding/embeddings": np.ones((5, 3)), "sequential/dense/kernel": np.ones((4, 5)),
                  "sequential/dense/bias": np.zeros(5)})
    model = cells.load(named, kind="lstm", layout="keras")
    assert model.source["prefix"] == prefix and "sequential/dense/kernel" in model.source["unused"]
    np.testing.assert_allclose(model.run(XS).output, base.run(XS).output, atol=1e-7)


def keras_bidirectional(base, layer="bidirectional", cell="lstm"):
    """Keras' Bidirectional names: bidirectional/forward_lstm/lstm_cell/kernel and .../backward_lstm/..."""
    arrays = base.to_arrays("keras")
    out = {}
    for name, a in arrays.items():
        var, direction = (name[: -len("_l0_reverse")], "backward") if name.endswith("_reverse") else (name[: -len("_l0")], "forward")
        out[f"{layer}/{direction}_{cell}/{cell}_cell/{var}:0"] = a
    return out


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_a_keras_bidirectional_layer_keeps_its_backward_half(kind):
    base = cells.build(kind, 3, 4, bidirectional=True, seed=5)
    cell = {"rnn": "simple_rnn"}.get(kind, kind)
    model = cells.load(keras_bidirectional(base, cell=cell), kind=kind, layout="keras", nonlinearity="tanh") if kind == "rnn" else \
        cells.load(keras_bidirectional(base, cell=cell), kind=kind, layout="keras")
    assert model.bidirectional and model.source["prefix"] == "bidirectional/"
    assert model.source["directions"] == [f"bidirectional/forward_{cell}/{cell}_cell/", f"bidirectional/backward_{cell}/{cell}_cell/"]
    np.testing.assert_allclose(model.run(XS).output, base.run(XS).output, atol=1e-6)


def test_stacked_keras_layers_are_not_joined_by_guess():
    a, b = cells.build("lstm", 3, 4).to_arrays("keras"), cells.build("lstm", 4, 4).to_arrays("keras")
    named = {**{f"lstm/lstm_cell/{k}": v for k, v in a.items()}, **{f"lstm_1/lstm_cell/{k}": v for k, v in b.items()}}
    with pytest.raises(cells.AmbiguousWeightsError, match="'lstm/lstm_cell/' \\(lstm\\); 'lstm_1/lstm_cell/' \\(lstm\\).*kernel_l0, kernel_l1"):
        cells.load(named, kind="lstm", layout="keras")
    assert cells.load(named, kind="lstm", layout="keras", prefix="lstm_1/").input_size == 4
    assert cells.load(named, kind="lstm", layout="keras", prefix="lstm").input_size == 3  # whole path segments: not lstm_1/
    two = {**keras_bidirectional(cells.build("lstm", 3, 4, bidirectional=True)),
           **keras_bidirectional(cells.build("lstm", 8, 4, bidirectional=True), layer="bidirectional_1")}
    assert cells.load(two, kind="lstm", layout="keras", prefix="bidirectional_1").input_size == 8


def test_numpy_savez_positional_names():
    base = cells.build("gru", 3, 4, seed=1)
    weights = list(base.to_arrays("keras").values())  # kernel, recurrent_kernel, bias: Keras' get_weights() order
    buf = io.BytesIO()
    np.savez(buf, *weights)
    buf.seek(0)
    arrays = dict(np.load(buf))
    model = cells.load(arrays, kind="gru", layout="keras")
    assert model.source["positional"] == "arr_0 as kernel, arr_1 as recurrent_kernel, arr_2 as bias"
    np.testing.assert_allclose(model.run(XS).output, base.run(XS).output, atol=1e-7)
    with pytest.raises(cells.WeightNameError, match=r"numpy.savez\('w.npz', \*\*\{k: v.numpy\(\)"):
        cells.load({f"arr_{i}": a for i, a in enumerate(lstm_sd().values())}, kind="lstm")
    with pytest.raises(cells.WeightNameError, match="numpy.savez\\('w.npz', kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias\\)"):
        cells.load({f"arr_{i}": a for i, a in enumerate([*weights, *weights])}, kind="gru", layout="keras")


def test_another_layouts_names_are_named_and_read_when_no_layout_is_given():
    with pytest.raises(cells.WeightNameError, match="named as Keras names them .*pass layout=keras"):
        cells.load(cells.build("lstm", 3, 4).to_arrays("keras"), kind="lstm", layout="torch")
    with pytest.raises(cells.WeightNameError, match="named as PyTorch names them .*pass layout=torch"):
        cells.load(lstm_sd(), kind="lstm", layout="keras")
    built = cells.build("gru", 3, 4, seed=2)
    for layout in ("keras", "torch"):  # the names say the layout, the shapes the kind
        m = cells.load(built.to_arrays(layout))
        assert (m.kind, m.source["layout"]) == ("gru", layout)
        if layout == "torch":  # a CIFG LSTM has a GRU's shapes in PyTorch's names; in Keras' only the GRU is stored
            assert m.assumed["kind"].startswith("read off the weights' shapes (weight_hh_l0 (12, 4)), as the framework's own gru")
        assert all(np.array_equal(m.params[k], built.params[k]) for k in built.params) and set(m.params) == set(built.params)


@needs_torch
def test_the_pickle_hints_recipe_loads(tmp_path):
    """_PICKLE_HINT says: safetensors.torch.save_file(model.rnn.state_dict(), ...), then kind=lstm."""
    from safetensors.torch import save_file as torch_save

    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding, self.rnn, self.fc = torch.nn.Embedding(10, 3), torch.nn.LSTM(3, 5, num_layers=2), torch.nn.Linear(5, 10)

    net = Net()
    x = torch.tensor(XS, dtype=torch.float32)[:, None]
    with torch.no_grad():
        want = net.rnn(x)[0][:, 0].numpy()
    hint = cells.reading._PICKLE_HINT
    assert "safetensors.torch.save_file(model.rnn.state_dict(), 'rnn.safetensors')" in hint and "kind=lstm" in hint
    torch_save(net.rnn.state_dict(), str(tmp_path / "rnn.safetensors"))
    np.testing.assert_allclose(cells.load(tmp_path / "rnn.safetensors", kind="lstm").run(XS).output, want, atol=1e-6)
    torch_save(net.state_dict(), str(tmp_path / "net.safetensors"))  # the whole model: one recurrent layer in it
    model = cells.load(tmp_path / "net.safetensors", kind="lstm")
    assert model.source["prefix"] == "rnn."
    np.testing.assert_allclose(model.run(XS).output, want, atol=1e-6)


# -- 3. refusals and silent cases ---------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("module,kind", [("LSTM", "lstm"), ("GRU", "gru"), ("RNN", "rnn")])
def test_torch_models_without_bias(module, kind):
    torch.manual_seed(1)
    net = getattr(torch.nn, module)(3, 4, num_layers=2, bidirectional=True, bias=False)
    with torch.no_grad():
        want = net(torch.tensor(XS, dtype=torch.float32)[:, None])[0][:, 0].numpy()
    sd = {k: v.numpy() for k, v in net.state_dict().items()}
    assert not any(k.startswith("bias") for k in sd)
    model = cells.load(sd, kind=kind, bias=False)
    assert model.source["bias"] is False
    np.testing.assert_allclose(model.run(XS).output, want, atol=1e-6)


def test_keras_layers_without_bias():
    base = cells.build("gru", 3, 4, seed=2)
    params = {k: (np.zeros_like(v) if k.startswith("bias") else v) for k, v in base.params.items()}
    zero = cells.Model("gru", params, input_size=3, hidden_size=4)
    keras = {k: v for k, v in zero.to_arrays("keras").items() if k != "bias"}  # GRU(use_bias=False)
    model = cells.load(keras, kind="gru", layout="keras")
    assert model.source["bias"] is False and "reset_after" in model.assumed
    np.testing.assert_allclose(model.run(XS).output, zero.run(XS).output, atol=1e-7)


def test_torch_gru_weights_are_always_reset_after(tmp_path):
    sd = cells.build("gru", 3, 4).to_arrays()
    with pytest.raises(cells.OptionError, match="reset_after: False given, but torch-layout GRU weights are nn.GRU's"):
        cells.load(sd, kind="gru", reset_after=False)
    # gatescope's own reset-before GRU travels as a bundle (torch-named, options in its metadata): that is no contradiction
    model = cells.build("gru", 3, 4, reset_after=False)
    model.save(tmp_path / "g.safetensors")
    assert cells.load(tmp_path / "g.safetensors").options["reset_after"] is False


def test_what_cannot_be_read_off_the_weights_is_recorded(tmp_path):
    model = cells.load(cells.build("rnn", 3, 4).to_arrays(), kind="rnn")
    assert model.options["nonlinearity"] == "tanh"
    assert model.assumed["nonlinearity"].startswith("tanh (not readable from the weights; pass nonlinearity=relu for nn.RNN")
    assert model.describe()["assumed"] == model.assumed
    assert cells.load(cells.build("rnn", 3, 4).to_arrays(), kind="rnn", nonlinearity="relu").assumed == {}
    model.save(tmp_path / "r.safetensors")  # the store keeps uploads as bundles: what was assumed stays said
    again = cells.load(tmp_path / "r.safetensors")
    assert again.assumed == model.assumed and again.source == model.source
    assert cells.load(cells.build("lstm", 3, 4).to_arrays("tf1"), kind="lstm", layout="tf1").assumed["forget_bias"].startswith("1.0")


def test_keras_vocabularies_start_with_the_mask_token():
    v = cells.Vocab(["", "[UNK]", "the", "cat", "sat"])  # TextVectorization.get_vocabulary()
    assert v.mask == 0 and v.unknown == 1 and not v.char_level
    assert v.encode("the dog sat", on_unknown="map") == [2, 1, 4]
    assert v.encode("the dog sat", on_unknown="skip") == [2, 4]
    with pytest.raises(cells.CellsError, match="'dog' at 1"):
        v.encode("the dog sat")
    chars = cells.Vocab(["", "[UNK]", "a", "b", " "])  # StringLookup over characters
    assert chars.char_level and chars.encode("ab c", on_unknown="map") == [2, 3, 4, 1]
    with pytest.raises(cells.CellsError, match="token 2 is ''; .*only index 0 may be ''"):
        cells.Vocab(["a", "b", ""])
    with pytest.raises(cells.CellsError, match="needs an unknown token"):
        cells.Vocab(list("ab")).encode("abc", on_unknown="map")
    assert cells.Vocab(list("ab")).encode("ab", on_unknown="map") == [0, 1]  # nothing unknown: nothing to map


class Counted(str):
    """A token that counts how often it is compared with another."""
    comparisons = 0

    def __eq__(self, other):
        Counted.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_the_vocab_duplicate_check_is_linear():
    words = [Counted(f"w{i}") for i in range(4_000)]
    Counted.comparisons = 0
    with pytest.raises(cells.CellsError, match="'w3999' appears more than once"):
        cells.Vocab(words + [Counted("w3999")])
    # a few comparisons a token (found by hashing), not one a pair of tokens (8,000,000 here)
    assert Counted.comparisons < 10 * len(words), Counted.comparisons


# -- 4. limits, checked before allocating --------------------------------------------------

def test_h3_a_layer_number_is_not_a_loop_bound(tmp_path):
    path = tmp_path / "deep.safetensors"
    save_file({"weight_ih_l999999": np.zeros((4, 1), np.float32)}, str(path))
    save_file(cells.build("rnn", 1, 4).to_arrays(), str(tmp_path / "small.safetensors"))
    cells.load(tmp_path / "small.safetensors", kind="rnn")  # what loading imports on first use is not counted below

    def refused():
        with pytest.raises(cells.WeightNameError, match=r"layer 999999 \(weight_ih_l999999\) but only 1 distinct layer number"):
            cells.load(path, kind="rnn")
    lines, peak = work(refused)
    assert lines < 100_000 and peak < 1_000_000, (lines, peak)  # no line run, nor a byte allocated, per layer named
    deep = {f"{n}_l{k}": np.zeros(s, np.float32) for k in range(12) for n, s in
            [("weight_ih", (4, 4)), ("weight_hh", (4, 4)), ("bias_ih", (4,)), ("bias_hh", (4,))]}
    with pytest.raises(cells.LimitError, match=r"num_layers: 12 is over the limit of 4 \(max_layers\)"):
        cells.load(deep, kind="rnn", max_layers=4)


def test_h3_zero_size_tensors_declare_no_bytes_but_a_huge_model(tmp_path):
    path = tmp_path / "zero.npz"
    np.savez(path, kernel=np.zeros((10**6, 0)), recurrent_kernel=np.zeros((10**6, 0)), bias=np.zeros(0))
    with pytest.raises(cells.LimitError, match="hidden_size: 1000000 is over the limit of 1024"):
        cells.load(path, kind="lstm", layout="keras", max_hidden=1024)
    with pytest.raises(cells.LimitError, match="the model: 64000064000000 bytes of weights"):
        cells.load(path, kind="lstm", layout="keras", max_bytes=64 * 2**20)
    with pytest.raises(cells.ShapeError, match=r"kernel: expected shape \(1000000, 4000000\), got \(1000000, 0\)"):
        cells.load(path, kind="lstm", layout="keras")  # no limits: still refused from the shapes, nothing allocated


def test_error_lists_are_capped():
    stray = {f"weight_x{i:04d}": np.zeros(1) for i in range(5000)}
    with pytest.raises(cells.WeightNameError) as e:
        cells.load({**lstm_sd(), **stray}, kind="lstm")
    assert "and 4980 more" in str(e.value) and len(str(e.value)) < 2000 and len(e.value.unknown) == 5000
    layered = {f"weight_ih_l{k}": np.zeros((4, 4)) for k in range(300)} | {"weight_hh_l0": np.zeros((4, 4))}
    with pytest.raises(cells.WeightNameError) as e:
        cells.load(layered, kind="rnn")
    assert "more" in str(e.value) and len(str(e.value)) < 3000


def test_h4_widening_counts_against_the_byte_limit(tmp_path):
    path = tmp_path / "int8.npz"
    np.savez_compressed(path, weight_ih_l0=np.zeros((20_000_000,), np.int8))
    assert path.stat().st_size < 100_000
    with pytest.raises(cells.LimitError, match="arrays of 80000000 bytes once decoded is over the limit of 67108864"):
        cells.load(path, kind="lstm", max_bytes=64 * 2**20)  # 20 MB of int8 is 80 MB of float32


def test_m1_an_npz_member_declaring_more_than_it_holds(tmp_path):
    from numpy.lib import format as npy
    member = io.BytesIO()
    npy.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
    member.write(b"\0" * 64)
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weight_ih_l0.npy", member.getvalue())
    with pytest.raises(cells.FormatError, match=r"'weight_ih_l0' declares shape \(1099511627776,\) of float64 .* holds 64 bytes"):
        cells.load(path, kind="lstm")
    bad = tmp_path / "bool.npz"
    np.savez(bad, weight_ih_l0=np.zeros(3, bool))
    with pytest.raises(cells.FormatError, match="dtype bool; supported: float16, float32, float64 and integers"):
        cells.load(bad, kind="lstm")


def test_m1_deeply_nested_json(tmp_path):
    deep = b'{"weight_ih_l0": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(cells.FormatError, match="nested too deeply"):
        cells.load(raw_safetensors(tmp_path / "deep.safetensors", deep), kind="lstm")
    w = cells.build("lstm", 2, 3).to_arrays()
    for key, value, message in [
        ("options", "[" * 100_000 + "]" * 100_000, "'options': JSON nested too deeply"),
        ("options", json.dumps({"proj_size": {"a": [1]}}), "'options': expected a flat JSON object"),
        ("vocab", json.dumps([["a"], "b"]), "'vocab': expected a flat JSON list of strings"),
        ("labels", json.dumps([1, 2]), "'labels': expected a flat JSON list of strings"),
        ("card", json.dumps({"x": [[[[[[[[[[1]]]]]]]]]]}), "'card': JSON nested 11 deep; at most 8"),
        ("card", '{"accuracy": NaN}', "'card' is not valid JSON \\(NaN is not JSON data\\)"),
    ]:
        path = tmp_path / "m.safetensors"
        save_file(w, str(path), metadata={"gatescope": "1", "kind": "lstm", key: value})
        with pytest.raises(cells.FormatError, match=message):
            cells.load(path)


@pytest.mark.parametrize("dtype", ["F8_E4M3", "F8_E5M2", "BOOL", "C64", "bogus"])
def test_m1_dtypes_numpy_cannot_hold_are_named(dtype, tmp_path):
    path = raw_safetensors(tmp_path / "f8.safetensors", {"weight_ih_l0": {"dtype": dtype, "shape": [4], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(cells.FormatError, match=f"dtype '{dtype}', which gatescope cannot hold; supported: F64, F32, F16, BF16, I64"):
        cells.load(path, kind="lstm")


def test_safetensors_headers_must_match_their_data(tmp_path):
    path = raw_safetensors(tmp_path / "lie.safetensors", {"weight_ih_l0": {"dtype": "F32", "shape": [2**20, 2**20], "data_offsets": [0, 16]}},
                           b"\0" * 16)
    with pytest.raises(cells.FormatError, match=r"declares shape \(1048576, 1048576\) of F32 \(4398046511104 bytes\) at bytes 0..16 of 16"):
        cells.load(path, kind="lstm")
    path = raw_safetensors(tmp_path / "neg.safetensors", {"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(cells.FormatError, match="non-negative integers"):
        cells.load(path, kind="lstm")


def test_a_header_length_that_starts_like_a_pickle_is_still_safetensors(tmp_path):
    """0x0480 bytes of header are the bytes 80 04 ..., which are also how a pickle (protocol 4) starts."""
    w = {"weight_ih_l0": np.ones((1, 1), np.float32), "weight_hh_l0": np.ones((1, 1), np.float32)}
    header = {k: {"dtype": "F32", "shape": [1, 1], "data_offsets": [4 * i, 4 * i + 4]} for i, k in enumerate(w)}
    text = json.dumps(header)
    head = (text + " " * (0x0480 - len(text))).encode()
    path = raw_safetensors(tmp_path / "w.safetensors", head, b"".join(a.tobytes() for a in w.values()))
    assert path.read_bytes()[:2] == b"\x80\x04"
    assert cells.load(path, kind="rnn", bias=False).hidden_size == 1


def bundle(tmp_path, card=None, **meta):
    model = cells.Model("gru", cells.build("gru", 2, 3).params, input_size=2, hidden_size=3, vocab=cells.Vocab(["", "[UNK]", "a"]),
                        embedding=np.ones((3, 2)), decoder=(np.ones((3, 3)), np.zeros(3)))
    tensors, metadata = cells.io.bundle_parts(model)
    if card is not None:
        metadata["card"] = card if isinstance(card, str) else json.dumps(card)
    metadata.update(meta)
    path = tmp_path / "b.safetensors"
    save_file(tensors, str(path), metadata=metadata)
    return path


def test_a_keras_vocabulary_in_a_bundle(tmp_path):
    model = cells.load(bundle(tmp_path))
    ids = model.vocab.encode("aab", on_unknown="map")
    assert ids == [2, 2, 1] and model.predict(model.run(model.embed(ids)).output).shape == (3, 3)


@pytest.mark.parametrize("card,message", [
    ({"input_type": "bogus"}, "card input_type: got 'bogus'; expected one of: text, numbers, signal"),
    ({"head": "sigmoid"}, "card head: got 'sigmoid'; expected one of: softmax, linear"),
    ({"example": 5}, "card example: expected a string, got int"),
    ({"title": ["x"]}, "card title: expected a string, got list"),
    ([1, 2], "'card': expected a JSON object, got list"),
    ({"input_type": "signal"}, "'signal' is one number per step, but the model takes input_size 2"),
])
def test_m2_cards_are_checked_when_loaded(card, message, tmp_path):
    with pytest.raises(cells.FormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cells.load(bundle(tmp_path, card))


def test_m2_a_text_card_needs_a_vocabulary(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file(cells.build("gru", 2, 3).to_arrays(), str(path), metadata={"gatescope": "1", "kind": "gru", "card": '{"input_type": "text"}'})
    with pytest.raises(cells.FormatError, match="'text' needs a vocab and an embedding.weight"):
        cells.load(path)
    kept = cells.load(bundle(tmp_path, {"title": "t", "input_type": "text", "anything": {"plain": [1, "json", None]}}))
    assert kept.card["anything"] == {"plain": [1, "json", None]}


def test_l8_card_size_vocab_size_and_version(tmp_path):
    with pytest.raises(cells.LimitError, match=r"card: 2000\d\d bytes of JSON is over the limit of 65536 \(max_card_bytes\)"):
        cells.load(bundle(tmp_path, {"notes": "x" * 200_000}), max_card_bytes=65536)
    with pytest.raises(cells.LimitError, match=r"vocab: 3 tokens is over the limit of 2 \(max_vocab\)"):
        cells.load(bundle(tmp_path), max_vocab=2)
    with pytest.raises(cells.FormatError, match=r"gatescope: bundle format version '2'; this gatescope reads version\(s\): 1"):
        cells.load(bundle(tmp_path, gatescope="2"))


def test_l6_messages_name_the_file_not_its_directory(tmp_path):
    secret = tmp_path / "home" / "alice" / "secret"
    secret.mkdir(parents=True)
    (secret / "model.pt").write_bytes(b"\x80\x04K\x01.")
    for path in (secret / "model.pt", secret / "missing.safetensors"):
        with pytest.raises(cells.FormatError) as e:
            cells.load(path, kind="lstm")
        assert str(e.value).startswith(path.name + ":") and "alice" not in str(e.value)


def test_layout_shapes_are_what_write_all_writes():
    for kind, layout, opts in [("lstm", "keras", {}), ("gru", "keras", {}), ("gru", "keras", {"reset_after": False}), ("rnn", "keras", {}),
                               ("peephole", "keras", {}), ("lstm", "tf1", {"proj_size": 2}), ("peephole", "tf1", {}), ("fgr", "torch", {})]:
        for layers, bi in [(1, False), (2, True)]:
            m = cells.build(kind, 3, 5, num_layers=layers, bidirectional=bi, **opts)
            got = layouts.layout_shapes(m.spec, layout, m.options, layers, m.directions, 3, 5)
            assert got == {n: a.shape for n, a in m.to_arrays(layout).items()}, (kind, layout, opts)


# -- counts, names and zip members a crafted file may hold ------------------------------------------

def empty_tensors(n):
    return {f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(n)}


def many_members_npz(path, n):
    member = io.BytesIO()
    np.save(member, np.zeros(0, np.float32))
    with zipfile.ZipFile(path, "w") as z:
        for i in range(n):
            z.writestr(f"t{i}.npy", member.getvalue())
    return path


def test_max_tensors_is_counted_before_any_tensor_is_checked(tmp_path):
    with pytest.raises(cells.LimitError, match=r"^few.safetensors: 101 tensors is over the limit of 100 \(max_tensors\)$"):
        cells.load(raw_safetensors(tmp_path / "few.safetensors", empty_tensors(101)), kind="rnn", max_tensors=100)
    with pytest.raises(cells.LimitError, match=r"^meta.safetensors: more than 100 tensors is over the limit of 100 \(max_tensors\)$"):
        cells.load(raw_safetensors(tmp_path / "meta.safetensors", {**empty_tensors(101), "__metadata__": {}}), kind="rnn", max_tensors=100)
    path = raw_safetensors(tmp_path / "many.safetensors", empty_tensors(200_000))

    def refused():
        with pytest.raises(cells.LimitError, match=r"^many.safetensors: more than 4096 tensors is over the limit of 4096 \(max_tensors\)$"):
            cells.load(path, kind="rnn", limits=cells.Limits(max_tensors=4096))
    lines, peak = work(refused)
    # decoding stopped at the 4,099th object: the header's 200,000 entries were never built (that takes 9 times the
    # header's bytes; reading it and its text takes 2), nor was each one looked at
    assert peak < 3 * path.stat().st_size and lines < 200_000, (lines, peak, path.stat().st_size)
    with pytest.raises(cells.LimitError, match=r"^many.npz: 101 members is over the limit of 100 \(max_tensors\)$"):
        cells.load(many_members_npz(tmp_path / "many.npz", 101), kind="rnn", max_tensors=100)
    w = cells.build("rnn", 2, 3).to_arrays()  # 4 tensors
    np.savez(tmp_path / "w.npz", **w)
    save_file(w, str(tmp_path / "w.safetensors"), metadata={"note": "x"})
    for name in ("w.npz", "w.safetensors"):
        assert cells.load(tmp_path / name, kind="rnn", max_tensors=4).hidden_size == 3


def test_a_safetensors_header_over_16_mib_is_refused_by_name(tmp_path):
    n = 16 * 1024 * 1024 + 1
    path = raw_safetensors(tmp_path / "huge.safetensors", b"{" + b" " * (n - 2) + b"}")
    with pytest.raises(cells.FormatError, match=f"huge.safetensors: the safetensors header declares {n} bytes; at most 16777216 are read"):
        cells.load(path, kind="rnn")


@pytest.mark.parametrize("name,layout", [("weight_ih_l" + "9" * 5000, "torch"), ("kernel_l" + "9" * 5000, "keras"),
                                         ("rnn.weight_ih_l" + "1" * 5000 + "_reverse", "torch"), ("weight_ih_l\u0661", "torch")])
def test_layer_numbers_are_a_few_ascii_digits(tmp_path, name, layout):
    """int() refuses more than 4,300 digits (a ValueError, once a 500); such a name is just not a weight's."""
    path = tmp_path / "w.safetensors"
    save_file({name: np.zeros((4, 1), np.float32)}, str(path))
    with pytest.raises(cells.WeightNameError):
        cells.load(path, kind="rnn", layout=layout)


def patched_npz(path, offsets, value):
    """An .npz of one stored member whose local and central headers get ``value`` (2 bytes) at the given offsets."""
    np.savez(path, weight_ih_l0=np.zeros((1, 1), np.float32))
    raw = bytearray(path.read_bytes())
    for signature, offset in zip((b"PK\x03\x04", b"PK\x01\x02"), offsets):
        at = raw.index(signature) + offset
        raw[at:at + 2] = value.to_bytes(2, "little")
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("offsets,value,message", [((8, 10), 99, "uses compression method 99"), ((6, 8), 1, "is encrypted")])
def test_npz_members_are_stored_or_deflated_and_not_encrypted(tmp_path, offsets, value, message):
    path = patched_npz(tmp_path / "odd.npz", offsets, value)
    with pytest.raises(cells.FormatError, match=f"^odd.npz: member 'weight_ih_l0.npy' {message}; .npz members are stored or deflated"):
        cells.load(path, kind="rnn")
