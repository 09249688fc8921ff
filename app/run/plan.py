"""A request read and its cost checked, before the work it bounds: the plan (app/run)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from gatescope import cells

from .. import i18n
from .. import store as store_mod
from ..config import Settings
from ..errors import AppError, over_limit, setting
from ..inputs import Parsed, parse
from ..schemas import KIND_OPTION_NAMES, ViewState
from .cost import COUNTS, Cost, check, cost_of

RANDOM_ONLY = ("hidden", "layers", "bidirectional", *KIND_OPTION_NAMES)
WORDS = re.compile(r"[A-Za-z]{2}")  # two letters in a row: words, where numbers were asked for
DEFAULT_INPUTS = {"text": "hello world", "numbers": "0.5, -1, 2, 0, 1", "signal": "sine 64"}


@dataclass
class Plan:
    """A request read and its cost checked; nothing sized by it exists yet but a stored model it names (bounded when
    it was stored). ``model`` is None for a random one, built by :func:`resolve`."""
    view: ViewState
    source: dict          # {"kind": ...} | {"preset": ...} | {"model": id}
    model: cells.Model | None
    spec: Any
    options: dict
    input: str
    input_type: str
    parsed: Parsed
    clamp: cells.Clamp    # read, not yet bound to the model's glossary
    cost: Cost

    @property
    def num_layers(self) -> int:
        return self.model.num_layers if self.model else self.view.layers

    @property
    def directions(self) -> int:
        return self.model.directions if self.model else 2 if self.view.bidirectional else 1

    @property
    def glossary(self):
        return self.model.glossary if self.model else self.spec.glossary(self.options)

    @property
    def kind(self) -> str:
        return self.model.kind if self.model else self.source["kind"]

    def key(self) -> str:
        """What makes the run: the model's recipe or name, the input and how it is read, the clamp. Not what a view
        shows of it (step, layer, names, palette, ...)."""
        v = self.view
        recipe = {**self.source, **({"hidden": v.hidden, "layers": v.layers, "bidirectional": v.bidirectional,
                                     "options": self.options} if self.model is None else {})}
        return json.dumps([recipe, self.input, self.input_type, v.unknown, v.seed, str(self.clamp), self.compared], sort_keys=True)

    @property
    def compared(self) -> bool:
        return bool(self.clamp) and self.view.clamp_compare


def example_numbers(width: int, steps: int = 8) -> str:
    """A default numeric input of ``width`` values per step: a few slow waves, one per input."""
    rows = [" ".join(f"{math.sin(0.7 * t + k):.2f}" for k in range(width)) for t in range(steps)]
    return "; ".join(rows)


def random_options(view: ViewState, settings: Settings) -> tuple[Any, dict]:
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
    return spec, opts


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


def input_type_for(model: cells.Model) -> str:
    """How a string is read for ``model``: its card's input_type, else text when it has a vocabulary and an embedding."""
    return model.card.get("input_type") or ("numbers" if reads_no_text(model) else "text")


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
    if input_type == "text" and model is not None and model.vocab is not None:
        return example_text(model.vocab), input_type
    return DEFAULT_INPUTS[input_type], input_type


def example_text(vocab: cells.Vocab, n: int = 12) -> str:
    """"hello world" when the vocabulary reads it, else its own first tokens: a model from a file of the user's (a Keras
    character model of ten letters) opens on text it can read, not on a refusal."""
    text = DEFAULT_INPUTS["text"]
    if len(vocab.encode(text, "skip")) < len(vocab.split(text)):  # some piece of it is not in the vocabulary
        usable = [t for t in vocab.tokens if t and not (t.startswith(("<", "[")) and t.endswith((">", "]"))) and t.strip()]
        text = ("" if vocab.char_level else " ").join(usable[:n]) or text
    return text


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


def shown_of(view: ViewState, of: Plan | cells.Model) -> tuple[int, list[str]]:
    """(the layer the views show, the names they ask for), checked against the model (or a plan's, before it is built)."""
    layers, directions, glossary = of.num_layers, of.directions, of.glossary
    layer = view.layer if view.layer >= 0 else layers + view.layer
    if not 0 <= layer < layers:
        raise AppError(422, f"layer: {view.layer} does not exist; this model has {layers} layer(s)", "layer")
    if view.direction >= directions:
        raise AppError(422, "direction: 1 needs a bidirectional model", "direction")
    if not view.names:
        return layer, list(glossary.keys())
    asked = [n for n in view.names.split(",") if n]
    unknown = [n for n in asked if glossary.lookup(n) is None]
    if unknown:
        raise AppError(422, f"names: {', '.join(unknown[:10])} not in the {of.kind} glossary: {', '.join(glossary.keys())}", "names")
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


def plan(view: ViewState, settings: Settings, store: store_mod.ModelStore) -> Plan:
    """The request read and every cost checked, before the work it bounds: a random model is not built here."""
    COUNTS["plan"] += 1
    source = source_of(view, settings)
    clamp = clamp_of(view, settings)
    if view.names is not None and not [n for n in view.names.split(",") if n]:
        raise AppError(422, "names: no name given; list names separated by commas (e.g. names=forget,c), or leave names out for all", "names")
    model, spec, options = None, None, {}
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
    p = Plan(view, source, model, spec or model.spec, options if model is None else model.options, text, input_type, parsed, clamp,
             Cost(0, 0, 0))
    p.cost, shape = cost_of(model or p, len(parsed.xs), clamp, view.clamp_compare, parsed.xs.shape[1])
    check(p.cost, settings, shape, weights=model is None)
    shown_of(view, p)
    return p


