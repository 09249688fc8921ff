"""Live framework objects as gatescope models: torch modules and Keras layers, with no file in between.

A torch module's state_dict or a Keras layer's get_weights() goes through cells.load, the reader an uploaded file
goes through, so the layouts' traps (GRU block order, Keras' one bias, reset_after) live in one place
(cells.layouts). Neither framework is imported here: an object of theirs exists only once its framework does, and
sys.modules says so. The frameworks name their classes after the kinds they compute (nn.LSTM, nn.GRUCell,
SimpleRNN): the kind is the class name less "Cell" or "Simple", lower-cased, so no kind is named here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from gatescope import cells
from gatescope.cells import CellsError, Model, Vocab
from gatescope.cells.kinds import get as kind_spec
from gatescope.cells.kinds import of_class

TORCH_CLASSES = ("LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell")
KERAS_CLASSES = ("SimpleRNN", "LSTM", "GRU")
TORCH_ACCEPTS = "torch.nn.LSTM, nn.GRU or nn.RNN (any num_layers, bidirectional, proj_size, bias, batch_first), or nn.LSTMCell, GRUCell, RNNCell"
KERAS_ACCEPTS = ("a Keras SimpleRNN, LSTM or GRU layer, a Bidirectional of one, or a Sequential model of Embedding, "
                 "such layers (stacked) and Dense, with InputLayer and Dropout passed over")


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
    raise CellsError(f"from_torch: got {_what(module)}; expected a {TORCH_ACCEPTS}{inside}")


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

def _keras_parts(obj: Any) -> tuple[Any, list, Any]:
    """(embedding, recurrent layers bottom first, Dense) of a Keras layer or Sequential model."""
    name = type(obj).__name__
    if name in KERAS_CLASSES or name == "Bidirectional":
        return None, [obj], None
    if not hasattr(obj, "layers"):
        raise CellsError(f"from_keras: got {_what(obj)}; expected {KERAS_ACCEPTS}")
    embedding, recurrent, dense = None, [], None
    for layer in obj.layers:
        if type(layer).__name__ == "TimeDistributed":  # TimeDistributed(Dense) is Dense at every step
            layer = layer.layer
        n = type(layer).__name__
        if n in ("InputLayer", "Dropout"):
            continue  # dropout acts only in training
        if n == "Embedding" and embedding is None and not recurrent:
            embedding = layer.get_weights()[0]
        elif (n in KERAS_CLASSES or n == "Bidirectional") and dense is None:
            recurrent.append(layer)
        elif n == "Dense" and recurrent and dense is None:
            dense = layer
        else:
            raise CellsError(f"from_keras: layer {getattr(layer, 'name', '?')!r} is a {n} there; expected {KERAS_ACCEPTS}")
    if not recurrent:
        raise CellsError(f"from_keras: {getattr(obj, 'name', name)!r} holds no SimpleRNN, LSTM or GRU layer; expected {KERAS_ACCEPTS}")
    return embedding, recurrent, dense


def _keras_options(layer: Any, backward: bool) -> tuple[str, dict]:
    """The kind and options of one Keras recurrent layer; an error for what gatescope's kinds do not compute."""
    kind, cfg = _kind_of(type(layer).__name__), layer.get_config()
    where = f"from_keras: layer {cfg.get('name', '?')!r}"
    if cfg.get("go_backwards") and not backward:
        raise CellsError(f"{where}: go_backwards=True reads the sequence backwards on its own; wrap the layer in Bidirectional instead")
    act, rec = str(cfg.get("activation", "tanh")), str(cfg.get("recurrent_activation", "sigmoid"))
    names = _option_names(kind)
    if "nonlinearity" in names:  # SimpleRNN: its activation is the kind's option
        if act not in ("tanh", "relu"):
            raise CellsError(f"{where}: activation {act!r}; gatescope's {kind} computes tanh or relu")
        return kind, {"nonlinearity": act}
    if act != "tanh" or rec != "sigmoid":
        raise CellsError(f"{where}: activation {act!r}, recurrent_activation {rec!r}; gatescope's {kind} computes sigmoid gates "
                         "and a tanh candidate (activation='tanh', recurrent_activation='sigmoid', Keras' defaults)")
    return kind, ({"reset_after": bool(cfg.get("reset_after", True))} if "reset_after" in names else {})


def _keras_arrays(recurrent: list) -> tuple[str, dict, dict[str, np.ndarray]]:
    """(kind, options, arrays named as the keras layout names them) of stacked, possibly Bidirectional, layers."""
    arrays, seen = {}, {}
    for k, layer in enumerate(recurrent):
        subs = [(layer, "", False)]
        if type(layer).__name__ == "Bidirectional":
            if getattr(layer, "merge_mode", "concat") != "concat":
                raise CellsError(f"from_keras: Bidirectional merge_mode {layer.merge_mode!r}; gatescope joins the directions side by side (concat)")
            subs = [(layer.forward_layer, "", False), (layer.backward_layer, "_reverse", True)]
        single = len(recurrent) == 1 and len(subs) == 1  # Keras names one plain layer's weights bare
        for sub, rev, backward in subs:
            kind, opts = _keras_options(sub, backward)
            units = sub.get_config().get("units")
            seen.setdefault(f"{'bidirectional ' if len(subs) > 1 else ''}{kind}, {units} units{f', {opts}' if opts else ''}", layer)
            weights = zip(("kernel", "recurrent_kernel", "bias"), sub.get_weights())  # no bias when use_bias=False: zeros
            arrays.update({n + ("" if single else f"_l{k}{rev}"): np.array(w) for n, w in weights})
    if len(seen) > 1:
        differ = "; ".join(f"{getattr(layer, 'name', '?')!r}: {what}" for what, layer in seen.items())
        raise CellsError(f"from_keras: the recurrent layers differ ({differ}); "
                         "a gatescope model stacks layers of one kind with the same options and directions")
    return kind, opts, arrays


def from_keras(layer_or_model: Any, vocab: Any = None, *, labels: Any = None, card: dict | None = None, dtype: Any = None) -> Model:
    """A Model of a live Keras recurrent layer, or of a Sequential model of Embedding, recurrent layers and Dense.

    Stacked layers become num_layers (each must be the same kind, with the same options), a Bidirectional
    (merge_mode="concat") a bidirectional model; the Embedding gives the model its input vectors (``vocab``: its
    tokens, e.g. TextVectorization.get_vocabulary()) and the Dense its head, applied at every step.
    """
    embedding, recurrent, dense = _keras_parts(layer_or_model)
    kind, opts, arrays = _keras_arrays(recurrent)
    model = cells.load(arrays, kind=kind, layout="keras", dtype=dtype, num_layers=len(recurrent), **opts)
    head = None
    if dense is not None:
        w, act = dense.get_weights(), str(dense.get_config().get("activation", "linear"))
        if act not in ("linear", "softmax"):
            raise CellsError(f"from_keras: Dense activation {act!r}; gatescope's head is linear or softmax")
        head = (w[0].T, w[1] if len(w) > 1 else None)  # Dense's kernel is (hidden, outputs); decoder.weight is (outputs, hidden)
        card = {"head": "softmax", **(card or {})} if act == "softmax" else card
    parts = [x for x in (layer_or_model, *recurrent, dense) if x is not None]
    source = {"from": "keras " + " > ".join(dict.fromkeys(type(x).__name__ for x in parts))}
    return _finish(model, vocab, embedding, head, source, labels, card)
