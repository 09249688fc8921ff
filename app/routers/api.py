"""The JSON API: kinds, traces (JSON, npz, CSV), presets, model uploads, health."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse
from pydantic import ConfigDict, Field, ValidationError, create_model
from starlette.requests import ClientDisconnect

from gatescope import cells

from .. import __version__, run, uploads, wire
from .. import store as store_mod
from ..deps import PoolDep, SettingsDep, StoreDep
from ..errors import AppError, over_limit
from ..origin import ORIGIN_ERRORS, SameOrigin
from ..responses import GradientResponse, Health, KindInfo, ModelInfo, PresetInfo, TaskInfo, TraceResponse
from ..schemas import KIND_OPTION_NAMES, KindName, ViewBody, ViewState, view_fields
from ..training_schemas import TrainingReplay, replay_body

router = APIRouter(prefix="/api", tags=["api"])
ERRORS = {400: {"description": "The request cannot be read (e.g. a URL longer than the server reads)"},
          413: {"description": "Over a limit"}, 422: {"description": "Invalid parameters"}, 404: {"description": "Unknown model or preset"}}

KindOptions = create_model(
    "KindOptions", __config__=ConfigDict(extra="forbid"),
    **{name: (ViewState.model_fields[name].annotation, ViewState.model_fields[name]) for name in KIND_OPTION_NAMES},  # bounds and all
)


@router.get("/kinds", response_model=list[KindInfo], summary="Every cell kind: vocabulary, equations, options, diagram")
def kinds() -> list[dict]:
    return [wire.kind_info(k) for k in cells.KINDS]


@router.get("/kinds/{name}", response_model=KindInfo, responses=ERRORS, summary="One kind under given options")
def kind(name: KindName, options: Annotated[KindOptions, Query()], settings: SettingsDep) -> dict:
    if (options.proj_size or 0) > settings.max_proj_size:  # the schema states this maximum (app/docs.py)
        raise over_limit("proj_size", options.proj_size, settings.max_proj_size, "max_proj_size", 422)
    return wire.kind_info(name, options.model_dump(exclude_none=True))


@router.get("/view", summary="The view state's fields: names, types, defaults (what static/core/state.js reads)")
def view() -> list[dict]:
    return view_fields()


def _compute(view: ViewState, settings, store):
    body, media, filename = wire.trace_answer(run.resolve(view, settings, store), view.format, settings)
    if filename is None:
        return Response(body, media_type=media)
    return StreamingResponse(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


TRACE_RESPONSES = {200: {"model": TraceResponse, "content": {"application/zip": {}, "text/csv": {}}}, **ERRORS}
BODY_ERRORS = {400: {"description": "The body cannot be read (not UTF-8 JSON)"}}


@router.get("/trace", response_model=TraceResponse, responses=TRACE_RESPONSES, summary="The whole trace of a view (a permalink)")
async def trace_get(view: Annotated[ViewState, Query()], settings: SettingsDep, store: StoreDep, pool: PoolDep):
    return await pool.run(_compute, view, settings, store)


@router.post("/trace", response_model=TraceResponse, responses={**TRACE_RESPONSES, **BODY_ERRORS, **ORIGIN_ERRORS}, dependencies=[SameOrigin],
             summary="The whole trace, parameters in the body")
async def trace_post(view: Annotated[ViewBody, Body()], settings: SettingsDep, store: StoreDep, pool: PoolDep):
    return await pool.run(_compute, view, settings, store)


def _gradients(view: ViewState, settings, store) -> bytes:
    r = run.resolve(view, settings, store)
    flow = run.gradient_flow(r, settings)
    body = {"request": r.normalized(), "model": wire.model_info(r), "tokens": r.parsed.tokens, "steps": len(r.parsed.xs),
            "flow": {k: wire.rounded(v, view.digits) for k, v in flow.items()}}
    return Response(wire.dumps(body), media_type="application/json")


@router.get("/gradients", response_model=GradientResponse, responses=ERRORS,
            summary="How far back the last hidden state reaches: norms of dh(T)/dh(t), dh(T)/dc(t), dh(T)/dx(t)")
async def gradients(view: Annotated[ViewState, Query()], settings: SettingsDep, store: StoreDep, pool: PoolDep):
    return await pool.run(_gradients, view, settings, store)


@router.get("/tasks", response_model=list[TaskInfo], summary="The toy tasks the presets learned and the page can train on")
def tasks() -> list[dict]:
    from gatescope.cells.training import tasks as task_registry
    return [t.describe() for t in task_registry.TASKS.values()]


@router.get("/presets", response_model=list[PresetInfo], summary="Trained models shipped with gatescope")
def presets() -> list[dict]:
    return store_mod.list_presets()


class UploadParams(KindOptions):
    kind: KindName | None = Field(None, description="Cell kind; not needed for a gatescope bundle.")
    layout: Literal[cells.LAYOUTS] | None = Field(None, description="How plain weights are named: torch, keras, tf1 or onnx (default: what the names say, else torch).")  # type: ignore[valid-type]
    prefix: str | None = Field(None, max_length=200,
            description="Which recurrent weights to read when the file holds several, e.g. encoder.lstm. or sequential/lstm/lstm_cell/.")
    # PyTorch's constructor arguments: optional, and checked against the weights (422 naming both when they disagree)
    num_layers: int | None = Field(None, ge=1, le=1_000, description="Stacked layers the weights must hold.")
    bidirectional: bool | None = Field(None, description="Whether the weights must hold a reverse direction.")
    hidden_size: int | None = Field(None, ge=1, le=1_000_000, description="Hidden size the weights must have.")
    input_size: int | None = Field(None, ge=1, le=1_000_000, description="Input size the first layer's weights must have.")
    proj_size: int | None = Field(None, ge=0, le=1_000_000, description="LSTM projection size the weights must have (0: none).")
    bias: bool | None = Field(None, description="Whether the weights must hold biases (false: nn.LSTM(bias=False); zeros are used).")


@router.post("/models", response_model=ModelInfo, status_code=201, dependencies=[SameOrigin],
             responses={**ERRORS, **ORIGIN_ERRORS, 415: {"description": "Not a weights file"}},
             summary="Upload a bundle or weights file (.safetensors, .npz, .keras, .weights.h5, .onnx; never unpickled)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                 "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                     "file": {"type": "string", "format": "binary"}}}}}}})
async def upload(request: Request, params: Annotated[UploadParams, Query()], settings: SettingsDep, store: StoreDep, pool: PoolDep):
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise over_limit("file", f"{int(declared)} bytes", limit, "max_upload_bytes")
    incoming = Path(settings.upload_dir) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=incoming, suffix=".upload")
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                body = await uploads.receive(request, f, limit, settings.upload_idle_seconds)
            except ClientDisconnect:  # the client left mid-upload: nobody to answer, nothing to log
                return Response(status_code=400)
        if os.path.getsize(tmp) == 0:
            raise AppError(422, f"file: the {'form' + chr(39) + 's file' if body.form else 'request body'} is empty; send the "
                                "file's bytes (curl --data-binary @model.safetensors, or curl -F file=@model.safetensors)", "file")
        params = _with_fields(params, body.fields)
        options = params.model_dump(exclude_none=True, exclude={"kind", "layout"})
        model_id, model = await pool.run(store.add_file, Path(tmp), params.kind, params.layout, options)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return {**model.describe(), "id": model_id}


def _with_fields(params: UploadParams, fields: dict[str, str]) -> UploadParams:
    """The query's parameters and a form's text fields, as one; a field the query also gives must say the same."""
    if not fields:
        return params
    unknown = sorted(set(fields) - set(UploadParams.model_fields))
    if unknown:
        raise AppError(422, f"{unknown[0][:60]}: not a parameter of an upload; the form's fields are the file and any of "
                            f"{', '.join(UploadParams.model_fields)}", unknown[0][:60])
    query = params.model_dump(exclude_none=True)
    clash = next((k for k in fields if k in query and str(query[k]).lower() != fields[k].lower()), None)
    if clash:
        raise AppError(422, f"{clash}: {fields[clash][:60]!r} in the form but {query[clash]!r} in the query; give it once", clash)
    try:
        return UploadParams.model_validate({**query, **fields})
    except ValidationError as e:
        raise RequestValidationError(e.errors()) from None


@router.get("/models/{model_id}", response_model=ModelInfo, responses=ERRORS, summary="What an uploaded or trained model is")
async def model_info(model_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{16,64}$")], store: StoreDep, pool: PoolDep) -> dict:
    model = await pool.run(store.get, model_id)  # a cache miss decodes the file: heavy work, in the pool
    return {**model.describe(), "id": model_id}


def _training(store, model_id: str) -> Response:  # the training's snapshots, stored with a model trained in the page
    return Response(replay_body(model_id, store.training(model_id)), media_type="application/json")


@router.get("/models/{model_id}/training", response_model=TrainingReplay, responses=ERRORS,
            summary="Replay a page-trained model's training: the probe's gates at each snapshot, with loss and accuracy")
async def model_training(model_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{16,64}$")], store: StoreDep, pool: PoolDep):
    return await pool.run(_training, store, model_id)


def _standalone(view: ViewState, settings, store) -> Response:  # the standalone page (app/standalone.py)
    from ..standalone import page, payload_of
    r = run.resolve(view, settings, store)
    return Response(page(payload_of(r, settings), settings), media_type="text/html",
                    headers={"Content-Disposition": 'attachment; filename="gatescope.html"'})


@router.get("/export/html", responses={200: {"content": {"text/html": {}}}, **ERRORS},
            summary="The view as one .html file that plays offline with no server (about 2 MB: it holds plotly.js)")
async def export_html(view: Annotated[ViewState, Query()], settings: SettingsDep, store: StoreDep, pool: PoolDep):  # standalone
    return await pool.run(_standalone, view, settings, store)


health = APIRouter(tags=["health"])


@health.get("/healthz", response_model=Health, summary="Liveness: the engine loads and runs")
def healthz() -> dict:
    cells.build(cells.KINDS[0], 1, 2).run([[0.0]])
    return {"status": "ok", "version": __version__, "kinds": len(cells.KINDS), "presets": len(store_mod.list_presets())}
