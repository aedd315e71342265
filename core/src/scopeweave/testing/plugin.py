"""The pytest11 entry point of scopeweave: fixtures for plugin test suites."""

from scopeweave.testing.fixtures import empty_registry, register_plugin, scopeweave_registry

__all__ = ["empty_registry", "register_plugin", "scopeweave_registry"]
