"""Metric values against independent references and known cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scopeweave_focusmetrics.metrics import CATALOGUE, build_metric

from scopeweave.kinds.frame_metric import score_frames


@pytest.fixture(scope="module")
def frame_u16(camera_128: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.poisson(camera_128 * 3000 + 100).astype(np.uint16)


def test_laplacian_variance_equals_the_5_point_stencil_variance(frame_u16: np.ndarray) -> None:
    expected = ndimage.laplace(frame_u16.astype(np.float64), mode="mirror").var()
    assert build_metric("laplacian-variance")(frame_u16) == pytest.approx(expected, rel=1e-12)


def test_tenengrad_and_its_variance_equal_scipy_sobel(frame_u16: np.ndarray) -> None:
    image = frame_u16.astype(np.float64)
    g = ndimage.sobel(image, 1, mode="mirror") ** 2 + ndimage.sobel(image, 0, mode="mirror") ** 2
    assert build_metric("tenengrad")(frame_u16) == pytest.approx(g.mean(), rel=1e-12)
    assert build_metric("tenengrad-variance")(frame_u16) == pytest.approx(g.var(), rel=1e-9)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_mean_abs_log_equals_blur_then_laplacian(frame_u16: np.ndarray, sigma: float) -> None:
    blurred = ndimage.gaussian_filter(frame_u16.astype(np.float64), sigma, mode="mirror", truncate=4.0)
    expected = np.abs(ndimage.laplace(blurred, mode="mirror")).mean()
    assert build_metric("mean-abs-log", sigma_px=sigma)(frame_u16) == pytest.approx(expected, rel=1e-5)


def test_variance_metrics_equal_numpy(frame_u16: np.ndarray) -> None:
    image = frame_u16.astype(np.float64)
    assert build_metric("gray-level-variance")(frame_u16) == pytest.approx(image.var(), rel=1e-12)
    assert build_metric("normalized-variance")(frame_u16) == pytest.approx(image.var() / image.mean(), rel=1e-12)


def test_variance_keeps_precision_on_a_large_offset() -> None:
    rng = np.random.default_rng(1)
    frame = 1e6 + rng.normal(0, 1.0, (64, 64))
    assert build_metric("gray-level-variance")(frame) == pytest.approx(frame.var(), rel=1e-9)


def test_blur_effect_matches_scikit_image(camera_128: np.ndarray) -> None:
    from skimage.measure import blur_effect

    assert build_metric("blur-effect")(camera_128) == pytest.approx(blur_effect(camera_128), rel=1e-12)


def _power_law_image(beta: float, n: int = 256) -> np.ndarray:
    rng = np.random.default_rng(2)
    fy, fx = np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij")
    radius = np.hypot(fy, fx)
    radius[0, 0] = 1.0
    return np.real(np.fft.ifft2(radius ** (-beta / 2) * np.exp(2j * np.pi * rng.random((n, n)))))


def test_power_log_log_slope_tracks_the_spectral_exponent() -> None:
    # |F|^2 ~ r**-beta: one more unit of beta steepens the log-log slope by about one (CellProfiler's
    # integer radius bins shift both slopes alike), and the slope is near 1 - beta.
    metric = build_metric("power-log-log-slope")
    slope2, slope3 = metric(_power_law_image(2.0)), metric(_power_law_image(3.0))
    assert slope3 - slope2 == pytest.approx(-1.0, abs=0.2)
    assert slope2 == pytest.approx(-1.0, abs=0.4)


def test_multi_threaded_blocks_equal_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 4000, (1100, 1000)).astype(np.uint16)
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("SCOPEWEAVE_THREADS", threads)
        results[threads] = [build_metric(n)(frame) for n in ("laplacian-variance", "tenengrad", "mean-abs-log")]
    np.testing.assert_allclose(results["1"], results["2"], rtol=1e-10)


def test_every_metric_ranks_a_real_image_above_its_defocused_copies(camera_128: np.ndarray) -> None:
    for name in CATALOGUE:
        metric = build_metric(name)
        scores = [metric(ndimage.gaussian_filter(camera_128, s) * 3000 + 100) for s in (0.5, 1.5, 3.0)]
        oriented = scores if metric.higher_is_sharper else [-s for s in scores]
        assert oriented[0] > oriented[1] > oriented[2], (name, scores)


def test_normalised_metric_ignores_gain_with_the_camera_offset(camera_128: np.ndarray) -> None:
    offset = 100.0
    metric = build_metric("laplacian-variance", normalise=True, offset_adu=offset)
    raw = build_metric("laplacian-variance")
    signal = camera_128 * 2000
    assert metric(signal * 3 + offset) == pytest.approx(metric(signal + offset), rel=1e-9)
    assert raw(signal * 3 + offset) == pytest.approx(9 * raw(signal + offset), rel=1e-9)


def test_saturated_fraction_uses_the_dtype_full_scale() -> None:
    frame = np.zeros((10, 10), dtype=np.uint8)
    frame[:3, :5] = 255
    metric = build_metric("brenner")
    assert metric.saturated_fraction(frame) == pytest.approx(0.15)
    assert metric.evaluate(frame.astype(np.uint16)).saturated_fraction == 0.0
    assert build_metric("brenner", saturation_level=200.0).saturated_fraction(frame.astype(np.float32)) == 0.15


def test_bad_input_is_rejected_with_a_reason() -> None:
    metric = build_metric("tenengrad")
    with pytest.raises(ValueError, match="2D"):
        metric(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="at least 3 x 3"):
        metric(np.zeros((2, 8)))
    with pytest.raises(TypeError, match="real numbers"):
        metric(np.zeros((8, 8), dtype=complex))
    with pytest.raises(ValueError, match="between 0.1 and 20"):
        build_metric("mean-abs-log", sigma_px=0.0)


def test_batch_of_frames_with_different_shapes(camera_128: np.ndarray) -> None:
    metric = build_metric("wavelet-sum")
    frames = [camera_128, camera_128[:64, :80]]
    np.testing.assert_allclose(score_frames(metric, frames), [metric(f) for f in frames])
