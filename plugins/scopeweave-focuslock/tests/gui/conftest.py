"""The live GUI on the simulated microscope (pytest-qt, offscreen)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from scopeweave_focuslock.calibration_io import save_calibration
from scopeweave_focuslock.lock.params import FocusLockParams
from scopeweave_focuslock.lock.workflow import FocusLock
from scopeweave_focuslock.params import CalibrateParams
from scopeweave_focuslock.sweep import CalibrationSweep
from scopeweave_sim import SimAstigmaticCamera, SimCameraParams, SimZParams, SimZStage

from scopeweave.runs import EventLog, RunContext, create_run_dir

#: A small sensor, a 21-step sweep and a 100 Hz loop keep each test to a few seconds.
SENSOR_PX = (32, 40)
BEADS_UM = ((2.55, 1.65),)  # one bead at (x, y) = (25.5, 16.5) px
SWEEP: dict[str, Any] = {"n_steps": 21, "half_range_um": 0.8, "settle_ms": 0.0, "read_noise_e": 1.5, "save_frames": False}
WAIT_MS = 20_000


@attrs.define
class Live:
    """One open GUI session and the simulator behind it."""

    window: Any
    session: Any
    camera: SimAstigmaticCamera
    stage: SimZStage
    context: RunContext

    def close(self) -> None:
        self.window.close()


Opener = Callable[..., Live]


@pytest.fixture
def open_live(qtbot: Any, tmp_path: Path) -> Iterator[Opener]:
    """``open_live(camera={...}, stage={...}, params={...}, settings_path=...)`` opens the window on the simulator.

    ``params`` are focus-lock params; its ``calibration`` (a dict) overrides fields of the quick test sweep.
    """
    from scopeweave_focuslock.gui import FocusLockWindow, LiveSession

    started: list[Any] = []
    windows: list[Any] = []

    def open_(*, camera: dict[str, Any] | None = None, stage: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None, settings_path: Path | None = None) -> Live:
        z = SimZStage(SimZParams(**{"start_um": 100.0, **(stage or {})}))
        camera_params = {"sensor_shape_px": SENSOR_PX, "photons": 2e4, "seed": 3, "exposure_ms": 33.3,
                         "beads_xy_um": BEADS_UM, **(camera or {})}
        cam = SimAstigmaticCamera(SimCameraParams(**camera_params), z_stage=z)
        z.initialize()
        cam.initialize()
        started.extend([cam, z])
        run_dir = create_run_dir(tmp_path / "runs", "gui-test")
        events = EventLog(run_dir / "events.jsonl")
        overrides = dict(params or {})
        sweep = CalibrateParams(**{**SWEEP, **overrides.pop("calibration", {})})
        lock_params = FocusLockParams(**{"loop_hz": 100.0, "read_noise_e": 1.5, "allow_missing_calibration": True,
                                         "roi_size_px": 17, "calibration": sweep, **overrides})
        workflow = FocusLock(lock_params, camera=cam, stage=z, model=None)
        context = RunContext(run_dir=run_dir, uses={"camera": cam, "stage": z}, params=lock_params, events=events)
        session = LiveSession(workflow, context, settings_path=settings_path or tmp_path / "autofocus_gui_settings.json",
                              explicit_params=())
        window = FocusLockWindow(session)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        qtbot.waitUntil(lambda: window.started, timeout=WAIT_MS)
        return Live(window=window, session=session, camera=cam, stage=z, context=context)

    yield open_
    for window in windows:
        window.close()
    for component in started:
        component.shutdown()


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``screenshot(widget, name)``: a PNG in ``tmp_path``, and in ``$SCOPEWEAVE_GUI_SCREENSHOTS`` when set
    (``docs/images/focuslock`` regenerates the documentation's)."""

    def grab(widget: Any, name: str) -> Path:
        targets = [tmp_path / name]
        if os.environ.get("SCOPEWEAVE_GUI_SCREENSHOTS"):
            targets.append(Path(os.environ["SCOPEWEAVE_GUI_SCREENSHOTS"]) / name)
        image = widget.grab()
        assert not image.isNull()
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            assert image.save(str(target)), target
        return targets[0]

    return grab


@pytest.fixture(scope="session")
def calibration_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A calibration of the simulated microscope, saved as ``calibration_sweep.csv`` (+ meta)."""
    z = SimZStage(SimZParams(start_um=100.0))
    cam = SimAstigmaticCamera(SimCameraParams(sensor_shape_px=SENSOR_PX, photons=2e4, seed=11, beads_xy_um=BEADS_UM),
                              z_stage=z)
    with z, cam:
        params = CalibrateParams(**{**SWEEP, "roi_size_px": 17})
        sweep = CalibrationSweep(params, camera=cam, stage=z, model=None)
        calibration = sweep.process(sweep.acquire())
    assert calibration.armable, calibration.summary()
    path = tmp_path_factory.mktemp("calibration") / "calibration_sweep.csv"
    save_calibration(calibration, path, thresholds=params.gates)
    return path
