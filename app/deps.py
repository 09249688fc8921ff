"""Request-scoped dependencies: the settings and the model store the factory put on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from .config import Settings
from .store import ModelStore


def _settings(request: Request = None, websocket: WebSocket = None) -> Settings:  # type: ignore[assignment]
    return (request or websocket).app.state.settings


def _store(request: Request = None, websocket: WebSocket = None) -> ModelStore:  # type: ignore[assignment]
    return (request or websocket).app.state.store


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ModelStore, Depends(_store)]
