"""The notebook widget: the page's diagram, heatmaps, phase panel and player in Jupyter, JupyterLab and VS Code.

An anywidget (``pip install "gatescope[notebook]"``); ``gatescope.show(model, input, **view)`` makes one
(gatescope/api.py). Its front end (static/widget.js) shows the run's still at once, then the page in an iframe.

What travels where, and why:

- Synced state, which a saved notebook keeps: the still (app/fallback.py: the diagram at the shown step with its
  numbers and a summary, static HTML, tens of kilobytes), the batch's sequence names and the one shown, the height.
  Nothing else: ipywidgets saves every synced trait of every widget into the notebook, so a synced page (2 MB of
  modules and plotly.js) or a synced run (a 20,000-step trace of a 2-layer LSTM is 164 MB of float32) would be saved
  with it. anywidget's ``_esm`` is synced state too, so the page cannot travel there either.
- The page's shell (app/standalone.py widget_shell) goes by a custom message the front end asks for, answered
  once per notebook page (the front end keeps it by its id for every other widget): not saved, not sent twice.
- The run goes as the server's stream sends it (app/wire.py): the page's own stream module is answered by the kernel
  (static/core/kernel.js asks through the front end), the header as JSON, the rows as binary buffers of float32 in
  chunks, the first holding the shown step so the diagram is drawn before the rest has come. The page's pickers of
  layer and direction ask again; anything else of the view needs a new gatescope.show, as a saved file does.
- The notebook's limits are its owner's (gatescope.api MAX_STEPS); the server's caps on an answer's size
  (max_json_values) and a run's length do not apply here.

The output also carries the still as text/html beside the widget view: a live front end shows the widget; GitHub,
nbviewer and nbconvert, which run no widget, show the still (and a front end that renders the widget from a saved
notebook's state with no kernel shows the still too).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

import anywidget
import orjson
import traitlets

from gatescope import cells
from gatescope.app import fallback, standalone, wire
from gatescope.app.config import Settings
from gatescope.app.errors import AppError
from gatescope.app.inputs import Parsed
from gatescope.app.run import Made, Plan, Run, clamp_of, shown_of
from gatescope.app.run.cost import Cost
from gatescope.app.schemas import ViewState

CHUNK_BYTES = 4 * 2**20  # rows per custom message: a few megabytes, so the first ones are drawn while the rest come
FIRST_STEPS = 64         # the first message: the shown step and a few more, for the quickest first drawing


_shell_lock = threading.Lock()


def shell() -> tuple[str, str]:
    """The page's shell (app/standalone.py widget_shell), built once per kernel; one build at a time."""
    with _shell_lock:
        return standalone.widget_shell()


def warm() -> None:
    """Build the page's shell while the caller computes the run, in a thread (its gzip and most of the run's matrix
    products leave the interpreter's lock free): the front end asks for it as soon as the output is shown."""
    threading.Thread(target=shell, name="gatescope-shell", daemon=True).start()


class Given(NamedTuple):
    """One sequence as read (gatescope.api): its input as the view state says it, how it was read, its steps."""
    text: str
    input_type: str
    parsed: Parsed


def run_of(model: cells.Model, given: Given, view: ViewState, settings: Settings) -> Run:
    """A view of ``model`` on an input already read, as app.run.of_model makes one for the server but with no cost
    counted: the input was read under the notebook's own limit, on its owner's machine."""
    clamp = clamp_of(view, settings)
    p = Plan(view, {}, model, model.spec, model.options, given.text, given.input_type, given.parsed, clamp, Cost(0, 0, 0))
    layer, names = shown_of(view, model)
    return Run(view, Made(p, model), layer, view.direction, names)


def plain(obj):
    """JSON types only (NumPy arrays and numbers made lists and floats), as the stream's JSON is."""
    return orjson.loads(wire.dumps(obj))


class Refused(Exception):
    """A request the widget does not answer: code for the page (static/core/kernel.js), detail for the person."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


class Viewer(anywidget.AnyWidget):
    """The page's view of a model's run, or of each sequence of a batch (a picker chooses the one shown). Read it
    back with ``.trace`` (the shown sequence's cells.Trace) and ``.state`` (its view state); ``.save(path)`` writes
    the standalone page of the shown sequence."""

    _esm = Path(standalone.static_dir()) / "widget.js"
    _still = traitlets.Unicode().tag(sync=True)                  # the shown sequence's still (app/fallback.py)
    sequences = traitlets.List(traitlets.Unicode()).tag(sync=True)  # the batch's sequences, named; [] for one
    sequence = traitlets.Int(0).tag(sync=True)                   # the one shown
    height = traitlets.Int(760, min=240).tag(sync=True)

    def __init__(self, model: cells.Model, given: list[Given], view: ViewState, *, names: list[str] | None = None,
                 settings: Settings | None = None, height: int = 760, **kwargs):
        if not given:
            raise cells.CellsError("input: an empty batch; give at least one sequence")
        steps = len(given[0].parsed.xs)
        if len(given) == 1 and view.step >= steps:  # a batch's longer sequences may have the step: the others show their last
            raise AppError(422, f"step: {view.step} is past the run's last step, {steps - 1} (the input has {steps} steps)", "step")
        self._model, self._given, self._view, self._settings = model, given, view, settings or Settings()
        self._shown: tuple[int, Run] | None = None
        self._first: dict[str, str] = {}  # per output (the front end's view id): its page's first stream query
        self._streams: dict[tuple, tuple[Run, int, int]] = {}  # (output, stream id) -> its run, its row's width, its next step
        super().__init__(sequences=names or [], height=height, **kwargs)
        self._restill()
        self.on_msg(self._answer)

    @traitlets.validate("sequence")
    def _valid(self, proposal) -> int:
        if not 0 <= proposal["value"] < len(self._given):
            raise traitlets.TraitError(f"sequence: {proposal['value']} is not one of 0..{len(self._given) - 1}")
        return proposal["value"]

    @traitlets.observe("sequence")
    def _restill(self, _change=None) -> None:
        n = len(self._given)
        self._still = fallback.still(self.run, (self.sequence, n) if n > 1 else None)

    @property
    def run(self) -> Run:
        """The shown sequence's run (app/run Run), made when it is first shown; only the shown one is kept."""
        i = self.sequence
        if self._shown is None or self._shown[0] != i:
            self._shown = (i, run_of(self._model, self._given[i], self._view, self._settings))
        return self._shown[1]

    @property
    def trace(self) -> cells.Trace:
        return self.run.trace()

    @property
    def state(self) -> dict:
        """The view state of the shown sequence, defaults filled in (what the page's URL would hold)."""
        return {k: v for k, v in self.run.normalized().items() if k != "format"}

    def _repr_mimebundle_(self, **kwargs):
        """The widget's view, and the still as text/html for whatever runs no widget (GitHub, nbviewer, nbconvert)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        return {**data, "text/html": self._still}, meta

    # -- what the front end asks ------------------------------------------------------------------------------------

    def _answer(self, _widget, content: dict, _buffers) -> None:
        kind, view = content.get("type"), str(content.get("view", ""))
        reply = {"view": view, "id": content.get("id")}
        try:
            if kind == "page":
                self._send_page(view, content.get("have") or [])
            elif kind == "more":
                self._send_rows(reply)
            elif kind == "close":
                self._streams.pop((view, reply["id"]), None)
            elif kind in ("stream", "flow"):
                r = self._asked(view, str(content.get("query", "")))
                (self._send_stream if kind == "stream" else self._send_flow)(reply, r)
        except Refused as e:
            self.send({**reply, "type": "flow" if kind == "flow" else "error", "error": True, "code": e.code, "detail": e.detail})
        except Exception as e:  # noqa: BLE001 - the page says why rather than wait for an answer that never comes
            detail = e.detail if isinstance(e, AppError) else str(e) if isinstance(e, cells.CellsError) else f"{type(e).__name__}: {e}"
            self.send({**reply, "type": "flow" if kind == "flow" else "error", "error": True, "detail": detail})
            if not isinstance(e, (AppError, cells.CellsError)):
                raise

    def _send_page(self, view: str, have: list) -> None:
        """The page's shell (unless this notebook page has it already, by its id) and its config for the run's view."""
        self._first.pop(view, None)  # a new page: its first stream names the run again, and the old page's streams end
        self._streams = {k: v for k, v in self._streams.items() if k[0] != view}
        shell_id, html = shell()
        config = plain(standalone.config_for(self.state, self._settings))
        self.send({"type": "page", "view": view, "shell": shell_id, "config": config},
                  buffers=[] if shell_id in have else [html.encode()])

    def _asked(self, view: str, query: str) -> Run:
        """The run a stream's query asks for: the shown sequence at the query's layer and direction. Like a saved
        file's (static/core/offline.js), its page holds one run: any other change of the view is refused."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        layer, direction = params.pop("layer", ""), params.pop("direction", "")
        rest = urlencode(sorted(params.items()))
        if self._first.setdefault(view, rest) != rest:
            raise Refused("one_run", "this widget holds one run (every layer and direction of it); run gatescope.show again "
                                     "for another model, input or option")
        r = self.run
        m = r.model
        try:
            k = int(layer) if layer else r.layer
            d = int(direction) if direction else r.direction
        except ValueError:
            raise AppError(422, f"layer, direction: {layer!r}, {direction!r} are not whole numbers") from None
        k = k + m.num_layers if k < 0 else k
        if not (0 <= k < m.num_layers and 0 <= d < m.directions):
            raise AppError(422, f"layer {k}, direction {d}: this model has {m.num_layers} layer(s) and {m.directions} direction(s)")
        return r if (k, d) == (r.layer, r.direction) else r.at(k, d)

    def _send_stream(self, reply: dict, r: Run) -> None:
        """A stream's header, then its first rows (the shown step among them): the rest go a chunk at a time, each when
        the page has taken the one before (it asks for "more"), so the first drawing never waits behind the others."""
        header = plain(wire.header(r, "binary"))
        self.send({**reply, "type": "header", "header": header})
        self._streams[(reply["view"], reply["id"])] = (r, header["stride"], 0)
        self._send_rows(reply, first=max(FIRST_STEPS, r.view.step + 1))

    def _send_rows(self, reply: dict, first: int | None = None) -> None:
        """The stream's next chunk of rows as a float32 buffer, or its summary once every step is sent."""
        key = (reply["view"], reply["id"])
        if key not in self._streams:
            return  # closed, or its page replaced
        r, stride, t0 = self._streams[key]
        steps = len(r.parsed.xs)
        if t0 >= steps:
            del self._streams[key]
            self.send({**reply, "type": "summary", "summary": {"type": "summary", "steps": steps, "bytes_per_snapshot": stride * 4}})
            return
        t1 = min(steps, t0 + min(first or steps, max(1, CHUNK_BYTES // (4 * stride))))
        rows = standalone.rows_of(r, t0, t1)
        self._streams[key] = (r, stride, t1)
        self.send({**reply, "type": "rows", "t0": t0, "count": t1 - t0}, buffers=[memoryview(rows).cast("B")])

    def _send_flow(self, reply: dict, r: Run) -> None:
        """The gradient flow the page's panel asks for, or why there is none (the API's reasons, its limit included)."""
        got = standalone.flow_of(r, self._settings)
        if got["flow"] is None:
            self.send({**reply, "type": "flow", "error": True, "detail": got["flow_error"]})
        else:
            self.send({**reply, "type": "flow", "flow": plain(got["flow"]), "model": plain(wire.model_info(r))})

    def save(self, path: str | Path) -> Path:
        """The shown sequence's view as a standalone .html file (it plays in any browser, offline)."""
        path = Path(path)
        path.write_text(standalone.page(standalone.payload_of(self.run, self._settings), self._settings), encoding="utf-8")
        return path


def view_state(fields: dict | ViewState) -> ViewState:
    """The view state of ``fields`` (step=3, phases=True, ...), validated as the API validates them (a bad one: a 422
    AppError naming the field, the value and the rule)."""
    if isinstance(fields, ViewState):
        return fields
    try:
        return ViewState.model_validate(fields or {})
    except Exception as e:  # pydantic's ValidationError: the field, the value and the rule, as the API's 422 says
        raise AppError(422, str(e)) from None


__all__ = ["Given", "Viewer", "run_of", "view_state", "CHUNK_BYTES"]
