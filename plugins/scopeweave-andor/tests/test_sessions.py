"""The `andor` camera in sessions, on the fake Andor camera."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from scopeweave.registry import Registry
from scopeweave.session import plan_session, run_session


def _registry() -> Registry:
    registry = Registry(strict=True, blocked=())
    registry.register_builtins()
    registry.load_entry_points(
        [ep for ep in importlib.metadata.entry_points(group="scopeweave.plugins") if ep.name == "andor"]
    )
    return registry


def test_registered_through_the_entry_point() -> None:
    assert _registry().distribution_of("camera", "andor")[0] == "scopeweave-andor"


def test_acquire_session_on_the_fake_camera(fake_andor: Callable[..., Any], expected: Callable[..., Any],
                                            tmp_path: Path) -> None:
    fake = fake_andor()
    registry = _registry()
    session = {
        "schema_version": 1,
        "session": {"name": "andor-acquire"},
        "components": {"cam": {"kind": "camera", "plugin": "andor",
                               "params": {"pixel_size_um": 0.065, "roi_px": [16, 8, 32, 24], "binning": 2,
                                          "exposure_ms": 5.0}}},
        "workflow": {"plugin": "acquire", "params": {"n_frames": 4}, "uses": {"camera": "cam"}},
    }
    plan = plan_session(session, registry)
    assert fake.sensors[0].opened_by is None, "validation opens nothing"
    outcome = run_session(plan, registry, output_root=tmp_path)
    assert outcome.status == "ok"
    frames = tifffile.imread(outcome.run_dir / "frames.tif")
    exposure_s = 0.005
    truth = expected(48, 64, exposure_s, (16, 8, 32, 24), 2)
    assert frames.shape == (4, 12, 16)
    for frame in frames:
        np.testing.assert_array_equal(frame, truth)
    assert fake.sensors[0].opened_by is None, "the session closed the camera"
