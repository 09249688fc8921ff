"""gatescope's cell engine: every gate of every step of RNN, LSTM, GRU and their variants.

    import cells
    model = cells.build("lstm", input_size=3, hidden_size=8, seed=0)
    trace = model.run(xs)                 # xs: (T, 3)
    trace["forget"], trace["c"], trace.output

NumPy does the arithmetic; the safetensors package is used (lazily) to read
and write .safetensors files. Nothing here knows about HTTP or the page.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import io as _io
from . import layouts as _layouts
from .backprop.flow import gradient_flow
from .errors import CellsError, EmptySequenceError, FormatError, NonFiniteError, OptionError, ShapeError, UnknownKindError, WeightNameError
from .kinds import KINDS, REGISTRY
from .kinds import get as _get
from .model import Model, as_real_array, check_size, expected_shapes
from .spec import Name, Option, Vocabulary
from .trace import LayerTrace, Snapshot, State, Trace
from .vocab import Vocab

LAYOUTS = _layouts.LAYOUTS


def build(kind: str, input_size: int, hidden_size: int, *, num_layers: int = 1, bidirectional: bool = False,
          seed: int = 0, dtype: Any = "float32", **options: Any) -> Model:
    """A model with PyTorch's default initialization, U(-1/sqrt(H), 1/sqrt(H)), drawn from ``seed``.

    ``options`` are the kind's own (see ``cells.describe(kind)``), e.g.
    ``proj_size=4`` for lstm or ``reset_after=False`` for gru.
    """
    spec = _get(kind)
    opts = spec.check_options(options)
    input_size, hidden_size = check_size("input_size", input_size), check_size("hidden_size", hidden_size)
    num_layers = check_size("num_layers", num_layers)
    seed = check_size("seed", seed, minimum=0)
    directions = 2 if bidirectional else 1
    rng = np.random.default_rng(seed)
    out_size = spec.out_size(hidden_size, opts)
    params = {}
    for k in range(num_layers):
        width = input_size if k == 0 else directions * out_size
        for d in range(directions):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            for name, a in spec.init_params(width, hidden_size, opts, rng).items():
                params[name + sfx] = a
    return Model(kind, params, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                 bidirectional=bidirectional, options=opts, dtype=dtype)


def load(source: str | os.PathLike | Mapping[str, Any], kind: str | None = None, layout: str | None = None, *,
         dtype: Any = None, max_bytes: int | None = None, **options: Any) -> Model:
    """A model from a bundle, a weights file (.safetensors, .npz) or a mapping of name -> array.

    ``kind`` and ``layout`` come from the bundle's metadata when not given
    (layout defaults to "torch"). Sizes, depth, directions and a projection
    are read off the weights' names and shapes. With layout="tf1",
    forget_bias defaults to 1.0, as in TensorFlow.
    """
    fields: dict[str, Any] = {}
    if isinstance(source, (str, os.PathLike)):
        arrays, metadata = _io.read_arrays(source, max_bytes=max_bytes)
        fields = _io.bundle_fields(metadata)
    elif isinstance(source, Mapping):
        arrays = {str(k): as_real_array(str(k), v) for k, v in source.items()}
    else:
        raise CellsError(f"source: expected a file path or a mapping of name -> array, got {type(source).__name__}")
    kind = kind or fields.get("kind")
    if kind is None:
        raise CellsError(f"kind: not given, and the weights carry no gatescope metadata; pass kind= (one of: {', '.join(KINDS)})")
    spec = _get(kind)
    layout = layout or fields.get("layout") or "torch"
    opts = {**fields.get("options", {}), **options}
    if layout == "tf1":
        opts.setdefault("forget_bias", 1.0)
    _layouts.check_layout(spec, layout, opts)
    weights, extras = _io.split_extras({k: as_real_array(k, v) for k, v in arrays.items()})
    weights = _layouts.normalize(weights, layout)
    cfg = _layouts.infer(spec, weights, layout, opts)
    cfg["options"] = spec.check_options(cfg["options"])
    directions = 2 if cfg["bidirectional"] else 1
    expected = expected_shapes(spec, cfg["input_size"], cfg["hidden_size"], cfg["num_layers"], directions, cfg["options"])
    params = _layouts.read_all(spec, weights, layout, cfg, expected)
    vocab = Vocab(fields["vocab"]) if "vocab" in fields else None
    head = (extras["decoder.weight"], extras["decoder.bias"]) if "decoder.weight" in extras else None
    labels = fields.get("labels")
    if labels is None and head is not None and vocab is not None and len(vocab) == len(head[0]):
        labels = list(vocab.tokens)
    return Model(kind, params, input_size=cfg["input_size"], hidden_size=cfg["hidden_size"], num_layers=cfg["num_layers"],
                 bidirectional=cfg["bidirectional"], options=cfg["options"], dtype=dtype, vocab=vocab,
                 embedding=extras.get("embedding.weight"), head=head, labels=labels, card=fields.get("card"))


def describe(kind: str, **options: Any) -> dict:
    """A kind's title, reference, options, vocabulary (with equations) and phases, as plain data."""
    return _get(kind).describe(options)


def vocabulary(kind: str, **options: Any) -> Vocabulary:
    spec = _get(kind)
    return spec.vocabulary(spec.check_options(options))


__all__ = [
    "KINDS", "LAYOUTS", "REGISTRY", "build", "load", "describe", "vocabulary", "gradient_flow",
    "Model", "Trace", "LayerTrace", "Snapshot", "State", "Vocab", "Vocabulary", "Name", "Option",
    "CellsError", "UnknownKindError", "OptionError", "ShapeError", "WeightNameError", "NonFiniteError",
    "FormatError", "EmptySequenceError",
]
