"""Exception types, one per layer.

Every error a user can cause derives from :class:`ScopeweaveError`; the CLI
prints its message (no traceback) and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = [
    "ComponentError",
    "PluginError",
    "PluginLoadError",
    "Problem",
    "ScopeweaveError",
    "SessionError",
    "StageLimitError",
    "UnknownComponentError",
]


class ScopeweaveError(Exception):
    """Base class of all errors a user can cause and fix."""


class PluginLoadError(ScopeweaveError):
    """An entry point failed to import or register (strict mode only)."""


class PluginError(ScopeweaveError):
    """A plugin misbehaved: a hook raised, returned bad records, or names collide."""


class UnknownComponentError(ScopeweaveError):
    """No component of a kind has the requested name."""


class ComponentError(ScopeweaveError):
    """A component failed while it was built, started or used."""


class StageLimitError(ComponentError, ValueError):
    """A stage move was refused: outside the limits, or not finite."""


@attrs.frozen
class Problem:
    """One problem found in a file: a ``$.a.b[0]``-style path and the reason."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SessionError(ScopeweaveError):
    """A session file has problems; all of them are listed."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = [f"{source}: {len(self.problems)} {noun}"]
        lines += [f"  {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))
