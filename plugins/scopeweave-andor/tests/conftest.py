"""A faithful fake of pylablib's ``AndorSDK3Camera``, installed at its import path by the ``fake_pylablib`` fixture.

What every pylablib camera keeps and checks is in
:class:`scopeweave_pylablib.testing.FakePylablibCamera`; this subclass adds what
Andor SDK3 does its own way: exposures truncated to the camera's range and
rounded to the row time, the AOI truncated with pylablib's own
``truncate_roi_axis`` (a minimum size, binning up to 8), frame metadata and the
timestamp clock (``MetadataEnable``, ``MetadataTimestamp``,
``TimestampClockReset``, ``TimestampClockFrequency``), the ``SoftwareTrigger``
command only while acquiring in software mode, and pylablib's own
``AndorError``/``AndorTimeoutError``.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest
from numpy.typing import NDArray
from pylablib.devices import Andor
from pylablib.devices.Andor.AndorSDK3 import TDeviceInfo, TFrameInfo
from pylablib.devices.interface.camera import TAxisROILimit, TFrameSize, truncate_roi_axis
from scopeweave_pylablib.testing import FakePylablib, FakePylablibCamera, FakeSensor

MIN_AOI_PX = 8
MAX_BINNING = 8


@attrs.define(kw_only=True)
class FakeAndorSensor(FakeSensor):
    """One connected Andor camera."""

    serial: str = "VSC-01234"
    bit_depth: str | None = "16 Bit"
    metadata_supported: bool = True
    clock_ticks: int = 123_456_789  # the camera clock runs from power-on until TimestampClockReset


class FakeAndorSDK3Camera(FakePylablibCamera):
    """Stands in for ``pylablib.devices.Andor.AndorSDK3Camera``."""

    pylablib_class = "pylablib.devices.Andor.AndorSDK3Camera"
    sensor_class = FakeAndorSensor
    Error = Andor.AndorError
    TimeoutError = Andor.AndorTimeoutError
    triggers = ("int", "ext", "software", "ext_start", "ext_exp")
    row_time_s = 1.0e-5
    exposure_range_s = (2.0e-5, 30.0)
    busy_message = "AT_Open: AT_ERR_DEVICEINUSE (the camera is in use)"
    clock_hz = 100_000_000
    sensor: FakeAndorSensor

    def __init__(self, idx: int = 0) -> None:
        super().__init__(idx)
        self.attributes: dict[str, Any] = {"MetadataEnable": False, "MetadataTimestamp": False}

    def get_device_info(self) -> Any:
        self._require_open()
        return TDeviceInfo("ZYLA-4.2P-USB3", "ZYLA-4.2P-USB3", self.sensor.serial, "14.9.16.0", "3.15.30092.0")

    def get_attribute_value(self, name: str, enum_as_str: bool = True, update_properties: bool = False,
                            error_on_missing: bool = True, default: Any = None) -> Any:
        self._require_open()
        values = {"BitDepth": self.sensor.bit_depth, "TimestampClockFrequency": self.clock_hz, **self.attributes}
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
            self._software_trigger("AT_Command SoftwareTrigger: AT_ERR_NOTWRITABLE")
        else:
            raise Andor.AndorNotSupportedError(f"command {name} is not supported")

    def _limit_exposure(self, exposure: float) -> float:
        low, high = self.exposure_range_s
        return min(max(exposure, low), high)  # pylablib truncates to the feature's range

    def get_roi_limits(self, hbin: int = 1, vbin: int = 1) -> tuple[Any, Any]:
        return (TAxisROILimit(MIN_AOI_PX * hbin, self.sensor.width, 1, hbin, MAX_BINNING),
                TAxisROILimit(MIN_AOI_PX * vbin, self.sensor.height, 1, vbin, MAX_BINNING))

    def _truncate_roi(self, hstart: int, hend: int | None, vstart: int, vend: int | None, hbin: int, vbin: int
                      ) -> tuple[int, int, int, int, int, int]:
        hbin, vbin = min(max(hbin, 1), MAX_BINNING), min(max(vbin, 1), MAX_BINNING)
        hlim, vlim = self.get_roi_limits(hbin, vbin)
        hstart, hend, _ = truncate_roi_axis((hstart, hend, hbin), hlim)
        vstart, vend, _ = truncate_roi_axis((vstart, vend, vbin), vlim)
        width, height = (hend - hstart) // hbin, (vend - vstart) // vbin
        return (hstart, hstart + width * hbin, vstart, vstart + height * vbin, hbin, vbin)

    def _frame_info(self, frame: NDArray[np.uint16]) -> Any:
        self.sensor.clock_ticks += round(self._frame_period_s() * self.clock_hz)
        stamp = self.sensor.clock_ticks if self.is_metadata_enabled() else -1
        return TFrameInfo(self.acquired, stamp, TFrameSize(frame.shape[1], frame.shape[0]), "Mono16", frame.shape[1] * 2)


@pytest.fixture
def fake_pylablib(monkeypatch: pytest.MonkeyPatch) -> FakePylablib:
    """``AndorSDK3Camera`` replaced by :class:`FakeAndorSDK3Camera`: ``fake_pylablib(**sensor_fields)`` connects one camera."""
    return FakePylablib(monkeypatch, FakeAndorSDK3Camera)
