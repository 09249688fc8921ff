"""gatescope's cell engine: every gate of every step of RNN, LSTM, GRU and their variants.

    from gatescope import cells
    model = cells.build("lstm", input_size=3, hidden_size=8, seed=0)
    trace = model.run(xs)                 # xs: (T, 3)
    trace["forget"], trace["c"], trace.output
    model.run(xs, clamp="forget:1")       # what if: the forget gate held at 1 (cells.clamp)

NumPy does the arithmetic; the safetensors package is used (lazily) to read
and write .safetensors files. Nothing here knows about HTTP or the page.
"""

from __future__ import annotations

import math
import os
from functools import partial
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import files as _files
from . import fitting as _fitting
from . import io as _io
from . import kinds as _kinds
from . import layouts as _layouts
from . import reading as _reading
from . import weight_groups as _groups
from .backprop.flow import gradient_flow
from .clamp import Clamp, ClampError
from .diagrams import diagram
from .errors import CellsError, EmptySequenceError, FormatError, NonFiniteError, OptionError, ShapeError, UnknownKindError, WeightNameError
from .kinds import REGISTRY, register, registered, unregister
from .kinds import get as _get
from .model import Model, as_real_array, check_size
from .reading import LimitError, Limits
from .slots import expected_shapes, walk
from .spec import Glossary, Name, Option
from .trace import LayerTrace, Snapshot, State, Trace
from .vocab import Vocab
from .fitting import KindNeededError
from .weight_groups import AmbiguousWeightsError

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
    params = {}
    for slot in walk(input_size, spec.out_size(hidden_size, opts), num_layers, directions):  # draws in PyTorch's order
        for name, a in spec.init_params(slot.input_width, hidden_size, opts, rng).items():
            params[name + slot.suffix] = a
    return Model(kind, params, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                 bidirectional=bidirectional, options=opts, dtype=dtype)


def load(source: str | os.PathLike | Mapping[str, Any], kind: str | None = None, layout: str | None = None, *,
         dtype: Any = None, prefix: str | None = None, limits: Limits | None = None, max_bytes: int | None = None,
         unpickle: bool = False, **options: Any) -> Model:
    """A model from a bundle, a weights file or a mapping of name -> array.

    ``kind`` and ``layout`` come from the bundle's metadata when not given; else the names say the layout (Keras' or
    PyTorch's) and the shapes the kind where they decide it (cells.fitting); a reference implementation's state_dict
    (minGRU-pytorch's) is read by its kind (Kind.reference_marks). Sizes, depth, directions, a projection and biases
    are read off the weights' names and shapes; PyTorch's constructor arguments (num_layers, bidirectional,
    hidden_size, input_size, proj_size, bias) may be restated and must agree with them. A whole model's weights load
    when they hold one recurrent layer (or ``prefix`` picks one, e.g. "encoder.lstm."). ``limits`` (a
    :class:`Limits`, or its fields as keywords: max_layers=, max_hidden=, max_proj_size=, max_bytes=, max_vocab=,
    max_card_bytes=, max_tensors=) is checked on headers, names and shapes before anything is allocated. With
    layout="tf1", forget_bias defaults to 1.0, as in TensorFlow. The model's ``source`` says how the weights were
    found (layout, prefix, unused tensors, zero biases) and ``assumed`` what the weights could not say.

    Files are read whatever wrote them (cells.files): safetensors, .npz, Keras' .keras and .weights.h5, ONNX; a
    PyTorch pickle only with ``unpickle=True``, for a file that is the caller's own (never one a server received).
    """
    limits = Limits.merge(limits, max_bytes=max_bytes, **{k: options.pop(k) for k in _reading.LIMIT_KEYWORDS if k in options})
    arrays, fields, prefix = _arrays_and_fields(source, limits, prefix, unpickle)
    kind = kind or fields.get("kind")
    _get(kind) if kind is not None else None  # an unknown kind is named before anything else
    bundle = bool(fields)
    if not bundle:
        arrays, kind, options, prefix = _from_reference(arrays, kind, prefix, options)
    layout = layout or fields.get("layout") or _groups.layout_of(arrays)
    opts = {**fields.get("options", {}), **options}
    given = _layouts.restated(opts)
    asked = dict(opts)  # the options as the caller gave them, before any layout default
    weights, extras, found = _pick({k: as_real_array(k, v) for k, v in arrays.items()}, layout, prefix, opts)
    # plain weights: their shapes say the kind (cells.fitting), or the error says what to pass
    kind, chosen = (kind, None) if kind else _fitting.choose(weights, layout, opts, _fitting.evidence(weights))
    spec = _get(kind)
    if layout == "tf1":
        opts.setdefault("forget_bias", 1.0)
    _layouts.check_layout(spec, layout, {**opts, "proj_size": given.get("proj_size", 0)})
    _io.split_extras(extras)
    hint = partial(_kind_hint, bundle=bundle, kind=kind, weights=weights, layout=layout, opts=opts)
    cfg = _structure(spec, weights, layout, opts, given, limits, hint)
    if not cfg["bias"] and any(n.startswith("bias") for n in spec.param_names):
        found["bias"] = False  # nn.LSTM(bias=False) or Keras use_bias=False: zeros (a kind without biases has none to miss)
    said = fields.get("assumed") or ({} if bundle else spec.assumed(layout, asked, cfg["bias"]))  # a bundle's, a reader's, or ours
    assumed = {**({"kind": chosen} if chosen else {}), **said}  # and the kind read off the shapes, either way
    cfg["options"] = spec.check_options(cfg["options"])
    if not bundle:
        spec.check_file_options(layout, cfg["options"])
    _check_model_bytes(spec, cfg, weights, dtype, limits)
    try:
        params = _layouts.read_all(spec, weights, layout, cfg)
    except (ShapeError, WeightNameError) as e:
        raise hint(e) from None
    vocab, head, labels, card = _text_and_head(fields, extras, cfg["input_size"])
    if bundle and not (found["prefix"] or set(found) - {"layout", "prefix"}):
        found = {}  # a bundle read as written: nothing to report
    return Model(kind, params, input_size=cfg["input_size"], hidden_size=cfg["hidden_size"], num_layers=cfg["num_layers"],
                 bidirectional=cfg["bidirectional"], options=cfg["options"], dtype=dtype, vocab=vocab,
                 embedding=extras.get("embedding.weight"), decoder=head, labels=labels, card=card,
                 source=fields.get("source") or found, assumed=assumed)


def _pick(arrays: dict[str, np.ndarray], layout: str, prefix: str | None, opts: dict) -> tuple[dict, dict, dict]:
    """cells.weight_groups.pick; when the file holds several groups, the error says which kinds each group can be."""
    try:
        return _groups.pick(arrays, layout, prefix)
    except AmbiguousWeightsError as e:
        if prefix is not None or len(e.groups) < 2 or len(e.groups) > 50:
            raise
        kinds = {}
        for g in e.groups:
            try:
                kinds[g] = _fitting.kinds_for(_groups.pick(arrays, layout, g)[0], layout, opts)
            except CellsError:  # a group that is not one layer's weights (a Keras Bidirectional's half, say)
                kinds[g] = []
        listed = "; ".join(f"{g!r} ({_fitting.listed(kinds[g])})" for g in e.groups[:10])
        raise AmbiguousWeightsError(f"the file holds {len(e.groups)} groups of recurrent weights: {listed}; pick one with "
                                    f"prefix=, e.g. cells.load(..., prefix={e.groups[0]!r}), or ?prefix={e.groups[0]} when "
                                    f"uploading (the page: Group){_groups.STACKED_HINT if layout != 'torch' else ''}", e.groups,
                                    {g: _fitting.framework_first(k) for g, k in kinds.items()}) from None


def _structure(spec, weights: dict, layout: str, opts: dict, given: dict, limits: Limits, hint) -> dict:
    """What the weights hold (sizes, depth, directions, biases), within the limits and as the caller restated it."""
    try:
        cfg = _layouts.infer(spec, weights, layout, opts)
    except (ShapeError, WeightNameError) as e:
        raise hint(e) from None
    limits.check("num_layers", cfg["num_layers"], "max_layers")
    limits.check("hidden_size", cfg["hidden_size"], "max_hidden")
    limits.check("proj_size", cfg["options"].get("proj_size") or 0, "max_proj_size")
    _layouts.check_restated(spec, given, cfg, weights, layout)
    return cfg


def _kind_hint(e: CellsError, *, bundle: bool, kind: str, weights: dict, layout: str, opts: dict) -> CellsError:
    """``e``, its message ending with the kind the weights do fit when that is another kind (not for a bundle's own kind)."""
    hint = "" if bundle else _fitting.also_fits(kind, weights, layout, opts)
    if hint:
        e.args = (str(e).rstrip(".") + "." + hint,)
    return e


def _from_reference(arrays: dict, kind: str | None, prefix: str | None, options: dict) -> tuple[dict, str | None, dict, str | None]:
    """(arrays, kind, options, prefix) as cells.load goes on with them: a reference implementation's state_dict (its
    names under ``prefix``, or under the one prefix they have) read by its kind (Kind.from_reference), no prefix
    left to apply; else as they were."""
    found = _kinds.of_reference(n for n in arrays if prefix is None or n.startswith(prefix))
    if found is None or kind not in (None, found[0].name):
        return arrays, kind, options, prefix
    spec, at = found
    params, opts = spec.from_reference({n[len(at):]: a for n, a in arrays.items() if n.startswith(at)}, {})
    return params, spec.name, {**opts, **options}, None


def _arrays_and_fields(source: Any, limits: Limits, prefix: str | None,
                       unpickle: bool) -> tuple[dict[str, np.ndarray], dict[str, Any], str | None]:
    """The arrays of a file (checked against ``limits`` before they are read) or a mapping, a bundle's metadata ({} if
    none), and the prefix still to apply (None once a file's reader picked the group)."""
    if isinstance(source, (str, os.PathLike)):
        arrays, metadata, prefix = _files.read(source, limits, prefix=prefix, unpickle=unpickle)
        return arrays, _io.bundle_fields(metadata, limits), prefix
    if isinstance(source, Mapping):
        arrays = {str(k): as_real_array(str(k), v) for k, v in source.items()}
        total = _reading.arrays_bytes(arrays)
        limits.check("the arrays", total, "max_bytes", f"{total} bytes once decoded")
        return arrays, {}, prefix
    raise CellsError(f"source: expected a file path or a mapping of name -> array, got {type(source).__name__}")


def _check_model_bytes(spec, cfg: dict, weights: dict[str, np.ndarray], dtype: Any, limits: Limits) -> None:
    """The model's weights must fit max_bytes at the dtype they will have (float64 if asked for or given), before any is converted."""
    directions = 2 if cfg["bidirectional"] else 1
    expected = expected_shapes(spec, cfg["input_size"], cfg["hidden_size"], cfg["num_layers"], directions, cfg["options"])
    wide = dtype is not None and np.dtype(dtype) == np.float64 or any(a.dtype == np.float64 for a in weights.values())
    size = sum(math.prod(s) for s in expected.values()) * (8 if wide else 4)
    limits.check("the model", size, "max_bytes", f"{size} bytes of weights (hidden_size {cfg['hidden_size']}, "
                                                f"input_size {cfg['input_size']}, {cfg['num_layers']} layer(s))")


def _text_and_head(fields: dict, extras: dict, input_size: int):
    """A bundle's vocabulary, decoder, labels (the vocabulary when it names the decoder's outputs) and card."""
    vocab = Vocab(fields["vocab"]) if "vocab" in fields else None
    head = (extras["decoder.weight"], extras["decoder.bias"]) if "decoder.weight" in extras else None
    labels = fields.get("labels")
    if labels is None and head is not None and vocab is not None and len(vocab) == len(head[0]):
        labels = list(vocab.tokens)
    card = fields.get("card")
    if card:
        _io.check_card_fits(card, vocab is not None and "embedding.weight" in extras, input_size)
    return vocab, head, labels, card


def describe(kind: str, **options: Any) -> dict:
    """A kind's title, reference, options, glossary (names with equations) and phases, as plain data; each entry's
    words in Chinese beside the English as its ``zh`` (cells.spec, "two languages")."""
    return _get(kind).describe(options)


def glossary(kind: str, **options: Any) -> Glossary:
    spec = _get(kind)
    return spec.glossary(spec.check_options(options))


def __getattr__(name: str):
    if name == "KINDS":  # the registry's names, read each time (see cells.kinds.register)
        return tuple(REGISTRY)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KINDS", "LAYOUTS", "REGISTRY", "register", "registered", "unregister", "build", "load", "describe", "glossary", "diagram", "gradient_flow",
    "Model", "Trace", "LayerTrace", "Snapshot", "State", "Vocab", "Glossary", "Name", "Option",
    "CellsError", "UnknownKindError", "OptionError", "ShapeError", "WeightNameError", "NonFiniteError",
    "FormatError", "EmptySequenceError", "LimitError", "AmbiguousWeightsError", "KindNeededError", "Limits", "Clamp", "ClampError",
]
