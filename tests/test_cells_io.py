"""Weights files, layouts and bundles: exact round trips, and hostile files refused unread."""

import json
import pickle
import zipfile

import numpy as np
import pytest
from safetensors.numpy import save_file

import cells

LAYOUT_CASES = [
    ("rnn", "keras", {}), ("lstm", "keras", {}), ("gru", "keras", {}), ("gru", "keras", {"reset_after": False}),
    ("peephole", "keras", {}), ("lstm", "tf1", {}), ("peephole", "tf1", {"cell_clip": 2.0}),
    ("peephole", "tf1", {"proj_size": 2}), ("lstm", "tf1", {"proj_size": 3}),
] + [(k, "torch", {}) for k in cells.KINDS]


@pytest.mark.parametrize("kind,layout,opts", LAYOUT_CASES, ids=[f"{k}-{lay}-{o}" for k, lay, o in LAYOUT_CASES])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
def test_layout_round_trip(kind, layout, opts, layers, bidirectional, tmp_path):
    model = cells.build(kind, 3, 5, num_layers=layers, bidirectional=bidirectional, seed=4, dtype="float64", **opts)
    arrays = model.to_arrays(layout)
    # options the weights cannot reveal are passed; sizes, depth, directions, projection are inferred
    hidden_opts = {k: v for k, v in opts.items() if k == "cell_clip"} | ({"forget_bias": 0.0} if layout == "tf1" else {})
    again = cells.load(arrays, kind=kind, layout=layout, **hidden_opts)
    assert again.config() == model.config()
    xs = np.random.default_rng(0).standard_normal((6, 3))
    np.testing.assert_allclose(again.run(xs).output, model.run(xs).output, rtol=0, atol=1e-13)
    back = again.to_arrays(layout)
    assert back.keys() == arrays.keys()
    for name in arrays:
        np.testing.assert_array_equal(back[name], arrays[name], err_msg=name)
    # and through an .npz file
    np.savez(tmp_path / "w.npz", **arrays)
    again = cells.load(tmp_path / "w.npz", kind=kind, layout=layout, **hidden_opts)
    assert again.config() == model.config()


def test_tf1_forget_bias_defaults_to_tensorflows():
    model = cells.load(cells.build("lstm", 2, 3).to_arrays("tf1"), kind="lstm", layout="tf1")
    assert model.options["forget_bias"] == 1.0


def test_keras_variable_paths_are_understood():
    arrays = cells.build("gru", 2, 3).to_arrays("keras")
    pathy = {f"gru/gru_cell/{k}:0": v for k, v in arrays.items()}
    model = cells.load(pathy, kind="gru", layout="keras")
    assert model.hidden_size == 3


def test_bundle_round_trip_with_vocab_embedding_and_decoder(tmp_path):
    vocab = list("abc ")
    base = cells.build("lstm", 5, 6, seed=1)
    rng = np.random.default_rng(0)
    model = cells.Model("lstm", base.params, input_size=5, hidden_size=6, vocab=cells.Vocab(vocab),
                        embedding=rng.standard_normal((4, 5)), decoder=(rng.standard_normal((4, 6)), np.zeros(4)),
                        labels=vocab, card={"task": "demo", "notes": "unit 3 counts"})
    path = tmp_path / "m.safetensors"
    model.save(path)
    again = cells.load(path)
    assert again.kind == "lstm" and again.vocab.tokens == vocab and again.card["notes"] == "unit 3 counts"
    ids = again.vocab.encode("abba c")
    trace = again.run(again.embed(ids))
    probs = again.predict(trace.output)
    assert probs.shape == (6, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(trace.output, model.run(model.embed(ids)).output)


def test_bundle_written_by_hand_as_the_readme_shows(tmp_path):
    """A user without gatescope writes the metadata keys themselves (see README)."""
    model = cells.build("gru", 4, 3, seed=2)
    tensors = dict(model.to_arrays("torch"))
    tensors["embedding.weight"] = np.ones((2, 4), np.float32)
    tensors["decoder.weight"], tensors["decoder.bias"] = np.ones((2, 3), np.float32), np.zeros(2, np.float32)
    meta = {"gatescope": "1", "kind": "gru", "layout": "torch", "vocab": json.dumps(["x", "y"])}
    save_file(tensors, str(tmp_path / "b.safetensors"), metadata=meta)
    again = cells.load(tmp_path / "b.safetensors")
    assert again.labels == ["x", "y"] and again.embedding.shape == (2, 4)


def test_bf16_tensors_are_widened(tmp_path):
    w = cells.build("rnn", 2, 3, seed=0).to_arrays()
    path = tmp_path / "bf16.safetensors"
    save_file({k: v.astype(np.float32) for k, v in w.items()}, str(path))
    # rewrite every tensor as bfloat16 by hand: keep the top 16 bits of each float32
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    data, body, offset = raw[8 + n:], b"", 0
    for key in sorted(k for k in header if k != "__metadata__"):
        start, end = header[key]["data_offsets"]
        bits = np.frombuffer(data[start:end], "<u4") >> 16
        chunk = bits.astype("<u2").tobytes()
        header[key] = {"dtype": "BF16", "shape": header[key]["shape"], "data_offsets": [offset, offset + len(chunk)]}
        body, offset = body + chunk, offset + len(chunk)
    head = json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + body)
    model = cells.load(path, kind="rnn")
    np.testing.assert_allclose(model.params["weight_ih_l0"], w["weight_ih_l0"], rtol=1e-2)


# -- hostile and wrong files ------------------------------------------------------------

class Boom:
    def __reduce__(self):
        import os
        return (os.system, ("touch /tmp/gatescope-was-unpickled",))


def test_pickles_are_refused_unread(tmp_path):
    import os
    marker = "/tmp/gatescope-was-unpickled"
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"weight_ih_l0": Boom()}))
    with pytest.raises(cells.FormatError, match="pickle"):
        cells.load(path, kind="lstm")
    assert not os.path.exists(marker)
    npz = tmp_path / "obj.npz"
    np.savez(npz, weight_ih_l0=np.array([Boom()], dtype=object))
    with pytest.raises(cells.FormatError, match="needs pickle"):
        cells.load(npz, kind="lstm")
    assert not os.path.exists(marker)


def test_torch_zip_checkpoints_and_keras_files_are_refused(tmp_path):
    pt = tmp_path / "ckpt.pth"
    with zipfile.ZipFile(pt, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(cells.FormatError, match="PyTorch checkpoint"):
        cells.load(pt, kind="lstm")
    h5 = tmp_path / "w.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(cells.FormatError, match="HDF5"):
        cells.load(h5, kind="lstm")


@pytest.mark.parametrize("content", [b"", b"hello world, not weights", b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1", b"PK\x03\x04garbage"])
def test_garbage_is_refused(content, tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(content)
    with pytest.raises(cells.FormatError):
        cells.load(path, kind="lstm")


def test_decompression_bombs_are_capped(tmp_path):
    path = tmp_path / "big.npz"
    np.savez_compressed(path, weight_ih_l0=np.zeros((2000, 2000)))
    assert path.stat().st_size < 100_000
    with pytest.raises(cells.LimitError, match="big.npz: arrays of 32000000 bytes once decoded is over the limit of 1000000"):
        cells.load(path, kind="lstm", max_bytes=1_000_000)


def test_missing_file():
    with pytest.raises(cells.FormatError, match="cannot read"):
        cells.load("/nonexistent/model.safetensors")


def test_vocab_errors_name_the_unknown_characters():
    v = cells.Vocab(list("abc"))
    with pytest.raises(cells.CellsError, match=r"2 character\(s\) not in the model's vocabulary of 3: 'x' at 1, '😀' at 3"):
        v.encode("axb😀")
    assert v.encode("axb", on_unknown="skip") == [0, 1]
    assert cells.Vocab(["<unk>", "a"]).encode("ab", on_unknown="map") == [1, 0]
    assert cells.Vocab(["hello", "world"]).encode("hello world hello") == [0, 1, 0]
    with pytest.raises(cells.CellsError, match="appears more than once"):
        cells.Vocab(["a", "a"])
