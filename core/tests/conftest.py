"""Fixtures for the core's own tests: fake distributions and a recording test plugin."""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scopeweave.registry import ENTRY_POINT_GROUP

MakeDist = Callable[..., list[importlib.metadata.EntryPoint]]


@pytest.fixture
def make_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeDist]:
    """Write a fake installed distribution (dist-info + modules) and return its entry points."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created: list[str] = []

    def make(name: str, *, entry_points: dict[str, str], modules: dict[str, str], version: str = "1.0") -> list[importlib.metadata.EntryPoint]:
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{k} = {v}" for k, v in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, source in modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source))
            created.append(module)
        dist = next(d for d in importlib.metadata.distributions(path=[str(site)]) if d.metadata["Name"] == name)
        return [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]

    yield make
    for module in created:
        sys.modules.pop(module, None)


RECORDING_PLUGIN = '''
from __future__ import annotations

import attrs

from scopeweave import CameraSpec, Role, StageSpec, WorkflowSpec, hookimpl
from scopeweave.kinds import Camera, Roi, Stage

LOG: list[str] = []


@attrs.frozen(kw_only=True)
class DeviceParams:
    fail_on: str = "never"


class RecStage(Stage):
    def __init__(self, params: DeviceParams, label: str) -> None:
        super().__init__(axes=("z",), limits_um=((0.0, 10.0),))
        self.params, self.label, self.z = params, label, 5.0

    def _do_initialize(self) -> None:
        if self.params.fail_on == "initialize":
            raise RuntimeError("cannot open the device")
        LOG.append(f"init {self.label}")

    def _do_shutdown(self) -> None:
        LOG.append(f"shutdown {self.label}")

    def _do_get_position_um(self):
        return (self.z,)

    def _do_move_to_um(self, position_um):
        self.z = position_um[0]


def make_stage(params: DeviceParams, uses) -> RecStage:
    if params.fail_on == "build":
        raise RuntimeError("factory exploded")
    return RecStage(params, f"stage-{len(LOG)}")


@attrs.frozen(kw_only=True)
class StepParams:
    n_steps: int = 3
    behaviour: str = "ok"
    delay_s: float = 0.0


class Steps:
    def __init__(self, params: StepParams, stage: Stage) -> None:
        self.params, self.stage = params, stage

    def run(self, context):
        import time
        context.events.emit("steps_begin")
        for i in range(self.params.n_steps):
            if self.params.behaviour == "raise" and i == 1:
                raise ValueError("workflow broke at step 1")
            if self.params.behaviour == "interrupt" and i == 1:
                raise KeyboardInterrupt
            self.stage.move_by_um((0.5,))
            time.sleep(self.params.delay_s)
        context.write_json("steps.json", {"final_um": self.stage.position_um()[0]})
        return {"final_um": self.stage.position_um()[0]}


@hookimpl
def scopeweave_stages():
    return [
        StageSpec(name="rec-stage", summary="recording stage", params_type=DeviceParams, factory=make_stage),
        StageSpec(name="rec-linked", summary="a stage wired to another", params_type=DeviceParams, factory=make_stage,
                  uses={"other": Role(kind="stage", required=False)}),
    ]


@hookimpl
def scopeweave_workflows():
    return [
        WorkflowSpec(
            name="rec-steps",
            summary="moves a stage in steps",
            params_type=StepParams,
            factory=lambda params, uses: Steps(params, uses["stage"]),
            uses={"stage": Role(kind="stage")},
        )
    ]
'''


@pytest.fixture
def recording_plugin(make_distribution: MakeDist, scopeweave_registry):  # type: ignore[no-untyped-def]
    """Install and register the recording test plugin; return its module."""
    eps = make_distribution("scopeweave-recording", entry_points={"recording": "sw_recording"},
                            modules={"sw_recording": RECORDING_PLUGIN})
    scopeweave_registry.load_entry_points(eps)
    module = sys.modules["sw_recording"]
    module.LOG.clear()
    return module
