"""Mortensen (2010) precision formulas against a numerical Fisher information."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_psf import render_gaussian
from scopeweave_puncta.precision import mortensen_lsq_std, mortensen_mle_std


def numerical_crlb_x(photons: float, background: float, sigma_px: float, size: int = 21) -> float:
    """sqrt([I^-1]_xx) of the pixelated Poisson model, derivatives by central differences."""
    centre = (size - 1) / 2

    def model(theta: np.ndarray) -> np.ndarray:
        x, y, n, b = theta
        return render_gaussian((size, size), x_px=x, y_px=y, sigma_x_px=sigma_px, sigma_y_px=sigma_px,
                               photons=n) + b

    theta = np.array([centre, centre, photons, background])
    mu = model(theta).ravel()
    jac = []
    for k in range(4):
        step = 1e-4 * max(abs(theta[k]), 1.0)
        up, down = theta.copy(), theta.copy()
        up[k] += step
        down[k] -= step
        jac.append((model(up) - model(down)).ravel() / (2 * step))
    j = np.asarray(jac)
    fisher = (j / mu) @ j.T
    return float(np.sqrt(np.linalg.inv(fisher)[0, 0]))


@pytest.mark.parametrize(("photons", "background"), [(200, 5), (1000, 10), (5000, 50), (10000, 10), (500, 0.5)])
def test_mle_formula_matches_numerical_fisher(photons: float, background: float) -> None:
    # s = 130 nm, a = 100 nm, as in the reference table.
    assert mortensen_mle_std(1.3, 1.0, photons, background) == pytest.approx(
        numerical_crlb_x(photons, background, 1.3), rel=5e-3)


def test_reference_values_nm() -> None:
    photons = np.array([200, 500, 1000, 2000, 5000])
    background = np.array([5, 10, 10, 20, 50])
    np.testing.assert_allclose(mortensen_mle_std(130.0, 100.0, photons, background),
                               [15.14, 9.09, 5.62, 3.98, 2.52], atol=0.01)
    np.testing.assert_allclose(mortensen_lsq_std(130.0, 100.0, photons, background),
                               [16.01, 9.73, 6.28, 4.44, 2.81], atol=0.01)


def test_limits() -> None:
    # No background: sa^2 / N; EMCCD doubles the variance; no photons: undefined.
    assert mortensen_mle_std(130.0, 100.0, 1000, 0.0) == pytest.approx(np.sqrt((130**2 + 100**2 / 12) / 1000))
    assert mortensen_mle_std(130.0, 100.0, 1000, 10, excess_noise=2.0) == pytest.approx(
        np.sqrt(2) * mortensen_mle_std(130.0, 100.0, 1000, 10))
    assert np.isnan(mortensen_mle_std(130.0, 100.0, 0.0, 10))
    assert mortensen_lsq_std(130.0, 100.0, 1000, 10) > mortensen_mle_std(130.0, 100.0, 1000, 10)
