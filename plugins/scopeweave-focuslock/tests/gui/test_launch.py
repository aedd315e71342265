"""The GUI as a session run: ``launch`` (``focus-feedback --show-live``) and ``show_live = true``.

The core's session runner builds and starts the components, writes the run
directory and shuts everything down in reverse order; the window is driven by
a timer the way an operator would, then closed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyqtgraph.Qt import QtCore, QtWidgets

from scopeweave.errors import ComponentError, SessionError
from scopeweave.session import plan_session, run_session

pytestmark = pytest.mark.gui

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _session(**params: Any) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "session": {"name": "gui-launch"},
        "components": {
            "z": {"kind": "stage", "plugin": "sim-z", "params": {"start_um": 100.0}},
            "cam": {"kind": "camera", "plugin": "sim-astigmatic", "uses": {"stage": "z"},
                    "params": {"sensor_shape_px": [32, 40], "photons": 20000.0, "seed": 2,
                               "beads_xy_um": [[2.55, 1.65]]}},
            "model": {"kind": "focus_model", "plugin": "zhuang"},
        },
        "workflow": {"plugin": "focus-lock", "uses": {"camera": "cam", "stage": "z", "focus_model": "model"},
                     "params": {"loop_hz": 100.0, "roi_size_px": 17, "read_noise_e": 1.5, **params}},
    }


def _operate(steps: list[Callable[[Any], bool]], timeout_s: float = 30.0) -> list[str]:
    """Drive the window that opens: each step runs until it returns True; then the window is closed.

    Needs the QApplication (fixture ``qapp``) before the run starts.
    """
    done: list[str] = []
    timer = QtCore.QTimer()
    clock = QtCore.QElapsedTimer()
    clock.start()

    def tick() -> None:
        windows = [w for w in QtWidgets.QApplication.topLevelWidgets()
                   if type(w).__name__ == "FocusLockWindow" and w.isVisible() and getattr(w, "started", False)]
        if not windows:
            return
        window = windows[0]
        if clock.elapsed() > timeout_s * 1000:
            done.append("timeout")
            window.close()
        elif len(done) < len(steps):
            if steps[len(done)](window):
                done.append("ok")
        else:
            timer.stop()
            window.close()

    timer.timeout.connect(tick)
    timer.start(50)
    _operate.timer = timer  # type: ignore[attr-defined]  # keep it alive while the window runs
    return done


def test_launch_calibrates_first_locks_and_writes_the_run(qapp: Any, scopeweave_registry: Any, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from scopeweave_focuslock.gui import launch

    plan = plan_session(_session(calibrate_first=True, roi_center_px=[25.5, 16.5],
                                 calibration={"n_steps": 21, "settle_ms": 0.0, "read_noise_e": 1.5,
                                              "save_frames": False}), scopeweave_registry)

    def accept(window: Any) -> bool:
        panel = window.calibration_panel
        if panel.candidate is None or not panel.accept_button.isEnabled():
            return False
        panel.accept_button.click()
        return True

    def start(window: Any) -> bool:
        if "Calibration</b>" not in window.lock_panel.calibration_label.text():
            return False
        window.lock_panel.start_button.click()
        return True

    steps = _operate([accept, start, lambda window: window.state == "locked" and len(window.samples) > 60])
    launch(plan, scopeweave_registry, output=tmp_path)
    assert steps == ["ok", "ok", "ok"]
    printed = capsys.readouterr().out
    assert "focus lock (live GUI): final state stopped, RMS error" in printed  # closing the window stops the lock
    run_dir = Path(printed.split("run directory: ")[1].split()[0])
    report = json.loads((run_dir / "report.json").read_text())
    assert report["status"] == "ok"
    results = report["results"]
    assert results["final_state"] == "stopped"
    assert results["stop_reason"] == "the live window was closed"
    assert results["locked_fraction"] > 0.5
    assert results["rms_error_nm"] < 30.0
    lock_report = json.loads((run_dir / "autofocus_run_report.json").read_text())
    assert lock_report["calibration_file"] == str(run_dir / "calibration_sweep.csv")
    assert lock_report["gui"]["calibration_sweeps"] == 1
    for name in ("calibration_sweep.csv", "calibration_sweep.meta.json", "calibration_sweep.png",
                 "autofocus_timeseries.csv", "autofocus_run_report.json", "autofocus_events.log",
                 "autofocus_timeseries.png", "autofocus_gui_settings.json"):
        assert (run_dir / name).exists(), name
        assert name in report["products"]
    assert tomllib.loads((run_dir / "session.toml").read_text())["workflow"]["params"]["show_live"] is True
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    started = [e["label"] for e in events if e["event"] == "component_started"]
    stopped = [e["label"] for e in events if e["event"] == "component_stopped"]
    assert started.index("z") < started.index("cam")  # dependency order
    assert stopped == ["cam", "z"]  # hardware shut down in reverse order (the focus model has no lifecycle)
    names = [e["event"] for e in events]
    assert names.index("calibration_sweep") < names.index("calibration_accepted") < names.index("lock_engage")
    assert (tmp_path / "autofocus_gui_settings.json").exists()  # remembered beside the run directories


def test_show_live_session_option_and_allow_missing_calibration(qapp: Any, scopeweave_registry: Any,
                                                                tmp_path: Path) -> None:
    plan = plan_session(_session(show_live=True, allow_missing_calibration=True), scopeweave_registry)
    steps = _operate([lambda window: window.lock_panel.live_button.click() or True,
                      lambda window: len(window.samples) > 20])
    outcome = run_session(plan, scopeweave_registry, output_root=tmp_path)
    assert steps == ["ok", "ok"]
    assert outcome.status == "ok"
    results = outcome.report["results"]
    assert results["final_state"] == "idle"
    assert results["n_corrections"] == 0
    assert results["n_frames"] > 20
    assert results["n_invalid_readings"] == results["n_frames"]
    lock_report = json.loads((outcome.run_dir / "autofocus_run_report.json").read_text())
    assert lock_report["calibration"] is None
    assert lock_report["params"]["show_live"] is True


def test_launch_needs_the_focus_lock_workflow(scopeweave_registry: Any) -> None:
    from scopeweave_focuslock.gui import live_plan

    data = {"schema_version": 1, "session": {"name": "zstack"},
            "components": {"z": {"kind": "stage", "plugin": "sim-z"},
                           "cam": {"kind": "camera", "plugin": "sim-astigmatic", "uses": {"stage": "z"}}},
            "workflow": {"plugin": "sim-zstack", "uses": {"camera": "cam", "stage": "z"}}}
    with pytest.raises(SessionError, match="focus-lock workflow"):
        live_plan(plan_session(data, scopeweave_registry))


def test_no_display_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from scopeweave_focuslock.gui import require_display

    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ComponentError, match="needs a display"):
        require_display()
    monkeypatch.setenv("DISPLAY", ":0")
    require_display()
