"""Contract every FrameMetric must satisfy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage

from scopeweave.kinds import FrameMetric
from scopeweave.kinds.frame_metric import BatchFrameMetric, score_frames


def textured_frame(shape: tuple[int, int] = (96, 96), seed: int = 0) -> np.ndarray:
    """A sharp test scene: random blobs and edges, values in [0, 1]."""
    rng = np.random.default_rng(seed)
    frame = np.zeros(shape)
    frame[rng.integers(0, shape[0], 60), rng.integers(0, shape[1], 60)] = 1.0
    frame = ndimage.gaussian_filter(frame, 1.0)
    frame[shape[0] // 3 : shape[0] // 2, shape[1] // 4 : 3 * shape[1] // 4] += 0.5
    return frame / frame.max()


class FrameMetricContract:
    """Subclass and provide a ``metric`` fixture.

    ``scene`` (a sharp 2D float frame with values in [0, 1]) defaults to
    :func:`textured_frame`, a sparse fluorescence-like scene; a metric meant
    for densely textured scenes may override it with one.

    Metrics that declare ``gain_exponent`` (``score(g I) = g**p score(I)``)
    and ``offset_invariant`` have those claims checked too.
    """

    @pytest.fixture
    def metric(self) -> FrameMetric:  # pragma: no cover - overridden
        raise pytest.UsageError("FrameMetricContract subclasses must define a 'metric' fixture")

    @pytest.fixture
    def scene(self) -> np.ndarray:
        return textured_frame()

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

    def test_sharper_scores_better(self, metric: FrameMetric, scene: np.ndarray) -> None:
        sharp = scene * 4000 + 100
        blurred = ndimage.gaussian_filter(sharp, 3.0)
        s, b = metric(sharp.astype(np.uint16)), metric(blurred.astype(np.uint16))
        assert (s > b) if metric.higher_is_sharper else (s < b)

    def test_score_is_monotonic_in_defocus(self, metric: FrameMetric, scene: np.ndarray) -> None:
        sharp = scene * 4000 + 100
        scores = [metric(ndimage.gaussian_filter(sharp, sigma)) for sigma in (0.8, 1.6, 3.2, 6.4)]
        ordered = scores if metric.higher_is_sharper else [-s for s in scores]
        assert all(a > b for a, b in itertools.pairwise(ordered)), scores

    def test_does_not_modify_input(self, metric: FrameMetric) -> None:
        frame = (textured_frame() * 1000).astype(np.uint16)
        copy = frame.copy()
        metric(frame)
        np.testing.assert_array_equal(frame, copy)

    def test_repeatable(self, metric: FrameMetric) -> None:
        frame = (textured_frame(seed=3) * 1000).astype(np.uint16)
        assert metric(frame) == metric(frame.copy())

    def test_strided_view_scores_like_a_copy(self, metric: FrameMetric) -> None:
        big = textured_frame((192, 200), seed=4) * 1000 + 50
        view = big[::2, 1::2]
        assert metric(view) == pytest.approx(metric(np.ascontiguousarray(view)), rel=1e-9, abs=1e-12)

    @pytest.mark.parametrize("value", [0.0, 500.0])
    def test_flat_frame_gives_a_finite_score(self, metric: FrameMetric, value: float) -> None:
        assert np.isfinite(metric(np.full((64, 64), value)))

    def test_batch_matches_frame_by_frame(self, metric: FrameMetric) -> None:
        sharp = textured_frame(seed=5) * 3000 + 100
        stack = np.stack([sharp, ndimage.gaussian_filter(sharp, 2.0), sharp * 0.5]).astype(np.uint16)
        expected = [metric(frame) for frame in stack]
        np.testing.assert_allclose(score_frames(metric, stack), expected, rtol=1e-9, atol=1e-12)
        if isinstance(metric, BatchFrameMetric):
            np.testing.assert_allclose(metric.score_batch(stack), expected, rtol=1e-9, atol=1e-12)
            assert metric.score_batch(stack[:0]).shape == (0,)

    def test_declared_gain_behaviour(self, metric: FrameMetric) -> None:
        exponent = getattr(metric, "gain_exponent", None)
        if exponent is None:
            pytest.skip("the metric does not declare a gain_exponent")
        frame = textured_frame(seed=6) * 1000 + 20
        assert metric(frame * 2.5) == pytest.approx(2.5 ** float(exponent) * metric(frame), rel=1e-6)

    def test_declared_offset_invariance(self, metric: FrameMetric) -> None:
        if not getattr(metric, "offset_invariant", False):
            pytest.skip("the metric does not claim offset invariance")
        frame = textured_frame(seed=7) * 1000 + 20
        assert metric(frame + 300.0) == pytest.approx(metric(frame), rel=1e-6)
