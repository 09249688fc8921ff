import os
import sys
from pathlib import Path

# tests/reference.py and friends are imported as plain modules.
sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture
def settings(tmp_path):
    from gatescope.app.config import Settings
    return Settings(upload_dir=tmp_path / "models")


@pytest.fixture
def client(settings):
    from fastapi.testclient import TestClient

    from gatescope.app.main import create_app
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(autouse=True)
def _environment_restored():
    """gatescope serve sets GATESCOPE_* and BLAS variables for its workers; a test that runs it must not leak them."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
