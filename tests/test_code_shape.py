"""The house rules that keep the code readable, checked on the source itself.

- No file over 400 lines and no function over 60 lines in cells/, app/ and static/.
- Nothing outside cells/kinds/ names a cell kind: the server, the trainer and the page read the registry.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from gatescope import cells

ROOT = Path(__file__).resolve().parents[1]
PY = sorted(p for d in ("cells", "app", "gatescope") for p in (ROOT / d).rglob("*.py"))
JS = sorted(p for p in (ROOT / "static").rglob("*.js") if "vendor" not in p.parts)
MAX_FILE, MAX_FUNCTION = 400, 60

# Where a kind's name is not the registry's business, and why.
NAMES_A_KIND = {
    ("cells/training/make_presets.py", "lstm"): "the kinds the shipped presets were trained for: one file each in cells/presets/",
    ("cells/training/make_presets.py", "gru"): "as above",
    ("cells/training/make_presets.py", "rnn"): "as above",
    ("cells/training/make_presets.py", "mingru"): "as above",
    ("cells/training/make_presets.py", "minlstm"): "as above",
    ("cells/diagrams.py", "peephole"): "an edge style (a peephole wire), not the kind",
    ("app/responses.py", "peephole"): "the same edge style in the diagram's schema",
    ("static/views/diagram-figure.js", "peephole"): "the same edge style, drawn dashed",
    ("app/first_paint.py", "peephole"): "the same edge style, in the page's first drawing of the diagram",
}


def rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def js_functions(lines: list[str]):
    """(first line, length) of each function, method and braced arrow function: counted by brace depth."""
    start = re.compile(r"^\s*(export\s+)?(async\s+)?(function\b|(static\s+)?(async\s+)?(get\s+|set\s+)?#?\w+\s*\(.*\)\s*\{\s*$"
                       r"|(const|let)\s+\w+\s*=\s*(async\s*)?(\([^)]*\)|\w+)\s*=>\s*\{)")
    for i, line in enumerate(lines):
        if not start.match(line) or re.match(r"^\s*(if|for|while|switch|catch|return)\b", line):
            continue
        depth, opened = 0, False
        for j in range(i, len(lines)):
            code = re.sub(r"\"(\\.|[^\"])*\"|'(\\.|[^'])*'|`[^`]*`|//.*$", "", lines[j])
            depth += code.count("{") - code.count("}")
            opened = opened or "{" in code
            if opened and depth <= 0:
                yield i + 1, j - i + 1
                break


@pytest.mark.parametrize("path", PY + JS, ids=rel)
def test_files_and_functions_are_short(path):
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_FILE, f"{rel(path)} has {len(lines)} lines"
    if path.suffix == ".py":
        long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(ast.parse("\n".join(lines)))
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > MAX_FUNCTION]
    else:
        long = [(f"line {at}", n) for at, n in js_functions(lines) if n > MAX_FUNCTION]
    assert not long, f"{rel(path)}: functions over {MAX_FUNCTION} lines: {long}"


def test_the_js_measure_finds_a_long_function():
    """The brace count sees a function's whole body, strings with braces and all."""
    body = ["function big() {"] + ['  const s = "}";'] * 70 + ["}"]
    assert list(js_functions(body)) == [(1, 72)]


def python_strings(path: Path):
    """Every string literal of a module's code (not its docstrings)."""
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def js_strings(path: Path):
    code = "\n".join(re.sub(r"^\s*(//|\*|/\*).*$", "", line) for line in path.read_text().splitlines())
    return [m.group(2) for m in re.finditer(r"([\"'`])([^\"'`\n]*)\1", code)]


def test_nothing_outside_the_kinds_names_a_kind():
    kinds = set(cells.KINDS)
    templates = sorted((ROOT / "templates").glob("*.html"))
    found = set()
    for path in PY + JS + templates:
        if rel(path).startswith("cells/kinds/"):
            continue
        strings = python_strings(path) if path.suffix == ".py" else js_strings(path)
        found |= {(rel(path), s) for s in strings if s in kinds}
    assert found <= set(NAMES_A_KIND), sorted(found - set(NAMES_A_KIND))


# -- imports: no cycle, and the engine under the server ------------------------------------------------------------

class Import(NamedTuple):
    line: int
    lazy: bool  # in a function: it runs later, but a cycle it closes is still a cycle (lazy imports are how cycles hide)


#: the folders as the installed distribution names them (pyproject.toml maps cells/ and app/ into gatescope)
PACKAGE_OF = {"cells": "gatescope.cells", "app": "gatescope.app", "gatescope": "gatescope"}


def module_names(root: Path, packages) -> dict[str, Path]:
    """Dotted name -> file of every module of the packages (a package is its __init__), named as they are imported."""
    out = {}
    for path in sorted(p for d in packages for p in (root / d).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        parts = (*PACKAGE_OF.get(parts[0], parts[0]).split("."), *parts[1:])
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _type_checking(test: ast.expr) -> bool:
    return getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING"


def imported_names(name: str, path: Path, tree: ast.Module, modules) -> list[tuple[str, ast.AST]]:
    """(dotted name, node) of every import the module's code can run, at any depth, relative ones resolved; names
    that are not modules of ``modules`` are cut back to the module that holds them (or dropped: numpy, os...).
    `import_module(f"{__name__}.{x}")` (how cells/kinds loads its kinds) imports every module of the package; imports
    under `if TYPE_CHECKING:` never run and are not counted."""
    never = {id(n) for i in ast.walk(tree) if isinstance(i, ast.If) and _type_checking(i.test) for s in i.body for n in ast.walk(s)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in never:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            base = ".".join(parts + ([node.module] if node.module else []))
            found += [(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base, node) for a in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.JoinedStr)):
            head = node.args[0].values
            if head and isinstance(head[0], ast.FormattedValue) and getattr(head[0].value, "id", None) == "__name__":
                found += [(m, node) for m in modules if m.rpartition(".")[0] == name]
    out = []
    for target, node in found:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        out += [(target, node)] if target else []
    return out


def import_graph(root: Path, packages) -> dict[str, dict[str, Import]]:
    """module -> {module it imports: where}. Importing a.b.c runs a and a.b first, so those count too, except the
    packages the importer is itself inside (they are already running when it is)."""
    modules = module_names(root, packages)
    graph: dict[str, dict[str, Import]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        lazy = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)}
        edges = graph.setdefault(name, {})
        for target, node in imported_names(name, path, tree, modules):
            parts = target.split(".")
            for t in [".".join(parts[:i]) for i in range(1, len(parts))] + [target]:
                if t != name and (t == target or not name.startswith(t + ".")) and t not in edges:
                    edges[t] = Import(node.lineno, id(node) in lazy)
    return graph


def import_cycles(graph: dict[str, dict[str, Import]], files: dict[str, str] | None = None) -> list[str]:
    """One cycle of each strongly connected group of modules, written out hop by hop with the import that makes it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v):  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    out = []
    for group in groups:  # the shortest way round from the group's first module, breadth first
        start, came = group[0], {}
        todo = [start]
        while start not in came:
            v = todo.pop(0)
            for w in sorted(graph[v]):
                if w in group and w not in came:
                    came[w] = v
                    todo.append(w)
        path = [start]
        while len(path) == 1 or path[-1] != start:
            path.append(came[path[-1]])
        path.reverse()
        hops = [f"{a} -> {b} ({files[a] if files else a}:{graph[a][b].line}{', in a function' if graph[a][b].lazy else ''})"
                for a, b in zip(path, path[1:])]
        others = sorted(set(group) - set(path))
        out.append(f"{' -> '.join(path)}: " + "; ".join(hops) + (f" (in one knot with {', '.join(others)})" if others else ""))
    return out


def cycles_among(packages, root: Path = ROOT) -> list[str]:
    """The import cycles among the modules of ``packages`` (their imports of anything else left out)."""
    files = {m: p.relative_to(root).as_posix() for m, p in module_names(root, packages).items()}
    return import_cycles(import_graph(root, packages), files)


def test_nothing_imports_in_a_cycle():
    cycles = cycles_among(("cells", "app", "gatescope"))
    assert not cycles, "\n".join(cycles)


def reachable(graph: dict, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph.get(todo.pop(), {}):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


SERVER = tuple(f"gatescope.app.{m}" for m in ("main", "routers", "handlers", "middleware", "sockets", "deps"))
NOTEBOOK = ("gatescope.api", "gatescope.widget", "gatescope.frameworks")  # the Python front door


def test_dependencies_run_engine_then_run_then_server_offline_notebook():
    """engine <- run <- {server, offline, notebook}: the run layer reaches none of the three, the offline page and the
    notebook reach no part of the server, and the engine reaches nothing of the app (imports in functions count)."""
    root = Path(__file__).resolve().parents[1]
    graph = import_graph(root, ("cells", "app", "gatescope"))
    below = {"gatescope.app.run": SERVER + ("gatescope.app.standalone", *NOTEBOOK), "gatescope.app.standalone": SERVER + NOTEBOOK,
             **{m: SERVER for m in NOTEBOOK}, "gatescope.cells": ("gatescope.app", *NOTEBOOK)}
    for module, forbidden in below.items():
        reached = reachable(graph, module) | {m for m in graph if m.startswith(module + ".") for m in reachable(graph, m)}
        bad = sorted(m for m in reached if any(m == f or m.startswith(f + ".") for f in forbidden))
        assert not bad, f"{module} reaches {bad}"


def test_the_import_check_sees_relative_and_lazy_imports(tmp_path):
    """The check can fail: a cycle closed by a relative import inside a function, and one through a package's __init__
    (importing p.sub.c runs p/sub/__init__.py first)."""
    files = {"p/__init__.py": "from .a import A\n", "p/a.py": "from . import b\nA = 1\n",
             "p/b.py": "def later():\n    from .a import A\n    return A\n",
             "p/sub/__init__.py": "from ..d import D\n", "p/sub/c.py": "x = 1\n", "p/d.py": "from p.sub.c import x\nD = x\n",
             "p/e.py": "import numpy\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, ("p",))
    assert graph["p.b"]["p.a"] == Import(2, True) and graph["p.a"]["p.b"] == Import(1, False)
    assert set(graph["p.d"]) == {"p.sub", "p.sub.c"} and graph["p.e"] == {}  # a.b.c runs a.b first; numpy is not ours
    assert import_cycles(graph) == ["p.a -> p.b -> p.a: p.a -> p.b (p.a:1); p.b -> p.a (p.b:2, in a function)",
                                    "p.d -> p.sub -> p.d: p.d -> p.sub (p.d:1); p.sub -> p.d (p.sub:1)"]


# What the engine must never import: the server, the notebook layer, and the web frameworks they bring.
ABOVE_THE_ENGINE = ("app", "gatescope.app", "gatescope.api", "gatescope.widget", "gatescope.frameworks", "fastapi", "starlette", "pydantic", "pydantic_settings", "uvicorn", "jinja2",
                    "anywidget", "traitlets")


def test_the_engine_imports_nothing_above_it():
    """cells/ is the engine (NumPy and safetensors): app/ and gatescope/ build on it, never the other way round."""
    found = []
    for path in sorted((ROOT / "cells").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{rel(path)}:{node.lineno} imports {n}" for n in names
                      if any(n == a or n.startswith(a + ".") for a in ABOVE_THE_ENGINE) or n in ("gatescope", "cells")]
    assert not found, found


# -- the page's modules import each other by the import map's names -------------------------------------------------
# Every import in static/ (vendored libraries aside) names gatescope/<path under static/>, the name the pages' import map
# resolves (templates/base.html: to /static/) and the standalone file's map too (app/standalone.py: to data: URLs, each
# module byte for byte). A relative specifier would work on the server and not in the file, where nothing rewrites it.
# A lint of our own sources, so patterns are fine here: the builder itself reads no JavaScript.

IMPORT_PREFIX = "gatescope/"
STATIC_IMPORT = re.compile(r"""^[ \t]*(?:import[\w\s{},*$]*?\bfrom|export\s*(?:\*(?:\s*as\s+\w+)?|\{[^}]*\})\s*from|import)\s*"""
                           r"""(?P<q>["'])(?P<spec>[^"'\n]*)(?P=q)""", re.M)
STATEMENT = re.compile(r"^[ \t]*import\b(?![ \t]*[(.])", re.M)  # an import statement (not import() or import.meta)
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*(?:(?P<q>["'`])(?P<spec>[^"'`\n]*)(?P=q)\s*\))?""")
META = re.compile(r"""\bimport\.meta\b(?:\.resolve\(\s*(?P<q>["'])(?P<spec>[^"'\n]*)(?P=q)\s*\))?""")


def bad_imports(code: str, static: Path) -> list[str]:
    """What in a module's code is not an import by the import map's name of an existing file (comments skipped)."""
    code = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), code, flags=re.S)
    code = re.sub(r"^([ \t]*)//[^\n]*", r"\1", code, flags=re.M)
    line = lambda pos: code.count("\n", 0, pos) + 1
    out, found = [], []
    for m in STATIC_IMPORT.finditer(code):
        found.append((line(m.start()), m.group("spec"), "import"))
    if len(STATEMENT.findall(code)) > len([f for f in found if f[2] == "import"]):
        out.append("an import statement whose specifier is not a string literal")
    for m in DYNAMIC_IMPORT.finditer(code):
        if m.group("spec") is None:
            out.append(f"line {line(m.start())}: import() of something other than a literal or a template")
        else:
            found.append((line(m.start()), m.group("spec"), "import()"))
    for m in META.finditer(code):
        if m.group("spec") is None:
            out.append(f"line {line(m.start())}: import.meta other than import.meta.resolve(\"{IMPORT_PREFIX}...\")")
        else:
            found.append((line(m.start()), m.group("spec"), "import.meta.resolve"))
    for at, spec, how in found:
        if not spec.startswith(IMPORT_PREFIX):
            out.append(f"line {at}: {how} {spec!r} is not {IMPORT_PREFIX}<path under static/>")
            continue
        path = spec[len(IMPORT_PREFIX):]
        head = path.split("${", 1)[0]  # a template: its folder must be there
        target = static / (head.rsplit("/", 1)[0] if "${" in path else path)
        if not (target.is_dir() if "${" in path else target.is_file()):
            out.append(f"line {at}: {how} {spec!r} names nothing under static/")
    return out


@pytest.mark.parametrize("path", JS, ids=rel)
def test_every_import_is_by_the_import_maps_name(path):
    bad = bad_imports(path.read_text(), ROOT / "static")
    assert not bad, f"{rel(path)}: {bad}"


def test_the_import_lint_finds_what_the_standalone_file_could_not_resolve():
    static = ROOT / "static"
    good = ('import { a } from "gatescope/core/bus.js";\nimport "gatescope/vendor/katex/katex.min.js";\n'
            'import {\n  b,\n  c,\n} from "gatescope/core/text.js";\nexport { d } from "gatescope/core/i18n.js";\n'
            'const m = await import(`gatescope/views/${name}.js`);\nconst u = import.meta.resolve("gatescope/vendor/katex/katex.min.css");\n'
            '// import x from "./in-a-comment.js"\nconst s = Array.from(x);\n')
    assert bad_imports(good, static) == []
    for code, says in [('import { a } from "./bus.js";\n', "'./bus.js' is not"),
                       ('import "/static/core/bus.js";\n', "is not"),
                       ('import {\n  a,\n} from "../core/bus.js";\n', "line 1"),
                       ('export * from "./x.js";\n', "is not"),
                       ('const m = await import(`./${name}.js`);\n', "is not"),
                       ('const m = await import(name);\n', "import() of something"),
                       ('const u = new URL("../x.css", import.meta.url);\n', "import.meta other"),
                       ('import { a } from "gatescope/core/nowhere.js";\n', "names nothing"),
                       ('import { a } from "lodash";\n', "is not")]:
        found = bad_imports(code, static)
        assert found and says in " ".join(found), (code, found)


def test_every_module_is_imported_by_its_one_name():
    """gatescope.cells and gatescope.app, never the folders' bare names: a module imported under two names is two
    modules (two registries of kinds, two CellsError classes), and the bare names belong to the user's own project."""
    found = []
    for path in PY + sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names if n and n.split(".")[0] in ("cells", "app")]
    assert not found, found
