"""The operator's path through the GUI on the simulated microscope.

Start live; move the ROI onto the spot; run a calibration sweep; accept it;
lock while the focus drifts; stop; close; reopen with the settings restored.
Screenshots go to ``tmp_path`` (and to ``$SCOPEWEAVE_GUI_SCREENSHOTS`` when
set: ``docs/images/focuslock`` regenerates the documentation's).  Before the
first frame, the empty view asks for Live.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyqtgraph.Qt import QtCore
from scopeweave_sim import DriftTerm

from scopeweave.kinds import Roi

pytestmark = pytest.mark.gui

BEAD_PX = (25.5, 16.5)  # where the simulated bead is on the sensor (x, y)
N_STEPS = 21
WAIT_MS = 20_000
Live = Any
Opener = Any


def _drag_roi(live: Live, qtbot: Any, x_px: int, y_px: int) -> None:
    """Move the ROI as a drag does: position, then 'finished'."""
    item = live.window.live_view.roi_item
    item.setPos((x_px, y_px))  # finish=True emits sigRegionChangeFinished, like the end of a drag
    qtbot.waitUntil(lambda: live.window.worker.runner.roi.x_px == x_px and live.window.worker.runner.roi.y_px == y_px,
                    timeout=WAIT_MS)


def _start_live(live: Live, qtbot: Any) -> None:
    qtbot.mouseClick(live.window.lock_panel.live_button, QtCore.Qt.MouseButton.LeftButton)
    n = len(live.window.samples)
    qtbot.waitUntil(lambda: len(live.window.samples) > n + 5, timeout=WAIT_MS)


def test_live_calibrate_lock_and_restore(open_live: Opener, qtbot: Any, tmp_path: Path, screenshot: Any) -> None:
    settings_path = tmp_path / "autofocus_gui_settings.json"
    live = open_live(camera={"focus_drift": (DriftTerm(kind="ramp", rate_um_per_min=3.0),)}, params={"roi_center_px": (9.0, 9.0)},
                     settings_path=settings_path)
    window = live.window
    # Placeholder calibration: the lock says why it will not arm.
    assert "No calibration" in window.lock_panel.calibration_label.text()
    assert window.worker.runner.reader is None

    # --- start live, with the ROI away from the spot: no spot found there
    assert window.live_view.roi() == Roi(x_px=1, y_px=1, width_px=17, height_px=17)
    assert window.live_view.hint.isVisible()
    _start_live(live, qtbot)
    qtbot.waitUntil(lambda: window.live_view.image.image is not None, timeout=WAIT_MS)
    assert window.live_view.image.image.shape == (32, 40)  # the whole sensor, not the ROI
    assert not window.live_view.hint.isVisible()
    qtbot.waitUntil(lambda: "not found" in window.live_view.spot_label.text(), timeout=WAIT_MS)

    # --- move the ROI onto the spot: the fitted ellipse sits on the bead
    _drag_roi(live, qtbot, 17, 8)
    qtbot.waitUntil(lambda: window._drawn is not None and window._drawn.spot is not None
                    and window._drawn.roi.x_px == 17 and window._drawn.spot.is_parametric, timeout=WAIT_MS)
    update = window._drawn
    x_fit, y_fit = update.roi.x_px + update.spot.x_px, update.roi.y_px + update.spot.y_px
    truth = live.camera.last_truth
    assert math.hypot(x_fit - BEAD_PX[0], y_fit - BEAD_PX[1]) < 0.3
    assert update.spot.sigma_x_px == pytest.approx(truth["sigma_x_px"], rel=0.15)
    assert update.spot.sigma_y_px == pytest.approx(truth["sigma_y_px"], rel=0.15)
    qtbot.waitUntil(lambda: window.live_view.ellipse.xData is not None and len(window.live_view.ellipse.xData) > 0,
                    timeout=WAIT_MS)
    ex, ey = window.live_view.ellipse.xData, window.live_view.ellipse.yData
    # the ellipse is drawn around the fitted centre (image coordinates: pixel centres at +0.5)
    assert np.mean(ex) == pytest.approx(window._drawn.roi.x_px + window._drawn.spot.x_px + 0.5, abs=0.05)
    assert np.mean(ey) == pytest.approx(window._drawn.roi.y_px + window._drawn.spot.y_px + 0.5, abs=0.05)
    assert "display fit, no calibration" in window.live_view.spot_label.text()

    # --- the lock refuses to arm on the placeholder
    qtbot.mouseClick(window.lock_panel.start_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any("will not arm" in e for e in window.errors), timeout=WAIT_MS)
    assert window.worker.runner.state.value == "idle"
    assert window.lock_panel.fault_label.isVisible()

    # --- calibration sweep: progress while it runs, then the plot and the gates
    progress_seen: list[int] = []
    window.calibration_panel.progress.valueChanged.connect(progress_seen.append)
    qtbot.mouseClick(window.calibration_panel.sweep_button, QtCore.Qt.MouseButton.LeftButton)
    assert not window.calibration_panel.sweep_button.isEnabled()
    qtbot.waitUntil(lambda: window.calibration_panel.candidate is not None, timeout=WAIT_MS)
    assert len(set(progress_seen)) > 3  # the GUI drew intermediate progress: it was not blocked
    candidate = window.calibration_panel.candidate
    calibration = candidate.calibration
    assert calibration.armable, calibration.summary()
    assert calibration.metadata["roi"] == {"x_px": 17, "y_px": 8, "width_px": 17, "height_px": 17}
    assert len(calibration.samples) == N_STEPS
    assert live.stage.position_um()[0] == pytest.approx(100.0)  # back where it started
    assert candidate.path == live.context.run_dir / "calibration_sweep.csv"
    assert candidate.path.exists()
    gates = window.calibration_panel.gates
    names = {gates.item(row, 0).text() for row in range(gates.rowCount())}
    assert {"parametric samples", "residual rms", "usable range", "sign consistency", "roi clipping"} <= names
    assert all(gates.item(row, 3).text() == "pass" for row in range(gates.rowCount()))
    assert window.calibration_panel.accept_button.isEnabled()
    assert len(window.calibration_panel.widths_plot.listDataItems()) >= 4  # samples and model curves
    window.tabs.setCurrentIndex(1)
    window.splitter.setSizes([380, 540])  # the operator drags the splitter up to study the calibration
    qtbot.wait(100)
    screenshot(window.calibration_panel, "gui_calibration.png")
    window.splitter.setSizes([560, 360])

    # --- accept: the lock now arms
    qtbot.mouseClick(window.calibration_panel.accept_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Calibration</b>" in window.lock_panel.calibration_label.text(), timeout=WAIT_MS)
    assert window.worker.runner.reader is not None
    assert not window.calibration_panel.accept_button.isEnabled()

    # --- lock while the focus drifts: the state becomes locked, the stage follows the drift
    if not window.live:
        _start_live(live, qtbot)
    z_start = live.stage.position_um()[0]
    drift_start = live.camera.focus_drift_um(live.camera.time_s)
    qtbot.mouseClick(window.lock_panel.start_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.lock_panel.state_label.property("lock_state") == "locked", timeout=WAIT_MS)
    n_locked = len(window.samples)
    qtbot.waitUntil(lambda: len(window.samples) > n_locked + 150, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.diagnostics.n_shown > n_locked, timeout=WAIT_MS)
    window.tabs.setCurrentIndex(0)
    qtbot.wait(150)
    screenshot(window, "gui_window.png")
    screenshot(window.live_view, "gui_live.png")
    window.splitter.setSizes([380, 540])
    qtbot.wait(300)
    screenshot(window.diagnostics, "gui_diagnostics.png")
    window.splitter.setSizes([560, 360])
    assert window.worker.runner.state.value == "locked"
    drifted = live.camera.focus_drift_um(live.camera.time_s) - drift_start
    moved = live.stage.position_um()[0] - z_start
    assert drifted > 0.1
    assert moved == pytest.approx(drifted, abs=0.05)  # the lock followed the focus
    locked = [s for s in window.samples[n_locked:] if s.state == "locked" and math.isfinite(s.true_error_nm)]
    assert np.sqrt(np.mean([s.true_error_nm**2 for s in locked])) < 40.0
    error_text = window.lock_panel.error_label.text()
    assert error_text.endswith(" nm")
    assert abs(float(error_text.split()[0])) < 100

    # --- stop: the lock stops and holds
    qtbot.mouseClick(window.lock_panel.stop_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.lock_panel.state_label.property("lock_state") == "stopped", timeout=WAIT_MS)
    held = live.stage.position_um()[0]
    n = len(window.samples)
    qtbot.waitUntil(lambda: len(window.samples) > n + 10, timeout=WAIT_MS)
    assert live.stage.position_um()[0] == held

    # --- change the display and the gains, then close: the settings are written
    window.live_view.colormap.setCurrentText("inferno")
    window.live_view.auto_levels.setChecked(False)
    window.live_view.level_low.setValue(120)
    window.live_view.level_high.setValue(900)
    window.lock_panel.kp.setValue(0.55)
    window.lock_panel.track.setChecked(True)
    window.lock_panel.track_gain.setValue(0.35)
    window.resize(780, 700)  # inside the offscreen screen (800 x 800): restoreGeometry keeps windows on screen
    qtbot.waitUntil(lambda: window.worker._control.kp == pytest.approx(0.55), timeout=WAIT_MS)
    window.close()
    assert not window._thread.isRunning()
    results = live.session.finish(window.worker.runner, n_corrections=window.worker.total_corrections)
    assert results["final_state"] == "stopped"
    assert results["n_frames"] == len(window.worker.runner.samples) >= len(window.samples)
    assert results["n_corrections"] > 0
    for name in ("autofocus_timeseries.csv", "autofocus_run_report.json", "autofocus_events.log",
                 "autofocus_timeseries.png", "autofocus_gui_settings.json"):
        assert (live.context.run_dir / name).exists(), name
    report = json.loads((live.context.run_dir / "autofocus_run_report.json").read_text())
    assert report["calibration_file"] == str(candidate.path)
    assert [e["event"] for e in report["events"]].count("calibration_accepted") == 1
    saved = json.loads(settings_path.read_text())
    assert saved["roi"] == {"x_px": 17, "y_px": 8, "size_px": 17}
    assert saved["last_calibration_file"] == str(candidate.path)

    # --- reopen: everything is restored
    again = open_live(params={"roi_center_px": (9.0, 9.0)}, settings_path=settings_path)
    w2 = again.window
    assert w2.live_view.roi() == Roi(x_px=17, y_px=8, width_px=17, height_px=17)
    assert w2.worker.runner.roi == Roi(x_px=17, y_px=8, width_px=17, height_px=17)
    assert w2.live_view.colormap.currentText() == "inferno"
    assert not w2.live_view.auto_levels.isChecked()
    assert w2.live_view.levels() == (120.0, 900.0)
    assert w2.lock_panel.kp.value() == pytest.approx(0.55)
    assert w2.worker._control.kp == pytest.approx(0.55)
    assert w2.worker.runner.controller.settings.kp == pytest.approx(0.55)
    assert w2.lock_panel.track.isChecked()
    assert w2.lock_panel.track_gain.value() == pytest.approx(0.35)
    assert w2.worker.runner.tracker is not None
    assert w2.worker.runner.tracker.settings.track_gain == pytest.approx(0.35)
    assert (w2.width(), w2.height()) == (780, 700)
    assert w2.calibration_panel.load_last_button.isEnabled()
    qtbot.mouseClick(w2.calibration_panel.load_last_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w2.calibration_panel.candidate is not None, timeout=WAIT_MS)
    assert w2.calibration_panel.candidate.path == candidate.path
    assert w2.calibration_panel.candidate.calibration.armable
