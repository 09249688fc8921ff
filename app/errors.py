"""Errors the API answers with: a status, a message that names the field, the value and the limit."""

from __future__ import annotations


class AppError(Exception):
    """``offer``: a way out the page shows as a button, {"label": words, "patch": a change of the view state}."""

    def __init__(self, status: int, detail: str, field: str | None = None, headers: dict[str, str] | None = None,
                 offer: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.field, self.headers, self.offer = status, detail, field, headers, offer

    def body(self) -> dict:
        """The error as JSON: the detail, the field, and the offer when there is one."""
        return {"detail": self.detail, "field": self.field, **({"offer": self.offer} if self.offer else {})}


ENV_PREFIX = "GATESCOPE_"  # settings are read from GATESCOPE_<NAME> (config.Settings)


def setting(*names: str) -> str:
    """How a message names the settings behind a limit: "setting GATESCOPE_MAX_STEPS" (several: "settings A, B")."""
    envs = ", ".join(ENV_PREFIX + n.upper() for n in names)
    return f"setting{'s' if len(names) > 1 else ''} {envs}"


def over_limit(field: str, value: object, limit: int, name: str, status: int = 413, hint: str = "") -> AppError:
    """The one way a limit is reported: the field, the value, the limit, the setting that sets it, and what to do instead."""
    return AppError(status, f"{field}: {value} is over the limit of {limit} ({setting(name)})"
                            + (f"; {hint}" if hint else ""), field)
