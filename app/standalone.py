"""One file that plays anywhere: the page's view of one run as a single .html, with no server and no network.

The file holds the page's own ES modules, unchanged but for their import specifiers, as data: URLs behind an
import map whose keys are absolute pseudo-URLs (``gatescope:/views/view.js``): Chromium loads no module from
``file://`` by path, and a relative import cannot resolve inside a data: module, so every relative specifier is
rewritten to its key. The import map puts ``static/core/offline.js`` where core/stream.js, core/api.js and
core/plotly.js would be: it hands core/trace.js the run's stream header and rows exactly as the WebSocket sends
them (app/wire.py), so no view changes. plotly.js travels as an inert text block run from a blob: URL once the
diagram is drawn (as the page loads it late); KaTeX's stylesheet is a data: URL with its woff2 fonts inlined.

``payload(model, input, state)`` turns a cells Model and an input into the run the file holds (also what the
notebook widget, gatescope/widget.py, takes); ``page(payload)`` writes the file; ``shell()`` is the file without
its run, which the widget fills in the browser.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import orjson
from markupsafe import Markup

import cells

from . import i18n, wire
from .config import Settings
from .errors import AppError, over_limit
from .inputs import parse
from .resolve import Resolved, bound_clamp, check_cost, clamp_of, input_of, shown_of
from .schemas import ViewState

ENTRY = "main.js"
OFFLINE = "core/offline.js"
#: modules the file answers itself (static/core/offline.js): the stream, the API's JSON and plotly.js's loader
SERVED = ("core/stream.js", "core/api.js", "core/plotly.js")
SCHEME = "gatescope:/"
TRACE_SLOT = "/*gatescope-trace*/"  # where page() puts the run's JSON; the widget fills the same slot in the browser

# import specifiers, found in code with the comments blanked out: `from "./x.js"`, `import "./x.js"`,
# `import("./x.js")` or `import(`./${name}.js`)`, and `new URL("../x.css", import.meta.url)`
STATIC_SPEC = re.compile(r"""(?:(?<![\w$"'`.])from|^[ \t]*import)\s*(?P<q>["'])(?P<spec>[^"'\n]*)(?P=q)""", re.M)
DYNAMIC_SPEC = re.compile(r"""\bimport\(\s*(?P<q>["'`])(?P<spec>[^"'`\n]*)(?P=q)\s*\)""")
URL_SPEC = re.compile(r"""\bnew URL\(\s*(?P<q>["'])(?P<spec>[^"'\n]*)(?P=q)\s*,\s*import\.meta\.url\s*\)""")
STATEMENT = re.compile(r"^[ \t]*(?P<word>import|export)\b(?![ \t]*[(.])", re.M)
COMMENT = re.compile(r"""//[^\n]*|/\*.*?\*/""", re.S)
STRING = re.compile(r"""(?P<q>["'`])(?:\\.|(?!(?P=q)).)*(?P=q)""", re.S)
FONT_SRC = re.compile(r"src:url\((?P<path>fonts/[^)]+\.woff2)\)\s*format\([\"']woff2[\"']\)(?:,url\([^)]*\)\s*format\([^)]*\))*")


class InlineError(Exception):
    """A module the inliner cannot rewrite: it names the file, the line and what it found."""


def static_dir() -> Path:
    from .main import asset_dir
    return Path(asset_dir("static"))


def key(path: str) -> str:
    return SCHEME + path


def data_url(text: str, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(text.encode()).decode()}"


def _blank_comments(code: str, strings: bool = False) -> str:
    """The code with its comments turned to spaces (same length; strings kept, so "//" in a URL stays), and with
    ``strings`` the insides of its strings too (what is code, for finding imports no pattern read)."""
    out, i = [], 0
    for m in re.finditer(f"{STRING.pattern}|{COMMENT.pattern}", code, re.S):
        out.append(code[i:m.start()])
        text = m.group(0)
        if not m.group("q"):
            text = re.sub(r"[^\n]", " ", text)
        elif strings:
            text = text[0] + re.sub(r"[^\n]", " ", text[1:-1]) + text[-1]
        out.append(text)
        i = m.end()
    return "".join(out) + code[i:]


def _resolve(static: Path, module: str, spec: str, where: str) -> str:
    """A relative specifier of ``module`` as a path under static/ (it must exist)."""
    if not spec.startswith(("./", "../")):
        raise InlineError(f"{where}: {spec!r} is not a relative path to one of the page's own modules")
    path = (static / module).parent.joinpath(spec).resolve()
    try:
        rel = path.relative_to(static.resolve()).as_posix()
    except ValueError:
        raise InlineError(f"{where}: {spec!r} points outside static/") from None
    if not path.is_file():
        raise InlineError(f"{where}: {spec!r} names no file ({rel})")
    return rel


def _template_targets(static: Path, module: str, spec: str, where: str) -> tuple[str, list[str]]:
    """import(`./${name}.js`): the rewritten template, and every module it can name (files matching its pattern)."""
    head = spec.split("${", 1)[0]
    folder, stem = head.rsplit("/", 1) if "/" in head else (".", head)
    base = _resolve_dir(static, module, folder + "/", where)
    pattern = re.compile(re.escape(stem) + re.sub(r"\\\$\\\{[^}]*\\\}", "[^/]+", re.escape(spec[len(head):])) + "$")
    found = sorted(f"{base}{p.name}" for p in (static / base).iterdir() if p.is_file() and pattern.match(p.name))
    if not found:
        raise InlineError(f"{where}: the template {spec!r} names no module")
    return SCHEME + base + spec[len(folder) + 1:], found


def _resolve_dir(static: Path, module: str, folder: str, where: str) -> str:
    path = (static / module).parent.joinpath(folder).resolve()
    if not path.is_dir() or static.resolve() not in (path, *path.parents):
        raise InlineError(f"{where}: {folder!r} is not a folder of static/")
    rel = path.relative_to(static.resolve()).as_posix()
    return "" if rel == "." else rel + "/"


def rewrite(static: Path, module: str, code: str) -> tuple[str, list[str]]:
    """(the module with every relative specifier rewritten to its key, the modules it imports). Raises InlineError
    naming the line of any import it cannot read (a specifier that is not a literal, a bare name, a missing file)."""
    blank = _blank_comments(code)
    edits, deps = [], []
    line = lambda pos: f"static/{module}:{code.count(chr(10), 0, pos) + 1}"
    for m in URL_SPEC.finditer(blank):
        rel = _resolve(static, module, m.group("spec"), line(m.start()))
        edits.append((m.start("spec"), m.end("spec"), asset_url(static, rel)))
    for m in [*STATIC_SPEC.finditer(blank), *DYNAMIC_SPEC.finditer(blank)]:
        spec, where = m.group("spec"), line(m.start())
        if m.group("q") == "`" and "${" in spec:
            new, found = _template_targets(static, module, spec, where)
        else:
            found = [_resolve(static, module, spec, where)]
            new = key(found[0])
        edits.append((m.start("spec"), m.end("spec"), new))
        deps += found
    dynamic, urls = {m.start() for m in DYNAMIC_SPEC.finditer(blank)}, [m.span() for m in URL_SPEC.finditer(blank)]
    _unread(blank, _blank_comments(code, strings=True), dynamic, urls, line)
    out = code
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    return out, deps


def _unread(blank: str, bare: str, dynamic: set[int], urls: list[tuple[int, int]], line) -> None:
    """Fail on any import the specifier patterns did not read: import(expr), import.meta elsewhere, an import or
    export ... from statement whose specifier is not a string literal."""
    for m in re.finditer(r"\bimport\s*\(", bare):
        if m.start() not in dynamic:
            raise InlineError(f"{line(m.start())}: import(...) of something other than a literal or a `./${{...}}` template")
    for m in re.finditer(r"\bimport\.meta\b", bare):
        if not any(s <= m.start() < e for s, e in urls):
            raise InlineError(f"{line(m.start())}: import.meta outside new URL(\"...\", import.meta.url)")
    for m in STATEMENT.finditer(bare):
        end = blank.find(";", m.start())
        statement = blank[m.start():end if end > 0 else None]
        if (m.group("word") == "import" or re.match(r"\s*export\s*(\*|\{[^}]*\}\s*from)", statement)) and not STATIC_SPEC.search(statement):
            raise InlineError(f"{line(m.start())}: cannot read the specifier of {statement[:60]!r}")


def asset_url(static: Path, rel: str) -> str:
    """A file a module names by new URL(...): a stylesheet as a data: URL (KaTeX's with its woff2 fonts inlined)."""
    path = static / rel
    if path.suffix != ".css":
        raise InlineError(f"static/{rel}: only stylesheets are read by new URL(...); this is {path.suffix}")
    css = path.read_text()
    fonts = lambda m: f"src:url({data_font(path.parent / m.group('path'))}) format(\"woff2\")"
    return data_url(FONT_SRC.sub(fonts, css), "text/css")


def data_font(path: Path) -> str:
    return "data:font/woff2;base64," + base64.b64encode(path.read_bytes()).decode()


def modules(static: Path | None = None) -> dict[str, str]:
    """Every module the page loads, from main.js, rewritten: {path under static/: code}. The served modules are
    left out (the offline module takes their place)."""
    static = static or static_dir()
    out, todo = {}, [ENTRY, OFFLINE]
    while todo:
        module = todo.pop()
        if module in out or module in SERVED:
            continue
        out[module], deps = rewrite(static, module, (static / module).read_text())
        todo += deps
    return out


def import_map(mods: dict[str, str]) -> dict:
    urls = {key(m): data_url(code, "text/javascript") for m, code in mods.items()}
    urls.update({key(m): urls[key(OFFLINE)] for m in SERVED})  # one URL: one module instance for all three
    return {"imports": urls}


# -- the run the file holds ----------------------------------------------------------

def resolved(model: cells.Model, given, view: ViewState, settings: Settings) -> Resolved:
    """A cells Model and an input (text, an array of steps x input width, or None for the model's own example) as the
    server resolves a view of it."""
    if given is None:  # the model's own example (its card's), as the page opens it
        pass
    elif not isinstance(given, str):
        xs = np.asarray(given, dtype=np.float64)
        xs = xs.reshape(-1, 1) if xs.ndim == 1 else xs
        if xs.ndim != 2:
            raise AppError(422, f"input: an array of shape {xs.shape}; expected (steps, input width) or (steps,)", "input")
        view = view.model_copy(update={"input": "; ".join(" ".join(f"{v:.9g}" for v in row) for row in xs), "input_type": "numbers"})
    else:
        view = view.model_copy(update={"input": given})
    text, input_type = input_of(view, model)
    parsed = parse(text, input_type, model, seed=view.seed, unknown=view.unknown, max_steps=settings.max_steps,
                   max_width=settings.max_input_width)
    clamp = clamp_of(view, settings)
    check_cost(settings, model.spec, model.options, len(parsed.xs) * (2 if clamp and view.clamp_compare else 1), model.input_size,
               model.hidden_size, model.num_layers, model.directions, model.dtype.itemsize, model.n_outputs)
    layer, names = shown_of(view, model)
    return Resolved(view, model, {}, text, input_type, parsed, layer, view.direction, names, bound_clamp(clamp, model))


def values_of(r: Resolved) -> int:
    from .routers.stream import header
    return len(r.parsed.xs) * header(r, "binary")["stride"]


def check_size(r: Resolved, settings: Settings) -> None:
    """The file inlines every value of the run: held to the JSON answers' cap (max_json_values)."""
    if values_of(r) > settings.max_json_values:
        raise over_limit("input", f"a standalone page of {values_of(r)} values", settings.max_json_values, "max_json_values",
                         hint="ask for fewer names (names=...) or a shorter input")


def stack(r: Resolved, settings: Settings) -> list[Resolved]:
    """The model's other layers and directions, so that the file's layer and direction pickers work with no server;
    none when all of them together would be over the cap (the file then holds the shown one, and says so if asked)."""
    m = r.model
    pairs = [(k, d) for k in range(m.num_layers) for d in range(m.directions) if (k, d) != (r.layer, r.direction)]
    others = [dataclasses.replace(r, layer=k, direction=d, view=r.view.model_copy(update={"layer": k, "direction": d})) for k, d in pairs]
    return others if values_of(r) + sum(values_of(o) for o in others) <= settings.max_json_values else []


def stream_of(r: Resolved) -> dict:
    """What the page's stream sends for a view: its header, its rows (base64 float32, little-endian), its summary."""
    from .routers.stream import Runner, Streams, header
    head = header(r, "binary")
    rows = Runner(r, Streams(), None).run(r.parsed.xs)
    return {"header": head, "rows": base64.b64encode(np.ascontiguousarray(rows, "<f4").tobytes()).decode(),
            "summary": {"type": "summary", "steps": len(rows), "bytes_per_snapshot": head["stride"] * 4}}


def flow_of(r: Resolved, settings: Settings) -> dict:
    """The gradient flow the page's panel asks /api/gradients for, or why the file has none (the API's reasons)."""
    m, steps = r.model, len(r.parsed.xs)
    if r.clamp:
        return {"flow": None, "flow_error": "a held (clamped) run has no backward pass"}
    if steps * m.hidden_size * m.out_size * m.num_layers > settings.max_gradient_work:
        return {"flow": None, "flow_error": f"the run is over the gradient limit ({settings.max_gradient_work}, max_gradient_work)"}
    try:
        flow = cells.gradient_flow(m, r.parsed.xs)
    except cells.CellsError as e:
        return {"flow": None, "flow_error": str(e)}
    return {"flow": {k: wire.rounded(v, r.view.digits) for k, v in flow.items()}, "flow_error": None}


def payload_of(r: Resolved, settings: Settings) -> dict:
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
    return payload_of(resolved(model, given, view, settings), settings)


# -- the file ---------------------------------------------------------------------------
# The page's own layout (every panel it shows, scrolling as the page does), not /embed's fixed frame, which keeps
# only the diagram, the tokens and the heatmaps; the controls that need a server (model, input, upload) are left out.

# The page keeps its view state in the URL (main.js, history.replaceState): a file:// page can, a notebook widget's
# frame (about:srcdoc) cannot change its URL, and there the view state simply stays in the page.
BOOT = f"""const replace = history.replaceState.bind(history);
history.replaceState = (...args) => {{ try {{ replace(...args); }} catch {{ /* a frame whose URL is fixed */ }} }};
import("{key(ENTRY)}");"""

PAGE = """{% extends "base.html" %}
{% import "_partials.html" as parts with context %}
{% block title %}gatescope{% endblock %}
{% block plotly %}{% endblock %}
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
    from .routers.pages import page_config as served
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=settings)))  # all it reads
    return {**served(request, True), "standalone": True, "refused": None}


def _script(attrs: str, text: str) -> tuple[str, str]:
    return f"<script {attrs}>{text}</script>", f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def csp(hashes: list[str]) -> str:
    """No request leaves the file: scripts are its own inline ones (by hash), its data: modules and plotly.js's blob:."""
    return (f"default-src 'none'; script-src {' '.join(hashes)} data: blob:; style-src 'unsafe-inline' data:; "
            "img-src data: blob:; font-src data:; connect-src 'none'; media-src blob:; worker-src blob:; base-uri 'none'; form-action 'none'")


@functools.lru_cache(maxsize=1)
def shell() -> str:
    """The file without its run: the page's template, stylesheet, modules and plotly.js, and a slot for the run
    (TRACE_SLOT in <script id="gatescope-trace">) that page() or the widget fills."""
    from .main import PLOTLY_JS, asset_dir
    from .routers.pages import templates
    static = static_dir()
    importmap, h1 = _script('type="importmap"', json.dumps(import_map(modules(static)), separators=(",", ":")))
    # async: the page starts while the parser is still reading plotly.js's 4.8 MB below it (offline.js waits for it)
    boot, h2 = _script('type="module" async', BOOT)
    plotly = PLOTLY_JS.read_text()
    if re.search(r"</script|<!--", plotly, re.I):
        raise InlineError(f"{PLOTLY_JS}: holds '</script' or '<!--' and cannot travel in a <script> block")
    scripts = (f'<script type="application/json" id="gatescope-trace">{TRACE_SLOT}</script>\n{importmap}\n{boot}\n'
               f'<script type="text/plain" id="gatescope-plotly">{plotly}</script>')
    env = templates(Path(asset_dir("templates"))).env
    # the shell's own words are English; a run's language travels in its config (config_for) for the views' words
    html = env.from_string(PAGE).render(config=page_config(Settings()), refused=None, scripts=Markup(scripts), _=i18n.translator("en"), lang="en")
    head = {'<link rel="stylesheet" href="/static/gatescope.css">': f"<style>{(static / 'gatescope.css').read_text()}</style>",
            '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">':
                f'<link rel="icon" href="{data_url((static / "favicon.svg").read_text(), "image/svg+xml")}" type="image/svg+xml">',
            '<meta charset="utf-8">': f'<meta charset="utf-8">\n  <meta http-equiv="Content-Security-Policy" content="{csp([h1, h2])}">'}
    for old, new in head.items():
        if old not in html:
            raise InlineError(f"templates/base.html: {old!r} is gone; app/standalone.py replaces it")
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

