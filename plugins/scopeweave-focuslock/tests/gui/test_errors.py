"""Errors show in the GUI and never freeze it: stage fault, no calibration, a failed sweep, bad settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyqtgraph.Qt import QtCore
from scopeweave_focuslock.calibration import CalibrationError
from scopeweave_sim import DriftTerm

pytestmark = pytest.mark.gui

WAIT_MS = 20_000
LEFT = QtCore.Qt.MouseButton.LeftButton


def _responsive(window: Any, qtbot: Any) -> None:
    """The GUI thread still reacts to the operator and draws new frames."""
    window.live_view.colormap.setCurrentText("magma")
    assert window.live_view.lut_setting().colormap == "magma"
    n = len(window.samples)
    qtbot.waitUntil(lambda: len(window.samples) > n + 5, timeout=WAIT_MS)


def test_stage_fault_stops_the_lock_and_shows_in_the_gui(open_live: Any, qtbot: Any, calibration_csv: Path,
                                                          screenshot: Any) -> None:
    live = open_live(camera={"focus_drift": (DriftTerm(kind="ramp", rate_um_per_min=6.0),)},
                     stage={"fail_after_moves": 4}, params={"calibration_csv": calibration_csv})
    window = live.window
    assert window.worker.runner.reader is not None  # the session's calibration arms the lock
    assert window.calibration_panel.candidate.source == "session"
    qtbot.mouseClick(window.lock_panel.start_button, LEFT)
    qtbot.waitUntil(lambda: window.lock_panel.state_label.property("lock_state") == "stopped", timeout=WAIT_MS)
    assert live.stage.n_moves == 4
    held = live.stage.position_um()[0]
    assert window.lock_panel.fault_label.isVisible()
    assert "Stage fault" in window.lock_panel.fault_label.text()
    assert "sim-z failed on move 5" in window.lock_panel.fault_label.text()
    assert "stage fault" in window.lock_panel.state_help.text()
    assert "stage_fault" in window.events_view.toPlainText()
    _responsive(window, qtbot)  # live goes on, the stage holds
    window.live_view.colormap.setCurrentText("viridis")
    qtbot.wait(100)
    screenshot(window, "gui_stage_fault.png")
    assert live.stage.position_um()[0] == held
    # a manual move on the broken stage is reported too, and the GUI goes on
    n_errors = len(window.errors)
    qtbot.mouseClick(window.lock_panel.center_button, LEFT)
    qtbot.waitUntil(lambda: len(window.errors) > n_errors, timeout=WAIT_MS)
    assert "sim-z failed" in window.errors[-1]
    _responsive(window, qtbot)
    window.close()
    with pytest.raises(Exception, match="stage fault"):
        live.session.finish(window.worker.runner, n_corrections=window.worker.total_corrections)
    report = json.loads((live.context.run_dir / "autofocus_run_report.json").read_text())
    assert report["final_state"] == "stopped"
    assert "stage fault" in report["stop_reason"]


def test_no_calibration_the_lock_refuses_to_arm(open_live: Any, qtbot: Any) -> None:
    live = open_live()
    window = live.window
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Calibration"  # where the operator must go first
    qtbot.mouseClick(window.lock_panel.live_button, LEFT)
    qtbot.waitUntil(lambda: len(window.samples) > 3, timeout=WAIT_MS)
    qtbot.mouseClick(window.lock_panel.start_button, LEFT)
    qtbot.waitUntil(lambda: window.lock_panel.fault_label.isVisible(), timeout=WAIT_MS)
    assert "will not arm" in window.lock_panel.fault_label.text()
    assert window.worker.runner.state.value == "idle"
    assert live.stage.n_moves == 0
    assert all(s.reason == "no calibration" for s in window.samples)
    _responsive(window, qtbot)


def test_missing_calibration_file_is_refused_like_the_headless_run(open_live: Any, tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="Calibration CSV not found"):
        open_live(params={"calibration_csv": tmp_path / "nowhere.csv", "allow_missing_calibration": False})


def test_a_failed_sweep_is_shown_and_the_session_goes_on(open_live: Any, qtbot: Any) -> None:
    live = open_live(stage={"limits_um": (99.5, 200.0), "start_um": 100.0})  # the sweep would leave the travel
    window = live.window
    qtbot.mouseClick(window.calibration_panel.sweep_button, LEFT)
    qtbot.waitUntil(lambda: "Calibration failed" in window.calibration_panel.status.text(), timeout=WAIT_MS)
    assert "leaves the stage limits" in window.lock_panel.fault_label.text()
    assert window.calibration_panel.sweep_button.isEnabled()
    assert window.calibration_panel.candidate is None
    assert live.stage.n_moves == 0
    qtbot.mouseClick(window.lock_panel.live_button, LEFT)
    _responsive(window, qtbot)


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", "not valid JSON"),
    (json.dumps({"format": "scopeweave-focuslock-gui-settings", "version": 1, "lut": {"colormap": "rainbow"},
                 "roi": {"x_px": 2, "y_px": 2, "size_px": 3}}), "$.lut.colormap"),
])
def test_corrupt_settings_are_reported_and_replaced(open_live: Any, tmp_path: Path, text: str, problem: str) -> None:
    settings = tmp_path / "autofocus_gui_settings.json"
    settings.write_text(text)
    live = open_live(settings_path=settings)
    window = live.window
    assert problem in window.lock_panel.fault_label.text()
    assert "reset to the defaults" in window.lock_panel.fault_label.text()
    assert (tmp_path / "autofocus_gui_settings.json.corrupt").read_text() == text
    assert json.loads(settings.read_text())["format"] == "scopeweave-focuslock-gui-settings"
    assert window.live_view.colormap.currentText() == "viridis"  # the defaults
    assert [e["event"] for e in live.session.events].count("gui_settings_reset") == 1


def test_a_camera_error_stops_live_and_the_lock(open_live: Any, qtbot: Any, calibration_csv: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    live = open_live(params={"calibration_csv": calibration_csv})
    window = live.window
    qtbot.mouseClick(window.lock_panel.start_button, LEFT)
    qtbot.waitUntil(lambda: window.state in ("engaging", "locked"), timeout=WAIT_MS)

    def unplugged() -> Any:
        raise OSError("camera unplugged")

    monkeypatch.setattr(live.camera, "_do_snap", unplugged)
    qtbot.waitUntil(lambda: not window.live, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "camera unplugged" in window.lock_panel.fault_label.text(), timeout=WAIT_MS)
    assert "live stopped: OSError: camera unplugged" in window.errors[-1]
    assert window.worker.runner.state.value == "stopped"
    assert "camera unplugged" in window.worker.runner.controller.stop_reason
    assert not window.lock_panel.live_button.isChecked()
    window.live_view.colormap.setCurrentText("plasma")  # the GUI still answers
    assert window.live_view.lut_setting().colormap == "plasma"
