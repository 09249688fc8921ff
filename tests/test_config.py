"""Settings refuse what would silently weaken a limit."""

import pytest
from pydantic import ValidationError

from app.config import Settings


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.example", "127.0.0.1,10.0.0.2"])
def test_a_malformed_proxy_is_refused_not_read_as_trust_nobody(value, tmp_path):
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(upload_dir=tmp_path, trusted_proxies=value)


def test_proxies_take_addresses_networks_and_any(tmp_path):
    assert Settings(upload_dir=tmp_path, trusted_proxies="127.0.0.1 10.0.0.0/8 ::1 *").trusted_proxies.split()[-1] == "*"


@pytest.mark.parametrize("value", ["slides.example", "https://slides.example/deck", "ftp://slides.example"])
def test_allowed_origins_must_be_origins(value, tmp_path):
    with pytest.raises(ValidationError, match="allowed_origins"):
        Settings(upload_dir=tmp_path, allowed_origins=value)


def test_the_server_runs_one_blas_thread_per_computation_unless_told(monkeypatch):
    import os

    from app import cli
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)  # restored after the test: cli.main sets all three
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setattr(cli.uvicorn, "run", lambda *a, **k: None)
    cli.main(["serve", "--port", "0"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "3"
