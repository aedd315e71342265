"""Opening an ORCA through pylablib, with one clear error when DCAM-API is missing."""

from __future__ import annotations

from typing import Any

from scopeweave.errors import ComponentError

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
    try:
        from pylablib.devices import DCAM
    except ImportError as exc:
        raise ComponentError(
            f"pylablib is not installed ({exc}); install it with `pip install pylablib-lightweight`."
        ) from exc
    try:
        return DCAM.DCAMCamera(idx=index)
    except DCAM.DCAMError as exc:
        raise ComponentError(f"Hamamatsu DCAM camera {index} could not be opened: {exc}") from exc
    except (OSError, AttributeError, ImportError) as exc:
        raise ComponentError(f"Hamamatsu DCAM-API is not available ({exc}). {INSTALL_HINT}") from exc
