"""The house rules that keep the code readable, checked on the source itself.

- No file over 400 lines and no function over 60 lines in cells/, app/ and static/.
- Nothing outside cells/kinds/ names a cell kind: the server, the trainer and the page read the registry.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import cells

ROOT = Path(__file__).resolve().parents[1]
PY = sorted(p for d in ("cells", "app", "gatescope") for p in (ROOT / d).rglob("*.py"))
JS = sorted(p for p in (ROOT / "static").rglob("*.js") if "vendor" not in p.parts)
MAX_FILE, MAX_FUNCTION = 400, 60

# Where a kind's name is not the registry's business, and why.
NAMES_A_KIND = {
    ("cells/training/make_presets.py", "lstm"): "the kinds the shipped presets were trained for: one file each in cells/presets/",
    ("cells/training/make_presets.py", "gru"): "as above",
    ("cells/training/make_presets.py", "rnn"): "as above",
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
