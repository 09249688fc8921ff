"""The README's Python snippets ("Your own model", "The engine in Python") run, and their bundles mean what they say."""

import re
from pathlib import Path

import numpy as np

from gatescope import cells

try:
    import torch
except ImportError:
    torch = None

README = Path(__file__).resolve().parent.parent / "README.md"


def snippets() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Your own model"):]
    section = section[: section.index("\n## ", section.index("## The engine in Python"))]
    return re.findall(r"```python\n(.*?)```", section, re.S)


class Layer:
    def __init__(self, *weights):
        self.weights = list(weights)

    def get_weights(self):
        return self.weights


class KerasModel:
    """What the Keras recipe touches: model.layers, each with get_weights()."""

    def __init__(self, vocab, I=3, H=5, seed=0):
        rng = np.random.default_rng(seed)
        self.cell = cells.build("lstm", I, H, seed=seed)
        k = self.cell.to_arrays("keras")
        self.E, self.W, self.b = rng.standard_normal((len(vocab), I)), rng.standard_normal((H, len(vocab))), rng.standard_normal(len(vocab))
        self.layers = [Layer(self.E), Layer(k["kernel"], k["recurrent_kernel"], k["bias"]), Layer(self.W, self.b)]


def engine_files():
    np.savez("w.npz", **cells.build("gru", 3, 4).to_arrays("keras"))
    from safetensors.numpy import save_file
    save_file(cells.build("lstm", 3, 4, num_layers=2, bidirectional=True).to_arrays(), "net.safetensors")
    enc, dec = cells.build("lstm", 3, 4).to_arrays(), cells.build("lstm", 4, 4).to_arrays()
    save_file({**{"encoder.lstm." + k: v for k, v in enc.items()}, **{"decoder.lstm." + k: v for k, v in dec.items()}}, "seq2seq.safetensors")


def test_the_readme_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine_files()
    blocks = snippets()
    assert len(blocks) >= 5
    chars = list("helo wrd")
    for code in blocks:
        if "safetensors.torch" in code:
            if torch is None:
                continue
            torch.manual_seed(0)
            net = torch.nn.Module()
            net.embed, net.rnn, net.fc = torch.nn.Embedding(len(chars), 3), torch.nn.LSTM(3, 5), torch.nn.Linear(5, len(chars))
            exec(code, {"model": net, "chars": chars})
            if "decoder.weight" in code:
                ids = [0, 1, 2, 2, 3]
                with torch.no_grad():
                    want = torch.softmax(net.fc(net.rnn(net.embed(torch.tensor(ids))[:, None])[0][:, 0]), -1).numpy()
                model = cells.load("model.safetensors")
                np.testing.assert_allclose(model.predict(model.run(model.embed(ids)).output), want, atol=1e-5)
            else:
                assert cells.load("rnn.safetensors", kind="lstm").hidden_size == 5
        elif "get_weights" in code:
            keras = KerasModel(chars)
            exec(code, {"model": keras, "vocab": chars})
            model = cells.load("model.safetensors")
            ids = model.vocab.encode("hello")
            h = keras.cell.run(keras.E[ids]).output
            z = h @ keras.W + keras.b  # Keras' Dense: h @ kernel + bias
            want = np.exp(z - z.max(1, keepdims=True))
            np.testing.assert_allclose(model.predict(model.run(model.embed(ids)).output), want / want.sum(1, keepdims=True), atol=1e-5)
        elif "import torch" not in code or torch is not None:
            exec(code, {})

