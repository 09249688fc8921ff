"""Errors raised by the engine.

Every error is a ValueError subclass, so callers that only care about "bad
input" can catch ValueError; the web layer maps each one to a 4xx answer.
Messages always name the thing that was wrong, what was expected and what
was found.
"""

from __future__ import annotations

from collections.abc import Iterable


class CellsError(ValueError):
    """Base class of every error the engine raises on bad input."""


class UnknownKindError(CellsError):
    def __init__(self, kind: object, kinds: Iterable[str]):
        self.kind = kind
        self.kinds = tuple(kinds)
        super().__init__(f"unknown cell kind {kind!r}; expected one of: {', '.join(self.kinds)}")


class OptionError(CellsError):
    """An option (or size) is unknown, of the wrong type or out of range."""


class ShapeError(CellsError):
    """A tensor does not have the shape the model needs."""

    def __init__(self, name: str, expected: tuple, got: tuple, hint: str = ""):
        self.name, self.expected, self.got = name, tuple(expected), tuple(got)
        shown = "(" + ", ".join(str(d) for d in self.expected) + ("," if len(self.expected) == 1 else "") + ")"
        msg = f"{name}: expected shape {shown}, got {tuple(got)}"
        super().__init__(msg + (f" ({hint})" if hint else ""))


class WeightNameError(CellsError):
    """Weights are missing, or names were given that the layout does not know."""

    def __init__(self, missing: Iterable[str] = (), unknown: Iterable[str] = (), layout: str = "", expected: Iterable[str] = (),
                 message: str = ""):
        self.missing, self.unknown = sorted(missing), sorted(unknown)
        parts = []
        if self.missing:
            parts.append(f"missing weight(s): {shown(self.missing)}")
        if self.unknown:
            parts.append(f"unknown weight name(s): {shown(self.unknown)}")
        expected = sorted(expected)
        if expected:
            parts.append(f"the {layout} layout expects: {shown(expected, 40)}")
        super().__init__(message or "; ".join(parts))


def shown(items: Iterable, limit: int = 20) -> str:
    """'a, b, c' or 'a, b, ... and 7 more': no error message carries an unbounded list (a file may name a million weights)."""
    items = list(items)
    head = ", ".join(str(i) if len(str(i)) <= 80 else str(i)[:80] + "..." for i in items[:limit])
    return head + (f" and {len(items) - limit} more" if len(items) > limit else "")


class NonFiniteError(CellsError):
    """A tensor holds NaN or infinity."""

    def __init__(self, name: str, count: int, total: int):
        self.name = name
        super().__init__(f"{name}: {count} of {total} values are NaN or infinite; all values must be finite")


class FormatError(CellsError):
    """A file is not a weights file we can read safely."""


class EmptySequenceError(CellsError):
    def __init__(self, name: str = "xs"):
        super().__init__(f"{name}: the sequence is empty; at least one timestep is needed")
