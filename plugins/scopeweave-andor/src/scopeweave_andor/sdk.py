"""Opening an Andor sCMOS camera through pylablib, with one clear error when SDK3 is missing."""

from __future__ import annotations

from typing import Any

from scopeweave_pylablib import open_pylablib_camera

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
    return open_pylablib_camera("Andor", "AndorSDK3Camera", "AndorError", index=index, camera_name="Andor SDK3 camera",
                                sdk_name="Andor SDK3", install_hint=INSTALL_HINT)
