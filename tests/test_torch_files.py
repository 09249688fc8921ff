"""A PyTorch user's own files: state_dicts and checkpoints through gatescope.load and `gatescope convert`; the
server's refusal of a pickle says how to convert it; the kind read off torch's shapes; several groups named with
the kinds each can be."""

import io
import subprocess
import sys

import numpy as np
import pytest

import gatescope
from gatescope import cells
from gatescope.convert import convert

torch = pytest.importorskip("torch")
F32 = dict(rtol=1e-5, atol=1e-5)  # float32 through two frameworks' own matrix products


class CharNet(torch.nn.Module):
    """What a character model looks like in a tutorial: embedding, a recurrent layer, a linear head."""

    def __init__(self, cls=torch.nn.LSTM, vocab=7, width=5, hidden=8, **kw):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, width)
        self.rnn = cls(width, hidden, batch_first=True, **kw)
        self.fc = torch.nn.Linear(hidden * (2 if kw.get("bidirectional") else 1), vocab)

    def forward(self, ids):
        y, _ = self.rnn(self.emb(ids))
        return self.fc(y)


@pytest.fixture
def net():
    torch.manual_seed(0)
    return CharNet(num_layers=2).eval()


def logits_of(model: cells.Model, text: str) -> np.ndarray:
    trace = gatescope.run(model, text)
    return model.logits(trace.output)


def torch_logits(net, text: str, vocab: str) -> np.ndarray:
    with torch.no_grad():
        return net(torch.tensor([[vocab.index(c) for c in text]]))[0].numpy()


def test_a_state_dict_and_a_checkpoint_load_with_their_kind_read_off_the_shapes(net, tmp_path):
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    torch.save({"epoch": 3, "model_state_dict": net.state_dict(), "optimizer_state_dict": {}}, tmp_path / "ckpt.pth")
    torch.save(net.state_dict(), tmp_path / "old.pt", _use_new_zipfile_serialization=False)  # torch's pre-1.6 format
    for name in ("sd.pt", "ckpt.pth", "old.pt"):
        m = gatescope.load(tmp_path / name)
        assert (m.kind, m.num_layers, m.hidden_size, m.input_size) == ("lstm", 2, 8, 5)
        assert m.source["prefix"] == "rnn." and m.source["unused"] == ["emb.weight", "fc.bias", "fc.weight"]
        assert m.assumed["kind"].startswith("read off the weights' shapes (weight_hh_l0 (32, 8)), as the framework's own lstm")
        x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
        with torch.no_grad():
            want = net.rnn(torch.from_numpy(x)[None])[0][0].numpy()
        np.testing.assert_allclose(m.run(x).output, want, **F32)


def test_a_whole_pickled_module_is_refused_with_the_way_that_works(net, tmp_path):
    torch.save(net, tmp_path / "whole.pt")
    with pytest.raises(cells.FormatError, match=r"^whole.pt: a whole pickled object \(test_torch_files.CharNet; torch.save\(model\) "
                                                r"saves the module itself\).*gatescope.from_torch\(model.rnn"):
        gatescope.load(tmp_path / "whole.pt")


def test_the_engine_and_the_server_never_unpickle(net, tmp_path, client):
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    with pytest.raises(cells.FormatError, match=r"^sd.pt: a PyTorch pickle \(torch.save\), which gatescope reads only as its owner's"):
        cells.load(tmp_path / "sd.pt")  # the engine's default: unpickle=False
    r = client.post("/api/models", content=(tmp_path / "sd.pt").read_bytes())
    detail = r.json()["detail"]
    assert r.status_code == 422 and detail.startswith("the file: a PyTorch pickle")
    assert "`gatescope convert model.pt -o model.safetensors`" in detail and "gatescope.from_torch(model.rnn" in detail


def test_convert_writes_a_bundle_that_reads_text_as_the_torch_model_does(net, tmp_path):
    torch.save({"state_dict": net.state_dict()}, tmp_path / "ckpt.pt")
    (tmp_path / "vocab.txt").write_text("\n".join("abcdefg") + "\n")
    m = convert(tmp_path / "ckpt.pt", tmp_path / "m.safetensors", vocab=tmp_path / "vocab.txt")
    assert m.source["embedding"] == "emb.weight" and m.source["decoder"] == "fc.weight" and m.labels == list("abcdefg")
    back = cells.load(tmp_path / "m.safetensors")  # a bundle: what the server reads
    np.testing.assert_allclose(logits_of(back, "badcafe"), torch_logits(net, "badcafe", "abcdefg"), **F32)


def test_convert_on_the_command_line(tmp_path):
    torch.manual_seed(1)
    net = CharNet(torch.nn.GRU, bidirectional=True).eval()
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    (tmp_path / "v.json").write_text('{"a": 0, "b": 1, "c": 2, "d": 3, "e": 4, "f": 5, "g": 6}')
    out = subprocess.run([sys.executable, "-m", "gatescope", "convert", str(tmp_path / "sd.pt"), "-o", str(tmp_path / "m.safetensors"),
                          "--vocab", str(tmp_path / "v.json")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"gatescope convert: wrote {tmp_path / 'm.safetensors'}: gru, input 5, hidden 8, 1 layer, bidirectional; "
                                 "vocabulary of 7; head of 7 outputs")
    np.testing.assert_allclose(logits_of(cells.load(tmp_path / "m.safetensors"), "gagged"), torch_logits(net, "gagged", "abcdefg"), **F32)
    wrong = subprocess.run([sys.executable, "-m", "gatescope", "convert", str(tmp_path / "sd.pt"), "-o", str(tmp_path / "x.safetensors"),
                            "--kind", "lstm"], capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 2 and wrong.stderr.strip().endswith("These weights fit kind=gru (or cifg, nig, nfg), not kind=lstm.")


def test_convert_says_what_it_cannot_find(net, tmp_path):
    sd = net.state_dict()
    torch.save({k: v for k, v in sd.items() if not k.startswith("emb.")}, tmp_path / "noemb.pt")
    with pytest.raises(cells.CellsError, match=r"vocab: given, but no tensor of the file is an embedding \(V, 5\); name it with --embedding"):
        convert(tmp_path / "noemb.pt", vocab="abcdefg")
    torch.save(sd, tmp_path / "sd.pt")
    with pytest.raises(cells.CellsError, match="embedding: the file has no tensor 'embed.weight'; it holds: emb.weight, fc.bias"):
        convert(tmp_path / "sd.pt", vocab="abcdefg", embedding="embed.weight")


def test_a_wrong_kind_names_the_kind_the_weights_fit():
    gru = cells.build("gru", 3, 6).to_arrays()
    with pytest.raises(cells.ShapeError, match=r"^weight_hh_l0: expected shape \(4\*hidden_size, \?\), got \(18, 6\) \(a lstm stacks 4 gate blocks .*\)\. "
                                               r"These weights fit kind=gru \(or cifg, nig, nfg\), not kind=lstm\.$"):
        cells.load(gru, kind="lstm")
    with pytest.raises(cells.KindNeededError, match=r"kind: not given, and the weights \(weight_hh_l0 \(10, 3\)\) fit no kind") as e:
        cells.load({"weight_ih_l0": np.zeros((10, 2)), "weight_hh_l0": np.zeros((10, 3))})
    assert "gru" in e.value.kinds and "lstm" in e.value.kinds  # none fits: a form offers every kind of the layout


def test_the_upload_names_each_group_with_its_kinds_for_the_page_to_offer(client):
    buf = io.BytesIO()
    np.savez(buf, **{f"encoder.{k}": v for k, v in cells.build("gru", 2, 3).to_arrays().items()},
             **{f"decoder.{k}": v for k, v in cells.build("rnn", 3, 4).to_arrays().items()})
    r = client.post("/api/models", content=buf.getvalue())
    assert r.status_code == 422 and r.json()["code"] == "pick_group"
    assert r.json()["data"]["groups"] == [{"prefix": "decoder.", "kinds": ["rnn"]},
                                         {"prefix": "encoder.", "kinds": ["gru", "cifg", "nig", "nfg", "nog"]}]
    assert "'decoder.' (rnn); 'encoder.' (gru; also cifg, nig, nfg, nog)" in r.json()["detail"]
    r = client.post("/api/models", params={"prefix": "encoder."}, content=buf.getvalue())
    assert r.status_code == 201 and r.json()["kind"] == "gru"
    buf = io.BytesIO()
    np.savez(buf, weight_ih_l0=np.zeros((10, 2)), weight_hh_l0=np.zeros((10, 3)))
    r = client.post("/api/models", content=buf.getvalue())
    assert r.status_code == 422 and r.json()["code"] == "pick_kind" and "lstm" in r.json()["data"]["kinds"]
