"""/docs renders under the page's CSP, from the app's own copy of Swagger UI, and asks nobody else for anything."""

from urllib.parse import urlsplit


def test_docs_render_from_the_app(tab):
    tab.open("/docs", ready=False)
    tab.until("document.querySelectorAll('#swagger-ui .opblock').length > 10", what="Swagger UI lists the operations", timeout=20)
    paths = tab.js("[...document.querySelectorAll('#swagger-ui .opblock-summary-path')].map(e => e.textContent)")
    assert any(p.startswith("/api/trace") for p in paths), paths
    assert tab.js("document.querySelector('#swagger-ui .info .title').textContent").startswith("gatescope")
    origin = urlsplit(tab.base).netloc
    assert all(urlsplit(u).netloc == origin for u in tab.requests if urlsplit(u).scheme in ("http", "https")), tab.requests
    assert tab.errors == []
    assert not [m for m in tab.console if "Content Security Policy" in m or "Refused" in m], tab.console
    tab.shot()
