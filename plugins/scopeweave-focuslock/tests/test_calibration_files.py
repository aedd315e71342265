"""Saving and loading calibrations: round trip and every kind of bad file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scopeweave_focuslock.calibration import CalibrationError
from scopeweave_focuslock.calibration_io import calibration_paths, load_calibration, save_calibration
from scopeweave_focuslock.figure import save_calibration_figure
from scopeweave_focuslock.models import LinearFocusModel
from scopeweave_focuslock.params import GateThresholds


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A calibration of the simulator saved to a fresh folder (shared by the read-only tests)."""
    from scopeweave_focuslock.params import CalibrateParams
    from scopeweave_focuslock.sweep import CalibrationSweep
    from scopeweave_sim import SimAstigmaticCamera, SimCameraParams, SimZParams, SimZStage

    stage = SimZStage(SimZParams())
    camera = SimAstigmaticCamera(SimCameraParams(sensor_shape_px=(32, 32), seed=3), z_stage=stage)
    with stage, camera:
        workflow = CalibrationSweep(CalibrateParams(settle_ms=0.0, n_steps=31), camera=camera, stage=stage, model=None)
        calibration = workflow.process(workflow.acquire())
    folder = tmp_path_factory.mktemp("calibration")
    save_calibration(calibration, folder / "calibration_sweep.csv", thresholds=GateThresholds())
    save_calibration_figure(calibration, folder / "calibration_sweep.png")
    return folder


def _copy(saved: Path, tmp_path: Path) -> tuple[Path, Path]:
    for name in ("calibration_sweep.csv", "calibration_sweep.meta.json"):
        (tmp_path / name).write_bytes((saved / name).read_bytes())
    return tmp_path / "calibration_sweep.csv", tmp_path / "calibration_sweep.meta.json"


def test_round_trip_keeps_the_model_samples_and_gates(saved: Path) -> None:
    loaded = load_calibration(saved / "calibration_sweep.csv")
    same = load_calibration(saved / "calibration_sweep.meta.json")
    assert loaded.armable
    assert loaded.model_name == "zhuang"
    assert len(loaded.samples) == 31
    meta = json.loads((saved / "calibration_sweep.meta.json").read_text())
    assert meta["armable"] is True
    assert [g["name"] for g in meta["gates"]] == [g.name for g in loaded.gates]
    assert meta["pixel_size_nm"] == 100.0
    assert meta["model"]["parameters"] == loaded.model.to_dict()
    assert {"scopeweave", "scopeweave-focuslock", "scopeweave-psf", "numpy", "python"} <= set(meta["versions"])
    sx, sy = loaded.samples.sigma_x_px, loaded.samples.sigma_y_px
    np.testing.assert_array_equal(loaded.z_from_widths(sx, sy).z_um, same.z_from_widths(sx, sy).z_um)
    for gate, stored in zip(loaded.gates, meta["gates"], strict=True):
        assert gate.value == pytest.approx(stored["value"], rel=1e-9)
    assert (saved / "calibration_sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_paths_pair_up() -> None:
    assert calibration_paths("a/x.csv") == (Path("a/x.csv"), Path("a/x.meta.json"))
    assert calibration_paths("a/x.meta.json") == (Path("a/x.csv"), Path("a/x.meta.json"))
    with pytest.raises(CalibrationError, match="a calibration is a .csv"):
        calibration_paths("a/x.txt")


def _expect(path: Path, message: str) -> None:
    with pytest.raises(CalibrationError) as info:
        load_calibration(path)
    text = str(info.value)
    assert message in text, text


def test_missing_files_are_named(saved: Path, tmp_path: Path) -> None:
    _expect(tmp_path / "nothing.csv", "nothing.meta.json: file not found")
    csv_file, meta_file = _copy(saved, tmp_path)
    csv_file.unlink()
    _expect(meta_file, "calibration_sweep.csv: file not found (named by calibration_sweep.meta.json)")


def test_corrupt_meta_is_named(saved: Path, tmp_path: Path) -> None:
    csv_file, meta_file = _copy(saved, tmp_path)
    meta_file.write_text(meta_file.read_text()[:200])
    _expect(csv_file, "calibration_sweep.meta.json: not valid JSON")
    meta_file.write_text(json.dumps({"format": "something-else"}))
    _expect(csv_file, "not a focuslock calibration")


def test_edited_csv_is_refused(saved: Path, tmp_path: Path) -> None:
    csv_file, _ = _copy(saved, tmp_path)
    lines = csv_file.read_text().splitlines()
    lines[3] = lines[3].replace(",", ",9", 1)
    csv_file.write_text("\n".join(lines) + "\n")
    _expect(csv_file, "calibration_sweep.csv: its SHA-256 does not match")


def _rewrite(meta_file: Path, csv_text: str) -> None:
    """Write a CSV and fix the meta's hash and count so the CSV's own checks run."""
    import hashlib

    csv_file = meta_file.with_name("calibration_sweep.csv")
    csv_file.write_text(csv_text)
    meta = json.loads(meta_file.read_text())
    meta["csv_sha256"] = hashlib.sha256(csv_file.read_bytes()).hexdigest()
    meta["n_samples"] = len(csv_text.strip().splitlines()) - 1
    meta_file.write_text(json.dumps(meta))


def test_bad_csv_content_is_named_with_line_and_column(saved: Path, tmp_path: Path) -> None:
    csv_file, meta_file = _copy(saved, tmp_path)
    original = csv_file.read_text()
    lines = original.splitlines()
    header = lines[0].split(",")
    row = lines[4].split(",")
    row[header.index("sigma_x_px")] = "wide"
    _rewrite(meta_file, "\n".join([*lines[:4], ",".join(row), *lines[5:]]) + "\n")
    _expect(csv_file, "line 5, column 'sigma_x_px': 'wide' is not a valid number")
    row = lines[4].split(",")
    row[header.index("sample_class")] = "guess"
    _rewrite(meta_file, "\n".join([*lines[:4], ",".join(row), *lines[5:]]) + "\n")
    _expect(csv_file, "column 'sample_class': 'guess' is neither")
    _rewrite(meta_file, "\n".join([lines[0].replace("fit_quality", "quality"), *lines[1:]]) + "\n")
    _expect(csv_file, "missing: ['fit_quality']")


def test_bad_model_parameters_are_named(saved: Path, tmp_path: Path) -> None:
    csv_file, meta_file = _copy(saved, tmp_path)
    meta = json.loads(meta_file.read_text())
    meta["model"]["parameters"]["psf_x"]["d_um"] = -0.4
    meta_file.write_text(json.dumps(meta))
    _expect(csv_file, "model.parameters: zhuang model.psf_x")
    meta["model"]["name"] = "spline"
    meta_file.write_text(json.dumps(meta))
    _expect(csv_file, "model 'spline' is not available (known: linear, piecewise, poly2, zhuang)")
    meta["model"]["name"] = "zhuang"
    meta["pixel_size_nm"] = 0
    meta_file.write_text(json.dumps(meta))
    _expect(csv_file, "'pixel_size_nm' must be > 0")


def test_loading_with_other_models(saved: Path) -> None:
    with pytest.raises(CalibrationError, match="'zhuang' is not available"):
        load_calibration(saved / "calibration_sweep.csv", models={"linear": LinearFocusModel()})


def test_loading_rechecks_the_gates(saved: Path, tmp_path: Path) -> None:
    csv_file, meta_file = _copy(saved, tmp_path)
    meta = json.loads(meta_file.read_text())
    meta["gate_thresholds"]["max_residual_rms_nm"] = 0.1
    meta_file.write_text(json.dumps(meta))
    loaded = load_calibration(csv_file)
    assert not loaded.armable
    assert [g.name for g in loaded.failed_gates] == ["residual_rms"]
