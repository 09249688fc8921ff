"""The standalone page (app/standalone.py), GET /api/export/html and ``gatescope export``: the page's modules go in
byte for byte behind an import map naming them as the served pages' map does, the file reaches nothing outside itself,
the run it holds is the model's own, and the CLI writes /api/trace's own answers or the API's message."""

from __future__ import annotations

import ast
import base64
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gatescope import cells
from gatescope.app import standalone
from gatescope.app.config import Settings
from gatescope.app.errors import AppError
from gatescope.app.main import create_app
from gatescope.app.routers import pages
from gatescope.app.shell import PLOTLY_JS

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "http://www.w3.org/2000/svg"  # an XML namespace name (createElementNS), not a place anything is fetched from
NAMESPACES = (NAMESPACE, "http://www.w3.org/1998/Math/MathML")  # KaTeX's MathML too
NETWORK = re.compile(r"(?:https?|wss?)://[^\s\"'`)<>]*", re.I)


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


@pytest.fixture(scope="module")
def html(client) -> str:
    r = client.get("/api/export/html?preset=adding-lstm&step=3&phase=gates")
    assert r.status_code == 200, r.text
    return r.text


def scripts(html: str) -> dict[str, str]:
    """The file's <script> blocks by their type (or id)."""
    out = {}
    for m in re.finditer(r"<script ([^>]*)>(.*?)</script>", html, re.S):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        out[attrs.get("id") or attrs["type"]] = m.group(2)
    return out


def imports_of(html: str) -> dict[str, str]:
    return json.loads(scripts(html)["importmap"])["imports"]


def decoded(url: str) -> bytes:
    return base64.b64decode(url.split(",", 1)[1])


def test_every_module_goes_in_byte_for_byte(html):
    """The file's import map names each module gatescope/<path under static/>, as the served pages' map does, and
    its data: URL holds the module's file unchanged: the builder reads no JavaScript, so it rewrites none."""
    imports, static = imports_of(html), ROOT / "static"
    modules = {k[len(standalone.PREFIX):]: decoded(u) for k, u in imports.items() if k.endswith(".js")}
    assert all(k.startswith(standalone.PREFIX) for k in imports)
    # the entry, every view views/index.js names (its template import), the offline module and the vendored modules
    names = re.findall(r'"([a-z-]+)",', (static / "views/index.js").read_text().split("NAMES = [")[1].split("]")[0])
    assert names and {f"views/{n}.js" for n in names} | {"main.js", "core/offline.js", "vendor/katex/katex.min.js",
                                                          "vendor/gifenc/gifenc.esm.js"} <= set(modules)
    for path, code in modules.items():
        source = standalone.OFFLINE if path in standalone.SERVED else path  # the served three: the offline module
        assert code == (static / source).read_bytes(), path
    assert len({imports[standalone.PREFIX + m] for m in (*standalone.SERVED, standalone.OFFLINE)}) == 1  # one module instance
    # what static/ holds and the page never loads is left out: the other pages' entries and Swagger UI
    assert not any(m.startswith(standalone.LEFT_OUT) for m in modules)
    every = {p.relative_to(static).as_posix() for p in static.rglob("*.js")}
    assert every - set(modules) == {m for m in every if m.startswith(standalone.LEFT_OUT)}
    # the stylesheet equation.js names by import.meta.resolve: KaTeX's, its woff2 fonts inlined
    css = decoded(imports[standalone.PREFIX + "vendor/katex/katex.min.css"]).decode()
    assert imports[standalone.PREFIX + "vendor/katex/katex.min.css"].startswith("data:text/css;base64,")
    assert "url(fonts/" not in css and css.count("url(data:font/woff2;base64,") == 20


def test_the_builder_has_no_regular_expression():
    """app/standalone.py imports no regular-expression module: it reads no JavaScript (nor anything else) by pattern."""
    tree = ast.parse((ROOT / "app/standalone.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level}
    assert not imported & {"re", "regex"}, imported


def test_the_walk_leaves_out_the_served_modules_and_what_the_page_never_loads(tmp_path):
    files = ["main.js", "core/offline.js", "core/stream.js", "core/api.js", "core/plotly.js", "views/a.js", "compare.js",
             "docs.js", "widget.js", "vendor/swagger-ui/swagger-ui-bundle.js", "vendor/plotly/plotly-cartesian.min.js",
             "vendor/lib/lib.esm.js", "gatescope.css"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(f"// {name}\n".encode())
    assert set(standalone.modules(tmp_path)) == {"main.js", "core/offline.js", "core/plotly.js", "views/a.js", "vendor/lib/lib.esm.js"}
    (tmp_path / "main.js").unlink()
    with pytest.raises(standalone.BuildError, match="static/main.js"):
        standalone.modules(tmp_path)


@pytest.mark.parametrize("path", ["/", "/embed", "/compare?compare=preset:remember-rnn,preset:remember-lstm", "/lesson",
                                  "/lesson/lstm", "/?step=999999"])
def test_the_served_pages_map_the_prefix_to_static_allowed_by_their_csp(client, path):
    """Every page that loads the modules carries the import map, before any module script, and its CSP allows that
    one inline script by its hash (and no other inline script runs)."""
    r = client.get(path)
    page = r.text
    maps = re.findall(r'<script type="importmap">(.*?)</script>', page, re.S)
    assert maps == [pages.IMPORT_MAP] and json.loads(maps[0]) == {"imports": {standalone.PREFIX: "/static/"}}
    assert page.index('type="importmap"') < page.index('type="module"')
    digest = base64.b64encode(hashlib.sha256(maps[0].encode()).digest()).decode()
    policy = dict((d.split(" ", 1) + [""])[:2] for d in r.headers["content-security-policy"].split("; "))
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"


def test_the_file_reaches_nothing_outside_itself(html):
    blocks = scripts(html)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    policy = dict((d.split(" ", 1) + [""])[:2] for d in csp.split("; "))
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'none'" and "'unsafe-inline'" not in policy["script-src"]
    for kind in ("importmap", "module"):  # the two inline scripts that run are allowed by their hashes, nothing else inline
        digest = base64.b64encode(hashlib.sha256(blocks[kind].encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    imports = json.loads(blocks["importmap"])["imports"]
    assert all(url.startswith(("data:text/javascript;base64,", "data:text/css;base64,")) for url in imports.values())
    for key, url in imports.items():
        found = [u for u in NETWORK.findall(decoded(url).decode()) if u not in NAMESPACES]
        assert not found, (key, found)
    # the HTML around the scripts: no src= or href= to anything but data: (plotly.js is an inert text block, run from blob:)
    outside = re.sub(r"<script [^>]*>.*?</script>", "", html, flags=re.S)
    assert not NETWORK.findall(outside.replace(NAMESPACE, ""))
    assert not re.findall(r"""(?:src|href)=["'](?!data:|#)""", outside)
    # plotly.js itself, not a link to it: the vendored bundle, gzipped, as base64 (core/plotly.js unzips and runs it)
    assert gzip.decompress(base64.b64decode(blocks["gatescope-plotly"], validate=True)) == PLOTLY_JS.read_bytes()


def test_the_adding_problems_file_is_at_most_2_5_mb(html):
    """Issue 19's bound on the file (6.3 MB with the full plotly.js as plain text): a size, not a timing."""
    assert len(html.encode()) <= 2_500_000, len(html.encode())


def test_the_run_in_the_file_is_the_models_own_run():
    model = cells.build("gru", 2, 5, seed=3)
    xs = np.random.default_rng(0).standard_normal((7, 2))
    body = standalone.payload(model, xs, {"step": 2, "phase": "candidate"})
    h = body["header"]
    rows = np.frombuffer(base64.b64decode(body["rows"]), "<f4").reshape(h["steps"], h["stride"])
    trace = model.run(xs)
    assert [f["name"] for f in h["fields"]] == list(model.glossary.keys())  # every name of the kind, nothing else
    for f in h["fields"]:
        np.testing.assert_allclose(rows[:, f["offset"]:f["offset"] + f["width"]], trace.layer(0, 0)[f["name"]], rtol=1e-5, atol=1e-6)
    assert body["state"]["step"] == 2 and body["state"]["phase"] == "candidate" and body["summary"]["steps"] == 7
    assert body["flow"] and len(body["flow"]["h"]) == 7
    config = standalone.config_for(body["state"], Settings())
    assert {f["name"]: f["default"] for f in config["fields"]}["step"] == 2  # the file's view state is its page's defaults
    page = standalone.page(body)
    assert json.loads(scripts(page)["gatescope-trace"])["rows"] == body["rows"]


def test_payload_refuses_a_bad_view_naming_field_value_and_limit():
    model = cells.build("lstm", 1, 3, seed=0)
    with pytest.raises(AppError) as e:
        standalone.payload(model, np.zeros((4, 1)), {"step": 4})
    assert e.value.status == 422 and "step: 4" in e.value.detail and "3" in e.value.detail
    with pytest.raises(AppError) as e:
        standalone.payload(model, np.zeros((4, 1)), {"digits": 99})
    assert e.value.status == 422 and "digits" in e.value.detail


def test_the_route_is_a_download_and_refuses_a_step_past_the_run_or_a_file_over_the_cap(client):
    r = client.get("/api/export/html?preset=adding-lstm")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-disposition"] == 'attachment; filename="gatescope.html"'
    r = client.get("/api/export/html?preset=adding-lstm&step=5000")
    assert r.status_code == 422 and r.json()["field"] == "step" and "5000" in r.json()["detail"]
    small = TestClient(create_app(Settings(max_json_values=100)))
    r = small.get("/api/export/html?preset=adding-lstm")
    assert r.status_code == 413 and "max_json_values".upper() in r.json()["detail"] and "100" in r.json()["detail"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatescope.app.cli", "export", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_the_cli_writes_the_apis_own_json_npz_and_csv(tmp_path, client):
    query = "preset=adding-lstm&input=0.5 1; 0 1; 1 0&names=h,c"
    args = ["--preset", "adding-lstm", "--input", "0.5 1; 0 1; 1 0", "--set", "names=h,c"]
    for fmt in ("json", "csv", "npz"):
        done = cli(*args, "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / f"out.{fmt}").read_bytes() == client.get(f"/api/trace?{query}&format={fmt}").content or fmt == "npz"
    with zipfile.ZipFile(io.BytesIO((tmp_path / "out.npz").read_bytes())) as z:
        assert {"layer0/forward/h.npy", "layer0/forward/c.npy", "tokens.npy"} <= set(z.namelist())


def test_the_cli_writes_a_standalone_page_of_a_model_file(tmp_path):
    model = cells.build("gru", 2, 4, seed=1)
    model.save(tmp_path / "m.safetensors")
    done = cli("--model", str(tmp_path / "m.safetensors"), "--input", "1 0; 0 1", "--step", "1", "-o", str(tmp_path / "v.html"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "MB" in done.stdout
    body = json.loads(scripts((tmp_path / "v.html").read_text())["gatescope-trace"])
    assert body["header"]["model"]["kind"] == "gru" and body["header"]["steps"] == 2 and body["state"]["step"] == 1


@pytest.mark.parametrize("args, says", [
    (["--set", "step=-4"], ["step", "-4", "greater than or equal to 0"]),
    (["--set", "digits=40"], ["digits", "40", "less than or equal to"]),
    (["--step", "999"], ["step: 999", "past the run's last step"]),
    (["--kind", "lstm", "--set", "hidden=5000"], ["hidden", "5000", "1024", "GATESCOPE_MAX_HIDDEN"]),
    (["--set", "nonsense"], ["--set", "'nonsense'", "NAME=VALUE"]),
    (["--model", "/no/such.safetensors"], ["model", "/no/such.safetensors", "not a file"]),
    (["--set", "colour=red"], ["--set", "'colour'", "palette"]),
])
def test_the_cli_refuses_a_bad_view_with_the_apis_message(tmp_path, args, says):
    source = [] if "--kind" in args or "--model" in args else ["--preset", "adding-lstm"]
    done = cli(*source, *args, "-o", str(tmp_path / "x.html"), cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert all(s in done.stderr for s in says), done.stderr
    assert not (tmp_path / "x.html").exists()  # nothing is left behind


def test_text_that_looks_like_markup_stays_data(client):
    typed = "a <!--<script>x</script> b"
    r = client.get("/api/export/html", params={"kind": "lstm", "hidden": 4, "input": typed})
    assert r.status_code == 200, r.text
    blocks = scripts(r.text)
    assert json.loads(blocks["gatescope-trace"])["header"]["request"]["input"] == typed
    assert json.loads(blocks["gatescope-config"])["view"]["input"] == typed
    assert r.text.count("<script ") == 5  # config, trace, import map, boot, plotly: nothing the input opened


def test_a_stacked_model_carries_every_layer_and_direction():
    model = cells.build("lstm", 3, 4, num_layers=2, bidirectional=True, seed=5)
    xs = np.random.default_rng(2).standard_normal((6, 3))
    body = standalone.payload(model, xs, {"layer": 0})
    runs = [body, *body["others"]]
    assert sorted((r["header"]["layer"], r["header"]["direction"]) for r in runs) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert (body["header"]["layer"], body["header"]["direction"]) == (0, 0)  # the shown one first
    trace = model.run(xs)
    for run in runs:
        h = run["header"]
        rows = np.frombuffer(base64.b64decode(run["rows"]), "<f4").reshape(h["steps"], h["stride"])
        c = next(f for f in h["fields"] if f["name"] == "c")
        np.testing.assert_allclose(rows[:, c["offset"]:c["offset"] + c["width"]], trace.layer(h["layer"], h["direction"])["c"], atol=1e-6)
    assert body["flow"] is None and "bidirectional" in body["flow_error"]  # what /api/gradients would say


def test_the_other_layers_are_left_out_when_together_they_are_over_the_cap():
    model = cells.build("gru", 2, 8, num_layers=3, seed=0)
    one = standalone.payload(model, np.zeros((10, 2)))
    values = sum(r["header"]["stride"] * 10 for r in [one, *one["others"]])
    assert len(one["others"]) == 2
    capped = standalone.payload(model, np.zeros((10, 2)), settings=Settings(max_json_values=values - 1))
    assert capped["others"] == [] and capped["rows"] == one["rows"]
