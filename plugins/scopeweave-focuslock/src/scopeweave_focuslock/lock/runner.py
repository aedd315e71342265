"""One focus-lock loop iteration at a time: snap, measure, decide, move, track.

:class:`FocusLockRunner` is what both the headless workflow and the GUI drive,
so no logic lives only in the GUI. It owns the controller, never touches the
XY stage, and turns any stage error into a safe stop.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from scopeweave.kinds import Camera, Roi, Stage
from scopeweave_focuslock.lock.controller import FocusLockController, LockSettings, LockState, Reading
from scopeweave_focuslock.lock.reader import FocusReader, Measurement
from scopeweave_focuslock.lock.roi_tracking import RoiTracker, TrackingSettings

__all__ = ["FocusLockRunner", "LockSample"]

EventSink = Callable[..., Any]


@attrs.frozen(kw_only=True)
class LockSample:
    """One loop iteration, as logged in ``autofocus_timeseries.csv``."""

    t_s: float
    frame: int
    state: str
    error_nm: float
    command_um: float
    stage_z_um: float
    quality: float
    valid: bool
    reason: str
    z_um: float
    z_uncertainty_nm: float
    sigma_x_px: float
    sigma_y_px: float
    spot_x_px: float
    spot_y_px: float
    roi_x_px: int
    roi_y_px: int
    lock_good: bool
    true_error_nm: float
    loop_ms: float


class FocusLockRunner:
    """The focus lock on a camera and a Z stage.

    Parameters
    ----------
    camera, stage
        Started components; ``stage.axes`` must be ``("z",)``.
    reader
        Turns frames into readings; ``None`` (no calibration) measures nothing and never arms.
    settings
        Control settings.
    roi
        The lock ROI on the sensor; the camera is set to it.
    tracking
        XY ROI tracking settings, or ``None`` for a fixed ROI.
    emit
        ``emit(event, **fields)`` receives state changes, stops and faults.
    clock
        Seconds for the time stamps (default: wall time since construction).
    """

    def __init__(
        self,
        *,
        camera: Camera,
        stage: Stage,
        reader: FocusReader | None,
        settings: LockSettings,
        roi: Roi,
        tracking: TrackingSettings | None = None,
        emit: EventSink | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if stage.axes != ("z",):
            raise ValueError(f"the focus lock moves only a Z stage; got a stage with axes {stage.axes}")
        self.camera = camera
        self.stage = stage
        self.reader = reader
        self.controller = FocusLockController(settings, stage_limits_um=stage.limits_um[0])
        self.tracker = RoiTracker(tracking, sensor_shape_px=camera.sensor_shape_px) if tracking else None
        self.emit: EventSink = emit or (lambda event, **fields: None)
        self.roi = roi
        self.camera.set_roi(roi)
        self.samples: list[LockSample] = []
        self.last_measurement: Measurement | None = None
        self.stage_fault = ""
        t0 = time.perf_counter()
        self.clock = clock or (lambda: time.perf_counter() - t0)
        self._truth_buffer: deque[float] = deque(maxlen=settings.engage_readings)
        self._truth_setpoint = math.nan
        self._last_state = self.controller.state

    @property
    def state(self) -> LockState:
        """The controller's state."""
        return self.controller.state

    def engage(self) -> None:
        """Start locking where the stage is now (refused without a calibration)."""
        if self.reader is None:
            raise RuntimeError("the lock cannot arm without a calibration; run or load one first")
        z = self.stage.position_um()[0]
        self.controller.engage(z)
        self._truth_setpoint = math.nan
        self._truth_buffer.clear()
        self.emit("lock_engage", stage_z_um=z)

    def stop(self, reason: str = "stopped by the operator") -> None:
        """Stop the lock and hold the stage where it is."""
        self.controller.stop(reason)
        self._note_state()

    def step(self) -> LockSample:
        """Run one iteration and return its sample."""
        t_start = time.perf_counter()
        frame = self.camera.snap()
        truth = getattr(self.camera, "last_truth", None)
        stage_z = self.stage.position_um()[0]
        if self.reader is None:
            measurement = Measurement(reading=Reading(z_um=math.nan, valid=False, reason="no calibration"),
                                      spot=None, roi=self.roi)
        else:
            measurement = self.reader.measure(frame, self.roi)
        self.last_measurement = measurement
        had_setpoint = math.isfinite(self.controller.setpoint_um)
        decision = self.controller.step(measurement.reading, stage_z)
        command = math.nan
        if decision.target_z_um is not None:
            try:
                self.stage.move_to_um((decision.target_z_um,))
                command = decision.target_z_um
            except Exception as exc:  # noqa: BLE001 - any stage error stops the lock safely
                self.stage_fault = f"{type(exc).__name__}: {exc}"
                self.controller.stop(f"stage fault: {self.stage_fault}")
                self.emit("stage_fault", message=self.stage_fault, target_z_um=decision.target_z_um)
        spot = measurement.spot
        if self.tracker is not None and spot is not None and measurement.reading.valid:
            new_roi = self.tracker.update(self.roi, spot_x_px=spot.x_px, spot_y_px=spot.y_px)
            if new_roi != self.roi:
                self.camera.set_roi(new_roi)
                self.roi = new_roi
        true_error_nm = self._true_error_nm(truth, had_setpoint)
        self._note_state(decision.note)
        sample = LockSample(
            t_s=self.clock(),
            frame=len(self.samples),
            state=self.controller.state.value,
            error_nm=decision.error_um * 1e3,
            command_um=command,
            stage_z_um=stage_z,
            quality=measurement.reading.quality,
            valid=measurement.reading.valid,
            reason=measurement.reading.reason,
            z_um=measurement.reading.z_um,
            z_uncertainty_nm=measurement.reading.z_uncertainty_um * 1e3,
            sigma_x_px=spot.sigma_x_px if spot is not None else math.nan,
            sigma_y_px=spot.sigma_y_px if spot is not None else math.nan,
            spot_x_px=(spot.x_px + measurement.roi.x_px) if spot is not None else math.nan,
            spot_y_px=(spot.y_px + measurement.roi.y_px) if spot is not None else math.nan,
            roi_x_px=measurement.roi.x_px,
            roi_y_px=measurement.roi.y_px,
            lock_good=decision.lock_good,
            true_error_nm=true_error_nm,
            loop_ms=(time.perf_counter() - t_start) * 1e3,
        )
        self.samples.append(sample)
        return sample

    def _true_error_nm(self, truth: Any, had_setpoint: bool) -> float:
        """Ground truth from a simulated camera: the defocus now minus the defocus held at engage."""
        if not isinstance(truth, dict) or "z_um" not in truth:
            return math.nan
        z_true = float(truth["z_um"])
        if not had_setpoint:
            self._truth_buffer.append(z_true)
            if math.isfinite(self.controller.setpoint_um) and self._truth_buffer:
                self._truth_setpoint = float(np.mean(self._truth_buffer))
            return math.nan
        return (z_true - self._truth_setpoint) * 1e3

    def _note_state(self, note: str = "") -> None:
        state = self.controller.state
        if state != self._last_state:
            self.emit("lock_state", state=state.value, previous=self._last_state.value, note=note,
                      stop_reason=self.controller.stop_reason if state == LockState.STOPPED else "")
            self._last_state = state
