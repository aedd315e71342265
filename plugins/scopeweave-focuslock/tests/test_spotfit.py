"""Measuring the spot: parametric fits, moment fallbacks, detection flags, global theta."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from scopeweave_focuslock.params import DetectionOptions
from scopeweave_focuslock.spotfit import FALLBACK, PARAMETRIC, clipped_fraction, fit_spot, measure_spots
from scopeweave_focuslock.theta import global_theta
from scopeweave_psf import fit_spots, render_gaussian

SHAPE = (21, 21)


def _spot(rng: np.random.Generator, *, x: float = 10.2, y: float = 9.8, sx: float = 1.6, sy: float = 2.2,
          theta: float = 0.0, photons: float = 1e4, background: float = 10.0, shape=SHAPE) -> np.ndarray:
    expected = background + render_gaussian(shape, x_px=x, y_px=y, sigma_x_px=sx, sigma_y_px=sy, photons=photons,
                                            theta_rad=theta)
    return rng.poisson(expected).astype(float)


def test_fit_spot_measures_the_widths() -> None:
    rng = np.random.default_rng(1)
    fits = [fit_spot(_spot(rng)) for _ in range(40)]
    assert all(f.is_parametric and f.sample_class == PARAMETRIC and f.reason == "" for f in fits)
    sx = np.array([f.sigma_x_px for f in fits])
    err = np.array([f.sigma_x_err_px for f in fits])
    assert abs(sx.mean() - 1.6) < 4 * err.mean() / np.sqrt(len(fits))
    first = fits[0]
    assert first.width_covariance.shape == (2, 2)
    assert first.width_covariance[0, 0] == pytest.approx(first.sigma_x_err_px**2)
    assert first.theta_rad == 0.0
    assert not first.edge
    assert 0.9 < np.mean([f.fit_quality for f in fits]) < 1.1


def test_fit_spot_with_free_theta_finds_the_rotation() -> None:
    rng = np.random.default_rng(2)
    fit = fit_spot(_spot(rng, theta=0.3, photons=5e4), theta_rad=None)
    assert fit.theta_rad == pytest.approx(0.3, abs=0.03)
    assert np.isfinite(fit.theta_err_rad)


def test_an_empty_roi_falls_back_with_low_signal() -> None:
    rng = np.random.default_rng(3)
    blank = rng.poisson(np.full(SHAPE, 10.0)).astype(float)
    table = measure_spots(np.stack([blank, _spot(rng)]))
    assert list(table.sample_class) == [FALLBACK, PARAMETRIC]
    assert table.reason[0] == "low_signal"
    assert np.isnan(table.sigma_x_err_px[0])
    assert table.signal_fraction[0] < 0.02 < table.signal_fraction[1]
    fully_dark = measure_spots(np.full((1, *SHAPE), -0.5))
    assert fully_dark.reason[0] == "low_signal"


def test_saturated_and_disabled_fits_fall_back_to_moments() -> None:
    rng = np.random.default_rng(4)
    rois = np.stack([_spot(rng), _spot(rng)])
    table = measure_spots(rois, saturated=np.array([True, False]))
    assert list(table.reason) == ["saturated", ""]
    moments_only = measure_spots(rois, options=DetectionOptions(use_gaussian_fit=False))
    assert set(moments_only.reason) == {"fit_disabled"}
    assert (moments_only.sample_class == FALLBACK).all()
    # Moments still measure the spot roughly (they run a few % narrow).
    np.testing.assert_allclose(moments_only.sigma_y_px, 2.2, rtol=0.12)


def test_a_second_spot_makes_a_poor_fit() -> None:
    rng = np.random.default_rng(5)
    double = _spot(rng) + _spot(rng, x=15.0, y=14.0, photons=8e3, background=0.0)
    table = measure_spots(double[None])
    assert table.reason[0] == "poor_fit"
    assert table.fit_quality[0] > 3.0


def test_width_limits() -> None:
    rng = np.random.default_rng(6)
    table = measure_spots(_spot(rng)[None], options=DetectionOptions(max_sigma_px=2.0))
    assert table.reason[0] == "width_out_of_range"


def test_clipped_fraction_and_the_edge_flag() -> None:
    # Numerically: render on a large canvas and count what falls outside the ROI.
    canvas = render_gaussian((61, 61), x_px=21.0, y_px=30.0, sigma_x_px=1.5, sigma_y_px=2.5, photons=1.0,
                             theta_rad=0.0)
    outside = 1.0 - canvas[20:41, 20:41].sum()
    value = clipped_fraction(SHAPE, 1.0, 10.0, 1.5, 2.5, 0.0)
    assert float(value) == pytest.approx(outside, rel=1e-6)
    assert float(value) == pytest.approx(norm.cdf(-1.5 / 1.5), rel=1e-3)
    rng = np.random.default_rng(7)
    near = measure_spots(np.stack([_spot(rng, x=1.5), _spot(rng)]))
    assert list(near.edge) == [True, False]
    lenient = measure_spots(_spot(rng, x=1.5)[None], options=DetectionOptions(max_clipped_fraction=0.5))
    assert not lenient.edge[0]


def test_global_theta_is_a_weighted_mean_of_four_theta() -> None:
    rng = np.random.default_rng(8)
    rois = np.stack([_spot(rng, theta=0.2, sx=1.4 + 0.05 * k, sy=2.4, photons=2e4) for k in range(12)])
    fits = fit_spots(rois, mode="elliptical")
    theta = global_theta(fits.theta_rad, fits.crlb_of("theta_rad"))
    assert theta.theta_rad == pytest.approx(0.2, abs=4 * theta.standard_error_rad + 1e-3)
    assert not theta.snapped
    assert theta.n_fits == 12
    # Round spots carry no weight: adding them does not move the mean.
    round_fits = fit_spots(np.stack([_spot(rng, sx=1.8, sy=1.8) for _ in range(6)]), mode="elliptical")
    mixed = global_theta(np.concatenate([fits.theta_rad, round_fits.theta_rad]),
                         np.concatenate([fits.crlb_of("theta_rad"), round_fits.crlb_of("theta_rad")]))
    assert mixed.theta_rad == pytest.approx(theta.theta_rad, abs=2e-3)


def test_global_theta_wraps_and_snaps() -> None:
    # Theta is defined modulo pi/2: fits at +0.78 and -0.78 rad are both close to pi/4.
    wrapped = global_theta([0.78, -0.78], [0.01, 0.01])
    assert abs(wrapped.mean_rad) == pytest.approx(np.pi / 4, abs=0.01)
    snapped = global_theta([0.01, 0.005], [0.01, 0.01], snap_rad=0.0175)
    assert snapped.snapped
    assert snapped.theta_rad == 0.0
    with pytest.raises(ValueError, match="no fit constrains theta"):
        global_theta([np.nan], [np.inf])


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="2D"):
        fit_spot(np.zeros((2, 9, 9)))
    with pytest.raises(ValueError, match="saturated"):
        measure_spots(np.zeros((2, 9, 9)), saturated=[True])
    with pytest.raises(ValueError, match="min_sigma_px"):
        DetectionOptions(min_sigma_px=3.0, max_sigma_px=2.0)


def test_single_and_batch_paths_agree() -> None:
    rng = np.random.default_rng(9)
    rois = np.stack([_spot(rng), rng.poisson(np.full(SHAPE, 10.0)).astype(float), _spot(rng, theta=0.2)])
    table = measure_spots(rois, theta_rad=0.0, readout_variance=2.0)
    for index in range(len(rois)):
        single = fit_spot(rois[index], theta_rad=0.0, readout_variance=2.0)
        row = table.row(index)
        assert single.sample_class == row.sample_class
        assert single.reason == row.reason
        np.testing.assert_array_equal(
            [single.x_px, single.sigma_x_px, single.sigma_y_px, single.photons, single.fit_quality],
            [row.x_px, row.sigma_x_px, row.sigma_y_px, row.photons, row.fit_quality])
        np.testing.assert_array_equal(single.width_covariance, row.width_covariance)
