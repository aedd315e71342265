"""Sessions through the session runner with Micro-Manager components on a real CMMCore."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scopeweave_mm_testdevices as devices
import tifffile
from scopeweave_micromanager import CORES

from scopeweave.registry import Registry
from scopeweave.session import load_session, plan_session, run_session

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sessions" / "hw-micromanager.toml"


@pytest.fixture
def registry() -> Registry:
    """The core, the simulator (for its z-stack workflow) and this plugin, loaded from their entry points."""
    registry = Registry(strict=True, blocked=())
    registry.register_builtins()
    wanted = {"sim", "micromanager"}
    registry.load_entry_points(
        [ep for ep in importlib.metadata.entry_points(group="scopeweave.plugins") if ep.name in wanted]
    )
    return registry


def _session(config: Path, workflow: dict[str, Any]) -> dict[str, Any]:
    common = {"config_path": str(config)}
    return {
        "schema_version": 1,
        "session": {"name": "mm-test"},
        "components": {
            "z": {"kind": "stage", "plugin": "micromanager", "params": {**common, "limits_um": [90.0, 110.0]}},
            "xy": {"kind": "stage", "plugin": "micromanager-xy",
                   "params": {**common, "limits_um": [[-50.0, 50.0], [-50.0, 50.0]]}},
            "cam": {"kind": "camera", "plugin": "micromanager",
                    "params": {**common, "pixel_size_um": devices.PIXEL_SIZE_UM, "exposure_ms": 10.0}},
        },
        "workflow": workflow,
    }


def test_the_plugin_registers_through_its_entry_point(registry: Registry) -> None:
    assert "micromanager" in registry.specs("camera")
    assert {"micromanager", "micromanager-xy"} <= set(registry.specs("stage"))
    assert registry.distribution_of("camera", "micromanager")[0] == "scopeweave-micromanager"


def test_calibration_style_z_sweep_through_cmmcore(make_microscope: Any, registry: Registry, tmp_path: Path) -> None:
    """A sim-zstack run on the Micro-Manager components: the astigmatic widths cross at the bead's focus."""
    scope = make_microscope()  # Poisson noise on
    workflow = {"plugin": "sim-zstack", "params": {"half_range_um": 0.6, "n_steps": 25},
                "uses": {"camera": "cam", "stage": "z"}}
    plan = plan_session(_session(scope.config_path, workflow), registry, source="mm-zsweep")
    assert len(CORES) == 0, "validating a session opens nothing"
    outcome = run_session(plan, registry, output_root=tmp_path / "runs")
    assert outcome.status == "ok"
    assert len(CORES) == 0, "the session's shutdown unloads the core"
    assert sorted(scope.world.shutdowns) == ["Cam", "XY", "Z"]
    results = outcome.report["results"]
    assert results["returned_to_um"] == 100.0
    stack = tifffile.imread(outcome.run_dir / "zstack.tif")
    assert stack.shape == (25, 48, 64)
    planes_um = np.linspace(99.4, 100.6, 25)
    np.testing.assert_allclose(scope.world.z_commands[:25], planes_um)
    background = devices.OFFSET_ADU + devices.BACKGROUND_PER_PX_PER_MS * 10.0
    widths = np.array([devices.spot_moments(plane, background)[2:] for plane in stack])
    difference = widths[:, 0] - widths[:, 1]
    crossing = int(np.flatnonzero(np.diff(np.sign(difference)))[0])
    z0, z1 = planes_um[crossing], planes_um[crossing + 1]
    d0, d1 = difference[crossing], difference[crossing + 1]
    focus_um = z0 - d0 * (z1 - z0) / (d1 - d0)
    assert focus_um == pytest.approx(100.0, abs=0.02)  # FocusZ of the camera device
    defocus = planes_um - 100.0
    np.testing.assert_allclose(widths[:, 0], devices.PSF_X.width_px(defocus), rtol=0.06)
    np.testing.assert_allclose(widths[:, 1], devices.PSF_Y.width_px(defocus), rtol=0.06)
    assert planes_um[np.argmin(widths[:, 0])] == pytest.approx(100.0 + devices.PSF_X.c_um, abs=0.1)


def test_acquire_session_through_the_circular_buffer(microscope: Any, registry: Registry, tmp_path: Path) -> None:
    workflow = {"plugin": "acquire", "params": {"n_frames": 6}, "uses": {"camera": "cam"}}
    plan = plan_session(_session(microscope.config_path, workflow), registry, source="mm-acquire")
    outcome = run_session(plan, registry, output_root=tmp_path / "runs")
    assert outcome.status == "ok"
    frames = tifffile.imread(outcome.run_dir / "frames.tif")
    assert frames.shape == (6, 48, 64)
    # noise-free frames: offset + background + the bead's photons (all but < 1e-4 of them fall on the sensor)
    expected_mean = devices.OFFSET_ADU + devices.BACKGROUND_PER_PX_PER_MS * 10.0 + devices.PHOTONS_PER_MS * 10.0 / (48 * 64)
    np.testing.assert_allclose(outcome.report["results"]["mean_counts"], expected_mean, rtol=2e-4)


def test_a_failing_workflow_still_unloads_the_core(microscope: Any, registry: Registry, tmp_path: Path) -> None:
    workflow = {"plugin": "sim-zstack", "params": {"half_range_um": 20.0, "n_steps": 3},
                "uses": {"camera": "cam", "stage": "z"}}
    plan = plan_session(_session(microscope.config_path, workflow), registry, source="mm-fail")
    with pytest.raises(Exception, match="leaves the stage limits"):
        run_session(plan, registry, output_root=tmp_path / "runs")
    assert len(CORES) == 0
    assert sorted(microscope.world.shutdowns) == ["Cam", "XY", "Z"]


def test_the_example_session_validates_without_micromanager(registry: Registry) -> None:
    plan = load_session(EXAMPLE, registry)
    assert [c.spec.name for c in plan.components] == ["micromanager", "micromanager-xy", "micromanager"]
    assert len(CORES) == 0
