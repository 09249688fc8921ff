"""Browser tests: Debian's Chromium, driven by Playwright, against a real uvicorn server on a free port.

One server and one browser per session; a new context and page per test (the ``tab`` fixture), which
records console messages, page errors, dialogs, requests and WebSockets, and saves a screenshot of the
page to artifacts/browser/<test name>.png when the test ends.

The page's Content-Security-Policy has no 'unsafe-eval', so Playwright's ``wait_for_function`` cannot
run; ``Tab.until`` polls ``page.evaluate`` instead (evaluate goes through the DevTools protocol, which the
policy does not govern).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """uvicorn serving the app factory on a free port, uploads in workdir/uploads, its log in workdir/server.log;
    returns once GET /healthz answers and the process is still ours (not another server on a reused port)."""
    port = free_port()
    log = open(workdir / "server.log", "wb")  # a file, not a pipe: a pipe nobody reads would block the server
    env = {**os.environ, "GATESCOPE_UPLOAD_DIR": str(workdir / "uploads"), "PYTHONPATH": str(ROOT), **(env or {})}
    # the WebSocket protocol and options gatescope serve runs with (app/cli.py)
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "gatescope.app.main:create_app", "--port", str(port),
                             "--log-level", "warning", "--ws", "wsproto", "--ws-per-message-deflate", "false", "--no-proxy-headers"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:  # exited: a missing module, the port taken after all, ...
            log_text = (workdir / "server.log").read_text(errors="replace")
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log_text}")
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
            if proc.poll() is None:
                return proc, base
        except OSError:
            time.sleep(0.05)
    stop_server(proc)
    raise RuntimeError("the server did not answer GET /healthz within 30 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def launch(pw) -> Browser:
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def server(tmp_path_factory) -> str:
    """The app's base URL, e.g. http://127.0.0.1:41234."""
    proc, base = start_server(tmp_path_factory.mktemp("server"))
    yield base
    stop_server(proc)


@pytest.fixture(scope="session")
def api(server):
    """GET (or POST bytes to) a path of the server: (status, decoded JSON body)."""
    def call(path: str, data: bytes | None = None) -> tuple[int, object]:
        req = urllib.request.Request(server + path, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/octet-stream"} if data is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
    return call


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()


class Tab:
    """One page of the app in its own browser context, with what it logged."""

    def __init__(self, page: Page, base: str, name: str):
        self.page, self.base, self.name = page, base, name
        self.console: list[tuple[str, str]] = []   # (type, text) of errors and warnings
        self.errors: list[str] = []                # uncaught exceptions
        self.dialogs: list[str] = []               # alert / confirm / prompt
        self.requests: list[str] = []
        self.sockets: list[str] = []
        self.shots: set[str] = set()  # suffixes of the screenshots taken
        page.on("console", lambda m: self.console.append((m.type, m.text)) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", lambda ws: self.sockets.append(ws.url))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def open(self, path: str, ready: bool = True) -> Tab:
        """Go to path (e.g. "/?kind=lstm&input=hello"); by default wait until the run is drawn."""
        self.page.goto(self.base + path)
        if ready:
            self.ready()
        return self

    def ready(self, timeout: float = 15) -> None:
        try:
            self.page.wait_for_selector("body[data-ready]", state="attached", timeout=timeout * 1000)
        except Exception:
            state = self.js("({message: document.getElementById('message')?.textContent, "
                            "status: document.getElementById('status')?.textContent})")
            raise AssertionError(f"the page was not drawn within {timeout} s: {state}; page errors: {self.errors}") from None

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def until(self, expression: str, arg=None, timeout: float = 10, what: str = ""):
        """Poll a JS expression until it is truthy; its value. (wait_for_function needs eval, which the CSP forbids.)"""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.js(expression, arg)
            if value:
                return value
            time.sleep(0.03)
        raise AssertionError(f"{what or expression} did not hold within {timeout} s (last value {value!r}); "
                             f"page errors: {self.errors}")

    @property
    def step(self) -> int:
        return int(self.js("document.body.dataset.step"))

    @property
    def phase(self) -> str:
        return self.js("document.body.dataset.phase")

    def press(self, key: str, times: int = 1) -> None:
        """Keys for the player, with the focus on the page rather than a text field."""
        self.js("document.activeElement && document.activeElement.blur()")
        for _ in range(times):
            self.page.keyboard.press(key)

    def menu(self, control: str) -> None:
        """Open the header's menu that holds [data-control=control] (Model, Export, View...), as a user would."""
        summary = self.js("""(c) => { const d = document.querySelector(`[data-control="${c}"]`)?.closest('details.menu');
            if (!d || d.open) return null; d.querySelector('summary').dataset.testMenu = c; return c; }""", control)
        if summary:
            self.page.click(f'summary[data-test-menu="{control}"]')

    def diagram(self, name: str) -> list[float]:
        """The values of the diagram's strip for a glossary name, as its cells hold them (the step painted)."""
        return self.js("(name) => { const g = document.querySelector(`#diagram .strip[data-name='${name}']`);"
                       " return g ? Array.from(g.querySelectorAll('.cell'), (c) => Number(c.dataset.value)) : null; }", name)

    def diagram_all(self) -> dict[str, list[float]]:
        """Every strip's values, by name."""
        return self.js("Object.fromEntries(Array.from(document.querySelectorAll('#diagram .strip'),"
                       " (g) => [g.dataset.name, Array.from(g.querySelectorAll('.cell'), (c) => Number(c.dataset.value))]))")

    def shot(self, suffix: str = "") -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}{suffix}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.add(suffix)
        return path


def artifact_name(node) -> str:
    return re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", node.name)


@pytest.fixture
def tab_factory(browser, server, request):
    """Make tabs (each in a fresh context); every tab is screenshotted and closed at the end of the test."""
    made: list[tuple[object, Tab]] = []

    def make(suffix: str = "", **context_options) -> Tab:
        context = browser.new_context(viewport=VIEWPORT, **context_options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        tab = Tab(page, server, artifact_name(request.node) + suffix)
        made.append((context, tab))
        return tab

    yield make
    for context, tab in made:
        try:
            if "" not in tab.shots and tab.page.url.startswith("http"):
                tab.shot()
        except PlaywrightTimeout:  # the picture is for a person reading the artifacts: a busy machine may not take it in time
            warnings.warn(f"no screenshot of {tab.name}: the browser did not take it within the timeout", stacklevel=1)
        finally:
            context.close()
    for _, tab in made:
        assert not tab.errors, f"uncaught errors in the page: {tab.errors}"
        assert not tab.dialogs, f"the page opened dialogs: {tab.dialogs}"


@pytest.fixture
def tab(tab_factory) -> Tab:
    return tab_factory()


SCREENS = [(1024, 768), (1920, 1080)]  # a projector's and a large screen's: the charts' tests run at both


@pytest.fixture(params=SCREENS, ids=[f"{w}x{h}" for w, h in SCREENS])
def screen(request, tab):
    """A tab at each of SCREENS."""
    w, h = request.param
    tab.page.set_viewport_size({"width": w, "height": h})
    return tab
