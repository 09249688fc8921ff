"""A bounded pool for the work that costs: at most ``heavy_workers`` computations run at once.

A trace, a gradient flow or an upload can take seconds of CPU. Run unbounded
in Starlette's thread pool (40 threads), four of them make every other
request wait behind them. Here each computation first takes one of
``heavy_workers`` slots; a request that cannot get one within
``queue_seconds`` is answered 503 with Retry-After, so the queue has a
deadline and /healthz (which never enters the pool) stays fast.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import math
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from .errors import AppError, setting

T = TypeVar("T")


class Pool:
    def __init__(self, workers: int, queue_seconds: float):
        self.workers, self.queue_seconds = workers, queue_seconds
        self._limiter = anyio.CapacityLimiter(workers)
        self.waiting = 0
        self._ran = False  # work has run since the heap was last trimmed

    @property
    def busy(self) -> int:
        return int(self._limiter.borrowed_tokens)

    async def run(self, fn: Callable[..., T], *args: Any, wait: float | None = None) -> T:
        """``fn(*args)`` in a worker thread once a slot is free; AppError(503) if none frees up in time."""
        wait = self.queue_seconds if wait is None else wait
        token = object()  # one borrower per call, so one task may hold several calls' slots in turn
        got = False
        self.waiting += 1
        try:
            with anyio.move_on_after(wait):
                await self._limiter.acquire_on_behalf_of(token)
                got = True
        finally:
            self.waiting -= 1
        if not got:
            raise AppError(503, f"server: all {self.workers} workers are busy and none came free within {wait:g} s "
                                f"({setting('heavy_workers', 'queue_seconds')}); try again shortly",
                           headers={"Retry-After": str(max(1, math.ceil(wait / 2)))})
        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args))
        finally:
            self._limiter.release_on_behalf_of(token)
            self._ran = True

    async def keep_trimmed(self, every: float = 2.0) -> None:
        """Run for the app's life: whenever work has run and the pool has since gone idle, give the heap's free pages back.

        glibc keeps what a burst of traces freed in its arenas: 1,000 streams left the server's RSS at 2.6x its
        level before with nothing open, none of it leaked. A collection frees the cycles that clients leaving mid-stream
        leave behind (tens of milliseconds, on an idle server), then malloc_trim returns the pages.
        """
        while True:
            await anyio.sleep(every)
            if self._ran and not self.busy and not self.waiting and _TRIM is not None:
                self._ran = False
                gc.collect()  # a client that left mid-stream leaves cycles (an exception, its frames) for the collector
                _TRIM(0)


def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to give back this way
        return None


_TRIM = _malloc_trim()

