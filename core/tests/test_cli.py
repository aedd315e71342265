"""The scopeweave command: listings, validation, runs and clean user errors."""

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Literal

import attrs
import click
import pytest
from click.testing import CliRunner

from scopeweave import FrameMetricSpec, hookimpl
from scopeweave.cli import _attribute_docs, cli

FIVE_MISTAKES = """\
schema_version = 1
[session]
name = "five"
colour = "red"                                   # 1: unknown key
[components.z]
kind = "stage"
plugin = "sim-z"
params = { strat_um = 3.0 }                      # 2: typo in a param
[components.cam]
kind = "camera"
plugin = "sim-astigmatic"
params = { exposure_ms = -5.0 }                  # 3: validator fails
uses = { stage = "nothere" }                     # 4: unknown label
[workflow]
plugin = "sim-zstak"                             # 5: unknown plugin
uses = { camera = "cam", stage = "z" }
"""


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scopeweave", *args], capture_output=True, text=True, cwd=cwd)


def test_plugins_list_shows_core_sim_and_example(scopeweave_registry) -> None:
    result = CliRunner().invoke(cli, ["plugins", "list"])
    assert result.exit_code == 0, result.output
    assert "scopeweave  (scopeweave" in result.output
    assert "sim  (scopeweave-sim" in result.output
    assert "example-metric  (scopeweave-example-metric" in result.output
    data = json.loads(CliRunner().invoke(cli, ["plugins", "list", "--json"]).output)
    by_name = {item["name"]: item for item in data}
    assert by_name["example-metric"]["provides"] == {"frame_metric": ["gradient-energy"]}
    assert by_name["sim"]["status"] == "active"


def test_plugins_show_lists_params_with_types_defaults_and_docs(scopeweave_registry) -> None:
    result = CliRunner().invoke(cli, ["plugins", "show", "stage", "sim-z"])
    assert result.exit_code == 0, result.output
    assert "limits_um: tuple[float, float], default (0.0, 200.0)" in result.output
    assert "settle_ms: number, default 0.0" in result.output
    assert "Real time each move waits before it returns." in result.output
    wf = CliRunner().invoke(cli, ["plugins", "show", "workflow", "sim-zstack"]).output
    assert "camera: camera (required) the camera to record" in wf


@attrs.frozen(kw_only=True)
class _BaseParams:
    """Parameters shared by a family of components.

    Attributes
    ----------
    gain
        Detector gain.
    mode
        One of the modes.
    """

    gain: float = 1.0
    mode: str = "fast"


@attrs.frozen(kw_only=True)
class _VendorParams(_BaseParams):
    """Parameters of one vendor: its modes, and a field of its own.

    Attributes
    ----------
    mode
        ``fast`` or ``quiet``.
    cooling
        Sensor cooling on.
    """

    mode: Literal["fast", "quiet"] = "fast"
    cooling: bool = True


class _NotAttrsMixin:
    """A plain mixin.

    Attributes
    ----------
    gain
        Not a field description (the mixin is not an attrs class).
    """


@attrs.frozen(kw_only=True)
class _MixedParams(_NotAttrsMixin, _VendorParams):
    pass


def test_attribute_docs_read_the_bases_first_and_the_subclass_overrides() -> None:
    assert _attribute_docs(_VendorParams) == {"gain": "Detector gain.", "mode": "``fast`` or ``quiet``.",
                                              "cooling": "Sensor cooling on."}
    assert _attribute_docs(_MixedParams) == _attribute_docs(_VendorParams), "only attrs bases document fields"


def test_plugins_show_documents_inherited_params(register_plugin) -> None:
    spec = FrameMetricSpec(name="vendor-metric", summary="a metric with inherited params", factory=lambda p, u: None,
                           params_type=_VendorParams)
    register_plugin(types.SimpleNamespace(scopeweave_frame_metrics=hookimpl(lambda: [spec])), name="vendor")
    result = CliRunner().invoke(cli, ["plugins", "show", "frame_metric", "vendor-metric"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    params = lines[lines.index("params:") + 1:]
    assert params == [
        "  gain: number, default 1.0",
        "      Detector gain.",
        "  mode: Literal['fast', 'quiet'], default 'fast'",
        "      ``fast`` or ``quiet``.",
        "  cooling: boolean, default True",
        "      Sensor cooling on.",
    ]


def test_unknown_component_is_a_clean_error(scopeweave_registry) -> None:
    result = CliRunner().invoke(cli, ["plugins", "show", "camera", "orca-x"])
    assert result.exit_code == 2
    assert "no camera named 'orca-x'" in result.output
    assert "Traceback" not in result.output


def test_five_mistakes_all_reported_exit_2_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "five.toml"
    path.write_text(FIVE_MISTAKES)
    result = _run("session", "validate", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}: 5 problems" in result.stderr
    for where in ("$.session.colour", "$.components.z.params.strat_um", "$.components.cam.params.exposure_ms",
                  "$.components.cam.uses.stage", "$.workflow.plugin"):
        assert where in result.stderr
    assert "did you mean 'sim-zstack'" not in result.stderr  # names are listed, not guessed
    assert "available: acquire" in result.stderr


def test_validate_several_files(tmp_path: Path, scopeweave_registry) -> None:
    good = Path(__file__).parents[2] / "examples" / "sessions" / "sim-zstack.toml"
    bad = tmp_path / "bad.toml"
    bad.write_text("schema_version = 1\n[session\n")
    result = CliRunner().invoke(cli, ["session", "validate", str(good), str(bad)])
    assert result.exit_code == 2
    assert f"{good}: ok (2 components, workflow 'sim-zstack')" in result.output
    assert "malformed TOML at line 2" in result.output


def test_run_with_overrides_and_output(tmp_path: Path) -> None:
    session = Path(__file__).parents[2] / "examples" / "sessions" / "sim-zstack.toml"
    result = _run("session", "run", str(session), "--set", "workflow.params.n_steps=5",
                  "--set", "components.cam.params.exposure_ms=2", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (run_dir,) = tmp_path.iterdir()
    assert f"run directory: {run_dir}" in result.stdout
    report = json.loads((run_dir / "report.json").read_text())
    assert report["status"] == "ok"
    assert report["parameters"]["workflow"]["n_steps"] == 5
    assert report["parameters"]["cam"]["exposure_ms"] == 2.0
    assert report["results"]["n_planes"] == 5


def test_failing_run_exits_2_with_the_report_path(tmp_path: Path) -> None:
    session = Path(__file__).parents[2] / "examples" / "sessions" / "sim-zstack.toml"
    result = _run("session", "run", str(session), "--set", "workflow.params.half_range_um=500", "--output", str(tmp_path))
    assert result.returncode == 2
    assert "leaves the stage limits" in result.stderr
    assert "report.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_plugin_commands_are_added_and_isolated(empty_registry) -> None:
    @click.command("hello")
    def hello() -> None:
        click.echo("hello from a plugin")

    group = click.Group("scopeweave")
    good = types.SimpleNamespace(scopeweave_register_commands=hookimpl(lambda cli: cli.add_command(hello)))
    empty_registry.register(good, name="greeter")
    empty_registry.register_commands(group)
    assert CliRunner().invoke(group, ["hello"]).output == "hello from a plugin\n"


def test_plugin_command_hook_that_raises_breaks_only_that_plugin() -> None:
    from scopeweave.registry import PluginWarning, Registry

    registry = Registry(strict=False, blocked=())
    bad = types.SimpleNamespace(scopeweave_register_commands=hookimpl(lambda cli: 1 / 0))
    registry.register(bad, name="bad")
    with pytest.warns(PluginWarning, match="scopeweave_register_commands raised ZeroDivisionError"):
        registry.register_commands(click.Group("x"))
    assert registry.plugins()[0].status == "broken"
