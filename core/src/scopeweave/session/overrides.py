"""``--set key=value`` overrides, typed by the target's params class."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scopeweave.errors import Problem
from scopeweave.registry import Registry
from scopeweave.specs import KINDS
from scopeweave.structure import field_type_at

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["apply_overrides", "parse_override_value"]

def parse_override_value(text: str, target_type: Any) -> Any:
    """Convert the text after ``=``: strings stay strings, anything else is read as a TOML value.

    ``exposure_ms=20`` gives ``20`` (checked as a number later);
    ``limits_um=[0, 100]`` gives a list; ``name=scan 1`` stays a string.
    """
    if target_type in (str, Path, "str", "Path"):
        return text
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _target_type(data: Mapping[str, Any], keys: Sequence[str], registry: Registry) -> Any:
    """The params field type addressed by ``components.<label>.params.<field>`` or ``workflow.params.<field>``."""
    if len(keys) >= 3 and keys[0] == "components" and keys[2] == "params":
        table = data.get("components", {}).get(keys[1], {})
        kind, plugin, field_keys = table.get("kind"), table.get("plugin"), keys[3:]
    elif len(keys) >= 2 and keys[0] == "workflow" and keys[1] == "params":
        table = data.get("workflow", {})
        kind, plugin, field_keys = "workflow", table.get("plugin"), keys[2:]
    else:
        return None
    if len(field_keys) != 1 or not isinstance(kind, str) or not isinstance(plugin, str):
        return None
    if kind not in KINDS or plugin not in registry.specs(kind):
        return None
    return field_type_at(registry.get(kind, plugin).params_type, field_keys[0])


def apply_overrides(
    data: dict[str, Any], overrides: Sequence[str], registry: Registry
) -> tuple[dict[str, Any], list[Problem]]:
    """Apply ``dotted.key=value`` overrides to a parsed session; return it and any problems."""
    problems: list[Problem] = []
    for item in overrides:
        key, sep, text = item.partition("=")
        keys = [k.strip() for k in key.split(".")]
        if not sep or not all(keys):
            problems.append(Problem(f"--set {item}", "expected dotted.key=value, e.g. components.cam.params.exposure_ms=20"))
            continue
        node: Any = data
        for depth, part in enumerate(keys[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = "$." + ".".join(keys[: depth + 1])
                problems.append(Problem(f"--set {item}", f"{where} is not a table"))
                break
            node = child
        else:
            node[keys[-1]] = parse_override_value(text.strip(), _target_type(data, keys, registry))
    return data, problems
