"""Turning what the user typed into the engine's input: a (T, input_size) array and a label per step.

Three input types:
  text     characters through the model's vocabulary and embedding; a random
           model instead gives each character a fixed vector of TEXT_DIMS
           numbers, the same in every request
  numbers  "0.5, -1, 2" is three steps of one value; "1 0; 0 1" (rows split by
           ';' or new lines, values by spaces or commas) is two steps of two
  signal   "sine 64", "step 32 at=8", "impulse 20", "noise 50 scale=0.5":
           a name, an optional length, and key=value settings (see SIGNALS)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from gatescope import cells

from .errors import AppError, over_limit

TEXT_DIMS = 8
SIGNALS = {
    "sine": {"period": 16.0, "amplitude": 1.0, "phase": 0.0, "noise": 0.0},
    "step": {"at": None, "amplitude": 1.0, "noise": 0.0},
    "impulse": {"at": 0.0, "amplitude": 1.0, "noise": 0.0},
    "noise": {"scale": 1.0},
}
DEFAULT_STEPS = 64


@dataclass
class Parsed:
    xs: np.ndarray       # (T, input_size)
    tokens: list[str]    # one label per step
    ids: list[int] | None = None  # token ids when a vocabulary was used


def fixed_embedding(chars: list[str]) -> np.ndarray:
    """A deterministic vector per character (seeded by its code point), for models without an embedding."""
    return np.array([np.random.default_rng(ord(ch)).standard_normal(TEXT_DIMS) for ch in chars]).reshape(len(chars), TEXT_DIMS)


def _unknown_error(e: cells.CellsError, vocab, pieces: list[str], unknown: str, offset: int) -> AppError:
    """The vocabulary's refusal, its positions counted in the whole input (``offset`` pieces came before this text)."""
    text = str(e)
    if offset and unknown == "error":  # the engine counts from the start of the text it was given: an appended chunk
        missing = [(offset + i, p) for i, p in enumerate(pieces) if not (p and p in vocab.index)]
        unit = "character" if vocab.char_level else "word"
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        text = (f"input: {len(missing)} {unit}(s) not in the model's vocabulary of {len(vocab)}: "
                + ", ".join(f"{p!r} at {i}" for i, p in missing[:5]) + more)
    fix = "unknown=skip to leave them out" + ("" if vocab.unknown is None or unknown == "map" else
                                            f", or unknown=map to read them as {vocab.tokens[vocab.unknown]!r}")
    lacking = list(dict.fromkeys(p for p in pieces if not (p and p in vocab.index)))[:20]
    data = {"missing": lacking, "unknown_token": None if vocab.unknown is None else vocab.tokens[vocab.unknown]}
    return AppError(422, f"{text}. Pass {fix}", "input", code="unknown_characters", data=data)


def parse_text(text: str, model: cells.Model | None, unknown: str, max_steps: int | None = None, offset: int = 0) -> Parsed:
    """``offset``: how many pieces of the input came before ``text`` (an appended chunk), so errors name whole-input positions."""
    if model is not None and model.vocab is not None and model.embedding is not None:
        pieces = model.vocab.split(text)
        try:
            ids = model.vocab.encode(text, on_unknown=unknown)
        except cells.CellsError as e:
            raise _unknown_error(e, model.vocab, pieces, unknown, offset) from None
        if unknown == "skip":
            pieces = [p for p in pieces if p in model.vocab.index]
        if not ids:
            raise AppError(422, "input: no token of the text is in the model's vocabulary", "input")
        _check_steps(len(ids), max_steps)  # before the embedding is looked up
        return Parsed(model.embed(np.array(ids)), pieces, ids)
    if model is not None:
        lacks = "no vocabulary" if model.vocab is None else "a vocabulary but no embedding (embedding.weight)"
        raise AppError(422, f"input_type: this model has {lacks}, so it reads no text; it takes {model.input_size} number(s) "
                            "per step: use input_type=numbers", "input_type", code="reads_no_text")
    chars = list(text)
    if not chars:
        raise AppError(422, "input: the text is empty; type at least one character", "input")
    _check_steps(len(chars), max_steps)  # before a vector is drawn for each of up to max_input_chars characters
    return Parsed(fixed_embedding(chars), chars)


def _check_steps(steps: int, max_steps: int | None) -> None:
    if max_steps is not None and steps > max_steps:
        raise over_limit("input", f"{steps} steps", max_steps, "max_steps")


_NUMBER = re.compile(r"[\s,]+")
_LENGTH = re.compile(r"[0-9]+")


def parse_numbers(text: str, max_width: int | None = None, offset: int = 0) -> Parsed:
    """``offset``: the steps that came before ``text`` (an appended chunk), so errors name whole-input steps."""
    rows = [r for r in re.split(r"[;\n]", text.strip()) if r.strip(" \t\r,")]
    if not rows:
        raise AppError(422, "input: no numbers given; write e.g. '0.5, -1, 2' or '1 0; 0 1'", "input")
    if len(rows) == 1:  # one row: a sequence of scalars
        cells_ = [[v] for v in _NUMBER.split(rows[0].strip()) if v]
    else:
        cells_ = [[v for v in _NUMBER.split(r.strip()) if v] for r in rows]
    width = len(cells_[0])
    if max_width is not None and width > max_width:  # before a single float is made
        raise over_limit("input", f"{width} values per step", max_width, "max_input_width")
    values = []
    for t, row in enumerate(cells_):
        if len(row) != width:
            raise AppError(422, f"input: step {offset + t} has {len(row)} values; every step needs {width}, like step {offset}", "input")
        out = []
        for v in row:
            try:
                f = float(v)
            except ValueError:
                raise AppError(422, f"input: {v[:20]!r} at step {offset + t} is not a number; this model reads numbers, "
                                    "e.g. '0.5, -1, 2' (one value a step) or '1 0; 0 1' (rows of values)", "input",
                               code="not_a_number", data={"step": offset + t}) from None
            if not np.isfinite(f):
                raise AppError(422, f"input: {v[:20]!r} at step {offset + t} is not a finite number", "input")
            out.append(f)
        values.append(out)
    xs = np.array(values, dtype=np.float64)
    tokens = [_fmt(r[0]) if width == 1 else "[" + ", ".join(_fmt(v) for v in r) + "]" for r in xs]
    return Parsed(xs, tokens)


def parse_signal(spec: str, seed: int, max_steps: int) -> Parsed:
    words = spec.split()
    if not words or words[0] not in SIGNALS:
        raise AppError(422, f"input: {spec[:40]!r} is not a signal; expected one of {', '.join(SIGNALS)}, e.g. 'sine 64 period=16'", "input")
    name, settings, steps = words[0], dict(SIGNALS[words[0]]), DEFAULT_STEPS
    for w in words[1:]:
        if "=" not in w:
            # ASCII digits only: "²".isdigit() is true and int("²") fails; and a 5,000-digit length must not reach int()
            if not _LENGTH.fullmatch(w):
                raise AppError(422, f"input: {w[:20]!r} is neither a length (a whole number) nor key=value", "input")
            if len(w.lstrip("0")) > len(str(max_steps)):
                raise over_limit("input", f"a signal of {w[:20]}{'...' if len(w) > 20 else ''} steps", max_steps, "max_steps")
            steps = int(w)
            continue
        key, _, raw = w.partition("=")
        if key not in settings:
            raise AppError(422, f"input: the {name} signal has no setting {key!r}; it has {', '.join(settings)}", "input")
        try:
            if len(raw) > 40:
                raise ValueError
            settings[key] = float(raw)
        except ValueError:
            raise AppError(422, f"input: {key}={raw[:20]!r} is not a number", "input") from None
        if not np.isfinite(settings[key]):
            raise AppError(422, f"input: {key}={raw[:20]!r} is not a finite number", "input")
    if steps < 1:
        raise AppError(422, "input: a signal needs at least 1 step", "input")
    if steps > max_steps:
        raise over_limit("input", f"{steps} steps", max_steps, "max_steps")
    t = np.arange(steps, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if name == "sine":
        if settings["period"] == 0:
            raise AppError(422, "input: period must not be 0", "input")
        y = settings["amplitude"] * np.sin(2 * np.pi * t / settings["period"] + settings["phase"])
    elif name == "step":
        at = steps // 2 if settings["at"] is None else settings["at"]
        y = settings["amplitude"] * (t >= at)
    elif name == "impulse":
        y = settings["amplitude"] * (t == round(settings["at"]))
    else:
        y = settings["scale"] * rng.standard_normal(steps)
    if settings.get("noise"):
        y = y + settings["noise"] * rng.standard_normal(steps)
    return Parsed(y[:, None], [_fmt(v) for v in y])


def _fmt(v: float) -> str:
    """A short label: three significant digits, and 0 for what is zero but for rounding (sin(pi) = 1.2e-16)."""
    return "0" if abs(v) < 5e-10 else f"{v:.3g}"


def parse(text: str, input_type: str, model: cells.Model | None, *, seed: int, unknown: str, max_steps: int,
          max_width: int | None = None, offset: int = 0) -> Parsed:
    """``offset``: the pieces (text) or steps (numbers) of the input before ``text``, when it extends a run."""
    if input_type == "text":
        parsed = parse_text(text, model, unknown, max_steps, offset)
    elif input_type == "numbers":
        parsed = parse_numbers(text, max_width, offset)
    else:
        parsed = parse_signal(text, seed, max_steps)
    if len(parsed.xs) > max_steps:
        raise over_limit("input", f"{len(parsed.xs)} steps", max_steps, "max_steps")
    if model is not None and parsed.xs.shape[1] != model.input_size:
        raise AppError(422, f"input: each step has {parsed.xs.shape[1]} value(s); this model takes {model.input_size} (its input_size)", "input")
    return parsed
