"""One live GUI session: the workflow objects, the run directory and the files it leaves.

:class:`LiveSession` is the GUI's link to the headless code and needs no Qt.
It wraps the session's :class:`~scopeweave_focuslock.lock.workflow.FocusLock`
(whole frames for the live view), builds the
:class:`~scopeweave_focuslock.lock.runner.FocusLockRunner` the same way the
headless run does, records events in the run's event log, writes each
calibration sweep into the run directory, and at the end writes the headless
run's ``autofocus_*`` files plus a snapshot of ``autofocus_gui_settings.json``.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, cast

import attrs
import numpy as np
import tifffile

from scopeweave.atomic import atomic_path
from scopeweave.errors import ComponentError
from scopeweave.kinds import Camera, Roi
from scopeweave.runs import RunContext
from scopeweave_focuslock.calibration import Calibration, CalibrationError
from scopeweave_focuslock.calibration_io import load_calibration, save_calibration
from scopeweave_focuslock.figure import save_calibration_figure
from scopeweave_focuslock.gui.full_frame import FullFrameCamera
from scopeweave_focuslock.gui.settings import (
    ControlSetting,
    GuiSettings,
    TrackingSetting,
    load_settings,
    save_settings,
)
from scopeweave_focuslock.lock.outputs import lock_summary, write_lock_outputs
from scopeweave_focuslock.lock.runner import FocusLockRunner, LockSample
from scopeweave_focuslock.lock.workflow import FocusLock, photons_converter
from scopeweave_focuslock.params import CalibrateParams
from scopeweave_focuslock.spotfit import SpotFit, fit_spot
from scopeweave_focuslock.sweep import RawSweep

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["CalibrationCandidate", "LiveSession", "explicit_workflow_params"]

_CONTROL_FIELDS = ("kp", "ki", "max_step_um", "command_deadband_um")
_TRACKING_FIELDS = ("track_gain", "track_deadband_px", "track_max_step_px")


@attrs.frozen(kw_only=True, eq=False)
class CalibrationCandidate:
    """A calibration shown in the GUI, waiting to be accepted (or the accepted one).

    Attributes
    ----------
    calibration
        The calibration.
    path
        Its CSV (in the run directory for a sweep, where it was loaded from otherwise).
    source
        ``sweep``, ``file`` or ``session`` (given by the session's ``calibration_csv``).
    """

    calibration: Calibration
    path: Path | None
    source: str


def explicit_workflow_params(run_dir: Path) -> frozenset[str]:
    """The workflow parameters the session file set explicitly (from the run's ``session.toml``)."""
    path = run_dir / "session.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return frozenset()
    params = data.get("workflow", {}).get("params", {})
    return frozenset(params) if isinstance(params, Mapping) else frozenset()


class LiveSession:
    """The GUI's state outside Qt.

    Parameters
    ----------
    workflow
        The session's focus-lock workflow (started camera and Z stage).
    context
        The run's context (run directory, event log).
    settings_path
        ``autofocus_gui_settings.json`` (default: beside the run directories,
        so the next run from the same output folder finds it).
    explicit_params
        Workflow parameters the session set explicitly; they win over the
        remembered GUI settings (default: read from the run's ``session.toml``).
    """

    def __init__(
        self,
        workflow: FocusLock,
        context: RunContext,
        *,
        settings_path: Path | None = None,
        explicit_params: Collection[str] | None = None,
    ) -> None:
        self.camera_view = FullFrameCamera(workflow.camera)
        self.workflow = FocusLock(workflow.params, camera=cast(Camera, self.camera_view), stage=workflow.stage,
                                  model=workflow.model)
        self.params = workflow.params
        self.stage = workflow.stage
        self.context = context
        self.settings_path = settings_path or context.run_dir.parent / "autofocus_gui_settings.json"
        self.settings, self.settings_problem = load_settings(self.settings_path)
        self.explicit = frozenset(explicit_params if explicit_params is not None
                                  else explicit_workflow_params(context.run_dir))
        self.events: list[dict[str, Any]] = []
        self.start_z_um = float(self.stage.position_um()[0])
        self.engage_z_um = math.nan
        self.n_sweeps = 0
        self.accepted: CalibrationCandidate | None = None
        t0 = time.perf_counter()
        self.clock = lambda: time.perf_counter() - t0
        if self.settings_problem:
            self.emit("gui_settings_reset", message=self.settings_problem)
        self.auto_sweep = bool(self.params.calibrate_first)
        self.initial: CalibrationCandidate | None = None
        if not self.params.calibrate_first:
            calibration = self.workflow.calibration(context)  # loads calibration_csv, or None (placeholder)
            if calibration is not None:
                path = self.params.calibration_csv
                if path is not None:
                    path = self.workflow._find(path, context)
                self.initial = CalibrationCandidate(calibration=calibration, path=path, source="session")
                self.accepted = self.initial

    # --- events -------------------------------------------------------------------
    def emit(self, event: str, **fields: Any) -> dict[str, Any]:
        """Record an event in the run's log and in ``autofocus_events.log``."""
        record = self.context.events.emit(event, **fields)
        self.events.append(record)
        if event == "lock_engage" and math.isnan(self.engage_z_um):
            self.engage_z_um = float(fields.get("stage_z_um", math.nan))
        return record

    # --- what the GUI starts with -------------------------------------------------------
    def control(self) -> ControlSetting:
        """The gains: explicit session values, else the remembered ones, else the session defaults."""
        remembered = self.settings.control
        values = {name: getattr(self.params, name) for name in _CONTROL_FIELDS}
        if remembered is not None:
            values.update({name: getattr(remembered, name) for name in _CONTROL_FIELDS if name not in self.explicit})
        return ControlSetting(**values)

    def tracking(self) -> TrackingSetting:
        """XY tracking: explicit session values, else the remembered ones, else the session defaults."""
        p = self.params
        values: dict[str, Any] = {"enabled": p.track_roi, **{name: getattr(p, name) for name in _TRACKING_FIELDS}}
        remembered = self.settings.tracking
        if remembered is not None:
            if "track_roi" not in self.explicit:
                values["enabled"] = remembered.enabled
            values.update({name: getattr(remembered, name) for name in _TRACKING_FIELDS if name not in self.explicit})
        return TrackingSetting(**values)

    def start_roi(self, runner_roi: Roi) -> Roi:
        """The remembered ROI when it fits the sensor and the session did not place one."""
        remembered = self.settings.roi
        if remembered is None or {"roi_center_px", "roi_size_px"} & self.explicit:
            return runner_roi
        roi = Roi(x_px=remembered.x_px, y_px=remembered.y_px, width_px=remembered.size_px, height_px=remembered.size_px)
        return roi if roi.fits(self.camera_view.sensor_shape_px) else runner_roi

    def last_calibration_file(self) -> Path | None:
        """The calibration last accepted or saved, when it still exists."""
        name = self.settings.last_calibration_file
        return Path(name) if name and Path(name).exists() else None

    # --- the runner --------------------------------------------------------------------
    def new_runner(self, calibration: Calibration | None) -> FocusLockRunner:
        """A runner built like the headless one, on whole frames, with this session's clock."""
        return self.workflow.runner(calibration, self.emit, self.clock)

    def preview_spot(self, frame: Any, roi: Roi) -> SpotFit | None:
        """Display-only spot fit while there is no calibration (the lock does not use it)."""
        p = self.params
        crop = np.asarray(frame)[roi.y_px:roi.y_px + roi.height_px, roi.x_px:roi.x_px + roi.width_px]
        if crop.shape != roi.shape_px:
            return None
        try:
            convert = photons_converter(self.workflow.camera, p.camera_offset_adu, p.camera_gain_adu_per_e)
        except CalibrationError:
            return None
        gain = p.camera_gain_adu_per_e or 1.0
        return fit_spot(convert(crop), theta_rad=0.0, options=p.detection,
                        readout_variance=p.read_noise_e**2 + 1.0 / (12.0 * gain**2))

    # --- calibrations -------------------------------------------------------------------
    def sweep_params(self, roi: Roi, *, half_range_um: float, n_steps: int) -> CalibrateParams:
        """The session's sweep, centred on the GUI's ROI."""
        centre = (roi.x_px + (roi.width_px - 1) / 2, roi.y_px + (roi.height_px - 1) / 2)
        return attrs.evolve(self.params.calibration, roi_center_px=centre, roi_size_px=roi.width_px,
                            half_range_um=half_range_um, n_steps=n_steps)

    def record_sweep(self, calibration: Calibration, raw: RawSweep, params: CalibrateParams) -> CalibrationCandidate:
        """Write a sweep's calibration files into the run directory (``<stem>.csv`` for the first, ``<stem>_2``...)."""
        self.n_sweeps += 1
        stem = params.filename_stem if self.n_sweeps == 1 else f"{params.filename_stem}_{self.n_sweeps}"
        csv_path = self.context.product_path(f"{stem}.csv")
        save_calibration(calibration, csv_path, thresholds=params.gates)
        self.context.product_path(f"{stem}.meta.json")
        save_calibration_figure(calibration, self.context.product_path(f"{stem}.png"))
        if params.save_frames:
            with atomic_path(self.context.product_path(f"{stem}_frames.tif")) as tmp:
                tifffile.imwrite(tmp, raw.rois_counts, metadata={"axes": "ZYX"})
        self.emit("calibration_sweep", csv=csv_path.name, armable=calibration.armable, summary=calibration.summary(),
                  gates=[gate.to_dict() for gate in calibration.gates])
        return CalibrationCandidate(calibration=calibration, path=csv_path, source="sweep")

    def load(self, path: Path) -> CalibrationCandidate:
        """Load a saved calibration (checked, gates re-run)."""
        models = self.workflow._models()  # the session's focus_model restores its own files
        return CalibrationCandidate(calibration=load_calibration(path, **models), path=path, source="file")

    def save(self, candidate: CalibrationCandidate, path: Path) -> Path:
        """Save a calibration (CSV, meta, figure) to ``path``; it becomes the last calibration file."""
        save_calibration(candidate.calibration, path, thresholds=self.params.calibration.gates)
        save_calibration_figure(candidate.calibration, path.with_suffix(".png"))
        self.emit("calibration_saved", path=str(path))
        return path

    def accept(self, candidate: CalibrationCandidate) -> None:
        """Record that ``candidate`` arms the lock from now on."""
        self.accepted = candidate
        self.emit("calibration_accepted", source=candidate.source, path=str(candidate.path) if candidate.path else None,
                  summary=candidate.calibration.summary())

    # --- the end ------------------------------------------------------------------------
    def save_settings(self, settings: GuiSettings) -> None:
        """Remember ``settings`` for the next start (atomically)."""
        self.settings = settings
        save_settings(self.settings_path, settings)

    def finish(self, runner: FocusLockRunner, *, n_corrections: int) -> dict[str, Any]:
        """Write the lock files, a settings snapshot and return the run's results.

        Raises
        ------
        ComponentError
            After writing, when the stage faulted during the session (as the headless run does).
        """
        samples: list[LockSample] = runner.samples
        engage_z = self.engage_z_um if math.isfinite(self.engage_z_um) else self.start_z_um
        summary = lock_summary(samples, engage_z_um=engage_z, n_corrections=n_corrections,
                               final_state=runner.state.value, stop_reason=runner.controller.stop_reason)
        accepted = self.accepted
        faults = [e for e in self.events if e["event"] == "stage_fault"]
        report = {
            **summary,
            "calibration": accepted.calibration.summary() if accepted is not None else None,
            "calibration_file": str(accepted.path) if accepted is not None and accepted.path else None,
            "setpoint_um": runner.controller.setpoint_um,
            "params": attrs.asdict(self.params, value_serializer=_jsonable),
            "gui": {"settings_file": str(self.settings_path), "settings_problem": self.settings_problem,
                    "calibration_sweeps": self.n_sweeps, "stage_faults": len(faults)},
        }
        for path in write_lock_outputs(self.context.run_dir, samples, report=report, events=self.events):
            self.context.product_path(path.name)
        save_settings(self.context.product_path(self.settings_path.name), self.settings)
        if faults:
            raise ComponentError(f"stage fault: {faults[-1]['message']}; the lock stopped and held the stage "
                                 f"(see {self.context.run_dir / 'autofocus_run_report.json'})")
        rms = summary["rms_error_nm"]
        summary["summary"] = (
            f"focus lock (live GUI): final state {summary['final_state']}, RMS error {rms:.1f} nm while locked, "
            f"{summary['n_frames']} frames, {summary['n_corrections']} corrections"
            if math.isfinite(rms) else
            f"focus lock (live GUI): {summary['n_frames']} frames, final state {summary['final_state']}"
            + (f" ({summary['stop_reason']})" if summary["stop_reason"] else "")
        )
        return summary


def _jsonable(instance: object, field: attrs.Attribute[Any] | None, value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
