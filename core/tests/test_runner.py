"""Running sessions: run directories, reports, shutdown order, failures and Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w

from scopeweave.session import RunFailed, load_session, plan_session, run_session


def _session(stage_params=None, workflow_params=None, n_stages=2):
    components = {f"s{i}": {"kind": "stage", "plugin": "rec-stage", "params": dict(stage_params or {})} for i in range(n_stages)}
    return {
        "schema_version": 1,
        "session": {"name": "rec"},
        "components": components,
        "workflow": {"plugin": "rec-steps", "params": dict(workflow_params or {}), "uses": {"stage": "s0"}},
    }


def test_successful_run_writes_everything(recording_plugin, scopeweave_registry, tmp_path: Path) -> None:
    plan = plan_session(_session(), scopeweave_registry)
    outcome = run_session(plan, scopeweave_registry, output_root=tmp_path)
    assert outcome.status == "ok"
    run_dir = outcome.run_dir
    assert run_dir.parent == tmp_path
    assert run_dir.name.startswith("rec-")
    report = json.loads((run_dir / "report.json").read_text())
    assert report["status"] == "ok"
    assert report["results"] == {"final_um": 6.5}
    assert report["components"]["s0"] == {"kind": "stage", "plugin": "rec-stage", "distribution": "scopeweave-recording",
                                          "version": "1.0", "uses": {}}
    assert report["parameters"]["workflow"] == {"n_steps": 3, "behaviour": "ok", "delay_s": 0.0}
    assert report["products"] == ["steps.json"]
    assert set(report["timings_s"]) >= {"build_s", "run_s", "shutdown_s", "total_s"}
    assert report["scopeweave_version"]
    events = [json.loads(line)["event"] for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert events[0] == "run_start"
    assert events[-1] == "run_end"
    assert "steps_begin" in events
    resolved = load_session(run_dir / "session.toml", scopeweave_registry)
    assert resolved.data == plan.data
    assert recording_plugin.LOG == ["init stage-0", "init stage-1", "shutdown stage-1", "shutdown stage-0"]
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]


def test_two_runs_get_two_directories(recording_plugin, scopeweave_registry, tmp_path: Path) -> None:
    plan = plan_session(_session(), scopeweave_registry)
    first = run_session(plan, scopeweave_registry, output_root=tmp_path).run_dir
    second = run_session(plan, scopeweave_registry, output_root=tmp_path).run_dir
    assert first != second


def test_failing_workflow_shuts_down_in_reverse_and_reports(recording_plugin, scopeweave_registry, tmp_path: Path) -> None:
    plan = plan_session(_session(workflow_params={"behaviour": "raise"}), scopeweave_registry)
    with pytest.raises(RunFailed, match="workflow broke at step 1") as info:
        run_session(plan, scopeweave_registry, output_root=tmp_path)
    report = json.loads((info.value.outcome.run_dir / "report.json").read_text())
    assert report["status"] == "failed"
    assert report["error"]["type"] == "ValueError"
    assert recording_plugin.LOG[-2:] == ["shutdown stage-1", "shutdown stage-0"]


def test_factory_failure_shuts_down_what_started(recording_plugin, scopeweave_registry, tmp_path: Path) -> None:
    data = _session()
    data["components"]["s2"] = {"kind": "stage", "plugin": "rec-stage", "params": {"fail_on": "build"}}
    plan = plan_session(data, scopeweave_registry)
    with pytest.raises(RunFailed, match="stage 's2' \\(plugin 'rec-stage'\\) could not be built: RuntimeError: factory exploded"):
        run_session(plan, scopeweave_registry, output_root=tmp_path)
    assert recording_plugin.LOG == ["init stage-0", "init stage-1", "shutdown stage-1", "shutdown stage-0"]


def test_initialize_failure_is_reported(recording_plugin, scopeweave_registry, tmp_path: Path) -> None:
    data = _session(n_stages=1)
    data["components"]["bad"] = {"kind": "stage", "plugin": "rec-stage", "params": {"fail_on": "initialize"}}
    plan = plan_session(data, scopeweave_registry)
    with pytest.raises(RunFailed, match="failed to initialize: RuntimeError: cannot open the device") as info:
        run_session(plan, scopeweave_registry, output_root=tmp_path)
    assert info.value.outcome.status == "failed"
    assert recording_plugin.LOG == ["init stage-0", "shutdown stage-0"]


def test_keyboard_interrupt_writes_an_interrupted_report(recording_plugin, scopeweave_registry, tmp_path: Path) -> None:
    plan = plan_session(_session(workflow_params={"behaviour": "interrupt"}), scopeweave_registry)
    with pytest.raises(KeyboardInterrupt):
        run_session(plan, scopeweave_registry, output_root=tmp_path / "runs")
    (run_dir,) = (tmp_path / "runs").iterdir()
    report = json.loads((run_dir / "report.json").read_text())
    assert report["status"] == "interrupted"
    assert recording_plugin.LOG[-2:] == ["shutdown stage-1", "shutdown stage-0"]


def test_factory_returning_the_wrong_kind_is_an_error(scopeweave_registry, register_plugin, tmp_path: Path) -> None:
    import types

    from scopeweave import StageSpec, hookimpl

    plugin = types.SimpleNamespace(scopeweave_stages=hookimpl(
        lambda: [StageSpec(name="not-a-stage", summary="returns a string", factory=lambda p, u: "oops")]))
    register_plugin(plugin, name="liar")
    data = {
        "schema_version": 1,
        "session": {"name": "liar"},
        "components": {"cam": {"kind": "camera", "plugin": "sim-astigmatic"}, "z": {"kind": "stage", "plugin": "not-a-stage"}},
        "workflow": {"plugin": "acquire", "params": {"n_frames": 1}, "uses": {"camera": "cam"}},
    }
    with pytest.raises(RunFailed, match="returned str, which is not a Stage"):
        run_session(plan_session(data, scopeweave_registry), scopeweave_registry, output_root=tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_a_run_from_the_cli(recording_plugin, tmp_path: Path, sig: int) -> None:
    """Ctrl-C (or SIGTERM) while the workflow runs: exit 130, report 'interrupted', stages shut down."""
    session = tmp_path / "slow.toml"
    session.write_text(tomli_w.dumps(_session(workflow_params={"n_steps": 200, "delay_s": 0.05})))
    site = Path(sys.modules["sw_recording"].__file__).parent
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scopeweave", "session", "run", str(session), "--output", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events = list(out.glob("*/events.jsonl"))
        if events and "steps_begin" in events[0].read_text():
            break
        time.sleep(0.05)
    proc.send_signal(sig)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    (run_dir,) = out.iterdir()
    report = json.loads((run_dir / "report.json").read_text())
    assert report["status"] == "interrupted"
    stopped = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["label"] for e in stopped if e["event"] == "component_stopped"] == ["s1", "s0"]
