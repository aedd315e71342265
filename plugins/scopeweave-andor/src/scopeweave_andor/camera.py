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
from scopeweave_pylablib import PylablibCamera, at_least, bit_depth, check_roi_divides_binning, positive, roi_px

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
class AndorParams:
    """Parameters of the ``andor`` camera.

    Attributes
    ----------
    pixel_size_um
        Size of one unbinned camera pixel in the sample plane (6.5 um / M on
        a Zyla 4.2 behind an M-fold objective).
    camera_index
        Andor SDK3 camera index (0: the first camera found).
    exposure_ms
        Exposure time; SDK3 clips it to the camera's range, and the camera's
        ``exposure_ms`` reports the value it uses.
    roi_px
        ``(x, y, width, height)`` of the AOI in unbinned sensor pixels; empty
        uses the full sensor.
    binning
        Binning factor, same on both axes (1 to 8).
    trigger_mode
        ``internal`` (free running), ``external`` (an input pulse starts each
        frame), ``software`` (scopeweave fires a trigger for every frame),
        ``external_start`` or ``external_exposure`` (the pulse width sets the
        exposure).
    frame_timeout_ms
        Longest wait for one frame before an error (also bounds the wait for
        an external trigger).
    buffer_frames
        Frames in the ring buffer of sequence acquisitions.
    bit_depth
        Digitiser depth; empty reads it from the camera (``BitDepth``).
    """

    pixel_size_um: float = attrs.field(validator=positive)
    camera_index: int = attrs.field(default=0, validator=at_least(0))
    exposure_ms: float = attrs.field(default=10.0, validator=positive)
    roi_px: tuple[int, int, int, int] | None = attrs.field(default=None, validator=roi_px)
    binning: int = attrs.field(default=1, validator=at_least(1))
    trigger_mode: TriggerMode = "internal"
    frame_timeout_ms: float = attrs.field(default=5000.0, validator=positive)
    buffer_frames: int = attrs.field(default=100, validator=at_least(2))
    bit_depth: int | None = attrs.field(default=None, validator=bit_depth)

    def __attrs_post_init__(self) -> None:
        check_roi_divides_binning(self)


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
