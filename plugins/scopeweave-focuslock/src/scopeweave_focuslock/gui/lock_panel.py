"""The lock's controls and read-out: state, error, live/start/stop, stage, gains, XY tracking."""

from __future__ import annotations

import math

from pyqtgraph.Qt import QtCore, QtWidgets

from scopeweave_focuslock.gui.settings import ControlSetting, TrackingSetting
from scopeweave_focuslock.gui.style import STATE_COLOURS
from scopeweave_focuslock.lock.runner import LockSample

__all__ = ["LockPanel"]

_STATE_HELP = {
    "idle": "not locking",
    "engaging": "taking the setpoint, gains ramping up",
    "locked": "holding the focus",
    "degraded": "holding: the last readings were not usable",
    "lost": "no usable signal",
    "recovering": "scanning around the last good z",
    "stopped": "stopped; the stage holds where it is",
}


def _spin(low: float, high: float, step: float, decimals: int, suffix: str = "") -> QtWidgets.QDoubleSpinBox:
    spin = QtWidgets.QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setKeyboardTracking(False)
    if suffix:
        spin.setSuffix(suffix)
    return spin


def _pair(grid: QtWidgets.QGridLayout, row: int, column: int, label: str, widget: QtWidgets.QWidget) -> None:
    grid.addWidget(QtWidgets.QLabel(label), row, column, QtCore.Qt.AlignmentFlag.AlignRight)
    grid.addWidget(widget, row, column + 1)


class LockPanel(QtWidgets.QWidget):
    """State indicator, error in nm, lock and stage buttons, gains and XY ROI tracking."""

    control_changed = QtCore.Signal(object)   # ControlSetting
    tracking_changed = QtCore.Signal(object)  # TrackingSetting

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state_label = QtWidgets.QLabel()
        self.state_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.state_label.setMinimumHeight(48)
        self.state_help = QtWidgets.QLabel()
        self.state_help.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.state_help.setWordWrap(True)
        self.error_label = QtWidgets.QLabel("—")
        self.error_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.error_label.setStyleSheet("font-size: 26px; font-weight: bold;")
        self.error_caption = QtWidgets.QLabel("focus error (measured)")
        self.error_caption.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.stage_label = QtWidgets.QLabel("stage z: —")
        self.reading_label = QtWidgets.QLabel("reading: —")
        self.reading_label.setWordWrap(True)
        self.calibration_label = QtWidgets.QLabel()
        self.calibration_label.setWordWrap(True)
        self.fault_label = QtWidgets.QLabel()
        self.fault_label.setWordWrap(True)
        self.fault_label.setStyleSheet("background: #fce8e6; color: #a50e0e; border: 1px solid #d93025; padding: 4px;")
        self.fault_label.hide()

        self.live_button = QtWidgets.QPushButton("Live")
        self.live_button.setCheckable(True)
        self.live_button.setToolTip("Start or stop the camera loop (stopping it stops the lock)")
        self.live_button.setStyleSheet("QPushButton:checked { background: #1e8e3e; color: white; font-weight: bold; }")
        self.start_button = QtWidgets.QPushButton("Start autofocus")
        self.start_button.setToolTip("Hold the focus found now (needs an accepted calibration)")
        self.stop_button = QtWidgets.QPushButton("Stop autofocus")
        self.home_button = QtWidgets.QPushButton("Stage home")
        self.home_button.setToolTip("Move Z back to where this session started")
        self.center_button = QtWidgets.QPushButton("Stage center")
        self.center_button.setToolTip("Move Z to the middle of its travel")

        self.kp = _spin(0.01, 5.0, 0.05, 3)
        self.ki = _spin(0.0, 5.0, 0.05, 3)
        self.max_step = _spin(0.001, 10.0, 0.01, 3, " µm")
        self.deadband = _spin(0.0, 1.0, 0.001, 4, " µm")
        gains = QtWidgets.QGroupBox("Control")
        grid = QtWidgets.QGridLayout(gains)
        _pair(grid, 0, 0, "kp", self.kp)
        _pair(grid, 0, 2, "ki", self.ki)
        _pair(grid, 1, 0, "max step", self.max_step)
        _pair(grid, 1, 2, "deadband", self.deadband)

        self.track = QtWidgets.QCheckBox("Track the spot in XY")
        self.track.setToolTip("Move the ROI to follow the spot (never an XY stage)")
        self.track_gain = _spin(0.01, 1.0, 0.05, 2)
        self.track_deadband = _spin(0.0, 20.0, 0.5, 1, " px")
        self.track_max_step = _spin(0.0, 50.0, 1.0, 1, " px")
        tracking = QtWidgets.QGroupBox("XY ROI tracking (moves the ROI only)")
        track_grid = QtWidgets.QGridLayout(tracking)
        track_grid.addWidget(self.track, 0, 0, 1, 4)
        _pair(track_grid, 1, 0, "gain", self.track_gain)
        _pair(track_grid, 1, 2, "deadband", self.track_deadband)
        _pair(track_grid, 2, 0, "max step", self.track_max_step)

        buttons = QtWidgets.QGridLayout()
        buttons.addWidget(self.live_button, 0, 0, 1, 2)
        buttons.addWidget(self.start_button, 1, 0)
        buttons.addWidget(self.stop_button, 1, 1)
        buttons.addWidget(self.home_button, 2, 0)
        buttons.addWidget(self.center_button, 2, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(self.state_label)
        layout.addWidget(self.state_help)
        layout.addWidget(self.error_label)
        layout.addWidget(self.error_caption)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.reading_label)
        layout.addWidget(self.calibration_label)
        layout.addWidget(self.fault_label)
        layout.addLayout(buttons)
        layout.addWidget(gains)
        layout.addWidget(tracking)
        layout.addStretch(1)
        for spin in (self.kp, self.ki, self.max_step, self.deadband):
            spin.valueChanged.connect(self._control_edited)
        for spin in (self.track_gain, self.track_deadband, self.track_max_step):
            spin.valueChanged.connect(self._tracking_edited)
        self.track.toggled.connect(self._tracking_edited)
        self._quiet = False
        self.show_state("idle", "")
        self.show_calibration(None)

    # --- values ---------------------------------------------------------------------------
    def set_control(self, control: ControlSetting) -> None:
        """Show ``control`` without reporting it back."""
        self._quiet = True
        try:
            self.kp.setValue(control.kp)
            self.ki.setValue(control.ki)
            self.max_step.setValue(control.max_step_um)
            self.deadband.setValue(control.command_deadband_um)
        finally:
            self._quiet = False

    def control(self) -> ControlSetting:
        """The gains as shown."""
        return ControlSetting(kp=self.kp.value(), ki=self.ki.value(), max_step_um=self.max_step.value(),
                              command_deadband_um=self.deadband.value())

    def set_tracking(self, tracking: TrackingSetting) -> None:
        """Show ``tracking`` without reporting it back."""
        self._quiet = True
        try:
            self.track.setChecked(tracking.enabled)
            self.track_gain.setValue(tracking.track_gain)
            self.track_deadband.setValue(tracking.track_deadband_px)
            self.track_max_step.setValue(tracking.track_max_step_px)
        finally:
            self._quiet = False

    def tracking(self) -> TrackingSetting:
        """XY tracking as shown."""
        return TrackingSetting(enabled=self.track.isChecked(), track_gain=self.track_gain.value(),
                               track_deadband_px=self.track_deadband.value(),
                               track_max_step_px=self.track_max_step.value())

    def _control_edited(self) -> None:
        if not self._quiet:
            self.control_changed.emit(self.control())

    def _tracking_edited(self) -> None:
        if not self._quiet:
            self.tracking_changed.emit(self.tracking())

    # --- read-out ---------------------------------------------------------------------------
    def show_state(self, state: str, stop_reason: str, *, lock_good: bool = False) -> None:
        """Colour and name the lock state."""
        colour = STATE_COLOURS.get(state, "#9aa0a6")
        text = state.upper() + (" ✓" if lock_good else "")
        self.state_label.setText(text)
        self.state_label.setStyleSheet(f"background: {colour}; color: white; font-size: 24px; font-weight: bold; "
                                       "border-radius: 6px;")
        self.state_label.setProperty("lock_state", state)
        help_text = _STATE_HELP.get(state, "")
        if state == "stopped" and stop_reason:
            help_text = stop_reason
        self.state_help.setText(help_text)

    def show_sample(self, sample: LockSample) -> None:
        """Error, stage and reading of one lock iteration."""
        error = sample.error_nm
        self.error_label.setText(f"{error:+.1f} nm" if math.isfinite(error) else "—")
        self.stage_label.setText(f"stage z: {sample.stage_z_um:.4f} µm")
        if sample.valid:
            text = f"reading: z {sample.z_um:+.4f} µm ± {sample.z_uncertainty_nm:.1f} nm, quality {sample.quality:.2f}"
        else:
            text = f"reading not usable: {sample.reason or 'invalid'}"
        self.reading_label.setText(text)

    def show_calibration(self, summary: str | None) -> None:
        """The active calibration, or the placeholder warning."""
        if summary is None:
            self.calibration_label.setText("<b style='color:#a50e0e'>No calibration (placeholder)</b>: the lock will "
                                           "not arm. Run a calibration sweep and accept it, or load one.")
        else:
            self.calibration_label.setText(f"<b style='color:#137333'>Calibration</b>: {summary}")

    def show_fault(self, message: str) -> None:
        """A red banner with ``message`` (empty: hide it)."""
        self.fault_label.setText(message)
        self.fault_label.setVisible(bool(message))

    def set_enabled_for(self, *, live: bool, lock_active: bool, busy: bool) -> None:
        """Enable what makes sense now."""
        self.live_button.setChecked(live)
        self.live_button.setText("● Live: camera running" if live else "Live")
        self.live_button.setEnabled(not busy)
        self.start_button.setEnabled(not busy and not lock_active)
        self.stop_button.setEnabled(lock_active)
        self.home_button.setEnabled(not busy and not lock_active)
        self.center_button.setEnabled(not busy and not lock_active)
