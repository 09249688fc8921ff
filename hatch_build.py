"""The wheel's one package: the design card's folders mapped into gatescope at build time (pyproject.toml).

A wheel carries cells/, app/ and the page's templates/, static/ and lessons/ inside gatescope/ (gatescope.cells,
gatescope.app, gatescope/app/static, ...), so the distribution claims one top-level name. An editable install
copies nothing: it puts the checkout on sys.path, and gatescope/__init__.py reaches the folders where they stand,
so an edit is live (a force-include in pyproject.toml would copy them into site-packages, stale at the next edit).
"""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

FOLDERS = {"cells": "gatescope/cells", "app": "gatescope/app", "templates": "gatescope/app/templates",
           "static": "gatescope/app/static", "lessons": "gatescope/app/lessons"}


class OnePackage(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"].update(FOLDERS)
