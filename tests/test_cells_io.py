"""Weights files, layouts and bundles: exact round trips, and hostile files refused unread."""

import json
import pickle
import zipfile

import numpy as np
import pytest
from safetensors.numpy import save_file

from gatescope import cells

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


def test_torch_zip_checkpoints_are_refused_with_the_way_to_convert_them(tmp_path):
    pt = tmp_path / "ckpt.pth"
    with zipfile.ZipFile(pt, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(cells.FormatError, match=r"ckpt.pth: a PyTorch pickle .*`gatescope convert ckpt.pth -o model.safetensors`.*from_torch"):
        cells.load(pt, kind="lstm")


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


# -- issue 18: a card's units and zh are typed, a vocabulary's tokens and labels are measured as they are read -----

def card_bundle(tmp_path, card: dict, hidden: int = 3) -> str:
    """A bundle (hidden ``hidden``) whose card is ``card``, written as a user would write it by hand."""
    meta = {"gatescope": "1", "kind": "gru", "card": json.dumps(card)}
    path = tmp_path / "card.safetensors"
    save_file(cells.build("gru", 2, hidden).to_arrays(), str(path), metadata=meta)
    return path


@pytest.mark.parametrize("units,message", [
    ("x", 'card units: got "x"; expected a list of unit indices'),
    ({"a": 1}, 'card units: got {"a": 1}; expected a list of unit indices'),
    (5, "card units: got 5; expected a list of unit indices"),
    (True, "card units: got true; expected a list of unit indices"),
    (["x"], 'card units: item 0 is "x"; expected a list of unit indices'),
    ([1, None], "card units: item 1 is null; expected a list of unit indices"),
    ([1.5], "card units: item 0 is 1.5; expected"),
    ([False], "card units: item 0 is false; expected"),
    ([-1], "card units: item 0 is -1; expected"),
    ([0, 3], "card units: item 1 is 3, not a unit of this model; expected a list of unit indices 0..2 (hidden_size 3)"),
    (["y" * 500], 'card units: item 0 is "' + "y" * 39 + "…; expected"),  # the value shortened
])
def test_card_units_must_be_unit_indices_of_the_model(units, message, tmp_path):
    with pytest.raises(cells.CellsError) as e:
        cells.load(card_bundle(tmp_path, {"title": "t", "units": units}))
    assert message in str(e.value)


def test_card_units_that_are_units_load_and_stay(tmp_path):
    model = cells.load(card_bundle(tmp_path, {"units": [2, 0]}))
    assert model.card["units"] == [2, 0]
    assert cells.load(card_bundle(tmp_path, {"units": []})).card["units"] == []


@pytest.mark.parametrize("card,message", [
    ({"zh": "x"}, 'card zh: got "x"; expected a JSON object of strings'),
    ({"zh": {"title": 5}}, 'card zh: "title" is 5; expected a JSON object of strings'),
    ({"zh": {"notes": ["a"]}}, 'card zh: "notes" is ["a"]; expected'),
    ({"task_title": 7}, "card task_title: expected a string, got int"),
])
def test_card_words_the_page_reads_are_typed(card, message, tmp_path):
    with pytest.raises(cells.FormatError) as e:
        cells.load(card_bundle(tmp_path, card))
    assert message in str(e.value)


def test_a_model_made_in_python_checks_its_cards_units_too():
    params = cells.build("gru", 2, 3).params
    with pytest.raises(cells.CellsError, match=r"card units: item 0 is null"):
        cells.Model("gru", params, input_size=2, hidden_size=3, card={"units": [None]})
    with pytest.raises(cells.CellsError, match=r"card units: item 0 is 7, not a unit of this model"):
        cells.Model("gru", params, input_size=2, hidden_size=3, card={"units": [7]})
    model = cells.Model("gru", params, input_size=2, hidden_size=3, card={"units": [np.int64(2)]})
    assert model.card["units"] == [2] and type(model.card["units"][0]) is int  # JSON-able, as a bundle writes it


def token_bundle(tmp_path, vocab, labels=None) -> str:
    n = len(vocab)
    model = cells.Model("gru", cells.build("gru", 2, 3).params, input_size=2, hidden_size=3, vocab=cells.Vocab(vocab),
                        embedding=np.ones((n, 2)), decoder=(np.ones((n, 3)), np.zeros(n)), labels=labels)
    path = tmp_path / "tokens.safetensors"
    model.save(path)
    return path


def test_a_token_or_label_longer_than_max_token_chars_is_refused_naming_it(tmp_path):
    assert "max_token_chars" in cells.reading.LIMIT_KEYWORDS and cells.Limits(max_token_chars=3).max_token_chars == 3
    path = token_bundle(tmp_path, ["a", "b", "x" * 1000])
    with pytest.raises(cells.LimitError) as e:
        cells.load(path, max_token_chars=128)
    assert str(e.value) == "vocab token 2: 'xxxxxxxxxxxxxxxxxxxx…' of 1000 characters is over the limit of 128 (max_token_chars)"
    assert e.value.keyword == "max_token_chars" and e.value.limit == 128
    assert len(cells.load(path).vocab.tokens[2]) == 1000  # no limit, no refusal (a stored model reads back as it was)
    path = token_bundle(tmp_path, ["a", "b"], labels=["yes", "n" * 200])
    with pytest.raises(cells.LimitError, match=r"^label 1: 'nnnnnnnnnnnnnnnnnnnn…' of 200 characters is over the limit of 128"):
        cells.load(path, limits=cells.Limits(max_token_chars=128))


def test_a_token_is_measured_as_it_reads_not_as_json_escapes_it(tmp_path):
    """json.dumps writes é as \\u00e9 (six characters) unless told otherwise: a token is measured once decoded."""
    tensors, meta = cells.io.bundle_parts(cells.load(token_bundle(tmp_path, ["a", "é" * 100])))
    meta["vocab"] = json.dumps(["a", "é" * 100])  # ensure_ascii: 600 characters of JSON for 100 of token
    assert len(meta["vocab"]) > 600
    save_file(tensors, str(tmp_path / "esc.safetensors"), metadata=meta)
    assert cells.load(tmp_path / "esc.safetensors", max_token_chars=100).vocab.tokens[1] == "é" * 100
    with pytest.raises(cells.LimitError, match="vocab token 1: 'éééééééééééééééééééé…' of 100 characters is over the limit of 99"):
        cells.load(tmp_path / "esc.safetensors", max_token_chars=99)


def test_labels_are_counted_by_max_vocab_as_the_vocab_is(tmp_path):
    path = token_bundle(tmp_path, list("abcd"), labels=list("wxyz"))
    fields = cells.io.bundle_fields
    with pytest.raises(cells.LimitError, match=r"^labels: 4 labels is over the limit of 3 \(max_vocab\)"):
        fields({"gatescope": "1", "labels": json.dumps(list("wxyz"))}, cells.Limits(max_vocab=3))
    with pytest.raises(cells.LimitError, match=r"^vocab: 4 tokens is over the limit of 3 \(max_vocab\)"):
        cells.load(path, max_vocab=3)
    assert cells.load(path, max_vocab=4).labels == list("wxyz")


@pytest.mark.parametrize("text", ['[["a"], "b"]', "[1, 2]", '["a" "b"]', '["a",]', '{"a": "b"}', '"a"', "[", ""])
def test_a_vocab_that_is_not_a_flat_list_of_strings_is_refused_while_counted(text):
    with pytest.raises(cells.FormatError, match="'vocab'"):
        cells.io.bundle_fields({"gatescope": "1", "vocab": text}, cells.Limits(max_vocab=10, max_token_chars=10))
    with pytest.raises(cells.FormatError, match="'vocab'"):  # the same file without limits is refused the same way
        cells.io.bundle_fields({"gatescope": "1", "vocab": text})


def test_a_vocab_is_refused_before_it_is_built():
    """One 16-million-character token, or a million tokens over max_vocab: refused having decoded neither."""
    import tracemalloc

    limits = cells.Limits(max_vocab=200_000, max_token_chars=128)
    huge = {"gatescope": "1", "vocab": json.dumps(["a", "b" * 16_000_000])}
    many = {"gatescope": "1", "vocab": json.dumps([f"token{i}" for i in range(1_000_000)])}
    for meta, message in ((huge, "vocab token 1: 'bbbbbbbbbbbbbbbbbbbb…' of 16000000 characters is over the limit of 128"),
                          (many, "vocab: 1000000 tokens is over the limit of 200000")):
        tracemalloc.start()
        try:
            with pytest.raises(cells.LimitError, match=message):
                cells.io.bundle_fields(meta, limits)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1_000_000, peak  # building either would take 16 MB or 60 MB
    good = [f"w{i}" for i in range(1000)]
    assert cells.io.bundle_fields({"gatescope": "1", "vocab": json.dumps(good)}, limits)["vocab"] == good
