"""Contract every Camera backend must satisfy."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest

from scopeweave.kinds import Camera, Roi


class CameraContract:
    """Subclass and provide a ``camera`` fixture returning an *un-initialised* camera."""

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

    def test_is_a_camera(self, camera: Camera) -> None:
        assert isinstance(camera, Camera)

    def test_snap_needs_initialize(self, camera: Camera) -> None:
        with pytest.raises(RuntimeError, match="not initialized"):
            camera.snap()

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

    def test_snap_shape_and_dtype(self, started: Camera) -> None:
        frame = started.snap()
        assert frame.shape == started.sensor_shape_px == started.roi.shape_px
        assert frame.ndim == 2
        assert np.issubdtype(frame.dtype, np.integer) or np.issubdtype(frame.dtype, np.floating)
        if np.issubdtype(frame.dtype, np.integer):
            assert int(frame.max()) < 2 ** started.bit_depth

    def test_exposure_roundtrip_and_validation(self, started: Camera) -> None:
        started.set_exposure_ms(12.5)
        assert started.exposure_ms == pytest.approx(12.5, rel=1e-3)
        for bad in (0.0, -1.0, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="exposure_ms"):
                started.set_exposure_ms(bad)
        assert started.exposure_ms == pytest.approx(12.5, rel=1e-3)

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

    def test_sequence(self, started: Camera) -> None:
        frames = list(started.acquire_sequence(3))
        assert len(frames) == 3
        assert all(f.shape == started.roi.shape_px for f in frames)

    def test_pixel_size_positive(self, camera: Camera) -> None:
        assert camera.pixel_size_um > 0

    def test_reinitialize_after_shutdown(self, camera: Camera) -> None:
        with camera:
            shape = camera.snap().shape
        with camera:
            assert camera.snap().shape == shape

    def test_roi_survives_an_exposure_change(self, started: Camera) -> None:
        height, width = started.sensor_shape_px
        roi = Roi(x_px=width // 4, y_px=height // 4, width_px=max(width // 2, 1), height_px=max(height // 2, 1))
        started.set_roi(roi)
        started.set_exposure_ms(15.0)
        assert started.roi == roi
        assert started.snap().shape == roi.shape_px

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
        with pytest.raises(ValueError, match="n_frames"):
            list(started.acquire_sequence(-1))
