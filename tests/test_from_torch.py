"""gatescope.from_torch and gatescope.from_keras: live framework objects as models, their numbers the frameworks' own.

The torch tests run where torch is installed (.ci/run installs the CPU wheel where the machine holds it, as for
test_cells_torch_live.py). Keras is not installed by CI: its tests build objects with Keras' own get_config() and
get_weights() shapes, whose weights are written in Keras' layout by hand here from torch-layout weights, and compare
the model with tests/reference.py, the plain per-step reference; where Keras is installed, real layers are checked too.
"""

from pathlib import Path

import numpy as np
import pytest
import reference

from gatescope import cells
import gatescope


def close(ours, theirs, dtype=np.float32):
    """Within 64 float roundings of each value: the same sums in another order (see test_cells_torch_live.py)."""
    tol = 64 * np.finfo(dtype).eps
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


# -- torch ---------------------------------------------------------------------------

def torch_modules():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    return {
        "lstm-2-bi-proj-batch-first": lambda: nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2, batch_first=True),
        "gru-no-bias": lambda: nn.GRU(3, 4, bias=False),
        "rnn-relu-3": lambda: nn.RNN(2, 4, num_layers=3, nonlinearity="relu"),
        "lstm-float64": lambda: nn.LSTM(3, 4).double(),
        "gru-bi": lambda: nn.GRU(2, 3, bidirectional=True),
    }


@pytest.mark.parametrize("name", ["lstm-2-bi-proj-batch-first", "gru-no-bias", "rnn-relu-3", "lstm-float64", "gru-bi"])
def test_a_recurrent_layer_gives_torchs_own_forward(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch_modules()[name]().eval()
    model = gatescope.from_torch(net)
    dtype = np.float64 if name.endswith("float64") else np.float32
    assert model.dtype == dtype and model.num_layers == net.num_layers and model.bidirectional == net.bidirectional
    xs = np.random.default_rng(1).standard_normal((12, net.input_size)) * 2
    x = torch.tensor(xs, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        out, state = net(x[None] if net.batch_first else x[:, None])
    out = out[0] if net.batch_first else out[:, 0]
    trace = model.run(xs)
    close(trace.output, out.numpy(), dtype)
    h_n = state[0] if isinstance(state, tuple) else state
    close(trace.final.h, h_n[:, 0].numpy(), dtype)
    if isinstance(state, tuple):
        close(trace.final.c, state[1][:, 0].numpy(), dtype)
    assert model.source["from"] == f"torch.nn.{type(net).__name__}"
    assert model.source.get("batch_first", False) == net.batch_first


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
def test_a_cell_gives_torchs_own_steps(cls):
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    cell = getattr(torch.nn, cls)(3, 4)
    model = gatescope.from_torch(cell)
    xs = np.random.default_rng(3).standard_normal((8, 3)).astype(np.float32)
    h, c, outs = torch.zeros(1, 4), torch.zeros(1, 4), []
    with torch.no_grad():
        for x in torch.tensor(xs):
            if cls == "LSTMCell":
                h, c = cell(x[None], (h, c))
            else:
                h = cell(x[None], h)
            outs.append(h[0].numpy())
    close(model.run(xs).output, np.array(outs))


def test_embedding_vocab_and_decoder_make_a_text_model_with_torchs_predictions(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(4)
    chars = list("abcdefgh ")
    embed, rnn, fc = torch.nn.Embedding(len(chars), 3), torch.nn.LSTM(3, 6), torch.nn.Linear(6, len(chars))
    model = gatescope.from_torch(rnn, vocab=chars, embedding=embed, decoder=fc)
    assert model.labels == chars and model.head == "softmax"
    text = "bad cafe"
    trace = gatescope.run(model, text)
    ids = torch.tensor([chars.index(ch) for ch in text])
    with torch.no_grad():
        probs = torch.softmax(fc(rnn(embed(ids)[:, None])[0][:, 0]), dim=-1).numpy()
    close(model.predict(trace.output), probs)
    assert trace.tokens == list(text)
    path = tmp_path / "m.safetensors"
    model.save(path)  # the bundle the page reads, vocabulary and head included
    back = gatescope.load(path)
    assert back.vocab.tokens == chars and np.array_equal(back.predict(back.run(back.embed(ids.numpy())).output),
                                                          model.predict(trace.output))


def test_the_model_is_a_copy_training_on_does_not_change_it():
    torch = pytest.importorskip("torch")
    net = torch.nn.GRU(2, 3)
    model = gatescope.from_torch(net, embedding=torch.nn.Embedding(4, 2), decoder=torch.nn.Linear(3, 2, bias=False))
    before = {k: a.copy() for k, a in model.params.items()}
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    assert all(np.array_equal(model.params[k], before[k]) for k in before)
    assert np.array_equal(model.decoder[1], np.zeros(2))  # nn.Linear(bias=False): a zero bias


def test_a_vocab_mapping_is_ordered_by_id_and_must_be_whole():
    torch = pytest.importorskip("torch")
    model = gatescope.from_torch(torch.nn.RNN(2, 3), vocab={"b": 1, "a": 0, "c": 2}, embedding=np.eye(3, 2))
    assert model.vocab.tokens == ["a", "b", "c"]
    with pytest.raises(cells.CellsError, match=r"vocab: a mapping of token -> id needs the ids 0\.\.1"):
        gatescope.from_torch(torch.nn.RNN(2, 3), vocab={"a": 0, "b": 2}, embedding=np.eye(2))
    with pytest.raises(cells.CellsError, match="vocab: given without an embedding"):
        gatescope.from_torch(torch.nn.RNN(2, 3), vocab=["a", "b"])
    with pytest.raises(cells.ShapeError, match="embedding.weight"):
        gatescope.from_torch(torch.nn.RNN(2, 3), vocab=["a", "b"], embedding=torch.nn.Embedding(2, 5))


def test_what_is_not_a_recurrent_layer_is_named_with_what_is_accepted():
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.rnn, self.fc = torch.nn.Embedding(5, 2), torch.nn.GRU(2, 3), torch.nn.Linear(3, 5)

    accepts = "expected a torch.nn.LSTM, nn.GRU or nn.RNN"
    with pytest.raises(cells.CellsError, match=f"from_torch: got torch.nn.Linear; {accepts}"):
        gatescope.from_torch(torch.nn.Linear(2, 3))
    with pytest.raises(cells.CellsError, match=r"got test_from_torch.Net; .* it holds .rnn \(GRU\): pass that layer"):
        gatescope.from_torch(Net())
    with pytest.raises(cells.CellsError, match=f"from_torch: got builtins.str; {accepts}"):
        gatescope.from_torch("lstm.pt")
    with pytest.raises(cells.CellsError, match="decoder: got builtins.str; expected a torch.nn.Linear"):
        gatescope.from_torch(torch.nn.GRU(2, 3), decoder="fc")


# -- Keras ---------------------------------------------------------------------------

class FakeLayer:
    """What from_keras reads of a Keras layer: its class name, name, get_config() and get_weights()."""

    def __init__(self, name, weights=(), **config):
        self.name, self._weights, self._config = name, [np.asarray(w) for w in weights], {"name": name, **config}

    def get_config(self):
        return dict(self._config)

    def get_weights(self):
        return [w.copy() for w in self._weights]


def fake(cls_name, *args, **kw):
    return type(cls_name, (FakeLayer,), {})(*args, **kw)


def keras_weights(kind, p, reset_after=True):
    """Torch-layout weights of one layer-direction written as Keras stores them (the reference notes: kernel = W_ih.T,
    one bias b_ih + b_hh, GRU blocks z, r, h, and with reset_after a (2, 3H) bias of input and recurrent rows)."""
    def blocks(a):
        if kind != "gru":
            return a
        r, z, n = np.split(a, 3, axis=0)
        return np.concatenate([z, r, n], axis=0)
    out = [blocks(p["weight_ih"]).T, blocks(p["weight_hh"]).T]
    if "bias_ih" in p:
        out.append(np.stack([blocks(p["bias_ih"]), blocks(p["bias_hh"])]) if kind == "gru" and reset_after
                   else blocks(p["bias_ih"] + p["bias_hh"]))
    return out


def torch_params(kind, input_size, hidden, rng, bias=True, reset_after=True):
    G = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    p = {"weight_ih": rng.standard_normal((G * hidden, input_size)) * 0.5, "weight_hh": rng.standard_normal((G * hidden, hidden)) * 0.5}
    if bias:
        p["bias_ih"] = rng.standard_normal(G * hidden) * 0.5
        p["bias_hh"] = rng.standard_normal(G * hidden) * 0.5 if kind != "gru" or reset_after else np.zeros(G * hidden)
    return p


KERAS_CASES = [("LSTM", "lstm", {}), ("GRU", "gru", {"reset_after": True}), ("GRU", "gru", {"reset_after": False}),
               ("SimpleRNN", "rnn", {"activation": "relu"}), ("LSTM", "lstm", {"use_bias": False})]


@pytest.mark.parametrize("cls,kind,config", KERAS_CASES, ids=["lstm", "gru", "gru-reset-before", "simplernn-relu", "lstm-no-bias"])
def test_a_keras_layer_computes_what_keras_does(cls, kind, config):
    rng = np.random.default_rng(5)
    bias, reset_after = config.get("use_bias", True), config.get("reset_after", True)
    p = torch_params(kind, 3, 4, rng, bias, reset_after)
    layer = fake(cls, "rec", keras_weights(kind, p, reset_after), units=4, activation=config.get("activation", "tanh"),
                 recurrent_activation="sigmoid", use_bias=bias, **({"reset_after": reset_after} if kind == "gru" else {}))
    model = gatescope.from_keras(layer, dtype="float64")
    xs = rng.standard_normal((10, 3))
    full = {k + "_l0": v for k, v in p.items()} | ({} if bias else {"bias_ih_l0": np.zeros(len(p["weight_ih"])),
                                                                     "bias_hh_l0": np.zeros(len(p["weight_ih"]))})
    want, _, _ = reference.run(kind, full, xs, num_layers=1, bidirectional=False, hidden=4, out_size=4,
                               opts={"reset_after": reset_after, "nonlinearity": config.get("activation", "tanh")})
    close(model.run(xs).output, want, np.float64)
    assert model.source["from"] == f"keras {cls}"


def test_a_keras_sequential_of_embedding_stacked_bidirectional_layers_and_dense():
    rng = np.random.default_rng(6)
    V, I, H = 7, 3, 4
    layers, params = [], {}
    for k, width in enumerate((I, 2 * H)):
        subs = []
        for d, sfx in enumerate(("", "_reverse")):
            p = torch_params("gru", width, H, rng)
            params.update({n + f"_l{k}{sfx}": a for n, a in p.items()})
            subs.append(fake("GRU", f"gru_{k}_{d}", keras_weights("gru", p), units=H, activation="tanh", recurrent_activation="sigmoid",
                             reset_after=True, go_backwards=bool(d)))
        bi = fake("Bidirectional", f"bidirectional_{k}")
        bi.forward_layer, bi.backward_layer, bi.merge_mode = subs[0], subs[1], "concat"
        layers.append(bi)
    emb = rng.standard_normal((V, I))
    w, b = rng.standard_normal((2 * H, V)), rng.standard_normal(V)
    net = fake("Sequential", "seq")
    net.layers = [fake("InputLayer", "in"), fake("Embedding", "emb", [emb]), *layers, fake("Dropout", "drop"),
                  fake("Dense", "dense", [w, b], activation="softmax")]
    tokens = list("abcdefg")
    model = gatescope.from_keras(net, vocab=tokens, dtype="float64")
    assert (model.num_layers, model.bidirectional, model.head, model.labels) == (2, True, "softmax", tokens)
    trace = gatescope.run(model, "gafe")
    ids = [tokens.index(ch) for ch in "gafe"]
    out, _, _ = reference.run("gru", params, emb[ids], num_layers=2, bidirectional=True, hidden=H, out_size=H, opts={})
    close(trace.output, out, np.float64)
    z = out @ w + b
    close(model.predict(trace.output), np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), np.float64)
    assert model.source["from"] == "keras Sequential > Bidirectional > Dense"


def test_keras_layers_gatescope_does_not_compute_are_named():
    rng = np.random.default_rng(7)
    w = keras_weights("lstm", torch_params("lstm", 2, 3, rng))
    with pytest.raises(cells.CellsError, match="layer 'l': activation 'tanh', recurrent_activation 'hard_sigmoid'"):
        gatescope.from_keras(fake("LSTM", "l", w, units=3, activation="tanh", recurrent_activation="hard_sigmoid"))
    with pytest.raises(cells.CellsError, match="go_backwards=True reads the sequence backwards on its own"):
        gatescope.from_keras(fake("LSTM", "l", w, units=3, go_backwards=True))
    with pytest.raises(cells.CellsError, match="from_keras: got builtins.dict; expected a Keras SimpleRNN, LSTM or GRU layer"):
        gatescope.from_keras({"kernel": w[0]})
    net = fake("Sequential", "seq")
    net.layers = [fake("LSTM", "a", w, units=3), fake("Conv1D", "conv")]
    with pytest.raises(cells.CellsError, match="layer 'conv' is a Conv1D there"):
        gatescope.from_keras(net)
    net.layers = [fake("LSTM", "a", w, units=3), fake("GRU", "b", keras_weights("gru", torch_params("gru", 3, 3, rng)), units=3)]
    with pytest.raises(cells.CellsError, match=r"the recurrent layers differ \('a': lstm, 3 units; 'b': gru, 3 units"):
        gatescope.from_keras(net)


def test_real_keras_layers_where_keras_is_installed():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(8)
    xs = rng.standard_normal((9, 3)).astype(np.float32)
    for layer in (keras.layers.GRU(4, return_sequences=True, reset_after=False), keras.layers.LSTM(4, return_sequences=True),
                  keras.layers.Bidirectional(keras.layers.SimpleRNN(4, return_sequences=True))):
        net = keras.Sequential([keras.Input((None, 3)), layer, keras.layers.Dense(2)])
        want = keras.ops.convert_to_numpy(net(xs[None]))[0]
        model = gatescope.from_keras(net)
        close(model.logits(model.run(xs).output), want)


def test_a_wrapped_layer_is_read_through_its_wrapper():
    torch = pytest.importorskip("torch")
    net = torch.nn.GRU(2, 3)
    xs = np.random.default_rng(9).standard_normal((5, 2)).astype(np.float32)
    want = gatescope.from_torch(net).run(xs).output
    assert np.array_equal(gatescope.from_torch(torch.nn.DataParallel(net)).run(xs).output, want)  # state_dict: module.weight_ih_l0
    assert np.array_equal(gatescope.from_torch(torch.compile(net)).run(xs).output, want)        # _orig_mod.weight_ih_l0


def test_importing_gatescope_imports_no_framework_and_no_server():
    import subprocess
    import sys
    code = ("import sys, gatescope; g = gatescope.build('gru', 1, 2); gatescope.run(g, [0.5, 1]); gatescope.run(g, '0.5, 1'); "
            "print(sorted(m for m in ('torch', 'keras', 'tensorflow', 'fastapi', 'starlette', 'anywidget') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(Path(__file__).parents[1]))
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
