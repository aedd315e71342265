"""The CRLB equals the inverse of a numerically computed Fisher information."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_psf import PARAM_NAMES, crlb, fit_spots, render_gaussian

SPOT = {"x_px": 7.3, "y_px": 6.8, "sigma_x_px": 1.4, "sigma_y_px": 2.1, "photons": 3000.0, "background": 8.0}


def _expected(p: np.ndarray, shape: tuple[int, int], oversample: int) -> np.ndarray:
    return p[6] + render_gaussian(shape, x_px=p[0], y_px=p[1], sigma_x_px=p[2], sigma_y_px=p[3], photons=p[5],
                                  theta_rad=p[4], oversample=oversample)


def _numerical_bounds(p: np.ndarray, free: list[int], shape: tuple[int, int], oversample: int) -> np.ndarray:
    """Fisher information from central differences of the renderer, inverted."""
    mu = _expected(p, shape, oversample).ravel()
    jac = np.empty((len(free), mu.size))
    for row, k in enumerate(free):
        step = 1e-5 * max(1.0, abs(p[k]))
        up, down = p.copy(), p.copy()
        up[k] += step
        down[k] -= step
        jac[row] = (_expected(up, shape, oversample) - _expected(down, shape, oversample)).ravel() / (2 * step)
    fisher = jac @ (jac / mu).T
    return np.sqrt(np.diag(np.linalg.inv(fisher)))


@pytest.mark.parametrize(
    ("mode", "theta", "free", "oversample", "rtol"),
    [
        # Axis-aligned: both sides are exact erf integrals.
        ("elliptical_fixed_theta", 0.0, [0, 1, 2, 3, 5, 6], 1, 1e-6),
        ("fixed_sigma", 0.0, [0, 1, 5, 6], 1, 1e-6),
        # Rotated: quadrature against 16 x 16 sub-pixels.
        ("elliptical", 0.4, [0, 1, 2, 3, 4, 5, 6], 16, 2e-3),
        ("elliptical_fixed_theta", 0.4, [0, 1, 2, 3, 5, 6], 16, 2e-3),
    ],
)
def test_crlb_matches_numerical_fisher(mode: str, theta: float, free: list[int], oversample: int, rtol: float) -> None:
    shape = (15, 15)
    bounds = crlb(shape, theta_rad=theta, mode=mode, **SPOT)  # type: ignore[arg-type]
    p = np.array([SPOT["x_px"], SPOT["y_px"], SPOT["sigma_x_px"], SPOT["sigma_y_px"], theta, SPOT["photons"],
                  SPOT["background"]])
    expected = _numerical_bounds(p, free, shape, oversample)
    np.testing.assert_allclose(bounds.std[free], expected, rtol=rtol)
    fixed = [k for k in range(7) if k not in free]
    assert np.isnan(bounds.std[fixed]).all()
    assert bounds.free_parameters == tuple(PARAM_NAMES[k] for k in free)


def test_symmetric_bound_ties_the_sigmas() -> None:
    shape = (13, 13)
    bounds = crlb(shape, x_px=6.0, y_px=6.2, sigma_x_px=1.5, sigma_y_px=1.5, photons=2000.0, background=5.0,
                  mode="symmetric")
    p = np.array([6.0, 6.2, 1.5, 1.5, 0.0, 2000.0, 5.0])
    # Numerical: one sigma moves both axes.
    mu = _expected(p, shape, 1).ravel()
    rows = []
    for k in (0, 1, 2, 5, 6):
        step = 1e-5 * max(1.0, abs(p[k]))
        up, down = p.copy(), p.copy()
        targets = (2, 3) if k == 2 else (k,)
        for t in targets:
            up[t] += step
            down[t] -= step
        rows.append((_expected(up, shape, 1) - _expected(down, shape, 1)).ravel() / (2 * step))
    jac = np.array(rows)
    expected = np.sqrt(np.diag(np.linalg.inv(jac @ (jac / mu).T)))
    np.testing.assert_allclose(bounds.std[[0, 1, 2, 5, 6]], expected, rtol=1e-6)
    assert bounds.std[2] == bounds.std[3]
    assert bounds.free_parameters == ("x_px", "y_px", "sigma_px", "photons", "background")


def test_crlb_broadcasts_and_agrees_with_the_fitter() -> None:
    photons = np.array([500.0, 5000.0, 50000.0])
    bounds = crlb((15, 15), x_px=7.0, y_px=7.0, sigma_x_px=1.3, sigma_y_px=1.8, photons=photons, background=10.0,
                  mode="elliptical_fixed_theta")
    assert bounds.std.shape == (3, 7)
    # Ten times the photons: at least sqrt(10) tighter, more since the background matters less.
    x = bounds.of("x_px")
    assert x[0] > x[1] > x[2]
    assert np.sqrt(10) < x[1] / x[2] < 10
    truth = np.array([7.0, 7.0, 1.3, 1.8, 0.0, 5000.0, 10.0])
    image = _expected(truth, (15, 15), 1)[None]
    fitted = fit_spots(image, mode="elliptical_fixed_theta", tolerance=1e-10)
    np.testing.assert_allclose(fitted.crlb[0, [0, 1, 2, 3, 5, 6]], bounds.std[1, [0, 1, 2, 3, 5, 6]], rtol=1e-5)


def test_crlb_rejects_bad_spots() -> None:
    with pytest.raises(ValueError, match="sigmas and photons must be > 0"):
        crlb((9, 9), x_px=4, y_px=4, sigma_x_px=0.0, sigma_y_px=1.0, photons=100, background=1)
    with pytest.raises(ValueError, match="at least"):
        crlb((2, 9), x_px=4, y_px=1, sigma_x_px=1.0, sigma_y_px=1.0, photons=100, background=1)
