"""Stage home/center, XY ROI tracking, ROI resizing and the display LUT."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyqtgraph.Qt import QtCore

from scopeweave.kinds import Roi

pytestmark = pytest.mark.gui

WAIT_MS = 20_000
LEFT = QtCore.Qt.MouseButton.LeftButton


def test_stage_home_and_center(open_live: Any, qtbot: Any, calibration_csv: Path) -> None:
    live = open_live(stage={"limits_um": (10.0, 150.0), "start_um": 100.0}, params={"calibration_csv": calibration_csv})
    window = live.window
    qtbot.mouseClick(window.lock_panel.center_button, LEFT)
    qtbot.waitUntil(lambda: live.stage.position_um()[0] == pytest.approx(80.0), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "80.0000" in window.lock_panel.stage_label.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window._drawn is not None, timeout=WAIT_MS)  # a fresh frame at the new position
    assert not window.live
    qtbot.mouseClick(window.lock_panel.home_button, LEFT)
    qtbot.waitUntil(lambda: live.stage.position_um()[0] == pytest.approx(100.0), timeout=WAIT_MS)
    # locked: the buttons are off and the worker refuses a manual move
    qtbot.mouseClick(window.lock_panel.start_button, LEFT)
    qtbot.waitUntil(lambda: window.state in ("engaging", "locked"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.lock_panel.center_button.isEnabled(), timeout=WAIT_MS)
    assert window.lock_panel.stop_button.isEnabled()
    assert not window.lock_panel.start_button.isEnabled()
    window.call(window.worker.move_stage, "center")
    qtbot.waitUntil(lambda: any("stop the lock" in e for e in window.errors), timeout=WAIT_MS)
    assert live.stage.position_um()[0] == pytest.approx(100.0, abs=0.5)


def test_xy_tracking_moves_the_roi_with_the_spot(open_live: Any, qtbot: Any, calibration_csv: Path) -> None:
    live = open_live(camera={"lateral_drift_um_per_min": (-15.0, 6.0)},  # 2.5 and 1 px per simulated second
                     params={"calibration_csv": calibration_csv})
    window = live.window
    panel = window.lock_panel
    start = window.live_view.roi()
    panel.track_gain.setValue(0.5)
    panel.track_deadband.setValue(0.5)
    panel.track_max_step.setValue(3.0)
    panel.track.setChecked(True)
    qtbot.waitUntil(lambda: window.worker.runner.tracker is not None, timeout=WAIT_MS)
    assert window.worker.runner.tracker.settings.track_gain == pytest.approx(0.5)
    assert window.worker.runner.tracker.settings.track_max_step_px == pytest.approx(3.0)
    qtbot.mouseClick(panel.start_button, LEFT)
    qtbot.waitUntil(lambda: window.worker.runner.roi.x_px <= start.x_px - 6, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.live_view.roi() == window._drawn.next_roi, timeout=WAIT_MS)
    update = window._drawn
    bead_x, bead_y = live.camera.last_truth["beads_px"][0]  # sensor px (the camera delivers whole frames)
    assert update.spot is not None
    assert update.spot.is_parametric
    roi = update.roi
    # the spot stays near the ROI centre (within the deadband plus the lag of a few frames) and on the bead
    assert math.hypot(update.spot.x_px - (roi.width_px - 1) / 2, update.spot.y_px - (roi.height_px - 1) / 2) < 2.5
    assert math.hypot(bead_x - (roi.x_px + update.spot.x_px), bead_y - (roi.y_px + update.spot.y_px)) < 1.0
    assert roi.y_px > start.y_px  # it followed in y too
    assert window.state in ("engaging", "locked")
    # tracking off: the ROI stays put
    panel.track.setChecked(False)
    qtbot.waitUntil(lambda: window.worker.runner.tracker is None, timeout=WAIT_MS)
    frozen = window.worker.runner.roi
    n = len(window.samples)
    qtbot.waitUntil(lambda: len(window.samples) > n + 30, timeout=WAIT_MS)
    assert window.worker.runner.roi == frozen


def test_resizing_the_roi_changes_the_measured_crop(open_live: Any, qtbot: Any) -> None:
    live = open_live()
    window = live.window
    item = window.live_view.roi_item
    item.setPos((18, 9), finish=False)
    item.setSize((13.4, 12.6))  # a drag ends on whole pixels and a square
    qtbot.waitUntil(lambda: window.worker.runner.roi == Roi(x_px=18, y_px=9, width_px=13, height_px=13),
                    timeout=WAIT_MS)
    assert window.live_view.roi() == Roi(x_px=18, y_px=9, width_px=13, height_px=13)
    item.setSize((3, 3))  # too small for a fit: clamped to 7 px
    qtbot.waitUntil(lambda: window.worker.runner.roi.width_px == 7, timeout=WAIT_MS)


def test_lut_controls(open_live: Any, qtbot: Any) -> None:
    live = open_live()
    window, view = live.window, live.window.live_view
    qtbot.mouseClick(window.lock_panel.live_button, LEFT)
    view.auto_levels.setChecked(True)
    qtbot.waitUntil(lambda: view.image.image is not None, timeout=WAIT_MS)
    frame = np.asarray(view.image.image, dtype=np.float64)
    low, high = np.percentile(frame, [0.5, 99.9])
    assert view.levels() == pytest.approx((low, high), abs=0.06)  # levels follow each frame
    assert tuple(view.image.levels) == pytest.approx(view.levels())
    view.level_high.setValue(5000)  # typing a level turns auto levels off
    assert not view.auto_levels.isChecked()
    assert tuple(view.image.levels) == pytest.approx((view.level_low.value(), 5000))
    n = len(window.samples)
    qtbot.waitUntil(lambda: len(window.samples) > n + 5, timeout=WAIT_MS)
    assert view.level_high.value() == 5000  # and the frames keep them
    view.histogram.setLevels(150, 400)  # dragging the histogram's region, too
    assert not view.auto_levels.isChecked()
    assert view.levels() == (150.0, 400.0)
    qtbot.mouseClick(view.auto_once, LEFT)  # "Fit levels": once, from the current frame
    frame = np.asarray(view.image.image, dtype=np.float64)
    assert view.levels() == pytest.approx(tuple(np.percentile(frame, [0.5, 99.9])), abs=0.06)
    assert not view.auto_levels.isChecked()
    for name in ("gray", "inferno", "cividis"):
        view.colormap.setCurrentText(name)
        lut = view.histogram.gradient.colorMap().getLookupTable(nPts=3)
        assert lut.shape[0] == 3
    assert view.lut_setting().colormap == "cividis"
    view.colormap.setCurrentText("gray")
    gray = view.histogram.gradient.colorMap().getLookupTable(nPts=2, alpha=False)
    assert gray.tolist() == [[0, 0, 0], [255, 255, 255]]
