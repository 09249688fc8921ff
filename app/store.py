"""Where models come from: random weights, shipped presets, and uploaded or trained models.

Uploaded and trained models are written to ``settings.upload_dir`` as
gatescope bundles named by the SHA-256 of their bytes, so every worker
process (and every replica that shares the folder) can serve any model id;
nothing about a model lives only in one process's memory. The in-memory
caches below are only caches. A model trained in the page has its training's
snapshots beside it, ``<id>.training.npz`` (float16 arrays and a JSON member,
read without pickle), counted in the store's caps and evicted with it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict
from functools import lru_cache, partial
from pathlib import Path
from threading import Lock

import numpy as np

from gatescope import cells
from gatescope.cells.io import content_digest

from .config import Settings
from .errors import AppError, over_limit

ID_LEN = 32
TRAINING = ".training.npz"  # the suffix of a trained model's snapshots, beside its bundle


class ModelStore:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = Path(settings.upload_dir)
        self._cache = ByteLRU(settings.model_cache_bytes)  # uploaded and random models, decoded
        self._lock = Lock()  # one writer at a time evicts from the folder

    # -- uploads and trained models -------------------------------------------
    def add_file(self, path: Path, kind: str | None, layout: str | None, options: dict) -> tuple[str, cells.Model]:
        """Read a weights file or bundle, check it against the limits before it is decoded, and store it as a canonical bundle.

        ``options`` are the kind's options, PyTorch's restated structure keywords and ``prefix`` (see cells.load).
        """
        s = self.settings
        limits = cells.Limits(max_layers=s.max_layers, max_hidden=s.max_hidden, max_proj_size=s.max_proj_size,
                              max_bytes=s.max_model_bytes, max_vocab=s.max_vocab, max_card_bytes=s.max_card_bytes,
                              max_tensors=s.max_tensors, max_token_chars=s.max_token_chars)
        try:
            model = cells.load(path, kind=kind, layout=layout, limits=limits, **options)
        except cells.LimitError as e:
            setting = "max_model_bytes" if e.keyword == "max_bytes" else e.keyword
            name = "file" if e.name == path.name else e.name
            raise over_limit(name, e.value, e.limit, setting) from None
        except cells.CellsError as e:
            raise AppError(422, str(e).replace(str(path), "the file").replace(path.name, "the file"), "file", **_choices(e)) from None
        return self.add_model(model), model

    def add_model(self, model: cells.Model, training: dict | None = None) -> str:
        """Store ``model`` as a bundle named by the digest of its content; the same model always gets the same id.

        ``training`` ({"meta": JSON-able dict, "arrays": {name: array}}, from app/train_worker.py) is kept beside it.
        """
        self.check_size(model)
        self.dir.mkdir(parents=True, exist_ok=True)
        digest = content_digest(model)[:ID_LEN]
        target = self.dir / f"{digest}.safetensors"
        parts = [] if target.exists() else [(model.save, target)]
        if training is not None:
            parts.append((partial(_save_training, training), self.dir / f"{digest}{TRAINING}"))
        if target.exists():
            _touch(target)
        if parts:
            self._write(parts)
        self._cache.put(digest, model, model_bytes(model))
        return digest

    def _write(self, parts: list) -> None:
        """Write each (save, target) to a temp file, then, once room is made for all of them, move them in place."""
        tmps = []
        try:
            for save, _ in parts:
                fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".part")
                os.close(fd)
                tmps.append(tmp)
                save(tmp)
            size = sum(os.path.getsize(t) for t in tmps)
            if size > self.settings.max_store_bytes:
                raise over_limit("file", f"a model of {size} bytes once stored", self.settings.max_store_bytes, "max_store_bytes", 507)
            with self._lock:
                self._make_room(size)
                for tmp, (_, target) in zip(tmps, parts):
                    os.chmod(tmp, 0o644)  # safetensors writes 0600; other workers (another user) must read it
                    os.replace(tmp, target)  # atomic: readers see the whole file or none
        finally:
            for tmp in tmps:
                if os.path.exists(tmp):
                    os.remove(tmp)

    def training(self, model_id: str) -> dict:
        """The snapshots kept with a model trained in the page: {"meta": ..., "arrays": {name: float16 (S, T, width)}}."""
        path = self.dir / f"{model_id}{TRAINING}"
        if not (self.dir / f"{model_id}.safetensors").is_file():
            self.get(model_id)  # the 404 that names the id
        if not path.is_file():
            raise AppError(404, f"model: the model {model_id!r} has no training to replay: it was uploaded, not trained in the page "
                                "(or trained before snapshots were kept)", "model")
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            arrays = {n: z[f"values.{n}"] for n in meta["names"]}
        _touch(self.dir / f"{model_id}.safetensors")
        return {"meta": meta, "arrays": arrays}

    def _make_room(self, size: int) -> None:
        """Evict the least recently used models until one more of ``size`` bytes fits both caps.

        Recency is the file's mtime, which every read refreshes (``_touch``), so every process
        sharing the folder evicts by the same order; a model evicted by one is a 404 for all.
        """
        s = self.settings
        files = []
        for f in self.dir.glob("*.safetensors"):
            try:
                st = f.stat()
            except FileNotFoundError:  # another process evicted it just now
                continue
            extra = f.with_name(f.stem + TRAINING)
            files.append((st.st_mtime, st.st_size + (extra.stat().st_size if extra.exists() else 0), f))
        files.sort()
        total = sum(size for _, size, _ in files)
        while files and (total + size > s.max_store_bytes or len(files) + 1 > s.max_store_models):
            _, old_size, old = files.pop(0)
            old.unlink(missing_ok=True)
            old.with_name(old.stem + TRAINING).unlink(missing_ok=True)
            self._cache.pop(old.stem)
            total -= old_size

    def get(self, model_id: str) -> cells.Model:
        model = self._cache.get(model_id)
        path = self.dir / f"{model_id}.safetensors"
        if model is not None:
            _touch(path)
            return model
        if not path.is_file():
            raise AppError(404, f"model: no model with id {model_id!r}; upload one with POST /api/models "
                                "(the least recently used are removed when the store is full)", "model")
        try:
            model = cells.load(path)
        except cells.CellsError as e:
            raise AppError(422, f"model: the stored model {model_id} cannot be read ({str(e).replace(str(path), 'the file')})", "model") from None
        _touch(path)
        self._cache.put(model_id, model, model_bytes(model))
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
        """A model with random weights (sizes already checked by the caller), cached by its recipe."""
        key = ("random", kind, input_size, hidden, layers, bidirectional, seed, tuple(sorted(options.items())))
        model = self._cache.get(key)
        if model is None:
            try:
                model = cells.build(kind, input_size, hidden, num_layers=layers, bidirectional=bidirectional, seed=seed, **options)
            except cells.CellsError as e:
                raise AppError(422, str(e)) from None
            self._cache.put(key, model, model_bytes(model))
        return model


def _choices(e: cells.CellsError) -> dict:
    """What the page's upload form offers when the file cannot say: its recurrent groups with the kinds each can be
    (code pick_group), or the kinds its weights fit (code pick_kind), or the layouts (code pick_layout)."""
    if isinstance(e, cells.AmbiguousWeightsError) and e.kinds:
        return {"code": "pick_group", "data": {"groups": [{"prefix": g, "kinds": e.kinds.get(g, [])} for g in e.groups[:50]]}}
    if isinstance(e, cells.KindNeededError):
        return {"code": "pick_kind", "data": {"kinds": e.kinds, "layouts": list(cells.LAYOUTS)}}
    return {}


def _save_training(training: dict, path: str) -> None:
    """A run's snapshots as one .npz: its arrays as "values.<name>", its JSON as the bytes of "meta"."""
    meta = np.frombuffer(json.dumps(training["meta"]).encode(), dtype=np.uint8)
    with open(path, "wb") as f:  # a file object: np.savez would add ".npz" to a name without it
        np.savez(f, meta=meta, **{f"values.{n}": a for n, a in training["arrays"].items()})


def model_bytes(model: cells.Model) -> int:
    """What a decoded model holds in memory: its arrays, and about as much again for the compiled per-layer plans."""
    arrays = list(model.params.values())
    arrays += [a for a in (model.embedding, *(model.decoder or ())) if a is not None]
    return 2 * sum(a.nbytes for a in arrays) + 4096


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:  # evicted meanwhile, or a read-only store: recency is only a hint
        pass


class ByteLRU:
    """A least-recently-used cache bounded by the bytes of what it holds, not by a count."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes = max_bytes, 0
        self._items: OrderedDict = OrderedDict()
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key, value, size: int) -> None:
        with self._lock:
            if key in self._items:
                self.bytes -= self._items.pop(key)[1]
            if size > self.max_bytes:  # bigger than the whole cache: serve it, keep nothing
                return
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, old) = self._items.popitem(last=False)
                self.bytes -= old

    def pop(self, key) -> None:
        with self._lock:
            if key in self._items:
                self.bytes -= self._items.pop(key)[1]

    def __len__(self) -> int:
        return len(self._items)


# -- presets ---------------------------------------------------------------------

def list_presets() -> list[dict]:
    from gatescope.cells import presets
    return presets.list_presets()


@lru_cache(maxsize=32)
def preset(name: str) -> cells.Model:
    from gatescope.cells import presets
    try:
        return presets.load_preset(name)
    except cells.CellsError as e:
        raise AppError(404, f"preset: {e}", "preset") from None
