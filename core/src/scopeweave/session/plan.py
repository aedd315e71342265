"""Reading and validating a session file into a :class:`SessionPlan`.

Validation has two phases: the envelope (``schema_version``, ``[session]``,
``[components.*]``, ``[workflow]``), then each ``params`` table against its
plugin's ``params_type`` and each ``uses`` wiring against the plugin's roles.
Every problem of the file is collected and raised together; nothing is built.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from scopeweave.errors import Problem, SessionError
from scopeweave.registry import Registry
from scopeweave.session.envelope import (
    LABEL_RE,
    SCHEMA_VERSION,
    ComponentConfig,
    SessionInfo,
    WorkflowConfig,
)
from scopeweave.session.overrides import apply_overrides
from scopeweave.specs import ComponentSpec
from scopeweave.structure import structure_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["PlannedComponent", "SessionPlan", "load_session", "parse_toml", "plan_session"]

WORKFLOW_LABEL = "workflow"
_TOP_KEYS = ("schema_version", "session", "components", "workflow")


@attrs.frozen(kw_only=True)
class PlannedComponent:
    """A component whose params are validated and whose wiring is checked."""

    label: str
    spec: ComponentSpec
    params: Any
    uses: Mapping[str, str]

    @property
    def kind(self) -> str:
        """The component's kind."""
        return self.spec.kind


@attrs.frozen(kw_only=True)
class SessionPlan:
    """A valid session, ready to run.

    ``components`` are in dependency order: each comes after everything it uses.
    """

    source: str
    data: Mapping[str, Any]
    info: SessionInfo
    components: tuple[PlannedComponent, ...]
    workflow: PlannedComponent
    path: Path | None = None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes a :class:`SessionError` with line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f"line {match.group(1)}, column {match.group(2)}" if match else "?"
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"
        raise SessionError(source, [Problem("$", f"malformed TOML at {where}: {reason}")]) from None


def load_session(
    path: str | os.PathLike[str],
    registry: Registry,
    *,
    overrides: Sequence[str] = (),
) -> SessionPlan:
    """Read, override and validate a session file."""
    file = Path(path)
    source = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(source, [Problem("$", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(source, [Problem("$", f"cannot read the file: {exc}")]) from None
    data = parse_toml(text, source)
    return plan_session(data, registry, source=source, overrides=overrides, path=file)


def plan_session(
    data: Mapping[str, Any],
    registry: Registry,
    *,
    source: str = "<session>",
    overrides: Sequence[str] = (),
    path: Path | None = None,
) -> SessionPlan:
    """Validate a parsed session (a dict as read from TOML)."""
    data = dict(copy.deepcopy(dict(data)))
    problems: list[Problem] = []
    if overrides:
        data, override_problems = apply_overrides(data, overrides, registry)
        if override_problems:
            raise SessionError(source, override_problems)

    for key in data:
        if key not in _TOP_KEYS:
            problems.append(Problem(f"$.{key}", f"unknown key (allowed: {', '.join(_TOP_KEYS)})"))
    version = data.get("schema_version")
    if version is None:
        problems.append(Problem("$.schema_version", f"required key missing (use {SCHEMA_VERSION})"))
    elif version != SCHEMA_VERSION or isinstance(version, bool):
        problems.append(Problem("$.schema_version", f"unsupported schema version {version!r} (expected {SCHEMA_VERSION})"))

    info, found = structure_table(data.get("session", {}), SessionInfo, "$.session")
    if "session" not in data:
        found = [Problem("$.session", "required table missing ([session] with name = ...)")]
    problems += found

    raw_components = data.get("components", {})
    configs: dict[str, ComponentConfig] = {}
    if not isinstance(raw_components, Mapping):
        problems.append(Problem("$.components", "expected a table of components"))
        raw_components = {}
    for label, table in raw_components.items():
        path_ = f"$.components.{label}"
        if not LABEL_RE.match(label) or label == WORKFLOW_LABEL:
            problems.append(Problem(path_, f"invalid label {label!r}: use letters, digits, '-' and '_' "
                                    f"(and not {WORKFLOW_LABEL!r})"))
            continue
        config, found = structure_table(table, ComponentConfig, path_)
        problems += found
        if config is not None:
            configs[label] = config

    workflow_config: WorkflowConfig | None = None
    if "workflow" not in data:
        problems.append(Problem("$.workflow", "required table missing ([workflow] with plugin = ...)"))
    else:
        workflow_config, found = structure_table(data["workflow"], WorkflowConfig, "$.workflow")
        problems += found

    # Phase two: plugins, params and wiring.
    planned: dict[str, PlannedComponent] = {}
    for label, config in configs.items():
        item = _plan_one(registry, label, config.kind, config.plugin, config.params, config.uses,
                         f"$.components.{label}", configs, problems)
        if item is not None:
            planned[label] = item
    workflow: PlannedComponent | None = None
    if workflow_config is not None:
        workflow = _plan_one(registry, WORKFLOW_LABEL, "workflow", workflow_config.plugin,
                             workflow_config.params, workflow_config.uses, "$.workflow", configs, problems)

    order = _dependency_order(configs, problems)
    if problems or info is None or workflow is None:
        raise SessionError(source, problems)
    return SessionPlan(
        source=source,
        data=data,
        info=info,
        components=tuple(planned[label] for label in order),
        workflow=workflow,
        path=path,
    )


def _plan_one(
    registry: Registry,
    label: str,
    kind: str,
    plugin: str,
    params: Mapping[str, Any],
    uses: Mapping[str, str],
    path: str,
    configs: Mapping[str, ComponentConfig],
    problems: list[Problem],
) -> PlannedComponent | None:
    if plugin not in registry.specs(kind):
        problems.append(Problem(f"{path}.plugin", registry.explain_unknown(kind, plugin)))
        return None
    spec = registry.get(kind, plugin)
    instance, found = structure_table(params, spec.params_type, f"{path}.params")
    problems += found
    wiring_ok = True
    for role, target in uses.items():
        role_path = f"{path}.uses.{role}"
        if role not in spec.uses:
            allowed = ", ".join(spec.uses) or "none"
            problems.append(Problem(role_path, f"{kind} {plugin!r} has no role {role!r} (roles: {allowed})"))
            wiring_ok = False
        elif target not in configs:
            labels = ", ".join(configs) or "none"
            problems.append(Problem(role_path, f"no component labelled {target!r} (labels: {labels})"))
            wiring_ok = False
        elif configs[target].kind != spec.uses[role].kind:
            problems.append(Problem(role_path, f"role {role!r} needs a {spec.uses[role].kind}; "
                                    f"{target!r} is a {configs[target].kind}"))
            wiring_ok = False
        elif target == label:
            problems.append(Problem(role_path, "a component cannot use itself"))
            wiring_ok = False
    for role, role_spec in spec.uses.items():
        if role_spec.required and role not in uses:
            problems.append(Problem(f"{path}.uses", f"missing required role {role!r} (a {role_spec.kind})"))
            wiring_ok = False
    if instance is None or not wiring_ok:
        return None
    return PlannedComponent(label=label, spec=spec, params=instance, uses=dict(uses))


def _dependency_order(configs: Mapping[str, ComponentConfig], problems: list[Problem]) -> list[str]:
    """Labels so that every component comes after the components it uses."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(label: str, chain: list[str]) -> None:
        if state.get(label) == "done":
            return
        if state.get(label) == "visiting":
            cycle = " -> ".join([*chain[chain.index(label):], label])
            problems.append(Problem(f"$.components.{label}.uses", f"components use each other in a cycle: {cycle}"))
            return
        state[label] = "visiting"
        for target in _targets(configs[label].uses.values(), configs):
            visit(target, [*chain, label])
        state[label] = "done"
        order.append(label)

    for label in configs:
        visit(label, [])
    return order


def _targets(labels: Iterable[str], configs: Mapping[str, ComponentConfig]) -> list[str]:
    return [label for label in labels if label in configs]
