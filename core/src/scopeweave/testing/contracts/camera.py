"""Contract every Camera backend must satisfy."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

from scopeweave.kinds import Camera, FrameInfo, Roi, SupportsTriggerMode


def _aligned_roi(sensor_shape_px: tuple[int, int], step: int) -> Roi:
    """A ROI near the sensor's centre, about half its size, with position and size multiples of ``step``."""
    height, width = sensor_shape_px
    roi_width, roi_height = max(width // 2 // step * step, step), max(height // 2 // step * step, step)
    return Roi(x_px=(width - roi_width) // 2 // step * step, y_px=(height - roi_height) // 2 // step * step,
               width_px=roi_width, height_px=roi_height)


class CameraContract:
    """Subclass and provide a ``camera`` fixture returning an *un-initialised* camera.

    ``binning_factor`` is a binning the camera under test accepts; it is
    tested when the camera's class sets ``supports_binning``.  Set it to
    ``None`` when the device under test cannot bin (the contract then checks
    that binning is refused).
    """

    binning_factor: ClassVar[int | None] = 2

    @pytest.fixture
    def camera(self) -> Camera:  # pragma: no cover - overridden
        raise pytest.UsageError("CameraContract subclasses must define a 'camera' fixture")

    @pytest.fixture
    def started(self, camera: Camera) -> Iterator[Camera]:
        camera.initialize()
        try:
            yield camera
        finally:
            camera.shutdown()

    def _factor(self, camera: Camera) -> int | None:
        return self.binning_factor if camera.supports_binning else None

    # --- lifecycle ------------------------------------------------------------
    def test_is_a_camera(self, camera: Camera) -> None:
        assert isinstance(camera, Camera)

    def test_snap_needs_initialize(self, camera: Camera) -> None:
        with pytest.raises(RuntimeError, match="not initialized"):
            camera.snap()
        with pytest.raises(RuntimeError, match="not initialized"):
            camera.acquire_sequence_with_info(1)

    def test_lifecycle_is_idempotent(self, camera: Camera) -> None:
        camera.initialize()
        camera.initialize()
        assert camera.initialized
        camera.shutdown()
        camera.shutdown()
        assert not camera.initialized

    def test_context_manager(self, camera: Camera) -> None:
        with camera as cam:
            assert cam.initialized
        assert not camera.initialized

    def test_reinitialize_after_shutdown(self, camera: Camera) -> None:
        with camera:
            shape = camera.snap().shape
        with camera:
            assert camera.snap().shape == shape

    def test_sensor_shape_known_after_initialize(self, camera: Camera) -> None:
        try:
            before: tuple[int, int] | None = camera.sensor_shape_px
        except RuntimeError:  # read from the device when it starts
            before = None
        if before is None:
            for read in (lambda: camera.sensor_shape_px, lambda: camera.roi, lambda: camera.set_roi(None)):
                with pytest.raises(RuntimeError, match=r"call initialize\(\) first"):
                    read()
        else:
            assert camera.roi.fits(before)
        with camera:
            shape = camera.sensor_shape_px
            assert len(shape) == 2
            assert all(isinstance(n, int) and n >= 1 for n in shape)
            assert camera.roi.fits(shape)
            assert camera.snap().shape == camera.frame_shape_px
        assert camera.sensor_shape_px == shape, "the sensor size stays known after shutdown"

    # --- frames --------------------------------------------------------------------
    def test_snap_shape_and_dtype(self, started: Camera) -> None:
        frame = started.snap()
        assert frame.shape == started.frame_shape_px
        if started.binning == 1:
            assert frame.shape == started.sensor_shape_px == started.roi.shape_px
        assert frame.ndim == 2
        assert np.issubdtype(frame.dtype, np.integer) or np.issubdtype(frame.dtype, np.floating)
        if np.issubdtype(frame.dtype, np.integer):
            assert int(frame.max()) < 2 ** started.bit_depth

    def test_sequence(self, started: Camera) -> None:
        frames = list(started.acquire_sequence(3))
        assert len(frames) == 3
        assert all(f.shape == started.frame_shape_px for f in frames)

    def test_earlier_frames_are_not_overwritten(self, started: Camera) -> None:
        first = started.snap()
        kept = first.copy()
        started.snap()
        list(started.acquire_sequence(2))
        np.testing.assert_array_equal(first, kept)

    def test_sequence_frames_do_not_share_memory(self, started: Camera) -> None:
        frames = list(started.acquire_sequence(3))
        assert not any(np.shares_memory(a, b) for a, b in itertools.combinations(frames, 2))

    def test_sequence_of_zero_frames_and_negative_counts(self, started: Camera) -> None:
        assert list(started.acquire_sequence(0)) == []
        assert list(started.acquire_sequence_with_info(0)) == []
        with pytest.raises(ValueError, match="n_frames"):
            list(started.acquire_sequence(-1))
        with pytest.raises(ValueError, match="n_frames"):
            list(started.acquire_sequence_with_info(-1))

    def test_frame_info_indices_and_timestamps_increase(self, started: Camera) -> None:
        results = list(started.acquire_sequence_with_info(4))
        assert len(results) == 4
        assert all(frame.shape == started.frame_shape_px for frame, _ in results)
        infos = [info for _, info in results]
        assert all(isinstance(info, FrameInfo) for info in infos)
        indices = [info.frame_index for info in infos]
        stamps = [info.timestamp_s for info in infos]
        assert all(b > a for a, b in itertools.pairwise(indices)), indices
        assert all(math.isfinite(t) for t in stamps)
        assert all(b > a for a, b in itertools.pairwise(stamps)), stamps
        frame, info = started.snap_with_info()
        assert frame.shape == started.frame_shape_px
        assert isinstance(info, FrameInfo)
        assert info.timestamp_s > stamps[-1], "a later frame has a later timestamp"
        _, next_info = next(iter(list(started.acquire_sequence_with_info(1))))
        assert next_info.timestamp_s > info.timestamp_s

    # --- exposure ------------------------------------------------------------------
    def test_exposure_roundtrip_and_validation(self, started: Camera) -> None:
        started.set_exposure_ms(12.5)
        assert started.exposure_ms == pytest.approx(12.5, rel=1e-3)
        for bad in (0.0, -1.0, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="exposure_ms"):
                started.set_exposure_ms(bad)
        assert started.exposure_ms == pytest.approx(12.5, rel=1e-3)

    def test_exposure_is_what_the_device_accepted(self, started: Camera, monkeypatch: pytest.MonkeyPatch) -> None:
        accepted: list[Any] = []
        send = started._apply_exposure_ms

        def spy(exposure_ms: float) -> float:
            accepted.append(send(exposure_ms))
            return accepted[-1]

        monkeypatch.setattr(started, "_apply_exposure_ms", spy)
        started.set_exposure_ms(7.3137)  # off the usual exposure grids, so a device rounds it
        assert len(accepted) == 1, "the exposure is sent once"
        assert isinstance(started.exposure_ms, float)
        assert started.exposure_ms == float(accepted[0])
        assert started.exposure_ms == pytest.approx(7.3137, rel=0.01)
        reported = started.exposure_ms
        started.set_exposure_ms(reported)
        assert started.exposure_ms == pytest.approx(reported, rel=1e-9), "an accepted exposure is accepted unchanged"

    # --- ROI ----------------------------------------------------------------------------
    def test_roi_changes_frame_shape(self, started: Camera) -> None:
        height, width = started.sensor_shape_px
        roi = Roi(x_px=width // 4, y_px=height // 4, width_px=max(width // 2, 1), height_px=max(height // 2, 1))
        started.set_roi(roi)
        assert started.roi == roi
        assert started.snap().shape == roi.shape_px
        started.set_roi(None)
        assert started.snap().shape == started.sensor_shape_px

    def test_roi_outside_sensor_is_refused(self, started: Camera) -> None:
        _height, width = started.sensor_shape_px
        before = started.roi
        with pytest.raises(ValueError, match="roi"):
            started.set_roi(Roi(x_px=width - 1, y_px=0, width_px=2, height_px=1))
        assert started.roi == before

    def test_roi_survives_an_exposure_change(self, started: Camera) -> None:
        height, width = started.sensor_shape_px
        roi = Roi(x_px=width // 4, y_px=height // 4, width_px=max(width // 2, 1), height_px=max(height // 2, 1))
        started.set_roi(roi)
        started.set_exposure_ms(15.0)
        assert started.roi == roi
        assert started.snap().shape == roi.shape_px

    def test_settings_survive_a_restart(self, camera: Camera) -> None:
        factor = self._factor(camera) or 1
        with camera:
            roi = _aligned_roi(camera.sensor_shape_px, 4 * factor)
            camera.set_exposure_ms(12.5)
            camera.set_roi(roi)
            camera.set_binning(factor)
            exposure_ms = camera.exposure_ms
        with camera:
            assert camera.exposure_ms == pytest.approx(exposure_ms, rel=1e-9)
            assert camera.roi == roi
            assert camera.binning == factor
            assert camera.snap().shape == (roi.height_px // factor, roi.width_px // factor)

    # --- binning --------------------------------------------------------------------------
    def test_binning_shapes_frames_or_is_refused(self, started: Camera) -> None:
        factor = self._factor(started)
        full_frame = started.snap().shape
        pixel_size_um = started.pixel_size_um
        if factor is None:
            with pytest.raises(ValueError, match="binning"):
                started.set_binning(2)
            assert started.binning == 1
            assert started.snap().shape == full_frame
            started.set_binning(1)
            return
        roi = _aligned_roi(started.sensor_shape_px, 4 * factor)
        started.set_roi(roi)
        started.set_binning(factor)
        expected = (roi.height_px // factor, roi.width_px // factor)
        assert started.binning == factor
        assert started.roi == roi, "binning keeps the ROI (unbinned sensor pixels)"
        assert started.frame_shape_px == expected
        assert started.snap().shape == expected
        assert [f.shape for f in started.acquire_sequence(2)] == [expected, expected]
        assert started.pixel_size_um == pytest.approx(factor * pixel_size_um)
        started.set_binning(1)
        assert started.snap().shape == roi.shape_px
        assert started.pixel_size_um == pytest.approx(pixel_size_um)

    def test_binning_validation(self, started: Camera) -> None:
        for bad in (0, -2, 1.5, True, "2"):
            with pytest.raises(ValueError, match="binning"):
                started.set_binning(bad)  # type: ignore[arg-type]
        assert started.binning == 1
        factor = self._factor(started)
        if factor is None:
            return
        roi = _aligned_roi(started.sensor_shape_px, 4 * factor)
        started.set_roi(roi)
        started.set_binning(factor)
        with pytest.raises(ValueError, match="multiples of the binning"):
            started.set_roi(Roi(x_px=0, y_px=0, width_px=4 * factor + 1, height_px=4 * factor))
        assert started.roi == roi
        assert started.snap().shape == started.frame_shape_px

    # --- optional capabilities ----------------------------------------------------------
    def test_trigger_modes(self, started: Camera) -> None:
        if not isinstance(started, SupportsTriggerMode):
            partial = [name for name in ("trigger_modes", "set_trigger_mode") if hasattr(started, name)]
            assert not partial, f"{type(started).__name__} implements only part of SupportsTriggerMode: {partial}"
            return
        modes = started.trigger_modes
        assert modes
        assert all(isinstance(m, str) for m in modes)
        assert started.trigger_mode in modes
        for mode in modes:
            started.set_trigger_mode(mode)
            assert started.trigger_mode == mode
        for mode in ("internal", "software"):
            if mode in modes:
                started.set_trigger_mode(mode)
                assert started.snap().shape == started.frame_shape_px
                assert len(list(started.acquire_sequence(2))) == 2
        current = started.trigger_mode
        with pytest.raises(ValueError, match="trigger_mode"):
            started.set_trigger_mode("no-such-mode")
        assert started.trigger_mode == current

    def test_pixel_size_positive(self, camera: Camera) -> None:
        assert camera.pixel_size_um > 0
