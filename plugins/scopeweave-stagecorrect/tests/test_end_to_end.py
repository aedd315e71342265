"""Seed phase 3, end to end: sim-xy's stage errors, tiles cut from a large synthetic specimen, learning sessions.

The simulated stage has scale, skew, backlash (with gantry cross-talk), a first-move error, move noise and
thermal drift; it parks beyond the grid between sessions, so each scan starts with reversals on both axes.
After learning from one to three registered sessions the corrected positions must lie within 1.5 px RMS of
the truth, from tens of pixels uncorrected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scopeweave.registry import Registry
from scopeweave.session import plan_session, run_session

STAGE = {
    "scale_x": 1.0327, "scale_y": 1.0021, "skew": 0.0066, "backlash_um": [10.0, 6.0], "cross_backlash_um": [0.6, 0.4],
    "first_move_error_um": [1.5, 1.0], "move_noise_um": 0.1, "thermal_drift_um_per_min": [1.0, 0.5],
    "move_time_s": 2.0, "seed": 3,
}


def _run(registry: Registry, out: Path, model: str, corrector: dict[str, Any], pattern: str,
         settings: Path) -> dict[str, Any]:
    data = {
        "schema_version": 1,
        "session": {"name": "e2e"},
        "components": {
            "xy": {"kind": "stage", "plugin": "sim-xy", "params": STAGE},
            "corr": {"kind": "stage_corrector", "plugin": model,
                     "params": {"settings_path": str(settings), **corrector}},
        },
        "workflow": {"plugin": "stage-scan-sim", "uses": {"xy_stage": "xy", "corrector": "corr"}, "params": {
            "cols": 7, "rows": 6, "pattern": pattern, "n_sessions": 4, "tile_shape_px": [160, 160],
            "overlap_fraction": 0.35, "pixel_size_um": 0.345, "origin_um": [1000.0, 1000.0],
            "park_um": [3000.0, 3000.0]}},
    }
    outcome = run_session(plan_session(data, registry), registry, output_root=out)
    assert outcome.status == "ok"
    return outcome.report["results"]


@pytest.mark.parametrize(
    ("model", "corrector", "pattern"),
    [
        ("backlash-state", {}, "raster"),
        ("backlash-state", {}, "serpentine"),
        ("lut-affine", {"idle_axis": "hold"}, "serpentine"),
        ("lut-affine", {"idle_axis": "hold"}, "raster"),
    ],
)
def test_learned_corrections_reach_the_truth(scopeweave_registry: Registry, tmp_path: Path, model: str,
                                             corrector: dict[str, Any], pattern: str) -> None:
    results = _run(scopeweave_registry, tmp_path / "runs", model, corrector, pattern, tmp_path / "settings.json")
    sessions = results["sessions"]
    for session in sessions:
        assert session["metadata_max_px"] > 15.0  # tens of pixels uncorrected
        assert session["metadata_rms_px"] > 8.0
        assert session["registered_rms_px"] < 1.0  # registration found the truth every time
    for session in sessions[1:]:  # after learning from 1, 2 and 3 sessions
        assert session["corrected_rms_px"] < 1.5, session
        # Better priors: a much smaller search window than the metadata priors need (15 um = 43 px).
        assert session["search_radius_px"] < 0.5 * 15.0 / 0.345
    assert results["status"].startswith("Corrections from 4 session(s)")


@pytest.mark.slow
def test_the_seed_literal_mask_leaves_the_first_row_uncorrected(scopeweave_registry: Registry,
                                                                tmp_path: Path) -> None:
    """The seed's own rule cannot see that row 0 was approached from below (an up move before the scan)."""
    literal = _run(scopeweave_registry, tmp_path / "runs", "lut-affine", {}, "raster", tmp_path / "a.json")
    hold = _run(scopeweave_registry, tmp_path / "runs", "lut-affine", {"idle_axis": "hold"}, "raster",
                tmp_path / "b.json")
    assert literal["sessions"][-1]["corrected_rms_px"] > 2.0 * hold["sessions"][-1]["corrected_rms_px"]
    assert literal["sessions"][-1]["corrected_rms_px"] < 0.5 * literal["sessions"][-1]["metadata_rms_px"]
