"""Request-scoped dependencies: everything the factory put on app.state, read through one door.

Handlers never reach into ``request.app.state``; they name what they need (``settings: SettingsDep``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket
from starlette.requests import HTTPConnection

from .config import Settings
from .pool import Pool
from .store import ModelStore


def app_state(connection: HTTPConnection, name: str):
    """What the factory put on app.state: the one place that reads it (pages answering a refused link use it
    directly, having no dependencies solved at that point)."""
    return getattr(connection.app.state, name)


def state(name: str):
    """A dependency that reads ``app.state.<name>`` (a router declares its own for what only it keeps there)."""
    def read(request: Request = None, websocket: WebSocket = None):  # type: ignore[assignment]
        return app_state(request or websocket, name)
    read.__name__ = f"app_state_{name}"
    return Depends(read)


SettingsDep = Annotated[Settings, state("settings")]
StoreDep = Annotated[ModelStore, state("store")]
PoolDep = Annotated[Pool, state("pool")]
