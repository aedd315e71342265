"""A faithful fake of pylablib's ``DCAMCamera``, installed at its import path.

The fake keeps the state a DCAM camera keeps (exposure, sub-array, binning,
trigger source, acquisition and ring buffer, frame counter and timestamps),
checks its arguments the way pylablib and DCAM-API do (enum names, ROI
truncation with pylablib's own ``truncate_roi_axis``, exposure range and line
quantisation, software triggers only while capturing in software mode) and
raises pylablib's own ``DCAMError``/``DCAMTimeoutError``.

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
from pylablib.devices import DCAM
from pylablib.devices.DCAM.DCAM import TDeviceInfo, TFrameInfo
from pylablib.devices.interface.camera import TAxisROILimit, TFramePosition, truncate_roi_axis

LINE_TIME_S = 9.74436e-6  # ORCA-Flash4.0 V3 line interval
EXPOSURE_RANGE_S = (3.8e-5, 10.0)
OFFSET_ADU = 100.0
TRIGGERS = ("int", "ext", "software", "master_pulse")


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
    """One connected ORCA: what the test controls and inspects."""

    width: int = 64
    height: int = 48
    serial: str = "S/N: 301234"
    bit_depth: int | None = 16
    valid_binnings: tuple[int, ...] = (1, 2, 4)
    external_pulses: int = 0
    frames_per_wait: int | None = None  # int mode: frames the camera delivers per wait (a burst can overflow)
    opened_by: Any = None
    clock_us: int = 1_000_000
    calls: list[tuple[str, Any]] = attrs.field(factory=list)


class FakeDCAMCamera:
    """Stands in for ``pylablib.devices.DCAM.DCAMCamera``."""

    Error = DCAM.DCAMError
    TimeoutError = DCAM.DCAMTimeoutError
    sensors: ClassVar[list[FakeSensor]] = []

    def __init__(self, idx: int = 0) -> None:
        if not isinstance(idx, int) or idx < 0:
            raise TypeError(f"idx must be a non-negative int (got {idx!r})")
        if idx >= len(self.sensors):
            raise DCAM.DCAMError(f"camera index {idx} is not available ({len(self.sensors)} cameras exist)")
        self.sensor = self.sensors[idx]
        if self.sensor.opened_by is not None:
            raise DCAM.DCAMError("dcamdev_open: DCAMERR_BUSY (the camera is in use)")
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

    # --- connection ------------------------------------------------------------------
    def _log(self, name: str, *args: Any) -> None:
        self.sensor.calls.append((name, args))

    def _require_open(self) -> None:
        if self.handle is None:
            raise DCAM.DCAMError("camera is closed")

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
        return TDeviceInfo("Hamamatsu", "C13440-20CU", self.sensor.serial, "4.20.A")

    def get_detector_size(self) -> tuple[int, int]:
        self._require_open()
        return (self.sensor.width, self.sensor.height)

    def get_attribute_value(self, name: str, enum_as_str: bool = False, error_on_missing: bool = True,
                            default: Any = None) -> Any:
        self._require_open()
        if name == "BIT PER CHANNEL":
            return self.sensor.bit_depth
        if error_on_missing and default is None:
            raise KeyError(f"no attribute {name}")
        return default

    # --- settings ----------------------------------------------------------------------
    def set_exposure(self, exposure: float) -> float:
        self._require_open()
        self._log("set_exposure", exposure)
        if isinstance(exposure, bool) or not isinstance(exposure, (int, float)):
            raise TypeError(f"exposure must be a number of seconds (got {exposure!r})")
        low, high = EXPOSURE_RANGE_S
        if not low <= exposure <= high:
            raise DCAM.DCAMError(f"dcamprop_setgetvalue EXPOSURE TIME {exposure}: DCAMERR_OUTOFRANGE")
        self.exposure_s = round(exposure / LINE_TIME_S) * LINE_TIME_S
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
        maxbin = self.sensor.valid_binnings[-1]
        return (TAxisROILimit(4, self.sensor.width, 4, 4, maxbin), TAxisROILimit(4, self.sensor.height, 4, 4, maxbin))

    def set_roi(self, hstart: int = 0, hend: int | None = None, vstart: int = 0, vend: int | None = None,
                hbin: int = 1, vbin: int = 1) -> tuple[int, int, int, int, int, int]:
        self._require_open()
        self._log("set_roi", hstart, hend, vstart, vend, hbin, vbin)
        self.clear_acquisition()  # pylablib's @acqcleared
        hbin = max([b for b in self.sensor.valid_binnings if b <= hbin], default=1)
        hlim, vlim = self.get_roi_limits()
        hstart, hend, hbin = truncate_roi_axis((hstart, hend, hbin), hlim)
        vstart, vend, _ = truncate_roi_axis((vstart, vend, hbin), vlim)
        self.roi = (hstart, hend, vstart, vend, hbin, hbin)
        return self.get_roi()

    def get_frame_readout_time(self) -> float:
        return (self.roi[3] - self.roi[2]) * LINE_TIME_S

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

    def send_software_trigger(self) -> None:
        self._log("send_software_trigger")
        if not self.acquiring or self.trigger != "software":
            raise DCAM.DCAMError("dcamcap_firetrigger: DCAMERR_INVALIDMODE")
        self.pending_triggers += 1

    def _expose(self, count: int) -> None:
        assert self.acq is not None
        hstart, hend, vstart, vend, hbin, _ = self.roi
        period_us = round(max(self.exposure_s, self.get_frame_readout_time()) * 1e6)
        for _ in range(count):
            if self.acq["mode"] == "snap" and self.acquired >= self.acq["nframes"]:
                return
            frame = expected_frame(self.sensor.height, self.sensor.width, self.exposure_s,
                                   (hstart, vstart, hend - hstart, vend - vstart), hbin)
            self.sensor.clock_us += period_us
            info = TFrameInfo(self.acquired, self.acquired + 1, self.sensor.clock_us, 0,
                              TFramePosition(hstart, vstart), "mono16")
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
                raise DCAM.DCAMError("waiting for a frame while acquisition is stopped")
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
            raise DCAM.DCAMTimeoutError()
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
class FakeDcam:
    """What a test gets: the connected sensors and the opened fake cameras."""

    sensors: list[FakeSensor]

    @property
    def camera(self) -> FakeDCAMCamera:
        opened = self.sensors[0].opened_by
        assert opened is not None, "the camera is not open"
        return opened


@pytest.fixture
def fake_dcam(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeDcam]:
    """Replace ``DCAMCamera`` with the fake over the given sensors (default: one 64 x 48 ORCA)."""

    def install(*sensors: FakeSensor) -> FakeDcam:
        connected = list(sensors) or [FakeSensor()]
        fake_class = type("FakeDCAMCamera", (FakeDCAMCamera,), {"sensors": connected})
        monkeypatch.setattr(DCAM, "DCAMCamera", fake_class)
        return FakeDcam(connected)

    return install


@pytest.fixture
def sensor_type() -> type[FakeSensor]:
    return FakeSensor


@pytest.fixture
def expected() -> Callable[..., NDArray[np.uint16]]:
    return expected_frame
