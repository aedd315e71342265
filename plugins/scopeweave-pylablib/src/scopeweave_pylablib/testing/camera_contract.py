"""What every pylablib camera must do, checked on its vendor's fake pylablib class."""

from __future__ import annotations

import re
import sys
from collections.abc import Generator, Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

from scopeweave.errors import ComponentError
from scopeweave.kinds import FrameInfo, Roi
from scopeweave.testing import CameraContract
from scopeweave_pylablib.camera import PylablibCamera
from scopeweave_pylablib.params import PylablibCameraParams
from scopeweave_pylablib.testing.install import FakePylablib
from scopeweave_pylablib.testing.scene import expected_frame

__all__ = ["PylablibCameraContract"]

#: Unbinned pixel size of the cameras under test, in micrometres.
PIXEL_SIZE_UM = 0.065


def _roi(roi_px: tuple[int, int, int, int]) -> Roi:
    x, y, width, height = roi_px
    return Roi(x_px=x, y_px=y, width_px=width, height_px=height)


class PylablibCameraContract(CameraContract):
    """The :class:`~scopeweave.testing.CameraContract` and the behaviour every pylablib camera shares.

    Subclass it in a vendor plugin's tests and set the class attributes; the
    plugin's ``tests/conftest.py`` provides a ``fake_pylablib`` fixture
    returning a :class:`~scopeweave_pylablib.testing.FakePylablib` of the
    vendor's fake camera class.  Cameras under test time out after 50 ms and
    have 0.065 um pixels; the fake sensor is 64 x 48 px unless a test says
    otherwise.  Vendor-specific checks go into the subclass, with
    :meth:`make_camera` and the ``fake_pylablib`` fixture.
    """

    #: The camera, and its params class.
    camera_class: ClassVar[type[PylablibCamera]]
    params_class: ClassVar[type[PylablibCameraParams]]
    #: Manufacturer, as the camera's error messages name it (``"Hamamatsu"``).
    vendor: ClassVar[str]
    #: How the SDK names the camera when it cannot be opened (``"Hamamatsu DCAM camera"``).
    sdk_camera_name: ClassVar[str]
    #: How the error without the vendor SDK names the SDK, and what else it must say.
    sdk_name: ClassVar[str]
    sdk_missing_says: ClassVar[tuple[str, ...]]
    #: SDK attribute holding the bit depth, and its value for a 12-bit camera (``12``, ``"12 Bit (low noise)"``).
    bit_depth_attribute: ClassVar[str]
    twelve_bits: ClassVar[object]
    #: ``device_info`` entries of the fake camera.
    device_info: ClassVar[Mapping[str, str]]
    #: The pylablib call (method, arguments) that fires one software trigger.
    software_trigger_call: ClassVar[tuple[str, tuple[Any, ...]]]
    #: A trigger mode that waits for external pulses, and a mode the camera refuses.
    external_trigger_mode: ClassVar[str]
    refused_trigger_mode: ClassVar[str]
    #: A ROI the camera takes with binning ``binnings[0]`` from the params, and later with each other binning.
    binned_roi_px: ClassVar[tuple[int, int, int, int]]
    binnings: ClassVar[tuple[int, ...]]
    #: A ROI the camera takes unbinned.
    unbinned_roi_px: ClassVar[tuple[int, int, int, int]]

    def make_camera(self, **params: Any) -> PylablibCamera:
        """A camera of :attr:`camera_class` with these params (besides the pixel size and a 50 ms frame timeout)."""
        values: dict[str, Any] = {"pixel_size_um": PIXEL_SIZE_UM, "frame_timeout_ms": 50.0, **params}
        return self.camera_class(self.params_class(**values))

    @pytest.fixture
    def camera(self, fake_pylablib: FakePylablib) -> PylablibCamera:
        fake_pylablib()
        return self.make_camera()

    # --- what the camera reads from the device ----------------------------------------------------
    def test_sensor_bit_depth_and_device_info_come_from_the_camera(self, fake_pylablib: FakePylablib) -> None:
        fake_pylablib(width=128, height=96, bit_depth=self.twelve_bits)
        camera = self.make_camera()
        for read in (lambda: camera.sensor_shape_px, lambda: camera.roi):
            with pytest.raises(RuntimeError, match="call initialize"):
                read()
        with camera:
            assert camera.sensor_shape_px == (96, 128)
            assert camera.roi == Roi.full((96, 128))
            assert camera.bit_depth == 12
            assert {key: camera.device_info[key] for key in self.device_info} == dict(self.device_info)

    def test_bit_depth_missing_from_the_camera(self, fake_pylablib: FakePylablib) -> None:
        fake_pylablib(bit_depth=None)
        attribute = re.escape(self.bit_depth_attribute)
        with pytest.raises(ComponentError, match=rf"does not report its bit depth \({attribute} = None\); set bit_depth"):
            self.make_camera().initialize()
        with self.make_camera(bit_depth=12) as camera:
            assert camera.bit_depth == 12

    # --- settings ------------------------------------------------------------------------------------
    def test_exposure_goes_to_pylablib_in_seconds(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        row_time_s = fake_pylablib.camera_class.row_time_s
        with self.make_camera(exposure_ms=20.0) as camera:
            applied_s = round(0.02 / row_time_s) * row_time_s
            assert fake.camera.exposure_s == pytest.approx(applied_s)
            assert camera.exposure_ms == pytest.approx(applied_s * 1000, rel=1e-12), "the exposure the SDK uses"
            np.testing.assert_array_equal(camera.snap(), expected_frame(48, 64, applied_s, (0, 0, 64, 48), 1))
            for exposure_ms in (5.0, 1.23456):  # rounded to the row time
                camera.set_exposure_ms(exposure_ms)
                applied_s = round(exposure_ms / 1000 / row_time_s) * row_time_s
                assert fake.camera.exposure_s == pytest.approx(applied_s)
                assert camera.exposure_ms == pytest.approx(applied_s * 1000, rel=1e-12)

    def test_roi_and_binning_crop_the_right_pixels(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        x, y, width, height = self.binned_roi_px
        binning, *other_binnings = self.binnings
        with self.make_camera(roi_px=self.binned_roi_px, binning=binning) as camera:
            assert fake.camera.roi == (x, x + width, y, y + height, binning, binning)
            assert camera.frame_shape_px == (height // binning, width // binning)
            assert camera.pixel_size_um == pytest.approx(PIXEL_SIZE_UM * binning)
            frame = expected_frame(48, 64, fake.camera.exposure_s, self.binned_roi_px, binning)
            np.testing.assert_array_equal(camera.snap(), frame)
            for other in other_binnings:
                camera.set_binning(other)
                assert camera.snap().shape == (height // other, width // other)
            camera.set_binning(1)
            camera.set_roi(_roi(self.unbinned_roi_px))
            frame = expected_frame(48, 64, fake.camera.exposure_s, self.unbinned_roi_px, 1)
            np.testing.assert_array_equal(camera.snap(), frame)

    def test_params_roi_must_divide_by_binning(self) -> None:
        with pytest.raises(ValueError, match="multiples of 'binning' = 2"):
            self.params_class(pixel_size_um=0.1, roi_px=(0, 0, 33, 16), binning=2)

    def test_params_roi_is_taken_once_and_later_choices_survive_a_restart(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        camera = self.make_camera(roi_px=(8, 4, 32, 16), binning=2, trigger_mode="software")
        with camera:
            assert camera.roi == Roi(x_px=8, y_px=4, width_px=32, height_px=16)
            camera.set_binning(1)
            camera.set_roi(Roi(x_px=12, y_px=8, width_px=20, height_px=12))
            camera.set_trigger_mode("internal")
        with camera:
            assert camera.roi == Roi(x_px=12, y_px=8, width_px=20, height_px=12)
            assert fake.camera.roi == (12, 32, 8, 20, 1, 1)
            assert fake.camera.trigger == "int"
            assert camera.snap().shape == (12, 20)

    def test_roi_outside_the_sensor_is_reported_and_the_camera_closed(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        camera = self.make_camera(roi_px=(32, 0, 64, 16))
        with pytest.raises(ComponentError, match=r"roi_px \(32, 0, 64, 16\) lies outside the 64 x 48 px sensor"):
            camera.initialize()
        assert fake.sensor.opened_by is None
        assert not camera.initialized

    # --- trigger modes ---------------------------------------------------------------------------------
    def test_trigger_modes_map_to_pylablib_names_and_are_validated(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        with self.make_camera() as camera:
            for mode, sdk_name in self.camera_class.trigger_mode_names.items():
                camera.set_trigger_mode(mode)
                assert fake.camera.trigger == sdk_name
                assert camera.trigger_mode == mode
            with pytest.raises(ValueError, match="'trigger_mode' must be one of"):
                camera.set_trigger_mode(self.refused_trigger_mode)

    def test_software_trigger_fires_once_per_frame(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        with self.make_camera(trigger_mode="software") as camera:
            assert fake.camera.trigger == "software"
            camera.snap()
            assert len(list(camera.acquire_sequence(4))) == 4
        assert fake.sensor.calls.count(self.software_trigger_call) == 5

    def test_external_trigger_waits_for_pulses(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        mode = self.external_trigger_mode
        with self.make_camera(trigger_mode=mode) as camera:
            assert fake.camera.trigger == self.camera_class.trigger_mode_names[mode]
            timeout = rf"^{self.vendor} camera 0: no frame within 50 ms \(trigger mode '{mode}'\); is the external"
            with pytest.raises(ComponentError, match=timeout):
                camera.snap()
            assert not fake.camera.acquiring, "a failed snap stops the acquisition"
            fake.sensor.external_pulses = 3
            assert len(list(camera.acquire_sequence(3))) == 3
            assert fake.sensor.external_pulses == 0

    # --- acquisition -------------------------------------------------------------------------------------
    def test_sequence_streams_through_the_ring_buffer_with_timestamps(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        with self.make_camera(exposure_ms=10.0, roi_px=(0, 0, 64, 32), buffer_frames=8) as camera:
            results = list(camera.acquire_sequence_with_info(6))
            assert [info.frame_index for _, info in results] == list(range(6))
            period_s = max(fake.camera.exposure_s, 32 * fake_pylablib.camera_class.row_time_s)
            stamps = np.array([info.timestamp_s for _, info in results])
            np.testing.assert_allclose(np.diff(stamps), period_s, atol=1e-6)
            assert camera.dropped_frames == 0
            assert ("start_acquisition", ("sequence", 8)) in fake.sensor.calls
            assert not fake.camera.acquiring
            frame, info = camera.snap_with_info()
            assert frame.shape == (32, 64)
            assert isinstance(info, FrameInfo)
            assert info.frame_index == 0
            assert info.timestamp_s > stamps[-1]

    @pytest.mark.parametrize(
        ("frames_per_wait", "buffer_frames", "n_frames", "indices"),
        [(4, 2, 4, [2, 3, 6, 7]), (5, 3, 6, [2, 3, 4, 7, 8, 9])],
    )
    def test_lost_frames_are_counted(self, fake_pylablib: FakePylablib, frames_per_wait: int, buffer_frames: int,
                                     n_frames: int, indices: list[int]) -> None:
        fake = fake_pylablib(frames_per_wait=frames_per_wait)
        with self.make_camera(buffer_frames=buffer_frames) as camera:
            infos = [info for _, info in camera.acquire_sequence_with_info(n_frames)]
            assert not fake.camera.acquiring
        # each wait delivers a burst of frames into a smaller ring buffer: the oldest are overwritten before they are read
        assert [i.frame_index for i in infos] == indices
        assert camera.dropped_frames == 4

    def test_an_abandoned_sequence_stops_the_camera(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        with self.make_camera() as camera:
            stream = camera.acquire_sequence(100)
            assert isinstance(stream, Generator)
            next(stream)
            assert fake.camera.acquiring
            stream.close()
            assert not fake.camera.acquiring

    # --- opening and closing -------------------------------------------------------------------------------
    def test_shutdown_closes_the_camera(self, fake_pylablib: FakePylablib) -> None:
        fake = fake_pylablib()
        camera = self.make_camera()
        camera.initialize()
        opened = fake.camera
        camera.shutdown()
        assert not opened.is_opened()
        assert fake.sensor.opened_by is None
        with self.make_camera():  # it can be opened again
            pass

    def test_missing_camera_index_and_busy_camera(self, fake_pylablib: FakePylablib) -> None:
        fake_pylablib()
        name = re.escape(self.sdk_camera_name)
        for index in (1, 2):
            missing = rf"^{name} {index} could not be opened: camera index {index} is not available \(1 cameras"
            with pytest.raises(ComponentError, match=missing):
                self.make_camera(camera_index=index).initialize()
        busy = re.escape(fake_pylablib.camera_class.busy_message)
        with self.make_camera(), pytest.raises(ComponentError, match=busy):
            self.make_camera().initialize()

    def test_without_the_sdk_one_clear_error(self) -> None:
        """The real pylablib on a machine without the vendor SDK."""
        with pytest.raises(ComponentError) as info:
            self.make_camera().initialize()
        message = str(info.value)
        assert message.startswith(f"{self.sdk_name} is not available (")
        for part in self.sdk_missing_says:
            assert part in message

    def test_without_pylablib_one_clear_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "pylablib", None)
        monkeypatch.setitem(sys.modules, "pylablib.devices", None)
        with pytest.raises(ComponentError, match=r"pylablib is not installed .*pip install pylablib-lightweight"):
            self.make_camera().initialize()
