"""Files of a focus-lock run: time series, report, events log and plot."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from scopeweave.atomic import atomic_path, write_json_atomic, write_text_atomic
from scopeweave_focuslock.lock.controller import LockState
from scopeweave_focuslock.lock.runner import LockSample

__all__ = ["TIMESERIES_COLUMNS", "lock_summary", "write_lock_outputs"]

_FIRST = ("t_s", "error_nm", "command_um", "stage_z_um", "quality", "state")
#: Columns of ``autofocus_timeseries.csv``, in order (the issue's six first).
TIMESERIES_COLUMNS = _FIRST + tuple(f.name for f in attrs.fields(LockSample) if f.name not in _FIRST)


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2))) if values.size else math.nan


def lock_summary(samples: Sequence[LockSample], *, engage_z_um: float, n_corrections: int, final_state: str,
                 stop_reason: str) -> dict[str, Any]:
    """The numbers of ``autofocus_run_report.json``."""
    states = np.array([s.state for s in samples])
    errors = np.array([s.error_nm for s in samples])
    locked = states == LockState.LOCKED.value
    locked_errors = errors[locked & np.isfinite(errors)]
    true_errors = np.array([s.true_error_nm for s in samples])
    true_locked = true_errors[locked & np.isfinite(true_errors)]
    stage = np.array([s.stage_z_um for s in samples] + [s.command_um for s in samples if math.isfinite(s.command_um)])
    engaged = states != LockState.IDLE.value
    loop_ms = np.array([s.loop_ms for s in samples])
    uncertainty = np.array([s.z_uncertainty_nm for s in samples if s.valid])
    return {
        "n_frames": len(samples),
        "rms_error_nm": _rms(locked_errors),
        "max_abs_error_nm": float(np.max(np.abs(locked_errors))) if locked_errors.size else math.nan,
        "locked_fraction": float(locked[engaged].mean()) if engaged.any() else 0.0,
        "lock_good_fraction": float(np.mean([s.lock_good for s in samples])) if samples else 0.0,
        "max_excursion_um": float(np.max(np.abs(stage - engage_z_um))) if stage.size and math.isfinite(engage_z_um)
        else 0.0,
        "n_corrections": int(n_corrections),
        "n_invalid_readings": int(sum(not s.valid for s in samples)),
        "final_state": final_state,
        "stop_reason": stop_reason,
        "true_rms_error_nm": _rms(true_locked),
        "median_z_uncertainty_nm": float(np.median(uncertainty)) if uncertainty.size else math.nan,
        "loop_ms_median": float(np.median(loop_ms)) if loop_ms.size else math.nan,
        "loop_ms_p99": float(np.percentile(loop_ms, 99)) if loop_ms.size else math.nan,
        "engage_z_um": engage_z_um,
    }


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def write_lock_outputs(
    directory: Path,
    samples: Sequence[LockSample],
    *,
    report: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
) -> list[Path]:
    """Write the four files of a lock run into ``directory`` (atomically); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(TIMESERIES_COLUMNS)
    for sample in samples:
        writer.writerow([_cell(getattr(sample, column)) for column in TIMESERIES_COLUMNS])
    series = directory / "autofocus_timeseries.csv"
    write_text_atomic(series, table.getvalue())
    log = directory / "autofocus_events.log"
    lines = [f"{e.get('t_s', 0.0):10.4f}  {e['event']:<16} "
             + " ".join(f"{k}={v}" for k, v in e.items() if k not in ("t_s", "event")) for e in events]
    write_text_atomic(log, "\n".join(lines) + "\n")
    report_path = directory / "autofocus_run_report.json"
    write_json_atomic(report_path, {**report, "events": list(events)})
    plot = directory / "autofocus_timeseries.png"
    _plot(samples, plot)
    return [series, log, report_path, plot]


def _plot(samples: Sequence[LockSample], path: Path) -> None:
    from matplotlib.figure import Figure

    t = np.array([s.t_s for s in samples])
    fig = Figure(figsize=(9.0, 8.0), layout="constrained")
    ax_e, ax_z, ax_q, ax_w = fig.subplots(4, 1, sharex=True, height_ratios=(3, 2, 1, 2))
    ax_e.plot(t, [s.error_nm for s in samples], ".", ms=2, color="k", label="measured error")
    if any(math.isfinite(s.true_error_nm) for s in samples):
        ax_e.plot(t, [s.true_error_nm for s in samples], "-", lw=0.8, color="tab:green", label="true error (simulation)")
    ax_e.axhline(0.0, color="0.6", lw=0.8)
    ax_e.set_ylabel("error (nm)")
    ax_e.legend(loc="upper right", fontsize=8)
    ax_z.plot(t, [s.stage_z_um for s in samples], "-", color="tab:blue")
    ax_z.set_ylabel("stage z (um)")
    ax_q.plot(t, [s.quality for s in samples], "-", color="tab:purple")
    ax_q.set_ylabel("quality")
    ax_q.set_ylim(-0.05, 1.05)
    ax_w.plot(t, [s.sigma_x_px for s in samples], "-", color="#1f77b4", label="sigma_x")
    ax_w.plot(t, [s.sigma_y_px for s in samples], "-", color="#d62728", label="sigma_y")
    ax_w.set_ylabel("width (px)")
    ax_w.set_xlabel("time (s)")
    ax_w.legend(loc="upper right", fontsize=8)
    colours = {"engaging": "#fff3c4", "degraded": "#ffd9a8", "lost": "#ffb3b3", "recovering": "#d6c9ff",
               "stopped": "#dddddd"}
    states = [s.state for s in samples]
    start = 0
    for i in range(1, len(states) + 1):
        if i == len(states) or states[i] != states[start]:
            colour = colours.get(states[start])
            if colour and len(t):
                for ax in (ax_e, ax_z):
                    ax.axvspan(t[start], t[min(i, len(t) - 1)], color=colour, lw=0)
            start = i
    fig.suptitle("focus lock: error, stage, fit quality and widths (shaded: not locked)")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
