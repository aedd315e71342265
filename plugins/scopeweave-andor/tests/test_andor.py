"""The Andor camera through a faithful fake of pylablib's AndorSDK3Camera.

What every pylablib camera does is checked by :class:`~scopeweave_pylablib.testing.PylablibCameraContract`;
the tests here add what Andor SDK3 does its own way.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from scopeweave_andor import AndorCamera, AndorParams
from scopeweave_pylablib.testing import FakePylablib, PylablibCameraContract

from scopeweave.errors import ComponentError
from scopeweave.kinds import FrameInfo, Roi
from scopeweave.testing import RegistrationContract


class TestAndor(PylablibCameraContract):
    camera_class = AndorCamera
    params_class = AndorParams
    vendor = "Andor"
    sdk_camera_name = "Andor SDK3 camera"
    sdk_name = "Andor SDK3"
    sdk_missing_says = ("Install Andor SDK3 or Andor Solis",)
    bit_depth_attribute = "BitDepth"
    twelve_bits = "12 Bit (low noise)"
    device_info: ClassVar[dict[str, str]] = {"camera_model": "ZYLA-4.2P-USB3", "serial_number": "VSC-01234"}
    software_trigger_call = ("call_command", ("SoftwareTrigger",))
    external_trigger_mode = "external_exposure"
    refused_trigger_mode = "master_pulse"
    binned_roi_px = (5, 3, 30, 24)
    binnings = (3, 2)
    unbinned_roi_px = (11, 7, 13, 9)

    def test_exposure_is_truncated_to_the_range_of_the_camera(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        with self.make_camera() as camera:
            camera.set_exposure_ms(100_000.0)
            assert camera.exposure_ms == pytest.approx(30_000.0), "the exposure the camera uses"
            camera.set_exposure_ms(0.001)
            assert camera.exposure_ms == pytest.approx(0.02), "the shortest exposure of the fake camera"
            camera.set_exposure_ms(1.23456)  # and rounds to its 10 us granularity
            assert camera.exposure_ms == pytest.approx(1.23)
            assert fake.camera.exposure_s == pytest.approx(1.23e-3)

    def test_aois_the_camera_would_change_are_refused(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        with self.make_camera(roi_px=(8, 8, 16, 16)) as camera:
            with pytest.raises(ValueError, match=r"would apply .* = \(8, 16, 8, 16, 1, 1\); keep the AOI above"):
                camera.set_roi(Roi(x_px=8, y_px=8, width_px=4, height_px=4))
            assert camera.roi == Roi(x_px=8, y_px=8, width_px=16, height_px=16)
            assert fake.camera.roi == (8, 24, 8, 24, 1, 1)
            camera.set_roi(None)
            with pytest.raises(ValueError, match="with binning 16 is not supported"):
                camera.set_binning(16)
            assert camera.binning == 1

    def test_hardware_timestamps_from_the_reset_clock(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        with self.make_camera(exposure_ms=5.0, roi_px=(0, 0, 64, 40)) as camera:
            assert ("call_command", ("TimestampClockReset",)) in fake.sensor.calls
            assert camera.timestamp_clock_hz == fake_pylablib.camera_class.clock_hz == 100_000_000
            results = list(camera.acquire_sequence_with_info(5))
        period_s = max(0.005, 40 * fake_pylablib.camera_class.row_time_s)
        stamps = np.array([info.timestamp_s for _, info in results])
        np.testing.assert_allclose(stamps, period_s * np.arange(1, 6), atol=1e-8)
        assert [info.frame_index for _, info in results] == [0, 1, 2, 3, 4]
        assert isinstance(results[0][1], FrameInfo)

    def test_camera_without_metadata_is_refused(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib(metadata_supported=False)
        with pytest.raises(ComponentError, match="does not stream frame metadata"):
            self.make_camera().initialize()
        assert fake.sensor.opened_by is None


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_andor.plugin"
    forbidden_imports = ("pylablib",)
