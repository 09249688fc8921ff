"""The page's shell, for the server and the offline file alike: where its templates and static files are, the
Jinja2 templates, and the page's config (what static/main.js reads). Neither the server's routes nor the
standalone file import each other for these (app/run's rule: the server and the offline page stand side by side)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from gatescope import cells

from . import __version__, i18n
from . import store as store_mod
from .config import Settings
from .schemas import view_fields

PACKAGE = Path(__file__).parent


def asset_dir(name: str) -> Path:
    """templates/ and static/: inside the installed package, or at the top of a source checkout."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name


#: plotly.js's partial "cartesian" bundle (heatmap, scatter, bar and the other 2-D traces), vendored from npm
#: (static/vendor/README.md): the server's /vendor/plotly.min.js, and the copy a standalone file carries
PLOTLY_JS = asset_dir("static") / "vendor" / "plotly" / "plotly-cartesian.min.js"


def templates(directory: Path | None = None) -> Jinja2Templates:
    """The pages' templates; each is rendered with _() in the request's language (app/i18n)."""
    return Jinja2Templates(directory=str(directory or asset_dir("templates")), context_processors=[i18n.context])


def page_config(s: Settings, embed: bool) -> dict:
    """What the page's script reads of the server: the view's fields, the kinds and presets, the limits it checks."""
    return {
        "embed": embed,
        "version": __version__,
        "fields": view_fields(),
        # the model menu's words, English and (zh, as in GET /api/kinds) Chinese; a kind registered without Chinese has zh {}
        "kinds": [{"name": k, "title": kind.title, "zh": {w: kind.zh[w] for w in ("title",) if w in kind.zh},
                   "simplifies": kind.simplifies and kind.simplifies[0]}   # /compare's ablation ladder
                  for k, kind in cells.REGISTRY.items()],
        "default_kind": cells.kinds.DEFAULT,
        "presets": store_mod.list_presets(),
        "default_preset": s.default_preset,
        "limits": {"max_steps": s.max_steps, "max_hidden": s.max_hidden, "max_layers": s.max_layers,
                   "max_upload_bytes": s.max_upload_bytes, "max_input_chars": s.max_input_chars,
                   "max_train_steps": s.max_train_steps, "max_train_hidden": s.max_train_hidden, "training": s.max_training_jobs > 0,
                   "max_export_frames": s.max_export_frames, "max_export_pixels": s.max_export_pixels},
    }
