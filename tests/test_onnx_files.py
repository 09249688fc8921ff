""".onnx models: their LSTM, GRU and RNN nodes read by cells.formats.onnx, checked against onnxruntime.

Models are made here: with onnx.helper (one node at a time, every option the reader reads or refuses) and with
torch.onnx.export of nn.LSTM / nn.GRU / nn.RNN. torch 2.9+ exports with dynamo (which needs onnxscript) by default;
the TorchScript exporter (dynamo=False) works offline with torch alone and is what these tests use.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from gatescope import cells
from gatescope.cells import reading

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

BLOCKS = {"LSTM": 4, "GRU": 3, "RNN": 1}
TOL = 2e-6  # float32 rounding over a few steps of both engines


def node(op, H=3, I=2, D=1, *, name=None, seed=0, bias=True, peep=False, x="X", y="Y", state=None, **attrs):
    """One recurrent node and its initializers, weights drawn like PyTorch's (U(-1/sqrt(H), 1/sqrt(H)) times 2)."""
    rng, G, pre = np.random.default_rng(seed), BLOCKS[op], name or op

    def init(suffix, shape):
        return numpy_helper.from_array((rng.uniform(-1.2, 1.2, shape) / np.sqrt(H)).astype(np.float32), pre + suffix)

    inits = [init("_W", (D, G * H, I)), init("_R", (D, G * H, H))] + ([init("_B", (D, 2 * G * H))] if bias else [])
    inputs = [x, pre + "_W", pre + "_R", pre + "_B" if bias else "", "", state or ""]
    if peep:
        inits.append(init("_P", (D, 3 * H)))
        inputs += ["", pre + "_P"]
    if D == 2:
        attrs["direction"] = "bidirectional"
    return helper.make_node(op, inputs, [y], name=pre, **{"hidden_size": H, **attrs}), inits


def save(path, nodes, inits, I=2, extra_inputs=(), opset=14):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", 1, I]), *extra_inputs],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], inits)
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def xs(T=7, I=2, seed=1):
    return np.random.default_rng(seed).normal(size=(T, I)).astype(np.float32)


def ort_output(path, feed) -> np.ndarray:
    """onnxruntime's first output; a recurrent node's Y [T, D, 1, H] as gatescope's output (T, D*H)."""
    y = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)[0]
    return y[:, :, 0].reshape(len(y), -1) if y.ndim == 4 else y[:, 0]


def one_node(tmp_path, op, D=1, **kw):
    n, inits = node(op, D=D, **kw)
    return save(tmp_path / "m.onnx", [n], inits)


# -- parity with onnxruntime ------------------------------------------------------------------------------------------

CASES = {  # id -> (op, directions, node keywords, the kind and options gatescope reads)
    "lstm": ("LSTM", 1, {}, "lstm", {}),
    "lstm-bi": ("LSTM", 2, {}, "lstm", {}),
    "lstm-peepholes": ("LSTM", 1, {"peep": True}, "peephole", {}),
    "lstm-peepholes-bi": ("LSTM", 2, {"peep": True}, "peephole", {}),
    "lstm-no-bias": ("LSTM", 1, {"bias": False}, "lstm", {}),
    "lstm-activations-named": ("LSTM", 2, {"activations": ["Sigmoid", "Tanh", "Tanh", "sigmoid", "tanh", "tanh"]}, "lstm", {}),
    "gru-lbr0": ("GRU", 1, {}, "gru", {"reset_after": False}),
    "gru-lbr1": ("GRU", 1, {"linear_before_reset": 1}, "gru", {"reset_after": True}),
    "gru-bi-lbr0": ("GRU", 2, {}, "gru", {"reset_after": False}),
    "gru-bi-lbr1": ("GRU", 2, {"linear_before_reset": 1}, "gru", {"reset_after": True}),
    "rnn": ("RNN", 1, {}, "rnn", {"nonlinearity": "tanh"}),
    "rnn-relu-bi": ("RNN", 2, {"activations": ["Relu", "Relu"]}, "rnn", {"nonlinearity": "relu"}),
}


@pytest.mark.parametrize("case", CASES)
def test_a_node_reads_as_onnxruntime_runs_it(tmp_path, case):
    op, D, kw, kind, options = CASES[case]
    path = one_node(tmp_path, op, D=D, **kw)
    model = cells.load(path)
    assert (model.kind, model.directions, model.hidden_size, model.input_size) == (kind, D, 3, 2)
    assert options.items() <= model.options.items()
    assert model.source["nodes"] == [op] and model.source["layout"] == "onnx"
    diff = np.abs(model.run(xs()).output - ort_output(path, {"X": xs()[:, None]})).max()
    assert diff < TOL, diff


def test_linear_before_reset_is_not_cosmetic(tmp_path):
    """The GRU's two forms differ by far more than rounding: the flag is read, not just carried."""
    before = cells.load(one_node(tmp_path, "GRU")).run(xs()).output
    after = cells.load(one_node(tmp_path, "GRU", linear_before_reset=1)).run(xs()).output
    assert np.abs(before - after).max() > 1e-2


def test_an_initial_state_from_a_graph_input_is_said_not_read(tmp_path):
    n, inits = node("GRU", state="h0")
    path = save(tmp_path / "m.onnx", [n], inits, extra_inputs=[helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, 1, 3])])
    model = cells.load(path)
    assert model.source["not_read"] == ["initial_h of 'GRU' (a graph input): runs start from zeros (Model.run takes h0=, c0=)"]
    feed = {"X": xs()[:, None], "h0": np.zeros((1, 1, 3), np.float32)}
    assert np.abs(model.run(xs()).output - ort_output(path, feed)).max() < TOL


def test_a_constant_initial_state_of_zeros_is_read_and_a_nonzero_one_refused(tmp_path):
    n, inits = node("RNN", state="h0")
    save(tmp_path / "z.onnx", [n], [*inits, numpy_helper.from_array(np.zeros((1, 1, 3), np.float32), "h0")])
    assert "not_read" not in cells.load(tmp_path / "z.onnx").source
    save(tmp_path / "n.onnx", [n], [*inits, numpy_helper.from_array(np.full((1, 1, 3), 0.5, np.float32), "h0")])
    with pytest.raises(cells.FormatError, match=r"^n\.onnx: node 'RNN' input initial_h \('h0'\) holds a nonzero initial state"):
        cells.load(tmp_path / "n.onnx")


def test_weights_from_constant_nodes_through_identity(tmp_path):
    n, inits = node("LSTM")
    consts = [helper.make_node("Constant", [], [t.name + "_c"], value=t) for t in inits]
    ident = [helper.make_node("Identity", [t.name + "_c"], [t.name]) for t in inits]
    path = save(tmp_path / "m.onnx", [*consts, *ident, n], [])
    assert np.abs(cells.load(path).run(xs()).output - ort_output(path, {"X": xs()[:, None]})).max() < TOL


# -- torch.onnx.export ------------------------------------------------------------------------------------------------

torch = pytest.importorskip("torch")


class Net(torch.nn.Module):
    """An embedding (or float inputs), the recurrent layers, and a per-step linear head (or none)."""

    def __init__(self, rnn, vocab=0, outputs=0):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, rnn.input_size) if vocab else None
        self.rnn = rnn
        self.fc = torch.nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), outputs) if outputs else None

    def forward(self, x):
        y, _ = self.rnn(self.emb(x) if self.emb is not None else x)
        return self.fc(y) if self.fc is not None else y


def export(path, rnn, vocab=0, outputs=0, T=6, seed=0):
    """``rnn`` in a Net, exported; returns the path and an input (token ids, or floats) in the layer's own layout."""
    torch.manual_seed(seed)
    net = Net(rnn, vocab, outputs).eval()
    shape = (1, T) if rnn.batch_first else (T, 1)
    x = torch.randint(0, vocab, shape) if vocab else torch.randn(*shape, rnn.input_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), input_names=["x"], dynamo=False)
    return path, x.numpy()


LAYERS = {  # id -> the layer torch exports
    "lstm": lambda: torch.nn.LSTM(3, 4),
    "lstm-2": lambda: torch.nn.LSTM(3, 4, num_layers=2),
    "lstm-2-bi": lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True),
    "lstm-2-bi-batch-first": lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    "gru": lambda: torch.nn.GRU(3, 4),
    "gru-2-bi": lambda: torch.nn.GRU(3, 4, num_layers=2, bidirectional=True),
    "rnn-relu-2": lambda: torch.nn.RNN(3, 4, num_layers=2, nonlinearity="relu"),
    "rnn-bi": lambda: torch.nn.RNN(3, 4, bidirectional=True),
}


def steps(rnn, a: np.ndarray) -> np.ndarray:
    """The batch of one out of an input or output in the layer's layout."""
    return a[0] if rnn.batch_first else a[:, 0]


@pytest.mark.parametrize("layer", LAYERS)
def test_torch_exports_read_as_one_stack_with_embedding_and_head(tmp_path, layer):
    rnn = LAYERS[layer]()
    path, ids = export(tmp_path / "m.onnx", rnn, vocab=11, outputs=5)
    assert reading.sniff(path) == "onnx"
    model = cells.load(path)
    assert (model.num_layers, model.bidirectional, model.hidden_size) == (rnn.num_layers, rnn.bidirectional, 4)
    assert len(model.source["nodes"]) == rnn.num_layers and "not_read" not in model.source
    assert model.embedding.shape == (11, 3) and model.decoder[0].shape == (5, 4 * model.directions)
    logits = model.logits(model.run(model.embed(steps(rnn, ids))).output)
    diff = np.abs(logits - steps(rnn, ort.InferenceSession(str(path)).run(None, {"x": ids})[0])).max()
    assert diff < TOL, diff


# -- through the server -----------------------------------------------------------------------------------------------

def trace_outputs(client, model_id, x: np.ndarray, directions: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The top layer's h (both directions side by side) and the head's values, as /api/trace sends them."""
    text = "; ".join(" ".join(f"{v:.9g}" for v in row) for row in x)
    got = [client.get("/api/trace", params={"model": model_id, "input": text, "input_type": "numbers", "digits": 9,
                                            "direction": d}).json() for d in range(directions)]
    preds = got[0].get("predictions")
    return np.concatenate([np.array(g["values"]["h"]) for g in got], axis=1), preds and np.array(preds["values"])


@pytest.mark.parametrize("make", ["helper peephole bi", "torch gru-2-bi", "torch lstm head"])
def test_uploads_run_as_onnxruntime_runs_them(client, tmp_path, make):
    if make.startswith("helper"):
        path, x, feed = one_node(tmp_path, "LSTM", D=2, peep=True), xs(), None
        feed = {"X": x[:, None]}
    else:
        rnn = LAYERS["gru-2-bi"]() if "gru" in make else LAYERS["lstm"]()
        path, raw = export(tmp_path / "m.onnx", rnn, outputs=5 if "head" in make else 0)
        x, feed = raw[:, 0], {"x": raw}
    r = client.post("/api/models", content=path.read_bytes())
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["source"]["format"] == "onnx" and client.get(f"/api/models/{info['id']}").json()["source"] == info["source"]
    h, preds = trace_outputs(client, info["id"], x, 2 if info["bidirectional"] else 1)
    want = ort_output(path, feed)
    assert np.abs((preds if preds is not None else h) - want).max() < 1e-5  # 9 significant digits of float32 values


def test_an_upload_the_reader_refuses_is_a_422_in_its_words(client, tmp_path):
    r = client.post("/api/models", content=one_node(tmp_path, "LSTM", direction="reverse").read_bytes())
    assert r.status_code == 422 and r.json()["detail"].startswith("the file: node 'LSTM': direction 'reverse'; gatescope reads")
    r = client.post("/api/models", content=squeezed(tmp_path, upper="GRU").read_bytes())
    assert r.status_code == 422 and "2 groups of recurrent nodes: 'lo' (lstm); 'hi' (gru)" in r.json()["detail"]
    r = client.post("/api/models", params={"prefix": "hi"}, content=squeezed(tmp_path, upper="GRU").read_bytes())
    assert r.status_code == 201 and r.json()["kind"] == "gru" and r.json()["source"]["nodes"] == ["hi"]


# -- stacks and groups ------------------------------------------------------------------------------------------------

def squeezed(tmp_path, upper="LSTM", H2=3, opset=14):
    """Two nodes, the lower one's Y squeezed into the upper one's X as torch writes a stack (axes an input from opset 13)."""
    lo, lo_inits = node("LSTM", name="lo", y="Ylo")
    hi, hi_inits = node(upper, H=H2, I=3, name="hi", x="Z", seed=3)
    axes = [numpy_helper.from_array(np.array([1], np.int64), "axes")] if opset >= 13 else []
    squeeze = helper.make_node("Squeeze", ["Ylo", "axes"], ["Z"], name="sq") if axes else helper.make_node("Squeeze", ["Ylo"], ["Z"], axes=[1])
    return save(tmp_path / "m.onnx", [lo, squeeze, hi], [*lo_inits, *hi_inits, *axes], opset=opset)


@pytest.mark.parametrize("opset", [11, 14])
def test_nodes_that_chain_and_agree_are_one_stack(tmp_path, opset):
    path = squeezed(tmp_path, opset=opset)
    model = cells.load(path)
    assert model.num_layers == 2 and model.source["nodes"] == ["lo", "hi"]
    assert np.abs(model.run(xs()).output - ort_output(path, {"X": xs()[:, None]})).max() < TOL
    assert cells.load(path, prefix="hi").num_layers == 1  # a node higher up, alone: its input is the layer below's h


def test_nodes_that_do_not_agree_are_groups_picked_by_name(tmp_path):
    path = squeezed(tmp_path, upper="GRU")
    with pytest.raises(cells.AmbiguousWeightsError) as e:
        cells.load(path)
    assert str(e.value) == ("m.onnx: the graph holds 2 groups of recurrent nodes: 'lo' (lstm); 'hi' (gru); pick one with "
                            "prefix= (a node's name; the page: Group), e.g. cells.load(..., prefix='lo'), or ?prefix=lo when uploading")
    assert cells.load(path, prefix="hi").kind == "gru"
    assert cells.load(path, prefix="lo").source["unused"] == ["'hi'"]
    with pytest.raises(cells.AmbiguousWeightsError, match=r"^m\.onnx: prefix 'nope' names no LSTM, GRU or RNN node; the graph holds 'lo'"):
        cells.load(path, prefix="nope")


def test_an_unreadable_node_is_listed_with_why_and_the_others_stay_readable(tmp_path):
    a, a_inits = node("LSTM", name="fine", y="Ya")
    b, b_inits = node("GRU", name="backwards", direction="reverse")
    path = save(tmp_path / "m.onnx", [a, b], [*a_inits, *b_inits])
    with pytest.raises(cells.AmbiguousWeightsError, match=r"'fine' \(lstm\); 'backwards' \(not readable: direction 'reverse'; "):
        cells.load(path)
    assert cells.load(path, prefix="fine").kind == "lstm"
    with pytest.raises(cells.FormatError, match="direction 'reverse'"):
        cells.load(path, prefix="backwards")


# -- what is refused, in its own words ---------------------------------------------------------------------------------

REFUSED = {  # id -> (op, node keywords, the message)
    "reverse": ("LSTM", {"direction": "reverse"}, "m.onnx: node 'LSTM': direction 'reverse'; gatescope reads forward and bidirectional "
                "nodes (a reverse direction runs only beside a forward one, as in PyTorch's bidirectional=True)"),
    "clip": ("GRU", {"clip": 1.5}, "m.onnx: node 'GRU': clip 1.5; ONNX clips every gate's pre-activation to ±clip, which no gatescope "
             "kind computes (export the model without clip)"),
    "clip-0": ("LSTM", {"clip": 0.0}, "m.onnx: node 'LSTM': clip 0.0; ONNX clips every gate's pre-activation to ±clip, which no "
               "gatescope kind computes (export the model without clip)"),
    "input_forget": ("LSTM", {"input_forget": 1}, "m.onnx: node 'LSTM': input_forget 1; the coupled forget gate f = 1 − i "
                     "(a CIFG LSTM) is not read from ONNX"),
    "activations": ("LSTM", {"activations": ["Sigmoid", "Relu", "Tanh"]}, "m.onnx: node 'LSTM': activations sigmoid, relu, tanh; "
                    "the lstm kind computes sigmoid, tanh, tanh (each direction alike)"),
    "hard-sigmoid": ("GRU", {"activations": ["HardSigmoid", "Tanh"]}, "m.onnx: node 'GRU': activations hardsigmoid, tanh; the gru "
                     "kind computes sigmoid, tanh (each direction alike)"),
    "mixed-directions": ("RNN", {"D": 2, "activations": ["Tanh", "Relu"]}, "m.onnx: node 'RNN': activations tanh, relu; the rnn "
                         "kind computes tanh; relu (each direction alike)"),
    "hidden_size": ("RNN", {"H": 3, "hidden_size": 5}, "m.onnx: node 'RNN': hidden_size 5 but R has shape (1, 3, 3): hidden size 3"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_no_kind_computes_is_refused_naming_node_and_value(tmp_path, case):
    op, kw, message = REFUSED[case]
    kw = dict(kw)
    n, inits = node(op, D=kw.pop("D", 1), H=kw.pop("H", 3), **kw)
    with pytest.raises(cells.FormatError) as e:
        cells.load(save(tmp_path / "m.onnx", [n], inits))
    assert str(e.value) == message


def test_weights_a_graph_computes_or_takes_as_input_are_refused(tmp_path):
    n, inits = node("LSTM")
    path = save(tmp_path / "m.onnx", [n], inits[1:], extra_inputs=[helper.make_tensor_value_info("LSTM_W", TensorProto.FLOAT, [1, 12, 2])])
    with pytest.raises(cells.FormatError) as e:
        cells.load(path)
    assert str(e.value) == ("m.onnx: node 'LSTM' input W ('LSTM_W') is a graph input, not an initializer or a Constant; "
                            "gatescope reads the weights a file holds")


def test_declared_shapes_meet_the_limits_before_any_data_is_read(tmp_path):
    """A node declaring a (1, 40000, 10000) W over a few bytes: refused on its declared size, nothing allocated."""
    n, inits = node("RNN")
    H, I = 10_000, 10_000
    huge = {"RNN_W": (1, H, I), "RNN_R": (1, H, H), "RNN_B": (1, 2 * H)}
    for t in inits:
        t.dims[:] = huge[t.name]
    n.attribute[0].i = H  # hidden_size
    path = save(tmp_path / "m.onnx", [n], inits, I=I)
    with pytest.raises(cells.LimitError) as e:
        cells.load(path, max_bytes=10**6)
    assert str(e.value) == ("m.onnx: tensors of 400000000 bytes once decoded (at node 'RNN' input W) is over the limit of "
                            "1000000 (max_bytes)")
    with pytest.raises(cells.FormatError) as e:
        cells.load(path)
    assert str(e.value) == "m.onnx: node 'RNN' input W ('RNN_W') declares the shape (1, 10000, 10000) (100000000 values) but holds 6"
    ints = [numpy_helper.from_array(np.ones(t.dims, np.int8), t.name) for t in node("RNN")[1]]
    with pytest.raises(cells.FormatError) as e:
        cells.load(save(tmp_path / "i.onnx", [node("RNN")[0]], ints))
    assert str(e.value) == "i.onnx: node 'RNN' input W ('RNN_W') holds INT8 values; weights are read as float, double or float16"


def test_external_data_is_refused_and_never_opened(tmp_path):
    n, inits = node("LSTM")
    graph = helper.make_graph([n], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", 1, 2])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], inits)
    onnx.save_model(helper.make_model(graph), str(tmp_path / "m.onnx"), save_as_external_data=True, location="w.bin", size_threshold=0)
    (tmp_path / "w.bin").unlink()  # whatever it names is never looked for
    with pytest.raises(cells.FormatError) as e:
        cells.load(tmp_path / "m.onnx")
    assert str(e.value) == ("m.onnx: tensor 'LSTM_W' is stored in another file (external data), which gatescope never opens; save "
                            "the model whole: onnx.save_model(model, 'm.onnx', save_as_external_data=False) after onnx.load('m.onnx')")


def test_limits_are_checked_on_declared_shapes(tmp_path):
    path = one_node(tmp_path, "LSTM", H=8)
    with pytest.raises(cells.LimitError) as e:
        cells.load(path, max_hidden=4)
    assert str(e.value) == "m.onnx: hidden size 8 (node 'LSTM', input R) is over the limit of 4 (max_hidden)"
    with pytest.raises(cells.LimitError, match=r"^m\.onnx: tensors of \d+ bytes once decoded \(at node 'LSTM' input W\) is over the "
                                               r"limit of 200 \(max_bytes\)$"):
        cells.load(path, max_bytes=200)
    with pytest.raises(cells.LimitError, match=r"^m\.onnx: 3 initializers is over the limit of 2 \(max_tensors\)$"):
        cells.load(path, max_tensors=2)
    with pytest.raises(cells.LimitError, match=r"^m\.onnx: 2 stacked layers \('lo', 'hi'\) is over the limit of 1 \(max_layers\)$"):
        cells.load(squeezed(tmp_path), max_layers=1)


def test_a_missing_onnx_package_says_what_to_install(tmp_path, monkeypatch):
    path = one_node(tmp_path, "GRU")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now fails, as without the extra
    monkeypatch.delitem(sys.modules, "gatescope.cells.formats.onnx", raising=False)
    with pytest.raises(cells.FormatError, match=r"^m\.onnx: an ONNX \.onnx file; reading it needs onnx, which is not installed: "
                                                r"pip install 'gatescope\[onnx\]'$"):
        cells.load(path)


def test_graphs_without_a_recurrent_node_and_damaged_files(tmp_path):
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in "XY"]
    graph = helper.make_graph([helper.make_node("Identity", ["X"], ["Y"])], "g", io[:1], io[1:])
    onnx.save_model(helper.make_model(graph), str(tmp_path / "id.onnx"))
    with pytest.raises(cells.FormatError) as e:
        cells.load(tmp_path / "id.onnx")
    assert str(e.value) == "id.onnx: an ONNX graph with no LSTM, GRU or RNN node (its operators: Identity)"
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(one_node(tmp_path, "RNN").read_bytes()[:-7])
    with pytest.raises(cells.FormatError, match=r"^cut\.onnx: not a valid ONNX model \(DecodeError"):
        cells.load(cut)


def test_sniff_knows_onnx_models_from_other_protobufs(tmp_path):
    assert reading.sniff(one_node(tmp_path, "RNN")) == "onnx"
    bare = tmp_path / "bare.onnx"  # no producer_name: the graph comes second
    onnx.save_model(helper.make_model(helper.make_graph([], "g", [], [])), str(bare))
    assert reading.sniff(bare) == "onnx"
    others = {"tensor.pb": numpy_helper.from_array(np.zeros((3, 4), np.float32)).SerializeToString(),  # an ONNX TensorProto
              "saved_model.pb": b"\x08\x01\x12\x90\x03\x0a\x0e\x0a\x05serve" + bytes(40),  # TensorFlow: schema version 1, meta graph
              "text.onnx": b"\x08\x09\x12\x05\x00\x01\x02\x03\x04 not text at all"}
    for name, data in others.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(cells.FormatError, match="not a weights file this reads"):
            reading.sniff(tmp_path / name)


# -- the onnx layout ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [k for k, spec in cells.REGISTRY.items() if "onnx" in spec.layouts])
def test_every_kind_with_the_onnx_layout_writes_and_reads_it_back(kind):
    opts = [{}] + ([{"reset_after": False}] if kind == "gru" else [])
    for o in opts:
        model = cells.build(kind, 3, 4, num_layers=2, bidirectional=True, seed=2, **o)
        arrays = model.to_arrays("onnx")
        assert arrays["W_l1_reverse"].shape == (len(model.spec.blocks) * 4, 8) and arrays["B_l0"].shape == (2 * len(model.spec.blocks) * 4,)
        back = cells.load(arrays, kind, "onnx", **o)
        assert back.params.keys() == model.params.keys() and all(np.array_equal(back.params[k], model.params[k]) for k in model.params)
    with pytest.raises(cells.OptionError, match="ONNX operators have no projection"):
        cells.build("lstm", 3, 4, proj_size=2).to_arrays("onnx")
