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
import threading
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
        self._threads = threading.active_count()  # threads alive at the last trim
        limit_arenas(workers + 1)

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
            # idle worker threads exit 10 s after their last task, when the thread pool is next used; what they held
            # goes back to the arenas then, after the trim that followed the work, so a thread gone is a reason too
            fewer = threading.active_count() < self._threads
            if (self._ran or fewer) and not self.busy and not self.waiting and _TRIM is not None:
                self._ran = False
                gc.collect()  # a client that left mid-stream leaves cycles (an exception, its frames) for the collector
                _TRIM(0)
            self._threads = threading.active_count()


def limit_arenas(n: int) -> bool:
    """Let glibc keep at most ``n`` malloc arenas (M_ARENA_MAX); True if it took. Call before the worker threads start.

    By default glibc gives threads up to 8 arenas per core, and what a trace freed in one stays there, out of reach
    of the trim. 1,000 clients that left mid-stream (bench/soak.py --phase leave, 2 cores) left the settled RSS at
    +37 % over its level before with 16 arenas, +5 % with one per worker and one for the event loop (and the trim
    after a thread exits). Allocation takes the GIL here anyway, so fewer arenas cost no contention worth measuring.
    """
    if _LIBC is None or not hasattr(_LIBC, "mallopt"):
        return False
    return bool(_LIBC.mallopt(_M_ARENA_MAX, max(1, n)))


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_M_ARENA_MAX = -8  # glibc's malloc.h
_LIBC = _libc()  # None where the C library is not glibc (musl, macOS): nothing to tune or give back this way
_TRIM = _LIBC.malloc_trim if _LIBC is not None else None

