"""Session files: every problem reported at once, with its path."""

from pathlib import Path

import pytest

from scopeweave.errors import SessionError
from scopeweave.session import load_session, plan_session

VALID = {
    "schema_version": 1,
    "session": {"name": "t"},
    "components": {
        "z": {"kind": "stage", "plugin": "sim-z", "params": {"start_um": 50.0}},
        "cam": {"kind": "camera", "plugin": "sim-astigmatic", "params": {"exposure_ms": 5.0}, "uses": {"stage": "z"}},
    },
    "workflow": {"plugin": "sim-zstack", "params": {"n_steps": 3}, "uses": {"camera": "cam", "stage": "z"}},
}


def _problems(data, registry, **kwargs) -> dict[str, str]:
    with pytest.raises(SessionError) as info:
        plan_session(data, registry, **kwargs)
    return {p.path: p.message for p in info.value.problems}


def _with(path: str, value, base=VALID):
    import copy

    data = copy.deepcopy(base)
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return data


def test_valid_session_plans_in_dependency_order(scopeweave_registry) -> None:
    plan = plan_session(VALID, scopeweave_registry)
    assert [c.label for c in plan.components] == ["z", "cam"]
    assert plan.components[1].params.exposure_ms == 5.0
    assert plan.workflow.spec.name == "sim-zstack"
    assert plan.workflow.params.n_steps == 3


def test_dependency_order_follows_uses_not_file_order(scopeweave_registry) -> None:
    data = _with("components", {"cam": VALID["components"]["cam"], "z": VALID["components"]["z"]})
    assert [c.label for c in plan_session(data, scopeweave_registry).components] == ["z", "cam"]


@pytest.mark.parametrize(
    ("path", "value", "where", "reason"),
    [
        ("colour", "red", "$.colour", "unknown key"),
        ("session.colour", "red", "$.session.colour", "unknown key"),
        ("components.z.prams", {}, "$.components.z.prams", "did you mean 'params'"),
        ("components.z.params.strat_um", 1.0, "$.components.z.params.strat_um", "did you mean 'start_um'"),
        ("workflow.params.bogus", 1, "$.workflow.params.bogus", "unknown key"),
        ("components.cam.params.exposure_ms", "20", "$.components.cam.params.exposure_ms", "expected a number, got '20'"),
        ("components.cam.params.exposure_ms", True, "$.components.cam.params.exposure_ms", "expected a number, got True"),
        ("workflow.params.n_steps", 2.5, "$.workflow.params.n_steps", "expected an integer, got 2.5"),
        ("components.z.params.limits_um", [0.0, "x"], "$.components.z.params.limits_um[1]", "expected a number"),
        ("components.cam.params.exposure_ms", -1.0, "$.components.cam.params.exposure_ms", "'exposure_ms' must be > 0 (got -1.0)"),
        ("components.z.params.start_um", 500.0, "$.components.z.params", "'start_um' must lie inside limits_um"),
        ("components.z.kind", "laser", "$.components.z.kind", "must be one of"),
        ("components.z.plugin", "prior", "$.components.z.plugin", "no stage named 'prior' (available: "),
        ("workflow.plugin", "nope", "$.workflow.plugin", "no workflow named 'nope'"),
        ("components.cam.uses.stage", "nothere", "$.components.cam.uses.stage", "no component labelled 'nothere' (labels: z, cam)"),
        ("components.cam.uses.lamp", "z", "$.components.cam.uses.lamp", "has no role 'lamp' (roles: stage, xy_stage)"),
        ("workflow.uses.camera", "z", "$.workflow.uses.camera", "role 'camera' needs a camera; 'z' is a stage"),
        ("schema_version", 2, "$.schema_version", "unsupported schema version 2"),
        ("session.name", "has space", "$.session.name", "'name' must start with a letter"),
    ],
)
def test_each_mistake_has_its_path_and_reason(scopeweave_registry, path, value, where, reason) -> None:
    problems = _problems(_with(path, value), scopeweave_registry)
    assert where in problems, problems
    assert reason in problems[where]


def test_missing_required_role_and_tables(scopeweave_registry) -> None:
    data = _with("workflow.uses", {"camera": "cam"})
    del data["session"]
    problems = _problems(data, scopeweave_registry)
    assert "missing required role 'stage' (a stage)" in problems["$.workflow.uses"]
    assert "required table missing" in problems["$.session"]
    assert "required key missing" in _problems({"session": {"name": "x"}, "workflow": {"plugin": "acquire", "uses": {}}},
                                              scopeweave_registry)["$.schema_version"]


def test_cycles_are_reported(recording_plugin, scopeweave_registry) -> None:
    data = {
        "schema_version": 1,
        "session": {"name": "t"},
        "components": {
            "a": {"kind": "stage", "plugin": "rec-linked", "uses": {"other": "b"}},
            "b": {"kind": "stage", "plugin": "rec-linked", "uses": {"other": "a"}},
        },
        "workflow": {"plugin": "rec-steps", "uses": {"stage": "a"}},
    }
    problems = _problems(data, scopeweave_registry)
    assert problems == {"$.components.a.uses": "components use each other in a cycle: a -> b -> a"}


def test_all_problems_of_a_file_are_reported_at_once(scopeweave_registry) -> None:
    data = _with("components.cam.params.exposure_ms", -1.0)
    data = _with("components.z.params.strat_um", 1.0, data)
    data = _with("components.cam.uses.stage", "nothere", data)
    data = _with("workflow.plugin", "nope", data)
    data = _with("session.colour", "red", data)
    problems = _problems(data, scopeweave_registry)
    assert len(problems) == 5


def test_overrides_are_typed_by_the_params_class(scopeweave_registry) -> None:
    plan = plan_session(VALID, scopeweave_registry, overrides=[
        "components.cam.params.exposure_ms=20",
        "workflow.params.filename=stack 1.tif",
        "components.z.params.limits_um=[0, 80]",
        "session.description=from the command line",
    ])
    cam = {c.label: c for c in plan.components}["cam"]
    assert cam.params.exposure_ms == 20.0
    assert plan.workflow.params.filename == "stack 1.tif"
    assert {c.label: c for c in plan.components}["z"].params.limits_um == (0.0, 80.0)
    assert plan.info.description == "from the command line"
    assert plan.data["components"]["cam"]["params"]["exposure_ms"] == 20


def test_override_errors(scopeweave_registry) -> None:
    problems = _problems(VALID, scopeweave_registry, overrides=["components.cam.params.exposure_ms=abc"])
    assert "expected a number, got 'abc'" in problems["$.components.cam.params.exposure_ms"]
    problems = _problems(VALID, scopeweave_registry, overrides=["no-equals-sign"])
    assert "expected dotted.key=value" in problems["--set no-equals-sign"]
    problems = _problems(VALID, scopeweave_registry, overrides=["session.name.x=1"])
    assert "$.session.name is not a table" in problems["--set session.name.x=1"]


def test_malformed_toml_reports_line_and_column(tmp_path: Path, scopeweave_registry) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('schema_version = 1\n[session]\nname = "x\n')
    with pytest.raises(SessionError) as info:
        load_session(path, scopeweave_registry)
    (problem,) = info.value.problems
    assert problem.message.startswith("malformed TOML at line 3, column")
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path, scopeweave_registry) -> None:
    with pytest.raises(SessionError, match="file not found"):
        load_session(tmp_path / "nope.toml", scopeweave_registry)


def test_validation_never_builds_components(recording_plugin, scopeweave_registry) -> None:
    data = {
        "schema_version": 1,
        "session": {"name": "t"},
        "components": {"s": {"kind": "stage", "plugin": "rec-stage", "params": {"fail_on": "build"}}},
        "workflow": {"plugin": "rec-steps", "params": {"n_steps": "x"}, "uses": {"stage": "s"}},
    }
    _problems(data, scopeweave_registry)
    assert recording_plugin.LOG == []


def test_nested_tables_report_the_failing_field(scopeweave_registry) -> None:
    data = _with("components.cam.params.focus_drift", [
        {"kind": "ramp", "rate_um_per_min": 1.0},
        {"kind": "sine", "period_s": 0.0},
        {"kind": "steps", "step_times_s": [1.0], "step_sizes_um": [], "colour": 1},
    ])
    data = _with("components.cam.params.psf_x", {"w0_px": -1.0, "c_um": 0.1, "d_um": 0.4}, data)
    problems = _problems(data, scopeweave_registry)
    assert "'period_s' must be > 0" in problems["$.components.cam.params.focus_drift[1]"]
    assert "unknown key" in problems["$.components.cam.params.focus_drift[2].colour"]
    assert "'w0_px' must be > 0" in problems["$.components.cam.params.psf_x.w0_px"]
