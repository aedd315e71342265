"""Simulated microscope fixtures for the focuslock tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from scopeweave_focuslock.calibration import Calibration
from scopeweave_focuslock.params import CalibrateParams
from scopeweave_focuslock.sweep import CalibrationSweep, RawSweep
from scopeweave_sim import SimAstigmaticCamera, SimCameraParams, SimZParams, SimZStage

Sweeper = Callable[..., tuple[Calibration, RawSweep, SimZStage, SimAstigmaticCamera]]


@pytest.fixture
def sweep_sim() -> Iterator[Sweeper]:
    """``sweep_sim(camera={...}, stage={...}, **calibrate_params)`` runs acquire + process on the simulator."""
    started: list[Any] = []

    def run(*, camera: dict[str, Any] | None = None, stage: dict[str, Any] | None = None, model: Any = None,
            **calibrate: Any) -> tuple[Calibration, RawSweep, SimZStage, SimAstigmaticCamera]:
        z = SimZStage(SimZParams(**{"start_um": 100.0, **(stage or {})}))
        cam = SimAstigmaticCamera(
            SimCameraParams(**{"sensor_shape_px": (32, 32), "photons": 2e4, "seed": 5, **(camera or {})}), z_stage=z
        )
        z.initialize()
        cam.initialize()
        started.extend([cam, z])
        params = CalibrateParams(**{"settle_ms": 0.0, "read_noise_e": 1.5, **calibrate})
        workflow = CalibrationSweep(params, camera=cam, stage=z, model=model)
        raw = workflow.acquire()
        return workflow.process(raw), raw, z, cam

    yield run
    for component in started:
        component.shutdown()
