"""``frame_qc.csv`` and ``frame_qc.json`` of one stack."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from scopeweave_focusmetrics.qc.assess import StackQC

__all__ = ["qc_csv", "qc_json"]


def _number(value: float) -> str:
    return "" if not np.isfinite(value) else f"{value:.10g}"


def qc_csv(qc: StackQC) -> str:
    """One row per frame: frame, sharpness, corr_prev (empty for frame 0), the flags, keep, extras."""
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    extra_names = list(qc.extra)
    header = ["frame", "sharpness", "corr_prev", "is_blurry", "is_shaken", "is_drift", "keep",
              "saturated_fraction", "is_saturated"]
    if qc.curve is not None:
        header.append("curve_residual")
    if qc.group is not None and qc.group.reference_corr is not None:
        header.append("corr_reference")
    if qc.frame_labels:
        header.append("source")
    writer.writerow(header + extra_names)
    for i in range(qc.n_frames):
        row = [str(i), _number(qc.sharpness[i]), _number(qc.corr_prev[i]), int(qc.is_blurry[i]),
               int(qc.is_shaken[i]), int(qc.is_drift[i]), int(qc.keep[i]), f"{qc.saturated[i]:.6g}",
               int(qc.is_saturated[i])]
        if qc.curve is not None:
            row.append(_number(qc.curve.residual[i]))
        if qc.group is not None and qc.group.reference_corr is not None:
            row.append(_number(qc.group.reference_corr[i]))
        if qc.frame_labels:
            row.append(qc.frame_labels[i])
        writer.writerow(row + [_number(qc.extra[name][i]) for name in extra_names])
    return table.getvalue()


def qc_json(qc: StackQC, *, source: str = "") -> dict[str, Any]:
    """Kept / rejected frames, the best frame, segments, thresholds used and why."""
    keep = qc.keep
    return {
        "stack": qc.name,
        "source": source,
        "n_frames": qc.n_frames,
        "metric": qc.metric_name,
        "higher_is_sharper": qc.higher_is_sharper,
        "kept": np.flatnonzero(keep).tolist(),
        "rejected": np.flatnonzero(~keep).tolist(),
        "best_frame": qc.best_frame,
        "flags": {
            "blurry": np.flatnonzero(qc.is_blurry).tolist(),
            "shaken": np.flatnonzero(qc.is_shaken).tolist(),
            "drift": np.flatnonzero(qc.is_drift).tolist(),
            "saturated": np.flatnonzero(qc.is_saturated).tolist(),
        },
        "segments": qc.group.segments if qc.group is not None else [],
        "thresholds": {
            "focus": qc.focus_threshold.to_json() if qc.focus_threshold else None,
            "motion": qc.motion_threshold.to_json() if qc.motion_threshold else None,
            "drift": qc.group.reason if qc.group is not None else None,
        },
        "motion_pairs": [[int(a), int(b), float(c)] for (a, b), c in zip(qc.motion_pairs, qc.motion_corr, strict=False)],
        "focus_curve": qc.curve.to_json() if qc.curve is not None else None,
        "correlation_bin_px": qc.bin_px,
    }
