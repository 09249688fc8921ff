"""A page load, counted: the requests the page makes, the resolves and the model runs they cost (issue 18: a page
load resolves once and runs the model once). The server runs in this process, in a thread, so that app/run's counts
can be read; each request is checked on its own (plan), the model made once (resolve) and run once (run; a view that
compares a clamped run with the plain one is two)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import uvicorn

from gatescope.app import run
from gatescope.app.config import Settings
from gatescope.app.main import create_app

from .conftest import VIEWPORT, Tab, free_port


@pytest.fixture
def local(tmp_path):
    """The app served from a thread of this process: its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(upload_dir=tmp_path)), port=free_port(), log_level="warning",
                                           ws="wsproto", ws_per_message_deflate=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # a start that hangs is bounded by the suite's per-test timeout
        assert thread.is_alive(), "the server's thread ended before it started"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.parametrize("query", ["preset=remember-lstm&panels=diagram,heatmaps,tokens,gradients",
                                   "kind=gru&hidden=6&layers=2&input=hello&panels=chain,heatmaps",
                                   "kind=lstm&hidden=5&bidirectional=true&input=abc&clamp=forget:1&clamp_compare=true"])
def test_a_page_load_resolves_once_and_runs_once(browser, local, query):
    context = browser.new_context(viewport=VIEWPORT)
    try:
        tab = Tab(context.new_page(), local, "page-load")
        before = dict(run.COUNTS)
        tab.open("/?" + query)
        if "gradients" in query:
            tab.until("performance.getEntriesByType('resource').some((e) => e.name.includes('/api/gradients'))", timeout=60,
                      what="the page asking for the gradient flow")
        tab.page.wait_for_timeout(500)  # any request the page would still make after it is drawn
        counted = {k: run.COUNTS[k] - before[k] for k in before}
        asked = Counter(u.split("?")[0].removeprefix(local) for u in tab.requests if "/static/" not in u and "/vendor/" not in u)
        assert asked["/"] == 1 and len(tab.sockets) == 1, (asked, tab.sockets)
        runs = 2 if "clamp_compare=true" in query else 1  # a compared view is two runs: with the clamp and without
        assert counted["resolve"] == 1 and counted["run"] == runs, (counted, asked)
        assert counted["plan"] == asked["/"] + len(tab.sockets) + asked["/api/gradients"], (counted, asked)  # each request checked once
        assert not tab.errors, tab.errors
    finally:
        context.close()
