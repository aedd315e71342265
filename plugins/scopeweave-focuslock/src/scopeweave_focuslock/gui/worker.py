"""The GUI's worker thread: every camera frame, fit, stage move and calibration happens here.

:class:`LockWorker` lives in its own ``QThread``.  It drives the session's
:class:`~scopeweave_focuslock.lock.runner.FocusLockRunner` one
:meth:`~scopeweave_focuslock.lock.runner.FocusLockRunner.step` per loop period
and runs the calibration sweep (acquisition, then the fit) — the GUI thread
only draws.  Commands arrive as callables through :meth:`LockWorker.execute`
(a queued slot), so they run in this thread one at a time; results and errors
go back as signals.  No control decision is made here: the runner decides.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import attrs
from numpy.typing import NDArray
from pyqtgraph.Qt import QtCore

from scopeweave.errors import ScopeweaveError
from scopeweave.kinds import Camera, Roi
from scopeweave.runs import EventLog, Progress, RunContext
from scopeweave_focuslock.gui.session import CalibrationCandidate, LiveSession
from scopeweave_focuslock.gui.settings import ControlSetting, TrackingSetting
from scopeweave_focuslock.lock.controller import LockState
from scopeweave_focuslock.lock.roi_tracking import RoiTracker, TrackingSettings
from scopeweave_focuslock.lock.runner import FocusLockRunner, LockSample
from scopeweave_focuslock.spotfit import SpotFit
from scopeweave_focuslock.sweep import CalibrationSweep

__all__ = ["ACTIVE_STATES", "LiveUpdate", "LockWorker", "SweepCancelled"]

#: States in which the lock may move the stage (no manual moves, no sweep, no new calibration).
ACTIVE_STATES = frozenset({LockState.ENGAGING, LockState.LOCKED, LockState.DEGRADED, LockState.LOST,
                           LockState.RECOVERING})


class SweepCancelled(Exception):
    """The operator cancelled the calibration sweep."""


@attrs.frozen(kw_only=True, eq=False)
class LiveUpdate:
    """One frame for the GUI.

    Attributes
    ----------
    frame
        The whole sensor frame (counts).
    sample
        The lock iteration (``None`` for frames of a calibration sweep).
    spot
        The fitted spot in ``roi`` coordinates, or ``None``.
    roi
        The ROI the spot was measured in.
    next_roi
        The ROI for the next frame (moved by XY tracking).
    state
        The lock state after this frame.
    stop_reason
        Why the lock stopped, when it did.
    preview
        ``spot`` comes from the display-only fit (no calibration yet).
    """

    frame: NDArray[Any]
    sample: LockSample | None
    spot: SpotFit | None
    roi: Roi
    next_roi: Roi
    state: str
    stop_reason: str = ""
    preview: bool = False


class _ReportingProgress(Progress):
    """Progress that also calls ``on_advance(done, total)`` (which may raise :class:`SweepCancelled`)."""

    def __init__(self, events: EventLog, label: str, total: int, *, on_advance: Callable[[int, int], None]) -> None:
        super().__init__(events, label, total)
        self._on_advance = on_advance

    def advance(self, n: int = 1) -> None:
        super().advance(n)
        self._on_advance(self.done, self.total)


@attrs.define(kw_only=True)
class _SweepContext(RunContext):
    """The run's context, with a progress that reports each sweep step to the GUI."""

    on_advance: Callable[[int, int], None]

    def progress(self, label: str, total: int) -> Progress:
        return _ReportingProgress(self.events, label, total, on_advance=self.on_advance)


class LockWorker(QtCore.QObject):
    """Runs the lock and the calibration sweep off the GUI thread (see the module docstring)."""

    ready = QtCore.Signal(object)                 # the runner's starting ROI
    updated = QtCore.Signal(object)               # LiveUpdate
    live_changed = QtCore.Signal(bool)
    event_recorded = QtCore.Signal(object)        # an event record (dict)
    failed = QtCore.Signal(str)                   # an error to show
    busy_changed = QtCore.Signal(str)             # "", "sweep" or "fit"
    sweep_progress = QtCore.Signal(int, int)
    sweep_finished = QtCore.Signal(object)        # CalibrationCandidate
    sweep_failed = QtCore.Signal(str)
    calibration_loaded = QtCore.Signal(object)    # CalibrationCandidate
    calibration_accepted = QtCore.Signal(object)  # CalibrationCandidate
    calibration_saved = QtCore.Signal(str)
    stage_moved = QtCore.Signal(float)

    def __init__(self, session: LiveSession) -> None:
        super().__init__()
        self.session = session
        self.runner: FocusLockRunner | None = None
        self.n_corrections = 0
        self._live = False
        self._cancel = threading.Event()
        self._control = session.control()
        self._tracking = session.tracking()
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)

    # --- plumbing ------------------------------------------------------------------------
    @QtCore.Slot(object)
    def execute(self, job: Callable[[], Any]) -> None:
        """Run ``job`` in this thread; an exception becomes :attr:`failed`, never a crash."""
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - every failure is shown in the GUI
            self.failed.emit(_describe(exc))

    def _runner(self) -> FocusLockRunner:
        if self.runner is None:
            raise RuntimeError("the live session has not started")
        return self.runner

    def _emit(self, event: str, **fields: Any) -> None:
        self.event_recorded.emit(self.session.emit(event, **fields))

    @property
    def lock_active(self) -> bool:
        """Whether the lock may move the stage now."""
        return self.runner is not None and self.runner.state in ACTIVE_STATES

    # --- start and stop ------------------------------------------------------------------
    def start(self) -> None:
        """Build the runner (with the initial calibration, if any) and report its ROI."""
        initial = self.session.initial
        runner = self.session.workflow.runner(initial.calibration if initial else None, self._emit,
                                              self.session.clock)
        runner.roi = self.session.start_roi(runner.roi)
        self.runner = runner
        self._apply_control(runner)
        self._apply_tracking(runner)
        self.ready.emit(runner.roi)

    def shutdown(self) -> None:
        """Stop the loop and the lock (the stage holds where it is); the thread may end."""
        if self.lock_active:
            self._runner().stop("the live window was closed")
        self.set_live(False)

    def set_live(self, on: bool) -> None:
        """Start or stop the live loop (stopping it stops the lock: no frames, no control)."""
        if on == self._live:
            return
        if on:
            self._runner()  # refuses before the session has started
        if not on and self.lock_active:
            self._runner().stop("live stopped by the operator")
        self._live = on
        if on:
            self._timer.start(0)
        else:
            self._timer.stop()
        self.live_changed.emit(on)

    # --- the loop ------------------------------------------------------------------------
    def _tick(self) -> None:
        if not self._live:
            return
        t_start = time.perf_counter()
        try:
            self.step()
        except Exception as exc:  # noqa: BLE001 - a camera error stops the live loop, never the GUI
            runner = self._runner()
            message = f"live stopped: {_describe(exc)}"
            if runner.state in ACTIVE_STATES:
                runner.stop(message)
            self.set_live(False)
            self._emit("live_error", message=message)
            self.failed.emit(message)
            return
        if self._live:
            period_s = 1.0 / self.session.params.loop_hz
            self._timer.start(max(0, round((period_s - (time.perf_counter() - t_start)) * 1e3)))

    def step(self) -> None:
        """One lock iteration (snap, measure, decide, move, track) and its frame for the GUI."""
        runner = self._runner()
        sample = runner.step()
        measurement = runner.last_measurement
        frame = self.session.camera_view.last_frame
        if measurement is None or frame is None:
            return
        spot, preview = measurement.spot, False
        if runner.reader is None:
            spot, preview = self.session.preview_spot(frame, measurement.roi), True
        self.updated.emit(LiveUpdate(frame=frame, sample=sample, spot=spot, roi=measurement.roi, next_roi=runner.roi,
                                     state=runner.state.value, stop_reason=runner.controller.stop_reason,
                                     preview=preview))

    # --- lock commands ------------------------------------------------------------------
    def engage(self) -> None:
        """Arm the lock at the current focus (refused without an accepted calibration)."""
        runner = self._runner()
        if runner.reader is None:
            raise RuntimeError("the lock will not arm: no calibration yet (placeholder). Run a calibration sweep "
                               "and accept it, or load a saved one")
        self._apply_control(runner)
        runner.engage()
        self.set_live(True)

    def stop_lock(self) -> None:
        """Stop the lock; the stage holds where it is."""
        self._runner().stop("stopped by the operator")

    def set_roi(self, roi: Roi) -> None:
        """Measure in ``roi`` from the next frame on (clipped to the sensor)."""
        height, width = self.session.camera_view.sensor_shape_px
        size = max(7, min(roi.width_px, roi.height_px, width, height))
        x = min(max(roi.x_px, 0), width - size)
        y = min(max(roi.y_px, 0), height - size)
        self._runner().roi = Roi(x_px=x, y_px=y, width_px=size, height_px=size)

    def set_control(self, control: ControlSetting) -> None:
        """New gains, used from the next reading on."""
        self._control = control
        self._apply_control(self._runner())

    def set_tracking(self, tracking: TrackingSetting) -> None:
        """XY ROI tracking on/off and its settings."""
        self._tracking = tracking
        self._apply_tracking(self._runner())

    def _apply_control(self, runner: FocusLockRunner) -> None:
        c = self._control
        runner.controller.settings = attrs.evolve(runner.controller.settings, kp=c.kp, ki=c.ki,
                                                  max_step_um=c.max_step_um, command_deadband_um=c.command_deadband_um)

    def _apply_tracking(self, runner: FocusLockRunner) -> None:
        t = self._tracking
        settings = TrackingSettings(track_gain=t.track_gain, track_deadband_px=t.track_deadband_px,
                                    track_max_step_px=t.track_max_step_px)
        runner.tracker = (RoiTracker(settings, sensor_shape_px=self.session.camera_view.sensor_shape_px)
                          if t.enabled else None)

    # --- the stage ------------------------------------------------------------------------
    def move_stage(self, where: str) -> None:
        """``home`` (the Z the session started at) or ``center`` (the middle of the travel)."""
        if self.lock_active:
            raise RuntimeError(f"stop the lock before moving the stage to {where}")
        low, high = self.session.stage.limits_um[0]
        z_um = self.session.start_z_um if where == "home" else (low + high) / 2
        self.session.stage.move_to_um((z_um,))
        z_now = float(self.session.stage.position_um()[0])
        self._emit("stage_move", where=where, z_um=z_now)
        self.stage_moved.emit(z_now)
        if not self._live:
            self.step()

    # --- calibration --------------------------------------------------------------------------
    def cancel_sweep(self) -> None:
        """Ask a running sweep to stop after the current step (safe from any thread)."""
        self._cancel.set()

    def run_sweep(self, roi: Roi, half_range_um: float, n_steps: int) -> None:
        """Sweep around the current Z on ``roi``, fit it, write its files, and offer it for acceptance."""
        if self.lock_active:
            raise RuntimeError("stop the lock before running a calibration sweep")
        params = self.session.sweep_params(roi, half_range_um=half_range_um, n_steps=n_steps)
        was_live = self._live
        self.set_live(False)
        self._cancel.clear()
        view = self.session.camera_view
        sweep = CalibrationSweep(params, camera=cast(Camera, view), stage=self.session.stage,
                                 model=self.session.workflow.model)

        def on_advance(done: int, total: int) -> None:
            self.sweep_progress.emit(done, total)
            if view.last_frame is not None:
                self.updated.emit(LiveUpdate(frame=view.last_frame, sample=None, spot=None, roi=roi, next_roi=roi,
                                             state=self._runner().state.value))
            if self._cancel.is_set():
                raise SweepCancelled

        c = self.session.context
        context = _SweepContext(run_dir=c.run_dir, uses=c.uses, params=c.params, events=c.events,
                                session_path=c.session_path, on_advance=on_advance)
        self.busy_changed.emit("sweep")
        self._emit("calibration_start", n_steps=params.n_steps, half_range_um=params.half_range_um,
                   roi_center_px=list(params.roi_center_px or ()), roi_size_px=params.roi_size_px)
        try:
            raw = sweep.acquire(context)
            self.busy_changed.emit("fit")
            calibration = sweep.process(raw)
            candidate = self.session.record_sweep(calibration, raw, params)
        except SweepCancelled:
            z_um = self.session.stage.position_um()[0]
            self._emit("calibration_cancelled", returned_to_um=z_um)
            self.sweep_failed.emit(f"calibration sweep cancelled; the stage went back to {z_um:.3f} um")
        except Exception as exc:  # noqa: BLE001 - shown in the GUI, the session goes on
            self._emit("calibration_failed", message=_describe(exc))
            self.sweep_failed.emit(f"Calibration failed: {_describe(exc)}")
        else:
            self.sweep_finished.emit(candidate)
        finally:
            self.busy_changed.emit("")
            self.set_live(was_live)

    def load_calibration(self, path: Path) -> None:
        """Load a saved calibration and offer it for acceptance."""
        self.calibration_loaded.emit(self.session.load(path))

    def save_calibration(self, candidate: CalibrationCandidate, path: Path) -> None:
        """Save ``candidate`` to ``path`` (CSV, meta and figure)."""
        self.calibration_saved.emit(str(self.session.save(candidate, path)))

    def reject(self, candidate: CalibrationCandidate) -> None:
        """Record that the operator rejected ``candidate`` (the accepted calibration stays)."""
        self._emit("calibration_rejected", source=candidate.source,
                   path=str(candidate.path) if candidate.path else None, summary=candidate.calibration.summary())

    def accept(self, candidate: CalibrationCandidate) -> None:
        """Arm future locks with ``candidate`` (stops a running lock first; refuses a calibration that failed)."""
        calibration = candidate.calibration
        if not calibration.armable:
            raise RuntimeError("this calibration failed its quality gates and cannot arm the lock: "
                               + "; ".join(gate.message for gate in calibration.failed_gates))
        old = self._runner()
        if old.state in ACTIVE_STATES:
            old.stop("calibration replaced")
        runner = self.session.new_runner(calibration)
        runner.roi = old.roi
        runner.samples = old.samples
        self.n_corrections += old.controller.n_corrections
        self.runner = runner
        self._apply_control(runner)
        self._apply_tracking(runner)
        self.session.accept(candidate)
        self.calibration_accepted.emit(candidate)

    @property
    def total_corrections(self) -> int:
        """Stage corrections over all the session's runners."""
        return self.n_corrections + (self.runner.controller.n_corrections if self.runner else 0)


def _describe(exc: BaseException) -> str:
    """Our own errors read as they are; anything else names its type."""
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, ScopeweaveError) or type(exc) is RuntimeError else f"{type(exc).__name__}: {text}"
