"""The focus-feedback command: every option reaches the session; bad values give one clear error."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from scopeweave_focuslock.feedback_cli import build_session, focus_feedback

ALL_OPTIONS = [
    "--camera", "simulate", "--stage", "simulate", "--camera-param", "photons=5000", "--stage-param", "start_um=90",
    "--calibration-csv", "cal/calibration_sweep.csv", "--duration", "12", "--loop-hz", "25", "--kp", "0.6",
    "--ki", "0.1", "--max-step", "0.15", "--command-deadband-um", "0.01", "--af-max-excursion-um", "2.5",
    "--calibration-model", "poly2", "--calibration-half-range-um", "0.7", "--calibration-steps", "35",
    "--calibration-expected-slope", "positive", "--track-roi", "--track-roi-xy", "20", "24", "--track-gain", "0.35",
    "--track-deadband-px", "1.5", "--track-max-step-px", "6", "--no-gaussian-fit", "--fast-mode",
    "--background-percentile", "15", "--min-roi-intensity-fraction", "0.05", "--allow-missing-calibration",
]


def _options(args: list[str]) -> dict:
    """Parse ``args`` exactly as the command does and return its options."""
    context = focus_feedback.make_context("focus-feedback", list(args))
    return dict(context.params)


def test_every_option_reaches_the_session(scopeweave_registry) -> None:
    data = build_session(_options(ALL_OPTIONS), scopeweave_registry)
    params = data["workflow"]["params"]
    assert data["components"]["cam"] == {"kind": "camera", "plugin": "sim-astigmatic",
                                         "params": {"photons": 5000, "exposure_ms": 40.0}, "uses": {"stage": "z"}}
    assert data["components"]["z"] == {"kind": "stage", "plugin": "sim-z", "params": {"start_um": 90}}
    assert data["components"]["model"] == {"kind": "focus_model", "plugin": "poly2"}
    assert data["workflow"]["uses"] == {"stage": "z", "camera": "cam", "focus_model": "model"}
    assert params == {
        "calibration_csv": "cal/calibration_sweep.csv", "allow_missing_calibration": True, "duration_s": 12.0,
        "loop_hz": 25.0, "kp": 0.6, "ki": 0.1, "max_step_um": 0.15, "command_deadband_um": 0.01,
        "max_excursion_um": 2.5,
        "calibration": {"half_range_um": 0.7, "n_steps": 35, "expected_slope": "positive"},
        "track_roi": True, "track_gain": 0.35, "track_deadband_px": 1.5, "track_max_step_px": 6.0,
        "detection": {"use_gaussian_fit": False, "fast_mode": True, "background_percentile": 15.0,
                      "min_roi_intensity_fraction": 0.05},
        "roi_center_px": [20.0, 24.0], "calibrate_first": False, "pace_to_loop_hz": False,
    }


def test_session_file_is_the_base_and_options_override(scopeweave_registry) -> None:
    session = Path(__file__).parents[3] / "examples" / "sessions" / "focus-lock-sim.toml"
    data = build_session(_options(["--session", str(session), "--kp", "0.5"]), scopeweave_registry)
    assert data["workflow"]["params"]["kp"] == 0.5
    assert data["components"]["cam"]["params"]["focus_drift"][0]["kind"] == "ramp"
    assert data["session"]["name"] == "focus-lock-sim"


def test_headless_simulated_run(scopeweave_registry, tmp_path: Path) -> None:
    result = CliRunner().invoke(focus_feedback, ["--duration", "2", "--calibration-steps", "31", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "focus lock: final state locked" in result.output
    (run_dir,) = tmp_path.iterdir()
    report = json.loads((run_dir / "autofocus_run_report.json").read_text())
    assert report["n_frames"] == 60
    assert (run_dir / "calibration_sweep.csv").exists()


def test_bad_values_give_one_clear_error(scopeweave_registry) -> None:
    result = CliRunner().invoke(focus_feedback, ["--kp", "-1", "--duration", "0"])
    assert result.exit_code == 2
    assert "$.workflow.params.kp: 'kp' must be a finite number > 0 (got -1.0)." in result.output
    assert "$.workflow.params.duration_s: 'duration_s' must be a finite number > 0" in result.output
    assert "Traceback" not in result.output
    unknown = CliRunner().invoke(focus_feedback, ["--camera", "hal9000"])
    assert unknown.exit_code == 2
    assert "no camera named 'hal9000' (available:" in unknown.output
    assert "sim-astigmatic" in unknown.output
    param = CliRunner().invoke(focus_feedback, ["--camera-param", "photons"])
    assert param.exit_code == 2
    assert "expected KEY=VALUE" in param.output
