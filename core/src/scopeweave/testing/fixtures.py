"""Fixtures of the ``scopeweave.testing`` pytest plugin."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from scopeweave.registry import STRICT_ENV, Registry, set_registry


@contextlib.contextmanager
def isolated_registry(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the process-wide one (what the CLI uses) inside the block."""
    set_registry(registry)
    try:
        yield registry
    finally:
        set_registry(None)


@pytest.fixture
def scopeweave_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A fresh strict registry with the built-ins and every installed plugin."""
    monkeypatch.setenv(STRICT_ENV, "1")
    with isolated_registry(Registry.discover(strict=True, blocked=())) as registry:
        yield registry


@pytest.fixture
def empty_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A fresh strict registry with nothing registered."""
    monkeypatch.setenv(STRICT_ENV, "1")
    with isolated_registry(Registry(strict=True, blocked=())) as registry:
        yield registry


@pytest.fixture
def register_plugin(scopeweave_registry: Registry) -> Iterator[Callable[..., None]]:
    """Register plugin objects into ``scopeweave_registry`` for one test."""
    names: list[str] = []

    def register(plugin: object, *, name: str, distribution: str = "<test>") -> None:
        scopeweave_registry.register(plugin, name=name, distribution=distribution)
        names.append(name)

    yield register
    for name in names:
        scopeweave_registry.unregister(name)
