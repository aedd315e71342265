"""Contract every FrameMetric must satisfy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from scopeweave.kinds import FrameMetric


def textured_frame(shape: tuple[int, int] = (96, 96), seed: int = 0) -> np.ndarray:
    """A sharp test scene: random blobs and edges, values in [0, 1]."""
    rng = np.random.default_rng(seed)
    frame = np.zeros(shape)
    frame[rng.integers(0, shape[0], 60), rng.integers(0, shape[1], 60)] = 1.0
    frame = ndimage.gaussian_filter(frame, 1.0)
    frame[shape[0] // 3 : shape[0] // 2, shape[1] // 4 : 3 * shape[1] // 4] += 0.5
    return frame / frame.max()


class FrameMetricContract:
    """Subclass and provide a ``metric`` fixture."""

    @pytest.fixture
    def metric(self) -> FrameMetric:  # pragma: no cover - overridden
        raise pytest.UsageError("FrameMetricContract subclasses must define a 'metric' fixture")

    def test_is_a_frame_metric(self, metric: FrameMetric) -> None:
        assert isinstance(metric, FrameMetric)
        assert isinstance(metric.higher_is_sharper, bool)

    @pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
    def test_finite_float_for_each_dtype(self, metric: FrameMetric, dtype: type) -> None:
        frame = textured_frame()
        scale = np.iinfo(dtype).max * 0.8 if np.issubdtype(dtype, np.integer) else 1.0
        value = metric((frame * scale).astype(dtype))
        assert isinstance(value, float)
        assert np.isfinite(value)

    def test_sharper_scores_better(self, metric: FrameMetric) -> None:
        sharp = textured_frame() * 4000 + 100
        blurred = ndimage.gaussian_filter(sharp, 3.0)
        s, b = metric(sharp.astype(np.uint16)), metric(blurred.astype(np.uint16))
        assert (s > b) if metric.higher_is_sharper else (s < b)

    def test_does_not_modify_input(self, metric: FrameMetric) -> None:
        frame = (textured_frame() * 1000).astype(np.uint16)
        copy = frame.copy()
        metric(frame)
        np.testing.assert_array_equal(frame, copy)
