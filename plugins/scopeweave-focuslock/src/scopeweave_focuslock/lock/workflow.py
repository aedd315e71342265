"""Workflow ``focus-lock``: calibrate (or load a calibration), then hold the focus.

The run writes ``autofocus_timeseries.csv``, ``autofocus_run_report.json``,
``autofocus_events.log`` and ``autofocus_timeseries.png``; a run that
calibrates first also leaves the ``focus-calibrate`` files beside them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from scopeweave.errors import ComponentError
from scopeweave.kinds import Camera, Roi, Stage
from scopeweave.kinds.focus_model import FocusModel
from scopeweave.runs import RunContext
from scopeweave_focuslock.calibration import Calibration, CalibrationError
from scopeweave_focuslock.calibration_io import load_calibration
from scopeweave_focuslock.lock.outputs import lock_summary, write_lock_outputs
from scopeweave_focuslock.lock.params import FocusLockParams
from scopeweave_focuslock.lock.reader import FocusReader
from scopeweave_focuslock.lock.runner import FocusLockRunner
from scopeweave_focuslock.sweep import CalibrationSweep, roi_around

__all__ = ["FocusLock", "photons_converter"]


def photons_converter(camera: Camera, offset_adu: float | None, gain_adu_per_e: float | None) -> Any:
    """Counts → photo-electrons from explicit offset/gain, else the camera's own ``counts_to_photons``."""
    if offset_adu is not None or gain_adu_per_e is not None:
        offset, gain = offset_adu or 0.0, gain_adu_per_e or 1.0
        return lambda counts: (np.asarray(counts, dtype=np.float64) - offset) / gain
    convert = getattr(camera, "counts_to_photons", None)
    if convert is None:
        raise CalibrationError(f"camera {type(camera).__name__} has no counts_to_photons(); set camera_offset_adu "
                               "and camera_gain_adu_per_e in the focus-lock params")
    return convert


class FocusLock:
    """Hold the focus found when the lock engages by relative Z corrections."""

    def __init__(self, params: FocusLockParams, *, camera: Camera, stage: Stage, model: FocusModel | None) -> None:
        if stage.axes != ("z",):
            raise ValueError(f"'stage' must be a Z stage with axes ('z',) (got {stage.axes}).")
        self.params = params
        self.camera = camera
        self.stage = stage
        self.model = model

    # --- calibration ------------------------------------------------------------
    def calibration(self, context: RunContext) -> Calibration | None:
        """Load, run or skip the calibration, and refuse one that may not arm a lock."""
        p = self.params
        if p.calibrate_first:
            CalibrationSweep(p.calibration, camera=self.camera, stage=self.stage, model=self.model).run(context)
            calibration = load_calibration(context.run_dir / f"{p.calibration.filename_stem}.csv", **self._models())
        elif p.calibration_csv is not None:
            calibration = load_calibration(self._find(p.calibration_csv, context), **self._models())
        elif p.allow_missing_calibration:
            context.events.emit("calibration_missing", note="running without a calibration: the lock will not arm")
            return None
        else:
            raise CalibrationError("no calibration: give calibration_csv (--calibration-csv), set calibrate_first, "
                                   "or start with --allow-missing-calibration and create one")
        if not calibration.armable:
            raise CalibrationError("Calibration failed its quality gates, so the lock will not arm: "
                                   + "; ".join(g.message for g in calibration.failed_gates)
                                   + ". Check the ROI stays on one spot, the SNR, clipping by the ROI edge, and that "
                                   "the sweep is centred near focus.")
        return calibration

    def _models(self) -> dict[str, Any]:
        if self.model is None:
            return {}
        from scopeweave_focuslock.models import builtin_models

        name = getattr(self.model, "name", None)
        return {"models": {**builtin_models(), **({name: self.model} if name else {})}}

    @staticmethod
    def _find(path: Path, context: RunContext) -> Path:
        candidates = [path]
        if not path.is_absolute() and context.session_path is not None:
            candidates.append(context.session_path.parent / path)
        for candidate in candidates:
            if candidate.exists():
                return candidate
        raise CalibrationError(f"Calibration CSV not found: {path}. Point --calibration-csv (calibration_csv) to an "
                               "existing file, or start with --allow-missing-calibration and create one.")

    # --- the run --------------------------------------------------------------------
    def lock_roi(self, calibration: Calibration | None) -> Roi:
        """The ROI: explicit centre, else the calibration's ROI, else the brightest spot."""
        p = self.params
        meta_roi = calibration.metadata.get("roi") if calibration is not None else None
        size = p.roi_size_px or (int(meta_roi["width_px"]) if meta_roi else p.calibration.roi_size_px)
        self.camera.set_roi(None)
        if p.roi_center_px is None and meta_roi and int(meta_roi["width_px"]) == size:
            return Roi(x_px=int(meta_roi["x_px"]), y_px=int(meta_roi["y_px"]), width_px=size, height_px=size)
        x0, y0, w, h = roi_around(self.camera.snap(), size, p.roi_center_px)
        return Roi(x_px=x0, y_px=y0, width_px=w, height_px=h)

    def runner(self, calibration: Calibration | None, emit: Any, clock: Any = None) -> FocusLockRunner:
        """A runner for this camera and stage (the GUI builds its own the same way)."""
        p = self.params
        reader = None
        if calibration is not None:
            gain = p.camera_gain_adu_per_e or 1.0
            reader = FocusReader(
                calibration,
                detection=p.detection,
                counts_to_photons=photons_converter(self.camera, p.camera_offset_adu, p.camera_gain_adu_per_e),
                full_scale=2**self.camera.bit_depth - 1,
                readout_variance=p.read_noise_e**2 + 1.0 / (12.0 * gain**2),
            )
        return FocusLockRunner(camera=self.camera, stage=self.stage, reader=reader, settings=p.lock_settings(),
                               roi=self.lock_roi(calibration), tracking=p.tracking() if p.track_roi else None,
                               emit=emit, clock=clock)

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        if p.show_live:  # the GUI drives the same runner and writes the same files when its window closes
            try:
                from scopeweave_focuslock.gui import run_live
            except ImportError as exc:
                raise ComponentError(f"show_live needs the GUI extra: pip install 'scopeweave-focuslock[gui]' ({exc})") from exc
            return run_live(self, context)
        with context.timed("calibration"):
            calibration = self.calibration(context)
        lock_events: list[dict[str, Any]] = []

        def emit(event: str, **fields: Any) -> None:
            lock_events.append(context.events.emit(event, **fields))

        frames_done = [0]
        # Unpaced (a simulation), time is the nominal loop time, not the wall clock.
        clock = None if p.pace_to_loop_hz else (lambda: frames_done[0] / p.loop_hz)
        runner = self.runner(calibration, emit, clock)
        engage_z = self.stage.position_um()[0]
        if calibration is not None:
            runner.engage()
        n_frames = max(1, round(p.duration_s * p.loop_hz))
        period_s = 1.0 / p.loop_hz
        next_tick = time.perf_counter()
        try:
            with context.progress("focus lock", n_frames) as progress, context.timed("lock"):
                for _ in range(n_frames):
                    runner.step()
                    frames_done[0] += 1
                    progress.advance()
                    if runner.stage_fault:
                        break
                    if p.pace_to_loop_hz:
                        next_tick += period_s
                        time.sleep(max(0.0, next_tick - time.perf_counter()))
        finally:
            self.camera.set_roi(None)
            summary = lock_summary(runner.samples, engage_z_um=engage_z, n_corrections=runner.controller.n_corrections,
                                   final_state=runner.state.value, stop_reason=runner.controller.stop_reason)
            report = {**summary, "calibration": calibration.summary() if calibration is not None else None,
                      "setpoint_um": runner.controller.setpoint_um, "params": _jsonable(p)}
            for path in write_lock_outputs(context.run_dir, runner.samples, report=report, events=lock_events):
                context.product_path(path.name)
        if runner.stage_fault:
            raise ComponentError(f"stage fault: {runner.stage_fault}; the lock stopped and held the stage "
                                 f"(see {context.run_dir / 'autofocus_run_report.json'})")
        rms = summary["rms_error_nm"]
        summary["summary"] = (
            f"focus lock: final state {summary['final_state']}, RMS error {rms:.1f} nm, "
            f"locked {100 * summary['locked_fraction']:.0f} % of {summary['n_frames']} frames, "
            f"max excursion {summary['max_excursion_um']:.3f} um, {summary['n_corrections']} corrections"
            if math.isfinite(rms) else
            f"focus lock: final state {summary['final_state']} ({summary['stop_reason'] or 'never locked'})"
        )
        return summary


def _jsonable(params: FocusLockParams) -> dict[str, Any]:
    import attrs

    return attrs.asdict(params, value_serializer=lambda inst, field, value: str(value) if isinstance(value, Path)
                        else value)
