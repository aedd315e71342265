"""The plugin registry: entry-point discovery, isolation of broken plugins, lookup.

Environment variables
---------------------
``SCOPEWEAVE_STRICT_PLUGINS=1``
    A plugin that fails to import, or whose hook raises, is an error instead
    of a warning (on in the test suites).
``SCOPEWEAVE_DISABLE_PLUGINS=a,b``
    Entry-point or distribution names that are not loaded (listed as blocked).
"""

from __future__ import annotations

import importlib.metadata
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType, ModuleType
from typing import Any, Literal

import attrs
import pluggy

from scopeweave import __version__
from scopeweave.errors import PluginError, PluginLoadError, UnknownComponentError
from scopeweave.hookspecs import HOOK_OF_KIND, PROJECT_NAME, ScopeweaveSpecs
from scopeweave.specs import KINDS, ComponentSpec, spec_class_for_kind

__all__ = [
    "BLOCK_ENV",
    "ENTRY_POINT_GROUP",
    "STRICT_ENV",
    "PluginInfo",
    "PluginStatus",
    "Registry",
    "get_registry",
]

ENTRY_POINT_GROUP = "scopeweave.plugins"
STRICT_ENV = "SCOPEWEAVE_STRICT_PLUGINS"
BLOCK_ENV = "SCOPEWEAVE_DISABLE_PLUGINS"
CORE_DISTRIBUTION = "scopeweave"

PluginStatus = Literal["active", "broken", "blocked"]


class PluginWarning(UserWarning):
    """A plugin was skipped because it is broken."""


def strict_from_env() -> bool:
    """Whether ``SCOPEWEAVE_STRICT_PLUGINS`` asks for strict mode."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def blocked_from_env() -> frozenset[str]:
    """Names listed in ``SCOPEWEAVE_DISABLE_PLUGINS``."""
    return frozenset(n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip())


@attrs.frozen(kw_only=True)
class PluginInfo:
    """One plugin as ``scopeweave plugins list`` shows it."""

    name: str
    distribution: str
    version: str
    status: PluginStatus
    reason: str = ""
    entry_point: str = ""
    provides: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "reason": self.reason,
            "entry_point": self.entry_point,
            "provides": {kind: list(names) for kind, names in self.provides.items()},
        }


@attrs.define
class _Source:
    name: str
    distribution: str
    version: str
    entry_point: str = ""
    status: PluginStatus = "active"
    reason: str = ""


class Registry:
    """Plugins and the components they register.

    Parameters
    ----------
    strict
        Raise instead of warning when a plugin is broken; default from
        ``SCOPEWEAVE_STRICT_PLUGINS``.
    blocked
        Entry-point or distribution names not to load; default from
        ``SCOPEWEAVE_DISABLE_PLUGINS``.
    """

    def __init__(self, *, strict: bool | None = None, blocked: Iterable[str] | None = None) -> None:
        self.strict = strict_from_env() if strict is None else strict
        self.blocked = blocked_from_env() if blocked is None else frozenset(blocked)
        self._pm = pluggy.PluginManager(PROJECT_NAME)
        self._pm.add_hookspecs(ScopeweaveSpecs)
        self._sources: dict[str, _Source] = {}
        self._specs: dict[str, dict[str, ComponentSpec]] | None = None
        self._conflicts: dict[tuple[str, str], str] = {}

    # --- loading -------------------------------------------------------------
    @classmethod
    def discover(cls, *, strict: bool | None = None, blocked: Iterable[str] | None = None) -> Registry:
        """A registry with the built-in plugins and every installed entry point."""
        registry = cls(strict=strict, blocked=blocked)
        registry.register_builtins()
        registry.load_entry_points()
        return registry

    def register_builtins(self) -> None:
        """Register the core's own pieces, through the same hooks as any plugin."""
        from scopeweave import builtin

        self.register(builtin, name="scopeweave", distribution=CORE_DISTRIBUTION, version=__version__)

    def load_entry_points(self, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None) -> None:
        """Load each entry point of :data:`ENTRY_POINT_GROUP` in isolation."""
        if entry_points is None:
            entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in sorted(entry_points, key=lambda e: e.name):
            dist_name = ep.dist.name if ep.dist is not None else "?"
            version = ep.dist.version if ep.dist is not None else "?"
            source = _Source(ep.name, dist_name, version, entry_point=f"{ep.name} = {ep.value}")
            if ep.name in self._sources:
                self._fail(source, f"entry point name {ep.name!r} is already used by "
                           f"distribution {self._sources[ep.name].distribution!r}")
                continue
            if ep.name in self.blocked or dist_name in self.blocked:
                source.status, source.reason = "blocked", f"blocked by {BLOCK_ENV}"
                self._sources[ep.name] = source
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - isolate any import failure
                self._fail(source, f"failed to import: {type(exc).__name__}: {exc}", exc)
                continue
            self._add(plugin, source)

    def register(
        self, plugin: object, *, name: str, distribution: str = "<test>", version: str = "0"
    ) -> None:
        """Register a plugin object (a module or instance with hook implementations)."""
        if name in self._sources:
            raise PluginError(f"a plugin named {name!r} is already registered "
                              f"(distribution {self._sources[name].distribution!r}).")
        self._add(plugin, _Source(name, distribution, version))

    def unregister(self, name: str) -> None:
        """Remove a plugin registered under ``name``."""
        self._sources.pop(name, None)
        if self._pm.get_plugin(name) is not None:
            self._pm.unregister(name=name)
        self._specs = None

    def _add(self, plugin: object, source: _Source) -> None:
        try:
            self._pm.register(plugin, name=source.name)
            self._pm.check_pending()
        except Exception as exc:  # noqa: BLE001 - pluggy validation errors
            if self._pm.get_plugin(source.name) is not None:
                self._pm.unregister(name=source.name)
            self._fail(source, f"invalid hooks: {exc}", exc)
            return
        self._sources[source.name] = source
        self._specs = None

    def _fail(self, source: _Source, reason: str, exc: BaseException | None = None) -> None:
        source.status, source.reason = "broken", reason
        self._sources[source.name] = source
        message = f"scopeweave plugin {source.name!r} ({source.distribution} {source.version}) {reason}"
        if self.strict:
            raise PluginLoadError(message) from exc
        warnings.warn(message + "; it is skipped.", PluginWarning, stacklevel=3)

    # --- collecting registrations ----------------------------------------
    def _collect(self) -> dict[str, dict[str, ComponentSpec]]:
        if self._specs is not None:
            return self._specs
        specs: dict[str, dict[str, ComponentSpec]] = {kind: {} for kind in KINDS}
        owners: dict[tuple[str, str], str] = {}
        self._conflicts = {}
        collected: dict[str, list[tuple[str, ComponentSpec]]] = {}
        for plugin_name in sorted(self._active_names()):
            try:
                collected[plugin_name] = list(self._specs_of_plugin(plugin_name))
            except PluginError as exc:
                self._fail(self._sources[plugin_name], str(exc), exc)
        for plugin_name, items in collected.items():
            for kind, spec in items:
                key = (kind, spec.name)
                if key in owners:
                    first = self._sources[owners[key]].distribution
                    second = self._sources[plugin_name].distribution
                    message = (f"{kind} {spec.name!r} is registered by both distribution {first!r} "
                               f"and distribution {second!r}; uninstall or block one of them "
                               f"({BLOCK_ENV}).")
                    if self.strict:
                        raise PluginError(message)
                    warnings.warn(message, PluginWarning, stacklevel=3)
                    self._conflicts[key] = message
                    specs[kind].pop(spec.name, None)
                    continue
                owners[key] = plugin_name
                if key not in self._conflicts:
                    specs[kind][spec.name] = spec
        self._specs = {kind: dict(sorted(found.items())) for kind, found in specs.items()}
        self._owners = owners
        return self._specs

    def _active_names(self) -> Iterator[str]:
        for name, source in self._sources.items():
            if source.status == "active":
                yield name

    def _specs_of_plugin(self, plugin_name: str) -> Iterator[tuple[str, ComponentSpec]]:
        plugin = self._pm.get_plugin(plugin_name)
        for kind, hook_name in HOOK_OF_KIND.items():
            expected = spec_class_for_kind(kind)
            for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                try:
                    returned = list(impl.function() or ())
                except Exception as exc:
                    raise PluginError(f"hook {hook_name} raised {type(exc).__name__}: {exc}") from exc
                for spec in returned:
                    if not isinstance(spec, expected):
                        raise PluginError(f"hook {hook_name} returned {spec!r}; expected {expected.__name__} objects")
                    yield kind, spec

    # --- queries -------------------------------------------------------------
    def specs(self, kind: str) -> Mapping[str, ComponentSpec]:
        """Registered components of ``kind``, by name, sorted."""
        spec_class_for_kind(kind)
        return MappingProxyType(self._collect()[kind])

    def get(self, kind: str, name: str) -> ComponentSpec:
        """The registration of ``kind`` named ``name``, or a helpful error."""
        found = self.specs(kind)
        if name in found:
            return found[name]
        raise UnknownComponentError(self.explain_unknown(kind, name))

    def explain_unknown(self, kind: str, name: str) -> str:
        """Why ``name`` is not an available ``kind``: what is installed and what failed to load."""
        if (kind, name) in self._conflicts:
            return self._conflicts[(kind, name)]
        available = ", ".join(self.specs(kind)) or "none"
        message = (f"no {kind} named {name!r} (available: {available}); "
                   f"the plugin providing it may not be installed")
        failures = [s for s in self._sources.values() if s.status != "active"]
        if failures:
            notes = "; ".join(
                f"plugin {s.name!r} ({s.distribution} {s.version}) is {s.status}: {s.reason}" for s in failures
            )
            message += f" — note: {notes}"
        return message + ". Run `scopeweave plugins list`."

    def distribution_of(self, kind: str, name: str) -> tuple[str, str]:
        """``(distribution, version)`` that registered a component."""
        self._collect()
        source = self._sources[self._owners[(kind, name)]]
        return source.distribution, source.version

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen, active, broken or blocked, sorted by name."""
        self._collect()
        provides: dict[str, dict[str, list[str]]] = {}
        for (kind, name), plugin_name in self._owners.items():
            provides.setdefault(plugin_name, {}).setdefault(kind, []).append(name)
        infos = []
        for name, source in sorted(self._sources.items()):
            mine = provides.get(name, {})
            infos.append(
                PluginInfo(
                    name=name,
                    distribution=source.distribution,
                    version=source.version,
                    status=source.status,
                    reason=source.reason,
                    entry_point=source.entry_point,
                    provides={kind: tuple(sorted(mine[kind])) for kind in KINDS if kind in mine},
                )
            )
        return infos

    def register_commands(self, cli: Any) -> None:
        """Let every active plugin add click subcommands (broken ones are isolated)."""
        for impl in self._pm.hook.scopeweave_register_commands.get_hookimpls():
            try:
                impl.function(cli=cli)
            except Exception as exc:  # noqa: BLE001
                self._fail(self._sources[impl.plugin_name], f"hook scopeweave_register_commands raised "
                           f"{type(exc).__name__}: {exc}", exc)
                self._specs = None

    def plugin_module(self, name: str) -> ModuleType | object | None:
        """The registered plugin object, or ``None``."""
        return self._pm.get_plugin(name)


_default: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, discovered on first use."""
    global _default
    if _default is None:
        _default = Registry.discover()
    return _default


def set_registry(registry: Registry | None) -> None:
    """Replace the process-wide registry (tests); ``None`` forces rediscovery."""
    global _default
    _default = registry
