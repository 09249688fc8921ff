"""The notebook widget: the page's diagram, heatmaps, phase panel and player in Jupyter, JupyterLab and VS Code.

An anywidget (``pip install "gatescope[notebook]"``). Its front end (static/widget.js) shows the standalone page
(app/standalone.py) in an iframe: the page's own ES modules, plotly.js and the run's data travel with the widget,
so it needs no server and no network, and it plays, steps, shows phases and hovers as the page does.

    from gatescope.app.standalone import payload
    from gatescope.widget import Viewer
    Viewer(payload(model, "hello world", {"step": 3}))

``gatescope.show(model | path | preset, input, **view)`` is the short way (gatescope/api.py).
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from gatescope.app import standalone
from gatescope.app.config import Settings


class Viewer(anywidget.AnyWidget):
    """The page's view of one run. ``payload``: what app.standalone.payload(model, input, state) returns (the view
    state, the stream's header and rows, the gradient flow); ``height``: of the view in pixels."""

    _esm = Path(standalone.static_dir()) / "widget.js"
    _shell = traitlets.Unicode().tag(sync=True)   # the standalone page without its run: the same for every widget
    _config = traitlets.Dict().tag(sync=True)     # the page's config for the run's view state
    payload = traitlets.Dict().tag(sync=True)
    height = traitlets.Int(760, min=240).tag(sync=True)

    def __init__(self, payload: dict, height: int = 760, **kwargs):
        super().__init__(_shell=standalone.shell(), _config=standalone.config_for(payload["state"], Settings()), payload=payload,
                         height=height, **kwargs)

    @traitlets.observe("payload")
    def _restate(self, change) -> None:
        self._config = standalone.config_for(change["new"]["state"], Settings())

    def save(self, path: str | Path) -> Path:
        """The same view as a standalone .html file (it plays in any browser, offline)."""
        path = Path(path)
        path.write_text(standalone.page(self.payload), encoding="utf-8")
        return path


def view(model, given=None, **state) -> Viewer:
    """A Viewer of ``model`` on ``given`` (text, an array, or None for the model's own example); ``state``: view-state
    fields (step=3, phases=True, ...), validated as the API validates them."""
    return Viewer(standalone.payload(model, given, state))
