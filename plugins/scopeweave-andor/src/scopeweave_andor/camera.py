"""Andor sCMOS cameras (SDK3) through pylablib's ``AndorSDK3Camera``.

Everything the camera does goes through the pylablib object returned by
:func:`~scopeweave_andor.sdk.open_sdk3_camera`, with the behaviour shared by
the pylablib cameras (:class:`~scopeweave_pylablib.PylablibCamera`):
exposure (pylablib uses seconds; SDK3 clips it to its range), AOI and
binning (``set_roi``), trigger mode, and frame acquisition with the camera's
hardware timestamps (frame metadata, clock ticks divided by
``TimestampClockFrequency``).  ROIs are given in unbinned sensor pixels; a
binned frame has shape ``(height // binning, width // binning)``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import attrs
from scopeweave_pylablib import PylablibCamera, PylablibCameraParams

from scopeweave.errors import ComponentError
from scopeweave_andor.sdk import open_sdk3_camera

__all__ = ["TRIGGER_MODES", "AndorCamera", "AndorParams"]

TriggerMode = Literal["internal", "external", "software", "external_start", "external_exposure"]

#: scopeweave trigger mode -> pylablib Andor SDK3 trigger mode.
TRIGGER_MODES: dict[str, str] = {
    "internal": "int",
    "external": "ext",
    "software": "software",
    "external_start": "ext_start",
    "external_exposure": "ext_exp",
}


@attrs.frozen(kw_only=True)
class AndorParams(PylablibCameraParams):
    """Parameters of the ``andor`` camera: those of every pylablib camera, with SDK3's trigger modes.

    The entries below say what is specific to the Andor; the other fields are
    documented on :class:`~scopeweave_pylablib.PylablibCameraParams`.

    Attributes
    ----------
    pixel_size_um
        Size of one unbinned camera pixel in the sample plane (6.5 um / M on
        a Zyla 4.2 behind an M-fold objective).
    exposure_ms
        Exposure time; SDK3 clips it to the camera's range, and the camera's
        ``exposure_ms`` reports the value it uses.
    binning
        Binning factor, same on both axes (1 to 8).
    trigger_mode
        ``internal`` (free running), ``external`` (an input pulse starts each
        frame), ``software`` (scopeweave fires a trigger for every frame),
        ``external_start`` or ``external_exposure`` (the pulse width sets the
        exposure).
    bit_depth
        Digitiser depth; empty reads it from the camera (``BitDepth``).
    """

    trigger_mode: TriggerMode = "internal"


class AndorCamera(PylablibCamera):
    """An Andor sCMOS camera (any SDK3 camera) behind pylablib."""

    vendor = "Andor"
    trigger_mode_names = TRIGGER_MODES
    bit_depth_attribute = "BitDepth"
    roi_hint = "keep the AOI above the camera's minimum size and use a supported binning."

    def __init__(self, params: AndorParams) -> None:
        super().__init__(params)
        self.timestamp_clock_hz = math.nan

    def _open(self) -> Any:
        return open_sdk3_camera(self.params.camera_index)

    def _prepare(self) -> None:
        """Stream frame metadata with the hardware timestamp, clock reset to zero now."""
        cam = self._cam
        if not cam.enable_metadata(True):
            raise ComponentError("the camera does not stream frame metadata, so frames would have no timestamps.")
        cam.set_attribute_value("MetadataTimestamp", True, error_on_missing=False)
        cam.call_command("TimestampClockReset")
        self.timestamp_clock_hz = float(cam.get_attribute_value("TimestampClockFrequency"))
        if not self.timestamp_clock_hz > 0:
            raise ComponentError(f"the camera reports a timestamp clock of {self.timestamp_clock_hz} Hz.")

    def _fire_software_trigger(self) -> None:
        self._cam.call_command("SoftwareTrigger")

    def _timestamp_s(self, info: Any) -> float:
        """Hardware timestamp ticks in seconds since the clock was reset."""
        return float(info.timestamp_dev) / self.timestamp_clock_hz
