"""The focus-lock main window: live view, lock panel, and diagnostics / calibration / events tabs.

The window only draws and forwards the operator's commands to the
:class:`~scopeweave_focuslock.gui.worker.LockWorker` in its thread.  Frames
arrive at the loop's rate; the window keeps the latest one and every sample,
and redraws on its own timer, so a fast loop never floods the GUI thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from scopeweave.kinds import Roi
from scopeweave_focuslock.gui.calibration_panel import CalibrationPanel
from scopeweave_focuslock.gui.diagnostics import DiagnosticsPanel
from scopeweave_focuslock.gui.live_view import LiveView
from scopeweave_focuslock.gui.lock_panel import LockPanel
from scopeweave_focuslock.gui.session import CalibrationCandidate, LiveSession
from scopeweave_focuslock.gui.settings import GuiSettings, RoiSetting, WindowSetting
from scopeweave_focuslock.gui.worker import ACTIVE_STATES, LiveUpdate, LockWorker
from scopeweave_focuslock.lock.runner import LockSample

__all__ = ["FocusLockWindow"]

_TABS = ("diagnostics", "calibration", "events")
_QUIET_EVENTS = frozenset({"progress", "progress_start", "progress_end"})
_ACTIVE = frozenset(state.value for state in ACTIVE_STATES)
_RENDER_MS = 40
_DIAGNOSTICS_EVERY = 5  # render ticks between diagnostics redraws
_SHUTDOWN_WAIT_MS = 60_000


class FocusLockWindow(QtWidgets.QMainWindow):
    """The live GUI of one :class:`~scopeweave_focuslock.gui.session.LiveSession`."""

    closed = QtCore.Signal()
    _request = QtCore.Signal(object)

    def __init__(self, session: LiveSession) -> None:
        super().__init__()
        self.session = session
        p = session.params
        self.setWindowTitle(f"scopeweave focus lock — {session.context.run_dir.name}")
        self.live_view = LiveView(session.camera_view.sensor_shape_px)
        self.lock_panel = LockPanel()
        self.calibration_panel = CalibrationPanel(half_range_um=p.calibration.half_range_um,
                                                  n_steps=p.calibration.n_steps)
        self.diagnostics = DiagnosticsPanel()
        self.events_view = QtWidgets.QPlainTextEdit()
        self.events_view.setReadOnly(True)
        self.events_view.setMaximumBlockCount(5000)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.diagnostics, "Diagnostics")
        self.tabs.addTab(self.calibration_panel, "Calibration")
        self.tabs.addTab(self.events_view, "Events")
        side = QtWidgets.QScrollArea()
        side.setWidget(self.lock_panel)
        side.setWidgetResizable(True)
        side.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side.setMinimumWidth(self.lock_panel.minimumSizeHint().width() + side.verticalScrollBar().sizeHint().width() + 4)
        top = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        top.addWidget(self.live_view)
        top.addWidget(side)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)
        self.statusBar().addPermanentWidget(QtWidgets.QLabel(f"run directory: {session.context.run_dir}"))

        self.samples: list[LockSample] = []
        self.state = "idle"
        self.live = False
        self.busy = ""
        self.errors: list[str] = []
        self.last_calibration_file: str | None = session.settings.last_calibration_file
        self._latest: LiveUpdate | None = None
        self._drawn: LiveUpdate | None = None
        self._pending_roi: Roi | None = None
        self._diagnostics_dirty = False
        self._ticks = 0
        self._closing = False
        self.started = False

        self.worker = LockWorker(session)
        self._thread = QtCore.QThread(self)
        self.worker.moveToThread(self._thread)
        self._request.connect(self.worker.execute)
        self._connect()
        self._restore(session.settings)
        self._render_timer = QtCore.QTimer(self)
        self._render_timer.timeout.connect(self._render)
        self._render_timer.start(_RENDER_MS)
        self._thread.start()
        self.call(self.worker.start)

    # --- wiring ------------------------------------------------------------------------------
    def call(self, job: Callable[..., Any], *args: Any) -> None:
        """Run ``job(*args)`` in the worker thread."""
        self._request.emit(functools.partial(job, *args))

    def _connect(self) -> None:
        w, lock, cal = self.worker, self.lock_panel, self.calibration_panel
        w.ready.connect(self._on_ready)
        w.updated.connect(self._on_update)
        w.live_changed.connect(self._on_live)
        w.event_recorded.connect(self._on_event)
        w.failed.connect(self.show_error)
        w.busy_changed.connect(self._on_busy)
        w.sweep_progress.connect(cal.show_progress)
        w.sweep_finished.connect(self._on_sweep_finished)
        w.sweep_failed.connect(self._on_sweep_failed)
        w.calibration_loaded.connect(self._on_loaded)
        w.calibration_accepted.connect(self._on_accepted)
        w.calibration_saved.connect(self._on_saved)
        w.stage_moved.connect(lambda z: lock.stage_label.setText(f"stage z: {z:.4f} µm"))
        lock.live_button.clicked.connect(lambda checked: self.call(w.set_live, checked))
        lock.start_button.clicked.connect(self.start_lock)
        lock.stop_button.clicked.connect(lambda: self.call(w.stop_lock))
        lock.home_button.clicked.connect(lambda: self.call(w.move_stage, "home"))
        lock.center_button.clicked.connect(lambda: self.call(w.move_stage, "center"))
        lock.control_changed.connect(lambda control: self.call(w.set_control, control))
        lock.tracking_changed.connect(lambda tracking: self.call(w.set_tracking, tracking))
        self.live_view.roi_changed.connect(self._on_roi_moved)
        cal.sweep_button.clicked.connect(self.run_sweep)
        cal.cancel_button.clicked.connect(lambda: w.cancel_sweep())  # direct: the worker thread is busy sweeping
        cal.accept_button.clicked.connect(self.accept_calibration)
        cal.reject_button.clicked.connect(self.reject_calibration)
        cal.save_button.clicked.connect(self._save_dialog)
        cal.load_button.clicked.connect(self._load_dialog)
        cal.load_last_button.clicked.connect(self._load_last)

    def _restore(self, settings: GuiSettings) -> None:
        s = self.session
        self.live_view.apply_lut(settings.lut)
        self.lock_panel.set_control(s.control())
        self.lock_panel.set_tracking(s.tracking())
        window = settings.window
        if not (window.geometry and self.restoreGeometry(QtCore.QByteArray.fromBase64(window.geometry.encode()))):
            self.resize(1400, 960)
        self.splitter.setSizes(list(window.splitter_sizes) if len(window.splitter_sizes) == 2 else [540, 420])
        self.tabs.setCurrentIndex(_TABS.index(window.tab) if window.tab in _TABS else 0)
        if s.settings_problem:
            self.show_error(f"GUI settings reset to the defaults: {s.settings_problem}")
        if s.initial is not None:
            self.calibration_panel.set_candidate(s.initial, accepted=True)
            self.lock_panel.show_calibration(s.initial.calibration.summary())
        else:
            self.tabs.setCurrentIndex(_TABS.index("calibration"))
        self.calibration_panel.load_last_button.setEnabled(s.last_calibration_file() is not None)
        self._update_buttons()

    def current_settings(self) -> GuiSettings:
        """What the next start restores."""
        roi = self.live_view.roi()
        geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        return GuiSettings(
            roi=RoiSetting(x_px=roi.x_px, y_px=roi.y_px, size_px=roi.width_px),
            control=self.lock_panel.control(),
            tracking=self.lock_panel.tracking(),
            lut=self.live_view.lut_setting(),
            window=WindowSetting(geometry=geometry, splitter_sizes=tuple(self.splitter.sizes()),
                                 tab=_TABS[self.tabs.currentIndex()]),
            last_calibration_file=self.last_calibration_file,
        )

    # --- operator commands --------------------------------------------------------------------
    def start_lock(self) -> None:
        """Arm the lock (the worker refuses without an accepted calibration)."""
        self.lock_panel.show_fault("")
        self.call(self.worker.engage)

    def run_sweep(self) -> None:
        """Calibration sweep on the drawn ROI with the panel's range and steps."""
        self.lock_panel.show_fault("")
        self.calibration_panel.status.setText("")
        self.calibration_panel.set_busy("sweep")
        self.call(self.worker.run_sweep, self.live_view.roi(), self.calibration_panel.half_range.value(),
                  self.calibration_panel.steps.value())

    def accept_calibration(self) -> None:
        """Arm future locks with the calibration shown."""
        candidate = self.calibration_panel.candidate
        if candidate is not None:
            self.call(self.worker.accept, candidate)

    def reject_calibration(self) -> None:
        """Drop the calibration shown; the accepted one (if any) stays."""
        candidate = self.calibration_panel.candidate
        if candidate is None:
            return
        self.call(self.worker.reject, candidate)
        accepted = self.session.accepted
        self.calibration_panel.set_candidate(accepted, accepted=accepted is not None)
        self.calibration_panel.status.setText("calibration rejected" + ("; the accepted one still arms the lock"
                                                                        if accepted else ""))

    def save_calibration(self, path: Path) -> None:
        """Save the calibration shown to ``path``."""
        candidate = self.calibration_panel.candidate
        if candidate is not None:
            self.call(self.worker.save_calibration, candidate, path)

    def load_calibration(self, path: Path) -> None:
        """Load a saved calibration to review and accept."""
        self.call(self.worker.load_calibration, path)

    def _save_dialog(self) -> None:
        start = self.last_calibration_file or str(self.session.context.run_dir / "calibration_sweep.csv")
        name, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save calibration", start, "Calibration CSV (*.csv)")
        if name:
            self.save_calibration(Path(name) if name.endswith(".csv") else Path(name + ".csv"))

    def _load_dialog(self) -> None:
        start = self.last_calibration_file or str(self.session.context.run_dir)
        name, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load calibration", start,
                                                        "Calibration (*.csv *.meta.json)")
        if name:
            self.load_calibration(Path(name))

    def _load_last(self) -> None:
        last = self.session.last_calibration_file()
        if last is not None:
            self.load_calibration(last)

    # --- worker reports -------------------------------------------------------------------------
    def _on_ready(self, roi: Roi) -> None:
        self.live_view.set_roi(roi)
        self.started = True
        if self.session.auto_sweep:
            self.show_notice("calibrate_first: running the calibration sweep on the ROI")
            self.run_sweep()

    def _on_update(self, update: LiveUpdate) -> None:
        self._latest = update
        self.state = update.state
        if update.sample is not None:
            self.samples.append(update.sample)
            self._diagnostics_dirty = True

    def _on_live(self, on: bool) -> None:
        self.live = on
        self._update_buttons()

    def _on_busy(self, what: str) -> None:
        self.busy = what
        self.calibration_panel.set_busy(what)
        self._update_buttons()

    def _on_event(self, record: dict[str, Any]) -> None:
        event = record.get("event", "")
        if event in _QUIET_EVENTS:
            return
        fields = " ".join(f"{k}={v}" for k, v in record.items() if k not in ("t_s", "event"))
        self.events_view.appendPlainText(f"{record.get('t_s', 0.0):9.3f}  {event:<22} {fields}")
        if event == "stage_fault":
            self.show_error(f"Stage fault: {record.get('message', '')} — the lock stopped and holds the stage.")

    def _on_roi_moved(self, roi: Roi) -> None:
        self._pending_roi = roi
        self.call(self.worker.set_roi, roi)

    def _on_sweep_finished(self, candidate: CalibrationCandidate) -> None:
        self.calibration_panel.set_candidate(candidate)
        self.tabs.setCurrentIndex(_TABS.index("calibration"))
        verdict = ("review the plot and the gates, then Accept or Reject" if candidate.calibration.armable
                   else "it failed its quality gates and cannot arm the lock")
        self.calibration_panel.status.setText(f"sweep done ({candidate.path.name if candidate.path else ''}): {verdict}")
        self.show_notice(f"calibration sweep done: {verdict}")

    def _on_sweep_failed(self, message: str) -> None:
        self.calibration_panel.status.setText(f"<span style='color:#a50e0e'>{message}</span>")
        self.show_error(message)

    def _on_loaded(self, candidate: CalibrationCandidate) -> None:
        self.calibration_panel.set_candidate(candidate)
        self.tabs.setCurrentIndex(_TABS.index("calibration"))
        self.calibration_panel.status.setText(f"loaded {candidate.path}")

    def _on_accepted(self, candidate: CalibrationCandidate) -> None:
        self.calibration_panel.mark_accepted()
        self.lock_panel.show_calibration(candidate.calibration.summary())
        if candidate.path is not None:
            self.last_calibration_file = str(candidate.path)
        self.calibration_panel.status.setText("accepted: the lock arms with this calibration")
        self.show_notice("calibration accepted")
        self._update_buttons()

    def _on_saved(self, path: str) -> None:
        self.last_calibration_file = path
        self.calibration_panel.load_last_button.setEnabled(True)
        self.calibration_panel.status.setText(f"saved {path}")
        self.show_notice(f"calibration saved to {path}")

    def show_error(self, message: str) -> None:
        """Red banner in the lock panel, the status bar and the events tab."""
        self.errors.append(message)
        self.lock_panel.show_fault(message)
        self.statusBar().showMessage(message, 30_000)
        self.events_view.appendPlainText(f"{'':9}  ERROR  {message}")

    def show_notice(self, message: str) -> None:
        """An information in the status bar."""
        self.statusBar().showMessage(message, 10_000)

    # --- drawing ----------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        self.lock_panel.set_enabled_for(live=self.live, lock_active=self.state in _ACTIVE, busy=bool(self.busy))

    def _render(self) -> None:
        self._ticks += 1
        update = self._latest
        if update is not None and update is not self._drawn:
            self._drawn = update
            self.live_view.set_frame(update.frame)
            self.live_view.set_spot(update.spot, update.roi, preview=update.preview)
            if update.sample is not None:
                self.lock_panel.show_sample(update.sample)
            self.lock_panel.show_state(update.state, update.stop_reason,
                                       lock_good=update.sample.lock_good if update.sample else False)
            self._follow_roi(update)
            self._update_buttons()
        if self._diagnostics_dirty and self._ticks % _DIAGNOSTICS_EVERY == 0:
            self._diagnostics_dirty = False
            self.diagnostics.show_samples(self.samples)

    def _follow_roi(self, update: LiveUpdate) -> None:
        """Show the runner's ROI (XY tracking moves it), unless the operator is moving it."""
        if self._pending_roi is not None:
            if update.roi != self._pending_roi:
                return  # frames measured before the operator's ROI reached the worker
            self._pending_roi = None
        if not self.live_view.roi_item.isMoving and update.next_roi != self.live_view.roi():
            self.live_view.set_roi(update.next_roi)

    # --- closing ---------------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Remember the settings, stop the loop and the lock, end the worker thread."""
        if not self._closing:
            self._closing = True
            try:
                self.session.save_settings(self.current_settings())
            except OSError as exc:
                self.show_error(f"could not save the GUI settings: {exc}")
            self.worker.cancel_sweep()
            self.call(self._finish_worker)
            self._thread.wait(_SHUTDOWN_WAIT_MS)
            self._render_timer.stop()
            self.closed.emit()
        event.accept()

    def _finish_worker(self) -> None:
        """In the worker thread: stop, hand the worker back to the GUI thread (its timer with it), end the thread."""
        self.worker.shutdown()
        self.worker.moveToThread(self.thread())
        QtCore.QThread.currentThread().quit()
