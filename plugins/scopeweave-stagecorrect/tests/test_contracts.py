"""The plugin against the core's contracts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scopeweave_stagecorrect.corrector import StoredCorrector

from scopeweave.testing import RegistrationContract, StageCorrectorContract


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_stagecorrect.plugin"
    forbidden_imports = ("aicspylibczi", "m2stitch", "scipy", "tifffile", "scopeweave_stagecorrect.workflows")


class TestLutAffineContract(StageCorrectorContract):
    @pytest.fixture
    def corrector(self, make_corrector: Callable[..., StoredCorrector]) -> StoredCorrector:
        return make_corrector("lut-affine")


class TestLutAffineHoldInMemoryContract(StageCorrectorContract):
    @pytest.fixture
    def corrector(self, make_corrector: Callable[..., StoredCorrector]) -> StoredCorrector:
        return make_corrector("lut-affine", settings_path=":memory:", idle_axis="hold", preset="identity")


class TestBacklashStateContract(StageCorrectorContract):
    @pytest.fixture
    def corrector(self, make_corrector: Callable[..., StoredCorrector]) -> StoredCorrector:
        return make_corrector("backlash-state")


def test_components_are_built_through_the_registry(scopeweave_registry: object, tmp_path: object) -> None:
    from scopeweave.kinds import StageCorrector

    for name in ("lut-affine", "backlash-state"):
        spec = scopeweave_registry.get("stage_corrector", name)  # type: ignore[attr-defined]
        component = spec.build(spec.params_type(settings_path=":memory:"), {})
        assert isinstance(component, StageCorrector)
        assert component.status().startswith("No corrections learned yet")
