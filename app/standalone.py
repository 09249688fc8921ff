"""One file that plays anywhere: the page's view of one run as a single .html, with no server and no network.

The page's ES modules go into the file as they are, byte for byte, behind an import map of their files: nothing here
reads, parses or rewrites JavaScript. That works because the modules import each other by bare names that an import
map resolves, ``gatescope/<path under static/>``: ``import { tr } from "gatescope/core/i18n.js"``, and the views by
``import(`gatescope/views/${name}.js`)``. The served pages map the prefix to /static/ (templates/base.html; its hash
is in their CSP, app/routers/pages.py IMPORT_MAP); the file maps each name to that file's data: URL. A relative
specifier would not do: Chromium loads no module from ``file://`` by path, and ``./x.js`` cannot resolve inside a
data: module, which is why the file once rewrote every import of every module with regular expressions. Which
modules go in is a walk of static/, not a reading of imports: every .js but what LEFT_OUT names. The one asset a
module names, KaTeX's stylesheet, it names through the same map (``import.meta.resolve("gatescope/vendor/katex/
katex.min.css")``), which the file answers with a data: URL, KaTeX's woff2 fonts inlined.

Why not the other way, a bundler (esbuild, Rollup) run at build time with its output committed: the page has no
build step and needs none; the modules the server serves, the browser tests import and the file holds stay the same
files, so the file cannot drift from the source as a committed bundle does after one edit without a rebuild, and a
review reads the source rather than a generated copy of it.

The import map puts ``static/core/offline.js`` where core/stream.js and core/api.js would be: it hands core/trace.js
the run's stream header and rows exactly as the WebSocket sends them (app/wire.py), so no view changes. plotly.js
(the vendored partial bundle, app/shell.py PLOTLY_JS) travels gzipped, as base64 in an inert block at the file's end:
0.66 MB where its plain text was 1.5 MB (and the full bundle's 4.8 MB). core/plotly.js, the served pages' loader too,
finds that block once the diagram is drawn, unzips it (DecompressionStream) and runs it from a blob: URL.

``payload(model, input, state)`` turns a cells Model and an input into the run the file holds (also what the
notebook widget, gatescope/widget.py, takes); ``page(payload)`` writes the file; ``shell()`` is the file without
its run, which the widget fills in the browser.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import orjson
from markupsafe import Markup

from gatescope import cells

from . import i18n, run, wire
from .config import Settings
from .errors import AppError, over_limit
from .run import Run, of_model
from .schemas import ViewState
from .shell import PLOTLY_JS, asset_dir, templates
from .shell import page_config as served_config

PREFIX = "gatescope/"  # the import map's name of static/<path>: the served pages map it to /static/ (templates/base.html)
ENTRY = "main.js"
OFFLINE = "core/offline.js"
#: modules the file answers itself (static/core/offline.js): the stream and the API's JSON
SERVED = ("core/stream.js", "core/api.js")
#: what static/ holds that the page never loads as a module: the other pages' entries (/compare, /docs, the notebook
#: widget's own front end, which loads this file), Swagger UI (/docs) and plotly.js (a classic script, in its own
#: block: plotly_block()). All else goes in: a module the page does not load costs bytes only, one it loads and the
#: file lacks would stop it.
LEFT_OUT = ("compare.js", "docs.js", "widget.js", "vendor/swagger-ui/", "vendor/plotly/")
#: what the modules name by import.meta.resolve: stylesheets, each a data: URL with its fonts inlined
ASSETS = ("vendor/katex/katex.min.css",)
TRACE_SLOT = "/*gatescope-trace*/"  # where page() puts the run's JSON; the widget fills the same slot in the browser


class BuildError(Exception):
    """The file cannot be built from what is on disk: names the file and why."""


def static_dir() -> Path:
    return asset_dir("static")


def data_url(content: str | bytes, mime: str) -> str:
    raw = content.encode() if isinstance(content, str) else content
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def modules(static: Path | None = None) -> dict[str, bytes]:
    """Every module of the page, as its file's bytes: {path under static/: bytes}. A walk of static/ (no module is
    read for its imports): every .js but the served ones (the offline module takes their place) and LEFT_OUT."""
    static = static or static_dir()
    found = {p.relative_to(static).as_posix(): p for p in static.rglob("*.js") if p.is_file()}
    for needed in (ENTRY, OFFLINE):
        if needed not in found:
            raise BuildError(f"static/{needed}: missing; the file starts there")
    return {rel: found[rel].read_bytes() for rel in sorted(found) if rel not in SERVED and not rel.startswith(LEFT_OUT)}


def asset_url(static: Path, rel: str) -> str:
    """A stylesheet a module names by import.meta.resolve, as a data: URL, each url(fonts/X.woff2) in it inlined."""
    path = static / rel
    css = path.read_text()
    for font in sorted((path.parent / "fonts").glob("*.woff2")):
        css = css.replace(f"url(fonts/{font.name})", f"url({data_url(font.read_bytes(), 'font/woff2')})")
    if "url(fonts/" in css:
        raise BuildError(f"static/{rel}: names a font that is not a .woff2 file beside it in fonts/")
    return data_url(css, "text/css")


def import_map(mods: dict[str, bytes], static: Path | None = None) -> dict:
    """The file's import map: each module's name to its bytes as a data: URL, the served modules' names to the offline
    module's (one URL: one module instance for all three), and each asset's name to its data: URL."""
    urls = {PREFIX + m: data_url(code, "text/javascript") for m, code in mods.items()}
    urls.update({PREFIX + m: urls[PREFIX + OFFLINE] for m in SERVED})
    urls.update({PREFIX + a: asset_url(static or static_dir(), a) for a in ASSETS})
    return {"imports": urls}


# -- the run the file holds ----------------------------------------------------------

def values_of(r: Run) -> int:
    return len(r.parsed.xs) * wire.header(r, "binary")["stride"]


def check_size(r: Run, settings: Settings) -> None:
    """The file inlines every value of the run: held to the JSON answers' cap (max_json_values)."""
    if values_of(r) > settings.max_json_values:
        raise over_limit("input", f"a standalone page of {values_of(r)} values", settings.max_json_values, "max_json_values",
                         hint="ask for fewer names (names=...) or a shorter input")


def stack(r: Run, settings: Settings) -> list[Run]:
    """The model's other layers and directions, so that the file's layer and direction pickers work with no server;
    none when all of them together would be over the cap (the file then holds the shown one, and says so if asked).
    All are read from the one run the shown layer is."""
    m = r.model
    others = [r.at(k, d) for k in range(m.num_layers) for d in range(m.directions) if (k, d) != (r.layer, r.direction)]
    return others if values_of(r) + sum(values_of(o) for o in others) <= settings.max_json_values else []


def stream_of(r: Run) -> dict:
    """What the page's stream sends for a view: its header, its rows (base64 float32, little-endian), its summary."""
    head = wire.header(r, "binary")
    rows = wire.step_rows(r, r.trace())
    if r.compared:  # the run without the clamp, after the clamped one in each row (header.original_fields)
        rows = np.concatenate([rows, wire.step_rows(r, r.trace(clamped=False))], axis=1)
    return {"header": head, "rows": base64.b64encode(np.ascontiguousarray(rows, "<f4").tobytes()).decode(),
            "summary": {"type": "summary", "steps": len(rows), "bytes_per_snapshot": head["stride"] * 4}}


def flow_of(r: Run, settings: Settings) -> dict:
    """The gradient flow the page's panel asks /api/gradients for, or why the file has none (the API's reasons)."""
    try:
        flow = run.gradient_flow(r, settings)
    except AppError as e:
        return {"flow": None, "flow_error": e.detail}
    return {"flow": {k: wire.rounded(v, r.view.digits) for k, v in flow.items()}, "flow_error": None}


def payload_of(r: Run, settings: Settings) -> dict:
    """The run as the page's stream sends it: {state, header, rows, summary, flow, others (the other layers and
    directions, each {header, rows, summary})}; JSON types only."""
    check_size(r, settings)
    steps = len(r.parsed.xs)
    if r.view.step >= steps:  # the file holds this run only: a step past it would open on nothing
        raise AppError(422, f"step: {r.view.step} is past the run's last step, {steps - 1} (the input has {steps} steps)", "step")
    state = {k: v for k, v in r.normalized().items() if k != "format"}
    body = {"state": state, **stream_of(r), **flow_of(r, settings), "others": [stream_of(o) for o in stack(r, settings)]}
    return orjson.loads(wire.dumps(body))


def payload(model: cells.Model, given, state: dict | None = None, settings: Settings | None = None) -> dict:
    """(a cells Model, its input) -> the run a standalone page or the notebook widget shows. ``given``: text for a
    model with a vocabulary, else an array (steps, input width); ``state``: any view-state fields (step, phase,
    panels, palette, ...), validated as the API validates them (a bad one raises a 422 AppError naming it)."""
    settings = settings or Settings()
    try:
        view = ViewState.model_validate(state or {})
    except Exception as e:  # pydantic's ValidationError: the field, the value and the rule, as the API's 422 says
        raise AppError(422, str(e)) from None
    return payload_of(of_model(model, given, view, settings), settings)


# -- the file ---------------------------------------------------------------------------
# The page's own layout (every panel it shows, scrolling as the page does), not /embed's fixed frame, which keeps
# only the diagram, the tokens and the heatmaps; the controls that need a server (model, input, upload) are left out.

# The page keeps its view state in the URL (main.js, history.replaceState): a file:// page can, a notebook widget's
# frame (about:srcdoc) cannot change its URL, and there the view state simply stays in the page.
BOOT = f"""const replace = history.replaceState.bind(history);
history.replaceState = (...args) => {{ try {{ replace(...args); }} catch {{ /* a frame whose URL is fixed */ }} }};
import("{PREFIX + ENTRY}");"""

PAGE = """{% extends "base.html" %}
{% import "_partials.html" as parts with context %}
{% block title %}gatescope{% endblock %}
{% block plotly %}{% endblock %}
{# the file's own import map (import_map()) is in its scripts, in place of the served pages' #}
{% block importmap %}{% endblock %}
{% block body_class %}standalone{% endblock %}
{% block body %}
<p class="standalone-note" style="margin: 6px 16px 0; font-size: 13px; color: #5b6270">gatescope {{ config.version }} · one run, saved
to play anywhere: step, play and hover as in the page (press ? for the keys). Another input or model needs gatescope itself
(<code>pip install gatescope</code>, <code>gatescope serve</code>).</p>
<main>{{ parts.views() }}</main>
{% endblock %}
{% block scripts %}{{ scripts }}{% endblock %}
"""


def page_config(settings: Settings) -> dict:
    return {**served_config(settings, True), "standalone": True, "refused": None}


def _script(attrs: str, text: str) -> tuple[str, str]:
    return f"<script {attrs}>{text}</script>", f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def plotly_block() -> str:
    """plotly.js as the file carries it: gzipped (no timestamp, so the same bundle makes the same file), as base64, in an
    inert block that core/plotly.js reads. base64's letters never close a <script>, whatever plotly.js holds."""
    packed = base64.b64encode(gzip.compress(PLOTLY_JS.read_bytes(), compresslevel=9, mtime=0)).decode()
    return f'<script type="text/plain" id="gatescope-plotly" data-encoding="gzip base64">{packed}</script>'


def csp(hashes: list[str]) -> str:
    """No request leaves the file: scripts are its own inline ones (by hash), its data: modules and plotly.js's blob:."""
    return (f"default-src 'none'; script-src {' '.join(hashes)} data: blob:; style-src 'unsafe-inline' data:; "
            "img-src data: blob:; font-src data:; connect-src 'none'; media-src blob:; worker-src blob:; base-uri 'none'; form-action 'none'")


@functools.lru_cache(maxsize=1)
def shell() -> str:
    """The file without its run: the page's template, stylesheet, modules and plotly.js, and a slot for the run
    (TRACE_SLOT in <script id="gatescope-trace">) that page() or the widget fills."""
    static = static_dir()
    importmap, h1 = _script('type="importmap"', json.dumps(import_map(modules(static), static), separators=(",", ":")))
    # async: the page starts while the parser is still reading plotly.js below it (core/plotly.js waits for it)
    boot, h2 = _script('type="module" async', BOOT)
    scripts = (f'<script type="application/json" id="gatescope-trace">{TRACE_SLOT}</script>\n{importmap}\n{boot}\n'
               f'{plotly_block()}')
    env = templates().env
    # the shell's own words are English; a run's language travels in its config (config_for) for the views' words
    html = env.from_string(PAGE).render(config=page_config(Settings()), refused=None, scripts=Markup(scripts), _=i18n.translator("en"), lang="en")
    head = {'<link rel="stylesheet" href="/static/gatescope.css">': f"<style>{(static / 'gatescope.css').read_text()}</style>",
            '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">':
                f'<link rel="icon" href="{data_url((static / "favicon.svg").read_text(), "image/svg+xml")}" type="image/svg+xml">',
            '<meta charset="utf-8">': f'<meta charset="utf-8">\n  <meta http-equiv="Content-Security-Policy" content="{csp([h1, h2])}">'}
    for old, new in head.items():
        if old not in html:
            raise BuildError(f"templates/base.html: {old!r} is gone; app/standalone.py replaces it")
        html = html.replace(old, new, 1)
    return html


def config_for(state: dict, settings: Settings) -> dict:
    """The page reads its view state from the URL, which a file has none of: the run's state is the fields' defaults."""
    config = page_config(settings)
    config["fields"] = [{**f, "default": state.get(f["name"], f["default"])} for f in config["fields"]]
    return {**config, "view": state, **i18n.page_words(state.get("lang", "en"))}


def inert(value) -> str:
    """JSON that stays inside its <script> element whatever its strings hold ("</script>", "<!--"): every < escaped."""
    return orjson.dumps(value).decode().replace("<", "\\u003c")


def fill(html: str, body: dict, settings: Settings) -> str:
    """The shell with the run in it: its JSON in the trace slot and the page's config for its view state."""
    trace, config_json = inert(body), inert(config_for(body["state"], settings))
    start = html.index('<script type="application/json" id="gatescope-config">') + len('<script type="application/json" id="gatescope-config">')
    end = html.index("</script>", start)
    return html[:start] + config_json + html[end:].replace(TRACE_SLOT, trace, 1)


def page(body: dict, settings: Settings | None = None) -> str:
    """The standalone .html of a run (payload() or payload_of())."""
    settings = settings or Settings()
    return fill(shell(), body, settings)



# -- the notebook widget's page ---------------------------------------------------------------------------------------
# The widget (gatescope/widget.py, static/widget.js) shows this page with the kernel in the server's place: its stream
# and its API's answers come from static/core/kernel.js, which asks the kernel through the widget's front end, so the
# run travels as binary rows and the page holds no run of its own.

KERNEL = "core/kernel.js"


@functools.lru_cache(maxsize=1)
def widget_shell() -> tuple[str, str]:
    """(id, html): the notebook widget's page without its config. shell() with the served modules (SERVED) mapped to
    the kernel's (KERNEL) instead of the file's own run, and the CSP's hash of the import map changed with it. The id
    names these bytes: a notebook page keeps one copy for all its widgets (static/widget.js)."""
    static = static_dir()
    html, old_map = shell(), import_map(modules(static), static)
    old, old_hash = _script('type="importmap"', json.dumps(old_map, separators=(",", ":")))
    if old not in html or old_hash not in html:
        raise BuildError("app/standalone.py: shell() no longer writes import_map() as widget_shell() expects")
    kernel = old_map["imports"].get(PREFIX + KERNEL) or data_url((static / KERNEL).read_bytes(), "text/javascript")
    new, new_hash = _script('type="importmap"', json.dumps({"imports": {**old_map["imports"], **{PREFIX + m: kernel for m in SERVED}}},
                                                           separators=(",", ":")))
    html = html.replace(old, new, 1).replace(old_hash, new_hash, 1)
    return hashlib.sha256(html.encode()).hexdigest()[:16], html


class Steps:
    """Steps ``start..stop`` of a trace, read as app/wire.py step_rows reads a whole one: the rows of a long run are
    made a chunk at a time, the first ones sent before the rest exist."""

    def __init__(self, trace: cells.Trace, steps: slice):
        self.trace, self.steps = trace, steps

    def layer(self, k: int, direction: int = 0) -> dict[str, np.ndarray]:
        return {n: a[self.steps] for n, a in self.trace.layer(k, direction).items()}

    @property
    def output(self) -> np.ndarray:
        return self.trace.output[self.steps]


def rows_of(r: Run, start: int = 0, stop: int | None = None) -> np.ndarray:
    """(steps, stride) float32, little-endian: the rows the stream sends for a view (app/wire.py step_rows) of steps
    start..stop, with the run without the clamp after the clamped one when the view compares them
    (header.original_fields)."""
    steps = slice(start, stop)
    rows = wire.step_rows(r, Steps(r.trace(), steps))
    if r.compared:
        rows = np.concatenate([rows, wire.step_rows(r, Steps(r.trace(clamped=False), steps))], axis=1)
    return np.ascontiguousarray(rows, "<f4")
