"""Settings, read from GATESCOPE_* environment variables (README: "Settings").

Every limit a request can hit lives here, so an operator can raise or lower
it without touching code; the error a user sees names the same setting.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gatescope.cells.training import LIMITS as TRAINING_LIMITS

from .errors import ENV_PREFIX


def _default_upload_dir() -> Path:
    return Path.home() / ".cache" / "gatescope" / "models"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    max_steps: int = Field(5_000, ge=1, description="Longest sequence a request may run, in timesteps.")
    max_hidden: int = Field(1_024, ge=1, description="Largest hidden size of a model built or uploaded.")
    max_layers: int = Field(4, ge=1, description="Most stacked layers of a model built or uploaded.")
    max_work: int = Field(10_000_000_000, ge=1,
            description="Most multiply-adds one request may compute: steps x layers x directions x (gate blocks x hidden x (hidden + input "
                        "width) + 50,000 a step's fixed cost), plus 500,000 a held step of a clamp, twice when the unclamped run is compared.")
    max_trace_bytes: int = Field(160 * 1024 * 1024, ge=1,
            description="Largest trace (every name of every step, layer and direction) one request may hold in memory, in bytes.")
    max_json_values: int = Field(2_000_000, ge=1,
            description="Most numbers one JSON or CSV trace response may hold (npz and streams are not capped by this).")
    max_gradient_work: int = Field(5_000_000, ge=1,
            description="Most steps x hidden units x output units x layers one gradient-flow request may compute (about 60 bytes of memory each).")
    max_input_chars: int = Field(200_000, ge=1, description="Longest input string (text, numbers or signal spec).")
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Largest model file POST /api/models accepts.")
    max_streams_per_client: int = Field(8, ge=1, description="Concurrent streams (WebSocket or SSE) one client address may hold.")
    max_training_jobs: int = Field(2, ge=0,
            description="Training jobs running at once on this server (each in its own process, on one core); 0 turns training off.")
    # held to the trainer's own bounds (cells.training.LIMITS): a setting cannot promise what the trainer refuses
    max_train_steps: int = Field(5_000, ge=1, le=TRAINING_LIMITS["steps"][1], description="Most optimizer steps one training job may take.")
    max_train_hidden: int = Field(64, ge=1, le=TRAINING_LIMITS["hidden_size"][1], description="Largest hidden size one may train in the page.")
    max_train_seconds: float = Field(120.0, gt=0, description="Longest a training job may run, in seconds.")
    upload_dir: Path = Field(default_factory=_default_upload_dir,
            description="Where uploaded models are stored, content-addressed; share it between workers.")
    embed_origins: str = Field("*",
            description="Origins allowed to frame the pages (CSP frame-ancestors), space-separated; '*' for any, 'self' for none but this app.")
    default_preset: str = Field("adding-lstm", description="The preset the page opens on when the URL names no model.")

    # -- lessons (app/lesson_book.py) ------------------------------------------------------------------
    lesson_dir: Path | None = Field(None, description="A folder of a lecturer's own lessons (NAME.json, one lesson each), "
            "read as they are asked for, beside the built-in ones; a file with the name of a built-in one replaces it.")
    max_lesson_bytes: int = Field(256 * 1024, ge=1, description="Largest lesson file (JSON) a folder may hold or POST /api/lessons accepts.")
    max_uploaded_lessons: int = Field(200, ge=0,
            description="Most uploaded lessons one process keeps (in memory; the least recently used go first); 0 turns upload off.")

    # -- what one request may size, before any work --------------------------------
    max_input_width: int = Field(256, ge=1, description="Most values per timestep of a numeric input.")
    max_export_frames: int = Field(3_000, ge=1, description="Most frames the page draws into one animated GIF or video (Export).")
    max_export_pixels: int = Field(1920 * 1080, ge=1, description="Largest frame of an animated GIF or video the page exports, in pixels.")
    max_proj_size: int = Field(1_024, ge=0, description="Largest proj_size of an LSTM built or uploaded (it must also be below hidden).")
    max_model_bytes: int = Field(64 * 1024 * 1024, ge=1,
            description="Largest model once decoded to float32/float64 arrays (weights, embedding, decoder), in bytes.")
    max_vocab: int = Field(200_000, ge=1, description="Most tokens in an uploaded model's vocabulary, and most labels naming its outputs.")
    # a token is a character, a word or a subword piece: SentencePiece's are at most 16 characters, the longest English
    # words about 45, byte-level BPE's longest pieces (runs of one character) 64 or so; a label names one output
    max_token_chars: int = Field(128, ge=1,
            description="Longest token of an uploaded model's vocabulary, or label of its outputs, in characters.")
    max_card_bytes: int = Field(64 * 1024, ge=1, description="Largest model card (JSON) an uploaded bundle may carry, in bytes.")
    max_tensors: int = Field(4096, ge=1, description="Most tensors (safetensors entries or npz members) an uploaded file may hold.")

    # -- what the server holds in total -----------------------------------------------
    max_store_bytes: int = Field(2 * 1024**3, ge=1,
            description="Most bytes of uploaded and trained models kept in upload_dir; the least recently used are evicted past it.")
    max_store_models: int = Field(1_000, ge=1,
            description="Most uploaded and trained models kept in upload_dir; the least recently used are evicted past it.")
    model_cache_bytes: int = Field(512 * 1024 * 1024, ge=1,
            description="Most bytes of decoded models (random, preset and uploaded) one process keeps in memory.")

    # -- time and concurrency -------------------------------------------------------------
    heavy_workers: int = Field(2, ge=1, description="Requests that compute (traces, gradients, uploads) running at once; others queue.")
    queue_seconds: float = Field(10.0, gt=0,
            description="Longest a request waits for a free worker before it is answered 503 with Retry-After.")
    upload_idle_seconds: float = Field(30.0, gt=0,
            description="An upload that sends nothing for this long, or takes ten times this in all, is answered 408 and its temp file removed.")

    header_timeout_seconds: float = Field(10.0, gt=0,
            description="Longest a request's line and headers may take to arrive (from the connection's opening, or a kept-alive "
                        "connection's next request's first byte); past it the connection is answered 408 and closed.")

    # -- who may ask -----------------------------------------------------------------------------
    allowed_origins: str = Field("",
            description="Origins besides the app's own that may open WebSockets and POST (space-separated, e.g. https://slides.example).")
    allowed_hosts: str = Field("*",
            description="Host names the server answers to (space-separated; '*' for any). gatescope serve on a loopback address "
                        "(any of 127.0.0.0/8, ::1, localhost) sets 'localhost ADDRESS 127.0.0.1 [::1]' when this is not set, "
                        "so a page on a rebound DNS name cannot reach it.")
    trusted_proxies: str = Field("",
            description="Addresses of reverse proxies whose X-Forwarded-For is believed (space-separated); none by default.")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        """uvicorn reads a malformed entry as "trust nobody", which would put every client behind the proxy under one limit."""
        for entry in value.split():
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=True)
            except ValueError as e:
                raise ValueError(f"trusted_proxies: {entry!r} is not an address or network ({e}); "
                                 "write e.g. 127.0.0.1 10.0.0.0/8 or *") from None
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins_are_origins(cls, value: str) -> str:
        for entry in value.split():
            scheme, sep, rest = entry.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
                raise ValueError(f"allowed_origins: {entry!r} is not an origin; write scheme://host[:port], e.g. https://slides.example")
        return value
