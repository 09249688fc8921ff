"""Where models come from: random weights, shipped presets, and uploaded or trained models.

Uploaded and trained models are written to ``settings.upload_dir`` as
gatescope bundles named by the SHA-256 of their bytes, so every worker
process (and every replica that shares the folder) can serve any model id;
nothing about a model lives only in one process's memory. The in-memory
caches below are only caches.
"""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from threading import Lock

import cells
from cells.io import content_digest

from .config import Settings
from .errors import AppError, over_limit

ID_LEN = 32


class ModelStore:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = Path(settings.upload_dir)
        self._cache: OrderedDict[str, cells.Model] = OrderedDict()
        self._lock = Lock()

    # -- uploads and trained models -------------------------------------------
    def add_file(self, path: Path, kind: str | None, layout: str | None, options: dict) -> tuple[str, cells.Model]:
        """Read a weights file or bundle, check it, and store it as a canonical bundle."""
        try:
            model = cells.load(path, kind=kind, layout=layout, max_bytes=self.settings.max_upload_bytes * 4, **options)
        except cells.CellsError as e:
            raise AppError(422, str(e).replace(str(path), "the file"), "file") from None
        return self.add_model(model), model

    def add_model(self, model: cells.Model) -> str:
        """Store ``model`` as a bundle named by the digest of its content; the same model always gets the same id."""
        self.check_size(model)
        self.dir.mkdir(parents=True, exist_ok=True)
        digest = content_digest(model)[:ID_LEN]
        target = self.dir / f"{digest}.safetensors"
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".part")
            os.close(fd)
            try:
                model.save(tmp)
                os.chmod(tmp, 0o644)  # safetensors writes 0600; other workers (another user) must read it
                os.replace(tmp, target)  # atomic: readers see the whole file or none
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        with self._lock:
            self._cache[digest] = model
        return digest

    def get(self, model_id: str) -> cells.Model:
        with self._lock:
            if model_id in self._cache:
                self._cache.move_to_end(model_id)
                return self._cache[model_id]
        path = self.dir / f"{model_id}.safetensors"
        if not path.is_file():
            raise AppError(404, f"model: no model with id {model_id!r}; upload one with POST /api/models", "model")
        model = cells.load(path)
        with self._lock:
            self._cache[model_id] = model
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return model

    def check_size(self, model: cells.Model) -> None:
        s = self.settings
        if model.hidden_size > s.max_hidden:
            raise over_limit("hidden_size", model.hidden_size, s.max_hidden, "max_hidden")
        if model.num_layers > s.max_layers:
            raise over_limit("num_layers", model.num_layers, s.max_layers, "max_layers")

    # -- random models ---------------------------------------------------------
    def random(self, kind: str, input_size: int, hidden: int, layers: int, bidirectional: bool, seed: int,
               options: dict) -> cells.Model:
        s = self.settings
        if hidden > s.max_hidden:
            raise over_limit("hidden", hidden, s.max_hidden, "max_hidden")
        if layers > s.max_layers:
            raise over_limit("layers", layers, s.max_layers, "max_layers")
        try:
            return _random(kind, input_size, hidden, layers, bidirectional, seed, tuple(sorted(options.items())))
        except cells.CellsError as e:
            raise AppError(422, str(e)) from None


@lru_cache(maxsize=64)
def _random(kind, input_size, hidden, layers, bidirectional, seed, options):
    return cells.build(kind, input_size, hidden, num_layers=layers, bidirectional=bidirectional, seed=seed, **dict(options))


# -- presets ---------------------------------------------------------------------

def list_presets() -> list[dict]:
    from cells import presets
    return presets.list_presets()


@lru_cache(maxsize=32)
def preset(name: str) -> cells.Model:
    from cells import presets
    try:
        return presets.load_preset(name)
    except cells.CellsError as e:
        raise AppError(404, f"preset: {e}", "preset") from None
