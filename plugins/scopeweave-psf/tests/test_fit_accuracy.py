"""The MLE fitter recovers known parameters and reaches the Cramér-Rao bound."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scopeweave_psf import PARAM_NAMES, fit_spots, moment_estimate

Spots = Callable[..., tuple[np.ndarray, np.ndarray]]

FREE_COLUMNS = {
    "elliptical": [0, 1, 2, 3, 4, 5, 6],
    "elliptical_fixed_theta": [0, 1, 2, 3, 5, 6],
    "symmetric": [0, 1, 2, 5, 6],
    "fixed_sigma": [0, 1, 5, 6],
}


def _case(mode: str) -> dict[str, float]:
    if mode == "elliptical":
        return {"sigma_x_px": 1.3, "sigma_y_px": 2.0, "theta_rad": 0.35}
    if mode == "symmetric":
        return {"sigma_x_px": 1.5, "sigma_y_px": 1.5}
    return {"sigma_x_px": 1.3, "sigma_y_px": 1.8}


def _extra(mode: str, case: dict[str, float]) -> dict[str, object]:
    return {"sigma_px": (case["sigma_x_px"], case["sigma_y_px"])} if mode == "fixed_sigma" else {}


@pytest.mark.parametrize("mode", list(FREE_COLUMNS))
def test_noise_free_spots_are_recovered_exactly(make_spots: Spots, rng: np.random.Generator, mode: str) -> None:
    case = _case(mode)
    rois, truth = make_spots(rng, 6, noise=False, **case)
    # A tight tolerance: noise-free data must land on the truth, not just within a fraction of the CRLB.
    result = fit_spots(rois, mode=mode, tolerance=1e-10, max_iterations=100, **_extra(mode, case))
    assert result.converged.all()
    # The rotated renderer uses 8 x 8 sub-pixels, the fitter Gauss-Legendre quadrature: tiny model mismatch.
    tolerance = 2e-3 if mode == "elliptical" else 1e-5
    np.testing.assert_allclose(result.params, truth, rtol=tolerance, atol=tolerance)
    assert (result.fit_quality < 1e-3).all()


@pytest.mark.parametrize("mode", list(FREE_COLUMNS))
def test_rmse_matches_the_crlb(make_spots: Spots, rng: np.random.Generator, mode: str) -> None:
    case = _case(mode)
    rois, truth = make_spots(rng, 400, photons=2000.0, **case)
    result = fit_spots(rois, mode=mode, **_extra(mode, case))
    assert result.converged.mean() > 0.99
    for column in FREE_COLUMNS[mode]:
        error = result.params[:, column] - truth[:, column]
        rmse = float(np.sqrt(np.mean(error**2)))
        bound = float(np.sqrt(np.mean(result.crlb[:, column] ** 2)))
        # 400 fits estimate an RMSE to about 3.5 %; 0.85-1.15 is a > 4 sigma band.
        assert 0.85 < rmse / bound < 1.15, (PARAM_NAMES[column], rmse, bound)
        assert abs(np.mean(error)) < 4 * bound / np.sqrt(len(error)), PARAM_NAMES[column]
    # Deviance per degree of freedom is about 1 when the model is right.
    assert 0.9 < float(np.mean(result.fit_quality)) < 1.1


def test_fixed_parameters_keep_their_values_and_have_no_bound(make_spots: Spots, rng: np.random.Generator) -> None:
    rois, _ = make_spots(rng, 5)
    result = fit_spots(rois, mode="fixed_sigma", sigma_px=(1.25, 1.75), theta_rad=0.0)
    np.testing.assert_array_equal(result.sigma_x_px, 1.25)
    np.testing.assert_array_equal(result.sigma_y_px, 1.75)
    assert np.isnan(result.crlb_of("sigma_x_px")).all()
    assert np.isnan(result.crlb_of("theta_rad")).all()
    symmetric = fit_spots(rois, mode="symmetric")
    np.testing.assert_array_equal(symmetric.sigma_x_px, symmetric.sigma_y_px)


def test_quarter_turn_is_canonical(make_spots: Spots, rng: np.random.Generator) -> None:
    # (sigma_x, sigma_y, theta) and (sigma_y, sigma_x, theta - pi/2) are the same spot.
    rois, _ = make_spots(rng, 4, noise=False, sigma_x_px=2.0, sigma_y_px=1.2, theta_rad=1.2)
    result = fit_spots(rois, mode="elliptical")
    np.testing.assert_allclose(result.theta_rad, 1.2 - np.pi / 2, atol=2e-3)
    np.testing.assert_allclose(result.sigma_x_px, 1.2, rtol=2e-3)
    np.testing.assert_allclose(result.sigma_y_px, 2.0, rtol=2e-3)


def test_round_spot_has_unbounded_theta_but_finite_other_bounds(make_spots: Spots, rng: np.random.Generator) -> None:
    rois, _ = make_spots(rng, 3, noise=False, sigma_x_px=1.5, sigma_y_px=1.5)
    result = fit_spots(rois, mode="elliptical", initial=np.array([[7.0, 7.0, 1.5, 1.5, 0.0, 3000.0, 10.0]] * 3))
    # No information on theta: a bound far beyond its whole range (inf when exactly singular).
    assert (result.crlb_of("theta_rad") > np.pi).all()
    assert np.isfinite(result.crlb[:, [0, 1, 2, 3, 5, 6]]).all()


def test_fixed_theta_uses_the_given_rotation(make_spots: Spots, rng: np.random.Generator) -> None:
    rois, truth = make_spots(rng, 4, noise=False, sigma_x_px=1.3, sigma_y_px=2.1, theta_rad=0.3)
    right = fit_spots(rois, mode="elliptical_fixed_theta", theta_rad=0.3)
    wrong = fit_spots(rois, mode="elliptical_fixed_theta", theta_rad=0.0)
    np.testing.assert_allclose(right.params[:, :4], truth[:, :4], atol=2e-3)
    assert (wrong.fit_quality > 10 * right.fit_quality + 1e-3).all()


def test_parallel_and_serial_agree(make_spots: Spots, rng: np.random.Generator) -> None:
    rois, _ = make_spots(rng, 64)
    one = fit_spots(rois, mode="elliptical_fixed_theta", n_threads=1, return_covariance=True)
    two = fit_spots(rois, mode="elliptical_fixed_theta", n_threads=2, return_covariance=True)
    np.testing.assert_array_equal(one.params, two.params)
    np.testing.assert_array_equal(one.iterations, two.iterations)
    assert one.covariance is not None
    assert two.covariance is not None
    np.testing.assert_array_equal(one.covariance, two.covariance)


def test_readout_variance_is_modelled(make_spots: Spots, rng: np.random.Generator) -> None:
    rois, truth = make_spots(rng, 300, photons=1500.0, background=2.0)
    read_sigma = 3.0
    noisy = rois + rng.normal(0.0, read_sigma, rois.shape)
    modelled = fit_spots(noisy, mode="elliptical_fixed_theta", readout_variance=read_sigma**2)
    error = modelled.x_px - truth[:, 0]
    ratio = np.sqrt(np.mean(error**2)) / np.sqrt(np.mean(modelled.crlb_of("x_px") ** 2))
    assert 0.85 < ratio < 1.2
    plain = fit_spots(noisy[:20], mode="elliptical_fixed_theta")
    assert (modelled.crlb_of("x_px")[:20] > plain.crlb_of("x_px")).all()


def test_moment_estimate_of_a_rotated_spot(make_spots: Spots, rng: np.random.Generator) -> None:
    rois, truth = make_spots(rng, 5, noise=False, sigma_x_px=1.4, sigma_y_px=2.4, theta_rad=0.3, photons=5000.0)
    estimate = moment_estimate(rois, background_percentile=10.0)
    np.testing.assert_allclose(estimate.x_px, truth[:, 0], atol=0.05)
    np.testing.assert_allclose(estimate.y_px, truth[:, 1], atol=0.05)
    np.testing.assert_allclose(estimate.theta_rad, 0.3, atol=0.05)
    np.testing.assert_allclose(estimate.sigma_x_px, 1.4, rtol=0.1)
    np.testing.assert_allclose(estimate.sigma_y_px, 2.4, rtol=0.1)
    np.testing.assert_allclose(estimate.background, 10.0, rtol=1e-3)
    np.testing.assert_allclose(estimate.photons, 5000.0, rtol=0.1)


def test_moment_estimate_of_an_empty_roi_is_nan_and_the_fit_still_starts() -> None:
    flat = np.full((2, 9, 9), 5.0)
    estimate = moment_estimate(flat)
    assert np.isnan(estimate.x_px).all()
    result = fit_spots(flat, mode="symmetric")
    assert np.isfinite(result.params).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rois": np.zeros((9, 9))}, "(n, height, width)"),
        ({"rois": np.zeros((1, 2, 9))}, "at least 3 x 3"),
        ({"rois": np.zeros((1, 9, 9)), "mode": "round"}, "mode must be one of"),
        ({"rois": np.zeros((1, 9, 9)), "mode": "fixed_sigma"}, "needs 'sigma_px'"),
        ({"rois": np.zeros((2, 9, 9)), "initial": np.zeros((3, 7))}, "'initial' must have shape"),
        ({"rois": np.zeros((2, 9, 9)), "readout_variance": [1.0, -1.0]}, "readout_variance"),
        ({"rois": np.zeros((2, 9, 9)), "theta_rad": [0.0], "mode": "elliptical_fixed_theta"}, "'theta_rad'"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_spots(**kwargs)  # type: ignore[arg-type]
