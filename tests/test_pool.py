"""The heavy-work pool's memory: glibc's arenas limited, the heap trimmed once the pool is idle."""

import subprocess
import sys

import pytest

from gatescope.app import pool

# Counts the arenas glibc's malloc_info reports after eight threads allocated at once, in a fresh interpreter
# (the limit applies to arenas made after it is set, so it must be set before any thread allocates).
ARENAS = r"""
import ctypes, sys, threading
from gatescope.app import pool
if sys.argv[1] != "default":
    assert pool.limit_arenas(int(sys.argv[1]))
libc = ctypes.CDLL(None)
libc.open_memstream.restype = ctypes.c_void_p
barrier, held = threading.Barrier(8), []
def work():
    barrier.wait()  # all eight allocate at the same time, so each would take an arena of its own
    held.append([ctypes.create_string_buffer(200) for _ in range(1000)])
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
buf, size = ctypes.c_char_p(), ctypes.c_size_t()
f = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(f))
libc.fclose(ctypes.c_void_p(f))
print(buf.value.decode().count("<heap nr="))
"""


def arenas(limit: str) -> int:
    out = subprocess.run([sys.executable, "-c", ARENAS, limit], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


@pytest.mark.skipif(pool._LIBC is None, reason="the C library is not glibc")
def test_the_pool_limits_the_arenas_threads_allocate_from():
    assert arenas("default") > 2  # the test can fail: without the limit, threads that allocate at once spread out
    assert arenas("2") <= 2


@pytest.mark.skipif(pool._LIBC is None, reason="the C library is not glibc")
def test_a_pool_sets_one_arena_per_worker_and_one_for_the_event_loop(monkeypatch):
    seen = []
    monkeypatch.setattr(pool, "limit_arenas", seen.append)
    pool.Pool(3, 1.0)
    assert seen == [4]


def test_the_heap_is_trimmed_after_work_and_again_when_an_idle_worker_thread_exits(monkeypatch):
    import threading

    import anyio

    trims, alive = [], [5]
    monkeypatch.setattr(pool, "_TRIM", trims.append)
    monkeypatch.setattr(threading, "active_count", lambda: alive[0])  # the process's threads, as the pool counts them
    p = pool.Pool(2, 1.0)

    async def until(n: int) -> None:
        while len(trims) < n:  # the suite's per-test timeout bounds the wait
            await anyio.sleep(0.01)

    async def main():
        async with anyio.create_task_group() as tg:
            tg.start_soon(p.keep_trimmed, 0.01)
            await anyio.sleep(0.1)
            assert trims == []  # idle, nothing ran: no reason to trim
            await p.run(lambda: None)
            await until(1)  # work ran, the pool went idle
            alive[0] += 1  # a thread starts (a worker for the next task): no reason either
            await anyio.sleep(0.1)
            assert trims == [0]
            alive[0] -= 1  # an idle worker thread exits: what it held is back in the arenas
            await until(2)
            await anyio.sleep(0.1)
            assert trims == [0, 0]
            tg.cancel_scope.cancel()

    # in a thread of its own: an event loop another test left current in this one would stop anyio.run here
    failed = []
    runner = threading.Thread(target=lambda: failed.extend(_raised(anyio.run, main)))
    runner.start()
    runner.join()
    assert not failed, failed


def _raised(fn, *args) -> list[BaseException]:
    try:
        fn(*args)
    except BaseException as e:  # noqa: BLE001 - handed to the test's thread, which fails with it
        return [e]
    return []
