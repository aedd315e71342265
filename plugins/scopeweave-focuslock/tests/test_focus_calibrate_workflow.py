"""The ``focus-calibrate`` workflow through sessions, the registry and the CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scopeweave_focuslock.calibration_io import load_calibration

from scopeweave.cli import cli
from scopeweave.errors import SessionError
from scopeweave.registry import Registry
from scopeweave.session import RunFailed, load_session, parse_toml, plan_session, run_session
from scopeweave.testing import RegistrationContract

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sessions" / "focus-calibrate-sim.toml"


class TestFocuslockRegistration(RegistrationContract):
    plugin_module = "scopeweave_focuslock.plugin"
    forbidden_imports = ("numba", "matplotlib", "tifffile", "scipy.optimize", "scopeweave_psf")


def _example() -> dict:
    return parse_toml(EXAMPLE.read_text(), str(EXAMPLE))


def test_example_session_runs_and_writes_the_calibration(scopeweave_registry: Registry, tmp_path: Path) -> None:
    plan = load_session(EXAMPLE, scopeweave_registry)
    outcome = run_session(plan, scopeweave_registry, output_root=tmp_path)
    assert outcome.status == "ok"
    results = outcome.report["results"]
    assert results["armable"] is True
    assert results["returned_to_um"] == pytest.approx(100.0)
    assert "armable" in results["summary"]
    for name in ("calibration_sweep.csv", "calibration_sweep.meta.json", "calibration_sweep.png",
                 "calibration_sweep_frames.tif"):
        assert (outcome.run_dir / name).stat().st_size > 0
        assert name in outcome.report["products"]
    calibration = load_calibration(outcome.run_dir / "calibration_sweep.csv")
    assert calibration.armable
    assert calibration.focus_um == pytest.approx(0.0, abs=0.01)
    events = [json.loads(line)["event"] for line in (outcome.run_dir / "events.jsonl").read_text().splitlines()]
    assert events.count("calibration_gate") == 5
    assert events.index("sweep_acquired") < events.index("calibration_gate")


def test_save_to_and_another_model(scopeweave_registry: Registry, tmp_path: Path) -> None:
    data = _example()
    data["components"]["model"]["plugin"] = "poly2"
    data["workflow"]["params"].update({"n_steps": 25, "save_to": str(tmp_path / "shared"), "save_frames": False})
    outcome = run_session(plan_session(data, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
    assert outcome.report["results"]["model"] == "poly2"
    assert not (outcome.run_dir / "calibration_sweep_frames.tif").exists()
    reused = load_calibration(tmp_path / "shared" / "calibration_sweep.meta.json")
    assert reused.model_name == "poly2"
    assert (tmp_path / "shared" / "calibration_sweep.png").exists()


def test_failed_gates_fail_the_run_after_writing(scopeweave_registry: Registry, tmp_path: Path) -> None:
    data = _example()
    data["components"]["z"]["params"]["start_um"] = 100.7
    data["workflow"]["params"]["n_steps"] = 25
    with pytest.raises(RunFailed, match="calibration rejected: usable_range: FAILED") as info:
        run_session(plan_session(data, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
    run_dir = info.value.outcome.run_dir
    meta = json.loads((run_dir / "calibration_sweep.meta.json").read_text())
    assert meta["armable"] is False
    assert (run_dir / "calibration_sweep.png").exists()
    relaxed = copy.deepcopy(data)
    relaxed["workflow"]["params"]["fail_on_gates"] = False
    outcome = run_session(plan_session(relaxed, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
    assert outcome.status == "ok"
    assert outcome.report["results"]["armable"] is False


def test_bad_params_are_reported_with_their_path(scopeweave_registry: Registry) -> None:
    data = _example()
    data["workflow"]["params"]["expected_slope"] = "up"
    data["workflow"]["params"]["detection"]["max_clipped_fraction"] = 2.0
    data["workflow"]["params"]["n_steps"] = 2
    with pytest.raises(SessionError) as info:
        plan_session(data, scopeweave_registry)
    text = str(info.value)
    assert "$.workflow.params.expected_slope" in text
    assert "max_clipped_fraction" in text
    assert "$.workflow.params.n_steps" in text


def test_sweep_beyond_the_stage_limits_is_refused_before_moving(scopeweave_registry: Registry, tmp_path: Path) -> None:
    data = _example()
    data["components"]["z"]["params"]["start_um"] = 0.3
    with pytest.raises(RunFailed, match="leaves the stage limits"):
        run_session(plan_session(data, scopeweave_registry), scopeweave_registry, output_root=tmp_path)


def test_check_calibration_command(scopeweave_registry: Registry, tmp_path: Path) -> None:
    outcome = run_session(load_session(EXAMPLE, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
    scopeweave_registry.register_commands(cli)
    runner = CliRunner()
    good = runner.invoke(cli, ["focuslock", "check-calibration", str(outcome.run_dir / "calibration_sweep.csv")])
    assert good.exit_code == 0, good.output
    assert "armable" in good.output
    assert "residual_rms: passed" in good.output
    as_json = runner.invoke(cli, ["focuslock", "check-calibration", "--json",
                                  str(outcome.run_dir / "calibration_sweep.meta.json")])
    assert json.loads(as_json.output)["armable"] is True
    missing = runner.invoke(cli, ["focuslock", "check-calibration", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2
    assert "none.meta.json: file not found" in missing.output


def test_plugins_show_lists_the_parameters() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["plugins", "show", "workflow", "focus-calibrate"])
    assert result.exit_code == 0, result.output
    for text in ("half_range_um", "expected_slope", "detection", "gates", "focus_model"):
        assert text in result.output
