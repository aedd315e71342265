"""A faithful fake of pylablib's ``DCAMCamera``, installed at its import path by the ``fake_pylablib`` fixture.

What every pylablib camera keeps and checks is in
:class:`scopeweave_pylablib.testing.FakePylablibCamera`; this subclass adds what
DCAM-API does its own way: exposures out of its range are refused
(``DCAMERR_OUTOFRANGE``) and rounded to the line time, the sub-array is
truncated to DCAM's 4 px grid with pylablib's own ``truncate_roi_axis`` and
binnings to the ones the camera has, software triggers (``send_software_trigger``)
only while capturing in software mode, microsecond frame timestamps, and
pylablib's own ``DCAMError``/``DCAMTimeoutError``.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest
from numpy.typing import NDArray
from pylablib.devices import DCAM
from pylablib.devices.DCAM.DCAM import TDeviceInfo, TFrameInfo
from pylablib.devices.interface.camera import TAxisROILimit, TFramePosition, truncate_roi_axis
from scopeweave_pylablib.testing import FakePylablib, FakePylablibCamera, FakeSensor


@attrs.define(kw_only=True)
class FakeOrcaSensor(FakeSensor):
    """One connected ORCA."""

    serial: str = "S/N: 301234"
    bit_depth: int | None = 16
    valid_binnings: tuple[int, ...] = (1, 2, 4)
    clock_us: int = 1_000_000


class FakeDCAMCamera(FakePylablibCamera):
    """Stands in for ``pylablib.devices.DCAM.DCAMCamera``."""

    pylablib_class = "pylablib.devices.DCAM.DCAMCamera"
    sensor_class = FakeOrcaSensor
    Error = DCAM.DCAMError
    TimeoutError = DCAM.DCAMTimeoutError
    triggers = ("int", "ext", "software", "master_pulse")
    row_time_s = 9.74436e-6  # ORCA-Flash4.0 V3 line interval
    exposure_range_s = (3.8e-5, 10.0)
    busy_message = "dcamdev_open: DCAMERR_BUSY (the camera is in use)"
    sensor: FakeOrcaSensor

    def get_device_info(self) -> Any:
        self._require_open()
        return TDeviceInfo("Hamamatsu", "C13440-20CU", self.sensor.serial, "4.20.A")

    def get_attribute_value(self, name: str, enum_as_str: bool = False, error_on_missing: bool = True,
                            default: Any = None) -> Any:
        self._require_open()
        if name == "BIT PER CHANNEL":
            return self.sensor.bit_depth
        if error_on_missing and default is None:
            raise KeyError(f"no attribute {name}")
        return default

    def _limit_exposure(self, exposure: float) -> float:
        low, high = self.exposure_range_s
        if not low <= exposure <= high:
            raise DCAM.DCAMError(f"dcamprop_setgetvalue EXPOSURE TIME {exposure}: DCAMERR_OUTOFRANGE")
        return exposure

    def get_roi_limits(self, hbin: int = 1, vbin: int = 1) -> tuple[Any, Any]:
        maxbin = self.sensor.valid_binnings[-1]
        return (TAxisROILimit(4, self.sensor.width, 4, 4, maxbin), TAxisROILimit(4, self.sensor.height, 4, 4, maxbin))

    def _truncate_roi(self, hstart: int, hend: int | None, vstart: int, vend: int | None, hbin: int, vbin: int
                      ) -> tuple[int, int, int, int, int, int]:
        hbin = max([b for b in self.sensor.valid_binnings if b <= hbin], default=1)
        hlim, vlim = self.get_roi_limits()
        hstart, hend, hbin = truncate_roi_axis((hstart, hend, hbin), hlim)
        vstart, vend, _ = truncate_roi_axis((vstart, vend, hbin), vlim)
        return (hstart, hend, vstart, vend, hbin, hbin)

    def send_software_trigger(self) -> None:
        self._log("send_software_trigger")
        self._software_trigger("dcamcap_firetrigger: DCAMERR_INVALIDMODE")

    def _frame_info(self, frame: NDArray[np.uint16]) -> Any:
        self.sensor.clock_us += round(self._frame_period_s() * 1e6)
        return TFrameInfo(self.acquired, self.acquired + 1, self.sensor.clock_us, 0,
                          TFramePosition(self.roi[0], self.roi[2]), "mono16")


@pytest.fixture
def fake_pylablib(monkeypatch: pytest.MonkeyPatch) -> FakePylablib:
    """``DCAMCamera`` replaced by :class:`FakeDCAMCamera`: ``fake_pylablib(**sensor_fields)`` connects one ORCA."""
    return FakePylablib(monkeypatch, FakeDCAMCamera)
