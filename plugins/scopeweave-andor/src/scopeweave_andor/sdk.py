"""Opening an Andor sCMOS camera through pylablib, with one clear error when SDK3 is missing."""

from __future__ import annotations

from typing import Any

from scopeweave.errors import ComponentError

__all__ = ["INSTALL_HINT", "open_sdk3_camera"]

INSTALL_HINT = (
    "Install Andor SDK3 or Andor Solis (Windows; they provide atcore.dll and the camera drivers) and connect the "
    "camera; pylablib looks in their install folders, or set pylablib.par['devices/dlls/andor_sdk3'] to the folder."
)


def open_sdk3_camera(index: int) -> Any:
    """Return an opened ``pylablib.devices.Andor.AndorSDK3Camera``.

    Raises
    ------
    ComponentError
        When pylablib or Andor SDK3 is missing, or no camera has that index.
    """
    try:
        from pylablib.devices import Andor
    except ImportError as exc:
        raise ComponentError(
            f"pylablib is not installed ({exc}); install it with `pip install pylablib-lightweight`."
        ) from exc
    try:
        return Andor.AndorSDK3Camera(idx=index)
    except Andor.AndorError as exc:
        raise ComponentError(f"Andor SDK3 camera {index} could not be opened: {exc}") from exc
    except (OSError, AttributeError, ImportError) as exc:
        raise ComponentError(f"Andor SDK3 is not available ({exc}). {INSTALL_HINT}") from exc
