"""The camera as the GUI's lock runner sees it: whole frames for the live view.

:class:`~scopeweave_focuslock.lock.runner.FocusLockRunner` pushes its ROI to
the camera (a hardware sub-array is faster headless) and its reader crops a
whole frame itself when the shapes differ.  The GUI shows the whole sensor
with the ROI drawn on it, so it hands the runner this view: ROI requests are
recorded instead of applied, and the last frame is kept for display.
"""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from scopeweave.kinds import Camera, Roi

__all__ = ["FullFrameCamera"]


class FullFrameCamera:
    """Delegates to ``camera`` except :meth:`set_roi` (recorded) and :meth:`snap` (kept).

    Parameters
    ----------
    camera
        A started camera; its own ROI is reset to the full sensor.
    """

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        camera.set_roi(None)
        self.requested_roi: Roi | None = None
        self.last_frame: NDArray[Any] | None = None

    def set_roi(self, roi: Roi | None) -> None:
        """Record the ROI the runner measures in; the camera keeps delivering whole frames."""
        self.requested_roi = roi

    def snap(self) -> NDArray[Any]:
        """One whole frame (kept as :attr:`last_frame`)."""
        frame = self.camera.snap()
        self.last_frame = frame
        return frame

    def __getattr__(self, name: str) -> Any:
        return getattr(self.camera, name)
