"""The view state, declared once (the API's response shapes are in app/responses.py).

``ViewState`` is every parameter a view can carry: which model, which input,
and how the page shows it. The same names work in the URL query, the JSON
body of POST /api/trace and the WebSocket request, and the page's
static/core/state.js reads its table of fields from ``view_fields()`` instead of
repeating it. Kind options (nonlinearity, reset_after, ...) are generated
from the engine's registry, so a new option in cells/ appears here by itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError, core_schema

from gatescope import cells  # cells.kinds comes with it
from gatescope.app.clamp_view import CLAMP_FIELDS  # what if
from gatescope.app.lesson_view import LESSON_FIELDS, LESSON_VIEW_ONLY  # lessons: lang, highlight
from gatescope.cells.training import LIMITS as TRAINING_LIMITS


class _Registered:
    """A kind name checked against the registry when a request comes, not when this module was imported, so a kind
    registered later (cells.kinds.register) is served too; its JSON Schema lists the kinds registered when it is made."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls.check, core_schema.str_schema())

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict:
        return {"type": "string", "enum": list(cells.KINDS)}

    @staticmethod
    def check(name: str) -> str:
        if name not in cells.REGISTRY:
            kinds = [f"'{k}'" for k in cells.KINDS]
            raise PydanticCustomError("literal_error", "Input should be {expected}",
                                      {"expected": ", ".join(kinds[:-1]) + f" or {kinds[-1]}"})
        return name


KindName = Annotated[str, _Registered]
OPTION_INT_CEILING = 1_000_000
STEP_CEILING = 10_000_000  # the furthest step a URL may name; a step past a run's end shows its last one


def _window(value: str | None) -> str | None:  # START-END, the first and last step shown; past a run's end: its last ones
    start, _, end = (value or "").strip().partition("-")
    if value and not (all(s.isascii() and s.isdigit() and len(s) <= 12 for s in (start, end)) and int(start) <= int(end) <= STEP_CEILING):
        raise PydanticCustomError("window", "'{value}' is not a span of steps START-END with START ≤ END ≤ {limit}: "
                                  "window=120-220 shows steps 120 to 220", {"value": value, "limit": STEP_CEILING})
    return f"{int(start)}-{int(end)}" if value else None


COMPARE_DEFAULT = "preset:remember-rnn,preset:remember-lstm,preset:remember-gru"


def _kind_option_fields() -> dict[str, Any]:
    """One optional field per option any kind has; None means the kind's default."""
    fields: dict[str, Any] = {}
    for kind in cells.REGISTRY.values():
        for opt in kind.options:
            if opt.name in fields:
                continue
            typ = opt.type if opt.choices is None else Literal[opt.choices]  # type: ignore[valid-type]
            kinds = [k.name for k in cells.REGISTRY.values() if any(o.name == opt.name for o in k.options)]
            bounds: dict[str, Any] = {}
            if opt.type is int:  # a ceiling that no setting can raise: Python ints are unbounded, NumPy's are not
                bounds = {"ge": int(opt.minimum or 0), "le": OPTION_INT_CEILING}
            elif opt.type is float:  # JSON may say Infinity or 1e400; an option is a finite number
                bounds = {"allow_inf_nan": False, "ge": -1e6 if opt.minimum is None else opt.minimum, "le": 1e6}
            fields[opt.name] = (typ | None, Field(None, description=f"{opt.doc} (kinds: {', '.join(kinds)})", **bounds))
    return fields


class _ViewBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- which model -------------------------------------------------------
    kind: KindName | None = Field(None, description="Cell kind of a model with random weights (see GET /api/kinds).")
    preset: str | None = Field(None, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$", description="A trained preset (see GET /api/presets).")
    model: str | None = Field(None, pattern=r"^[0-9a-f]{16,64}$", description="The id of an uploaded or trained model (POST /api/models).")
    hidden: int = Field(8, ge=1, le=1_000_000, description="Hidden size of a random model.")
    layers: int = Field(1, ge=1, le=1_000, description="Stacked layers of a random model.")
    bidirectional: bool = Field(False, description="Run a random model in both directions.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of a random model's weights and of a noise signal.")

    # -- which input -------------------------------------------------------
    input: str | None = Field(None, max_length=10_000_000,
            description="The input: text, numbers ('0.5, -1, 2' or '1 0; 0 1') or a signal ('sine 64 period=16').")
    input_type: Literal["text", "numbers", "signal"] | None = Field(None,
            description="How to read input; default: the model's own (text for random models).")
    unknown: Literal["error", "skip", "map"] = Field("error",
            description="What to do with text the model's vocabulary lacks: answer 422 naming it, skip it, "
                        "or map it to the vocabulary's unknown token (<unk>, [UNK]) where it has one.")

    # -- how to show it ------------------------------------------------------
    layer: int = Field(-1, ge=-1_000, le=1_000, description="Which layer the views show; -1 is the top one.")
    direction: int = Field(0, ge=0, le=1, description="Which direction of a bidirectional model the views show.")
    step: int = Field(0, ge=0, le=STEP_CEILING, description="The current timestep.")
    phase: str | None = Field(None, max_length=40, pattern=r"^[a-z_]+$",
                              description="The phase of the step shown (a name of the kind's glossary phases); none for the whole step.")
    panels: str = Field("diagram,heatmaps,lines,tokens,predictions", max_length=200, pattern=r"^[a-z,]*$",
                        description="Comma-separated panels to show, by the names the page's views declare (static/views/, "
                                    "`static panel`): diagram, heatmaps, lines, tokens, predictions, gradients, saturation, ...")
    window: Annotated[str | None, AfterValidator(_window)] = Field(None, max_length=40, description="The steps the heatmaps and "
            "the lines show, START-END, both included (120-220); none: the run's own opening (all of it, or a window around the step).")
    units: str = Field("", max_length=2_000, pattern=r"^[0-9,]*$", description="Comma-separated units for the line plots; empty for the first four.")
    focus: str = Field("c", max_length=40, pattern=r"^[a-z_]+$", description="The name the token strip and line plots follow.")
    color_unit: int | None = Field(None, ge=0, le=1_000_000, description="Color the input tokens by this unit of the focused name.")
    phases: bool = Field(True, description="Animate each step phase by phase, as the article does; false for plain stepping.")
    speed: float = Field(2.0, gt=0, le=60, allow_inf_nan=False, description="Playback speed, steps per second.")
    pin: str | None = Field(None, max_length=60, pattern=r"^[a-z_]{1,40}(\[[0-9]{1,7}\])?$", description="The part the views "
                            "light up and the diagram explains, pinned by a click: a name (forget_gate) or one of its units (c[5]).")
    pace: Literal["slow", "normal", "fast"] = Field("normal", description="How fast the flow animation plays a phase when phases "
            "are on (about 2, 1 and 0.5 s a phase): a lecture setting, apart from the speed of plain stepping.")
    presenter: bool = Field(False, description="Larger fonts and thicker lines for projectors.")
    palette: Literal["classic", "colorblind", "mono"] = Field("classic",
            description="Color palette; 'colorblind' reads for all common color vision deficiencies.")
    compare: str = Field(COMPARE_DEFAULT, max_length=400, pattern=r"^((preset|kind|model):[a-z0-9_-]+)(,(preset|kind|model):[a-z0-9_-]+){0,4}$",
                         description="The /compare page: two to five models, comma-separated, each preset:NAME, kind:KIND or model:ID.")

    # -- API only --------------------------------------------------------------
    format: Literal["json", "npz", "csv"] = Field("json", description="GET/POST /api/trace: the response format.")
    names: str | None = Field(None, max_length=2_000, pattern=r"^[a-z_,]*[a-z_][a-z_,]*$",
                              description="Comma-separated names to include (at least one); default all.")
    digits: int = Field(5, ge=1, le=9, description="Significant digits of each number in JSON (of each value, not of the array's largest): "
                        "4.4e-06 stays 4.4e-06. Binary stream frames are float32 and not rounded.")

# what if (app/clamp_view.py) and lessons (app/lesson_view.py) declare their own fields
ViewState = create_model("ViewState", __base__=_ViewBase, **_kind_option_fields(), **CLAMP_FIELDS, **LESSON_FIELDS)
ViewState.__doc__ = "Every parameter of a view: the URL query, the POST body and the WebSocket request use the same names."

_INTEGER_FIELDS = {name for name, f in ViewState.model_fields.items() if f.annotation in (int, int | None)}


class ViewBody(ViewState):  # type: ignore[misc,valid-type]
    """The view state as JSON (POST body, WebSocket message): the same fields, typed strictly. A URL query is text, so
    ViewState reads "5" as 5 and "true" as true; JSON has types of its own: true for a number or "2" for a speed is a 422."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers_are_integers(cls, data: Any) -> Any:
        """JSON Schema's "integer" takes 2.0 (a whole number written as a float); strict mode would not."""
        return {k: int(v) if k in _INTEGER_FIELDS and isinstance(v, float) and v.is_integer() else v
                for k, v in data.items()} if isinstance(data, dict) else data


KIND_OPTION_NAMES = tuple(_kind_option_fields())
#: Fields that only change how the page looks, not the numbers.
#: layer and direction are not among them: the stream carries the shown layer-direction only, so choosing another reruns.
VIEW_ONLY = ("step", "phase", "panels", "window", "units", "focus", "color_unit", "phases", "speed", "pace", "pin", "clamp_view", "presenter",
             "palette", "compare", "format", "names", "digits")
VIEW_ONLY += LESSON_VIEW_ONLY  # lessons: app/lesson_view.py
VIEW_KEPT = ("window",)  #: fields a view keeps itself: the page writes them in the URL as it changes them, and redraws nothing


def view_fields() -> list[dict]:
    """The view state as a table for static/core/state.js: name, type, default, choices, bounds."""
    schema = ViewState.model_json_schema()
    out = []
    for name, field in ViewState.model_fields.items():
        prop = schema["properties"][name]
        options = prop.get("anyOf", [prop])
        typ = next((o.get("type") for o in options if o.get("type") not in (None, "null")), "string")
        enum = next((o["enum"] for o in options if "enum" in o), None)
        item = {"name": name, "type": typ, "default": field.default, "nullable": any(o.get("type") == "null" for o in options),
                "view_only": name in VIEW_ONLY, "view_kept": name in VIEW_KEPT, "kind_option": name in KIND_OPTION_NAMES}
        if enum:
            item["choices"] = enum
        item.update({bound: o[bound] for o in options for bound in ("minimum", "maximum", "exclusiveMinimum") if bound in o})
        out.append(item)
    return out


# -- training -------------------------------------------------------------------

def _engine_bound(name: str) -> dict:
    """The trainer's own bounds on an argument (cells.training.LIMITS), so no second number is written here."""
    lo, hi = TRAINING_LIMITS[name]
    return {"ge": lo, "le": hi} if isinstance(lo, int) else {"gt": lo, "le": hi}


class TrainRequest(BaseModel):
    """The first message of WS /ws/train. hidden and steps are held to the server's settings (max_train_hidden,
    max_train_steps), which are themselves held to the trainer's bounds; the rest to the trainer's bounds."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON: true is not a number, "16" is not a size
    type: Literal["start"] = "start"
    task: str = Field("remember", max_length=40)
    kind: str = Field(cells.kinds.DEFAULT, max_length=40)
    hidden: int = Field(16, ge=1)
    steps: int = Field(1500, ge=1)
    learning_rate: float = Field(0.01, **_engine_bound("learning_rate"))
    batch_size: int = Field(32, **_engine_bound("batch_size"))
    seed: int = Field(0, **_engine_bound("seed"))
