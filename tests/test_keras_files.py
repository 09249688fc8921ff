"""Keras' own files, read without Keras: the real .keras and .weights.h5 files in tests/keras_files/, against Keras.

tests/make_keras_files.py made each file with Keras 3 (it names the versions) and, beside it, NAME.npz of what Keras
computed on a fixed input: the recurrent group's input and output sequences and the model's outputs. Nothing here
imports Keras. Each file is read through cells.load, POST /api/models (then GET /api/trace?format=npz: full float32)
and `gatescope export --model`, and compared with Keras within float32's tolerance (1e-5, as tests/test_cells_parity.py).
Then the refusals, with their words, and hostile files (links out of the file, sizes past the limits, zip bombs,
truncated files), refused before anything of their size is allocated.
"""

import io
import json
import re
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from gatescope.app import cli

import gatescope
from gatescope import cells

FILES = Path(__file__).parent / "keras_files"
TOL = 1e-5
#: (file, prefix, options): every fixture that loads, with what picks its group
LOADS = [("char_lstm.keras", None, {}), ("words_gru.keras", None, {}), ("gru_reset_before.keras", None, {}), ("bigru.keras", None, {}),
         ("stacked_lstm.keras", None, {}), ("simple_rnn.keras", None, {}), ("masked_lstm.keras", None, {}),
         ("encoder_decoder.keras", "encoder", {}), ("encoder_decoder.keras", "decoder", {}), ("conv_lstm.keras", "lstm", {}),
         ("char_lstm.weights.h5", None, {}), ("gru_reset_before.weights.h5", None, {}), ("bigru.weights.h5", None, {}),
         ("simple_rnn.weights.h5", None, {"nonlinearity": "relu"}), ("stacked_lstm.weights.h5", "lstm", {}),
         ("stacked_lstm.weights.h5", "lstm_1", {}), ("encoder_decoder.weights.h5", "encoder", {}),
         ("encoder_decoder.weights.h5", "decoder", {})]
IDS = [f"{f}:{p}" if p else f for f, p, _ in LOADS]


def keras_numbers(name: str, prefix: str | None) -> dict:
    """What Keras computed for the group the file and prefix pick: xs (its input), rnn (its output: a sequence, or the
    last step's), h0/c0, and out (the model's outputs) where the group's head is read with it."""
    stem, weights_only = name.split(".")[0], name.endswith(".h5")
    with np.load(FILES / f"{stem}.npz") as z:
        k = {key: z[key] for key in z.files}
    if prefix == "encoder":
        return {"xs": k["source"], "rnn": k["encoder"]}
    if prefix == "lstm" and stem == "stacked_lstm":  # a weights file's lower layer, read alone
        return {"xs": k["x"], "rnn": k["rnn_0"]}
    if prefix == "lstm_1":
        return {"xs": k["rnn_0"], "rnn": k["rnn"]}
    got = {"xs": k["x"], "rnn": k["rnn"], **({"out": k["out"]} if not weights_only else {})}
    if prefix == "decoder":
        got.update(h0=k["h0"][None], c0=k["c0"][None])
    return got


def gap(got, want) -> float:
    """Max abs difference, the sequence's last step where Keras returned that step only."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.max(np.abs((got[-1] if want.ndim < got.ndim else got) - want)))


@pytest.mark.parametrize("name,prefix,options", LOADS, ids=IDS)
def test_cells_load_computes_what_keras_did(name, prefix, options):
    model = cells.load(FILES / name, prefix=prefix, **options)
    want = keras_numbers(name, prefix)
    trace = model.run(want["xs"], want.get("h0"), want.get("c0"))
    assert gap(trace.output, want["rnn"]) < TOL
    if "out" in want:
        assert gap(model.outputs(trace.output), want["out"]) < TOL
    assert model.source["format"] == ("Keras .weights.h5" if name.endswith(".h5") else "Keras .keras")


@pytest.mark.parametrize("name", ["char_lstm.keras", "words_gru.keras"])
def test_a_text_model_reads_text_through_the_archives_vocabulary(name):
    """The vocabulary of the StringLookup (its config) or the adapted TextVectorization (the archive's assets) reads the
    text Keras read into the same embedding rows; gatescope.run gives Keras' outputs."""
    stem = name.split(".")[0]
    with np.load(FILES / f"{stem}.npz") as z:
        text, x, out = str(z["input"]), z["x"], z["out"]
    model = gatescope.load(FILES / name)
    assert model.vocab.tokens[:2] == (["[UNK]", "a"] if stem == "char_lstm" else ["", "[UNK]"])
    assert gap(model.embed(np.array(model.vocab.encode(text))), x) < TOL
    assert gap(model.outputs(gatescope.run(model, text).output), out) < TOL
    assert model.head == ("softmax" if stem == "char_lstm" else "linear")
    assert model.source["vocabulary"] in ("string_lookup", "text_vectorization")


def numbers(xs) -> str:
    """Rows of numbers as the page's numbers input reads them, each float32 exactly (repr round-trips it)."""
    return "; ".join(" ".join(repr(float(v)) for v in row) for row in xs)


@pytest.mark.parametrize("name,prefix,options", [c for c in LOADS if c[1] != "decoder"], ids=[i for i in IDS if not i.endswith(":decoder")])
def test_the_upload_computes_what_keras_did(client, name, prefix, options):
    """POST /api/models (cells.load through app/store.py, the server's limits) and the trace's npz answer."""
    r = client.post("/api/models", params={**({"prefix": prefix} if prefix else {}), **options}, content=(FILES / name).read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["source"]["format"].startswith("Keras")
    want = keras_numbers(name, prefix)
    with np.load(FILES / f"{name.split('.')[0]}.npz") as z:
        text = str(z["input"]) if "input" in z.files and z["input"].ndim == 0 and name.endswith(".keras") else None
    query = {"input": text} if text else {"input": numbers(want["xs"]), "input_type": "numbers"}
    t = client.get("/api/trace", params={"model": r.json()["id"], "format": "npz", **query})
    assert t.status_code == 200, t.text
    with np.load(io.BytesIO(t.content)) as got:
        assert gap(got["output"], want["rnn"]) < TOL
        if "out" in want:
            assert gap(got["prediction"], want["out"]) < TOL


def test_gatescope_export_reads_a_keras_file(tmp_path):
    """The CLI's path that loads a file (gatescope export --model) reads it as an upload is."""
    want = keras_numbers("bigru.keras", None)
    out = tmp_path / "bigru.npz"
    with pytest.raises(SystemExit) as done:
        cli.main(["export", "--model", str(FILES / "bigru.keras"), "--format", "npz", "-o", str(out),
                  "--input", numbers(want["xs"]), "--set", "input_type=numbers"])
    assert done.value.code == 0
    with np.load(out) as got:
        assert gap(got["output"], want["rnn"]) < TOL and gap(got["prediction"], want["out"]) < TOL


def test_what_was_read_and_passed_over_is_said():
    masked = cells.load(FILES / "masked_lstm.keras")
    assert masked.source["layers"] == ["lstm", "dense"]
    assert masked.source["passed_over"] == ["masking (Masking: Keras skips the steps equal to mask_value; gatescope runs every step)",
                                            "dropout (Dropout: acts only in training)", "dropout_1 (Dropout: acts only in training)"]
    stacked = cells.load(FILES / "stacked_lstm.keras")
    assert (stacked.num_layers, stacked.source["layers"]) == (2, ["lstm", "lstm_1", "dense"])
    decoder = cells.load(FILES / "encoder_decoder.keras", prefix="decoder")
    assert decoder.source["passed_over"] == ["encoder (GRU)"] and decoder.source["initial_state"].startswith("from 'encoder'")
    assert cells.load(FILES / "gru_reset_before.keras").source["return_sequences"] is False
    bigru = cells.load(FILES / "bigru.weights.h5")
    assert bigru.source["layers"] == ["layers/bidirectional/forward_layer", "layers/bidirectional/backward_layer"]
    assert bigru.source["kind_from"] == "Keras' name 'gru_cell' (GRU) and the shapes" and bigru.options["reset_after"] is True
    assert cells.load(FILES / "gru_reset_before.weights.h5").options["reset_after"] is False  # the bias's shape: (3H,)
    relu = cells.load(FILES / "simple_rnn.weights.h5")  # no config: the activation is assumed, and said to be
    assert relu.options["nonlinearity"] == "tanh" and "nonlinearity" in relu.assumed
    conv = cells.load(FILES / "conv_lstm.keras", prefix="lstm")
    assert conv.source["input"] == "the output of 'conv1d' (Conv1D), which you feed" and conv.decoder is not None


# -- refusals ----------------------------------------------------------------------------------------------------

def test_several_groups_are_listed_with_their_kinds(client):
    with pytest.raises(cells.AmbiguousWeightsError) as e:
        cells.load(FILES / "encoder_decoder.keras")
    assert str(e.value) == "encoder_decoder.keras holds 2 recurrent groups: 'encoder' (gru), 'decoder' (lstm); pass prefix= (the page: Group)"
    r = client.post("/api/models", content=(FILES / "encoder_decoder.keras").read_bytes())
    assert r.status_code == 422
    assert r.json()["detail"] == "the file holds 2 recurrent groups: 'encoder' (gru), 'decoder' (lstm); pass prefix= (the page: Group)"
    assert r.json()["code"] == "pick_group"  # the page offers the groups, each with its kind
    assert r.json()["data"]["groups"] == [{"prefix": "encoder", "kinds": ["gru"]}, {"prefix": "decoder", "kinds": ["lstm"]}]
    with pytest.raises(cells.AmbiguousWeightsError) as e:
        cells.load(FILES / "stacked_lstm.weights.h5")
    assert str(e.value) == ("stacked_lstm.weights.h5 holds 2 recurrent groups: 'lstm' (lstm), 'lstm_1' (lstm); pass prefix= (the page: "
                            "Group). A .weights.h5 has no config.json to say which layers are stacked: save the model whole "
                            "(model.save('m.keras')) to read stacked layers as one model")
    with pytest.raises(cells.AmbiguousWeightsError) as e:
        cells.load(FILES / "encoder_decoder.keras", prefix="attention")
    assert str(e.value) == "encoder_decoder.keras: prefix 'attention' names no recurrent layer; the model holds 'encoder' (gru), 'decoder' (lstm)"


def test_a_front_end_no_kind_computes_is_named_with_the_layer_to_pick():
    with pytest.raises(cells.FormatError) as e:
        cells.load(FILES / "conv_lstm.keras")
    assert str(e.value) == ("conv_lstm.keras: layer 'conv1d' (Conv1D) comes before the recurrent layer 'lstm', and no gatescope kind "
                            "computes it; pass prefix='lstm' (the page: Group) to read 'lstm' alone: its input is then the output "
                            "of 'conv1d', which you feed")


def rewritten(tmp_path: Path, name: str, config=None, weights=None, drop=(), add=None) -> Path:
    """A copy of the archive ``name`` with config.json edited (``config(cfg)`` changes it in place), model.weights.h5
    replaced by ``weights`` bytes, members dropped or added."""
    out = tmp_path / name
    with zipfile.ZipFile(FILES / name) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "config.json" and config is not None:
                cfg = json.loads(data)
                config(cfg)
                data = json.dumps(cfg).encode()
            if info.filename == "model.weights.h5" and weights is not None:
                data = weights
            if info.filename not in drop:
                dst.writestr(info.filename, data)
        for member, data in (add or {}).items():
            dst.writestr(zipfile.ZipInfo(member), data, compress_type=zipfile.ZIP_DEFLATED)
    return out


def layer_config(cfg: dict, name: str) -> dict:
    return next(entry["config"] for entry in cfg["config"]["layers"] if entry["config"]["name"] == name)


def test_options_no_kind_computes_are_refused_naming_the_layer(tmp_path):
    path = rewritten(tmp_path, "char_lstm.keras", config=lambda c: layer_config(c, "lstm").update(recurrent_activation="hard_sigmoid"))
    with pytest.raises(cells.FormatError) as e:
        cells.load(path)
    assert str(e.value) == ("char_lstm.keras: layer 'lstm': activation 'tanh', recurrent_activation 'hard_sigmoid'; gatescope's lstm "
                            "computes sigmoid gates and a tanh candidate (activation='tanh', recurrent_activation='sigmoid', Keras' defaults)")
    path = rewritten(tmp_path, "simple_rnn.keras", config=lambda c: layer_config(c, "dense").update(activation="relu"))
    with pytest.raises(cells.FormatError, match=r"^simple_rnn.keras: layer 'dense' is a Dense with activation 'relu' there, after the "
                       r"recurrent layer 'simple_rnn'; gatescope's head is one Dense, linear or softmax \(expected .*\); pass "
                       r"prefix='simple_rnn' \(the page: Group\) to read the recurrent layers alone$"):
        cells.load(path)
    alone = cells.load(path, prefix="simple_rnn")
    assert alone.decoder is None and alone.source["passed_over"] == ["dense (Dense)"]


def weights_file(path: Path, groups: dict, attrs: dict | None = None) -> Path:
    """An HDF5 file of {group path: [arrays or (shape, dtype) declared without data]} (and root attributes)."""
    with h5py.File(path, "w") as f:
        for group, arrays in groups.items():
            g = f.require_group(group)
            for i, a in enumerate(arrays):
                if isinstance(a, tuple):
                    g.create_dataset(str(i), shape=a[0], dtype=a[1])  # allocated late: the file holds no data for it
                else:
                    g[str(i)] = a
        f.attrs.update(attrs or {})
    return path


def lstm_weights(I=3, H=2) -> list:
    rng = np.random.default_rng(0)
    return [rng.standard_normal((I, 4 * H)).astype("f4"), rng.standard_normal((H, 4 * H)).astype("f4"), np.zeros(4 * H, "f4")]


def test_weights_files_keras_does_not_write_are_refused_in_words(tmp_path):
    plain = weights_file(tmp_path / "data.h5", {"measurements": [np.ones((4, 4))]})
    with pytest.raises(cells.FormatError) as e:
        cells.load(plain)
    assert str(e.value) == ("data.h5: an HDF5 file with no Keras 3 recurrent layer in it (no SimpleRNN, LSTM or GRU weights under "
                            ".../cell/vars); gatescope reads the .weights.h5 of Keras 3's model.save_weights, and .keras archives")
    legacy = weights_file(tmp_path / "old.h5", {"lstm/lstm/lstm_cell": lstm_weights()}, {"keras_version": "2.15.0", "layer_names": ["lstm"]})
    with pytest.raises(cells.FormatError) as e:
        cells.load(legacy)
    assert str(e.value) == ("old.h5: a Keras 2 (tf.keras) HDF5 file; gatescope reads Keras 3's: load it in Keras 3 "
                            "(keras.models.load_model, or model.load_weights) and save it again with model.save('m.keras')")
    wrong = weights_file(tmp_path / "wrong.weights.h5", {"layers/gru/cell/vars": lstm_weights()})  # named as a GRU, shaped as an LSTM
    with pytest.raises(cells.FormatError, match=r"^wrong.weights.h5: 'layers/gru' is named as Keras names a GRU \('gru'\), but its "
                       r"weights are not a gru's: "):
        cells.load(wrong)


def test_a_group_no_name_says_is_read_off_its_shapes_or_refused_naming_kind(tmp_path):
    """A subclassed model's attribute names say nothing: the shapes decide where one kind fits, else kind= is asked for."""
    mine = weights_file(tmp_path / "mine.weights.h5", {"encoder/cell/vars": lstm_weights()})
    model = cells.load(mine)
    assert model.kind == cells.kinds.of_class("LSTM") and model.source["kind_from"] == "the shapes"
    rng = np.random.default_rng(1)
    two = weights_file(tmp_path / "two.weights.h5", {"encoder/cell/vars": [rng.standard_normal((3, 4)), rng.standard_normal((2, 4))]})
    with pytest.raises(cells.CellsError, match=r"^kind: not given, and the weights \(recurrent_kernel \(2, 4\)\) fit no kind in the keras "
                       r"layout; pass kind= "):
        cells.load(two)


def test_links_and_data_out_of_the_file_are_never_followed(tmp_path):
    """An external or soft link, external storage, a virtual dataset: refused, whether alone or inside an archive."""
    (tmp_path / "secret.bin").write_bytes(np.ones(24, "f4").tobytes())
    for how in ("external link", "soft link", "external storage", "virtual"):
        path = tmp_path / "char_lstm.weights.h5"
        shutil.copy(FILES / "char_lstm.weights.h5", path)
        with h5py.File(path, "a") as f:
            del f["layers/lstm/cell/vars/0"]
            vs = f["layers/lstm/cell/vars"]
            if how == "external link":
                vs["0"] = h5py.ExternalLink(str(tmp_path / "secret.h5"), "/x")
            elif how == "soft link":
                vs["0"] = h5py.SoftLink("/layers/lstm/cell/vars/1")
            elif how == "external storage":
                vs.create_dataset("0", shape=(4, 20), dtype="f4", external=[(str(tmp_path / "secret.bin"), 0, 320)])
            else:
                layout = h5py.VirtualLayout(shape=(4, 20), dtype="f4")
                layout[:] = h5py.VirtualSource(str(tmp_path / "secret.h5"), "x", shape=(4, 20))
                vs.create_virtual_dataset("0", layout)
        said = {"external link": "is an external link to another file", "soft link": "is a soft link",
                "external storage": "is stored in other files (external storage)",
                "virtual": "is a virtual dataset, made of other files' data"}[how]
        for target in (path, rewritten(tmp_path, "char_lstm.keras", weights=path.read_bytes())):
            with pytest.raises(cells.FormatError, match=f"^{target.name}: 'layers/lstm/cell/vars/0' {re.escape(said)}; "):
                cells.load(target)


def test_sizes_are_refused_before_anything_of_that_size_is_allocated(tmp_path):
    """Declared shapes of 160 GB, a config.json and a vocabulary of tens of MB: refused having allocated well under 1 MB."""
    declared = [((100_000, 400_000), "f4"), ((100_000, 400_000), "f4")]  # an LSTM's kernel and recurrent_kernel, 160 GB each
    huge = weights_file(tmp_path / "huge.weights.h5", {"layers/lstm/cell/vars": declared})
    inside = weights_file(tmp_path / "inside.h5", {"layers/lstm/cell/vars": declared, "layers/dense/vars": [((3, 2), "f4"), ((2,), "f4")]})
    big_vocab = "\n".join(f"token{i}" for i in range(3_000_000)).encode()
    cases = [(huge, {}, cells.LimitError, "huge.weights.h5: weights of 320000000000 bytes once decoded is over the limit of 67108864 (max_bytes)"),
             (rewritten(tmp_path, "masked_lstm.keras", weights=inside.read_bytes()), {}, cells.LimitError,
              "masked_lstm.keras: weights of 320000000032 bytes once decoded is over the limit of 67108864 (max_bytes)"),
             (rewritten(tmp_path, "words_gru.keras", drop=("assets/layers/text_vectorization/vocabulary.txt",),
                        add={"assets/layers/text_vectorization/vocabulary.txt": big_vocab}), {}, cells.LimitError,
              f"words_gru.keras: the vocabulary of 'text_vectorization': {len(big_vocab)} bytes (assets/layers/text_vectorization/"
              "vocabulary.txt), more than 1000 tokens of 128 characters take is over the limit of 1000 (max_vocab)"),
             (rewritten(tmp_path, "bigru.keras", drop=("config.json",), add={"config.json": b" " * 20_000_000}), {}, cells.FormatError,
              "bigru.keras: config.json declares 20000000 bytes; at most 16777216 are read")]
    limits = cells.Limits(max_bytes=64 * 1024 * 1024, max_vocab=1000, max_token_chars=128, max_tensors=4096)
    for path, options, error, message in cases:
        tracemalloc.start()
        try:
            with pytest.raises(error) as e:
                cells.load(path, limits=limits, **options)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert str(e.value) == message
        assert peak < 1_000_000, (path.name, peak)


def test_counts_past_the_limits_are_refused(tmp_path):
    with pytest.raises(cells.LimitError, match=r"^char_lstm.weights.h5: 6 variables is over the limit of 2 \(max_tensors\)$"):
        cells.load(FILES / "char_lstm.weights.h5", max_tensors=2)
    with pytest.raises(cells.LimitError, match=r"^char_lstm.keras: 3 archive members is over the limit of 2 \(max_tensors\)$"):
        cells.load(FILES / "char_lstm.keras", max_tensors=2)
    with pytest.raises(cells.LimitError, match=r"^char_lstm.keras: the vocabulary of 'string_lookup': 10 tokens is over the limit of 5"):
        cells.load(FILES / "char_lstm.keras", max_vocab=5)
    long = rewritten(tmp_path, "char_lstm.keras", config=lambda c: layer_config(c, "string_lookup")["vocabulary"].__setitem__(0, "a" * 300))
    with pytest.raises(cells.LimitError, match=r"^char_lstm.keras: the vocabulary of 'string_lookup': token 1 of 300 characters is over "
                       r"the limit of 128 \(max_token_chars\)$"):
        cells.load(long, max_token_chars=128)


def test_truncated_and_damaged_files_are_refused(tmp_path):
    whole = (FILES / "char_lstm.keras").read_bytes()
    cut = tmp_path / "cut.keras"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(cells.FormatError, match=r"^cut.keras: a damaged zip archive"):
        cells.load(cut)
    h5 = (FILES / "char_lstm.weights.h5").read_bytes()
    inside = rewritten(tmp_path, "char_lstm.keras", weights=h5[: len(h5) // 2])
    with pytest.raises(cells.FormatError, match=r"^char_lstm.keras: a damaged or malformed Keras file \(OSError: "):
        cells.load(inside)
    alone = tmp_path / "cut.weights.h5"
    alone.write_bytes(h5[: len(h5) // 2])
    with pytest.raises(cells.FormatError, match=r"^cut.weights.h5: a damaged or malformed Keras file \(OSError: "):
        cells.load(alone)
    no_weights = rewritten(tmp_path, "bigru.keras", drop=("model.weights.h5",), add={"other.h5": b""})
    with pytest.raises(cells.FormatError, match=r"^bigru.keras: a zip without model.weights.h5 \(it holds: "):
        cells.load(no_weights)
    bad_json = rewritten(tmp_path, "simple_rnn.keras", drop=("config.json",), add={"config.json": b"{not json"})
    with pytest.raises(cells.FormatError, match=r"^simple_rnn.keras: config.json is not valid JSON"):
        cells.load(bad_json)


def test_gatescope_export_picks_a_group_with_prefix(tmp_path, capsys):
    """A file of several groups: the CLI says which there are, and --prefix picks one, as the API's prefix= does."""
    want = keras_numbers("encoder_decoder.keras", "encoder")
    args = ["export", "--model", str(FILES / "encoder_decoder.keras"), "--format", "npz", "--input", numbers(want["xs"]),
            "--set", "input_type=numbers", "-o", str(tmp_path / "enc.npz")]
    with pytest.raises(SystemExit) as done:
        cli.main(args)
    assert done.value.code == 2 and "holds 2 recurrent groups: 'encoder' (gru), 'decoder' (lstm)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        cli.main(args + ["--prefix", "encoder"])
    assert done.value.code == 0
    with np.load(tmp_path / "enc.npz") as got:
        assert gap(got["output"], want["rnn"]) < TOL
