import json

import numpy as np
import pytest
import tifffile

from scopeweave.session import RunFailed, plan_session, run_session


def _session(**workflow):
    return {
        "schema_version": 1,
        "session": {"name": "zs"},
        "components": {
            "z": {"kind": "stage", "plugin": "sim-z", "params": {"start_um": 100.3}},
            "cam": {"kind": "camera", "plugin": "sim-astigmatic", "uses": {"stage": "z"},
                    "params": {"sensor_shape_px": [32, 32], "background_photons": 0.0, "read_noise_e": 0.0}},
        },
        "workflow": {"plugin": "sim-zstack", "params": workflow, "uses": {"camera": "cam", "stage": "z"}},
    }


def test_zstack_records_planes_and_returns_to_start(scopeweave_registry, tmp_path) -> None:
    plan = plan_session(_session(half_range_um=1.0, n_steps=11), scopeweave_registry)
    outcome = run_session(plan, scopeweave_registry, output_root=tmp_path)
    stack = tifffile.imread(outcome.run_dir / "zstack.tif")
    assert stack.shape == (11, 32, 32)
    assert stack.dtype == np.uint16
    rows = (outcome.run_dir / "zstack.csv").read_text().splitlines()
    assert rows[0] == "z_um,mean_counts,max_counts"
    assert [float(r.split(",")[0]) for r in rows[1:]] == pytest.approx(np.linspace(99.3, 101.3, 11))
    results = json.loads((outcome.run_dir / "report.json").read_text())["results"]
    assert results["returned_to_um"] == pytest.approx(100.3)
    # The bead is brightest (smallest PSF) near the sim's focus at z = 100 um.
    assert results["brightest_plane_z_um"] == pytest.approx(100.0, abs=0.25)
    assert results["summary"].startswith("z-stack: 11 planes")


def test_zstack_outside_limits_fails_without_moving(scopeweave_registry, tmp_path) -> None:
    plan = plan_session(_session(half_range_um=150.0), scopeweave_registry)
    with pytest.raises(RunFailed, match="leaves the stage limits"):
        run_session(plan, scopeweave_registry, output_root=tmp_path)
