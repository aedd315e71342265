"""The three workflows run end to end through sessions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from scopeweave_focusmetrics.profile import QcProfile, read_profile, write_profile
from scopeweave_focusmetrics.synthetic import defocus_stack

from scopeweave.session import load_session, plan_session, run_session

SESSIONS = sorted((Path(__file__).parents[3] / "examples" / "sessions").glob("focusmetrics-*.toml"))


def _frame_qc(registry, tmp_path: Path, **params) -> Path:
    data = {"schema_version": 1, "session": {"name": "fq"}, "workflow": {"plugin": "frame-qc", "params": params}}
    return run_session(plan_session(data, registry), registry, output_root=tmp_path / "runs").run_dir


@pytest.fixture
def stacks(tmp_path: Path, camera_128: np.ndarray) -> Path:
    folder = tmp_path / "stacks"
    folder.mkdir()
    for seed in range(2):
        stack, _ = defocus_stack(camera_128[:64, :64], n_frames=11, sigma_per_frame_px=0.4,
                                 shake_px={3: (3.0, 2.0)}, seed=seed)
        tifffile.imwrite(folder / f"s{seed}.tif", stack)
    return folder


def test_frame_qc_writes_every_product(scopeweave_registry, tmp_path: Path, stacks: Path) -> None:
    run_dir = _frame_qc(scopeweave_registry, tmp_path, input=str(stacks), extra_metrics=["tenengrad", "gradient-energy"],
                        motion={"scope": "all", "attribution": "isolated"})
    for name in ("s0", "s1"):
        rows = list(csv.DictReader((run_dir / name / "frame_qc.csv").read_text(encoding="utf-8").splitlines()))
        assert list(rows[0])[:7] == ["frame", "sharpness", "corr_prev", "is_blurry", "is_shaken", "is_drift", "keep"]
        assert rows[0]["corr_prev"] == ""
        assert rows[1]["corr_prev"] != ""
        assert {"tenengrad", "gradient-energy"} <= set(rows[0])
        verdict = json.loads((run_dir / name / "frame_qc.json").read_text())
        assert verdict["best_frame"] == 5
        assert verdict["flags"]["shaken"] == [3]
        assert "peak-relative" in verdict["thresholds"]["focus"]["reason"]
        for png in ("score_curve.png", "correlation_matrix.png", "montage.png", "report.html"):
            assert (run_dir / name / png).stat().st_size > 0
    report = json.loads((run_dir / "report.json").read_text())
    assert report["status"] == "ok"
    assert report["results"]["n_stacks"] == 2
    assert (run_dir / "index.html").exists()


def test_frame_qc_loads_a_qc_profile(scopeweave_registry, tmp_path: Path, stacks: Path) -> None:
    profile = tmp_path / "p.toml"
    write_profile(profile, QcProfile(metric="normalized-variance", rule="floor", threshold=1e12, auc=0.9))
    assert read_profile(profile).metric == "normalized-variance"
    run_dir = _frame_qc(scopeweave_registry, tmp_path, input=str(stacks / "s0.tif"), profile=str(profile))
    verdict = json.loads((run_dir / "s0" / "frame_qc.json").read_text())
    assert verdict["metric"] == "normalized-variance"
    assert verdict["kept"] == []  # nothing reaches an absurd floor


@pytest.mark.slow
def test_frame_qc_on_a_dask_scheduler_address(scopeweave_registry, tmp_path: Path, stacks: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        run_dir = _frame_qc(scopeweave_registry, tmp_path, input=str(stacks), scheduler=cluster.scheduler_address,
                            figures=False)
    assert sorted(p.name for p in run_dir.iterdir() if p.is_dir()) == ["s0", "s1"]


def test_calibration_ranks_metrics_and_writes_a_profile(scopeweave_registry, tmp_path: Path,
                                                        camera_128: np.ndarray) -> None:
    import imageio.v3 as iio

    stack, truth = defocus_stack(camera_128, n_frames=9, sigma_per_frame_px=1.0, dtype=np.uint8, photons=200.0,
                                 background=10.0)
    for i, frame in enumerate(stack):
        label = "great" if truth.blur_sigma_px[i] < 1.5 else "bad"
        (tmp_path / "refs" / label).mkdir(parents=True, exist_ok=True)
        iio.imwrite(tmp_path / "refs" / label / f"f{i}.png", frame)
    data = {"schema_version": 1, "session": {"name": "cal"}, "workflow": {"plugin": "focus-calibration", "params": {
        "references": str(tmp_path / "refs"), "good_labels": ["great"],
        "metrics": ["laplacian-variance", "blur-effect", "gradient-energy"]}}}
    outcome = run_session(plan_session(data, scopeweave_registry), scopeweave_registry, output_root=tmp_path / "runs")
    ranking = outcome.report["results"]["ranking"]
    assert ranking[0]["auc"] == 1.0
    assert ranking[0]["tp"] == 3
    assert ranking[0]["fp"] == 0
    profile = read_profile(outcome.run_dir / "qc_profile.toml")
    assert profile.metric == ranking[0]["metric"]
    assert profile.rule == "floor"


@pytest.mark.parametrize(("method", "metric"), [("brent", "gradient-energy"), ("golden", "normalized-variance"),
                                                ("brent", "mean-abs-log")])
def test_autofocus_finds_the_simulated_focus(scopeweave_registry, tmp_path: Path, method: str, metric: str) -> None:
    data = {
        "schema_version": 1, "session": {"name": "af"},
        "components": {
            "z": {"kind": "stage", "plugin": "sim-z", "params": {"limits_um": [0.0, 200.0], "start_um": 102.0}},
            "cam": {"kind": "camera", "plugin": "sim-astigmatic", "uses": {"stage": "z"},
                    "params": {"sensor_shape_px": [32, 32], "photons": 50000.0}},
            "m": {"kind": "frame_metric", "plugin": metric},
        },
        "workflow": {"plugin": "sharpness-autofocus", "uses": {"camera": "cam", "stage": "z", "metric": "m"},
                     "params": {"search_range_um": 6.0, "coarse_steps": 13, "tolerance_um": 0.02, "method": method}},
    }
    outcome = run_session(plan_session(data, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
    results = outcome.report["results"]
    assert results["best_z_um"] == pytest.approx(100.0, abs=0.1)
    assert results["final_z_um"] == results["best_z_um"]
    assert (outcome.run_dir / "focus_curve.png").exists()


@pytest.mark.parametrize("session", SESSIONS, ids=[s.name for s in SESSIONS])
def test_example_sessions_validate_and_run(scopeweave_registry, tmp_path: Path, session: Path) -> None:
    plan = load_session(session, scopeweave_registry)
    outcome = run_session(plan, scopeweave_registry, output_root=tmp_path)
    assert outcome.status == "ok"
