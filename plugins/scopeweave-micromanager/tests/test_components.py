"""Camera, focus and XY stage against a real UniMMCore running Python devices."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scopeweave_mm_testdevices as devices
from scopeweave_micromanager import (
    CORES,
    MMCamera,
    MMCameraParams,
    MMFocusParams,
    MMFocusStage,
    MMXYParams,
    MMXYStage,
)

from scopeweave.errors import ComponentError, StageLimitError
from scopeweave.kinds import Roi
from scopeweave.testing import CameraContract, StageContract


def camera_of(scope: Any, **overrides: Any) -> MMCamera:
    values: dict[str, Any] = {"config_path": str(scope.config_path), "pixel_size_um": devices.PIXEL_SIZE_UM}
    values.update(overrides)
    return MMCamera(MMCameraParams(**values))


def focus_of(scope: Any, **overrides: Any) -> MMFocusStage:
    values: dict[str, Any] = {"config_path": str(scope.config_path), "limits_um": (50.0, 150.0)}
    values.update(overrides)
    return MMFocusStage(MMFocusParams(**values))


def xy_of(scope: Any, **overrides: Any) -> MMXYStage:
    values: dict[str, Any] = {"config_path": str(scope.config_path), "limits_um": ((-200.0, 200.0), (-100.0, 100.0))}
    values.update(overrides)
    return MMXYStage(MMXYParams(**values))


class TestCameraContract(CameraContract):
    binning_factor = None  # the default test camera's Binning property is read-only

    @pytest.fixture
    def camera(self, microscope: Any) -> MMCamera:
        return camera_of(microscope)


class TestBinningCameraContract(CameraContract):
    @pytest.fixture
    def camera(self, make_microscope: Callable[..., Any]) -> MMCamera:
        return camera_of(make_microscope(camera_class="BinningCamera", extra="#py Property,Cam,Noise,0"))


class TestFocusContract(StageContract):
    @pytest.fixture
    def stage(self, microscope: Any) -> MMFocusStage:
        return focus_of(microscope)


class TestXYContract(StageContract):
    @pytest.fixture
    def stage(self, microscope: Any) -> MMXYStage:
        return xy_of(microscope)


def test_components_of_one_config_share_one_core(microscope: Any) -> None:
    camera, focus, xy = camera_of(microscope), focus_of(microscope), xy_of(microscope)
    for component in (camera, focus, xy):
        component.initialize()
    assert camera.link.core is focus.link.core is xy.link.core
    assert len(CORES) == 1
    assert (camera.link.label, focus.link.label, xy.link.label) == ("Cam", "Z", "XY")
    camera.shutdown()
    focus.move_to_um((101.0,))  # the others still drive the core
    assert microscope.world.z_um == 101.0
    assert microscope.world.shutdowns == []
    focus.shutdown()
    xy.shutdown()
    assert len(CORES) == 0
    assert sorted(microscope.world.shutdowns) == ["Cam", "XY", "Z"], "the last user unloads every device"


def test_a_relative_path_to_the_same_config_shares_the_core(microscope: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(microscope.config_path.parent)
    with focus_of(microscope) as by_absolute, focus_of(microscope, config_path=microscope.config_path.name) as relative:
        assert by_absolute.link.core is relative.link.core
        assert len(CORES) == 1


def test_focus_limits_are_enforced_before_the_core_is_called(microscope: Any) -> None:
    with focus_of(microscope, limits_um=(95.0, 105.0)) as focus:
        focus.move_to_um((104.0,))
        sent = list(microscope.world.z_commands)
        for bad in (105.5, 94.0, float("nan")):
            with pytest.raises(StageLimitError):
                focus.move_to_um((bad,))
        assert microscope.world.z_commands == sent
        assert focus.position_um() == (104.0,)


def test_xy_limits_are_enforced_per_axis(microscope: Any) -> None:
    with xy_of(microscope) as xy:
        xy.move_to_um((150.0, 50.0))
        with pytest.raises(StageLimitError, match="axis 'y'"):
            xy.move_to_um((0.0, 150.0))
        assert microscope.world.xy_commands == [(150.0, 50.0)]


def test_device_errors_are_reported_with_the_device(microscope: Any) -> None:
    with focus_of(microscope, limits_um=(0.0, 400.0)) as focus:
        with pytest.raises(ComponentError, match=r"focus stage 'Z': moving to 350.0000 um failed: .*beyond the travel"):
            focus.move_to_um((350.0,))
        assert focus.position_um() == (100.0,)


def test_the_camera_sees_the_defocus_the_focus_stage_sets(microscope: Any) -> None:
    background = devices.OFFSET_ADU + devices.BACKGROUND_PER_PX_PER_MS * 10.0
    with camera_of(microscope) as camera, focus_of(microscope) as focus:
        for defocus_um in (-0.4, 0.0, 0.3):
            focus.move_to_um((100.0 + defocus_um,))
            _, _, width_x, width_y = devices.spot_moments(camera.snap(), background)
            assert width_x == pytest.approx(float(devices.PSF_X.width_px(defocus_um)), rel=0.04)
            assert width_y == pytest.approx(float(devices.PSF_Y.width_px(defocus_um)), rel=0.04)


def test_the_xy_stage_moves_the_bead(microscope: Any) -> None:
    background = devices.OFFSET_ADU + devices.BACKGROUND_PER_PX_PER_MS * 10.0
    with camera_of(microscope) as camera, xy_of(microscope) as xy:
        x0, y0, _, _ = devices.spot_moments(camera.snap(), background)
        xy.move_to_um((1.0, -0.5))
        x1, y1, _, _ = devices.spot_moments(camera.snap(), background)
    assert x1 - x0 == pytest.approx(-1.0 / devices.PIXEL_SIZE_UM, abs=0.05)
    assert y1 - y0 == pytest.approx(0.5 / devices.PIXEL_SIZE_UM, abs=0.05)


def test_exposure_reaches_the_device_and_scales_the_signal(microscope: Any) -> None:
    with camera_of(microscope, exposure_ms=10.0) as camera:
        assert camera.link.core.getExposure("Cam") == 10.0
        signal_10 = camera.snap().astype(float).sum() - devices.OFFSET_ADU * 48 * 64
        camera.set_exposure_ms(20.0)
        assert camera.exposure_ms == 20.0
        signal_20 = camera.snap().astype(float).sum() - devices.OFFSET_ADU * 48 * 64
    assert signal_20 / signal_10 == pytest.approx(2.0, rel=1e-3)


def test_roi_is_applied_by_the_core(microscope: Any) -> None:
    with camera_of(microscope) as camera:
        full = camera.snap()
        roi = Roi(x_px=20, y_px=10, width_px=24, height_px=16)
        camera.set_roi(roi)
        assert camera.link.core.getROI("Cam") == [20, 10, 24, 16]
        np.testing.assert_array_equal(camera.snap(), full[10:26, 20:44])
        with pytest.raises(ValueError, match="roi"):
            camera.set_roi(Roi(x_px=60, y_px=0, width_px=8, height_px=8))
        camera.set_roi(None)
        assert camera.link.core.getROI("Cam") == [0, 0, 64, 48]


def test_a_roi_the_camera_would_change_is_refused(make_microscope: Callable[..., Any]) -> None:
    scope = make_microscope(camera_class="GridCamera")
    with camera_of(scope, roi_px=(8, 8, 16, 16)) as camera:
        with pytest.raises(ValueError, match=r"would apply \(x, y, width, height\) = \(0, 0, 8, 8\)"):
            camera.set_roi(Roi(x_px=2, y_px=3, width_px=10, height_px=9))
        assert camera.roi == Roi(x_px=8, y_px=8, width_px=16, height_px=16)
        assert camera.link.core.getROI("Cam") == [8, 8, 16, 16]
        assert camera.snap().shape == (16, 16)


def test_roi_from_params(microscope: Any) -> None:
    with camera_of(microscope, roi_px=(4, 8, 16, 12)) as camera:
        assert camera.snap().shape == (12, 16)
    with pytest.raises(ComponentError, match=r"roi_px \(60, 0, 16, 12\) lies outside the 64 x 48 px frame"):
        camera_of(microscope, roi_px=(60, 0, 16, 12)).initialize()
    assert len(CORES) == 0, "a failed start releases the core"


def test_sequence_streams_through_the_circular_buffer(microscope: Any) -> None:
    with camera_of(microscope) as camera:
        renders = microscope.world.renders
        frames = list(camera.acquire_sequence(7))
        assert len(frames) == 7
        assert microscope.world.renders - renders == 7
        for frame in frames[1:]:
            np.testing.assert_array_equal(frame, frames[0])
        assert not camera.link.core.isSequenceRunning("Cam")
        stream = camera.acquire_sequence(1000)
        next(stream)
        stream.close()
        assert not camera.link.core.isSequenceRunning("Cam"), "an abandoned sequence is stopped"


def test_sequence_frames_follow_the_focus(make_microscope: Callable[..., Any]) -> None:
    scope = make_microscope(extra="#py Property,Cam,Noise,0")
    background = devices.OFFSET_ADU + devices.BACKGROUND_PER_PX_PER_MS * 10.0
    with camera_of(scope) as camera, focus_of(scope) as focus:
        focus.move_to_um((100.5,))
        frame = next(iter(list(camera.acquire_sequence(2))))
    _, _, width_x, width_y = devices.spot_moments(frame, background)
    assert width_y / width_x == pytest.approx(float(devices.PSF_Y.width_px(0.5) / devices.PSF_X.width_px(0.5)),
                                              rel=0.04)


def test_pixel_size_and_bit_depth_from_the_core(make_microscope: Callable[..., Any]) -> None:
    scope = make_microscope(extra="ConfigPixelSize,Res65,Core,AutoShutter,1\nPixelSize_um,Res65,0.065")
    camera = MMCamera(MMCameraParams(config_path=str(scope.config_path)))
    with pytest.raises(RuntimeError, match="pixel size is read from the Micro-Manager configuration"):
        _ = camera.pixel_size_um
    with camera:
        assert camera.pixel_size_um == 0.065
        assert camera.bit_depth == 16
    assert MMCamera(MMCameraParams(config_path=str(scope.config_path), bit_depth=12)).bit_depth == 12


def test_missing_pixel_size_is_a_clear_error(microscope: Any) -> None:
    with pytest.raises(ComponentError, match="defines no pixel size .* set pixel_size_um"):
        MMCamera(MMCameraParams(config_path=str(microscope.config_path))).initialize()
    assert len(CORES) == 0


def test_explicit_device_labels(microscope: Any) -> None:
    with camera_of(microscope, device="Cam") as camera, focus_of(microscope, device="Z") as focus:
        assert camera.link.label == "Cam"
        assert focus.link.label == "Z"
    with pytest.raises(ComponentError, match=r"has no camera named 'Nope' \(cameras: Cam\)"):
        camera_of(microscope, device="Nope").initialize()
    with pytest.raises(ComponentError, match=r"has no focus stage named 'XY' \(focus stages: Z\)"):
        focus_of(microscope, device="XY").initialize()
    assert len(CORES) == 0


def test_binned_frames_are_block_sums_through_the_binning_property(make_microscope: Callable[..., Any]) -> None:
    scope = make_microscope(camera_class="BinningCamera", extra="#py Property,Cam,Noise,0")
    with camera_of(scope) as camera:
        roi = Roi(x_px=8, y_px=4, width_px=48, height_px=40)
        camera.set_roi(roi)
        unbinned = camera.snap().astype(np.int64)
        camera.set_binning(4)
        assert str(camera.link.core.getProperty("Cam", "Binning")) == "4"
        assert camera.link.core.getROI("Cam") == [2, 1, 12, 10], "Micro-Manager places the ROI in binned pixels"
        assert camera.pixel_size_um == pytest.approx(4 * devices.PIXEL_SIZE_UM)
        np.testing.assert_array_equal(camera.snap(), unbinned.reshape(10, 4, 12, 4).sum(axis=(1, 3)))
        frames = list(camera.acquire_sequence(2))
        np.testing.assert_array_equal(frames[1], unbinned.reshape(10, 4, 12, 4).sum(axis=(1, 3)))
        camera.set_binning(1)
        assert camera.link.core.getROI("Cam") == [8, 4, 48, 40]
        np.testing.assert_array_equal(camera.snap(), unbinned)


def test_binning_from_params_and_configs_that_bin(make_microscope: Callable[..., Any]) -> None:
    scope = make_microscope(camera_class="BinningCamera",
                            extra="#py Property,Cam,Noise,0\n#py Property,Cam,Binning,2\n"
                                  "ConfigPixelSize,Res,Core,AutoShutter,1\nPixelSize_um,Res,0.1")
    camera = MMCamera(MMCameraParams(config_path=str(scope.config_path), binning=2))
    with camera:
        assert camera.sensor_shape_px == devices.SENSOR_SHAPE_PX, "the sensor is read unbinned"
        assert camera.pixel_size_um == pytest.approx(0.2), "the calibration is read at binning 1"
        assert camera.snap().shape == (24, 32)
    with camera_of(scope) as unbinned:
        assert str(unbinned.link.core.getProperty("Cam", "Binning")) == "1", "binning is set by the component, not the config"
        assert unbinned.snap().shape == devices.SENSOR_SHAPE_PX


def test_binnings_the_camera_does_not_offer_are_refused(make_microscope: Callable[..., Any], microscope: Any) -> None:
    scope = make_microscope(camera_class="BinningCamera", extra="#py Property,Cam,Noise,0", name="binning.cfg")
    with camera_of(scope) as camera:
        camera.set_roi(Roi(x_px=0, y_px=0, width_px=48, height_px=48))
        with pytest.raises(ValueError, match=r"'binning' 3 is not supported by camera 'Cam': it offers 1, 2, 4"):
            camera.set_binning(3)
        camera.set_roi(Roi(x_px=1, y_px=0, width_px=16, height_px=16))
        with pytest.raises(ValueError, match=r"x and y must be multiples of the binning 2"):
            camera.set_binning(2)
        assert camera.binning == 1
        assert str(camera.link.core.getProperty("Cam", "Binning")) == "1", "the binning is restored"
        assert camera.link.core.getROI("Cam") == [1, 0, 16, 16], "and the ROI"
        assert camera.snap().shape == (16, 16)
    with camera_of(microscope) as fixed:
        with pytest.raises(ValueError, match="'binning' 2 is not supported by camera 'Cam': it has no settable Binning"):
            fixed.set_binning(2)
        assert fixed.snap().shape == devices.SENSOR_SHAPE_PX


def test_sequence_frames_carry_the_core_frame_number_and_time(microscope: Any) -> None:
    import time

    with camera_of(microscope) as camera:
        before_s = time.perf_counter()
        results = list(camera.acquire_sequence_with_info(5))
        after_s = time.perf_counter()
    assert [info.frame_index for _, info in results] == [0, 1, 2, 3, 4]
    stamps = [info.timestamp_s for _, info in results]
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert before_s <= stamps[0]
    assert stamps[-1] <= after_s
