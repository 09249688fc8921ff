"""The API's response shapes: most are read off the engine's own dataclasses (``described``), so a field added in
cells/ appears in the OpenAPI schema by itself. The view state, which requests carry, is in app/schemas.py.

Words come in two languages: each kind, option, name, phase, equation, task and preset card has a ``zh`` object
beside its English fields, keyed by the field it translates (``zh_field``); a field it lacks reads in English."""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_serializer

from gatescope import cells
from gatescope.cells.spec import Phase

# -- responses ------------------------------------------------------------------

class ErrorBody(BaseModel):
    detail: str | list[dict[str, Any]]
    field: str | None = None


def zh_field() -> Any:
    return Field(description="Chinese for the English fields of the same name (title, text, latex, label, equation, doc, ...): "
                             "a reader in Chinese takes {...entry, ...entry.zh}; a field it lacks reads in English")


def described(dc: type, name: str, **as_json: Any) -> type[BaseModel]:
    """The response shape of an engine dataclass's describe(): its fields and types, read off the dataclass itself,
    with ``as_json`` for the fields describe() writes differently (a Python type as its name, a tuple as a list)."""
    hints = typing.get_type_hints(dc)
    fields = {}
    for f in dataclasses.fields(dc):
        if f.name.startswith("_"):
            continue
        default = ... if f.default is dataclasses.MISSING else f.default
        fields[f.name] = (as_json.get(f.name, hints[f.name]), zh_field() if f.name == "zh" else default)
    return create_model(name, __doc__=f"{dc.__name__}.describe() as JSON (cells.{dc.__name__})", **fields)


NameInfo = described(cells.Name, "NameInfo", operands=list[str])
PhaseInfo = described(Phase, "PhaseInfo")
OptionInfo = described(cells.Option, "OptionInfo", type=str, choices=list[Any] | None)


class GlossaryInfo(BaseModel):
    names: list[NameInfo]  # type: ignore[valid-type]
    phases: list[PhaseInfo]  # type: ignore[valid-type]
    renamed: dict[str, str] = Field(description="Old spellings that still read (forget -> forget_gate): names= and focus= accept them.")


class EquationInfo(BaseModel):
    name: str
    text: str
    latex: str
    zh: dict[str, str] = zh_field()


Box = Annotated[list[float], Field(min_length=4, max_length=4, description="x0, y0, x1, y1 in diagram units (y up)")]
Style = Literal["main", "peephole", "state", "gate"]


class DiagramMark(BaseModel):
    kind: Literal["box", "circle"] = Field(description="a learned layer's box or a pointwise op's circle")
    box: Box
    text: str
    font: float = Field(description="font size in diagram units")


class DiagramText(BaseModel):
    text: str
    x: float
    y: float
    box: Box
    font: float


class DiagramNode(BaseModel):
    name: str
    x: float
    y: float
    shape: Literal["strip", "layer", "op"]
    label: str
    strip: Box = Field(description="where the name's strip of units is drawn")
    text: DiagramText = Field(description="its symbol, placed clear of every other shape")
    mark: DiagramMark | None = None


class DiagramEdge(BaseModel):
    source: str
    target: str
    style: Style = "main"


class DiagramWire(BaseModel):
    net: str = Field(description="wires of one net (one source, fanned out) may meet; no two nets share a segment")
    source: str
    target: str
    style: Style
    arrow: bool = Field(description="ends in an arrowhead")
    joins: bool = Field(description="starts on another wire of its net, where a dot is drawn")
    points: list[tuple[float, float]] = Field(min_length=2, description="the route, right-angled, in diagram units")


class DiagramInfo(BaseModel):
    width: float
    height: float
    nodes: list[DiagramNode]
    edges: list[DiagramEdge]
    state_lines: list[str]
    wires: list[DiagramWire] = Field(description="every wire's route, computed by the server (cells.diagrams): the page draws them as given")
    fonts: dict[str, float] = Field(description="font sizes in diagram units: label, box, op, op_wide")


class Simplifies(BaseModel):
    kind: str = Field(description="the kind this one simplifies: the rung below it on /compare's ablation ladder")
    removed: str = Field(description="in one line, the arrow it removed (its Chinese in the kind's zh.removed)")


class KindInfo(BaseModel):
    name: str
    title: str
    summary: str
    zh: dict[str, str] = zh_field()
    simplifies: Simplifies | None
    reference: str
    has_cell: bool
    blocks: list[str]
    layouts: list[str]
    options: list[OptionInfo]
    defaults: dict[str, Any]
    glossary: GlossaryInfo
    memory: dict[str, str | dict[str, str] | None] = Field(description="Which names hold the memory (mem), keep it (keep) and write "
                                                      "it (write), with their symbols, and those words in Chinese (zh): Kind.memory_roles")
    equations: list[EquationInfo]
    diagram: DiagramInfo


class ModelCard(BaseModel):
    """A model's card: the keys the app and the page read (cells.io.CARD_KEYS) typed, any other JSON kept as written."""

    model_config = ConfigDict(extra="allow")
    title: str | None = None
    task: str | None = None
    example: str | None = None
    input_type: Literal["text", "numbers", "signal"] | None = None
    head: Literal["softmax", "linear"] | None = None
    notes: str | None = Field(None, description="What to look for in the gates, measured on the model itself.")
    # list[Any]: cells.io.check_card does not check an upload's units yet, and a response failing its schema is a 500
    units: list[Any] | None = Field(None, description="Unit indices the notes talk about, the most telling first: the "
            "diagram draws these when it cannot draw every unit (model.card.units in the stream header).")
    # Any: cells.io.check_card does not check an upload's zh (as for units above)
    zh: Any = Field(None, description="The card's words in Chinese (title, task_title, description, "
            "accuracy_rule, evaluated_on, loss_kind, notes): the notes with the same measured numbers as the English ones.")

    @model_serializer(mode="wrap")
    def _as_written(self, handler: Any):  # no return type: the schema stays the fields above
        """A key the card lacks is left out, not sent as null."""
        return {k: v for k, v in handler(self).items() if k in self.model_fields_set or k in (self.model_extra or {})}


class ModelInfo(BaseModel):
    id: str | None = None
    kind: str
    input_size: int
    hidden_size: int
    out_size: int
    num_layers: int
    bidirectional: bool
    options: dict[str, Any]
    dtype: str
    parameters: int
    vocab_size: int | None
    has_embedding: bool
    outputs: int | None
    card: ModelCard
    source: dict[str, Any] = Field(default_factory=dict,
            description="How the weights were found in the file: layout, prefix, unused tensors, bias false (zeros used).")
    assumed: dict[str, str] = Field(default_factory=dict,
            description="Options the weights cannot reveal, and the value taken for each (e.g. an RNN's nonlinearity).")


class PresetInfo(BaseModel):
    name: str
    card: ModelCard


class PredictionInfo(BaseModel):
    head: Literal["softmax", "linear"]
    labels: list[str]
    values: list[list[float]]


class TraceResponse(BaseModel):
    request: dict[str, Any]
    model: ModelInfo
    tokens: list[str]
    steps: int
    layer: int
    direction: int
    names: list[str]
    values: dict[str, list[list[float]]]
    predictions: PredictionInfo | None
    final: dict[str, list[list[float]]]


class GradientFlow(BaseModel):
    h: list[float]
    x: list[float]
    c: list[float] | None = None


class GradientResponse(BaseModel):
    request: dict[str, Any]
    model: ModelInfo
    tokens: list[str]
    steps: int
    flow: GradientFlow


class TaskInfo(BaseModel):
    name: str
    title: str
    description: str
    zh: dict[str, str] = zh_field()
    model_config = ConfigDict(extra="allow")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    kinds: int
    presets: int
