"""The API's own documentation: /docs served from the app, and a schema that states the server's real limits.

FastAPI's /docs page loads Swagger UI from a CDN and starts it with an inline
script, both of which the page's CSP forbids (nothing outside this origin, no
inline script), so it rendered blank. Here the same Swagger UI comes from
static/vendor/swagger-ui and starts from static/docs.js.

The schema's bounds come from the settings this server runs with, not from
the generous ceilings in schemas.py: a client (or schemathesis) that keeps to
the schema is never refused for a size the schema allowed.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from .config import Settings

#: parameter or property name -> (JSON Schema keyword, setting)
LIMITS = {
    "hidden": ("maximum", "max_hidden"),
    "hidden_size": ("maximum", "max_hidden"),
    "layers": ("maximum", "max_layers"),
    "num_layers": ("maximum", "max_layers"),
    "proj_size": ("maximum", "max_proj_size"),
    "input": ("maxLength", "max_input_chars"),
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gatescope API</title>
<link rel="icon" href="/static/favicon.svg"><link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script><script src="/static/docs.js"></script>
</body></html>"""


def _bound(schema: dict, keyword: str, value: int) -> None:
    """Set ``keyword`` on the schema, or on each typed branch of an anyOf (an optional field)."""
    branches = schema.get("anyOf", [schema])
    for branch in branches:
        if branch.get("type") in ("integer", "number") and keyword == "maximum" or branch.get("type") == "string" and keyword == "maxLength":
            branch[keyword] = min(value, branch.get(keyword, value))


def state_limits(openapi: dict, settings: Settings) -> dict:
    for path in openapi.get("paths", {}).values():
        for op in path.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if param.get("name") in LIMITS:
                    keyword, setting = LIMITS[param["name"]]
                    _bound(param.get("schema", {}), keyword, getattr(settings, setting))
    for schema in openapi.get("components", {}).get("schemas", {}).values():
        for name, prop in schema.get("properties", {}).items():
            if name in LIMITS:
                keyword, setting = LIMITS[name]
                _bound(prop, keyword, getattr(settings, setting))
    return openapi


def install(app: FastAPI, settings: Settings) -> None:
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = state_limits(build(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)
