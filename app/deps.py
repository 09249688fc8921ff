"""Request-scoped dependencies: the settings, the model store and the work pool the factory put on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from .config import Settings
from .pool import Pool
from .store import ModelStore


def _settings(request: Request = None, websocket: WebSocket = None) -> Settings:  # type: ignore[assignment]
    return (request or websocket).app.state.settings


def _store(request: Request = None, websocket: WebSocket = None) -> ModelStore:  # type: ignore[assignment]
    return (request or websocket).app.state.store


def _pool(request: Request = None, websocket: WebSocket = None) -> Pool:  # type: ignore[assignment]
    return (request or websocket).app.state.pool


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ModelStore, Depends(_store)]
PoolDep = Annotated[Pool, Depends(_pool)]
