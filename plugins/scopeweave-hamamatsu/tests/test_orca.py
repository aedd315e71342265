"""The ORCA camera through a faithful fake of pylablib's DCAMCamera.

What every pylablib camera does is checked by :class:`~scopeweave_pylablib.testing.PylablibCameraContract`;
the tests here add what DCAM-API does its own way.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from scopeweave_hamamatsu import OrcaCamera, OrcaParams
from scopeweave_pylablib.testing import FakePylablib, PylablibCameraContract

from scopeweave.errors import ComponentError
from scopeweave.kinds import Roi
from scopeweave.testing import RegistrationContract


class TestOrca(PylablibCameraContract):
    camera_class = OrcaCamera
    params_class = OrcaParams
    vendor = "Hamamatsu"
    sdk_camera_name = "Hamamatsu DCAM camera"
    sdk_name = "Hamamatsu DCAM-API"
    sdk_missing_says = ("dcamapi", "Install Hamamatsu DCAM-API (https://dcam-api.com")
    bit_depth_attribute = "BIT PER CHANNEL"
    twelve_bits = 12
    device_info: ClassVar[dict[str, str]] = {"model": "C13440-20CU", "serial_number": "S/N: 301234"}
    software_trigger_call = ("send_software_trigger", ())
    external_trigger_mode = "external"
    refused_trigger_mode = "hardware"
    binned_roi_px = (8, 4, 32, 16)
    binnings = (2, 4)
    unbinned_roi_px = (12, 8, 20, 12)

    def test_exposure_out_of_range_is_refused_and_the_old_one_kept(self, fake_pylablib: FakePylablib) -> None:
        fake_pylablib()
        with self.make_camera(exposure_ms=20.0) as camera:
            assert camera.exposure_ms != 20.0, "DCAM rounds the exposure to its line time"
            camera.set_exposure_ms(5.0)
            applied_ms = camera.exposure_ms
            with pytest.raises(ComponentError, match="DCAMERR_OUTOFRANGE"):
                camera.set_exposure_ms(20_000.0)
            assert camera.exposure_ms == applied_ms

    def test_rois_off_the_sub_array_grid_are_refused_and_the_old_one_kept(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        with self.make_camera(roi_px=(8, 4, 32, 16)) as camera:
            with pytest.raises(ValueError, match=r"would apply \(hstart, hend, vstart, vend, hbin, vbin\) = \(0, 32"):
                camera.set_roi(Roi(x_px=2, y_px=4, width_px=30, height_px=16))
            assert camera.roi == Roi(x_px=8, y_px=4, width_px=32, height_px=16)
            assert fake.camera.roi == (8, 40, 4, 20, 1, 1)
            camera.set_roi(Roi(x_px=12, y_px=0, width_px=24, height_px=24))
            with pytest.raises(ValueError, match=r"with binning 3 is not supported .* = \(12, 36, 0, 24, 2, 2\)"):
                camera.set_binning(3)
            assert camera.binning == 1
            assert fake.camera.roi == (12, 36, 0, 24, 1, 1)
            camera.set_binning(4)
            with pytest.raises(ValueError, match="multiples of the binning 4"):
                camera.set_roi(Roi(x_px=0, y_px=0, width_px=8, height_px=6))
            assert camera.roi == Roi(x_px=12, y_px=0, width_px=24, height_px=24)


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_hamamatsu.plugin"
    forbidden_imports = ("pylablib",)
