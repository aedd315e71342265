"""Calibration in the GUI: a responsive, cancellable sweep; reject, save, load; a failed calibration cannot arm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyqtgraph.Qt import QtCore, QtWidgets
from scopeweave_focuslock.calibration_io import load_calibration

from scopeweave.kinds import Roi

pytestmark = pytest.mark.gui

WAIT_MS = 20_000
LEFT = QtCore.Qt.MouseButton.LeftButton


def test_sweep_keeps_the_gui_responsive_and_can_be_cancelled(open_live: Any, qtbot: Any) -> None:
    live = open_live(params={"calibration": {"settle_ms": 40.0}})  # ~1 s of settling over the sweep
    window = live.window
    qtbot.mouseClick(window.calibration_panel.sweep_button, LEFT)
    qtbot.waitUntil(lambda: window.busy == "sweep" and window.calibration_panel.progress.value() >= 3, timeout=WAIT_MS)
    # the GUI thread answers while the worker sweeps: a LUT change and the sweep frames are drawn
    window.live_view.colormap.setCurrentText("gray")
    assert window.live_view.lut_setting().colormap == "gray"
    qtbot.waitUntil(lambda: window.live_view.image.image is not None, timeout=WAIT_MS)
    assert window.busy == "sweep"
    assert window.calibration_panel.cancel_button.isEnabled()
    qtbot.mouseClick(window.calibration_panel.cancel_button, LEFT)
    qtbot.waitUntil(lambda: "cancelled" in window.calibration_panel.status.text(), timeout=WAIT_MS)
    assert window.busy == ""
    assert live.stage.position_um()[0] == pytest.approx(100.0)  # back at the start
    assert 3 <= live.stage.n_moves < 21
    assert window.calibration_panel.candidate is None
    assert any(e["event"] == "calibration_cancelled" for e in live.session.events)


def test_reject_save_and_load(open_live: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              calibration_csv: Path) -> None:
    live = open_live(params={"calibration_csv": calibration_csv})
    window, panel = live.window, live.window.calibration_panel
    accepted = panel.candidate
    assert accepted.source == "session"
    assert panel.accepted
    # a new sweep is offered, not used, until accepted
    window.live_view.set_roi(Roi(x_px=17, y_px=8, width_px=17, height_px=17))
    window.call(window.worker.set_roi, Roi(x_px=17, y_px=8, width_px=17, height_px=17))
    qtbot.mouseClick(panel.sweep_button, LEFT)
    qtbot.waitUntil(lambda: panel.candidate is not None and panel.candidate.source == "sweep", timeout=WAIT_MS)
    swept = panel.candidate
    assert window.worker.runner.reader.calibration is accepted.calibration
    assert panel.accept_button.isEnabled()
    assert panel.reject_button.isEnabled()
    # save it where the operator chooses
    target = tmp_path / "saved" / "my_calibration.csv"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target)[:-4], ""))
    qtbot.mouseClick(panel.save_button, LEFT)
    qtbot.waitUntil(lambda: target.exists() and target.with_suffix(".png").exists(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.last_calibration_file == str(target), timeout=WAIT_MS)
    reloaded = load_calibration(target)
    assert reloaded.armable
    assert reloaded.focus_um == pytest.approx(swept.calibration.focus_um, abs=1e-9)
    # reject it: the accepted calibration is shown again and still arms the lock
    qtbot.mouseClick(panel.reject_button, LEFT)
    assert panel.candidate is accepted
    assert panel.accepted
    qtbot.waitUntil(lambda: any(e["event"] == "calibration_rejected" for e in live.session.events), timeout=WAIT_MS)
    assert window.worker.runner.reader.calibration is accepted.calibration
    # load the saved one and accept it
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(panel.load_button, LEFT)
    qtbot.waitUntil(lambda: panel.candidate is not None and panel.candidate.source == "file", timeout=WAIT_MS)
    qtbot.mouseClick(panel.accept_button, LEFT)
    qtbot.waitUntil(lambda: panel.accepted, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.worker.runner.reader.calibration is panel.candidate.calibration, timeout=WAIT_MS)
    assert live.session.accepted.path == target


def test_a_calibration_that_fails_its_gates_cannot_arm(open_live: Any, qtbot: Any) -> None:
    live = open_live(params={"roi_center_px": (6.0, 24.0), "roi_size_px": 9})  # an ROI with no spot in it
    window, panel = live.window, live.window.calibration_panel
    qtbot.mouseClick(panel.sweep_button, LEFT)
    qtbot.waitUntil(lambda: panel.candidate is not None, timeout=WAIT_MS)
    assert not panel.candidate.calibration.armable
    verdicts = [panel.gates.item(row, 3).text() for row in range(panel.gates.rowCount())]
    assert "FAIL" in verdicts
    assert not panel.accept_button.isEnabled()
    assert "cannot arm the lock" in panel.title.text()
    # even if asked directly, the worker refuses
    window.call(window.worker.accept, panel.candidate)
    qtbot.waitUntil(lambda: any("failed its quality gates" in e for e in window.errors), timeout=WAIT_MS)
    assert window.worker.runner.reader is None
