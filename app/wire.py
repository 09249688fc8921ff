"""Traces on the wire: JSON, npz and CSV downloads, and the step messages of the streams.

JSON rounds each value to ``digits`` significant digits of its own (so
4.4e-06 stays 4.4e-06 beside a 0.98, and nothing prints as
0.30000000000000004). Streams send a JSON header, then the steps
as binary frames of float32 (WebSocket) or as JSON (SSE), then a summary.

Binary step frame (little-endian):
    uint32 t0, uint32 count, then count x stride float32
Row i is step t0 + i; its stride values are the header's ``fields`` in
order, each ``width`` wide starting at ``offset``.
"""

from __future__ import annotations

import csv
import io
import itertools
import struct
import tempfile
import zipfile
from collections.abc import Iterator

import numpy as np
import orjson

from gatescope import cells

from . import i18n
from .errors import AppError, over_limit
from .run import Run

FRAME_HEAD = struct.Struct("<II")
VOCAB_LISTED = 256  # a character vocabulary is listed in the stream header; a word vocabulary of 50,000 is not


def rounded(a: np.ndarray, digits: int) -> np.ndarray:
    """Each value to ``digits`` significant digits of its own: 4.4123e-06 keeps its digits beside a 0.98.

    Rounding to the array's largest value instead would turn a vanishing gradient (1e-6 beside 1) into 0,
    which is what the gradient-flow panel exists to show.
    """
    a = np.asarray(a, dtype=np.float64)
    out = a.copy()
    mag = np.abs(a)
    # values so small or large that 10**-exp would overflow are left as they are (float32 never gets there)
    ordinary = np.isfinite(a) & (mag > 1e-280) & (mag < 1e280)
    if not ordinary.any():
        return out
    v = a[ordinary]
    scale = 10.0 ** ((digits - 1) - np.floor(np.log10(np.abs(v))))
    out[ordinary] = np.round(v * scale) / scale
    return out


def dumps(obj) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)


def kind_info(name: str, options: dict | None = None) -> dict:
    """A kind's description under given options: glossary, equations, options, phases and diagram (GET /api/kinds/{kind},
    and every stream's header, so the page can draw without asking for it).

    Its words come in both languages, the Chinese beside the English as each entry's ``zh`` (cells.spec): the
    forget phase is {"title": "Forget gate", "text": ..., "latex": ..., "zh": {"title": "遗忘门", "text": ...,
    "latex": ...}}, and a page in Chinese reads {...entry, ...entry.zh}. One description serves both languages,
    so switching language asks the server for nothing; a field zh lacks reads in English."""
    try:
        info = cells.describe(name, **(options or {}))
    except cells.CellsError as e:
        raise AppError(422, str(e)) from None
    info["diagram"] = cells.diagram(name, options)
    return info


def output_labels(model: cells.Model) -> list[str]:
    """What each of the decoder's outputs is called: the model's labels, or "output i"."""
    return model.labels or [f"output {i}" for i in range(model.n_outputs)]


def model_info(r: Run) -> dict:
    info = r.model.describe()
    if "model" in r.source:  # an uploaded or trained model's id; a random model or a preset has none (no "id": null to follow)
        info["id"] = r.source["model"]
    info["title"] = title(r.model, r.source, r.view.seed)
    return info


def title(model: cells.Model, given: dict | None = None, seed: int | None = None) -> dict:
    """What a model is called wherever it is shown (the page's header, compare's columns, the standalone file, the
    notebook widget and its still): {"text", "zh": {"text"}, "sized"}, read as a card's words are (static/core/i18n.js
    local). Its card's title; else what its source says: an uploaded model's id, the file it was read from (and its
    node), the framework it came from with its sizes, "random weights (seed N)" for a random model only; else its
    kind and sizes. ``given``: the run's source (the page's {"model": id}, {"kind": ...} for random weights drawn from
    ``seed``, {"preset": ...}); the model's own ``source`` is what cells.load, gatescope.from_torch / from_keras and
    gatescope.build put there. ``sized``: the words name the sizes (the page's caption then adds no "hidden n")."""
    card = model.card if isinstance(model.card, dict) else {}
    if isinstance(card.get("title"), str) and card["title"]:
        zh = card["zh"].get("title") if isinstance(card.get("zh"), dict) else None
        return {"text": card["title"], "zh": {"text": zh or card["title"]}, "sized": False}
    given = given or {}
    words = {lang: _title_words(model, given, seed, lang) for lang in ("en", "zh")}
    return {"text": words["en"][0], "zh": {"text": words["zh"][0]}, "sized": words["en"][1]}


def _title_words(model: cells.Model, given: dict, seed: int | None, lang: str) -> tuple[str, bool]:
    """(the title in lang, whether it names the sizes) of a model without a card's title."""
    _, described, src = i18n.translator(lang), cells.describe(model.kind), model.source
    kind = (lang == "zh" and described.get("zh", {}).get("title")) or described["title"]
    if "model" in given:
        return _("{kind}, uploaded model {id}", kind=kind, id=str(given["model"])[:8]), False
    if src.get("file"):
        node = src.get("node") or (src.get("nodes") or [None])[0]  # the graph's node it was read from (an ONNX file's)
        if node:
            return _("{kind} from {file} node {node}", kind=kind, file=src["file"], node=repr(str(node))), False
        return _("{kind} from {file}", kind=kind, file=src["file"]), False
    if "preset" in given:
        return _("{kind}, preset {name}", kind=kind, name=given["preset"]), False
    if "kind" in given or "seed" in src:  # the page's random weights (the view's seed), or gatescope.build's
        return _("{kind}, random weights (seed {seed})", kind=kind, seed=seed if "kind" in given else src["seed"]), False
    sizes = [_("input {n}", n=model.input_size), _("hidden {n}", n=model.hidden_size)]
    sizes += [_("{n} layers", n=model.num_layers)] if model.num_layers > 1 else []
    sizes += [_("bidirectional")] if model.bidirectional else []
    sizes = ("，" if lang == "zh" else ", ").join(sizes)
    origin = str(src.get("from", ""))
    if origin.startswith("torch"):
        return _("{kind} from torch: {sizes}", kind=kind, sizes=sizes), True
    if origin.startswith("keras"):
        return _("{kind} from Keras: {sizes}", kind=kind, sizes=sizes), True
    return _("{kind}: {sizes}", kind=kind, sizes=sizes), True


def predictions(r: Run, trace: cells.Trace, digits: int) -> dict | None:
    if r.model.head is None:
        return None
    values = r.model.outputs(trace.output)
    return {"head": r.model.head, "labels": output_labels(r.model), "values": rounded(values, digits)}


def trace_json(r: Run, trace: cells.Trace) -> bytes:
    lt = trace.layer(r.layer, r.direction)
    digits = r.view.digits
    body = {
        "request": r.normalized(),
        "model": model_info(r),
        "tokens": r.parsed.tokens,
        "steps": trace.T,
        "layer": r.layer,
        "direction": r.direction,
        "names": r.names,
        "values": {n: rounded(lt[n], digits) for n in r.names},
        "predictions": predictions(r, trace, digits),
        "final": {k: rounded(v, digits) for k, v in (("h", trace.final.h), ("c", trace.final.c)) if v is not None},
    }
    return dumps(body)


def trace_npz(r: Run, trace: cells.Trace):
    """Every layer and direction of the shown names as an .npz, spooled to a temp file and sent in chunks.

    Each array is written into the archive as it is converted (no second copy of the trace, no
    archive in memory); deflate level 1, since float data barely compresses further and level 6
    took seconds.
    """
    arrays = {"tokens": lambda: np.array(r.parsed.tokens, dtype=str), "output": lambda: trace.output}
    for k, row in enumerate(trace.layers):
        for d, lt in enumerate(row):
            for n in r.names:
                arrays[f"layer{k}/{'reverse' if d else 'forward'}/{n}"] = lambda lt=lt, n=n: lt[n]
    if r.model.decoder is not None:
        arrays["prediction"] = lambda: r.model.outputs(trace.output)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, make in arrays.items():
            a = make()
            if a.dtype.kind == "f":
                a = a.astype(np.float32, copy=False)
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(a), allow_pickle=False)
    spool.seek(0)

    def chunks():
        with spool:
            while block := spool.read(2**20):
                yield block
    return chunks()


def trace_csv(r: Run, trace: cells.Trace):
    """Long format, one row per value: step, token, name, unit, value (the shown layer and direction).

    Rows go out in blocks of about a megabyte: one block per step made 80,000 hops between the
    event loop and a worker thread for a trace at the JSON cap (65 s for 2M values).
    """
    lt = trace.layer(r.layer, r.direction)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["step", "token", "name", "unit", "value"])
    for n in r.names:
        values = rounded(lt[n], r.view.digits)
        width = values.shape[1]
        for t in range(trace.T):
            w.writerows(zip(itertools.repeat(t, width), itertools.repeat(r.parsed.tokens[t], width),
                            itertools.repeat(n, width), range(width), values[t].tolist()))
            if buf.tell() > 2**20:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()


def trace_answer(r: Run, fmt: str, settings) -> tuple[bytes | Iterator, str, str | None]:
    """/api/trace's answer in ``fmt`` (json, npz, csv): (the body, or an iterator of its blocks; its media type; the
    attachment's file name). A JSON or CSV answer is held to max_json_values before the model runs."""
    if fmt in ("json", "csv"):
        widths = {f["name"]: f["width"] for f in stream_fields(r)}
        values = len(r.parsed.xs) * (sum(widths[n] for n in r.names) + widths.get("prediction", 0))  # predictions are numbers too
        if values > settings.max_json_values:
            raise over_limit("format", f"a {fmt} answer of {values} values", settings.max_json_values, "max_json_values",
                             hint="ask for fewer names (names=...), a shorter input, or format=npz")
    trace = r.trace()
    if fmt == "npz":  # an .npz is a zip archive; saying so also keeps the gzip middleware from deflating it twice
        return trace_npz(r, trace), "application/zip", "trace.npz"
    if fmt == "csv":
        return trace_csv(r, trace), "text/csv", "trace.csv"
    return trace_json(r, trace), "application/json", None


# -- streams ------------------------------------------------------------------------

def stream_fields(r: Run) -> list[dict]:
    m = r.model
    sizes = m.spec.sizes(m.walk()[r.layer * m.directions].input_width, m.hidden_size, m.options)
    fields, offset = [], 0
    for n in r.names:
        width = sizes[m.glossary[n].size]
        fields.append({"name": n, "width": width, "offset": offset})
        offset += width
    if r.model.head is not None:
        fields.append({"name": "prediction", "width": r.model.n_outputs, "offset": offset})
        offset += r.model.n_outputs
    return fields


def header(r: Run, fmt: str) -> dict:
    """A stream's header: the request, the model, the tokens and where each field sits in a step row."""
    fields = stream_fields(r)
    out = {
        "type": "header",
        "request": r.normalized(),
        "model": model_info(r),
        "tokens": r.parsed.tokens,
        "steps": len(r.parsed.xs),
        "layer": r.layer,
        "direction": r.direction,
        "fields": fields,
        "stride": sum(f["width"] for f in fields),
        "dtype": "float32",
        "format": fmt,
        "kind_info": kind_info(r.model.kind, r.model.options),
        "prediction": None if r.model.head is None else {"head": r.model.head, "labels": output_labels(r.model)},
        # what unknown=map reads a character the vocabulary lacks as (<unk>, [UNK]); None: map is not offered
        "unknown_token": None if r.model.vocab is None or r.model.vocab.unknown is None else r.model.vocab.tokens[r.model.vocab.unknown],
        # the tokens a text model reads, for the page's hint of what to type (None: no vocabulary, or too long to list)
        "vocab": r.model.vocab.tokens if r.model.vocab is not None and len(r.model.vocab) <= VOCAB_LISTED else None,
    }
    if r.compared:  # the shown names of the run without the clamp, after the clamped ones in each row; stride counts both
        out["original_fields"] = [{**f, "offset": f["offset"] + out["stride"]} for f in out["fields"]]
        out["stride"] *= 2
    return out


def step_rows(r: Run, trace: cells.Trace) -> np.ndarray:
    """(T, stride) float32: every streamed field of every step of ``trace``, side by side."""
    lt = trace.layer(r.layer, r.direction)
    parts = [lt[n] for n in r.names]
    if r.model.head is not None:
        parts.append(r.model.outputs(trace.output))
    return np.concatenate(parts, axis=1).astype(np.float32)


def steps_binary(t0: int, rows: np.ndarray) -> bytes:
    return FRAME_HEAD.pack(t0, len(rows)) + np.ascontiguousarray(rows, dtype="<f4").tobytes()


def steps_json(t0: int, rows: np.ndarray, digits: int, fields: list[dict]) -> dict:
    """A JSON step batch; each field is rounded on its own scale, as in trace_json."""
    out = np.empty(rows.shape, np.float64)
    for f in fields:
        cols = slice(f["offset"], f["offset"] + f["width"])
        out[:, cols] = rounded(rows[:, cols], digits)
    return {"type": "steps", "t0": t0, "count": len(rows), "values": out}
