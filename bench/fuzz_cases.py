"""Hostile requests for bench/soak.py: one seeded case per number, over every route.

``Fuzzer(seed, info).case(n)`` is a pure function of (seed, n, info): case n is
the same request in every run, so ``soak.py --phase fuzz --seed S --only n``
sends exactly the request a report names. ``info`` is what the server says of
itself (GET /api/view, /api/presets) plus the ids of the models soak.py
uploaded before fuzzing.

Nothing here talks to the network; crafted files are built in memory.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote

import numpy as np

import fuzz_round3 as round3


@dataclass
class Case:
    n: int
    route: str                      # "GET /api/trace", "WS /ws/trace", ...: the row of the table it counts in
    method: str                     # an HTTP method, or "WS"
    path: str                       # path and query, already percent-encoded exactly as sent
    headers: dict = field(default_factory=dict)
    body: bytes | None = None
    messages: list = field(default_factory=list)  # WS: str or bytes to send after the handshake ("DROP": leave abruptly)
    note: str = ""                  # what is hostile about it

    def describe(self, limit: int = 300) -> str:
        path = self.path if len(self.path) <= limit else self.path[:limit] + f"...({len(self.path)} chars)"
        out = f"#{self.n} {self.method} {path}"
        if self.headers:
            out += " headers=" + json.dumps(self.headers)
        if self.body is not None:
            out += f" body({len(self.body)} B)={self.body[:limit]!r}" + ("..." if len(self.body) > limit else "")
        for m in self.messages:
            text = m if len(m) <= limit else m[:limit] + f"...({len(m)})"
            out += f" send={text!r}"
        return out + (f"  [{self.note}]" if self.note else "")


class Raw(str):
    """A query value sent as it stands (already percent-encoded), or JSON text inserted verbatim."""


# -- hostile values ------------------------------------------------------------------

HUGE = [str(2**63), str(2**63 - 1), str(2**64), str(-2**63 - 1), str(2**40), str(2**31), str(2**32), "9" * 5000, "-" + "9" * 5000,
        "1" + "0" * 400, "-1", "0", "-0", "00000000000000000001"]
FLOATY = ["NaN", "nan", "-nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "1e-400", "4.9e-324", "1.7976931348623157e308",
          "0x10", "1_0", "+5", " 5", "5 ", "\uff15", "\u0663", "\u00b2", "1e5", "0.0", "1.5"]
STRINGS = ["", ",,,", ",", " ", "null", "None", "true", "false", "[]", "{}", "../../../../etc/passwd", "<script>alert(1)</script>",
           "a" * 10_000, "\u00e9" * 3000, "\u202e", "\U0001f642" * 100, "\x00", "\r\nX-Injected: 1", "'\"", "\\", "*", "?", "#"]
RAW = [Raw("%C2%B2"), Raw("%ED%A0%80"), Raw("%ED%B0%80"), Raw("%F0%9F%98%80"), Raw("%FF"), Raw("%FE%FF"), Raw("%C0%AF"), Raw("%00"),
       Raw("%"), Raw("%zz"), Raw("%25"), Raw("a%26b%3Dc"), Raw("%0D%0ASet-Cookie:%20x=1"), Raw("+"), Raw("%2B"), Raw(";"), Raw("&&&")]
INPUTS = ["", " ", ";;;", "1,,2", "1 2; 3", "1e400", "nan", "inf, 1", "1e308, -1e308", "sine 999999999999", "sine 64 period=0",
          "sine 64 period=1e-320", "sine 64 amplitude=1e308 noise=1e308", "noise 5000 scale=1e308", "step 10 at=nan", "impulse 10 at=1e308",
          "impulse 10 at=-1e308", "sine 0", "sine -5", "sine 5001", "sine " + "9" * 5000, "sine 64 period=", "sine 64 =3", "sine 64 period=1=2",
          "\ud800", "a\udfffb", "\x00\x00", "\u0301" * 50, "\U0001f642\u200d\U0001f642", "a" * 5001, " ".join(["0"] * 257),
          "; ".join(["1 2"] * 10) + "; 1", "\n".join(["0.5"] * 20), "1e-320, 5e-324", "-0, 0", "0x1p3", "1_000", "\u0663"]
JSON_RAW = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 5000, "-" + "9" * 5000, "1" + "0" * 400, str(2**63), str(2**64),
            str(-2**63 - 1), "1e-400", "-0", "0.0", "1.0", "true", "false", "null", '"\\ud800"', '"a\\udfffb"', '"\\u0000"', "[]", "{}",
            "[" * 64 + "]" * 64, '"' + "a" * 100_000 + '"', '{"__proto__": {"x": 1}}', '"5"', '"true"']
ORIGINS = [None, None, None, "SELF", "http://evil.example", "null", "http://127.0.0.1.evil.example", "https://127.0.0.1", "file://",
           "http://localhost", "SELF/extra", "http://\u00e9.example"]
CONTENT_TYPES = ["application/json", "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/json; charset=utf-16", "application/octet-stream", "", "*/*", None]


def encode_query(pairs: list[tuple[str, str]]) -> str:
    parts = []
    for k, v in pairs:
        key = k if isinstance(k, Raw) else quote(k, safe="", errors="surrogatepass")
        value = v if isinstance(v, Raw) else quote(v, safe="", errors="surrogatepass")
        parts.append(f"{key}={value}")
    return "&".join(parts)


def text_frame(data: bytes) -> str:
    """The characters of a text frame whose bytes are ``data`` (soak.py encodes them back with surrogatepass)."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape")


def to_json(value) -> str:
    """JSON text with Raw leaves inserted verbatim (NaN, 5000-digit numbers, lone surrogate escapes)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


# -- crafted model files ----------------------------------------------------------------

def safetensors_bytes(header: dict | list | str, data: bytes = b"", header_len: int | None = None, raw_header: bytes | None = None) -> bytes:
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    n = len(text) if header_len is None else header_len
    return struct.pack("<Q", n % 2**64) + text + data


def tensors_file(tensors: dict[str, np.ndarray], metadata: dict | None = None) -> bytes:
    """A well-formed safetensors file, written by hand (what safetensors.numpy.save writes)."""
    header, blobs, offset = {}, [], 0
    dtypes = {"float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64", "int8": "I8", "bool": "BOOL", "uint8": "U8"}
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        raw = a.tobytes()
        header[name] = {"dtype": dtypes[str(a.dtype)], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def torch_weights(kind: str, input_size: int, hidden: int, layers: int = 1, dtype=np.float32, fill=None, seed: int = 0) -> dict:
    blocks = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    rng = np.random.default_rng(seed)
    out = {}
    for layer in range(layers):
        width = input_size if layer == 0 else hidden
        for name, shape in ((f"weight_ih_l{layer}", (blocks * hidden, width)), (f"weight_hh_l{layer}", (blocks * hidden, hidden)),
                            (f"bias_ih_l{layer}", (blocks * hidden,)), (f"bias_hh_l{layer}", (blocks * hidden,))):
            a = (rng.standard_normal(shape) * 0.1).astype(dtype)
            if fill is not None:
                a[...] = fill
            out[name] = a
    return out


def npy_bytes(shape_text: str, dtype: str = "<f8", data: bytes = b"", fortran: bool = False, pad_to: int | None = None) -> bytes:
    """An .npy member whose header declares whatever shape and dtype we say, followed by ``data``."""
    header = f"{{'descr': '{dtype}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    total = pad_to or (len(header) + 11 + 63) // 64 * 64
    header = header + " " * (total - 10 - len(header) - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + data


def zip_bytes(members: dict[str, bytes], compress: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@lru_cache(maxsize=4)
def npz_bomb(name: str, inflated_bytes: int) -> bytes:
    """An honest .npz (its zip directory states the true size) of one float64 array of zeros that inflates to ``inflated_bytes``."""
    count = inflated_bytes // 8
    head = npy_bytes(f"({count},)")
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk, parts, crc = bytes(1 << 24), [comp.compress(head)], zlib.crc32(head)
    left = count * 8
    while left:
        piece = chunk[:min(left, len(chunk))]
        parts.append(comp.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(comp.flush())
    deflated = b"".join(parts)
    size = len(head) + count * 8
    fname = (name + ".npy").encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(deflated), size, len(fname), 0) + fname
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(deflated), size, len(fname), 0, 0, 0, 0, 0, 0) + fname
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(deflated), 0)
    return local + deflated + central + end


F32_4x1 = b'{"dtype": "F32", "shape": [4, 1], "data_offsets": [0, 16]}'


def hostile_files(rng: random.Random) -> tuple[str, bytes]:
    """(what it is, bytes) of one malformed or borderline model file."""
    f4 = np.zeros((4, 1), np.float32).tobytes()
    valid = torch_weights("lstm", 1, 1)
    choices = [
        ("weight_ih_l999999", lambda: safetensors_bytes({"weight_ih_l999999": {"dtype": "F32", "shape": [4, 1], "data_offsets": [0, 16]}}, f4)),
        ("dtype F8_E4M3", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "F8_E4M3", "shape": [4, 1], "data_offsets": [0, 4]}}, bytes(4))),
        ("dtype C64", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "C64", "shape": [4, 1], "data_offsets": [0, 32]}}, bytes(32))),
        ("dtype BF16 shape lies", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "BF16", "shape": [2**31], "data_offsets": [0, 4]}}, bytes(4))),
        ("shape [1000000, 0]", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "F32", "shape": [1000000, 0], "data_offsets": [0, 0]}})),
        ("shape [2**40, 2**40]", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}, f4)),
        ("shape [-1, 4]", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}}, f4)),
        ("offsets past the end", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "F32", "shape": [4, 1], "data_offsets": [0, 10**12]}}, f4)),
        ("offsets reversed", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "F32", "shape": [4, 1], "data_offsets": [16, 0]}}, f4)),
        ("offsets as strings", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "F32", "shape": [4, 1], "data_offsets": ["0", "16"]}}, f4)),
        ("offsets 2**64", lambda: safetensors_bytes({"weight_ih_l0": {"dtype": "F32", "shape": [4, 1], "data_offsets": [2**64, 2**64 + 16]}}, f4)),
        ("header length 2**63", lambda: safetensors_bytes({"a": 1}, header_len=2**63)),
        ("header length 2**64-1", lambda: safetensors_bytes({"a": 1}, header_len=2**64 - 1)),
        ("header length past the file", lambda: safetensors_bytes({"a": 1}, header_len=1000)),
        ("header length 2", lambda: safetensors_bytes({}, raw_header=b"{}")),
        ("header a list", lambda: safetensors_bytes([1, 2, 3])),
        ("header not JSON", lambda: safetensors_bytes({}, raw_header=b"{not json" + bytes(range(256)))),
        ("header invalid UTF-8", lambda: safetensors_bytes({}, raw_header=b'{"\xff\xfe": 1}')),
        ("header lone surrogate", lambda: safetensors_bytes({}, raw_header=b'{"\\ud800": ' + F32_4x1 + b"}" + f4)),
        ("header deep nesting", lambda: safetensors_bytes({}, raw_header=b"{" + b'"a":[' * 20000 + b"]" * 20000 + b"}")),
        ("header 5000-digit number", lambda: safetensors_bytes({}, raw_header=b'{"w":' + F32_4x1.replace(b"4, 1", b"9" * 5000) + b"}" + f4)),
        ("header NaN shape", lambda: safetensors_bytes({}, raw_header=b'{"weight_ih_l0":' + F32_4x1.replace(b"4, 1", b"NaN, 1") + b"}" + f4)),
        ("50,000 tensors", lambda: safetensors_bytes({f"weight_ih_l{i}": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
                                                      for i in range(50_000)}, bytes(4))),
        ("duplicate keys", lambda: safetensors_bytes({}, raw_header=b'{"weight_ih_l0":{"dtype":"F32","shape":[4,1],"data_offsets":[0,16]},'
                                                                     b'"weight_ih_l0":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}' + f4)),
        ("metadata not strings", lambda: safetensors_bytes({"__metadata__": {"gatescope": 1, "kind": ["lstm"]}})),
        ("bundle vocab not JSON", lambda: tensors_file(valid, {"gatescope": "1", "kind": "lstm", "vocab": "[not json"})),
        ("bundle vocab of dicts", lambda: tensors_file(valid, {"gatescope": "1", "kind": "lstm", "vocab": '[{"a":1}, null, 5]'})),
        ("bundle vocab 300k tokens", lambda: tensors_file(valid, {"gatescope": "1", "kind": "lstm",
                                                                   "vocab": json.dumps([str(i) for i in range(300_000)])})),
        ("bundle vocab duplicates", lambda: tensors_file({**valid, "embedding.weight": np.zeros((3, 1), np.float32)},
                                                          {"gatescope": "1", "kind": "lstm", "vocab": '["a", "a", ""]'})),
        ("bundle options proj_size 10**6", lambda: tensors_file(valid, {"gatescope": "1", "kind": "lstm", "options": '{"proj_size": 1000000}'})),
        ("bundle options nonsense", lambda: tensors_file(valid, {"gatescope": "1", "kind": "lstm", "options": '{"nonlinearity": [1], "x": NaN}'})),
        ("bundle kind unknown", lambda: tensors_file(valid, {"gatescope": "1", "kind": "transformer"})),
        ("bundle version 999", lambda: tensors_file(valid, {"gatescope": "999", "kind": "lstm"})),
        ("bundle card deep", lambda: tensors_file(valid, {"gatescope": "1", "kind": "lstm", "card": "{" + '"a":{' * 5000 + "}" * 5000 + "}"})),
        ("bundle card 1 MB", lambda: tensors_file(valid, {"gatescope": "1", "kind": "lstm", "card": json.dumps({"t": "x" * 1_000_000})})),
        ("bundle decoder wrong shape", lambda: tensors_file({**valid, "decoder.weight": np.zeros((3, 7), np.float32),
                                                             "decoder.bias": np.zeros(2, np.float32)},
                                                            {"gatescope": "1", "kind": "lstm"})),
        ("bundle embedding wrong width", lambda: tensors_file({**valid, "embedding.weight": np.zeros((2, 5), np.float32)},
                                                              {"gatescope": "1", "kind": "lstm", "vocab": '["a", "b"]'})),
        ("NaN weights", lambda: tensors_file(torch_weights("lstm", 2, 3, fill=np.nan))),
        ("Inf weights", lambda: tensors_file(torch_weights("gru", 2, 3, fill=np.inf))),
        ("1e38 weights", lambda: tensors_file(torch_weights("rnn", 2, 3, fill=3e38))),
        ("int64 weights", lambda: tensors_file({k: (v * 0).astype(np.int64) for k, v in valid.items()})),
        ("bool weights", lambda: tensors_file({k: v > 0 for k, v in valid.items()})),
        ("mismatched shapes", lambda: tensors_file({**valid, "weight_hh_l0": np.zeros((4, 3), np.float32)})),
        ("only biases", lambda: tensors_file({"bias_ih_l0": np.zeros(4, np.float32)})),
        ("layer gap l0,l7", lambda: tensors_file({**valid, **{k.replace("l0", "l7"): v for k, v in valid.items()}})),
        ("reverse without forward", lambda: tensors_file({k + "_reverse": v for k, v in valid.items()})),
        ("hidden 0", lambda: tensors_file({"weight_ih_l0": np.zeros((0, 1), np.float32), "weight_hh_l0": np.zeros((0, 0), np.float32)})),
        ("hidden 5000 (over max_hidden)", lambda: tensors_file({"weight_ih_l0": np.zeros((20000, 1), np.float16),
                                                                 "weight_hh_l0": np.zeros((20000, 1), np.float16)})),
        ("truncated valid file", lambda: tensors_file(valid)[:-5]),
        ("npy shape (2**40,)", lambda: zip_bytes({"weight_ih_l0.npy": npy_bytes("(1099511627776,)", data=bytes(64))})),
        ("npy shape (2**62,)", lambda: zip_bytes({"kernel.npy": npy_bytes("(4611686018427387904,)", data=bytes(64))})),
        ("npy shape (2**31,) f8", lambda: zip_bytes({"kernel.npy": npy_bytes("(2147483648,)", data=bytes(64))})),
        ("npy shape (2**32, 2**32)", lambda: zip_bytes({"kernel.npy": npy_bytes("(4294967296, 4294967296)", data=bytes(64))})),
        ("npy negative shape", lambda: zip_bytes({"kernel.npy": npy_bytes("(-1, 4)", data=bytes(64))})),
        ("npy object dtype", lambda: zip_bytes({"kernel.npy": npy_bytes("(2,)", dtype="|O", data=b"\x80\x04N.")})),
        ("npy unicode dtype", lambda: zip_bytes({"kernel.npy": npy_bytes("(2,)", dtype="<U4", data=bytes(32))})),
        ("npy complex dtype", lambda: zip_bytes({"kernel.npy": npy_bytes("(4, 1)", dtype="<c16", data=bytes(64))})),
        ("npy structured dtype", lambda: zip_bytes({"kernel.npy": npy_bytes("(1,)", dtype="[('a', '<f8')]", data=bytes(8))})),
        ("npy header 20 KB", lambda: zip_bytes({"kernel.npy": npy_bytes("(1,)", data=bytes(8), pad_to=20480)})),
        ("npy header garbage", lambda: zip_bytes({"kernel.npy": b"\x93NUMPY\x01\x00\x10\x00" + b"__import__('os')\n"})),
        ("zip with .pkl", lambda: zip_bytes({"archive/data.pkl": b"\x80\x04N."})),
        ("zip empty", lambda: zip_bytes({})),
        ("zip non-npy member", lambda: zip_bytes({"readme.txt": b"hi"})),
        ("zip path traversal", lambda: zip_bytes({"../../../tmp/x.npy": npy_bytes("(1,)", data=bytes(8))})),
        ("zip truncated", lambda: zip_bytes({"kernel.npy": npy_bytes("(1,)", data=bytes(8))})[:-10]),
        ("zip 3000 members", lambda: zip_bytes({f"w{i}.npy": npy_bytes("(1,)", data=bytes(8)) for i in range(3000)})),
        ("npz bomb 256 MiB", lambda: npz_bomb("kernel", 256 * 2**20)),
        ("pickle header", lambda: b"\x80\x04\x95" + bytes(rng.randrange(256) for _ in range(64))),
        ("HDF5 header", lambda: b"\x89HDF\r\n\x1a\n" + bytes(64)),
        ("random bytes", lambda: bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 8, 9, 100, 4096])))),
        ("PK + random", lambda: b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(200))),
        ("8 zero bytes + {", lambda: bytes(8) + b"{"),
    ]
    note, make = rng.choice(choices)
    return note, make()


# -- the fuzzer --------------------------------------------------------------------------

ROUTES = [  # (route, weight)
    ("GET /api/trace", 14), ("POST /api/trace", 14), ("GET /api/gradients", 7), ("GET /api/trace/stream", 6), ("WS /ws/trace", 8),
    ("WS /ws/train", 2), ("POST /api/models", 10), ("GET /api/models/{id}", 3), ("GET /api/kinds", 1), ("GET /api/kinds/{name}", 5),
    ("GET /api/view", 1), ("GET /api/tasks", 1), ("GET /api/presets", 1), ("GET /healthz", 1), ("GET /", 3), ("GET /compare", 2),
    ("GET /embed", 3), ("GET /openapi.json", 1), ("GET /docs", 1), ("GET /static/*", 2), ("GET /vendor/plotly.min.js", 1), ("other", 3),
    *round3.ROUTES,
]


class Fuzzer:
    def __init__(self, seed: int, info: dict):
        self.seed, self.info = seed, info
        self.fields = {f["name"]: f for f in info["fields"]}
        self.kinds = self.fields["kind"]["choices"]
        self.presets = info["presets"]
        self.models = info["models"]
        self.origin = info["origin"]
        self.heavy_rate = info.get("heavy_rate", 0.002)
        simple = {r: self._simple(r.split()[1]) for r in ("GET /api/view", "GET /api/tasks", "GET /api/presets", "GET /healthz", "GET /",
                                                          "GET /compare", "GET /embed", "GET /openapi.json", "GET /docs")}
        self._makers = {**simple, "GET /api/trace": self._trace, "POST /api/trace": self._trace, "GET /api/gradients": self._gradients,
                        "GET /api/trace/stream": self._stream, "WS /ws/trace": self._ws_trace, "WS /ws/train": self._ws_train,
                        "POST /api/models": self._upload, "GET /api/models/{id}": self._model_id, "GET /api/kinds": self._kinds,
                        "GET /api/kinds/{name}": self._kind, "GET /static/*": self._static, "GET /vendor/plotly.min.js": self._plotly,
                        "other": self._other,
                        **{r: (lambda make: lambda rng, n, route: make(self, rng, n, route))(make) for r, make in round3.MAKERS.items()}}

    def case(self, n: int) -> Case:
        rng = random.Random(f"{self.seed}:{n}")
        route = rng.choices([r for r, _ in ROUTES], [w for _, w in ROUTES])[0]
        if rng.random() < self.heavy_rate and route in HEAVY_ROUTES:
            return self._heavy(rng, n, route)
        return self._makers[route](rng, n, route)

    # -- values
    def _origin(self, rng) -> dict:
        o = rng.choice(ORIGINS)
        if o is None:
            return {}
        return {"Origin": o.replace("SELF", self.origin)}

    def _text(self, rng, lo=1, hi=60) -> str:
        alphabet = "abcdefghij klmnop\u00e9\u00df\u4e2d\U0001f642\n\t.,;!?0123456789"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))

    def _input(self, rng) -> tuple[str, str | None]:
        r = rng.random()
        if r < 0.45:
            return self._text(rng), None
        if r < 0.65:
            width = rng.choice([1, 1, 2, 3])
            rows = [" ".join(f"{rng.uniform(-3, 3):.3g}" for _ in range(width)) for _ in range(rng.randint(1, 40))]
            return "; ".join(rows) if width > 1 else ", ".join(rows), "numbers"
        if r < 0.8:
            return rng.choice(["sine 32", "step 20 at=5", "impulse 16", "noise 24 scale=0.5", "sine 48 period=8 noise=0.1"]), "signal"
        return rng.choice(INPUTS), rng.choice([None, "text", "numbers", "signal"])

    def _typed(self, rng, name: str):
        """A plausible value for a view field (as a Python value; strings for the URL are made from it)."""
        f = self.fields.get(name, {"type": "string"})
        if f.get("choices"):
            return rng.choice(f["choices"])
        if f["type"] == "integer":
            lo, hi = f.get("minimum", 0), f.get("maximum", 64)
            return rng.randint(int(lo), int(min(hi, lo + 64)))
        if f["type"] == "number":
            return round(rng.uniform(float(f.get("minimum", f.get("exclusiveMinimum", 0)) or 0) + 0.01, 10), 3)
        if f["type"] == "boolean":
            return rng.random() < 0.5
        return {"names": "forget,c", "units": "0,1,2", "focus": "c", "panels": "diagram,lines", "compare": "preset:remember-rnn,kind:lstm",
                "input": self._text(rng), "preset": rng.choice(self.presets), "model": rng.choice(self.models or ["0" * 32])}.get(name, "x")

    def _hostile(self, rng) -> str:
        pool = rng.choice([HUGE, FLOATY, STRINGS, RAW, INPUTS])
        return rng.choice(pool)

    def _view(self, rng) -> dict:
        """A view that mostly makes sense: a source, an input, a few settings."""
        v: dict = {}
        src = rng.choices(["kind", "preset", "model", "none"], [6, 3, 2, 1])[0]
        if src == "kind":
            v["kind"] = rng.choice(self.kinds)
            v["hidden"] = rng.choice([1, 2, 3, 4, 8, 16, 32])
            if rng.random() < 0.2:
                v["layers"] = rng.choice([1, 2, 3])
            if rng.random() < 0.15:
                v["bidirectional"] = True
        elif src == "preset":
            v["preset"] = rng.choice(self.presets)
        elif src == "model" and self.models:
            v["model"] = rng.choice(self.models)
        if rng.random() < 0.8:
            v["input"], typ = self._input(rng)
            if typ:
                v["input_type"] = typ
        for _ in range(rng.choice([0, 0, 1, 2])):
            name = rng.choice(list(self.fields))
            v[name] = self._typed(rng, name)
        return v

    def _query(self, rng, extra_names=()) -> tuple[str, str]:
        v = self._view(rng)
        pairs = [(k, str(x).lower() if isinstance(x, bool) else str(x)) for k, x in v.items()]
        note = "plausible"
        if rng.random() < 0.75:
            names = list(self.fields) + list(extra_names) + ["foo", "", "kind[]", "__proto__", "Kind", "hidden ", "frames"]
            for _ in range(rng.randint(1, 3)):
                name, value = rng.choice(names), self._hostile(rng)
                pairs = [p for p in pairs if p[0] != name] + [(name, value)]
            note = "mutated"
        if rng.random() < 0.08 and pairs:
            pairs.append(rng.choice(pairs))
            note += ", repeated parameter"
        rng.shuffle(pairs)
        return encode_query(pairs), note

    def _body(self, rng) -> tuple[bytes, str]:
        r = rng.random()
        if r < 0.08:
            return rng.choice([b"", b"\xff\xfe{", b"{", b"\x00" * 10, "{\"kind\": \"lstm\"}".encode("utf-16"), b"\xef\xbb\xbf{\"kind\":\"lstm\"}",
                               b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                               bytes(rng.randrange(256) for _ in range(300)),
                               b"kind=lstm&hidden=3"]), "malformed body"
        if r < 0.14:
            return to_json(rng.choice([[], [self._view(rng)], None, 5, "lstm", Raw("NaN")])).encode(), "not an object"
        v = self._view(rng)
        note = "plausible"
        if rng.random() < 0.75:
            names = list(self.fields) + ["foo", "", "__proto__", "frames", "type"]
            for _ in range(rng.randint(1, 3)):
                name = rng.choice(names)
                v[name] = rng.choice([Raw(rng.choice(JSON_RAW)), self._hostile(rng), rng.choice([0, -1, 2**63, 1.5, True, None, [], {}])])
            note = "mutated"
        return to_json(v).encode("utf-8", "surrogatepass"), note

    # -- routes
    def _trace(self, rng, n, route):
        if route.startswith("POST"):
            body, note = self._body(rng)
            headers = self._origin(rng)
            ct = rng.choice(CONTENT_TYPES)
            if ct is not None:
                headers["Content-Type"] = ct
            q = "" if rng.random() < 0.9 else "?" + self._query(rng)[0]
            return Case(n, route, "POST", "/api/trace" + q, headers, body, note=note)
        q, note = self._query(rng)
        if rng.random() < 0.3:
            q += "&format=" + rng.choice(["npz", "csv", "json", "NPZ", "xml", ""])
        return Case(n, route, "GET", "/api/trace?" + q, note=note)

    def _gradients(self, rng, n, route):
        q, note = self._query(rng)
        return Case(n, route, "GET", "/api/gradients?" + q, note=note)

    def _stream(self, rng, n, route):
        q, note = self._query(rng)
        return Case(n, route, "GET", "/api/trace/stream?" + q, headers={"Accept": "text/event-stream"}, note=note)

    def _ws_trace(self, rng, n, route):
        headers = self._origin(rng)
        r = rng.random()
        if r < 0.5:
            q, note = self._query(rng, extra_names=["frames"])
            q += rng.choice(["", "", "&frames=json", "&frames=binary", "&frames=xml"])
            msgs = []
        else:
            q, note = "", "first message"
            body, note2 = self._body(rng)
            msgs = [body if rng.random() < 0.1 else text_frame(body)]  # bytes go as a binary frame
            note += ", " + note2
        if rng.random() < 0.4:  # then extend it
            for _ in range(rng.randint(1, 3)):
                msgs.append(rng.choice([to_json({"type": "append", "input": rng.choice(INPUTS + [self._text(rng)])}),
                                        to_json({"type": "append", "input": Raw(rng.choice(JSON_RAW))}), to_json({"type": rng.choice(JSON_RAW)}),
                                        "not json", "\ud800", b"\x00\x01binary", "", to_json({"type": "append", "input": "x" * 300_000})]))
            note += ", appends"
        if rng.random() < 0.1:
            msgs.append("DROP")
        return Case(n, route, "WS", "/ws/trace" + ("?" + q if q else ""), headers, messages=msgs, note=note)

    def _ws_train(self, rng, n, route):
        headers = self._origin(rng)
        if rng.random() < 0.15:  # a real, short job
            req = {"type": "start", "task": rng.choice(["remember", "adding", "brackets", "sine"]), "kind": rng.choice(["lstm", "gru", "rnn"]),
                   "hidden": rng.choice([2, 4, 8]), "steps": rng.choice([1, 5, 20]), "seed": rng.randint(0, 9)}
            msgs = [to_json(req)] + rng.choice([[], ["DROP"], [to_json({"type": "stop"})], [to_json({"type": "stop"}), to_json({"type": "stop"})]])
            return Case(n, route, "WS", "/ws/train", headers, messages=msgs, note="a short job")
        req = {"type": "start", "task": "remember", "kind": "lstm", "hidden": 4, "steps": 5}
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(list(req) + ["learning_rate", "batch_size", "seed", "foo", "options", "layers"])
            req[name] = rng.choice([Raw(rng.choice(JSON_RAW)), self._hostile(rng), rng.choice([0, -1, 2**63, 1e-9, True, None, [], {}, 10**9])])
        first = rng.choice([to_json(req), to_json(req), "not json", "", "[]", "\ud800", "{" * 10000])
        return Case(n, route, "WS", "/ws/train", headers, messages=[first], note="hostile start")

    def _upload(self, rng, n, route):
        pairs = []
        if rng.random() < 0.7:
            pairs.append(("kind", rng.choice(self.kinds + ["lstm", "gru", "rnn"] * 3)))
        if rng.random() < 0.4:
            pairs.append(("layout", rng.choice(["torch", "keras", "tf1"])))
        if rng.random() < 0.5:
            name = rng.choice([f["name"] for f in self.fields.values() if f.get("kind_option")] + ["kind", "layout", "foo"])
            pairs.append((name, self._hostile(rng)))
        r = rng.random()
        if r < 0.25:
            kind = rng.choice(["lstm", "gru", "rnn"])
            weights = torch_weights(kind, rng.randint(1, 4), rng.randint(1, 8), rng.randint(1, 2), seed=rng.randint(0, 99))
            body, note = tensors_file(weights), f"valid {kind}"
            pairs = [("kind", kind)] + [p for p in pairs if p[0] not in ("kind", "layout")] if rng.random() < 0.7 else pairs
        else:
            note, body = hostile_files(rng)
        headers = self._origin(rng)
        headers["Content-Type"] = rng.choice(["application/octet-stream", "application/octet-stream", "multipart/form-data; boundary=x",
                                              "application/json", "text/plain"])
        return Case(n, route, "POST", "/api/models" + ("?" + encode_query(pairs) if pairs else ""), headers, body, note=note)

    def _model_id(self, rng, n, route):
        ident = rng.choice((self.models or ["0" * 32]) + ["0" * 32, "f" * 64, "0" * 15, "0" * 65, "../" * 5 + "etc", "%2e%2e%2f" * 3,
                                                          "g" * 32, "0" * 16 + "%00", "A" * 32, "\u00e9" * 20, "", " "])
        ident = ident if "%" in ident else quote(ident, safe="")
        return Case(n, route, "GET", "/api/models/" + ident)

    def _kinds(self, rng, n, route):
        return Case(n, route, "GET", "/api/kinds" + ("" if rng.random() < 0.7 else "?" + self._query(rng)[0]))

    def _kind(self, rng, n, route):
        name = rng.choice(self.kinds + ["LSTM", "transformer", "", "%2e%2e", "lstm%00", "lstm/"])
        opts = [f["name"] for f in self.fields.values() if f.get("kind_option")]
        pairs = []
        for _ in range(rng.randint(0, 3)):
            o = rng.choice(opts + ["foo"])
            pairs.append((o, str(self._typed(rng, o)).lower() if rng.random() < 0.5 else self._hostile(rng)))
        return Case(n, route, "GET", f"/api/kinds/{name}" + ("?" + encode_query(pairs) if pairs else ""))

    def _simple(self, path):
        def make(rng, n, route):
            q = "" if rng.random() < 0.6 else "?" + self._query(rng)[0]
            return Case(n, route, rng.choice(["GET", "GET", "GET", "HEAD"]), path + q)
        return make

    def _static(self, rng, n, route):
        path = rng.choice(["/static/core/state.js", "/static/gatescope.css", "/static/favicon.svg", "/static/", "/static/nope.js",
                           "/static/../app/config.py", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/%00", "/static/..%5c..%5cREADME.md",
                           "/static/core/state.js%00.png", "/static//etc/passwd"])
        headers = {}
        if rng.random() < 0.5:
            headers["Range"] = rng.choice(["bytes=0-0", "bytes=999999999-", "bytes=-0", "bytes=5-1",
                                           "bytes=" + ",".join(f"{i}-{i}" for i in range(2000)),
                                           "bytes=0-" + "9" * 5000, "bytes=-" + str(2**64), "lines=1-2", "bytes=", "bytes=a-b"])
        if rng.random() < 0.3:
            headers["If-None-Match"] = rng.choice(['"x"', "*", "W/" + "a" * 5000])
            headers["If-Modified-Since"] = rng.choice(["yesterday", "Thu, 01 Jan 1970 00:00:00 GMT", "9" * 100])
        return Case(n, route, rng.choice(["GET", "GET", "HEAD"]), path, headers)

    def _plotly(self, rng, n, route):
        headers = {"Accept-Encoding": rng.choice(["gzip", "br", "identity", "gzip;q=0", "*", "x" * 1000])}
        return Case(n, route, "GET", "/vendor/plotly.min.js", headers)

    def _other(self, rng, n, route):
        method, path = rng.choice([("PUT", "/api/trace"), ("DELETE", "/api/models/" + "0" * 32), ("OPTIONS", "/api/trace"), ("PATCH", "/api/trace"),
                                   ("POST", "/api/kinds"), ("POST", "/healthz"), ("GET", "/api/models"), ("GET", "/ws/trace"), ("POST", "/ws/trace"),
                                   ("GET", "/api/" + "a" * 5000), ("GET", "/api/trace?" + "a=1&" * 3000), ("GET", "/%ED%A0%80"),
                                   ("GET", "/api/trace/"),
                                   ("GET", "//api//trace"), ("TRACE", "/"), ("GET", "/api/trace?input=" + "x" * 60_000)])
        return Case(n, route, method, path, self._origin(rng), b"{}" if method in ("PUT", "PATCH", "POST") else None)

    # -- heavy but within the default limits
    def _heavy(self, rng, n, route):
        spec = rng.choice([h for h in HEAVY if h["route"] == route])
        return heavy_case(spec, n, self.origin, rng)


HEAVY_ROUTES = ("GET /api/trace", "POST /api/trace", "GET /api/gradients", "GET /api/trace/stream", "WS /ws/trace", "POST /api/models",
                "POST /api/lessons", "GET /api/export/html")


def letters(count: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(count))


HEAVY = [  # the heaviest requests the default settings allow (max_work 10,000,000,000; max_json_values 2,000,000; ...)
    {"name": "trace npz, lstm hidden 1024 x 3906 steps", "route": "GET /api/trace",
     "query": {"kind": "lstm", "hidden": "1024", "format": "npz"}, "steps": 3906},
    {"name": "trace npz, lstm hidden 1024 x 4 layers x 976 steps", "route": "GET /api/trace",
     "query": {"kind": "lstm", "hidden": "1024", "layers": "4", "format": "npz"}, "steps": 976},
    {"name": "trace npz, bidirectional lstm hidden 512 x 3906 steps", "route": "GET /api/trace",
     "query": {"kind": "lstm", "hidden": "512", "bidirectional": "true", "format": "npz"}, "steps": 3906},
    {"name": "trace npz, gru hidden 800 x 5000 steps", "route": "GET /api/trace",
     "query": {"kind": "gru", "hidden": "800", "format": "npz"}, "steps": 5000},
    {"name": "trace json, lstm hidden 1024, names c,h (2M values)", "route": "GET /api/trace",
     "query": {"kind": "lstm", "hidden": "1024", "names": "c,h", "format": "json", "digits": "9"}, "steps": 976},
    {"name": "trace json, all names, at max_json_values", "route": "GET /api/trace",
     "query": {"kind": "lstm", "hidden": "256", "format": "json", "digits": "9"}, "steps": 5000, "shrink": True},
    {"name": "trace csv, lstm hidden 1024, names c,h (2M values)", "route": "GET /api/trace",
     "query": {"kind": "lstm", "hidden": "1024", "names": "c,h", "format": "csv"}, "steps": 976},
    {"name": "trace json POST, 200,000-char numbers input of width 256", "route": "POST /api/trace",
     "body": {"kind": "lstm", "hidden": 1024, "input_type": "numbers", "format": "npz"}, "numbers": (389, 256)},
    {"name": "trace npz, preset charlm-lstm, 5000 chars", "route": "GET /api/trace",
     "query": {"preset": "charlm-lstm", "format": "npz"}, "steps": 5000},
    {"name": "gradients, lstm hidden 1024 x 47 steps", "route": "GET /api/gradients",
     "query": {"kind": "lstm", "hidden": "1024"}, "steps": 47, "shrink": True},
    {"name": "gradients, lstm hidden 96 x 5000 steps", "route": "GET /api/gradients",
     "query": {"kind": "lstm", "hidden": "96"}, "steps": 5000, "shrink": True},
    {"name": "gradients, gru hidden 512 x 4 layers", "route": "GET /api/gradients",
     "query": {"kind": "gru", "hidden": "512", "layers": "4"}, "steps": 47, "shrink": True},
    {"name": "SSE stream, lstm hidden 1024 x 3906 steps", "route": "GET /api/trace/stream",
     "query": {"kind": "lstm", "hidden": "1024"}, "steps": 3906},
    {"name": "WS stream, lstm hidden 1024 x 3906 steps", "route": "WS /ws/trace",
     "query": {"kind": "lstm", "hidden": "1024"}, "steps": 3906},
    {"name": "upload, lstm F32 hidden 1024 input 2048 (50 MB, under max_upload_bytes)", "route": "POST /api/models",
     "file": ("lstm", 2048, 1024, 1, "float32"), "params": {"kind": "lstm"}},
    {"name": "upload, lstm F16 hidden 1024 input 2560 (29 MB; 59 MB as float32)", "route": "POST /api/models",
     "file": ("lstm", 2560, 1024, 1, "float16"), "params": {"kind": "lstm"}},
    {"name": "upload, lstm F16 3 layers hidden 1024 (46 MB; 92 MB as float32)", "route": "POST /api/models",
     "file": ("lstm", 512, 1024, 3, "float16"), "params": {"kind": "lstm"}},
    {"name": "upload, npz of zeros inflating to 190 MiB", "route": "POST /api/models",
     "bomb": 190 * 2**20, "params": {"kind": "gru", "layout": "keras"}},
    *round3.HEAVY,
]


def heavy_case(spec: dict, n: int, origin: str, rng: random.Random | None = None, steps: int | None = None) -> Case:
    steps = steps or spec.get("steps")
    route, method = spec["route"], spec["route"].split()[0]
    path = spec["route"].split()[1]
    if "query" in spec:
        q = dict(spec["query"])
        q["input"] = letters(steps, n)
        if method == "WS":
            return Case(n, route, "WS", f"{path}?{encode_query(list(q.items()))}", {"Origin": origin}, note="heavy: " + spec["name"])
        return Case(n, route, method, f"{path}?{encode_query(list(q.items()))}", note="heavy: " + spec["name"])
    if "lesson" in spec:
        return Case(n, route, "POST", path, {"Content-Type": "application/json", "Origin": origin}, round3.lesson_body(spec["lesson"]),
                    note="heavy: " + spec["name"])
    if "body" in spec:
        rows, width = spec["numbers"]
        body = {**spec["body"], "input": "; ".join(" ".join("0" for _ in range(width)) for _ in range(rows))}
        return Case(n, route, "POST", path, {"Content-Type": "application/json", "Origin": origin}, to_json(body).encode(),
                    note="heavy: " + spec["name"])
    if "file" in spec:
        kind, input_size, hidden, layers, dtype = spec["file"]
        body = heavy_file(kind, input_size, hidden, layers, dtype)
    else:
        body = npz_bomb("kernel", spec["bomb"])
    return Case(n, route, "POST", f"{path}?{encode_query(list(spec['params'].items()))}",
                {"Content-Type": "application/octet-stream", "Origin": origin}, body, note="heavy: " + spec["name"])


@lru_cache(maxsize=2)
def heavy_file(kind, input_size, hidden, layers, dtype) -> bytes:
    return tensors_file(torch_weights(kind, input_size, hidden, layers, dtype=np.dtype(dtype)))
