"""A faithful fake of pylablib's common camera interface, for the vendor plugins' tests.

:class:`FakePylablibCamera` keeps the state every pylablib camera keeps
(exposure, ROI and binning, trigger mode, acquisition and ring buffer, frame
counter), checks its arguments the way pylablib does (trigger mode names,
acquisition and wait modes) and raises the vendor's own pylablib errors.  A
vendor subclass, in the plugin's ``tests/conftest.py``, names those errors, its
trigger modes and its exposure timing, and implements what its SDK does its own
way: the exposure range, the ROI grid, device information and attributes,
software triggers and frame information.

Frames are the known scene of :func:`~scopeweave_pylablib.testing.scene.expected_frame`.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_pylablib.testing.scene import expected_frame

__all__ = ["FakePylablibCamera", "FakeSensor"]

Roi6 = tuple[int, int, int, int, int, int]


@attrs.define(kw_only=True)
class FakeSensor:
    """One connected camera: what a test controls and inspects (a vendor subclass adds its own fields)."""

    width: int = 64
    height: int = 48
    #: External trigger pulses still to come.
    external_pulses: int = 0
    #: Internal trigger: frames the camera delivers per wait (a burst can overflow the ring buffer).
    frames_per_wait: int | None = None
    #: The fake camera that has it open.
    opened_by: Any = None
    #: ``(method, arguments)`` of the calls that change the camera.
    calls: list[tuple[str, Any]] = attrs.field(factory=list)


class FakePylablibCamera(abc.ABC):
    """Stands in for a pylablib camera class (``DCAM.DCAMCamera``, ``Andor.AndorSDK3Camera``).

    A vendor subclass sets the class attributes, implements the abstract
    methods, and adds the SDK's own methods the camera calls, with pylablib's
    signatures (``get_attribute_value``; the software trigger, which calls
    :meth:`_software_trigger`; metadata, commands).
    """

    #: Where pylablib keeps the real class (``"pylablib.devices.DCAM.DCAMCamera"``).
    pylablib_class: ClassVar[str]
    #: The fake sensor of the vendor.
    sensor_class: ClassVar[type[FakeSensor]]
    #: The vendor's pylablib device error and timeout (read by the camera as ``Error`` and ``TimeoutError``).
    Error: ClassVar[type[Exception]]
    TimeoutError: ClassVar[type[Exception]]
    #: pylablib trigger mode names of the SDK.
    triggers: ClassVar[tuple[str, ...]]
    #: Exposure granularity and readout time of one sensor row, in seconds.
    row_time_s: ClassVar[float]
    #: Shortest and longest exposure, in seconds.
    exposure_range_s: ClassVar[tuple[float, float]]
    #: Why a camera that is already open cannot be opened.
    busy_message: ClassVar[str]
    #: The connected cameras, by index (set by :class:`~scopeweave_pylablib.testing.FakePylablib`).
    sensors: ClassVar[list[FakeSensor]] = []

    def __init__(self, idx: int = 0) -> None:
        if not isinstance(idx, int) or idx < 0:
            raise TypeError(f"idx must be a non-negative int (got {idx!r})")
        if idx >= len(self.sensors):
            raise self.Error(f"camera index {idx} is not available ({len(self.sensors)} cameras exist)")
        self.sensor = self.sensors[idx]
        if self.sensor.opened_by is not None:
            raise self.Error(self.busy_message)
        self.sensor.opened_by = self
        self.handle: int | None = 1
        self.exposure_s = 0.01
        self.trigger = "int"
        self.roi: Roi6 = (0, self.sensor.width, 0, self.sensor.height, 1, 1)
        self.acq: dict[str, Any] | None = None
        self.acquiring = False
        self.buffer: list[tuple[NDArray[np.uint16], Any]] = []
        self.acquired = 0
        self.read_upto = 0
        self.pending_triggers = 0

    # --- vendor hooks ------------------------------------------------------------------
    @abc.abstractmethod
    def get_device_info(self) -> Any:
        """pylablib's ``TDeviceInfo`` of the vendor."""

    @abc.abstractmethod
    def _limit_exposure(self, exposure: float) -> float:
        """The exposure the SDK takes for ``exposure`` seconds before rounding (clipped, or refused)."""

    @abc.abstractmethod
    def _truncate_roi(self, hstart: int, hend: int | None, vstart: int, vend: int | None, hbin: int, vbin: int) -> Roi6:
        """The ROI the SDK applies for the requested one (pylablib truncates to the camera's grid)."""

    @abc.abstractmethod
    def _frame_info(self, frame: NDArray[np.uint16]) -> Any:
        """pylablib's frame info of the frame just exposed; advances the camera clock by :meth:`_frame_period_s`."""

    # --- connection ----------------------------------------------------------------------
    def _log(self, name: str, *args: Any) -> None:
        self.sensor.calls.append((name, args))

    def _require_open(self) -> None:
        if self.handle is None:
            raise self.Error("camera is closed")

    def close(self) -> None:
        self._log("close")
        if self.handle is not None:
            self.clear_acquisition()
            self.sensor.opened_by = None
        self.handle = None

    def is_opened(self) -> bool:
        return self.handle is not None

    def get_detector_size(self) -> tuple[int, int]:
        self._require_open()
        return (self.sensor.width, self.sensor.height)

    # --- settings ----------------------------------------------------------------------------
    def set_exposure(self, exposure: float) -> float:
        self._require_open()
        self._log("set_exposure", exposure)
        if isinstance(exposure, bool) or not isinstance(exposure, (int, float)):
            raise TypeError(f"exposure must be a number of seconds (got {exposure!r})")
        self.exposure_s = round(self._limit_exposure(exposure) / self.row_time_s) * self.row_time_s
        return self.get_exposure()

    def get_exposure(self) -> float:
        return self.exposure_s

    def set_trigger_mode(self, mode: str) -> str:
        self._require_open()
        self._log("set_trigger_mode", mode)
        if mode not in self.triggers:
            raise ValueError(f"unrecognized value {mode!r} for parameter trigger_mode; allowed: {self.triggers}")
        self.trigger = mode
        return self.get_trigger_mode()

    def get_trigger_mode(self) -> str:
        return self.trigger

    def get_roi(self) -> Roi6:
        return self.roi

    def set_roi(self, hstart: int = 0, hend: int | None = None, vstart: int = 0, vend: int | None = None,
                hbin: int = 1, vbin: int = 1) -> Roi6:
        self._require_open()
        self._log("set_roi", hstart, hend, vstart, vend, hbin, vbin)
        self.clear_acquisition()  # pylablib's @acqcleared
        self.roi = self._truncate_roi(hstart, hend, vstart, vend, hbin, vbin)
        return self.get_roi()

    def _frame_period_s(self) -> float:
        """The exposure, or the readout of the ROI's rows when that is longer."""
        return max(self.exposure_s, (self.roi[3] - self.roi[2]) * self.row_time_s)

    # --- acquisition -----------------------------------------------------------------------------
    def setup_acquisition(self, mode: str = "sequence", nframes: int = 100) -> None:
        if mode not in ("sequence", "snap"):
            raise ValueError(f"unrecognized value {mode!r} for parameter acq_mode")
        if not isinstance(nframes, int) or nframes < 1:
            raise ValueError(f"nframes must be a positive int (got {nframes!r})")
        self.acq = {"mode": mode, "nframes": nframes}

    def clear_acquisition(self) -> None:
        self.stop_acquisition()
        self.acq = None
        self.buffer = []

    def start_acquisition(self, mode: str | None = None, nframes: int | None = None) -> None:
        self._require_open()
        self._log("start_acquisition", mode, nframes)
        self.stop_acquisition()
        params = dict(self.acq or {"mode": "sequence", "nframes": 100})
        params.update({k: v for k, v in (("mode", mode), ("nframes", nframes)) if v is not None})
        self.setup_acquisition(**params)
        self.acquiring = True
        self.buffer = []
        self.acquired = 0
        self.read_upto = 0
        self.pending_triggers = 0

    def stop_acquisition(self) -> None:
        if self.acquiring:
            self._log("stop_acquisition")
        self.acquiring = False

    def _software_trigger(self, refusal: str) -> None:
        """Count one software trigger; refused (``refusal``) unless acquiring in software mode."""
        if not self.acquiring or self.trigger != "software":
            raise self.Error(refusal)
        self.pending_triggers += 1

    def _expose(self, count: int) -> None:
        assert self.acq is not None
        hstart, hend, vstart, vend, hbin, _ = self.roi
        for _ in range(count):
            if self.acq["mode"] == "snap" and self.acquired >= self.acq["nframes"]:
                return
            frame = expected_frame(self.sensor.height, self.sensor.width, self.exposure_s,
                                   (hstart, vstart, hend - hstart, vend - vstart), hbin)
            self.buffer.append((frame, self._frame_info(frame)))
            self.buffer = self.buffer[-self.acq["nframes"]:]  # ring buffer: the oldest frames are overwritten
            self.acquired += 1

    def wait_for_frame(self, since: str = "lastread", nframes: int = 1, timeout: float = 20.0,
                       error_on_stopped: bool = False) -> bool:
        if since not in ("lastread", "lastwait", "now", "start"):
            raise ValueError(f"unrecognized value {since!r} for parameter frame_wait_mode")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds (got {timeout!r})")
        if not self.acquiring:
            if error_on_stopped:
                raise self.Error("waiting for a frame while acquisition is stopped")
            return False
        missing = nframes - (self.acquired - self.read_upto)
        if missing > 0:
            if self.trigger in ("int", "master_pulse"):
                self._expose(max(missing, self.sensor.frames_per_wait or 0))
            elif self.trigger == "software":
                fired, self.pending_triggers = self.pending_triggers, 0
                self._expose(fired)
            else:
                pulses = min(self.sensor.external_pulses, missing)
                self.sensor.external_pulses -= pulses
                self._expose(pulses)
        if self.acquired - self.read_upto < nframes:
            raise self.TimeoutError()
        return True

    def read_multiple_images(self, rng: Any = None, peek: bool = False, missing_frame: str = "skip",
                             return_info: bool = False, return_rng: bool = False) -> Any:
        if rng is not None or peek or missing_frame != "skip" or return_rng:
            # The camera must read every new frame, in order, once: anything else is a bug in the camera code.
            raise AssertionError(
                f"PylablibCamera read frames with rng={rng!r}, peek={peek!r}, missing_frame={missing_frame!r}, "
                f"return_rng={return_rng!r}; it must read all new frames with the defaults"
            )
        if not self.acquiring and not self.buffer:
            return (None, None) if return_info else None
        new = [(f, i) for f, i in self.buffer if i.frame_index >= self.read_upto]
        self.read_upto = self.acquired
        frames, infos = [f for f, _ in new], [i for _, i in new]
        return (frames, infos) if return_info else frames
