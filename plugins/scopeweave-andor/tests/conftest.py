"""A faithful fake of pylablib's ``AndorSDK3Camera``, installed at its import path.

The fake keeps the state an Andor SDK3 camera keeps (exposure, AOI, binning,
trigger mode, metadata and timestamp clock, acquisition and ring buffer,
frame counter), checks its arguments the way pylablib and SDK3 do (enum names,
AOI truncation with pylablib's own ``truncate_roi_axis``, exposure truncated
to its range, ``SoftwareTrigger`` only while acquiring in software mode) and
raises pylablib's own ``AndorError``/``AndorTimeoutError``.

Frames are a known scene: ``offset + pattern(y, x) * exposure_ms / 10`` on
the full sensor, cropped to the sub-array and summed over binning blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import numpy as np
import pytest
from numpy.typing import NDArray
from pylablib.devices import Andor
from pylablib.devices.Andor.AndorSDK3 import TDeviceInfo, TFrameInfo
from pylablib.devices.interface.camera import TAxisROILimit, TFrameSize, truncate_roi_axis

ROW_TIME_S = 1.0e-5  # exposure granularity and row readout time
EXPOSURE_RANGE_S = (2.0e-5, 30.0)
CLOCK_HZ = 100_000_000
OFFSET_ADU = 100.0
TRIGGERS = ("int", "ext", "software", "ext_start", "ext_exp")
MIN_AOI_PX = 8
MAX_BINNING = 8


def scene(height: int, width: int, exposure_s: float) -> NDArray[np.float64]:
    """Counts of the full sensor for an exposure (unbinned)."""
    y, x = np.mgrid[0:height, 0:width]
    return OFFSET_ADU + ((7 * x + 13 * y) % 1000) * (exposure_s * 1000.0 / 10.0)


def expected_frame(height: int, width: int, exposure_s: float, roi: tuple[int, int, int, int], binning: int
                   ) -> NDArray[np.uint16]:
    """What a camera must return for ``roi = (x, y, width, height)`` (test-side ground truth)."""
    x, y, w, h = roi
    crop = scene(height, width, exposure_s)[y:y + h, x:x + w]
    binned = crop.reshape(h // binning, binning, w // binning, binning).sum(axis=(1, 3))
    return np.clip(np.rint(binned), 0, 65535).astype(np.uint16)


@attrs.define
class FakeSensor:
    """One connected Andor camera: what the test controls and inspects."""

    width: int = 64
    height: int = 48
    serial: str = "VSC-01234"
    bit_depth: str | None = "16 Bit"
    metadata_supported: bool = True
    external_pulses: int = 0
    frames_per_wait: int | None = None  # int mode: frames the camera delivers per wait (a burst can overflow)
    opened_by: Any = None
    clock_ticks: int = 123_456_789  # the camera clock runs from power-on until TimestampClockReset
    calls: list[tuple[str, Any]] = attrs.field(factory=list)


class FakeAndorSDK3Camera:
    """Stands in for ``pylablib.devices.Andor.AndorSDK3Camera``."""

    Error = Andor.AndorError
    TimeoutError = Andor.AndorTimeoutError
    sensors: ClassVar[list[FakeSensor]] = []

    def __init__(self, idx: int = 0) -> None:
        if not isinstance(idx, int) or idx < 0:
            raise TypeError(f"idx must be a non-negative int (got {idx!r})")
        if idx >= len(self.sensors):
            raise Andor.AndorError(f"camera index {idx} is not available ({len(self.sensors)} cameras exist)")
        self.sensor = self.sensors[idx]
        if self.sensor.opened_by is not None:
            raise Andor.AndorError("AT_Open: AT_ERR_DEVICEINUSE (the camera is in use)")
        self.sensor.opened_by = self
        self.handle: int | None = 1
        self.exposure_s = 0.01
        self.trigger = "int"
        self.roi = (0, self.sensor.width, 0, self.sensor.height, 1, 1)
        self.acq: dict[str, Any] | None = None
        self.acquiring = False
        self.buffer: list[tuple[NDArray[np.uint16], Any]] = []
        self.acquired = 0
        self.read_upto = 0
        self.pending_triggers = 0
        self.attributes: dict[str, Any] = {"MetadataEnable": False, "MetadataTimestamp": False}

    # --- connection ------------------------------------------------------------------
    def _log(self, name: str, *args: Any) -> None:
        self.sensor.calls.append((name, args))

    def _require_open(self) -> None:
        if self.handle is None:
            raise Andor.AndorError("camera is closed")

    def close(self) -> None:
        self._log("close")
        if self.handle is not None:
            self.clear_acquisition()
            self.sensor.opened_by = None
        self.handle = None

    def is_opened(self) -> bool:
        return self.handle is not None

    def get_device_info(self) -> Any:
        self._require_open()
        return TDeviceInfo("ZYLA-4.2P-USB3", "ZYLA-4.2P-USB3", self.sensor.serial, "14.9.16.0", "3.15.30092.0")

    def get_detector_size(self) -> tuple[int, int]:
        self._require_open()
        return (self.sensor.width, self.sensor.height)

    def get_attribute_value(self, name: str, enum_as_str: bool = True, update_properties: bool = False,
                            error_on_missing: bool = True, default: Any = None) -> Any:
        self._require_open()
        values = {"BitDepth": self.sensor.bit_depth, "TimestampClockFrequency": CLOCK_HZ, **self.attributes}
        if name in values:
            return values[name]
        if error_on_missing and default is None:
            raise Andor.AndorNotSupportedError(f"feature {name} is not supported")
        return default

    def set_attribute_value(self, name: str, value: Any, update_properties: bool = True,
                            error_on_missing: bool = True) -> None:
        self._require_open()
        self._log("set_attribute_value", name, value)
        if name == "MetadataTimestamp" and isinstance(value, bool) and self.sensor.metadata_supported:
            self.attributes[name] = value
        elif error_on_missing:
            raise Andor.AndorNotSupportedError(f"feature {name} is not supported")

    def enable_metadata(self, enable: bool = True) -> bool:
        self._log("enable_metadata", enable)
        if self.sensor.metadata_supported:
            self.clear_acquisition()  # pylablib pauses and clears the acquisition around the change
            self.attributes["MetadataEnable"] = bool(enable)
        return self.is_metadata_enabled()

    def is_metadata_enabled(self) -> bool:
        return bool(self.attributes["MetadataEnable"])

    def call_command(self, name: str) -> None:
        self._require_open()
        self._log("call_command", name)
        if name == "TimestampClockReset":
            self.sensor.clock_ticks = 0
        elif name == "SoftwareTrigger":
            if not self.acquiring or self.trigger != "software":
                raise Andor.AndorError("AT_Command SoftwareTrigger: AT_ERR_NOTWRITABLE")
            self.pending_triggers += 1
        else:
            raise Andor.AndorNotSupportedError(f"command {name} is not supported")

    # --- settings ----------------------------------------------------------------------
    def set_exposure(self, exposure: float) -> float:
        self._require_open()
        self._log("set_exposure", exposure)
        if isinstance(exposure, bool) or not isinstance(exposure, (int, float)):
            raise TypeError(f"exposure must be a number of seconds (got {exposure!r})")
        low, high = EXPOSURE_RANGE_S
        exposure = min(max(exposure, low), high)  # pylablib truncates to the feature's range
        self.exposure_s = round(exposure / ROW_TIME_S) * ROW_TIME_S
        return self.get_exposure()

    def get_exposure(self) -> float:
        return self.exposure_s

    def set_trigger_mode(self, mode: str) -> str:
        self._require_open()
        self._log("set_trigger_mode", mode)
        if mode not in TRIGGERS:
            raise ValueError(f"unrecognized value {mode!r} for parameter trigger_mode; allowed: {TRIGGERS}")
        self.trigger = mode
        return self.get_trigger_mode()

    def get_trigger_mode(self) -> str:
        return self.trigger

    def get_roi(self) -> tuple[int, int, int, int, int, int]:
        return self.roi

    def get_roi_limits(self, hbin: int = 1, vbin: int = 1) -> tuple[Any, Any]:
        return (TAxisROILimit(MIN_AOI_PX * hbin, self.sensor.width, 1, hbin, MAX_BINNING),
                TAxisROILimit(MIN_AOI_PX * vbin, self.sensor.height, 1, vbin, MAX_BINNING))

    def set_roi(self, hstart: int = 0, hend: int | None = None, vstart: int = 0, vend: int | None = None,
                hbin: int = 1, vbin: int = 1) -> tuple[int, int, int, int, int, int]:
        self._require_open()
        self._log("set_roi", hstart, hend, vstart, vend, hbin, vbin)
        self.clear_acquisition()  # pylablib's @acqcleared
        hbin, vbin = min(max(hbin, 1), MAX_BINNING), min(max(vbin, 1), MAX_BINNING)
        hlim, vlim = self.get_roi_limits(hbin, vbin)
        hstart, hend, _ = truncate_roi_axis((hstart, hend, hbin), hlim)
        vstart, vend, _ = truncate_roi_axis((vstart, vend, vbin), vlim)
        width, height = (hend - hstart) // hbin, (vend - vstart) // vbin
        self.roi = (hstart, hstart + width * hbin, vstart, vstart + height * vbin, hbin, vbin)
        return self.get_roi()

    def get_frame_period(self) -> float:
        return max(self.exposure_s, (self.roi[3] - self.roi[2]) * ROW_TIME_S)

    # --- acquisition --------------------------------------------------------------------
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

    def acquisition_in_progress(self) -> bool:
        return self.acquiring

    def _expose(self, count: int) -> None:
        assert self.acq is not None
        hstart, hend, vstart, vend, hbin, _ = self.roi
        period_ticks = round(self.get_frame_period() * CLOCK_HZ)
        for _ in range(count):
            if self.acq["mode"] == "snap" and self.acquired >= self.acq["nframes"]:
                return
            frame = expected_frame(self.sensor.height, self.sensor.width, self.exposure_s,
                                   (hstart, vstart, hend - hstart, vend - vstart), hbin)
            self.sensor.clock_ticks += period_ticks
            stamp = self.sensor.clock_ticks if self.is_metadata_enabled() else -1
            info = TFrameInfo(self.acquired, stamp, TFrameSize(frame.shape[1], frame.shape[0]), "Mono16",
                              frame.shape[1] * 2)
            self.buffer.append((frame, info))
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
                raise Andor.AndorError("waiting for a frame while acquisition is stopped")
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
            raise Andor.AndorTimeoutError()
        return True

    def read_multiple_images(self, rng: Any = None, peek: bool = False, missing_frame: str = "skip",
                             return_info: bool = False, return_rng: bool = False) -> Any:
        if rng is not None or peek or missing_frame != "skip" or return_rng:
            raise NotImplementedError("the fake supports reading all new frames only")
        if not self.acquiring and not self.buffer:
            return (None, None) if return_info else None
        new = [(f, i) for f, i in self.buffer if i.frame_index >= self.read_upto]
        self.read_upto = self.acquired
        frames, infos = [f for f, _ in new], [i for _, i in new]
        return (frames, infos) if return_info else frames


@attrs.define
class FakeAndor:
    """What a test gets: the connected sensors and the opened fake cameras."""

    sensors: list[FakeSensor]

    @property
    def camera(self) -> FakeAndorSDK3Camera:
        opened = self.sensors[0].opened_by
        assert opened is not None, "the camera is not open"
        return opened


@pytest.fixture
def fake_andor(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeAndor]:
    """Replace ``AndorSDK3Camera`` with the fake over the given sensors (default: one 64 x 48 camera)."""

    def install(*sensors: FakeSensor) -> FakeAndor:
        connected = list(sensors) or [FakeSensor()]
        fake_class = type("FakeAndorSDK3Camera", (FakeAndorSDK3Camera,), {"sensors": connected})
        monkeypatch.setattr(Andor, "AndorSDK3Camera", fake_class)
        return FakeAndor(connected)

    return install


@pytest.fixture
def sensor_type() -> type[FakeSensor]:
    return FakeSensor


@pytest.fixture
def expected() -> Callable[..., NDArray[np.uint16]]:
    return expected_frame
