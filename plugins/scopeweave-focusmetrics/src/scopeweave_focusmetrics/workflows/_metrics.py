"""Building FrameMetrics by registered name, from any installed plugin (third-party ones included)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scopeweave.errors import ScopeweaveError
from scopeweave.kinds import FrameMetric
from scopeweave.registry import get_registry
from scopeweave.structure import structure_table

__all__ = ["metric_by_name"]


def metric_by_name(name: str, params: Mapping[str, Any] | None = None, *, field: str = "metric") -> FrameMetric:
    """Build the frame metric registered as ``name`` with ``params`` (a TOML-like table)."""
    registry = get_registry()
    specs = registry.specs("frame_metric")
    if name not in specs:
        raise ScopeweaveError(f"{field}: {registry.explain_unknown('frame_metric', name)}")
    spec = specs[name]
    instance, problems = structure_table(dict(params or {}), spec.params_type, f"{field}.params")
    if problems:
        raise ScopeweaveError("; ".join(str(p) for p in problems))
    metric = spec.build(instance, {})
    if not isinstance(metric, FrameMetric):
        raise ScopeweaveError(f"{field}: the factory of {name!r} did not return a FrameMetric.")
    return metric
