"""The `mcl` stage in sessions: registration, example files, a run without hardware."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pytest
import tifffile

from scopeweave.registry import Registry
from scopeweave.session import load_session, run_session
from scopeweave.testing import RegistrationContract

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sessions"


def _registry(*names: str) -> Registry:
    registry = Registry(strict=True, blocked=())
    registry.register_builtins()
    found = [ep for ep in importlib.metadata.entry_points(group="scopeweave.plugins") if ep.name in names]
    missing = set(names) - {ep.name for ep in found}
    if missing:
        pytest.skip(f"plugins not installed: {', '.join(sorted(missing))}")
    registry.load_entry_points(found)
    return registry


def test_registered_through_the_entry_point() -> None:
    registry = _registry("mcl")
    assert registry.distribution_of("stage", "mcl")[0] == "scopeweave-mcl"


@pytest.mark.parametrize("name", ["hw-orca.toml", "hw-andor.toml", "hw-mcl-memory.toml"])
def test_examples_validate_without_hardware(name: str, no_installed_madlib: None) -> None:
    plan = load_session(EXAMPLES / name, _registry("sim", "mcl", "hamamatsu", "andor"))
    assert any(c.spec.name == "mcl" for c in plan.components)


def test_memory_example_runs(tmp_path: Path) -> None:
    registry = _registry("sim", "mcl")
    plan = load_session(EXAMPLES / "hw-mcl-memory.toml", registry)
    outcome = run_session(plan, registry, output_root=tmp_path)
    assert outcome.status == "ok"
    results = outcome.report["results"]
    assert results["returned_to_um"] == pytest.approx(100.0, abs=200.0 / 2**20)
    assert results["z_start_um"] == pytest.approx(99.2, abs=1e-3)
    stack = tifffile.imread(outcome.run_dir / "zstack.tif")
    assert stack.shape == (9, 32, 32)
    # the simulated bead is in focus at 100 um: the central plane is the brightest
    assert int(np.argmax(stack.reshape(9, -1).max(axis=1))) == 4


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_mcl.plugin"
    forbidden_imports = ("MCL_Madlib_Wrapper",)
