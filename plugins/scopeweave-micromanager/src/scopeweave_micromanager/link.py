"""A component's link to one device of a shared Micro-Manager core."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal

import attrs

from scopeweave.errors import ComponentError
from scopeweave_micromanager.core_cache import CORES, SharedCore

__all__ = ["DeviceLink", "DeviceRole"]

DeviceRole = Literal["camera", "focus", "xy"]


@attrs.frozen
class _RoleInfo:
    noun: str
    device_type: str  # name of the pymmcore_plus.DeviceType member
    current_getter: str  # core method returning the config's device for this role
    core_property: str  # the config line that selects it


_ROLES: dict[str, _RoleInfo] = {
    "camera": _RoleInfo("camera", "CameraDevice", "getCameraDevice", "Core-Camera"),
    "focus": _RoleInfo("focus stage", "StageDevice", "getFocusDevice", "Core-Focus"),
    "xy": _RoleInfo("XY stage", "XYStageDevice", "getXYStageDevice", "Core-XYStage"),
}


class DeviceLink:
    """Opens the shared core of ``config_path`` and finds the device to drive.

    Parameters
    ----------
    config_path
        Micro-Manager configuration file.
    mm_path
        Micro-Manager folder for C++ adapters (``None``: pymmcore-plus' discovery).
    device
        Device label; ``None`` takes the one the configuration assigns to the role.
    role
        ``camera``, ``focus`` or ``xy``.
    """

    def __init__(self, *, config_path: str, mm_path: str | None, device: str | None, role: DeviceRole) -> None:
        self.config_path = config_path
        self.mm_path = mm_path
        self.device = device
        self.role = _ROLES[role]
        self._shared: SharedCore | None = None
        self.label = ""

    @property
    def shared(self) -> SharedCore:
        """The shared core (while open)."""
        if self._shared is None:
            raise RuntimeError("the Micro-Manager core is not open; call initialize() first.")
        return self._shared

    @property
    def core(self) -> Any:
        """The ``UniMMCore`` (while open)."""
        return self.shared.core

    def open(self) -> None:
        """Acquire the shared core and resolve the device label."""
        self._shared = CORES.acquire(self.config_path, self.mm_path)
        try:
            self.label = self._resolve_label()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the shared core (the last user unloads it)."""
        shared, self._shared = self._shared, None
        if shared is not None:
            CORES.release(shared)

    def _resolve_label(self) -> str:
        from pymmcore_plus import DeviceType

        core = self.core
        role = self.role
        device_type = DeviceType[role.device_type]
        available = list(core.getLoadedDevicesOfType(device_type))
        label = self.device or getattr(core, role.current_getter)()
        if not label:
            raise ComponentError(
                f"Micro-Manager config {self.config_path!r} assigns no {role.noun} ({role.core_property}); set "
                f"'device' to one of: {', '.join(available) or 'none loaded'}."
            )
        if label not in available:
            raise ComponentError(
                f"Micro-Manager config {self.config_path!r} has no {role.noun} named {label!r} "
                f"({role.noun}s: {', '.join(available) or 'none'})."
            )
        return str(label)

    @contextlib.contextmanager
    def calls(self, action: str) -> Iterator[None]:
        """Serialise core calls and turn their errors into :class:`ComponentError`."""
        with self.shared.lock:
            try:
                yield
            except ComponentError:
                raise
            except Exception as exc:  # MMCore raises RuntimeError, Python devices anything
                message = " ".join(str(exc).split()) or type(exc).__name__
                raise ComponentError(f"Micro-Manager {self.role.noun} {self.label!r}: {action} failed: "
                                     f"{message}") from exc
