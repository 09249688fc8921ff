"""Reading weights files safely, and gatescope bundles.

Two formats are read: safetensors (through the ``safetensors`` package, the
field's standard, imported only here) and NumPy's .npz (with
``allow_pickle=False``). The format is decided by the file's first bytes,
never by its name. Pickle in any form (PyTorch .pt/.pth checkpoints, pickled
.npz entries) and Keras' HDF5 files are refused with a message that says how
to convert them; nothing in a user's file is ever executed.

A bundle is one .safetensors file whose metadata says what it holds:

    gatescope  "1" (the bundle format version)
    kind       a cell kind, e.g. "lstm"
    layout     "torch" (default), "keras" or "tf1": how the weights are named
    options    JSON object of the kind's options, e.g. {"proj_size": 4}
    vocab      JSON list of tokens (optional): row i of embedding.weight is token i
    labels     JSON list naming the decoder's outputs (optional; defaults to vocab)
    card       JSON object describing the model (optional)

and whose tensors are the layout's weights plus, optionally,
``embedding.weight`` (V, input_size), ``decoder.weight`` (outputs,
directions*hidden) and ``decoder.bias`` (outputs,).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import CellsError, FormatError

BUNDLE_VERSION = "1"
EXTRA_TENSORS = ("embedding.weight", "decoder.weight", "decoder.bias")
_SAFETENSORS_MAX_HEADER = 100 * 1024 * 1024

_PICKLE_HINT = ("gatescope never unpickles files. Save the weights as safetensors instead, e.g. "
                "safetensors.torch.save_file(model.state_dict(), 'model.safetensors'), or as .npz with numpy.savez")
_KERAS_HINT = ("Keras .h5/.keras files are not read. Export the layer's weights instead: "
               "numpy.savez('w.npz', **dict(zip(['kernel', 'recurrent_kernel', 'bias'], layer.get_weights())))")


def sniff(path: str | os.PathLike) -> str:
    """'safetensors' or 'npz', decided from the first bytes; FormatError otherwise."""
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
        with open(name, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise FormatError(f"{name}: cannot read the file ({e.strerror or e})") from None
    if head[:2] == b"PK":
        return _sniff_zip(name)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise FormatError(f"{name}: this is a pickle file (a PyTorch .pt/.pth checkpoint or similar). {_PICKLE_HINT}")
    if head[:4] == b"\x89HDF":
        raise FormatError(f"{name}: this is an HDF5 file. {_KERAS_HINT}")
    if len(head) >= 9:
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n <= min(_SAFETENSORS_MAX_HEADER, size - 8) and head[8:9] == b"{":
            return "safetensors"
    raise FormatError(f"{name}: not a safetensors or .npz file (the first bytes match neither)")


def _sniff_zip(name: str) -> str:
    try:
        with zipfile.ZipFile(name) as z:
            members = z.namelist()
    except (zipfile.BadZipFile, OSError) as e:
        raise FormatError(f"{name}: a damaged zip archive ({e})") from None
    if any(m.endswith(".pkl") for m in members):
        raise FormatError(f"{name}: this is a PyTorch checkpoint (a zip holding a pickle). {_PICKLE_HINT}")
    if any(m.endswith((".h5", "config.json")) for m in members):
        raise FormatError(f"{name}: this is a Keras .keras archive. {_KERAS_HINT}")
    if not members or not all(m.endswith(".npy") for m in members):
        raise FormatError(f"{name}: a zip archive, but not an .npz of arrays (it holds: {', '.join(members[:5])})")
    return "npz"


def read_arrays(path: str | os.PathLike, max_bytes: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays of a safetensors or npz file, and the safetensors metadata ({} for npz).

    ``max_bytes`` caps the total size of the arrays once loaded (an .npz may
    be compressed far below what it expands to).
    """
    fmt = sniff(path)
    if fmt == "npz":
        return _read_npz(os.fspath(path), max_bytes), {}
    return _read_safetensors(os.fspath(path), max_bytes)


def _read_npz(name: str, max_bytes: int | None) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(name) as z:
        total = sum(i.file_size for i in z.infolist())
    if max_bytes is not None and total > max_bytes:
        raise FormatError(f"{name}: the arrays take {total} bytes once decompressed; the limit is {max_bytes}")
    out = {}
    try:
        with np.load(name, allow_pickle=False) as data:
            for key in data.files:
                out[key] = data[key]
    except ValueError as e:
        if "pickle" in str(e):
            raise FormatError(f"{name}: an array in this .npz holds Python objects, which needs pickle. {_PICKLE_HINT}") from None
        raise FormatError(f"{name}: a damaged .npz ({e})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise FormatError(f"{name}: a damaged .npz ({e})") from None
    return out


def read_header(name: str | os.PathLike) -> tuple[int, dict]:
    """A safetensors file's header length and decoded JSON header, without reading any tensor."""
    with open(name, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FormatError(f"{os.fspath(name)}: the safetensors header is not valid JSON ({e})") from None
    return n, header


def _read_safetensors(name: str, max_bytes: int | None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    n, header = read_header(name)
    if not isinstance(header, dict):
        raise FormatError(f"{name}: the safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise FormatError(f"{name}: safetensors metadata must map strings to strings")
    total = 0
    for key, info in header.items():
        try:
            start, end = info["data_offsets"]
            total += int(end) - int(start)
        except (TypeError, KeyError, ValueError):
            raise FormatError(f"{name}: tensor {key!r} has a malformed entry in the header") from None
    if max_bytes is not None and total > max_bytes:
        raise FormatError(f"{name}: the tensors take {total} bytes; the limit is {max_bytes}")
    from safetensors import SafetensorError, safe_open

    out = {}
    try:
        with safe_open(name, framework="numpy") as f:
            for key in f.keys():
                if header[key].get("dtype") == "BF16":
                    out[key] = _read_bf16(name, n, header[key])
                else:
                    out[key] = f.get_tensor(key)
    except (SafetensorError, OSError, ValueError, TypeError) as e:
        raise FormatError(f"{name}: not a valid safetensors file ({e})") from None
    return out, metadata


def _read_bf16(name: str, header_len: int, info: dict) -> np.ndarray:
    """bfloat16 is the top half of a float32; NumPy has no such dtype, so widen it by hand."""
    start, end = info["data_offsets"]
    with open(name, "rb") as f:
        f.seek(8 + header_len + start)
        raw = np.frombuffer(f.read(end - start), dtype="<u2")
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(info["shape"])


# -- bundles -----------------------------------------------------------------

def bundle_fields(metadata: Mapping[str, str]) -> dict[str, Any]:
    """Decode a bundle's metadata; {} when the file is not a gatescope bundle."""
    if "gatescope" not in metadata:
        return {}
    out: dict[str, Any] = {}
    for key in ("kind", "layout"):
        if key in metadata:
            out[key] = metadata[key]
    for key, typ in (("options", dict), ("vocab", list), ("labels", list), ("card", dict)):
        if key in metadata:
            try:
                value = json.loads(metadata[key])
            except json.JSONDecodeError as e:
                raise FormatError(f"bundle metadata {key!r} is not valid JSON ({e})") from None
            if not isinstance(value, typ):
                raise FormatError(f"bundle metadata {key!r}: expected a JSON {typ.__name__}, got {type(value).__name__}")
            out[key] = value
    return out


def bundle_parts(model, layout: str = "torch") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and metadata a bundle of ``model`` holds."""
    tensors = dict(model.to_arrays(layout))
    if model.embedding is not None:
        tensors["embedding.weight"] = model.embedding
    if model.head is not None:
        tensors["decoder.weight"], tensors["decoder.bias"] = model.head
    metadata = {"gatescope": BUNDLE_VERSION, "kind": model.kind, "layout": layout,
                "options": json.dumps(model.options), "config": json.dumps(model.config())}
    if model.vocab is not None:
        metadata["vocab"] = json.dumps(model.vocab.tokens, ensure_ascii=False)
    if model.labels is not None:
        metadata["labels"] = json.dumps(model.labels, ensure_ascii=False)
    if model.card:
        metadata["card"] = json.dumps(model.card, ensure_ascii=False, sort_keys=True)
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
