"""focus-feedback takes its --camera/--stage choices from the installed plugins (hardware included)."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from scopeweave_focuslock.feedback_cli import build_session, focus_feedback

from scopeweave.errors import SessionError
from scopeweave.session import plan_session


def _options(args: list[str]) -> dict:
    return dict(focus_feedback.make_context("focus-feedback", args).params)


def test_orca_and_mcl_sessions_validate_without_the_sdks(scopeweave_registry, tmp_path: Path) -> None:
    calibration = tmp_path / "calibration_sweep.csv"
    args = ["--camera", "orca", "--camera-param", "pixel_size_um=0.108", "--stage", "mcl",
            "--stage-param", "limits_um=[0, 200]", "--calibration-csv", str(calibration)]
    plan = plan_session(build_session(_options(args), scopeweave_registry), scopeweave_registry)
    labels = {c.label: c.spec.name for c in plan.components}
    assert labels == {"z": "mcl", "cam": "orca"}
    assert plan.workflow.params.calibration_csv == calibration


def test_missing_hardware_params_are_reported_by_path(scopeweave_registry) -> None:
    with pytest.raises(SessionError) as info:
        plan_session(build_session(_options(["--camera", "andor", "--stage", "micromanager"]), scopeweave_registry),
                     scopeweave_registry)
    paths = {p.path for p in info.value.problems}
    assert "$.components.cam.params.pixel_size_um" in paths
    assert any(path.startswith("$.components.z.params.") for path in paths)


def test_mcl_in_memory_stage_runs_the_lock_with_the_simulated_camera(scopeweave_registry, tmp_path: Path) -> None:
    """The in-memory Nano-Drive (asked for explicitly) under a calibrate-then-lock run."""
    result = CliRunner().invoke(focus_feedback, [
        "--camera", "simulate", "--stage", "mcl", "--stage-param", "limits_um=[50, 150]",
        "--stage-param", "backend=\"memory\"", "--stage-param", "start_um=100", "--duration", "1",
        "--calibration-steps", "31", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "run directory:" in result.output
