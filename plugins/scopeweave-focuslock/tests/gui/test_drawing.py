"""What the GUI draws, against ground truth: the fitted ellipse and the gates table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scopeweave_focuslock.gates import GateResult
from scopeweave_focuslock.gui.calibration_panel import gate_row
from scopeweave_focuslock.gui.live_view import ellipse_points
from scopeweave_psf import render_gaussian


@pytest.mark.parametrize("theta_rad", [0.0, 0.4, -0.7, math.pi / 2])
def test_ellipse_is_the_n_sigma_contour_of_the_fitted_gaussian(theta_rad: float) -> None:
    sx, sy, cx, cy = 2.5, 1.2, 20.3, 18.7
    x, y = ellipse_points(cx, cy, sx, sy, theta_rad, n_sigmas=2.0)
    c, s = math.cos(theta_rad), math.sin(theta_rad)
    covariance = np.array([[c, -s], [s, c]]) @ np.diag([sx**2, sy**2]) @ np.array([[c, s], [-s, c]])
    d = np.stack([x - cx, y - cy])
    mahalanobis = np.einsum("in,ij,jn->n", d, np.linalg.inv(covariance), d)
    np.testing.assert_allclose(mahalanobis, 4.0, rtol=1e-9)
    # same orientation convention as the renderer (and so the fitter): compare with the image's second moments
    image = render_gaussian((41, 41), x_px=cx, y_px=cy, sigma_x_px=sx, sigma_y_px=sy, photons=1e6, theta_rad=theta_rad)
    rows, cols = np.indices(image.shape)
    weights = image / image.sum()
    dx, dy = cols - (weights * cols).sum(), rows - (weights * rows).sum()
    moments = np.array([[(weights * dx * dx).sum(), (weights * dx * dy).sum()],
                        [(weights * dx * dy).sum(), (weights * dy * dy).sum()]])
    moments -= np.eye(2) / 12.0  # pixel integration adds 1/12 px^2 per axis
    np.testing.assert_allclose(moments, covariance, atol=0.01)


def test_gate_rows_show_value_limit_and_verdict() -> None:
    rms = GateResult(name="residual_rms", passed=True, value=12.34, threshold=40.0, message="residual_rms: passed")
    assert gate_row(rms) == ("residual rms", "12.3 nm", "≤ 40 nm", "pass")
    reach = GateResult(name="usable_range", passed=False, value=0.08, threshold=0.15, message="usable_range: FAILED")
    assert gate_row(reach) == ("usable range", "0.08 µm", "≥ 0.15 µm", "FAIL")
    missing = GateResult(name="model_fit", passed=False, value=float("nan"), threshold=0.0, message="model_fit: FAILED")
    assert gate_row(missing) == ("model fit", "—", "—", "FAIL")
