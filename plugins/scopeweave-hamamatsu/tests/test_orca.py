"""The ORCA camera through a faithful fake of pylablib's DCAMCamera."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scopeweave_hamamatsu import OrcaCamera, OrcaParams
from scopeweave_hamamatsu.camera import TRIGGER_MODES

from scopeweave.errors import ComponentError
from scopeweave.kinds import FrameInfo, Roi
from scopeweave.testing import CameraContract, RegistrationContract

LINE_TIME_S = 9.74436e-6


def _camera(**overrides: Any) -> OrcaCamera:
    values: dict[str, Any] = {"pixel_size_um": 0.065, "frame_timeout_ms": 50.0}
    values.update(overrides)
    return OrcaCamera(OrcaParams(**values))


class TestOrcaContract(CameraContract):
    @pytest.fixture
    def camera(self, fake_dcam: Callable[..., Any]) -> OrcaCamera:
        fake_dcam()
        return _camera()


def test_sensor_and_device_info_come_from_the_camera(fake_dcam: Callable[..., Any], sensor_type: Any) -> None:
    fake_dcam(sensor_type(width=128, height=96, bit_depth=12))
    camera = _camera()
    with pytest.raises(RuntimeError, match="call initialize"):
        _ = camera.sensor_shape_px
    with camera:
        assert camera.sensor_shape_px == (96, 128)
        assert camera.roi == Roi.full((96, 128))
        assert camera.bit_depth == 12
        assert camera.device_info["model"] == "C13440-20CU"
        assert camera.device_info["serial_number"] == "S/N: 301234"


def test_exposure_goes_to_pylablib_in_seconds(fake_dcam: Callable[..., Any], expected: Callable[..., Any]) -> None:
    fake = fake_dcam()
    with _camera(exposure_ms=20.0) as camera:
        quantised_s = round(0.02 / LINE_TIME_S) * LINE_TIME_S
        assert fake.camera.exposure_s == pytest.approx(quantised_s)
        assert camera.exposure_ms == pytest.approx(quantised_s * 1000, rel=1e-12), "the exposure DCAM uses"
        assert camera.exposure_ms != 20.0
        frame = camera.snap()
        np.testing.assert_array_equal(frame, expected(48, 64, quantised_s, (0, 0, 64, 48), 1))
        camera.set_exposure_ms(5.0)
        quantised_s = round(0.005 / LINE_TIME_S) * LINE_TIME_S
        assert fake.camera.exposure_s == pytest.approx(quantised_s)
        with pytest.raises(ComponentError, match="DCAMERR_OUTOFRANGE"):
            camera.set_exposure_ms(20_000.0)
        assert camera.exposure_ms == pytest.approx(quantised_s * 1000, rel=1e-12)


def test_roi_and_binning_crop_the_right_pixels(fake_dcam: Callable[..., Any], expected: Callable[..., Any]) -> None:
    fake = fake_dcam()
    with _camera(roi_px=(8, 4, 32, 16), binning=2) as camera:
        assert fake.camera.roi == (8, 40, 4, 20, 2, 2)
        assert camera.frame_shape_px == (8, 16)
        assert camera.pixel_size_um == pytest.approx(0.13)
        frame = camera.snap()
        np.testing.assert_array_equal(frame, expected(48, 64, fake.camera.exposure_s, (8, 4, 32, 16), 2))
        camera.set_binning(4)
        assert camera.snap().shape == (4, 8)
        camera.set_binning(1)
        camera.set_roi(Roi(x_px=12, y_px=8, width_px=20, height_px=12))
        np.testing.assert_array_equal(camera.snap(), expected(48, 64, fake.camera.exposure_s, (12, 8, 20, 12), 1))


def test_rois_off_the_sub_array_grid_are_refused_and_the_old_one_kept(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    with _camera(roi_px=(8, 4, 32, 16)) as camera:
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


def test_params_roi_must_divide_by_binning() -> None:
    with pytest.raises(ValueError, match="multiples of 'binning' = 2"):
        OrcaParams(pixel_size_um=0.1, roi_px=(0, 0, 33, 16), binning=2)


def test_software_trigger_fires_once_per_frame(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    with _camera(trigger_mode="software") as camera:
        assert fake.camera.trigger == "software"
        camera.snap()
        frames = list(camera.acquire_sequence(4))
    assert len(frames) == 4
    triggers = [name for name, _ in fake.sensors[0].calls if name == "send_software_trigger"]
    assert len(triggers) == 5


def test_external_trigger_waits_for_pulses(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    with _camera(trigger_mode="external") as camera:
        with pytest.raises(ComponentError, match=r"no frame within 50 ms \(trigger mode 'external'\); is the external"):
            camera.snap()
        assert not fake.camera.acquiring, "a failed snap stops the acquisition"
        fake.sensors[0].external_pulses = 3
        assert len(list(camera.acquire_sequence(3))) == 3
        assert fake.sensors[0].external_pulses == 0


def test_trigger_mode_can_change_and_is_validated(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    with _camera() as camera:
        for mode, dcam_name in TRIGGER_MODES.items():
            camera.set_trigger_mode(mode)
            assert fake.camera.trigger == dcam_name
            assert camera.trigger_mode == mode
        with pytest.raises(ValueError, match="'trigger_mode' must be one of"):
            camera.set_trigger_mode("hardware")


def test_sequence_streams_through_the_ring_buffer_with_timestamps(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    with _camera(exposure_ms=10.0, roi_px=(0, 0, 64, 32), buffer_frames=8) as camera:
        results = list(camera.acquire_sequence_with_info(6))
        assert [info.frame_index for _, info in results] == list(range(6))
        period_s = max(fake.camera.exposure_s, 32 * LINE_TIME_S)
        stamps = np.array([info.timestamp_s for _, info in results])
        np.testing.assert_allclose(np.diff(stamps), period_s, atol=1e-6)
        assert camera.dropped_frames == 0
        assert ("start_acquisition", ("sequence", 8)) in fake.sensors[0].calls
        assert not fake.camera.acquiring
        frame, info = camera.snap_with_info()
        assert frame.shape == (32, 64)
        assert isinstance(info, FrameInfo)
        assert info.frame_index == 0
        assert info.timestamp_s > stamps[-1]


def test_lost_frames_are_counted(fake_dcam: Callable[..., Any], sensor_type: Any) -> None:
    fake = fake_dcam(sensor_type(frames_per_wait=5))
    with _camera(buffer_frames=3) as camera:
        infos = [info for _, info in camera.acquire_sequence_with_info(6)]
        assert not fake.camera.acquiring
    # each wait delivers a burst of 5 frames into a 3-frame ring: 2 are overwritten before they are read
    assert [i.frame_index for i in infos] == [2, 3, 4, 7, 8, 9]
    assert camera.dropped_frames == 4


def test_an_abandoned_sequence_stops_the_camera(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    with _camera() as camera:
        stream = camera.acquire_sequence(100)
        next(stream)
        assert fake.camera.acquiring
        stream.close()
        assert not fake.camera.acquiring


def test_shutdown_closes_the_camera(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    camera = _camera()
    camera.initialize()
    opened = fake.camera
    camera.shutdown()
    assert not opened.is_opened()
    assert fake.sensors[0].opened_by is None
    with _camera():  # it can be opened again
        pass


def test_missing_camera_index_and_busy_camera(fake_dcam: Callable[..., Any]) -> None:
    fake_dcam()
    with pytest.raises(ComponentError, match=r"camera 1 could not be opened: camera index 1 is not available \(1 cameras"):
        _camera(camera_index=1).initialize()
    with _camera(), pytest.raises(ComponentError, match="DCAMERR_BUSY"):
        _camera().initialize()


def test_roi_outside_the_sensor_is_reported_and_the_camera_closed(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    camera = _camera(roi_px=(32, 0, 64, 16))
    with pytest.raises(ComponentError, match=r"roi_px \(32, 0, 64, 16\) lies outside the 64 x 48 px sensor"):
        camera.initialize()
    assert fake.sensors[0].opened_by is None
    assert not camera.initialized


def test_without_dcam_api_one_clear_error() -> None:
    """The real pylablib on a machine without dcamapi.dll."""
    with pytest.raises(ComponentError) as info:
        _camera().initialize()
    message = str(info.value)
    assert message.startswith("Hamamatsu DCAM-API is not available (")
    assert "dcamapi" in message
    assert "Install Hamamatsu DCAM-API (https://dcam-api.com" in message


def test_without_pylablib_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pylablib", None)
    monkeypatch.setitem(sys.modules, "pylablib.devices", None)
    with pytest.raises(ComponentError, match=r"pylablib is not installed .*pip install pylablib-lightweight"):
        _camera().initialize()


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_hamamatsu.plugin"
    forbidden_imports = ("pylablib",)


def test_bit_depth_missing_from_the_camera(fake_dcam: Callable[..., Any], sensor_type: Any) -> None:
    fake_dcam(sensor_type(bit_depth=None))
    with pytest.raises(ComponentError, match=r"does not report its bit depth \(BIT PER CHANNEL = None\); set bit_depth"):
        _camera().initialize()
    with _camera(bit_depth=12) as camera:
        assert camera.bit_depth == 12


def test_params_roi_is_taken_once_and_later_choices_survive_a_restart(fake_dcam: Callable[..., Any]) -> None:
    fake = fake_dcam()
    camera = _camera(roi_px=(8, 4, 32, 16), binning=2, trigger_mode="software")
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
