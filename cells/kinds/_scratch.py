"""Reusable scratch buffers for the time loops.

A NumPy call on a vector of a few hundred floats costs ~0.3 us, most of it
fixed overhead, and so does slicing a view. The hot loops therefore work on
small row-major scratch arrays whose per-step views are built once and kept
per thread, and copy each finished chunk of steps into the trace's
name-major arrays with one bulk copy. A scratch in use (say by a suspended
generator) is never handed out twice: the pool then builds a fresh one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

CHUNK = 128  # steps per chunk: large enough to amortize the bulk copies, small enough to stay in cache
BLOCK = 1024  # steps per input-projection GEMM: one GEMM for sequences up to this long, bounded memory beyond
_PER_THREAD = 8  # scratch sets kept per thread (one per hidden size / dtype in use)


class ScratchPool:
    def __init__(self, build: Callable[..., Any]):
        self._build = build
        self._local = threading.local()

    @contextmanager
    def borrow(self, *key: Hashable) -> Iterator[Any]:
        cache: OrderedDict = self._local.__dict__.setdefault("cache", OrderedDict())
        entry = cache.get(key)
        if entry is None or entry[0]:
            entry = [False, self._build(*key)]
            if key not in cache:
                cache[key] = entry
                while len(cache) > _PER_THREAD:
                    oldest = next(iter(cache))
                    if cache[oldest][0]:
                        break
                    del cache[oldest]
        else:
            cache.move_to_end(key)
        entry[0] = True
        try:
            yield entry[1]
        finally:
            entry[0] = False
