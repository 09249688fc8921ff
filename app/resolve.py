"""From a view state to what the engine runs: the model, the input array, and what to show.

Exactly one of ``kind`` (random weights), ``preset`` or ``model`` names the
model; with none, the default preset. Every limit in the settings is
checked here, before any work, with a message naming field, value and limit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import cells

from . import i18n
from . import store as store_mod
from .config import Settings
from .errors import AppError, over_limit, setting
from .inputs import Parsed, parse
from .schemas import KIND_OPTION_NAMES, ViewState

RANDOM_ONLY = ("hidden", "layers", "bidirectional", *KIND_OPTION_NAMES)
WORDS = re.compile(r"[A-Za-z]{2}")  # two letters in a row: words, where numbers were asked for
DEFAULT_INPUTS = {"text": "hello world", "numbers": "0.5, -1, 2, 0, 1", "signal": "sine 64"}


@dataclass
class Resolved:
    view: ViewState
    model: cells.Model
    source: dict          # {"kind": ...} | {"preset": ...} | {"model": id}
    input: str
    input_type: str
    parsed: Parsed
    layer: int
    direction: int
    names: list[str]
    clamp: cells.Clamp = field(default_factory=cells.Clamp)  # bound to the model: the glossary's names, checked

    def normalized(self) -> dict:
        """The view state with defaults filled in: what a permalink to this view holds (the clamp as applied)."""
        out = self.view.model_dump(exclude_none=True)
        out.update(self.source)
        out["input"], out["input_type"] = self.input, self.input_type
        out.pop("clamp", None)
        if self.clamp:
            out["clamp"] = str(self.clamp)
        return out

    @property
    def compared(self) -> bool:
        """Whether the stream carries the run without the clamp beside the clamped one."""
        return bool(self.clamp) and self.view.clamp_compare


def example_numbers(width: int, steps: int = 8) -> str:
    """A default numeric input of ``width`` values per step: a few slow waves, one per input."""
    rows = [" ".join(f"{math.sin(0.7 * t + k):.2f}" for k in range(width)) for t in range(steps)]
    return "; ".join(rows)


def cost(spec, opts: dict, steps: int, input_size: int, hidden: int, layers: int, directions: int, itemsize: int,
         outputs: int = 0) -> tuple[int, int]:
    """(multiply-adds, trace bytes) of running a model: what a request costs, known before any weight is drawn.

    Each layer-direction multiplies its G gate blocks of H rows by [x(t), h(t-1)] every step; its trace keeps
    every name of the glossary, each H, P or input wide, for every step. A decoder of ``outputs`` rows reads
    the top layer's output every step and its predictions are kept too (a bundle may have 20,000 of them).
    """
    out = spec.out_size(hidden, opts)
    names = spec.glossary(opts)
    macs = nbytes = 0
    for k in range(layers):
        width = input_size if k == 0 else directions * out
        macs += directions * steps * len(spec.blocks) * hidden * (width + out)
        sizes = {"input_size": width, "hidden_size": hidden, "proj_size": out}
        per_step = sum(sizes[n.size] for n in names)
        nbytes += directions * steps * per_step * itemsize
    macs += steps * outputs * directions * out
    nbytes += steps * outputs * itemsize * 2  # logits, then the probabilities made of them
    return macs, nbytes


def check_cost(settings: Settings, spec, opts: dict, steps: int, input_size: int, hidden: int, layers: int, directions: int,
               itemsize: int, outputs: int = 0) -> None:
    macs, nbytes = cost(spec, opts, steps, input_size, hidden, layers, directions, itemsize, outputs)
    shape = f"{steps} steps x {layers} layer(s) x {directions} direction(s) x hidden {hidden}"
    if macs > settings.max_work:
        raise over_limit("input", f"{shape} (input width {input_size}) = {macs} multiply-adds", settings.max_work, "max_work")
    if nbytes > settings.max_trace_bytes:
        raise over_limit("input", f"a trace of {shape} = {nbytes} bytes", settings.max_trace_bytes, "max_trace_bytes")


def random_options(view: ViewState, settings: Settings) -> tuple[object, dict]:
    """The kind and its checked options, and every size limit, before the input is read or a weight drawn."""
    # 422, not 413: the schema states these maxima (app/docs.py), so a value past one is invalid, like any schema violation
    if view.hidden > settings.max_hidden:
        raise over_limit("hidden", view.hidden, settings.max_hidden, "max_hidden", 422)
    if view.layers > settings.max_layers:
        raise over_limit("layers", view.layers, settings.max_layers, "max_layers", 422)
    spec = cells.REGISTRY[view.kind]
    given = {k: getattr(view, k) for k in KIND_OPTION_NAMES if getattr(view, k) is not None}
    try:
        opts = spec.check_options(given)
    except cells.CellsError as e:
        raise AppError(422, str(e), next(iter(sorted(set(given) - {o.name for o in spec.options})), None)) from None
    proj = opts.get("proj_size") or 0
    if proj > settings.max_proj_size:
        raise over_limit("proj_size", proj, settings.max_proj_size, "max_proj_size", 422)
    if proj and proj >= view.hidden:
        raise AppError(422, f"proj_size: got {proj}; expected a value smaller than hidden_size (hidden={view.hidden})", "proj_size")
    return spec, given


def source_of(view: ViewState, settings: Settings) -> dict:
    """Which model the view names: {"kind": ...}, {"preset": ...} or {"model": id}; the default preset when none."""
    given = view.model_fields_set
    chosen = [f for f in ("kind", "preset", "model") if getattr(view, f) is not None]
    if len(chosen) > 1:
        raise AppError(422, f"{chosen[1]}: give one of kind, preset or model, not {' and '.join(chosen)}", chosen[1])
    if not chosen or chosen[0] != "kind":
        extra = [f for f in RANDOM_ONLY if f in given and getattr(view, f) is not None]
        if extra:
            what = f"a {chosen[0]}" if chosen else f"the default preset ({settings.default_preset})"
            raise AppError(422, f"{extra[0]}: applies only to a random model; add kind=... (e.g. kind=lstm), since without it "
                                f"the view shows {what}", extra[0])
    if chosen:
        return {chosen[0]: getattr(view, chosen[0])}
    names = {p["name"] for p in store_mod.list_presets()}
    return {"preset": settings.default_preset} if settings.default_preset in names else {"kind": cells.KINDS[0]}


def reads_no_text(model: cells.Model | None) -> bool:
    """A model without a vocabulary and an embedding reads numbers, not text (a random one reads either)."""
    return model is not None and (model.vocab is None or model.embedding is None)


def input_of(view: ViewState, model: cells.Model | None) -> tuple[str, str]:
    """(the input text, how to read it): as given, else the model's own example, else a default of its type."""
    card = model.card if model is not None else {}
    wordless = reads_no_text(model)
    input_type = view.input_type or card.get("input_type") or ("numbers" if wordless else "text")
    if view.input is not None:
        return view.input, input_type
    if card.get("example") and card.get("input_type", "text") == input_type:
        return card["example"], input_type
    if input_type == "numbers" and model is not None:
        return example_numbers(model.input_size), input_type
    return DEFAULT_INPUTS[input_type], input_type


def text_model_offer(kind: str, text: str | None, lang: str = "en") -> dict | None:
    """For text given to a model that reads numbers: a trained text model to open with it, one of the same kind first,
    then the one with the largest vocabulary. What the page offers, as a label (in the view's language) and a change
    of the view state."""
    texts = [p for p in store_mod.list_presets() if p["card"].get("input_type") == "text"]
    if not texts:
        return None
    name = min(texts, key=lambda p: (p["card"].get("kind") != kind, -(p["card"].get("input_size") or 0)))["name"]
    _ = i18n.translator(lang)
    return {"label": _("Open a text model ({name}) with this text", name=name) if text else _("Open a text model ({name})", name=name),
            "patch": {"preset": name, "input": text, "input_type": None}}


def shown_of(view: ViewState, model: cells.Model) -> tuple[int, list[str]]:
    """(the layer the views show, the names they ask for), checked against the model."""
    layer = view.layer if view.layer >= 0 else model.num_layers + view.layer
    if not 0 <= layer < model.num_layers:
        raise AppError(422, f"layer: {view.layer} does not exist; this model has {model.num_layers} layer(s)", "layer")
    if view.direction >= model.directions:
        raise AppError(422, "direction: 1 needs a bidirectional model", "direction")
    glossary = model.glossary
    if not view.names:
        return layer, list(glossary.keys())
    asked = [n for n in view.names.split(",") if n]
    unknown = [n for n in asked if glossary.lookup(n) is None]
    if unknown:
        raise AppError(422, f"names: {', '.join(unknown[:10])} not in the {model.kind} glossary: {', '.join(glossary.keys())}", "names")
    return layer, list(dict.fromkeys(glossary.lookup(n) for n in asked))


def clamp_of(view: ViewState, settings: Settings) -> cells.Clamp:
    """The view's clamp, read and held to the longest run a server makes, before any model is loaded.
    A step past this run's end but within that holds nothing until typing reaches it (cells.clamp)."""
    try:
        clamp = cells.Clamp.parse(view.clamp or "")
    except cells.ClampError as e:
        raise AppError(422, str(e), "clamp") from None
    far = [h for h in clamp.holds if h.steps and h.steps[0] >= settings.max_steps]
    if far:
        raise AppError(422, f"clamp {str(far[0])!r}: step {far[0].steps[0]} is past the longest run, {settings.max_steps} steps "
                            f"(0-{settings.max_steps - 1}, {setting('max_steps')})", "clamp")
    return clamp


def bound_clamp(clamp: cells.Clamp, model: cells.Model) -> cells.Clamp:
    try:
        return clamp.bind(model)
    except cells.ClampError as e:
        raise AppError(422, str(e), "clamp") from None


def resolve(view: ViewState, settings: Settings, store: store_mod.ModelStore) -> Resolved:
    """The view's model, input and what to show, every limit checked before the work it bounds."""
    source = source_of(view, settings)
    clamp = clamp_of(view, settings)
    if view.names is not None and not [n for n in view.names.split(",") if n]:
        raise AppError(422, "names: no name given; list names separated by commas (e.g. names=forget,c), or leave names out for all", "names")
    model = None
    if "preset" in source:
        model = store_mod.preset(source["preset"])
    elif "model" in source:
        model = store.get(source["model"])
    else:
        spec, options = random_options(view, settings)
    text, input_type = input_of(view, model)
    if len(text) > settings.max_input_chars:
        raise over_limit("input", f"{len(text)} characters", settings.max_input_chars, "max_input_chars", 422)
    try:
        parsed = parse(text, input_type, model, seed=view.seed, unknown=view.unknown, max_steps=settings.max_steps,
                       max_width=settings.max_input_width)
    except AppError as e:  # words at a model that reads numbers: offer one that reads text
        if (input_type == "numbers" and WORDS.search(text)) or (input_type == "text" and reads_no_text(model)):
            e.offer = text_model_offer(model.kind if model is not None else source["kind"], view.input, view.lang)
        raise
    steps, width = parsed.xs.shape
    steps *= 2 if clamp and view.clamp_compare else 1  # the run without the clamp is made too, and costs as much
    if model is None:
        check_cost(settings, spec, spec.check_options(options), steps, width, view.hidden, view.layers, 2 if view.bidirectional else 1, 4)
        model = store.random(source["kind"], width, view.hidden, view.layers, view.bidirectional, view.seed, options)
    else:
        check_cost(settings, model.spec, model.options, steps, model.input_size, model.hidden_size, model.num_layers,
                   model.directions, model.dtype.itemsize, model.n_outputs)
    layer, names = shown_of(view, model)
    return Resolved(view, model, source, text, input_type, parsed, layer, view.direction, names, bound_clamp(clamp, model))


def resolve_append(r: Resolved, text: str, steps_so_far: int, settings: Settings, before: str | None = None) -> Parsed:
    """The new steps of a run extended by ``text`` (a WebSocket's {"type": "append"}), checked as the run itself was:
    its length, its width, and the steps and work of the whole run so far. ``before``: the whole input so far (the
    run's own, by default), so an error names positions in the whole input, not in the chunk. ``r`` is left as it was."""
    if r.model.bidirectional:
        raise AppError(422, "append: typing needs a unidirectional model; the reverse direction would change every step", "input")
    if r.input_type == "signal":
        raise AppError(422, "append: a signal cannot be extended; change the signal instead", "input")
    if len(text) > settings.max_input_chars:
        raise over_limit("input", f"{len(text)} characters", settings.max_input_chars, "max_input_chars", 422)
    model = None if "kind" in r.source else r.model
    before = r.input if before is None else before
    offset = steps_so_far if r.input_type == "numbers" else len(model.vocab.split(before) if model and model.vocab else before)
    parsed = parse(text, r.input_type, model, seed=r.view.seed, unknown=r.view.unknown,
                   max_steps=settings.max_steps, max_width=settings.max_input_width, offset=offset)
    m = r.model
    if parsed.xs.shape[1] != m.input_size:
        raise AppError(422, f"input: each step has {parsed.xs.shape[1]} value(s); this model takes {m.input_size}", "input")
    total = steps_so_far + len(parsed.xs)
    if total > settings.max_steps:
        raise over_limit("input", f"{total} steps in all", settings.max_steps, "max_steps")
    check_cost(settings, m.spec, m.options, total * (2 if r.compared else 1), m.input_size, m.hidden_size, m.num_layers,
               m.directions, m.dtype.itemsize, m.n_outputs)
    return parsed
