"""Keras models read as gatescope reads them, live or saved: the one reading behind cells.formats.keras and from_keras.

A model is a list of ``Layer`` records, made of config.json and model.weights.h5 by cells.formats.keras or of live
layers by gatescope.from_keras. ``model_of`` finds in them the recurrent group (stacked layers of one kind and options,
or a Bidirectional of one), the Embedding before it with the vocabulary of a lookup layer (StringLookup,
TextVectorization) before that, and the Dense head after it; reads the kind from the class name (kinds.of_class) and
the options from the configs; and refuses, naming the layer, what gatescope's kinds do not compute. Weights are read
(np.asarray) only after their declared sizes have been checked against the limits. No HDF5 here: a live model needs
none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import kinds
from ..errors import CellsError, FormatError
from ..reading import NO_LIMITS, LimitError, Limits, decoded_bytes
from ..weight_groups import AmbiguousWeightsError

RECURRENT = ("SimpleRNN", "LSTM", "GRU")  # Keras' recurrent layers; each one's kind is kinds.of_class(its name)
LOOKUPS = ("StringLookup", "TextVectorization")  # text -> ids: read for their vocabulary, which gatescope's Vocab applies
TRAINING = "acts only in training"
#: Layers that compute nothing at inference on sequences with no masked step, passed over (and named in the source).
PASSED = {"InputLayer": "the input", "Dropout": TRAINING, "SpatialDropout1D": TRAINING, "GaussianDropout": TRAINING,
          "GaussianNoise": TRAINING, "Masking": "Keras skips the steps equal to mask_value; gatescope runs every step"}
ACCEPTS = ("a Keras SimpleRNN, LSTM or GRU layer, a Bidirectional of one, or a Sequential or Functional model of a "
           "StringLookup or TextVectorization, Embedding, such layers (stacked) and a Dense head (linear or softmax), "
           "with InputLayer, Dropout and Masking passed over")


@dataclass(eq=False)  # one layer is itself: compared, and found in lists, by identity
class Layer:
    """One Keras layer as a saved model's config and a live layer both describe it."""

    cls: str                                     # its class name: "LSTM", "Bidirectional", "Dense"
    config: dict                                 # get_config(), or its entry in config.json
    weights: list = field(default_factory=list)  # get_weights(), or _Var (read once the sizes are checked)
    inner: tuple = ()                            # Bidirectional: (forward, backward); TimeDistributed: (the wrapped,)
    inputs: tuple = ()                           # the layers its first argument comes from, by name
    states: tuple = ()                           # the layers its initial_state comes from, by name
    tokens: Callable[[], list | None] | None = None  # a lookup layer's vocabulary, special tokens first

    @property
    def name(self) -> str:
        return str(self.config.get("name", "?"))[:100]


@dataclass(eq=False)
class Rec:
    """A recurrent layer as a gatescope kind computes it, or why none does (``error``, raised if it is picked)."""

    layer: Layer
    kind: str = ""
    options: dict = field(default_factory=dict)
    units: object = None
    cells: list = field(default_factory=list)  # [(the layer computing one direction, "" or "_reverse")]
    error: CellsError | None = None

    @property
    def computes(self) -> str:
        return f"{'bidirectional ' if len(self.cells) > 1 else ''}{self.kind}, {self.units} units{f', {self.options}' if self.options else ''}"


# -- one reading of a model's layers, live or saved ------------------------------------------------------------

def model_of(layers: list[Layer], where: str, prefix: str | None = None, limits: Limits = NO_LIMITS,
             model: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays in the keras layout with embedding.weight and decoder.*, {"kind", "options", "vocab", "card", "source"})
    of the recurrent group ``prefix`` names (a layer's name), or of the only one. ``where`` starts every message."""
    by = {layer.name: layer for layer in layers}
    users: dict[str, list[Layer]] = {}
    for layer in layers:
        for name in layer.inputs[:1]:
            users.setdefault(name, []).append(layer)
    group = _choose(*_groups(layers, by, where), where, prefix)
    notes: dict = {}
    embedding, look = _front(group, by, where, prefix, notes)
    head = _head(group, users, where, prefix, notes)
    dense = head.inner[0] if head is not None and head.inner else head
    weights = _weights(group, embedding, dense, where)
    total = sum(decoded_bytes(int(np.prod(w.shape)), w.dtype.itemsize) for w in weights.values())
    limits.check(where, total, "max_bytes", f"weights of {total} bytes once decoded")
    arrays = {k: np.asarray(w) for k, w in weights.items()}  # read here, and only here
    if dense is not None:  # Dense's kernel is (D*H, outputs); decoder.weight is (outputs, D*H)
        arrays["decoder.weight"] = np.ascontiguousarray(arrays["decoder.weight"].T)
        arrays.setdefault("decoder.bias", np.zeros(len(arrays["decoder.weight"]), arrays["decoder.weight"].dtype))
    vocab = _vocabulary(look, embedding, where, limits, notes)
    rec = group[0]
    used = [x for x in (look, embedding, *(r.layer for r in group), head) if x is not None]
    source = {"from": "keras " + " > ".join(dict.fromkeys([*([model] if model else []), *(r.layer.cls for r in group),
                                                            *([dense.cls] if dense else [])])),
              "layers": [x.name for x in used], **notes,
              "passed_over": _listed([x for x in layers if x not in used and x.cls != "InputLayer"])}
    if not group[-1].cells[0][0].config.get("return_sequences", True):
        source["return_sequences"] = False  # Keras returns (and its head reads) the last step; gatescope shows every step
    if rec.layer.states:
        source["initial_state"] = (f"from {', '.join(map(repr, dict.fromkeys(rec.layer.states)))}: Keras starts {rec.layer.name!r} there; "
                                   "gatescope starts from zeros unless given h0=, c0= (Model.run)")
    act = str(dense.config.get("activation", "linear")) if dense is not None else None
    return arrays, {"kind": rec.kind, "options": {**rec.options, "num_layers": len(group), "bidirectional": len(rec.cells) > 1},
                    "vocab": vocab, "card": {"head": "softmax"} if act == "softmax" else None, "source": source}


def _listed(layers: list[Layer]) -> list[str]:
    said = [f"{x.name} ({x.cls}{': ' + PASSED[x.cls] if x.cls in PASSED else ''})" for x in layers]
    return said[:20] + ([f"and {len(said) - 20} more"] if len(said) > 20 else [])


def _options(layer: Layer, where: str, backward: bool) -> tuple[str, dict]:
    """The kind and options of one direction's layer; an error for what gatescope's kinds do not compute."""
    kind, cfg, at = kinds.of_class(layer.cls), layer.config, f"{where}: layer {layer.name!r}"
    if kind is None:
        raise FormatError(f"{at}: a {layer.cls}, which no gatescope kind computes")
    if cfg.get("go_backwards") and not backward:
        raise FormatError(f"{at}: go_backwards=True reads the sequence backwards on its own; wrap the layer in Bidirectional instead")
    act, rec = str(cfg.get("activation", "tanh")), str(cfg.get("recurrent_activation", "sigmoid"))
    names = {o.name for o in kinds.get(kind).options}
    if "nonlinearity" in names:  # SimpleRNN: its activation is the kind's option
        if act not in ("tanh", "relu"):
            raise FormatError(f"{at}: activation {act[:40]!r}; gatescope's {kind} computes tanh or relu")
        return kind, {"nonlinearity": act}
    if act != "tanh" or rec != "sigmoid":
        raise FormatError(f"{at}: activation {act[:40]!r}, recurrent_activation {rec[:40]!r}; gatescope's {kind} computes sigmoid "
                          "gates and a tanh candidate (activation='tanh', recurrent_activation='sigmoid', Keras' defaults)")
    return kind, ({"reset_after": bool(cfg.get("reset_after", True))} if "reset_after" in names else {})


def _rec(layer: Layer, where: str) -> Rec:
    """What a recurrent layer (or a Bidirectional of one) computes, or the error that says why no kind does."""
    try:
        pairs = [(layer, "", False)]
        if layer.cls == "Bidirectional":
            mode = layer.config.get("merge_mode", "concat")
            if mode != "concat" or len(layer.inner) != 2:
                raise FormatError(f"{where}: Bidirectional {layer.name!r} merge_mode {str(mode)[:20]!r}; gatescope joins the "
                                  "directions side by side (concat)")
            pairs = [(layer.inner[0], "", False), (layer.inner[1], "_reverse", True)]
        found = [(*_options(sub, where, backward), sub.config.get("units")) for sub, _, backward in pairs]
        if found[0] != found[-1]:
            raise FormatError(f"{where}: Bidirectional {layer.name!r}: its directions differ ({found[0]}; {found[-1]})")
        kind, options, units = found[0]
        return Rec(layer, kind, options, units, [(sub, sfx) for sub, sfx, _ in pairs])
    except CellsError as e:
        return Rec(layer, error=e)


def _before(layer: Layer, by: dict) -> Layer | None:
    """The layer feeding ``layer``, past the layers passed over; None for the model's input."""
    name = layer.inputs[0] if layer.inputs else None
    for _ in range(len(by)):  # a config whose layers feed each other in a ring ends here
        if name not in by or by[name].cls not in PASSED:
            break
        name = by[name].inputs[0] if by[name].inputs else None
    return by.get(name) if name in by and by[name].cls not in PASSED else None


def _groups(layers: list[Layer], by: dict, where: str) -> tuple[list[list[Rec]], list[tuple[Rec, Rec]]]:
    """The recurrent groups, bottom first (a layer fed by the top of a group that computes the same joins it: stacked
    layers are num_layers), and the layers Keras stacks that differ (each begins a group of its own)."""
    groups, tops, differ = [], {}, []
    for layer in layers:
        if layer.cls not in RECURRENT and layer.cls != "Bidirectional":
            continue
        rec, below = _rec(layer, where), _before(layer, by)
        group = tops.pop(below.name, None) if below is not None else None
        if group is not None and rec.error is None and group[-1].error is None and rec.computes == group[-1].computes:
            group.append(rec)
        else:
            if group is not None and rec.error is None and group[-1].error is None:
                differ.append((group[-1], rec))
            group = [rec]
            groups.append(group)
        tops[layer.name] = group
    return groups, differ


def _said(group: list[Rec]) -> str:
    """"'encoder' (gru)": a group as a list of them names it."""
    first = group[0]
    if first.error is not None:
        return f"{first.layer.name!r} (not readable: {str(first.error).split(': ', 2)[-1][:80]})"
    more = f", {len(group)} layers: {', '.join(repr(r.layer.name) for r in group)}" if len(group) > 1 else ""
    return f"{first.layer.name!r} ({first.kind}{', bidirectional' if len(first.cells) > 1 else ''}{more})"


def _choose(groups: list[list[Rec]], differ: list, where: str, prefix: str | None) -> list[Rec]:
    """The group ``prefix`` names (its bottom layer: the stack; a layer higher up: that layer alone), or the only one."""
    names, listed = [g[0].layer.name for g in groups], ", ".join(_said(g) for g in groups[:10])
    kinds = {g[0].layer.name: [g[0].kind] if g[0].error is None else [] for g in groups}  # for the page's Group choice
    found = next(((g if i == 0 else [r]) for g in groups for i, r in enumerate(g) if r.layer.name == prefix), None)
    if prefix is not None and found is None:
        raise AmbiguousWeightsError(f"{where}: prefix {prefix[:100]!r} names no recurrent layer; the model holds {listed or 'none'}", names, kinds)
    if found is None and len(groups) != 1:
        if not groups:
            raise FormatError(f"{where} holds no SimpleRNN, LSTM or GRU layer; expected {ACCEPTS}")
        why = "; ".join(f"{a.layer.name!r}: {a.computes}; {b.layer.name!r}: {b.computes}" for a, b in differ[:3])
        raise AmbiguousWeightsError(f"{where} holds {len(groups)} recurrent groups: {listed}; pass prefix= (the page: Group)" +
                                    (f"; the recurrent layers differ ({why}), and a gatescope model stacks layers of one kind "
                                     "with the same options and directions" if why else ""), names, kinds)
    group = found or groups[0]
    error = next((r.error for r in group if r.error is not None), None)
    if error is not None:
        raise error
    return group


def _front(group: list[Rec], by: dict, where: str, prefix: str | None, notes: dict) -> tuple[Layer | None, Layer | None]:
    """(the Embedding before the group, the lookup layer before that); a front end no kind computes is refused unless
    ``prefix`` picked the group, whose input is then that layer's output."""
    first = group[0].layer
    src = _before(first, by)
    if src is None:
        return None, None
    if src.cls == "Embedding":
        look = _before(src, by)
        if src.config.get("mask_zero"):
            notes["mask_zero"] = "Keras skips the steps of token 0; gatescope runs every step"
        return src, look if look is not None and look.cls in LOOKUPS else None
    if prefix is None:
        raise FormatError(f"{where}: layer {src.name!r} ({src.cls}) comes before the recurrent layer {first.name!r}, and no "
                          f"gatescope kind computes it; pass prefix={first.name!r} (the page: Group) to read {first.name!r} "
                          f"alone: its input is then the output of {src.name!r}, which you feed")
    notes["input"] = f"the output of {src.name!r} ({src.cls}), which you feed"
    return None, None


def _head(group: list[Rec], users: dict, where: str, prefix: str | None, notes: dict) -> Layer | None:
    """The Dense (or TimeDistributed(Dense)), linear or softmax, that ends the model after the group, or None. Another
    layer there is refused unless ``prefix`` picked the group (it is then passed over)."""
    seen, after = set(), users.get(group[-1].layer.name, [])
    while len(after) == 1 and after[0].cls in PASSED and after[0].name not in seen:
        seen.add(after[0].name)
        after = users.get(after[0].name, [])
    if not after:
        return None
    dense = after[0].inner[0] if after[0].cls == "TimeDistributed" and after[0].inner else after[0]
    act = str(dense.config.get("activation", "linear"))
    later = users.get(after[0].name, [])
    if len(after) == 1 and dense.cls == "Dense" and act in ("linear", "softmax") and not later:
        return after[0]
    if prefix is None:
        odd = later[0] if len(after) == 1 and dense.cls == "Dense" and later else after[0]
        what = f"a Dense with activation {act[:40]!r}" if odd is after[0] and dense.cls == "Dense" else \
            f"a{'n' if odd.cls[:1] in 'AEIOU' else ''} {odd.cls}"
        raise FormatError(f"{where}: layer {odd.name!r} is {what} there, after the recurrent layer {group[-1].layer.name!r}; "
                          f"gatescope's head is one Dense, linear or softmax (expected {ACCEPTS}); pass "
                          f"prefix={group[0].layer.name!r} (the page: Group) to read the recurrent layers alone")
    return None


def _weights(group: list[Rec], embedding: Layer | None, dense: Layer | None, where: str) -> dict:
    """The group's, the embedding's and the head's weights under the names cells.load reads (not read yet)."""
    single, out = len(group) == 1 and len(group[0].cells) == 1, {}
    for k, rec in enumerate(group):
        for sub, rev in rec.cells:
            if len(sub.weights) not in (2, 3):
                raise FormatError(f"{where}: layer {sub.name!r} holds {len(sub.weights)} weights; a {sub.cls} holds kernel, "
                                  "recurrent_kernel and bias (no bias with use_bias=False)")
            out.update({n + ("" if single else f"_l{k}{rev}"): w for n, w in zip(("kernel", "recurrent_kernel", "bias"), sub.weights)})
    for layer, names in ((embedding, ("embedding.weight",)), (dense, ("decoder.weight", "decoder.bias"))):
        if layer is not None:
            if not 1 <= len(layer.weights) <= len(names):
                raise FormatError(f"{where}: layer {layer.name!r} holds {len(layer.weights)} weights; a {layer.cls} holds "
                                  f"{len(names)} (is it quantized?)")
            out.update(zip(names, layer.weights))
    return out


def _vocabulary(look: Layer | None, embedding: Layer | None, where: str, limits: Limits, notes: dict) -> list | None:
    """The lookup layer's tokens, special tokens first, when they name the embedding's rows."""
    tokens = look.tokens() if look is not None and look.tokens is not None and embedding is not None else None
    if tokens is None:
        return None
    _check_tokens(tokens, look.name, where, limits)
    rows = embedding.weights[0].shape[0] if embedding.weights else None
    if len(tokens) != rows:
        notes["vocabulary"] = f"{look.name!r} holds {len(tokens)} tokens for {rows} embedding rows: not used"
        return None
    notes["vocabulary"] = look.name
    if look.config.get("standardize") not in (None, "None"):
        notes["standardize"] = f"Keras applies {str(look.config['standardize'])[:40]!r} to text first; gatescope reads it as typed"
    return [str(t) for t in tokens]


def _check_tokens(tokens: list, layer: str, where: str, limits: Limits) -> None:
    limits.check(where, len(tokens), "max_vocab", f"the vocabulary of {layer!r}: {len(tokens)} tokens")
    most = limits.max_token_chars
    long = next((i for i, t in enumerate(tokens) if most is not None and len(str(t)) > most), None)
    if long is not None:
        raise LimitError(where, f"the vocabulary of {layer!r}: token {long} of {len(str(tokens[long]))} characters", most, "max_token_chars")


def specials(cls: str, cfg: dict, vocab: list) -> list:
    """A lookup layer's vocabulary as its ids count: the mask token (StringLookup: none unless given; TextVectorization:
    '') and the OOV token(s) first, as get_vocabulary(include_special_tokens=True) lists them."""
    mask = cfg.get("mask_token", "" if cls == "TextVectorization" else None)
    head = ([mask] if mask is not None else []) + [cfg.get("oov_token", "[UNK]")] * int(cfg.get("num_oov_indices", 1))
    return head + (vocab[len(head):] if vocab[:len(head)] == head else vocab)


def links(config: dict) -> dict[str, tuple[tuple, tuple]]:
    """A Functional model's config: each layer's name -> (the layers its first argument comes from, those its
    initial_state comes from), from its first inbound node's keras_history."""
    out = {}
    for entry in config.get("layers") or []:
        nodes = entry.get("inbound_nodes") if isinstance(entry, dict) else None
        node = nodes[0] if isinstance(nodes, list) and nodes and isinstance(nodes[0], dict) else {}
        kwargs = node.get("kwargs") if isinstance(node.get("kwargs"), dict) else {}
        out[str(entry.get("name") or (entry.get("config") or {}).get("name"))[:100]] = (_history(node.get("args", [])[:1]),
                                                                                 _history(kwargs.get("initial_state")))
    return out


def _history(value) -> tuple[str, ...]:
    """The layer names of the keras tensors in ``value``, in order (depth-first, without recursion)."""
    out, todo = [], [value]
    while todo and len(out) < 64:
        v = todo.pop()
        history = v.get("config", {}).get("keras_history") if isinstance(v, dict) and isinstance(v.get("config"), dict) else None
        if isinstance(history, (list, tuple)) and history:  # a list in config.json, a tuple in a live model's get_config()
            out.append(str(history[0])[:100])
        elif isinstance(v, (dict, list, tuple)):
            todo.extend(reversed(list(v.values()) if isinstance(v, dict) else list(v)))
    return tuple(out)


__all__ = ["ACCEPTS", "LOOKUPS", "PASSED", "RECURRENT", "Layer", "links", "model_of", "specials"]
