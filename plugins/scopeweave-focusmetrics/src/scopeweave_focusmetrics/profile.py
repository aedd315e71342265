"""QC profiles: the metric and threshold chosen by calibration, as a TOML file that ``frame-qc`` loads."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import tomli_w

from scopeweave.atomic import write_text_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["QcProfile", "read_profile", "write_profile"]


@attrs.frozen(kw_only=True)
class QcProfile:
    """A calibrated focus rule.

    Attributes
    ----------
    metric
        Registered FrameMetric name.
    metric_params
        Its parameters (a TOML table).
    higher_is_sharper
        Direction of the metric.
    rule
        ``floor``: an absolute score threshold; ``peak``: a fraction of each stack's peak score.
    threshold
        The floor (score units) or alpha (fraction of the peak).
    auc
        ROC AUC the calibration measured for this metric.
    labels_good
        Labels counted as good during calibration.
    """

    metric: str
    metric_params: Mapping[str, Any] = attrs.field(factory=dict)
    higher_is_sharper: bool = True
    rule: Literal["floor", "peak"] = "floor"
    threshold: float = 0.0
    auc: float = float("nan")
    labels_good: tuple[str, ...] = ()


def write_profile(path: Path, profile: QcProfile, *, comment: str = "") -> None:
    """Write ``profile`` as TOML (atomically)."""
    table = {"profile": {
        "metric": profile.metric, "higher_is_sharper": profile.higher_is_sharper, "rule": profile.rule,
        "threshold": profile.threshold, "auc": profile.auc, "labels_good": list(profile.labels_good),
        "metric_params": dict(profile.metric_params),
    }}
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    write_text_atomic(path, header + tomli_w.dumps(table))


def read_profile(path: str | Path) -> QcProfile:
    """Read a profile file; a bad file raises ValueError naming the file and the field."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"QC profile {file}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"QC profile {file}: malformed TOML: {exc}") from None
    table = data.get("profile")
    if not isinstance(table, dict):
        raise ValueError(f"QC profile {file}: missing [profile] table.")
    for key, kind in (("metric", str), ("threshold", (int, float)), ("rule", str)):
        if not isinstance(table.get(key), kind) or isinstance(table.get(key), bool):
            raise ValueError(f"QC profile {file}: profile.{key} is missing or has the wrong type.")
    if table["rule"] not in ("floor", "peak"):
        raise ValueError(f"QC profile {file}: profile.rule must be 'floor' or 'peak' (got {table['rule']!r}).")
    params = table.get("metric_params", {})
    if not isinstance(params, dict):
        raise ValueError(f"QC profile {file}: profile.metric_params must be a table.")
    return QcProfile(metric=table["metric"], metric_params=params,
                     higher_is_sharper=bool(table.get("higher_is_sharper", True)), rule=table["rule"],
                     threshold=float(table["threshold"]), auc=float(table.get("auc", float("nan"))),
                     labels_good=tuple(table.get("labels_good", ())))
