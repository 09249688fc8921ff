"""gatescope bundles: one file with a model's weights, options, vocabulary, head and card.

A bundle is one .safetensors file whose metadata says what it holds:

    gatescope  "1" (the bundle format version)
    kind       a cell kind, e.g. "lstm"
    layout     "torch" (default), "keras", "tf1" or "onnx": how the weights are named
    options    JSON object of the kind's options, e.g. {"proj_size": 4}
    vocab      JSON list of tokens (optional): row i of embedding.weight is token i
    labels     JSON list naming the decoder's outputs (optional; defaults to vocab)
               (both counted, and each token measured, as the list is read: Limits.max_vocab, max_token_chars)
    card       JSON object describing the model (optional; see CARD_KEYS)
    source     JSON object: how the weights were read from the user's file (optional)
    assumed    JSON object: option -> what was assumed because the weights cannot say (optional)

and whose tensors are the layout's weights plus, optionally,
``embedding.weight`` (V, input_size), ``decoder.weight`` (outputs,
directions*hidden) and ``decoder.bias`` (outputs,). Reading the file itself
(formats, limits) is ``cells.reading``.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import re
from collections.abc import Mapping
from json.decoder import scanstring
from typing import Any

import numpy as np

from .errors import CellsError, FormatError
from .reading import NO_LIMITS, LimitError, Limits

BUNDLE_VERSION = "1"
BUNDLE_VERSIONS = ("1",)
EXTRA_TENSORS = ("embedding.weight", "decoder.weight", "decoder.bias")
CARD_DEPTH = 8     # a card is shown and echoed; deeper JSON is refused, not shipped to every response


# -- bundles -----------------------------------------------------------------

#: Card keys the app and the page read, and what they must be; other keys are kept if they are plain JSON data.
#: ``units`` (list[int]) are the hidden units the notes talk about, drawn first when not all fit: indices
#: 0..hidden_size-1, checked against the model when it is made (check_card with its hidden_size). ``zh``
#: (dict[str, str]) holds the card's words in Chinese, read by the page beside the English ones (title, notes, ...).
CARD_KEYS: dict[str, Any] = {
    "title": str, "notes": str, "task": str, "task_title": str, "description": str, "example": str,
    "input_type": ("text", "numbers", "signal"), "head": ("softmax", "linear"),
    "units": list[int], "zh": dict[str, str],
}
_SCALARS = (str, int, float, bool, type(None))


def _no_constants(token: str):
    raise ValueError(f"{token} is not JSON data")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # NaN and Infinity are Python's, not JSON's


def _json(key: str, text: str) -> Any:
    try:
        return _DECODER.decode(text)
    except ValueError as e:  # JSONDecodeError included
        raise FormatError(f"bundle metadata {key!r} is not valid JSON ({str(e)[:200]})") from None
    except RecursionError:
        raise FormatError(f"bundle metadata {key!r}: JSON nested too deeply") from None


# A flat JSON list of strings, read one string at a time: "[", then each string (its characters as written, group 1)
# with the "," after it, or the "]" (group 2) that ends the text. Nothing of a string is decoded to find its end.
_LIST_OPEN = re.compile(r"[ \t\n\r]*\[[ \t\n\r]*")
_LIST_EMPTY = re.compile(r"\][ \t\n\r]*\Z")
_LIST_ITEM = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"[ \t\n\r]*(?:,[ \t\n\r]*|(\])[ \t\n\r]*\Z)', re.S)


def _strings(key: str, text: str, limits: Limits) -> list[str]:
    """A bundle's vocab or labels: a flat JSON list of strings, counted (max_vocab) and each string measured
    (max_token_chars) as the list is read, before any list is built or any string longer than the limit decoded."""
    if limits.max_vocab is None and limits.max_token_chars is None:
        value = _json(key, text)
    else:
        count = _count_strings(key, text, limits)
        limits.check(key, count, "max_vocab", f"{count} {'tokens' if key == 'vocab' else 'labels'}")
        value = _json(key, text)  # no more than max_vocab strings, none longer than max_token_chars
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise FormatError(f"bundle metadata {key!r}: expected a flat JSON list of strings")
    return value


def _count_strings(key: str, text: str, limits: Limits) -> int:
    """How many strings a flat JSON list holds, each measured against max_token_chars on the way (LimitError at the first too long)."""
    opened = _LIST_OPEN.match(text)
    if opened is None:
        raise _not_flat(key, text, 0)
    pos, count, most = opened.end(), 0, limits.max_token_chars
    if _LIST_EMPTY.match(text, pos):
        return 0
    match = _LIST_ITEM.match
    while (item := match(text, pos)) is not None:
        start, end = item.span(1)
        if most is not None and end - start > most:  # as written: an escape (\u00e9) is longer than what it reads as
            if text.find("\\", start, end) < 0:
                length, head = end - start, text[start:min(end, start + 21)]
            else:
                token = _decoded(key, text, start)
                length, head = len(token), token[:21]
            if length > most:
                shown = repr(head[:20] + ("…" if len(head) > 20 else ""))
                raise LimitError(f"{'vocab token' if key == 'vocab' else 'label'} {count}", f"{shown} of {length} characters",
                                 most, "max_token_chars")
        count, pos = count + 1, item.end()
        if item.start(2) >= 0:  # the closing "]", at the end of the text
            return count
    raise _not_flat(key, text, pos)  # something other than a string, or a broken one


def _decoded(key: str, text: str, start: int) -> str:
    """The JSON string whose characters begin at ``start``, decoded (strictly, as json.loads would)."""
    try:
        return scanstring(text, start)[0]
    except ValueError as e:
        raise FormatError(f"bundle metadata {key!r} is not valid JSON ({str(e)[:200]})") from None


def _not_flat(key: str, text: str, pos: int) -> FormatError:
    found = text[pos:pos + 20] + ("…" if len(text) > pos + 20 else "")
    return FormatError(f"bundle metadata {key!r}: expected a flat JSON list of strings (found {found!r} at character {pos})")


def _depth(value: Any) -> int:
    """How many levels of objects and arrays JSON data nests (a scalar is 0), level by level, without recursion."""
    depth, level = 0, [value]
    while True:
        level = [c for c in level if isinstance(c, (dict, list))]
        if not level:
            return depth
        depth += 1
        level = [v for c in level for v in (c.values() if isinstance(c, dict) else c)]


def _short(value: Any, limit: int = 40) -> str:
    """A value as a message quotes it: as JSON (null, true, "x"), cut to ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _units_wanted(hidden_size: int | None) -> str:
    if hidden_size is None:
        return "expected a list of unit indices (integers 0..hidden_size-1), e.g. [3, 0]"
    return f"expected a list of unit indices 0..{hidden_size - 1} (hidden_size {hidden_size}), e.g. [{hidden_size - 1}]"


def _check_units(value: Any, hidden_size: int | None) -> list[int]:
    """A card's units: a list of hidden-unit indices, within hidden_size when it is known."""
    if not isinstance(value, list):
        raise FormatError(f"card units: got {_short(value)}; {_units_wanted(hidden_size)}")
    for i, u in enumerate(value):
        if isinstance(u, bool) or not isinstance(u, numbers.Integral) or u < 0:
            raise FormatError(f"card units: item {i} is {_short(u)}; {_units_wanted(hidden_size)}")
        if hidden_size is not None and u >= hidden_size:
            raise FormatError(f"card units: item {i} is {int(u)}, not a unit of this model; {_units_wanted(hidden_size)}")
    return [int(u) for u in value]


def _check_words(key: str, value: Any) -> None:
    """A card's words in another language: an object of strings, e.g. {"title": ..., "notes": ...}."""
    wanted = 'expected a JSON object of strings (the card\'s words in Chinese, e.g. {"title": "...", "notes": "..."})'
    if not isinstance(value, dict):
        raise FormatError(f"card {key}: got {_short(value)}; {wanted}")
    for k, v in value.items():
        if not isinstance(v, str):
            raise FormatError(f"card {key}: {_short(k)} is {_short(v)}; {wanted}")


def check_card(card: Any, hidden_size: int | None = None) -> dict:
    """A model card: a JSON object whose known keys have the types the app reads, and nothing deeper than CARD_DEPTH.

    With ``hidden_size`` (a model is being made of it) its units must also be units of that model. Returns the card,
    its units as plain ints.
    """
    if not isinstance(card, dict):
        raise FormatError(f"bundle metadata 'card': expected a JSON object, got {type(card).__name__}")
    for key, want in CARD_KEYS.items():
        if key not in card:
            continue
        value = card[key]
        if isinstance(want, tuple) and value not in want:
            raise FormatError(f"card {key}: got {str(value)[:40]!r}; expected one of: {', '.join(want)}")
        if want is str and not isinstance(value, str):
            raise FormatError(f"card {key}: expected a string, got {type(value).__name__}")
        if want == list[int]:
            card = {**card, key: _check_units(value, hidden_size)}
        if want == dict[str, str]:
            _check_words(key, value)
    if _depth(card) > CARD_DEPTH:
        raise FormatError(f"bundle metadata 'card': JSON nested {_depth(card)} deep; at most {CARD_DEPTH} levels are kept")
    return card


def check_card_fits(card: dict, reads_text: bool, input_size: int) -> None:
    """The card's input_type must be one the model can read, or every view of it would fail."""
    kind = card.get("input_type")
    if kind == "text" and not reads_text:
        raise FormatError("card input_type: 'text' needs a vocab and an embedding.weight in the bundle; this one has none")
    if kind == "signal" and input_size != 1:
        raise FormatError(f"card input_type: 'signal' is one number per step, but the model takes input_size {input_size}")


def bundle_fields(metadata: Mapping[str, str], limits: Limits | None = None) -> dict[str, Any]:
    """Decode and check a bundle's metadata; {} when the file is not a gatescope bundle."""
    if "gatescope" not in metadata:
        return {}
    limits = limits or NO_LIMITS
    version = metadata["gatescope"]
    if version not in BUNDLE_VERSIONS:
        raise FormatError(f"gatescope: bundle format version {version[:20]!r}; this gatescope reads version(s): {', '.join(BUNDLE_VERSIONS)}")
    out: dict[str, Any] = {}
    for key in ("kind", "layout"):
        if key in metadata:
            out[key] = metadata[key]
    for key in ("card", "source", "assumed"):
        if key in metadata:
            size = len(metadata[key].encode())
            limits.check(key, size, "max_card_bytes", f"{size} bytes of JSON")
    for key in ("options", "vocab", "labels", "card", "source", "assumed"):
        if key not in metadata:
            continue
        if key in ("vocab", "labels"):
            out[key] = _strings(key, metadata[key], limits)
            continue
        value = _json(key, metadata[key])
        if key == "card":
            value = check_card(value)
        elif not isinstance(value, dict) or not all(isinstance(v, _SCALARS) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
                                                    for v in value.values()):
            raise FormatError(f"bundle metadata {key!r}: expected a flat JSON object of numbers, strings, booleans or null")
        elif key == "assumed" and not all(isinstance(v, str) for v in value.values()):
            raise FormatError("bundle metadata 'assumed': expected a JSON object of strings")
        out[key] = value
    return out


def bundle_parts(model, layout: str = "torch") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and metadata a bundle of ``model`` holds."""
    tensors = dict(model.to_arrays(layout))
    if model.embedding is not None:
        tensors["embedding.weight"] = model.embedding
    if model.decoder is not None:
        tensors["decoder.weight"], tensors["decoder.bias"] = model.decoder
    metadata = {"gatescope": BUNDLE_VERSION, "kind": model.kind, "layout": layout,
                "options": json.dumps(model.options), "config": json.dumps(model.config())}
    if model.vocab is not None:
        metadata["vocab"] = json.dumps(model.vocab.tokens, ensure_ascii=False)
    if model.labels is not None:
        metadata["labels"] = json.dumps(model.labels, ensure_ascii=False)
    if model.card:
        metadata["card"] = json.dumps(model.card, ensure_ascii=False, sort_keys=True)
    for key in ("source", "assumed"):
        if getattr(model, key, None):
            metadata[key] = json.dumps(getattr(model, key), ensure_ascii=False, sort_keys=True)
    return {k: np.ascontiguousarray(v) for k, v in tensors.items()}, metadata


def save_bundle(model, path: str | os.PathLike, layout: str = "torch") -> None:
    from safetensors.numpy import save_file

    tensors, metadata = bundle_parts(model, layout)
    save_file(tensors, os.fspath(path), metadata=metadata)


def content_digest(model, layout: str = "torch") -> str:
    """SHA-256 of a bundle's content, independent of the order safetensors writes its header in."""
    tensors, metadata = bundle_parts(model, layout)
    h = hashlib.sha256(json.dumps(metadata, sort_keys=True).encode())
    for name in sorted(tensors):
        a = tensors[name]
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def split_extras(arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(recurrent weights, embedding/decoder tensors)."""
    weights = {k: v for k, v in arrays.items() if k not in EXTRA_TENSORS}
    extras = {k: v for k, v in arrays.items() if k in EXTRA_TENSORS}
    if ("decoder.weight" in extras) != ("decoder.bias" in extras):
        raise CellsError("decoder.weight and decoder.bias come together; only one was given")
    return weights, extras
