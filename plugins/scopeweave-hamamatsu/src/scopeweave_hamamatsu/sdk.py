"""Opening an ORCA through pylablib, with one clear error when DCAM-API is missing."""

from __future__ import annotations

from typing import Any

from scopeweave_pylablib import open_pylablib_camera

__all__ = ["INSTALL_HINT", "open_dcam_camera"]

INSTALL_HINT = (
    "Install Hamamatsu DCAM-API (https://dcam-api.com, Windows; it provides dcamapi.dll) and connect the camera; "
    "pylablib looks for the DLL on the system path, or set pylablib.par['devices/dlls/dcamapi'] to its folder."
)


def open_dcam_camera(index: int) -> Any:
    """Return an opened ``pylablib.devices.DCAM.DCAMCamera``.

    Raises
    ------
    ComponentError
        When pylablib or DCAM-API is missing, or no camera has that index.
    """
    return open_pylablib_camera("DCAM", "DCAMCamera", "DCAMError", index=index, camera_name="Hamamatsu DCAM camera",
                                sdk_name="Hamamatsu DCAM-API", install_hint=INSTALL_HINT)
