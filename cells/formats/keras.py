"""Keras' own files, read with h5py and no Keras: a .keras archive (model.save) and a .weights.h5 alone (save_weights).

A .keras archive is a zip of config.json (the layers: class, config and, in a Functional model, who feeds whom),
metadata.json, model.weights.h5 and assets/ (an adapted StringLookup's or TextVectorization's vocabulary.txt). Keras 3
keeps a layer's variables at layers/<path>/vars/0, 1, ... and a recurrent layer's in its cell, layers/<path>/cell/vars
(kernel, recurrent_kernel, bias); a Bidirectional's under forward_layer/ and backward_layer/, a TimeDistributed's under
layer/. <path> is the class name in snake case, numbered in the model's layer order (lstm, lstm_1, ...): Keras finds
the variables so, and so does this reader. What the layers mean is cells.formats.keras_layers' (shared with
gatescope.from_keras, which reads live layers the same way).

A .weights.h5 alone has no config: its recurrent groups are found by their paths (.../cell/vars), the kind by the names
Keras gives (lstm_cell, gru_1, forward_simple_rnn) checked against the shapes (cells.fitting), or by the shapes alone
where they fit one kind; the options it cannot say (the activations) go in ``assumed``. Its Embedding and Dense are not
read: without config.json nothing says what feeds what, nor the vocabulary.

Nothing is read before its size is checked: archive members against caps (no zip bomb inflates past them), datasets'
declared shapes against ``limits`` (h5py gives a shape without the data), vocabularies' counts and token lengths. No
HDF5 link out of the file (external, or soft) is followed and no data stored elsewhere (external storage, a virtual
dataset) is read: the file is refused.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from functools import partial

import h5py
import numpy as np

from .. import fitting, kinds
from ..errors import CellsError, FormatError, shown
from ..io import BUNDLE_VERSION
from ..reading import LimitError, Limits, decoded_bytes, label
from ..weight_groups import AmbiguousWeightsError
from .keras_layers import LOOKUPS, RECURRENT, Layer, links, model_of, specials

MODELS = ("Sequential", "Functional", "Model")
MAX_CONFIG = 16 * 1024 * 1024  # config.json: a model of a thousand layers takes about 2 MB
MAX_METADATA = 64 * 1024       # metadata.json: Keras' version and the date
MAX_VARS = 16                  # the layers read here hold 1 to 3 variables
LINKS_PER_TENSOR = 8           # a weights file's groups and datasets, counted against max_tensors (Keras: 3 to 5 a variable)
_VARIABLE = re.compile(r"(?:^|/)vars/[0-9]+$")
_CELL = re.compile(r"(?:^|/)cell/vars$")
_SIDE = re.compile(r"(.*?)/?(forward|backward)_layer")
_DEFAULT = re.compile(r"(?:forward_|backward_)?([a-z_]+?)(?:_cell)?(?:_[0-9]+)?")  # lstm, gru_2, simple_rnn_cell, forward_gru


def read(path: str, limits: Limits, prefix: str | None) -> tuple[dict[str, np.ndarray], dict[str, str], None]:
    where = label(path)
    try:
        with open(path, "rb") as f:
            archive = f.read(2) == b"PK"
        return (_archive if archive else _weights_alone)(path, where, limits, prefix)
    except CellsError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, RuntimeError, EOFError, zipfile.BadZipFile) as e:
        raise FormatError(f"{where}: a damaged or malformed Keras file ({type(e).__name__}: {str(e).replace(path, where)[:200]})") from None


class _Var:
    """A dataset of a weights file by its header (shape, dtype). np.asarray reads its data, and only data the file itself
    holds: a dataset stored elsewhere (external storage, a virtual dataset) is refused then, never opened."""

    def __init__(self, ds: h5py.Dataset, path: str, where: str):
        self.ds, self.path, self.where = ds, path, where
        self.shape, self.dtype = tuple(ds.shape or ()), ds.dtype
        self.ndim = len(self.shape)

    def __array__(self, dtype=None, copy=None):
        ds = self.ds
        why = ("is stored in other files (external storage)" if ds.external else
               "is a virtual dataset, made of other files' data" if ds.is_virtual else
               "has no data (a null dataspace)" if ds.shape is None else
               f"holds {ds.dtype} values; Keras' weights are float16, float32 or float64" if ds.dtype.kind != "f" or ds.dtype.itemsize > 8
               else None)
        if why:
            raise FormatError(f"{self.where}: {self.path!r} {why}; gatescope reads only the numbers the file itself holds")
        return np.asarray(ds[()], dtype=dtype)


def _no_link(where: str, path: str, link) -> FormatError:
    what = "an external link to another file" if isinstance(link, h5py.ExternalLink) else "a soft link"
    return FormatError(f"{where}: {path[:200]!r} is {what}; gatescope follows no HDF5 link and reads only what the file itself holds")


def _at(node, path: str, where: str):
    """The object at ``path`` under ``node``, reached through hard links only; None where a name is missing."""
    for part in path.split("/"):
        link = node.get(part, getlink=True) if isinstance(node, h5py.Group) else None
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise _no_link(where, path, link)
        node = node[part]
    return node


def _vars(f, path: str, where: str) -> list[_Var]:
    """A layer's variables, vars/0, vars/1, ... (none where the layer has no such group), by their headers."""
    group = _at(f, path, where)
    if group is None:
        return []
    n = len(group) if isinstance(group, h5py.Group) else -1
    if not 0 <= n <= MAX_VARS:
        raise FormatError(f"{where}: {path} holds {n if n >= 0 else 'no group'} variables; a layer gatescope reads holds 1 to 3")
    out = []
    for i in range(n):
        ds = _at(f, f"{path}/{i}", where)  # from the root again, so that a refusal names the whole path
        if not isinstance(ds, h5py.Dataset):
            raise FormatError(f"{where}: {path}/{i} is missing or not a dataset (a layer's variables are numbered 0..{n - 1})")
        out.append(_Var(ds, f"{path}/{i}", where))
    return out


def _metadata(kind: str | None, options: dict, source: dict, **more) -> dict[str, str]:
    """What was read, in a bundle's metadata form (cells.io): kind, layout, options, source and vocab, card, assumed."""
    meta = {"gatescope": BUNDLE_VERSION, "layout": "keras", "options": json.dumps(options),
            "source": json.dumps(source, ensure_ascii=False), **({"kind": kind} if kind else {})}
    meta.update({key: json.dumps(value, ensure_ascii=False) for key, value in more.items() if value})
    return meta


# -- a .keras archive ------------------------------------------------------------------------------------------

def _member(z: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, where: str) -> bytes:
    """An archive member's bytes, never more than ``cap`` of them whatever its header says (a zip bomb stops there)."""
    if info.flag_bits & 0x1:
        raise FormatError(f"{where}: {info.filename[:100]} is encrypted")
    if info.file_size > cap:
        raise FormatError(f"{where}: {info.filename[:100]} declares {info.file_size} bytes; at most {cap} are read")
    with z.open(info) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise FormatError(f"{where}: {info.filename[:100]} inflates past {cap} bytes, more than its header declares")
    return data


def _json(data: bytes, where: str, member: str):
    try:
        return json.loads(data)
    except RecursionError:
        raise FormatError(f"{where}: {member} is nested too deeply to be a Keras model's") from None
    except ValueError as e:
        raise FormatError(f"{where}: {member} is not valid JSON ({str(e)[:200]})") from None


def _archive(path: str, where: str, limits: Limits, prefix: str | None):
    cap = 4 * os.path.getsize(path) + 2**20  # Keras stores its members whole; a deflated one seldom quadruples
    with zipfile.ZipFile(path) as z:
        infos = {i.filename: i for i in z.infolist()}
        limits.check(where, len(infos), "max_tensors", f"{len(infos)} archive members")
        for member in ("config.json", "model.weights.h5"):
            if member not in infos:
                raise FormatError(f"{where}: a zip without {member} (it holds: {shown(list(infos), 5)}); a .keras archive holds "
                                  "config.json and model.weights.h5 (model.save('m.keras'))")
        config = _json(_member(z, infos["config.json"], MAX_CONFIG, where), where, "config.json")
        meta = _json(_member(z, infos["metadata.json"], MAX_METADATA, where), where, "metadata.json") if "metadata.json" in infos else {}
        with h5py.File(io.BytesIO(_member(z, infos["model.weights.h5"], cap, where)), "r") as f:
            layers, model = _layers(config, f, partial(_tokens, z, infos, where, limits, cap), where)
            arrays, info = model_of(layers, where, prefix, limits, model)
    version = meta.get("keras_version") if isinstance(meta, dict) else None
    source = {"format": "Keras .keras", **({"keras_version": str(version)[:20]} if version else {}), **info["source"]}
    return arrays, _metadata(info["kind"], info["options"], source, vocab=info["vocab"], card=info["card"]), None


def _snake(name: str) -> str:
    """Keras' naming.to_snake_case: the name a layer's variables are kept under (LSTM: lstm, SimpleRNN: simple_rnn)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _entry(entry, where: str, what: str) -> tuple[str, dict]:
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise FormatError(f"{where}: config.json: {what} is not a layer's {{class_name, config}}")
    return str(entry.get("class_name"))[:100], entry["config"]


def _layers(config, f, tokens_of, where: str) -> tuple[list[Layer], str]:
    """config.json's layers as Layer records, their variables found where Keras keeps them (not read)."""
    cls = config.get("class_name") if isinstance(config, dict) else None
    body = config.get("config") if isinstance(config, dict) else None
    entries = body.get("layers") if isinstance(body, dict) else None
    if cls not in MODELS or not isinstance(entries, list):
        raise FormatError(f"{where}: config.json describes {repr(str(cls)[:40]) if cls else 'no model'}; gatescope reads Keras "
                          "Sequential and Functional models (model.save('m.keras'))")
    graph, counts, out = links(body) if cls != "Sequential" else {}, {}, []
    for i, entry in enumerate(entries):
        lcls, cfg = _entry(entry, where, f"layer {i}")
        stem = _snake(lcls)
        counts[stem] = counts.get(stem, -1) + 1  # Keras numbers a class's layers in the model's order: lstm, lstm_1, ...
        path = f"layers/{stem}" + (f"_{counts[stem]}" if counts[stem] else "")
        layer = _layer(lcls, cfg, f, path, where)
        layer.inputs, layer.states = graph.get(layer.name, ((out[-1].name,) if out else (), ()))
        if lcls in LOOKUPS:
            layer.tokens = partial(tokens_of, layer, path)
        out.append(layer)
    return out, cls


def _layer(cls: str, cfg: dict, f, path: str, where: str) -> Layer:
    """One layer, with the variables of those gatescope reads (a recurrent layer's in its cell)."""
    if cls == "Bidirectional":
        fwd = _entry(cfg.get("layer"), where, f"{path}'s layer")
        bwd = _entry(cfg["backward_layer"], where, f"{path}'s backward_layer") if cfg.get("backward_layer") else \
            (fwd[0], {**fwd[1], "go_backwards": not fwd[1].get("go_backwards", False)})  # Keras makes it of the forward one
        return Layer(cls, cfg, inner=(_layer(*fwd, f, path + "/forward_layer", where), _layer(*bwd, f, path + "/backward_layer", where)))
    if cls == "TimeDistributed":
        return Layer(cls, cfg, inner=(_layer(*_entry(cfg.get("layer"), where, f"{path}'s layer"), f, path + "/layer", where),))
    if cls in RECURRENT:
        return Layer(cls, cfg, _vars(f, path + "/cell/vars", where))
    return Layer(cls, cfg, _vars(f, path + "/vars", where) if cls in ("Embedding", "Dense") else [])


def _tokens(z, infos: dict, where: str, limits: Limits, cap: int, layer: Layer, path: str) -> list | None:
    """A lookup layer's vocabulary: the one its config was given (vocabulary=[...]), or an adapted one's assets file."""
    cfg = layer.config
    if cfg.get("output_mode", "int") != "int" or cfg.get("invert"):
        return None  # not text -> ids
    given = cfg.get("vocabulary")
    if isinstance(given, list):  # config.json's size is capped: the list is no bigger than that
        return specials(layer.cls, cfg, [str(t) for t in given])
    info = infos.get(f"assets/{path}/vocabulary.txt")
    if info is None:
        return None
    if limits.max_vocab is not None and limits.max_token_chars is not None:
        most = limits.max_vocab * (4 * limits.max_token_chars + 2)  # UTF-8: 4 bytes a character at most; each line's end
        if info.file_size > most:
            raise LimitError(where, f"the vocabulary of {layer.name!r}: {info.file_size} bytes ({info.filename[:100]}), more than "
                             f"{limits.max_vocab} tokens of {limits.max_token_chars} characters take", limits.max_vocab, "max_vocab")
        cap = min(cap, most)
    tokens = _member(z, info, cap, where).decode("utf-8").splitlines()  # as Keras' load_assets reads it
    while tokens and tokens[-1] == "":
        tokens.pop()
    return tokens


# -- a .weights.h5 alone ---------------------------------------------------------------------------------------------

def _weights_alone(path: str, where: str, limits: Limits, prefix: str | None):
    with h5py.File(path, "r") as f:
        names = _scan(f, where, limits)
        if "keras_version" in f.attrs or "layer_names" in f.attrs:
            raise FormatError(f"{where}: a Keras 2 (tf.keras) HDF5 file; gatescope reads Keras 3's: load it in Keras 3 "
                              "(keras.models.load_model, or model.load_weights) and save it again with model.save('m.keras')")
        group = _pick(_found(f, names, where), where, prefix)
        weights = group["weights"]
        total = sum(decoded_bytes(int(np.prod(w.shape)), w.dtype.itemsize) for w in weights.values())
        limits.check(where, total, "max_bytes", f"weights of {total} bytes once decoded")
        arrays = {k: np.asarray(w) for k, w in weights.items()}
    kind, dirs = group["kind"], [group["cells"][side][0] for side in sorted(group["cells"])]
    held = sorted({n.rsplit("/vars/", 1)[0].removesuffix("/cell") for n in names if _VARIABLE.search(n) and "/vars/" in n})
    others = [d for d in held if d != group["dir"] and not d.startswith(group["dir"] + "/")]
    named = group["named"]
    source = {"format": "Keras .weights.h5", "layers": dirs, "group": group["name"],
              "kind_from": f"Keras' name {named[1]!r} ({named[0]}) and the shapes" if named else "the shapes",
              "passed_over": others[:20] + ([f"and {len(others) - 20} more"] if len(others) > 20 else [])}
    assumed = kinds.get(kind).assumed("keras", {}, any(k.startswith("bias") for k in arrays)) if kind else None
    return arrays, _metadata(kind, {"bidirectional": len(dirs) > 1}, source, assumed=assumed), None


def _scan(f, where: str, limits: Limits) -> list[str]:
    """Every link of the file by name, each a hard link (another kind is refused, never followed), counted as they come."""
    cap = None if limits.max_tensors is None else LINKS_PER_TENSOR * limits.max_tensors + 64
    names: list[str] = []

    def visit(name: bytes):  # H5Lvisit stops at the first value returned (an exception raised here would not come through)
        name = name.decode("utf-8", "replace")
        link = f.get(name, getlink=True)  # its parents were visited first: hard links
        if not isinstance(link, h5py.HardLink):
            return name, link
        names.append(name)
        return (name, None) if cap is not None and len(names) > cap else None

    stop = f.id.links.visit(visit)  # Group.visititems_links does this, from h5py 3.11 on
    if stop is not None and stop[1] is None:
        raise LimitError(where, f"more than {cap} HDF5 groups and datasets ({LINKS_PER_TENSOR} a tensor)", limits.max_tensors, "max_tensors")
    if stop is not None:
        raise _no_link(where, stop[0], stop[1])
    variables = sum(1 for n in names if _VARIABLE.search(n))
    limits.check(where, variables, "max_tensors", f"{variables} variables")
    return names


def _attr_name(f, path: str) -> str | None:
    """The name Keras 3 writes on a vars group (the layer's, or its cell's), when there is a short one."""
    group = f.get(path)
    if not isinstance(group, h5py.Group) or "name" not in group.attrs or h5py.h5a.open(group.id, b"name").get_storage_size() > 400:
        return None
    value = group.attrs["name"]
    return (value.decode(errors="replace") if isinstance(value, bytes) else str(value))[:100]


def _found(f, names: list[str], where: str) -> list[dict]:
    """The recurrent layers: each .../cell/vars holding a kernel (I, G*H) and a recurrent_kernel (H, G*H), a Bidirectional's
    forward_layer and backward_layer joined as one group's two directions."""
    groups: dict[str, dict] = {}
    for name in names:
        vs = _vars(f, name, where) if _CELL.search(name) else []
        if not (len(vs) in (2, 3) and vs[0].ndim == vs[1].ndim == 2 and vs[0].shape[1] == vs[1].shape[1] and vs[1].shape[0] > 0
                and vs[1].shape[1] % vs[1].shape[0] == 0):
            continue
        d = name.removesuffix("cell/vars").rstrip("/")
        side = _SIDE.fullmatch(d)
        top = side.group(1) if side else d
        groups.setdefault(top, {"dir": top, "cells": {}})["cells"]["_reverse" if side and side.group(2) == "backward" else ""] = (d, vs)
    return [_kind(f, g, where) for g in groups.values()]


def _kind(f, g: dict, where: str) -> dict:
    """A group's name, weights (under the keras layout's names), the kinds its shapes fit and the one its names say."""
    cells = g["cells"]
    single = len(cells) == 1
    g["weights"] = {n + ("" if single else f"_l0{rev}"): v for rev, (_, vs) in sorted(cells.items())
                    for n, v in zip(("kernel", "recurrent_kernel", "bias"), vs)}
    g["name"] = _attr_name(f, g["dir"] + "/vars") or g["dir"]
    said = [_attr_name(f, d + "/cell/vars") for d, _ in cells.values()] + [g["dir"].rsplit("/", 1)[-1]] + \
        [_attr_name(f, d + "/vars") for d, _ in cells.values()]
    snake = {_snake(c): c for c in RECURRENT}
    g["named"] = next(((snake[m.group(1)], n) for n in said if n and (m := _DEFAULT.fullmatch(n)) and m.group(1) in snake), None)
    g["fits"] = fitting.kinds_for(g["weights"], "keras", {}) if "" in cells else []
    named = kinds.of_class(g["named"][0]) if g["named"] else None
    g["kind"] = named or (g["fits"][0] if len(g["fits"]) == 1 else None)
    g["error"] = None
    if "" not in cells:
        g["error"] = FormatError(f"{where}: {g['dir']!r} holds a backward_layer without its forward_layer")
    elif named is not None and named not in g["fits"]:
        g["error"] = FormatError(f"{where}: {g['name']!r} is named as Keras names a {g['named'][0]} ({g['named'][1]!r}), but its "
                                 f"weights are not a {named}'s: {fitting.why_not(named, g['weights'], 'keras', {})}")
    return g


def _pick(groups: list[dict], where: str, prefix: str | None) -> dict:
    """The group ``prefix`` names (a layer's name, or its path: layers/gru), or the only one."""
    names, kinds = [g["name"] for g in groups], {g["name"]: [g["kind"]] if g["kind"] else g["fits"] for g in groups}
    listed = ", ".join(f"{g['name']!r} ({g['kind'] or fitting.listed(g['fits'])})" for g in groups[:10])
    found = [g for g in groups if prefix in (g["name"], g["dir"], g["dir"].rsplit("/", 1)[-1])]
    if prefix is not None and not found:
        raise AmbiguousWeightsError(f"{where}: prefix {prefix[:100]!r} names no recurrent layer; the file holds {listed or 'none'}", names, kinds)
    if not found and not groups:
        raise FormatError(f"{where}: an HDF5 file with no Keras 3 recurrent layer in it (no SimpleRNN, LSTM or GRU weights under "
                          ".../cell/vars); gatescope reads the .weights.h5 of Keras 3's model.save_weights, and .keras archives")
    if not found and len(groups) > 1:
        raise AmbiguousWeightsError(f"{where} holds {len(groups)} recurrent groups: {listed}; pass prefix= (the page: Group). A "
                                    ".weights.h5 has no config.json to say which layers are stacked: save the model whole "
                                    "(model.save('m.keras')) to read stacked layers as one model", names, kinds)
    group = (found or groups)[0]
    if group["error"] is not None:
        raise group["error"]
    return group
