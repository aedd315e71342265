"""Focus models: the core contract, parameter recovery, inversion and saved-model checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scopeweave_focuslock.models import (
    LinearFocusModel,
    PiecewiseFocusModel,
    Poly2FocusModel,
    ZhuangFocusModel,
    builtin_models,
    ellipticity,
    zhuang_calibration,
)
from scopeweave_focuslock.params import PolynomialParams, ZhuangParams
from scopeweave_psf import ZhuangAxis

from scopeweave.kinds.focus_model import FocusModel
from scopeweave.testing import FocusModelContract

TRUE_X = ZhuangAxis(w0_px=1.5, c_um=0.2, d_um=0.4, a=0.05, b=0.02)
TRUE_Y = ZhuangAxis(w0_px=1.5, c_um=-0.2, d_um=0.4, a=-0.05, b=0.02)


class TestZhuangContract(FocusModelContract):
    @pytest.fixture
    def focus_model(self) -> FocusModel:
        return ZhuangFocusModel()


class TestZhuangOrder0Contract(FocusModelContract):
    @pytest.fixture
    def focus_model(self) -> FocusModel:
        return ZhuangFocusModel(ZhuangParams(order=0))


class TestLinearContract(FocusModelContract):
    # A straight line is held to its own accuracy bound (max_model_error_um) plus the noise.
    inversion_tolerance_um = 0.03

    @pytest.fixture
    def focus_model(self) -> FocusModel:
        return LinearFocusModel()


class TestPoly2Contract(FocusModelContract):
    inversion_tolerance_um = 0.03

    @pytest.fixture
    def focus_model(self) -> FocusModel:
        return Poly2FocusModel()


class TestPiecewiseContract(FocusModelContract):
    @pytest.fixture
    def focus_model(self) -> FocusModel:
        return PiecewiseFocusModel()


def _sweep(rng: np.random.Generator, noise_px: float, n: int = 41, half_range_um: float = 0.8):
    z = np.linspace(-half_range_um, half_range_um, n)
    return (z, TRUE_X.width_px(z) + rng.normal(0, noise_px, n), TRUE_Y.width_px(z) + rng.normal(0, noise_px, n))


def test_zhuang_recovers_the_true_axes() -> None:
    rng = np.random.default_rng(7)
    z, sx, sy = _sweep(rng, noise_px=0.01)
    fitted = ZhuangFocusModel().fit(z, sx, sy)
    for fit, truth in ((fitted.psf_x, TRUE_X), (fitted.psf_y, TRUE_Y)):
        assert fit.w0_px == pytest.approx(truth.w0_px, abs=0.02)
        assert fit.c_um == pytest.approx(truth.c_um, abs=0.01)
        assert fit.d_um == pytest.approx(truth.d_um, abs=0.015)
        # A and B trade off against each other; the curve itself must match.
        grid = np.linspace(-0.8, 0.8, 81)
        np.testing.assert_allclose(fit.width_px(grid), truth.width_px(grid), atol=0.02)
    assert fitted.focus_um == pytest.approx(0.0, abs=0.01)
    assert fitted.slope_sign == -1
    assert fitted.width_residual_rms_px == pytest.approx(0.01, rel=0.3)


def test_zhuang_ignores_outliers_storm_analysis_style() -> None:
    rng = np.random.default_rng(8)
    z, sx, sy = _sweep(rng, noise_px=0.01)
    sx_bad = sx.copy()
    sx_bad[[5, 17, 30]] += 1.5
    clean = ZhuangFocusModel().fit(z, sx, sy)
    dirty = ZhuangFocusModel().fit(z, sx_bad, sy)
    assert dirty.psf_x.c_um == pytest.approx(clean.psf_x.c_um, abs=0.005)
    assert dirty.psf_x.w0_px == pytest.approx(clean.psf_x.w0_px, abs=0.01)
    grid = np.linspace(-0.6, 0.6, 61)
    assert np.max(np.abs(dirty.psf_x.width_px(grid) - clean.psf_x.width_px(grid))) < 0.02
    no_rejection = ZhuangFocusModel(ZhuangParams(outlier_rounds=0)).fit(z, sx_bad, sy)
    assert np.max(np.abs(no_rejection.psf_x.width_px(grid) - clean.psf_x.width_px(grid))) > 0.04


def test_usable_range_is_where_the_ellipticity_is_steep_enough() -> None:
    model = zhuang_calibration(TRUE_X, TRUE_Y, z_min_um=-0.8, z_max_um=0.8, width_residual_rms_px=0.01)
    low, high = model.usable_range_um
    grid = np.linspace(low, high, 200)
    slope = np.gradient(model.ellipticity_at(grid), grid)
    at_focus = abs(float(np.gradient(model.ellipticity_at([-1e-3, 0, 1e-3]), [-1e-3, 0, 1e-3])[1]))
    assert (slope < 0).all()
    assert abs(slope).min() >= 0.2 * at_focus * 0.98
    wider = zhuang_calibration(TRUE_X, TRUE_Y, z_min_um=-0.8, z_max_um=0.8, width_residual_rms_px=0.01,
                               params=ZhuangParams(min_relative_slope=0.05))
    assert wider.usable_range_um[0] < low
    assert wider.usable_range_um[1] > high
    # Never wider than the sampled z span.
    narrow = zhuang_calibration(TRUE_X, TRUE_Y, z_min_um=-0.1, z_max_um=0.12, width_residual_rms_px=0.01)
    assert narrow.usable_range_um == pytest.approx((-0.1, 0.12), abs=1e-3)


def test_weighted_inversion_uses_the_covariance() -> None:
    model = zhuang_calibration(TRUE_X, TRUE_Y, z_min_um=-0.8, z_max_um=0.8, width_residual_rms_px=0.01)
    z = 0.13
    sx, sy = float(TRUE_X.width_px(z)), float(TRUE_Y.width_px(z))
    cov = np.diag([0.02**2, 0.03**2])
    estimate = model.z_from_widths(sx, sy, width_covariance=cov)
    assert float(estimate.z_um) == pytest.approx(z, abs=2e-4)
    gx = float(np.gradient(TRUE_X.width_px([z - 1e-4, z, z + 1e-4]), 1e-4)[1])
    gy = float(np.gradient(TRUE_Y.width_px([z - 1e-4, z, z + 1e-4]), 1e-4)[1])
    expected_err = 1 / np.sqrt(gx**2 / 0.02**2 + gy**2 / 0.03**2)
    assert float(estimate.z_err_um) == pytest.approx(expected_err, rel=1e-3)
    assert bool(estimate.in_domain)
    # Widths far from the model curve (a different spot) fail the chi-square test.
    wrong = model.z_from_widths(sx + 0.4, sy + 0.4, width_covariance=cov)
    assert not bool(wrong.in_domain)
    assert float(wrong.distance) > model.max_chi2


def test_polynomial_inversion_is_exact_on_its_own_model() -> None:
    # Widths whose ellipticity is exactly quadratic in z.
    z = np.linspace(-0.3, 0.3, 31)
    e = 0.02 - 0.5 * z + 0.3 * z**2
    sx, sy = 2.0 * (1 + e), 2.0 * (1 - e)
    fitted = Poly2FocusModel(PolynomialParams(max_model_error_um=1e-3)).fit(z, sx, sy)
    np.testing.assert_allclose(fitted.coefficients, (0.02, -0.5, 0.3), atol=1e-9)
    np.testing.assert_allclose(fitted.z_from_widths(sx, sy).z_um, z, atol=1e-9)
    root = (0.5 - np.sqrt(0.25 - 4 * 0.3 * 0.02)) / (2 * 0.3)
    assert fitted.focus_um == pytest.approx(root, abs=1e-9)
    linear = LinearFocusModel(PolynomialParams(max_model_error_um=0.005)).fit(z, sx, sy)
    low, high = linear.usable_range_um
    # The curvature limits the straight line to a part of the sweep.
    assert high - low < 0.6


def test_linear_range_shrinks_to_the_requested_accuracy() -> None:
    rng = np.random.default_rng(3)
    z, sx, sy = _sweep(rng, noise_px=0.0)
    loose = LinearFocusModel(PolynomialParams(max_model_error_um=0.05)).fit(z, sx, sy)
    tight = LinearFocusModel(PolynomialParams(max_model_error_um=0.01)).fit(z, sx, sy)
    assert (tight.usable_range_um[1] - tight.usable_range_um[0]) < (loose.usable_range_um[1] - loose.usable_range_um[0])
    inside = (z >= tight.usable_range_um[0]) & (z <= tight.usable_range_um[1])
    error = tight.z_from_widths(sx[inside], sy[inside]).z_um - z[inside]
    assert np.max(np.abs(error)) <= 0.01 + 1e-9


def test_expected_slope_picks_the_crossing() -> None:
    # The ellipticity crosses zero twice: falling at z = -0.2, rising at z = +0.3.
    z = np.linspace(-0.6, 0.6, 61)
    e = 2.0 * (z + 0.2) * (z - 0.3)
    sx, sy = 2.0 * (1 + e), 2.0 * (1 - e)
    rising = PiecewiseFocusModel().fit(z, sx, sy, expected_slope="positive")
    falling = PiecewiseFocusModel().fit(z, sx, sy, expected_slope="negative")
    nearest = PiecewiseFocusModel().fit(z, sx, sy)
    assert (rising.slope_sign, rising.focus_um) == (1, pytest.approx(0.3, abs=1e-6))
    assert (falling.slope_sign, falling.focus_um) == (-1, pytest.approx(-0.2, abs=1e-6))
    assert nearest.focus_um == pytest.approx(-0.2, abs=1e-6)
    with pytest.raises(ValueError, match="expected_slope"):
        PiecewiseFocusModel().fit(z, sx, sy, expected_slope="upward")


def test_a_sweep_that_never_crosses_focus_is_refused() -> None:
    z = np.linspace(0.3, 0.9, 31)
    with pytest.raises(ValueError, match="does not cross focus"):
        LinearFocusModel().fit(z, TRUE_X.width_px(z), TRUE_Y.width_px(z))
    with pytest.raises(ValueError, match="does not cross focus"):
        ZhuangFocusModel().fit(z, TRUE_X.width_px(z), TRUE_Y.width_px(z))


@pytest.mark.parametrize("name", ["zhuang", "linear", "poly2", "piecewise"])
def test_from_dict_names_the_bad_key(name: str) -> None:
    model = builtin_models()[name]
    rng = np.random.default_rng(1)
    data = model.fit(*_sweep(rng, noise_px=0.005)).to_dict()
    broken = dict(data)
    broken["usable_range_um"] = [0.3, -0.3]
    with pytest.raises(ValueError, match="usable_range_um"):
        model.from_dict(broken)
    broken = dict(data)
    del broken["slope_sign"]
    with pytest.raises(ValueError, match="slope_sign"):
        model.from_dict(broken)


def test_ellipticity_signal() -> None:
    np.testing.assert_allclose(ellipticity([2.0, 1.0, 3.0], [2.0, 3.0, 1.0]), [0.0, -0.5, 0.5])


_FITTED = {name: model.fit(*_sweep(np.random.default_rng(2), noise_px=0.005)) for name, model in
           builtin_models().items()}


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(_FITTED)),
    sx=st.floats(0.05, 50.0),
    sy=st.floats(0.05, 50.0),
    with_covariance=st.booleans(),
)
def test_inversion_never_leaves_the_usable_range(name: str, sx: float, sy: float, with_covariance: bool) -> None:
    """Whatever widths come in, z stays inside the range and in-domain answers reproduce the widths' model."""
    model = _FITTED[name]
    cov = np.diag([0.02**2, 0.02**2]) if with_covariance else None
    estimate = model.z_from_widths(sx, sy, width_covariance=cov)
    low, high = model.usable_range_um
    z = float(estimate.z_um)
    assert low - 1e-9 <= z <= high + 1e-9
    if bool(estimate.in_domain):
        assert np.isfinite(float(estimate.z_err_um))
        # In domain means the spot's size fits the calibration at that z (within 10 %).
        size = 0.5 * (sx + sy)
        model_size = 0.5 * (float(TRUE_X.width_px(z)) + float(TRUE_Y.width_px(z)))
        assert abs(size - model_size) <= 0.2 * model_size
