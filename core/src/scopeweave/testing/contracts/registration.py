"""Contract for a plugin module: its hooks return valid, buildable registrations."""

from __future__ import annotations

import importlib
import subprocess
import sys
from types import ModuleType

import attrs
import pytest

from scopeweave.hookspecs import HOOK_OF_KIND
from scopeweave.registry import Registry
from scopeweave.specs import spec_class_for_kind


class RegistrationContract:
    """Checks a plugin module.

    Subclasses set ``plugin_module`` (dotted name of the entry-point module) and
    ``forbidden_imports`` (modules, such as vendor SDKs, that importing the
    plugin module must not import).
    """

    plugin_module: str = ""
    forbidden_imports: tuple[str, ...] = ()

    @pytest.fixture
    def module(self) -> ModuleType:
        return importlib.import_module(self.plugin_module)

    def test_registers_in_a_fresh_strict_registry(self, module: ModuleType) -> None:
        registry = Registry(strict=True, blocked=())
        registry.register(module, name="under-test")
        provided = next(info for info in registry.plugins() if info.name == "under-test")
        assert provided.status == "active"
        assert provided.provides, "the plugin registers no component"

    def test_specs_have_the_class_of_their_hook(self, module: ModuleType) -> None:
        for kind, hook in HOOK_OF_KIND.items():
            function = getattr(module, hook, None)
            if function is None:
                continue
            for spec in function():
                assert isinstance(spec, spec_class_for_kind(kind))
                assert spec.summary, f"{kind} {spec.name!r} has no summary"

    def test_params_are_frozen_keyword_only_with_defaults_or_documented(self, module: ModuleType) -> None:
        for _kind, hook in HOOK_OF_KIND.items():
            function = getattr(module, hook, None)
            for spec in function() if function else ():
                for field in attrs.fields(spec.params_type):
                    assert field.kw_only, f"{spec.params_type.__qualname__}.{field.name} must be keyword-only"

    def test_import_is_cheap(self) -> None:
        """Importing the plugin module must not import its vendor SDKs."""
        code = (
            f"import sys, {self.plugin_module}\n"
            f"bad = [m for m in {list(self.forbidden_imports)!r} if m in sys.modules]\n"
            "assert not bad, bad\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
