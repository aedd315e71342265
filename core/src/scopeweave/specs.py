"""Registration objects: what a plugin's hooks return.

Each hook of :mod:`scopeweave.hookspecs` returns an iterable of these frozen
records (the ``conda.plugins`` pattern).  A record names a component, points at
its parameter class and holds a lazy ``factory``; nothing is constructed, and no
vendor SDK is imported, until a session asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

__all__ = [
    "KINDS",
    "CameraSpec",
    "ComponentSpec",
    "DiffractionMapperSpec",
    "FocusModelSpec",
    "FrameMetricSpec",
    "LocalizerSpec",
    "NoParams",
    "Role",
    "StageCorrectorSpec",
    "StageSpec",
    "WorkflowSpec",
    "spec_class_for_kind",
]

#: Component kinds, in the order they are listed to users.
KINDS: tuple[str, ...] = (
    "camera",
    "stage",
    "focus_model",
    "frame_metric",
    "localizer",
    "diffraction_mapper",
    "stage_corrector",
    "workflow",
)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@attrs.frozen(kw_only=True)
class NoParams:
    """Parameter class for components that take no parameters."""


def _check_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ValueError(
            f"'{attribute.name}' must match {_NAME_RE.pattern!r} "
            f"(lower-case letters, digits, '-' and '_') (got {value!r})."
        )


def _check_params_type(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not (isinstance(value, type) and attrs.has(value)):
        raise TypeError(f"'{attribute.name}' must be an attrs class (got {value!r}).")
    if value.__setattr__ is object.__setattr__:
        raise TypeError(
            f"'{attribute.name}' must be a frozen attrs class "
            f"(got {value.__qualname__}, which is mutable)."
        )


def _check_kind(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in KINDS:
        raise ValueError(f"'{attribute.name}' must be one of {KINDS} (got {value!r}).")


@attrs.frozen(kw_only=True)
class Role:
    """A component another component or a workflow takes through ``uses``.

    Parameters
    ----------
    kind
        The kind the wired component must have (``"camera"``, ``"stage"``, ...).
    required
        Whether the session must wire this role.
    summary
        One line shown by ``scopeweave plugins show``.
    """

    kind: str = attrs.field(validator=_check_kind)
    required: bool = True
    summary: str = ""


def _freeze_roles(value: Mapping[str, Role]) -> Mapping[str, Role]:
    return MappingProxyType(dict(value))


def _check_roles(
    instance: object, attribute: attrs.Attribute[Mapping[str, Role]], value: Mapping[str, Role]
) -> None:
    for role, spec in value.items():
        if not isinstance(role, str) or not _NAME_RE.match(role):
            raise ValueError(f"'{attribute.name}' role names must match {_NAME_RE.pattern!r} (got {role!r}).")
        if not isinstance(spec, Role):
            raise TypeError(f"'{attribute.name}[{role!r}]' must be a Role (got {spec!r}).")


@attrs.frozen(kw_only=True)
class ComponentSpec:
    """Base registration record.

    Parameters
    ----------
    name
        Unique name within its kind, e.g. ``"sim-astigmatic"``.
    summary
        One line for ``scopeweave plugins list``.
    factory
        ``factory(params, uses)`` builds the component from an instance of
        ``params_type`` and a mapping of role name to the wired components.
        Import vendor SDKs inside it, never at module import time.
    params_type
        Frozen attrs class of keyword-only, unit-suffixed fields.
    uses
        Roles this component takes from other components.
    """

    kind: ClassVar[str]

    name: str = attrs.field(validator=_check_name)
    summary: str
    factory: Callable[[Any, Mapping[str, Any]], Any] = attrs.field(
        validator=attrs.validators.is_callable()
    )
    params_type: type = attrs.field(default=NoParams, validator=_check_params_type)
    uses: Mapping[str, Role] = attrs.field(
        factory=dict, converter=_freeze_roles, validator=_check_roles
    )

    def build(self, params: Any, uses: Mapping[str, Any]) -> Any:
        """Call the factory; ``params`` must be an instance of ``params_type``."""
        if not isinstance(params, self.params_type):
            raise TypeError(
                f"{self.kind} {self.name!r}: params must be {self.params_type.__qualname__} "
                f"(got {type(params).__qualname__})."
            )
        return self.factory(params, uses)


@attrs.frozen(kw_only=True)
class CameraSpec(ComponentSpec):
    """A :class:`~scopeweave.kinds.Camera` registration."""

    kind: ClassVar[str] = "camera"


@attrs.frozen(kw_only=True)
class StageSpec(ComponentSpec):
    """A :class:`~scopeweave.kinds.Stage` registration."""

    kind: ClassVar[str] = "stage"


@attrs.frozen(kw_only=True)
class FocusModelSpec(ComponentSpec):
    """A :class:`~scopeweave.kinds.FocusModel` registration."""

    kind: ClassVar[str] = "focus_model"


@attrs.frozen(kw_only=True)
class FrameMetricSpec(ComponentSpec):
    """A :class:`~scopeweave.kinds.FrameMetric` registration."""

    kind: ClassVar[str] = "frame_metric"


@attrs.frozen(kw_only=True)
class LocalizerSpec(ComponentSpec):
    """A :class:`~scopeweave.kinds.Localizer` registration."""

    kind: ClassVar[str] = "localizer"


@attrs.frozen(kw_only=True)
class DiffractionMapperSpec(ComponentSpec):
    """A :class:`~scopeweave.kinds.DiffractionMapper` registration."""

    kind: ClassVar[str] = "diffraction_mapper"


@attrs.frozen(kw_only=True)
class StageCorrectorSpec(ComponentSpec):
    """A :class:`~scopeweave.kinds.StageCorrector` registration."""

    kind: ClassVar[str] = "stage_corrector"


@attrs.frozen(kw_only=True)
class WorkflowSpec(ComponentSpec):
    """A :class:`~scopeweave.kinds.Workflow` registration."""

    kind: ClassVar[str] = "workflow"


_SPEC_CLASSES: dict[str, type[ComponentSpec]] = {
    cls.kind: cls
    for cls in (
        CameraSpec,
        StageSpec,
        FocusModelSpec,
        FrameMetricSpec,
        LocalizerSpec,
        DiffractionMapperSpec,
        StageCorrectorSpec,
        WorkflowSpec,
    )
}


def spec_class_for_kind(kind: str) -> type[ComponentSpec]:
    """Return the registration class of ``kind``."""
    try:
        return _SPEC_CLASSES[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {KINDS} (got {kind!r}).") from None
