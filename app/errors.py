"""Errors the API answers with: a status, a message that names the field, the value and the limit."""

from __future__ import annotations


#: the code an error carries when it names none: what a program (the page, a client) reads, the detail being for people
CODES = {400: "unreadable", 403: "forbidden", 404: "not_found", 408: "too_slow", 413: "over_limit", 415: "unsupported_file",
         422: "invalid", 429: "too_many_streams", 503: "busy"}


class AppError(Exception):
    """``offer``: a way out the page shows as a button, {"label": words, "patch": a change of the view state}.
    ``code``: what the page reads to choose what to do (never the prose): over_limit, not_a_number,
    unknown_characters, reads_no_text, ... (CODES by status when not given); ``data``: the facts behind the code, for a
    program (e.g. the characters a vocabulary lacks)."""

    def __init__(self, status: int, detail: str, field: str | None = None, headers: dict[str, str] | None = None,
                 offer: dict | None = None, code: str | None = None, data: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.field, self.headers, self.offer = status, detail, field, headers, offer
        self.code, self.data = code or CODES.get(status, "error"), data

    def body(self) -> dict:
        """The error as JSON: the detail, the field, the code, and the offer and data when there are any."""
        return {"detail": self.detail, "field": self.field, "code": self.code, **({"offer": self.offer} if self.offer else {}),
                **({"data": self.data} if self.data else {})}


ENV_PREFIX = "GATESCOPE_"  # settings are read from GATESCOPE_<NAME> (config.Settings)


def setting(*names: str) -> str:
    """How a message names the settings behind a limit: "setting GATESCOPE_MAX_STEPS" (several: "settings A, B")."""
    envs = ", ".join(ENV_PREFIX + n.upper() for n in names)
    return f"setting{'s' if len(names) > 1 else ''} {envs}"


def over_limit(field: str, value: object, limit: int, name: str, status: int = 413, hint: str = "") -> AppError:
    """The one way a limit is reported: the field, the value, the limit, the setting that sets it, and what to do instead."""
    return AppError(status, f"{field}: {value} is over the limit of {limit} ({setting(name)})"
                            + (f"; {hint}" if hint else ""), field, code="over_limit", data={"limit": limit, "setting": name})
