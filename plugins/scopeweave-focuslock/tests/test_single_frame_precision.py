"""Single-frame z, x and y on the simulated microscope against the Cramér-Rao bound.

The simulated camera renders a bead with known Zhuang widths (sim-astigmatic
defaults: w0 1.5 px, c = +-0.2 um, d = 0.4 um), Poisson noise, 1.5 e read
noise and ADC rounding.  The model is built from the true axes, so this tests
the fit + inversion path alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_focuslock.models import zhuang_calibration
from scopeweave_focuslock.precision import z_crlb
from scopeweave_focuslock.spotfit import measure_spots
from scopeweave_psf import render_gaussian
from scopeweave_sim import SimAstigmaticCamera, SimCameraParams, SimZParams, SimZStage

READ_NOISE_E = 1.5
READOUT_VARIANCE = READ_NOISE_E**2 + 1.0 / 12.0
SHAPE = (21, 21)


@pytest.fixture
def microscope():
    stage = SimZStage(SimZParams(start_um=100.0))
    params = SimCameraParams(sensor_shape_px=SHAPE, photons=1e4, background_photons=10.0, read_noise_e=READ_NOISE_E,
                             beads_xy_um=((1.03, 0.97),), seed=11)
    camera = SimAstigmaticCamera(params, z_stage=stage)
    with stage, camera:
        yield stage, camera


def test_z_bias_and_spread_at_1e4_photons(microscope) -> None:
    stage, camera = microscope
    p = camera.params
    model = zhuang_calibration(p.psf_x, p.psf_y, z_min_um=-0.8, z_max_um=0.8, width_residual_rms_px=0.01)
    low, high = model.usable_range_um
    # Keep 5 sigma from the range ends, where single frames would fall outside (flagged, not used).
    z_values = np.linspace(low + 0.05, high - 0.05, 7)
    n_frames = 80
    normalised = {"z": [], "x": [], "y": []}
    for z in z_values:
        stage.move_to_um((100.0 + z,))
        frames = np.stack([camera.counts_to_photons(camera.snap()) for _ in range(n_frames)])
        assert camera.last_truth["z_um"] == pytest.approx(z, abs=1e-9)
        spots = measure_spots(frames, theta_rad=0.0, readout_variance=READOUT_VARIANCE)
        assert spots.parametric.all()
        estimate = model.z_from_widths(spots.sigma_x_px, spots.sigma_y_px, width_covariance=spots.width_covariance)
        assert estimate.in_domain.all()
        bias_nm = (np.mean(estimate.z_um) - z) * 1e3
        assert abs(bias_nm) < 5.0, f"z = {z:+.3f} um: bias {bias_nm:.1f} nm"
        (x_true, y_true), = camera.last_truth["beads_px"]
        bound = z_crlb(p.psf_x, p.psf_y, z, shape_px=SHAPE, photons=p.photons, background=p.background_photons,
                       x_px=x_true, y_px=y_true, readout_variance=READOUT_VARIANCE)
        normalised["z"].append((estimate.z_um - np.mean(estimate.z_um)) / bound.z_um)
        normalised["x"].append((spots.x_px - np.mean(spots.x_px)) / bound.x_px)
        normalised["y"].append((spots.y_px - np.mean(spots.y_px)) / bound.y_px)
        assert abs(np.mean(spots.x_px) - x_true) < 4 * bound.x_px / np.sqrt(n_frames)
        # The reported uncertainty follows the bound.
        assert np.median(estimate.z_err_um) == pytest.approx(float(bound.z_um), rel=0.25)
    for name, values in normalised.items():
        spread = float(np.sqrt(np.mean(np.concatenate(values) ** 2)))
        # 560 frames estimate the spread to about 3 %; the MLE should sit at the bound.
        assert spread < 1.2, f"{name}: spread is {spread:.2f} x the CRLB"
        assert spread > 0.85, f"{name}: spread {spread:.2f} x the CRLB is implausibly small"


def test_z_crlb_matches_a_numerical_fisher_information() -> None:
    p = SimCameraParams()
    z, x, y, photons, background = 0.12, 10.3, 9.6, 5000.0, 8.0

    def expected(theta: np.ndarray) -> np.ndarray:
        xx, yy, zz, nn, bb = theta
        return bb + render_gaussian(SHAPE, x_px=xx, y_px=yy, sigma_x_px=float(p.psf_x.width_px(zz)),
                                    sigma_y_px=float(p.psf_y.width_px(zz)), photons=nn)

    theta = np.array([x, y, z, photons, background])
    mu = expected(theta).ravel()
    jac = []
    for k in range(5):
        step = 1e-6 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += step
        down[k] -= step
        jac.append((expected(up) - expected(down)).ravel() / (2 * step))
    jac = np.array(jac)
    covariance = np.linalg.inv(jac @ (jac / mu).T)
    bound = z_crlb(p.psf_x, p.psf_y, z, shape_px=SHAPE, photons=photons, background=background, x_px=x, y_px=y)
    assert float(bound.z_um) == pytest.approx(np.sqrt(covariance[2, 2]), rel=1e-4)
    assert float(bound.x_px) == pytest.approx(np.sqrt(covariance[0, 0]), rel=1e-4)
    # Tighter with more photons, and about 9 nm at 1e4 photons near focus (the reference Monte Carlo).
    bounds = z_crlb(p.psf_x, p.psf_y, 0.0, shape_px=SHAPE, photons=np.array([1e3, 1e4, 1e5]), background=10.0)
    assert bounds.z_um[0] > bounds.z_um[1] > bounds.z_um[2]
    assert 0.004 < bounds.z_um[1] < 0.012
