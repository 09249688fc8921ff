"""Live framework objects as gatescope models: torch modules and Keras layers, with no file in between.

A torch module's state_dict or a Keras layer's get_weights() goes through cells.load, the reader an uploaded file
goes through, so the layouts' traps (GRU block order, Keras' one bias, reset_after) live in one place
(cells.layouts); a Keras model's layers are read by the reading a saved .keras file gets (cells.formats.keras_layers),
so a live model and its file give one model. Neither framework is imported here: an object of theirs exists only once its framework does, and
sys.modules says so. The frameworks name their classes after the kinds they compute (nn.LSTM, nn.GRUCell,
SimpleRNN): the kind is the class name less "Cell" or "Simple", lower-cased, so no kind is named here.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from gatescope import cells
from gatescope.cells import CellsError, Model, Vocab
from gatescope.cells.formats.keras_layers import ACCEPTS, LOOKUPS, RECURRENT, Layer, links, model_of
from gatescope.cells.kinds import get as kind_spec
from gatescope.cells.kinds import REGISTRY, of_class

TORCH_CLASSES = ("LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell")
TORCH_ACCEPTS = "torch.nn.LSTM, nn.GRU or nn.RNN (any num_layers, bidirectional, proj_size, bias, batch_first), or nn.LSTMCell, GRUCell, RNNCell"


def _kind_of(class_name: str) -> str:
    kind = of_class(class_name)
    if kind is None:  # the callers pass only the classes they accept, each computed by a built-in kind
        raise CellsError(f"{class_name}: no kind computes this class")
    return kind


def _option_names(kind: str) -> set[str]:
    return {o.name for o in kind_spec(kind).options}


def _what(obj: Any) -> str:
    """How an error names what it was given: the class, by the name its users know it by."""
    cls = type(obj)
    for inner, public in (("torch.nn.modules.", "torch.nn"), ("keras.src.", "keras.layers")):
        if cls.__module__.startswith(inner):
            return f"{public}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__name__}"


def _numpy(t: Any) -> np.ndarray:
    """A copy of a tensor (or array) as a NumPy array: detached, on the CPU, float16/bfloat16 widened to float32.

    A copy, since .numpy() shares the parameter's memory: training the module on would change the model's numbers.
    """
    if hasattr(t, "detach"):
        t = t.detach().cpu()
        t = (t.float() if str(t.dtype) in ("torch.float16", "torch.bfloat16") else t).numpy()
    return np.array(t)


def _vocab_of(vocab: Any) -> Vocab | None:
    """A Vocab from a Vocab, a list of tokens (a string: its characters), or a mapping token -> id (ids 0..V-1)."""
    if vocab is None or isinstance(vocab, Vocab):
        return vocab
    if isinstance(vocab, Mapping):
        ids = sorted(vocab.values())
        if ids != list(range(len(ids))):
            raise CellsError(f"vocab: a mapping of token -> id needs the ids 0..{len(ids) - 1}, each once")
        return Vocab(sorted(vocab, key=vocab.get))
    return Vocab(list(vocab))


def _head(decoder: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(weight, bias) of an nn.Linear or a (weight, bias) pair; a missing bias is zeros."""
    if decoder is None:
        return None
    if hasattr(decoder, "weight"):  # torch nn.Linear: weight (outputs, hidden), bias None when bias=False
        pair = (decoder.weight, getattr(decoder, "bias", None))
    elif isinstance(decoder, tuple) and len(decoder) == 2:
        pair = decoder
    else:
        raise CellsError(f"decoder: got {_what(decoder)}; expected a torch.nn.Linear or a (weight (outputs, hidden), bias) pair")
    w = _numpy(pair[0])
    return w, (np.zeros(len(w), w.dtype) if pair[1] is None else _numpy(pair[1]))


def _finish(model: Model, vocab: Any, embedding: Any, decoder: Any, source: dict, labels: Any = None, card: dict | None = None) -> Model:
    """``model`` (read by cells.load) with its text side and head, and where it came from in ``source``."""
    vocab = _vocab_of(vocab)
    if embedding is not None and hasattr(embedding, "weight"):  # torch nn.Embedding
        embedding = embedding.weight
    embedding = None if embedding is None else _numpy(embedding)
    if vocab is not None and embedding is None:
        raise CellsError("vocab: given without an embedding; pass embedding= (the nn.Embedding whose row i is token i)")
    head = _head(decoder)
    if labels is None and head is not None and vocab is not None and len(vocab) == len(head[0]):
        labels = list(vocab.tokens)  # a language model's outputs are its tokens, as cells.load reads a bundle
    return Model(model.kind, model.params, input_size=model.input_size, hidden_size=model.hidden_size, num_layers=model.num_layers,
                 bidirectional=model.bidirectional, options=model.options, dtype=model.dtype, vocab=vocab, embedding=embedding,
                 decoder=head, labels=labels, card=card, source={**model.source, **source}, assumed=model.assumed)


# -- torch -------------------------------------------------------------------------

def _torch_kind(module: Any) -> tuple[str, bool]:
    """(kind, is_cell) of a torch recurrent module; an error naming what it got and what it accepts otherwise."""
    torch = sys.modules.get("torch")
    nn = torch.nn if torch is not None else None
    for cls in TORCH_CLASSES:
        if nn is not None and isinstance(module, getattr(nn, cls)):
            return _kind_of(cls), cls.endswith("Cell")
    inside = ""
    if nn is not None and isinstance(module, nn.Module):  # a whole network: say which of its layers would do
        held = [f".{n} ({type(m).__name__})" for n, m in module.named_modules() if n and isinstance(m, (nn.RNNBase, nn.RNNCellBase))]
        inside = f"; it holds {', '.join(held[:4])}: pass that layer, with embedding= and decoder= for the rest" if held else ""
    references = [f"{c} ({k.name})" for k in REGISTRY.values() for c in k.reference_classes]
    also = f", or a reference implementation's {', '.join(references)}" if references else ""
    raise CellsError(f"from_torch: got {_what(module)}; expected a {TORCH_ACCEPTS}{also}{inside}")


def _settings(module: Any) -> dict[str, Any]:
    """A reference module's settings, for its kind to read: its plain attributes, and its ``config`` dataclass's fields
    (xlstm's and mambapy's layers keep theirs there)."""
    out = {k: v for k, v in vars(module).items() if isinstance(v, (bool, int, float, str)) and not k.startswith("_")}
    config = getattr(module, "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        out.update({f.name: getattr(config, f.name) for f in dataclasses.fields(config)})
    return out


def _unwrapped(module: Any) -> Any:
    """The layer inside torch.compile's wrapper (._orig_mod) or DataParallel's (.module), whose state_dict prefixes its names."""
    while type(module).__name__ in ("OptimizedModule", "DataParallel", "DistributedDataParallel"):
        module = getattr(module, "_orig_mod", None) or module.module
    return module


def from_torch(module: Any, vocab: Any = None, embedding: Any = None, decoder: Any = None, *, labels: Any = None,
               card: dict | None = None, dtype: Any = None) -> Model:
    """A Model of a live torch recurrent module, its numbers the module's own (``module(x)`` in eval mode).

    ``embedding`` (an nn.Embedding or a (V, input_size) array) and ``vocab`` (its tokens, row i is token i) let the
    model read text; ``decoder`` (an nn.Linear on the layer's output) gives its predictions. batch_first changes only
    how torch takes its input and dropout only training, so neither changes the weights read here.
    """
    module = _unwrapped(module)
    reference = cells.kinds.of_reference_class(type(module).__name__)
    if reference is not None:  # a reference implementation's module (minGRU-pytorch's minGRU): its kind reads it
        params, opts = reference.from_reference({k: _numpy(v) for k, v in module.state_dict().items()}, _settings(module))
        model = cells.load(params, kind=reference.name, layout="torch", dtype=dtype, **opts)
        return _finish(model, vocab, embedding, decoder, {"from": _what(module)}, labels, card)
    kind, is_cell = _torch_kind(module)
    arrays = {k: _numpy(v) for k, v in module.state_dict().items()}
    if is_cell:  # nn.LSTMCell names its weights weight_ih, ...: one layer of the same
        arrays = {k + "_l0": v for k, v in arrays.items()}
    names = _option_names(kind)
    opts: dict[str, Any] = {"nonlinearity": module.nonlinearity} if "nonlinearity" in names else {}
    if not is_cell:  # restated, so that cells.load checks the weights hold what the module says it is
        opts.update(num_layers=module.num_layers, bidirectional=module.bidirectional, hidden_size=module.hidden_size,
                    input_size=module.input_size, bias=module.bias, **({"proj_size": module.proj_size} if "proj_size" in names else {}))
    model = cells.load(arrays, kind=kind, layout="torch", dtype=dtype, **opts)
    source = {"from": _what(module)}
    if getattr(module, "batch_first", False):
        source["batch_first"] = True
    return _finish(model, vocab, embedding, decoder, source, labels, card)


# -- Keras -------------------------------------------------------------------------

def _keras_layer(obj: Any, inputs: tuple = (), states: tuple = ()) -> Layer:
    """A live Keras layer as the Layer record a saved model's config.json makes (cells.formats.keras_layers)."""
    cls = type(obj).__name__
    config = {**(obj.get_config() if hasattr(obj, "get_config") else {}), "name": getattr(obj, "name", "?")}
    if cls == "Bidirectional":
        config["merge_mode"] = getattr(obj, "merge_mode", config.get("merge_mode", "concat"))
        return Layer(cls, config, inner=(_keras_layer(obj.forward_layer), _keras_layer(obj.backward_layer)), inputs=inputs)
    if cls == "TimeDistributed":
        return Layer(cls, config, inner=(_keras_layer(obj.layer),), inputs=inputs)
    weights = obj.get_weights() if cls in (*RECURRENT, "Embedding", "Dense") else []
    vocabulary = (lambda: list(obj.get_vocabulary(include_special_tokens=True))) if cls in LOOKUPS else None
    return Layer(cls, config, weights, inputs=inputs, states=states, tokens=vocabulary)


def _keras_layers(obj: Any) -> tuple[list, str | None, str]:
    """(Layer records, the model's class or None for a lone layer, how messages name it) of a live Keras layer or model."""
    cls = type(obj).__name__
    if cls in RECURRENT or cls == "Bidirectional":
        return [_keras_layer(obj)], None, "from_keras"
    if not hasattr(obj, "layers"):
        raise CellsError(f"from_keras: got {_what(obj)}; expected {ACCEPTS}")
    try:  # a Functional model's wiring; a subclassed model has none to give (its call() is code), and is read as a chain
        graph = links(obj.get_config()) if cls != "Sequential" and hasattr(obj, "get_config") else {}
    except (NotImplementedError, TypeError, AttributeError):
        graph = {}
    out: list = []
    for layer in obj.layers:
        inputs, states = graph.get(getattr(layer, "name", "?"), ((out[-1].name,) if out else (), ()))
        out.append(_keras_layer(layer, inputs, states))
    return out, cls, f"from_keras: {getattr(obj, 'name', cls)!r}"


def from_keras(layer_or_model: Any, vocab: Any = None, *, prefix: str | None = None, labels: Any = None, card: dict | None = None,
               dtype: Any = None) -> Model:
    """A Model of a live Keras recurrent layer, or of a Sequential or Functional model around one.

    Read as a saved .keras file is (cells.formats.keras_layers.model_of, one reading for both): stacked layers of one
    kind and options become num_layers, a Bidirectional (merge_mode="concat") a bidirectional model, the Embedding
    gives the model its input vectors and the Dense its head, applied at every step; InputLayer, Dropout and Masking
    are passed over. ``vocab`` (the Embedding's tokens) defaults to a StringLookup's or TextVectorization's before the
    Embedding. ``prefix`` picks one recurrent group by its bottom layer's name where the model holds several.
    """
    layers, model_class, where = _keras_layers(layer_or_model)
    arrays, info = model_of(layers, where, prefix, model=model_class)
    model = cells.load(arrays, kind=info["kind"], layout="keras", dtype=dtype, **info["options"])
    card = {**(info["card"] or {}), **(card or {})} or None
    return _finish(model, info["vocab"] if vocab is None else vocab, model.embedding, model.decoder, info["source"], labels, card)
