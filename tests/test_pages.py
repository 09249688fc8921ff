"""The page routes (server side): HTML shells with a strict policy, plotly.js from the installed package."""

import json
import re
from pathlib import Path

import plotly

from app.routers.pages import csp


def config_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="gatescope-config">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_index_and_embed(client):
    for path, embed in (("/", False), ("/embed", True)):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        cfg = config_of(r.text)
        assert cfg["embed"] is embed and {f["name"] for f in cfg["fields"]} >= {"kind", "input", "step", "panels"}
        policy = r.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy and "frame-ancestors *" in policy
        assert "http" not in policy.replace("frame-ancestors *", "")  # nothing outside the origin


def test_page_loads_nothing_from_outside(client):
    html = client.get("/").text
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/"), url


def test_plotly_comes_from_the_installed_package(client):
    r = client.get("/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.content == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


def test_frame_ancestors_follow_the_setting():
    assert "frame-ancestors 'self' https://slides.example.org" in csp("self https://slides.example.org")
    assert "frame-ancestors 'self';" in csp("self") + ";"
    assert "frame-ancestors *" in csp("*")


def test_user_text_in_the_url_is_not_reflected_into_html(client):
    r = client.get("/", params={"input": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in r.text
