"""A user's own weights file to a gatescope bundle: ``gatescope convert m.pt -o m.safetensors``.

The bundle is what the server reads (it never unpickles, and a bundle carries what a bare state_dict cannot: the
vocabulary that lets the page read typed text). The recurrent weights are found as :func:`gatescope.load` finds
them (``prefix`` picks a group, the kind is read off the shapes where they decide it). The model's own embedding and
output layer are among the file's other tensors: named with ``embedding=`` and ``decoder=``, or found when exactly
one tensor fits each (an embedding (V, input_size) without a bias; a decoder "X.weight" (outputs, hidden) with its
"X.bias").
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from gatescope import cells
from gatescope.cells import CellsError, Model, files

from .frameworks import _finish


def convert(path: str | os.PathLike, output: str | os.PathLike | None = None, *, vocab: Any = None, kind: str | None = None,
            layout: str | None = None, prefix: str | None = None, embedding: str | None = None,
            decoder: str | None = None, **options: Any) -> Model:
    """The model in ``path`` with its text side and head, written as a bundle to ``output`` when given."""
    model = cells.load(path, kind, layout, prefix=prefix, unpickle=True, **options)
    foreign = isinstance(model.source, dict) and "format" in model.source  # a Keras or ONNX reader found its own parts
    if foreign and model.vocab is None and vocab is not None:
        if model.embedding is None:
            raise CellsError(f"vocab: given, but {Path(path).name} has no embedding its reader found; it reads numbers")
        model = _finish(model, _vocab_file(vocab), model.embedding, model.decoder, {"converted_from": Path(path).name},
                        card=model.card or None)
    elif model.vocab is None and not foreign:  # plain weights: the embedding and head are among the file's other tensors
        arrays, _, _ = files.read(path, cells.Limits(), prefix=None, unpickle=True)
        root = model.source.get("prefix", "") if isinstance(model.source, dict) else ""
        unused = {n for n in arrays if not (n.startswith(root) and "." not in n[len(root):] and "/" not in n[len(root):])}
        emb = _embedding(arrays, unused, model.input_size, embedding, vocab)
        head = _decoder(arrays, unused, model.directions * model.out_size, decoder)
        if vocab is not None and emb is None:
            raise CellsError(f"vocab: given, but no tensor of the file is an embedding (V, {model.input_size}); name it with "
                             f"--embedding (the file's other tensors: {', '.join(sorted(unused)[:8]) or 'none'})")
        source = {"converted_from": Path(path).name, **({"embedding": emb[0]} if emb else {}), **({"decoder": head[0]} if head else {})}
        model = _finish(model, _vocab_file(vocab), None if emb is None else emb[1],
                        None if head is None else head[1], source, card=model.card or None)
    if output is not None:
        model.save(output)
    return model


def _embedding(arrays: dict, unused: set, width: int, name: str | None, vocab: Any) -> tuple[str, np.ndarray] | None:
    if name is not None:
        return name, _named(arrays, name, (None, width), "embedding")
    fits = [n for n in sorted(unused) if n.endswith("weight") and arrays[n].ndim == 2 and arrays[n].shape[1] == width
            and n.removesuffix("weight") + "bias" not in arrays]
    if len(fits) > 1 and vocab is not None:
        raise CellsError(f"embedding: {', '.join(fits)} could each be the embedding; name one with --embedding")
    return (fits[0], arrays[fits[0]]) if len(fits) == 1 else None


def _decoder(arrays: dict, unused: set, width: int, name: str | None) -> tuple[str, tuple] | None:
    if name is not None:
        stem = name.removesuffix("weight").removesuffix(".") + "."
        w = _named(arrays, stem + "weight", (None, width), "decoder")
        return stem + "weight", (w, arrays.get(stem + "bias", np.zeros(len(w), w.dtype)))
    fits = [n for n in sorted(unused) if n.endswith(".weight") and arrays[n].ndim == 2 and arrays[n].shape[1] == width
            and n.removesuffix("weight") + "bias" in arrays]
    if len(fits) != 1:  # none, or several layers of that width: the head is not guessed
        return None
    return fits[0], (arrays[fits[0]], arrays[fits[0].removesuffix("weight") + "bias"])


def _named(arrays: dict, name: str, shape: tuple, what: str) -> np.ndarray:
    if name not in arrays:
        raise CellsError(f"{what}: the file has no tensor {name!r}; it holds: {', '.join(sorted(arrays)[:12])}")
    a = arrays[name]
    if a.ndim != 2 or a.shape[1] != shape[1]:
        raise cells.ShapeError(name, ("?", shape[1]), a.shape, f"the {what} must be 2-D with {shape[1]} columns")
    return a


def _vocab_file(vocab: Any) -> Any:
    """A vocabulary as given (a list, a string of characters, a mapping), or read from a file: a JSON list or
    {token: id}, else one token per line."""
    if not isinstance(vocab, (str, os.PathLike)) or not Path(vocab).is_file():
        return vocab
    text = Path(vocab).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
