"""The fixed part of a session file (phase one of validation)."""

from __future__ import annotations

import re
from typing import Any

import attrs

from scopeweave.specs import KINDS

__all__ = ["SCHEMA_VERSION", "ComponentConfig", "SessionInfo", "WorkflowConfig"]

SCHEMA_VERSION = 1
LABEL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _session_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not LABEL_RE.match(value):
        raise ValueError(
            f"'{attribute.name}' must start with a letter or '_' and hold only letters, digits, "
            f"'-' and '_' (it names the run directory) (got {value!r})."
        )


def _component_kind(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    allowed = [k for k in KINDS if k != "workflow"]
    if value not in allowed:
        raise ValueError(f"'{attribute.name}' must be one of {', '.join(allowed)} (got {value!r}).")


@attrs.frozen(kw_only=True)
class SessionInfo:
    """``[session]``: what the session is called and where its runs go."""

    name: str = attrs.field(validator=_session_name)
    description: str = ""
    output_dir: str = "runs"


@attrs.frozen(kw_only=True)
class ComponentConfig:
    """``[components.<label>]``: one component."""

    kind: str = attrs.field(validator=_component_kind)
    plugin: str
    params: dict[str, Any] = attrs.field(factory=dict)
    uses: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class WorkflowConfig:
    """``[workflow]``: what the session runs."""

    plugin: str
    params: dict[str, Any] = attrs.field(factory=dict)
    uses: dict[str, str] = attrs.field(factory=dict)
