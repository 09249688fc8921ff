"""What the page benchmarks share: a fresh server and headless Chromium, as the browser tests start them."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.conftest import launch, start_server, stop_server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402


@contextmanager
def served_browser(name: str, base: str | None = None) -> Iterator[tuple[object, str]]:
    """(browser, base URL) of a gatescope server on a free port (uploads in a new temporary folder), or of the one
    already at base; what this started is stopped after."""
    proc = None
    if not base:
        proc, base = start_server(Path(tempfile.mkdtemp(prefix=f"gatescope-bench-{name}-")))
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            try:
                yield browser, base
            finally:
                browser.close()
    finally:
        if proc is not None:
            stop_server(proc)


def machine(browser) -> str:
    """The line each benchmark opens with: the browser, the cores and how busy they are (the figures depend on it)."""
    return (f"headless Chromium {browser.version} (software rendering), {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}")


def wait(page, expression: str, timeout: float = 60) -> None:
    """Poll a JS expression (the page's CSP forbids the eval behind Playwright's wait_for_function)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        time.sleep(0.05)
