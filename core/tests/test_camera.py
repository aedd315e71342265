"""The Camera base class: settings, binning, accepted exposure, sensor size, frame info, trigger capability."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
import pytest
from numpy.typing import NDArray

from scopeweave.kinds import STANDARD_TRIGGER_MODES, Camera, FrameInfo, Roi, SupportsTriggerMode
from scopeweave.testing import CameraContract

LINE_TIME_MS = 0.01
SENSOR = (24, 32)


def scene(shape_px: tuple[int, int], exposure_ms: float) -> NDArray[np.float64]:
    """Counts of every sensor pixel for an exposure (test-side ground truth)."""
    y, x = np.mgrid[0 : shape_px[0], 0 : shape_px[1]]
    return 100.0 + ((3 * x + 5 * y) % 64) * exposure_ms


def binned(counts: NDArray[np.float64], roi: Roi, binning: int) -> NDArray[np.float64]:
    crop = counts[roi.y_px : roi.y_px + roi.height_px, roi.x_px : roi.x_px + roi.width_px]
    return crop.reshape(roi.height_px // binning, binning, roi.width_px // binning, binning).sum(axis=(1, 3))


@attrs.define
class Device:
    """What an example camera talks to: keeps state, records every call."""

    shape_px: tuple[int, int] = SENSOR
    exposure_ms: float = 1.0
    binning: int = 1
    roi: Roi | None = None
    trigger: str = "internal"
    clock_s: float = 0.0
    opened: bool = False
    calls: list[tuple[str, Any]] = attrs.field(factory=list)
    stops: int = 0

    def frame(self) -> NDArray[np.uint16]:
        assert self.opened
        assert self.roi is not None
        self.clock_s += self.exposure_ms / 1000.0
        return binned(scene(self.shape_px, self.exposure_ms), self.roi, self.binning).astype(np.uint16)


class ExampleCamera(Camera):
    """Bins 1, 2 or 4; rounds the exposure to a line time; knows its sensor size up front."""

    supports_binning = True
    trigger_modes: tuple[str, ...] = (*STANDARD_TRIGGER_MODES, "gated")

    def __init__(self, device: Device, *, exposure_ms: float = 1.0, binning: int = 1) -> None:
        super().__init__(exposure_ms=exposure_ms, sensor_shape_px=device.shape_px, binning=binning)
        self.device = device
        self._trigger_mode = "internal"

    @property
    def pixel_size_um(self) -> float:
        return 0.1 * self.binning

    @property
    def bit_depth(self) -> int:
        return 16

    @property
    def trigger_mode(self) -> str:
        return self._trigger_mode

    def set_trigger_mode(self, mode: str) -> None:
        if mode not in self.trigger_modes:
            raise ValueError(f"'trigger_mode' must be one of {self.trigger_modes} (got {mode!r}).")
        self.device.trigger = mode
        self._trigger_mode = mode

    def _do_initialize(self) -> None:
        self.device.opened = True
        super()._do_initialize()

    def _do_shutdown(self) -> None:
        self.device.opened = False

    def _apply_exposure_ms(self, exposure_ms: float) -> float:
        self.device.calls.append(("exposure", exposure_ms))
        self.device.exposure_ms = max(round(exposure_ms / LINE_TIME_MS), 1) * LINE_TIME_MS
        return self.device.exposure_ms

    def _apply_binning(self, binning: int) -> None:
        self.device.calls.append(("binning", binning))
        if binning not in (1, 2, 4):
            raise ValueError(f"'binning' {binning} is not offered (1, 2 or 4).")
        self.device.binning = binning

    def _apply_roi(self, roi: Roi) -> None:
        self.device.calls.append(("roi", roi))
        self.device.roi = roi

    def _do_snap(self) -> NDArray[np.uint16]:
        return self.device.frame()

    def _do_snap_with_info(self) -> tuple[NDArray[np.uint16], FrameInfo]:
        frame = self.device.frame()
        return frame, FrameInfo(frame_index=0, timestamp_s=self.device.clock_s)

    def _do_acquire_sequence(self, n_frames: int) -> Iterator[tuple[NDArray[np.uint16], FrameInfo]]:
        self.device.calls.append(("start", n_frames))
        try:
            for index in range(n_frames):
                frame = self.device.frame()
                yield frame, FrameInfo(frame_index=index, timestamp_s=self.device.clock_s)
        finally:
            self.device.stops += 1


class LateSensorCamera(Camera):
    """Cannot bin; reads its sensor size from the device when it starts (defaults for everything else)."""

    def __init__(self, device: Device, *, forget_sensor: bool = False) -> None:
        super().__init__(exposure_ms=2.0)
        self.device = device
        self.forget_sensor = forget_sensor

    @property
    def pixel_size_um(self) -> float:
        return 0.2

    @property
    def bit_depth(self) -> int:
        return 12

    def _do_initialize(self) -> None:
        self.device.opened = True
        if not self.forget_sensor:
            self._set_sensor_shape_px(self.device.shape_px)
        super()._do_initialize()

    def _do_shutdown(self) -> None:
        self.device.opened = False

    def _apply_exposure_ms(self, exposure_ms: float) -> float:
        self.device.exposure_ms = exposure_ms
        return exposure_ms

    def _apply_roi(self, roi: Roi) -> None:
        self.device.roi = roi

    def _do_snap(self) -> NDArray[np.uint16]:
        return self.device.frame()


class TestExampleCameraContract(CameraContract):
    @pytest.fixture
    def camera(self) -> ExampleCamera:
        return ExampleCamera(Device())


class TestExampleCameraBinningFourContract(CameraContract):
    binning_factor = 4

    @pytest.fixture
    def camera(self) -> ExampleCamera:
        return ExampleCamera(Device())


class TestLateSensorCameraContract(CameraContract):
    @pytest.fixture
    def camera(self) -> LateSensorCamera:
        return LateSensorCamera(Device())


# --- binning ---------------------------------------------------------------------------
def test_binned_frames_sum_the_right_pixels() -> None:
    device = Device()
    with ExampleCamera(device, exposure_ms=2.0) as camera:
        roi = Roi(x_px=4, y_px=8, width_px=16, height_px=8)
        camera.set_roi(roi)
        camera.set_binning(4)
        assert camera.frame_shape_px == (2, 4)
        np.testing.assert_array_equal(camera.snap(), binned(scene(SENSOR, 2.0), roi, 4))
        camera.set_binning(2)
        np.testing.assert_array_equal(camera.snap(), binned(scene(SENSOR, 2.0), roi, 2))
        assert camera.pixel_size_um == pytest.approx(0.2)


def test_binning_is_applied_at_start_between_exposure_and_roi() -> None:
    device = Device()
    camera = ExampleCamera(device, exposure_ms=3.0, binning=2)
    assert device.calls == [], "nothing is sent before the camera starts"
    assert camera.frame_shape_px == (12, 16)
    with camera:
        assert [name for name, _ in device.calls] == ["exposure", "binning", "roi"]
        assert device.binning == 2
        assert camera.snap().shape == (12, 16)


def test_full_roi_is_trimmed_to_whole_bins() -> None:
    camera = ExampleCamera(Device(shape_px=(10, 15)), binning=2)
    assert camera.roi == Roi(x_px=0, y_px=0, width_px=14, height_px=10)
    with camera:
        camera.set_binning(1)
        camera.set_roi(None)
        assert camera.roi == Roi.full((10, 15))
        with pytest.raises(ValueError, match=r"'binning' 2 does not divide the ROI .* multiples of 2"):
            camera.set_binning(2)
        camera.set_roi(Roi(x_px=1, y_px=0, width_px=12, height_px=8))
        camera.set_binning(4)
        camera.set_roi(None)
        assert camera.roi == Roi(x_px=0, y_px=0, width_px=12, height_px=8)
        assert camera.snap().shape == (2, 3)
    with pytest.raises(ValueError, match="'binning' 16 is larger than the 15 x 10 px sensor"):
        ExampleCamera(Device(shape_px=(10, 15)), binning=16)


def test_a_binning_the_device_refuses_leaves_everything_as_it_was() -> None:
    device = Device()
    with ExampleCamera(device) as camera:
        camera.set_roi(Roi(x_px=0, y_px=0, width_px=24, height_px=24))
        with pytest.raises(ValueError, match="'binning' 3 is not offered"):
            camera.set_binning(3)
        assert camera.binning == 1
        assert device.binning == 1
        assert camera.snap().shape == (24, 24)


def test_refused_settings_never_reach_the_device() -> None:
    device = Device()
    with ExampleCamera(device) as camera:
        camera.set_binning(2)
        sent = list(device.calls)
        for bad in (0, -1, 2.5, True):
            with pytest.raises(ValueError, match="'binning'"):
                camera.set_binning(bad)
        with pytest.raises(ValueError, match="multiples of the binning 2"):
            camera.set_roi(Roi(x_px=0, y_px=0, width_px=5, height_px=4))
        with pytest.raises(ValueError, match="must lie inside the sensor"):
            camera.set_roi(Roi(x_px=30, y_px=0, width_px=4, height_px=4))
        for bad_ms in (0.0, math.nan, "fast", "5", True):
            with pytest.raises(ValueError, match="exposure_ms"):
                camera.set_exposure_ms(bad_ms)  # type: ignore[arg-type]
        assert device.calls == sent


def test_cameras_that_cannot_bin_refuse_it_clearly() -> None:
    device = Device()
    with pytest.raises(ValueError, match="'binning' must be 1: LateSensorCamera cannot bin"):
        LateSensorCamera(device).set_binning(2)
    with LateSensorCamera(device) as camera:
        with pytest.raises(ValueError, match="cannot bin"):
            camera.set_binning(4)
        camera.set_binning(1)
        assert camera.frame_shape_px == camera.roi.shape_px == SENSOR


def test_a_camera_claiming_binning_must_implement_it() -> None:
    with pytest.raises(TypeError, match="sets supports_binning but does not implement _apply_binning"):

        class Claims(LateSensorCamera):
            supports_binning = True


# --- exposure ----------------------------------------------------------------------------
def test_exposure_reports_what_the_device_accepted() -> None:
    device = Device()
    camera = ExampleCamera(device, exposure_ms=2.004)
    assert camera.exposure_ms == 2.004, "before the start: the requested value"
    with camera:
        assert camera.exposure_ms == pytest.approx(2.0)
        camera.set_exposure_ms(0.0001)
        assert camera.exposure_ms == pytest.approx(LINE_TIME_MS)
        assert device.exposure_ms == camera.exposure_ms
        camera.set_exposure_ms(5.126)
        np.testing.assert_allclose(camera.snap(), scene(SENSOR, 5.13).astype(np.uint16))


def test_a_backend_that_returns_no_accepted_exposure_is_reported() -> None:
    class Silent(LateSensorCamera):
        def _apply_exposure_ms(self, exposure_ms: float) -> float:
            self.device.exposure_ms = exposure_ms
            return None  # type: ignore[return-value]

    with pytest.raises(RuntimeError, match=r"Silent._apply_exposure_ms must return the exposure .* \(got None\)"):
        Silent(Device()).initialize()


# --- sensor size -----------------------------------------------------------------------------
def test_sensor_size_comes_from_the_device() -> None:
    device = Device(shape_px=(20, 28))
    camera = LateSensorCamera(device)
    for read in (lambda: camera.sensor_shape_px, lambda: camera.roi, lambda: camera.frame_shape_px):
        with pytest.raises(RuntimeError, match=r"LateSensorCamera reads its sensor size from the device; call initialize"):
            read()
    with camera:
        assert camera.sensor_shape_px == (20, 28)
        assert camera.roi == Roi.full((20, 28))
        roi = Roi(x_px=2, y_px=2, width_px=8, height_px=6)
        camera.set_roi(roi)
    with camera:
        assert camera.roi == roi, "the same sensor keeps the ROI"
    device.shape_px = (16, 16)
    with camera:
        assert camera.roi == Roi.full((16, 16)), "another sensor size resets the ROI"
        assert camera.snap().shape == (16, 16)


def test_forgetting_to_set_the_sensor_size_is_reported() -> None:
    with pytest.raises(RuntimeError, match=r"_do_initialize must call _set_sensor_shape_px\(\)"):
        LateSensorCamera(Device(), forget_sensor=True).initialize()


def test_wrong_frame_shapes_are_caught() -> None:
    class Careless(LateSensorCamera):
        def _do_snap(self) -> NDArray[np.uint16]:
            return np.zeros((3, 3), dtype=np.uint16)

    with Careless(Device()) as camera:
        with pytest.raises(RuntimeError, match=r"returned a frame of shape \(3, 3\); the ROI .* needs \(24, 32\)"):
            camera.snap()
        with pytest.raises(RuntimeError, match="returned a frame of shape"):
            list(camera.acquire_sequence_with_info(2))


# --- frame info and sequences ---------------------------------------------------------------
def test_default_sequences_stamp_frames_with_a_monotonic_clock() -> None:
    with LateSensorCamera(Device()) as camera:
        infos = [info for _, info in camera.acquire_sequence_with_info(5)]
        _, snapped = camera.snap_with_info()
    assert [i.frame_index for i in infos] == [0, 1, 2, 3, 4]
    assert np.all(np.diff([i.timestamp_s for i in infos]) > 0)
    assert snapped.frame_index == 0
    assert snapped.timestamp_s > infos[-1].timestamp_s


def test_hardware_timestamps_come_through() -> None:
    device = Device()
    with ExampleCamera(device, exposure_ms=4.0) as camera:
        results = list(camera.acquire_sequence_with_info(3))
        frames = list(camera.acquire_sequence(2))
    np.testing.assert_allclose([info.timestamp_s for _, info in results], [0.004, 0.008, 0.012])
    assert [info.frame_index for _, info in results] == [0, 1, 2]
    assert len(frames) == 2
    assert ("start", 3) in device.calls
    assert ("start", 2) in device.calls


def test_closing_a_sequence_early_stops_the_hardware() -> None:
    device = Device()
    with ExampleCamera(device) as camera:
        for stops, stream in enumerate((camera.acquire_sequence(100), camera.acquire_sequence_with_info(100))):
            next(stream)
            assert device.stops == stops, "the sequence is running"
            stream.close()  # type: ignore[attr-defined]
            assert device.stops == stops + 1
        assert list(camera.acquire_sequence(0)) == []
        assert device.stops == 2, "an empty sequence never starts the hardware"


def test_sequence_arguments_are_checked_when_called() -> None:
    camera = LateSensorCamera(Device())
    with pytest.raises(RuntimeError, match="not initialized"):
        camera.acquire_sequence(2)
    with camera:
        with pytest.raises(ValueError, match="'n_frames' must be an integer"):
            camera.acquire_sequence_with_info(2.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="'n_frames' must be >= 0"):
            camera.acquire_sequence(-3)


def test_frame_info_is_a_validated_value() -> None:
    info = FrameInfo(frame_index=3, timestamp_s=1.5)
    assert (info.frame_index, info.timestamp_s) == (3, 1.5)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        info.frame_index = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        FrameInfo(3, 1.5)  # type: ignore[misc]
    with pytest.raises(ValueError, match="'frame_index' must be >= 0"):
        FrameInfo(frame_index=-1, timestamp_s=0.0)
    with pytest.raises(ValueError, match="'timestamp_s' must be finite"):
        FrameInfo(frame_index=0, timestamp_s=math.nan)


# --- trigger capability ----------------------------------------------------------------------
def test_trigger_mode_capability_is_detected() -> None:
    device = Device()
    camera = ExampleCamera(device)
    assert isinstance(camera, SupportsTriggerMode)
    assert not isinstance(LateSensorCamera(device), SupportsTriggerMode)
    camera.set_trigger_mode("gated")
    assert device.trigger == "gated"


class HalfTriggered(LateSensorCamera):
    """Has set_trigger_mode but no trigger_modes: the contract flags it."""

    def set_trigger_mode(self, mode: str) -> None:
        self.device.trigger = mode


def test_the_contract_flags_a_partial_trigger_api() -> None:
    with HalfTriggered(Device()) as camera, pytest.raises(AssertionError, match="only part of SupportsTriggerMode"):
        CameraContract().test_trigger_modes(camera)
