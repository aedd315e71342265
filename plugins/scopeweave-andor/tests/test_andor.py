"""The Andor camera through a faithful fake of pylablib's AndorSDK3Camera."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scopeweave_andor import AndorCamera, AndorParams
from scopeweave_andor.camera import TRIGGER_MODES

from scopeweave.errors import ComponentError
from scopeweave.kinds import FrameInfo, Roi
from scopeweave.testing import CameraContract, RegistrationContract

ROW_TIME_S = 1.0e-5
CLOCK_HZ = 100_000_000


def _camera(**overrides: Any) -> AndorCamera:
    values: dict[str, Any] = {"pixel_size_um": 0.065, "frame_timeout_ms": 50.0}
    values.update(overrides)
    return AndorCamera(AndorParams(**values))


class TestAndorContract(CameraContract):
    @pytest.fixture
    def camera(self, fake_andor: Callable[..., Any]) -> AndorCamera:
        fake_andor()
        return _camera()


def test_sensor_bit_depth_and_device_info_come_from_the_camera(fake_andor: Callable[..., Any],
                                                                sensor_type: Any) -> None:
    fake_andor(sensor_type(width=96, height=80, bit_depth="12 Bit (low noise)"))
    camera = _camera()
    with pytest.raises(RuntimeError, match="call initialize"):
        _ = camera.roi
    with camera:
        assert camera.sensor_shape_px == (80, 96)
        assert camera.bit_depth == 12
        assert camera.device_info["serial_number"] == "VSC-01234"


def test_exposure_goes_to_pylablib_in_seconds(fake_andor: Callable[..., Any], expected: Callable[..., Any]) -> None:
    fake = fake_andor()
    with _camera(exposure_ms=20.0) as camera:
        assert fake.camera.exposure_s == pytest.approx(0.02)
        assert camera.exposure_ms == pytest.approx(20.0)
        np.testing.assert_array_equal(camera.snap(), expected(48, 64, 0.02, (0, 0, 64, 48), 1))
        camera.set_exposure_ms(100_000.0)  # SDK3 truncates to the feature's range
        assert camera.exposure_ms == pytest.approx(30_000.0), "the exposure the camera uses"
        camera.set_exposure_ms(0.001)
        assert camera.exposure_ms == pytest.approx(0.02), "the shortest exposure of the fake camera"
        camera.set_exposure_ms(1.23456)  # and rounds to its 10 us granularity
        assert camera.exposure_ms == pytest.approx(1.23)
        assert fake.camera.exposure_s == pytest.approx(1.23e-3)


def test_aoi_and_binning_crop_the_right_pixels(fake_andor: Callable[..., Any], expected: Callable[..., Any]) -> None:
    fake = fake_andor()
    with _camera(roi_px=(5, 3, 30, 24), binning=3) as camera:
        assert fake.camera.roi == (5, 35, 3, 27, 3, 3)
        assert camera.frame_shape_px == (8, 10)
        assert camera.pixel_size_um == pytest.approx(0.195)
        np.testing.assert_array_equal(camera.snap(), expected(48, 64, fake.camera.exposure_s, (5, 3, 30, 24), 3))
        camera.set_binning(1)
        camera.set_roi(Roi(x_px=11, y_px=7, width_px=13, height_px=9))
        np.testing.assert_array_equal(camera.snap(), expected(48, 64, fake.camera.exposure_s, (11, 7, 13, 9), 1))


def test_aois_the_camera_would_change_are_refused(fake_andor: Callable[..., Any]) -> None:
    fake = fake_andor()
    with _camera(roi_px=(8, 8, 16, 16)) as camera:
        with pytest.raises(ValueError, match=r"would apply .* = \(8, 16, 8, 16, 1, 1\); keep the AOI above"):
            camera.set_roi(Roi(x_px=8, y_px=8, width_px=4, height_px=4))
        assert camera.roi == Roi(x_px=8, y_px=8, width_px=16, height_px=16)
        assert fake.camera.roi == (8, 24, 8, 24, 1, 1)
        camera.set_roi(None)
        with pytest.raises(ValueError, match="with binning 16 is not supported"):
            camera.set_binning(16)
        assert camera.binning == 1


def test_software_trigger_fires_once_per_frame(fake_andor: Callable[..., Any]) -> None:
    fake = fake_andor()
    with _camera(trigger_mode="software") as camera:
        assert fake.camera.trigger == "software"
        camera.snap()
        assert len(list(camera.acquire_sequence(3))) == 3
    triggers = [args for name, args in fake.sensors[0].calls if name == "call_command" and args == ("SoftwareTrigger",)]
    assert len(triggers) == 4


def test_external_modes_wait_for_pulses(fake_andor: Callable[..., Any]) -> None:
    fake = fake_andor()
    with _camera(trigger_mode="external_exposure") as camera:
        assert fake.camera.trigger == "ext_exp"
        with pytest.raises(ComponentError, match=r"no frame within 50 ms \(trigger mode 'external_exposure'\); is the"):
            camera.snap()
        fake.sensors[0].external_pulses = 2
        assert len(list(camera.acquire_sequence(2))) == 2


def test_trigger_modes_map_to_pylablib_names(fake_andor: Callable[..., Any]) -> None:
    fake = fake_andor()
    with _camera() as camera:
        for mode, sdk_name in TRIGGER_MODES.items():
            camera.set_trigger_mode(mode)
            assert fake.camera.trigger == sdk_name
        with pytest.raises(ValueError, match="'trigger_mode' must be one of"):
            camera.set_trigger_mode("master_pulse")


def test_hardware_timestamps_from_the_reset_clock(fake_andor: Callable[..., Any]) -> None:
    fake = fake_andor()
    with _camera(exposure_ms=5.0, roi_px=(0, 0, 64, 40)) as camera:
        assert ("call_command", ("TimestampClockReset",)) in fake.sensors[0].calls
        assert camera.timestamp_clock_hz == CLOCK_HZ
        results = list(camera.acquire_sequence_with_info(5))
    period_s = max(0.005, 40 * ROW_TIME_S)
    stamps = np.array([info.timestamp_s for _, info in results])
    np.testing.assert_allclose(stamps, period_s * np.arange(1, 6), atol=1e-8)
    assert [info.frame_index for _, info in results] == [0, 1, 2, 3, 4]
    assert isinstance(results[0][1], FrameInfo)


def test_camera_without_metadata_is_refused(fake_andor: Callable[..., Any], sensor_type: Any) -> None:
    fake = fake_andor(sensor_type(metadata_supported=False))
    with pytest.raises(ComponentError, match="does not stream frame metadata"):
        _camera().initialize()
    assert fake.sensors[0].opened_by is None


def test_lost_frames_are_counted(fake_andor: Callable[..., Any], sensor_type: Any) -> None:
    fake_andor(sensor_type(frames_per_wait=4))
    with _camera(buffer_frames=2) as camera:
        infos = [info for _, info in camera.acquire_sequence_with_info(4)]
    assert [i.frame_index for i in infos] == [2, 3, 6, 7]
    assert camera.dropped_frames == 4


def test_an_abandoned_sequence_stops_the_camera(fake_andor: Callable[..., Any]) -> None:
    fake = fake_andor()
    with _camera() as camera:
        stream = camera.acquire_sequence(50)
        next(stream)
        assert fake.camera.acquiring
        stream.close()
        assert not fake.camera.acquiring


def test_missing_camera_index(fake_andor: Callable[..., Any]) -> None:
    fake_andor()
    with pytest.raises(ComponentError, match=r"Andor SDK3 camera 2 could not be opened: camera index 2 is not"):
        _camera(camera_index=2).initialize()


def test_without_andor_sdk3_one_clear_error() -> None:
    """The real pylablib on a machine without atcore.dll."""
    with pytest.raises(ComponentError) as info:
        _camera().initialize()
    message = str(info.value)
    assert message.startswith("Andor SDK3 is not available (")
    assert "Install Andor SDK3 or Andor Solis" in message


def test_without_pylablib_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pylablib", None)
    monkeypatch.setitem(sys.modules, "pylablib.devices", None)
    with pytest.raises(ComponentError, match=r"pylablib is not installed .*pip install pylablib-lightweight"):
        _camera().initialize()


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_andor.plugin"
    forbidden_imports = ("pylablib",)


def test_bit_depth_missing_from_the_camera(fake_andor: Callable[..., Any], sensor_type: Any) -> None:
    fake_andor(sensor_type(bit_depth=None))
    with pytest.raises(ComponentError, match=r"does not report its bit depth \(BitDepth = None\); set bit_depth"):
        _camera().initialize()
    with _camera(bit_depth=12) as camera:
        assert camera.bit_depth == 12
