"""The container image, built as Docker would build it, without Docker (no engine runs where gatescope is tested).

The test reads the Dockerfile, reproduces each stage's build context from its COPY lines (the repository filtered by
.dockerignore, as Docker sends it), runs its RUN pip steps in an empty folder and a fresh virtualenv, then starts the
installed ``gatescope serve`` and asks it what a user would: /healthz, a page, a lesson, and ``import gatescope``.
Two departures, both to need no network: the wheel is built with this environment's hatchling (--no-build-isolation)
rather than one pip fetches, and the fresh virtualenv borrows this environment's dependencies (a .pth file) rather
than downloading them; the image gets the same packages from the index.
"""

import fnmatch
import re
import shlex
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.M)]


def ignored(patterns: list[str]):
    """Docker's .dockerignore: a path is out when the last pattern that matches it, or one of its parent folders, is
    not a "!" exception. Patterns are relative to the context, ** matches any number of folders."""
    rules = [(p[1:] if p.startswith("!") else p, not p.startswith("!")) for p in patterns]

    def regex(pattern: str) -> re.Pattern:
        parts = [r"(?:.*/)?" if part == "**" else fnmatch.translate(part)[4:-3] for part in pattern.strip("/").split("/")]
        return re.compile("/".join(parts).replace("(?:.*/)?/", "(?:.*/)?") + r"\Z", re.S)

    compiled = [(regex(p), out) for p, out in rules]

    def test(rel: str) -> bool:
        parts, verdict = rel.split("/"), False
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]  # the path and the folders above it
        for rx, out in compiled:  # in order: the last rule that matches decides
            if any(rx.match(p) for p in prefixes):
                verdict = out
        return verdict

    return test


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def context(into: Path, source: str = ".") -> list[str]:
    """What ``COPY <source>`` takes from the build context Docker would send: the repository's files under ``source``
    that .dockerignore lets through (untracked ones too, as Docker knows nothing of git), put in ``into`` as Docker
    puts them (a folder's contents, or the file itself)."""
    out, base = ignored(dockerignore()), (ROOT / source).resolve()
    sent = []
    for path in sorted([base] if base.is_file() else base.rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if path.is_file() and not out(rel):
            target = into / (path.name if base.is_file() else path.relative_to(base).as_posix())
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            sent.append(rel)
    return sent


def test_dockerignore_keeps_out_what_no_image_should_carry():
    out = ignored(dockerignore())
    for rel in (".git/config", ".venv/bin/python", "tests/test_container.py", "bench/soak.py", "artifacts/browser/x.png",
                "cells/__pycache__/model.cpython-311.pyc", "app/routers/__pycache__/api.cpython-311.pyc", ".pytest_cache/v",
                "docs/screenshot.png", ".ci/run"):
        assert out(rel), rel
    for rel in ("pyproject.toml", "README.md", "hatch_build.py", "gatescope/__init__.py", "cells/kinds/lstm.py", "app/main.py",
                "templates/index.html", "static/main.js", "lessons/lstm.json", "cells/presets/adding-lstm.safetensors"):
        assert not out(rel), rel
    # the matcher itself: an exception lets a file back in, ** spans folders
    rule = ignored(["docs", "!docs/keep.md", "**/*.tmp"])
    assert rule("docs/a.png") and not rule("docs/keep.md") and rule("a/b/c.tmp") and rule("c.tmp") and not rule("c.tmpx")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wheel_of(spec: Path, work: Path) -> str:
    """What ``pip install <spec>`` installs, as a wheel file: the wheel(s) a glob names, or one built from a source
    folder (pip builds it so too, before installing it)."""
    if spec.is_dir():
        out = work / "built"
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--wheel-dir",
                               str(out), str(spec)], capture_output=True, text=True)
        assert done.returncode == 0, f"pip install {spec.name}: building its wheel failed:\n{done.stderr[-3000:]}"
        return str(next(out.glob("*.whl")))
    found = sorted(spec.parent.glob(spec.name))
    assert len(found) == 1, f"pip install {spec}: {len(found)} files match"
    return str(found[0])


def build_stages(dockerfile: str, work: Path) -> Path:
    """Run the Dockerfile's stages here: each stage's COPY into its own folder (its WORKDIR), its RUN pip commands with
    the image's absolute paths mapped under ``work``. Returns the fresh virtualenv the last stage installed into."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    stage, workdir = None, None
    stages: dict[str, Path] = {}
    for op, args in instructions(dockerfile):
        if op == "FROM":
            stage = args.split(" AS ")[-1].strip() if " AS " in args.upper() else f"stage{len(stages)}"
            stages[stage] = work / stage
            workdir = stages[stage] / "root"
            workdir.mkdir(parents=True)
        elif op == "WORKDIR":
            workdir = stages[stage] / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif op == "COPY":
            words = shlex.split(args)
            source = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
            *srcs, dest = [w for w in words if not w.startswith("--")]
            target = stages[stage] / dest.lstrip("/") if dest.startswith("/") else workdir / dest
            target.mkdir(parents=True, exist_ok=True)
            for src in srcs:
                if source is None:  # from the build context
                    context(target, src)
                else:  # from an earlier stage
                    for f in (stages[source] / src.lstrip("/")).iterdir():
                        (target / f.name).write_bytes(f.read_bytes())
        elif op == "RUN" and re.match(r"pip (wheel|install)", args):
            for command in args.split("&&"):
                words = shlex.split(command.replace(" /", f" {stages[stage]}/"))
                if words[:2] == ["pip", "wheel"]:
                    run = [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", *words[2:]]
                elif words[:2] == ["pip", "install"]:
                    wheels = [wheel_of(workdir / f, work) for f in words[2:] if not f.startswith("-")]
                    run = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", "--no-deps",
                           "--no-index", *wheels]
                elif words[:2] == ["rm", "-rf"]:
                    continue
                else:
                    raise AssertionError(f"RUN {command!r}: the test knows how to run pip wheel and pip install only")
                done = subprocess.run(run, cwd=workdir, capture_output=True, text=True)
                assert done.returncode == 0, f"RUN {command.strip()}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}  # the dependencies, borrowed, after its own
    (site / "_borrowed_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return venv


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode()


@pytest.mark.timeout(600)
def test_the_image_builds_and_serves_from_its_dockerfile(tmp_path):
    venv = build_stages((ROOT / "Dockerfile").read_text(), tmp_path)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "GATESCOPE_UPLOAD_DIR": str(tmp_path / "models")}
    done = subprocess.run([str(venv / "bin" / "python"), "-c", "import gatescope, gatescope.app, gatescope.cells; print(gatescope.__file__)"],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0 and done.stdout.startswith(str(venv)), done.stdout + done.stderr
    port = free_port()
    cmd = [l for op, l in instructions((ROOT / "Dockerfile").read_text()) if op == "CMD"][-1]
    argv = [str(venv / "bin" / a) if a == "gatescope" else a for a in __import__("json").loads(cmd)]
    argv[argv.index("--port") + 1], argv[argv.index("--host") + 1] = str(port), "127.0.0.1"
    server = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        while True:  # the suite's per-test timeout bounds this wait
            assert server.poll() is None, server.stdout.read().decode()
            try:
                status, body = get(base + "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200 and '"status":"ok"' in body.replace(" ", "")
        status, page = get(base + "/?preset=adding-lstm")
        assert status == 200 and "gatescope-config" in page
        status, lesson = get(base + "/lesson/lstm")
        assert status == 200 and "lesson" in lesson
        status, js = get(base + "/static/main.js")
        assert status == 200 and "import" in js
        healthcheck = next(l for op, l in instructions((ROOT / "Dockerfile").read_text()) if op == "HEALTHCHECK")
        probe = __import__("json").loads(healthcheck.split("CMD", 1)[1])  # the image's HEALTHCHECK, against this server
        probe[-1] = probe[-1].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        assert subprocess.run([str(venv / "bin" / probe[0]), *probe[1:]], env=env, timeout=60).returncode == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
