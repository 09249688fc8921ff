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

    trims = []
    monkeypatch.setattr(pool, "_TRIM", trims.append)
    p = pool.Pool(2, 1.0)
    done, leave = threading.Event(), threading.Event()
    worker = threading.Thread(target=leave.wait)  # stands for a pool thread that outlives its task

    async def main():
        async with anyio.create_task_group() as tg:
            tg.start_soon(p.keep_trimmed, 0.01)
            worker.start()
            await anyio.sleep(0.1)
            assert trims == []  # idle, nothing ran: no reason to trim
            await p.run(done.set)
            while not trims:
                await anyio.sleep(0.01)
            assert trims == [0]  # work ran, the pool went idle
            await anyio.sleep(0.1)
            assert trims == [0]  # once
            leave.set()
            worker.join()
            while len(trims) < 2:
                await anyio.sleep(0.01)
            assert trims == [0, 0]  # a thread exited: what it held is back in the arenas
            tg.cancel_scope.cancel()

    anyio.run(main)
