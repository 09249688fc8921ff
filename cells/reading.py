"""Reading weights files safely: sniffing the format, checking headers against limits, then the arrays.

Two formats are read: safetensors (through the ``safetensors`` package, the
field's standard, imported only when a file is read) and NumPy's .npz (with
``allow_pickle=False``). The format is decided by the file's first bytes,
never by its name. Pickle in any form (PyTorch .pt/.pth checkpoints, pickled
.npz entries) is refused with a message that says how to convert it (Keras'
files are cells.formats.keras'); nothing in a user's file is ever executed.

Everything a file declares is checked before it is allocated: the dtypes,
shapes and offsets in a safetensors header and in the .npy header of each
.npz member must agree with the bytes that are there, and their decoded size
(as float32, or float64 for 64-bit data) must fit :class:`Limits`. Messages
name a file by its base name only, never its directory.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import CellsError, FormatError, shown

# A header is about 100 bytes a tensor plus the metadata (vocab, labels, card): a real model's is well under 16 MiB
_SAFETENSORS_MAX_HEADER = 16 * 1024 * 1024
# safetensors dtype -> bytes per element; F8_*, BOOL, complex and the rest are refused by name
ST_DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
             "U64": 8, "U32": 4, "U16": 2, "U8": 1}
NPY_KINDS = "fiu"  # float16/32/64 and integers; the engine widens them to float32 (float64 for 64-bit data)

_PICKLE_HINT = ("gatescope never unpickles files. Save the recurrent layer's weights as safetensors instead: "
                "safetensors.torch.save_file(model.rnn.state_dict(), 'rnn.safetensors') (model.rnn being the nn.LSTM, "
                "nn.GRU or nn.RNN), then load or upload it with kind=lstm (or gru, rnn); a whole model's state_dict works "
                "too when it holds one recurrent layer. Or numpy.savez('w.npz', **{k: v.numpy() for k, v in "
                "model.rnn.state_dict().items()})")


# -- limits --------------------------------------------------------------------

class LimitError(CellsError):
    """A file declares more than the caller allows (``keyword`` names the limit, e.g. max_hidden)."""

    def __init__(self, name: str, value: object, limit: int, keyword: str):
        self.name, self.value, self.limit, self.keyword = name, value, limit, keyword
        super().__init__(f"{name}: {value} is over the limit of {limit} ({keyword})")


@dataclass(frozen=True)
class Limits:
    """What a file may declare; every check runs on headers, names and shapes, before anything is allocated.

    None means no limit. ``max_bytes`` caps all arrays once decoded: an int8
    or float16 tensor counts 4 bytes per element (it becomes float32), 64-bit
    data 8. ``max_tensors`` caps the entries of a safetensors header and the
    members of an .npz, counted before any of them is checked or opened.
    ``max_vocab`` caps the tokens of a bundle's vocab and the entries of its labels, and ``max_token_chars``
    the characters of each, counted as the JSON lists are read (cells.io), before either is built.
    """

    max_layers: int | None = None
    max_hidden: int | None = None
    max_proj_size: int | None = None
    max_bytes: int | None = None
    max_vocab: int | None = None
    max_card_bytes: int | None = None
    max_tensors: int | None = None
    max_token_chars: int | None = None

    @classmethod
    def merge(cls, limits: Limits | None = None, **given: int | None) -> Limits:
        """``limits`` with the keywords that are not None put over it."""
        base = (limits or NO_LIMITS).__dict__
        return cls(**{**base, **{k: v for k, v in given.items() if v is not None}})

    def check(self, name: str, value: int, keyword: str, shown: object = None) -> None:
        limit = getattr(self, keyword)
        if limit is not None and value > limit:
            raise LimitError(name, value if shown is None else shown, limit, keyword)


NO_LIMITS = Limits()
LIMIT_KEYWORDS = tuple(Limits.__dataclass_fields__)


def decoded_bytes(elements: int, itemsize: int) -> int:
    """Bytes of ``elements`` values once widened: float32, or float64 for 64-bit data."""
    return elements * (8 if itemsize >= 8 else 4)


def arrays_bytes(arrays: Mapping[str, np.ndarray]) -> int:
    return sum(decoded_bytes(a.size, a.dtype.itemsize) for a in arrays.values())


def label(path: str | os.PathLike) -> str:
    """How messages name a file: its base name, never the directories above it."""
    name = os.fspath(path)
    return os.path.basename(name) or name


# -- sniffing and reading ------------------------------------------------------------

def sniff(path: str | os.PathLike) -> str:
    """What wrote the file, from its first bytes (never its name): one of FORMATS; FormatError if none.

    "torch" is a pickle (torch.save's zip holding one, or a bare one), "keras" a .keras archive, "keras_weights"
    an HDF5 file (Keras' .weights.h5 and .h5), "onnx" a protobuf that starts as an ONNX ModelProto does. Which of
    them can be read, and how, is cells.files.read's business.
    """
    name, shown_as = os.fspath(path), label(path)
    try:
        size = os.path.getsize(name)
        with open(name, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise FormatError(f"{shown_as}: cannot read the file ({e.strerror or type(e).__name__})") from None
    if head[:2] == b"PK":
        return _sniff_zip(name)
    if len(head) >= 9:  # before the pickle test: a header length such as 0x0480 starts with the bytes of a pickle
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n <= size - 8 and head[8:9] == b"{":  # (a header over _SAFETENSORS_MAX_HEADER is refused by name when read)
            return "safetensors"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "torch"
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return "keras_weights"
    if _looks_like_onnx(head):
        return "onnx"
    multipart = " (it starts as a multipart/form-data body: send the file itself as the body, or as a form's file field)" \
        if head[:2] == b"--" else ""
    raise FormatError(f"{shown_as}: not a weights file this reads (the first bytes match none of: {', '.join(FORMAT_NAMES.values())})"
                      f"{multipart}")


#: What sniff tells apart, as messages name them.
FORMAT_NAMES = {"safetensors": "safetensors", "npz": "NumPy .npz", "torch": "PyTorch .pt/.pth", "keras": "Keras .keras",
                "keras_weights": "Keras .weights.h5/.h5", "onnx": "ONNX .onnx"}


# ModelProto's fields that may follow ir_version, by their protobuf tag (field << 3 | wire type), and what starts their
# bytes: producer_name, producer_version, domain and doc_string are text; model_version a varint; graph a GraphProto
# (the tag of one of its fields: node, name, initializer, doc_string, input, output, ...); opset_import an OperatorSetIdProto
# (domain or version). Protobuf writes fields in number order, so this is the second field of every exporter's file.
_ONNX_NEXT = {0x12: "text", 0x1A: "text", 0x22: "text", 0x28: "varint", 0x32: "text", 0x3A: "graph", 0x42: "opset"}
_ONNX_STARTS = {"graph": b"\x0a\x12\x2a\x52\x5a\x62\x6a\x72\x7a\x82", "opset": b"\x0a\x10"}


def article(name: str) -> str:
    """'an ONNX .onnx', 'a NumPy .npz': the formats' names as a sentence says them."""
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def _looks_like_onnx(head: bytes) -> bool:
    """An ONNX ModelProto as exporters write it: ir_version (field 1, IR 3 or later) first, then one of its fields whose
    first bytes fit it: a TensorFlow SavedModel (08 01 12 ...), an ONNX TensorProto (08 dims ...) or text do not."""
    if len(head) < 4 or head[0] != 0x08 or not 3 <= head[1] <= 32 or head[2] not in _ONNX_NEXT:
        return False
    what = _ONNX_NEXT[head[2]]
    if what == "varint":
        return True
    length, at = 0, 3
    for shift in range(0, 35, 7):  # the field's length, a varint
        if at >= len(head):
            return what == "graph"  # a graph's length may take every byte there is
        length |= (head[at] & 0x7F) << shift
        at += 1
        if not head[at - 1] & 0x80:
            break
    body = head[at:at + length]
    if what == "text":
        return all(b >= 0x20 and b != 0x7F for b in body)  # printable ASCII, or UTF-8's high bytes
    return length == 0 or not body or body[0] in _ONNX_STARTS[what]


def _sniff_zip(name: str) -> str:
    try:
        with zipfile.ZipFile(name) as z:
            members = z.namelist()
    except (zipfile.BadZipFile, OSError) as e:
        raise FormatError(f"{label(name)}: a damaged zip archive ({e})") from None
    if any(m.endswith(".pkl") for m in members):
        return "torch"
    if "config.json" in members and any(m.endswith(".h5") for m in members):
        return "keras"
    if not members or not all(m.endswith(".npy") for m in members):
        raise FormatError(f"{label(name)}: a zip archive, but not an .npz of arrays or a .keras archive (it holds: {shown(members, 5)})")
    return "npz"


def read_arrays(path: str | os.PathLike, max_bytes: int | None = None, *,
                limits: Limits | None = None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays of a safetensors or npz file, and the safetensors metadata ({} for npz).

    The headers are checked first: a tensor the file does not hold, or whose
    decoded size is over ``limits.max_bytes`` (or ``max_bytes``), is refused
    before any array is allocated. Other formats: cells.files.read.
    """
    limits = Limits.merge(limits, max_bytes=max_bytes)
    fmt = sniff(path)
    if fmt == "npz":
        return _read_npz(os.fspath(path), limits), {}
    if fmt == "safetensors":
        return _read_safetensors(os.fspath(path), limits)
    raise FormatError(f"{label(path)}: {article(FORMAT_NAMES[fmt])} file, not safetensors or .npz (cells.files.read reads it)")


def _npy_header(name: str, member: str, f) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype an .npz member declares, read from its .npy header alone."""
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = npy.read_array_header_2_0(f)
        else:
            raise ValueError(f"npy format version {version[0]}.{version[1]}; 1.0 and 2.0 are read")
    except (ValueError, OSError, EOFError, SyntaxError, RecursionError, TypeError) as e:
        raise FormatError(f"{label(name)}: member {member!r} has a damaged .npy header ({str(e)[:200]})") from None
    if dtype.hasobject:
        raise FormatError(f"{label(name)}: the array {member[:-4]!r} in this .npz holds Python objects, which needs pickle. {_PICKLE_HINT}")
    if dtype.kind not in NPY_KINDS or dtype.itemsize > 8 or dtype.fields is not None:
        raise FormatError(f"{label(name)}: the array {member[:-4]!r} has dtype {dtype}; supported: float16, float32, float64 "
                          "and integers (int8 to int64, uint8 to uint64)")
    return shape, dtype


def _read_npz(name: str, limits: Limits) -> dict[str, np.ndarray]:
    total = 0
    try:
        with zipfile.ZipFile(name) as z:
            infos = z.infolist()
            limits.check(label(name), len(infos), "max_tensors", f"{len(infos)} members")
            for info in infos:
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
                    how = "is encrypted" if info.flag_bits & 0x1 else f"uses compression method {info.compress_type}"
                    raise FormatError(f"{label(name)}: member {info.filename[:100]!r} {how}; .npz members are stored or deflated, "
                                      "unencrypted (numpy.savez, numpy.savez_compressed)")
                with z.open(info) as f:
                    shape, dtype = _npy_header(name, info.filename, f)
                    declared = math.prod(shape) * dtype.itemsize
                    held = info.file_size - f.tell()
                if declared != held:  # np.load would allocate the declared size before noticing
                    raise FormatError(f"{label(name)}: the array {info.filename[:-4]!r} declares shape {shape} of {dtype} "
                                      f"({declared} bytes) but the archive holds {held} bytes for it")
                total += decoded_bytes(math.prod(shape), dtype.itemsize)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise FormatError(f"{label(name)}: a damaged .npz ({e})") from None
    limits.check(label(name), total, "max_bytes", f"arrays of {total} bytes once decoded")
    out = {}
    try:
        with np.load(name, allow_pickle=False) as data:
            for key in data.files:
                out[key] = data[key]
    except ValueError as e:
        if "pickle" in str(e):
            raise FormatError(f"{label(name)}: an array in this .npz holds Python objects, which needs pickle. {_PICKLE_HINT}") from None
        raise FormatError(f"{label(name)}: a damaged .npz ({e})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise FormatError(f"{label(name)}: a damaged .npz ({e})") from None
    return out


class _TooMany(Exception):
    pass


def read_header(name: str | os.PathLike, max_tensors: int | None = None) -> tuple[int, dict]:
    """A safetensors file's header length and decoded JSON header, without reading any tensor.

    With ``max_tensors``, decoding stops (LimitError) as soon as the header holds
    more JSON objects than that many tensor entries, the header itself and
    ``__metadata__`` would: a header of a million tiny entries is not built first.
    """
    objects = 0

    def counted(pairs: list) -> dict:
        nonlocal objects
        objects += 1
        if objects > max_tensors + 2:
            raise _TooMany
        return dict(pairs)

    with open(name, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > _SAFETENSORS_MAX_HEADER:
            raise FormatError(f"{label(name)}: the safetensors header declares {n} bytes; at most {_SAFETENSORS_MAX_HEADER} are read")
        try:
            header = json.loads(f.read(n), object_pairs_hook=None if max_tensors is None else counted)
        except _TooMany:
            raise LimitError(label(name), f"more than {max_tensors} tensors", max_tensors, "max_tensors") from None
        except ValueError as e:  # not UTF-8, not JSON, or a number of more than 4,300 digits (int() refuses those)
            raise FormatError(f"{label(name)}: the safetensors header is not valid JSON ({str(e)[:200]})") from None
        except RecursionError:
            raise FormatError(f"{label(name)}: the safetensors header is nested too deeply to be a safetensors header") from None
    return n, header


def check_header(name: str, header: dict, data_len: int) -> int:
    """Check every tensor entry of a safetensors header against the data; return the decoded bytes of all."""
    total = 0
    for key, info in header.items():
        try:
            dtype, shape, (start, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise FormatError(f"{label(name)}: tensor {key[:100]!r} has a malformed entry in the header") from None
        if dtype not in ST_DTYPES:
            raise FormatError(f"{label(name)}: tensor {key[:100]!r} has dtype {str(dtype)[:20]!r}, which gatescope cannot hold; "
                              f"supported: {', '.join(ST_DTYPES)}")
        ints = [start, end, *shape] if isinstance(shape, list) else None
        if ints is None or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints):
            raise FormatError(f"{label(name)}: tensor {key[:100]!r}: shape and data_offsets must be non-negative integers")
        count = math.prod(shape)
        if not start <= end <= data_len or end - start != count * ST_DTYPES[dtype]:
            raise FormatError(f"{label(name)}: tensor {key[:100]!r} declares shape {tuple(shape)} of {dtype} "
                              f"({count * ST_DTYPES[dtype]} bytes) at bytes {start}..{end} of {data_len}")
        total += decoded_bytes(count, ST_DTYPES[dtype])
    return total


def _read_safetensors(name: str, limits: Limits) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    n, header = read_header(name, limits.max_tensors)
    if not isinstance(header, dict):
        raise FormatError(f"{label(name)}: the safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    limits.check(label(name), len(header), "max_tensors", f"{len(header)} tensors")
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise FormatError(f"{label(name)}: safetensors metadata must map strings to strings")
    total = check_header(name, header, os.path.getsize(name) - 8 - n)
    limits.check(label(name), total, "max_bytes", f"tensors of {total} bytes once decoded")
    from safetensors import SafetensorError, safe_open

    out = {}
    try:
        with safe_open(name, framework="numpy") as f:
            for key in f.keys():
                if header[key]["dtype"] == "BF16":
                    out[key] = _read_bf16(name, n, header[key])
                else:
                    out[key] = f.get_tensor(key)
    except (SafetensorError, OSError, ValueError, TypeError) as e:
        raise FormatError(f"{label(name)}: not a valid safetensors file ({str(e).replace(name, label(name))[:300]})") from None
    return out, metadata


def _read_bf16(name: str, header_len: int, info: dict) -> np.ndarray:
    """bfloat16 is the top half of a float32; NumPy has no such dtype, so widen it by hand."""
    start, end = info["data_offsets"]
    with open(name, "rb") as f:
        f.seek(8 + header_len + start)
        raw = np.frombuffer(f.read(end - start), dtype="<u2")
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(info["shape"])
