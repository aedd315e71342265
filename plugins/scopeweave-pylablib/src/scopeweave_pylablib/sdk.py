"""Opening a pylablib camera class, with one clear error for each way it can fail."""

from __future__ import annotations

import importlib
from typing import Any

from scopeweave.errors import ComponentError

__all__ = ["PYLABLIB_HINT", "open_pylablib_camera"]

PYLABLIB_HINT = "install it with `pip install pylablib-lightweight`."


def open_pylablib_camera(module: str, camera_class: str, error_class: str, *, index: int, camera_name: str,
                         sdk_name: str, install_hint: str) -> Any:
    """Return ``pylablib.devices.<module>.<camera_class>(idx=index)``, opened.

    pylablib is imported here, never at module import.

    Parameters
    ----------
    module, camera_class, error_class
        Where pylablib keeps the camera class and its device error
        (``"DCAM"``, ``"DCAMCamera"``, ``"DCAMError"``).
    index
        Camera index of the SDK.
    camera_name
        How errors name the camera (``"Hamamatsu DCAM camera"``).
    sdk_name, install_hint
        How errors name the vendor SDK, and how to install it.

    Raises
    ------
    ComponentError
        When pylablib or the vendor SDK is missing, or no camera has that index.
    """
    try:
        importlib.import_module("pylablib.devices")
        devices = importlib.import_module(f"pylablib.devices.{module}")
    except ImportError as exc:
        raise ComponentError(f"pylablib is not installed ({exc}); {PYLABLIB_HINT}") from exc
    device_error: type[Exception] = getattr(devices, error_class)
    try:
        return getattr(devices, camera_class)(idx=index)
    except device_error as exc:
        raise ComponentError(f"{camera_name} {index} could not be opened: {exc}") from exc
    except (OSError, AttributeError, ImportError) as exc:
        raise ComponentError(f"{sdk_name} is not available ({exc}). {install_hint}") from exc
