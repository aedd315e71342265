"""Contract every FocusModel must satisfy."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.typing import ArrayLike

from scopeweave.kinds.focus_model import FittedFocusModel, FocusModel, ZEstimateLike

#: Astigmatic widths of the contract's synthetic sweep (Huang et al. 2008 model, px and um).
AXIS_X = {"w0": 1.5, "c": 0.2, "d": 0.4, "a": 0.05, "b": 0.02}
AXIS_Y = {"w0": 1.5, "c": -0.2, "d": 0.4, "a": -0.05, "b": 0.02}


def zhuang_widths(z_um: ArrayLike, axis: dict[str, float]) -> np.ndarray:
    """w(z) = w0 sqrt(1 + X^2 + a X^3 + b X^4), X = (z - c) / d."""
    x = (np.asarray(z_um, dtype=float) - axis["c"]) / axis["d"]
    return axis["w0"] * np.sqrt(1 + x**2 + axis["a"] * x**3 + axis["b"] * x**4)


def synthetic_sweep(seed: int = 0, noise_px: float = 0.005) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 61-step sweep over +-0.6 um with slightly noisy widths; focus at z = 0, ellipticity falling."""
    rng = np.random.default_rng(seed)
    z = np.linspace(-0.6, 0.6, 61)
    sx = zhuang_widths(z, AXIS_X) + rng.normal(0.0, noise_px, z.size)
    sy = zhuang_widths(z, AXIS_Y) + rng.normal(0.0, noise_px, z.size)
    return z, sx, sy


class FocusModelContract:
    """Subclass and provide a ``focus_model`` fixture.

    ``inversion_tolerance_um`` is how close noise-free widths must map back to
    their z inside the usable range (a model with a coarse shape, such as a
    straight line, may need more than the default).
    """

    inversion_tolerance_um: float = 0.02

    @pytest.fixture
    def focus_model(self) -> FocusModel:  # pragma: no cover - overridden
        raise pytest.UsageError("FocusModelContract subclasses must define a 'focus_model' fixture")

    @pytest.fixture
    def fitted(self, focus_model: FocusModel) -> FittedFocusModel:
        return focus_model.fit(*synthetic_sweep())

    def test_is_a_focus_model(self, focus_model: FocusModel) -> None:
        assert isinstance(focus_model, FocusModel)
        assert isinstance(focus_model.name, str)
        assert focus_model.name

    def test_fit_finds_focus_slope_and_range(self, fitted: FittedFocusModel) -> None:
        assert isinstance(fitted, FittedFocusModel)
        low, high = fitted.usable_range_um
        assert low < fitted.focus_um < high
        assert abs(fitted.focus_um) < 0.02
        assert low <= -0.1
        assert high >= 0.1
        assert fitted.slope_sign == -1

    def test_widths_map_back_to_z_inside_the_range(self, fitted: FittedFocusModel) -> None:
        low, high = fitted.usable_range_um
        z = np.linspace(low + 0.02 * (high - low), high - 0.02 * (high - low), 15)
        estimate = fitted.z_from_widths(zhuang_widths(z, AXIS_X), zhuang_widths(z, AXIS_Y))
        assert isinstance(estimate, ZEstimateLike)
        assert np.asarray(estimate.in_domain).all()
        np.testing.assert_allclose(estimate.z_um, z, atol=self.inversion_tolerance_um)
        err = np.asarray(estimate.z_err_um)
        assert np.isfinite(err).all()
        assert (err > 0).all()

    def test_scalar_widths_give_scalar_answers(self, fitted: FittedFocusModel) -> None:
        estimate = fitted.z_from_widths(float(zhuang_widths(0.05, AXIS_X)), float(zhuang_widths(0.05, AXIS_Y)))
        assert np.shape(estimate.z_um) == ()
        assert math.isfinite(float(estimate.z_um))

    def test_outside_the_range_is_flagged_not_extrapolated(self, fitted: FittedFocusModel) -> None:
        low, high = fitted.usable_range_um
        z = np.array([low - 0.15, high + 0.15])
        estimate = fitted.z_from_widths(zhuang_widths(z, AXIS_X), zhuang_widths(z, AXIS_Y))
        assert not np.asarray(estimate.in_domain).any()
        values = np.asarray(estimate.z_um)
        assert ((values >= low - 1e-9) & (values <= high + 1e-9)).all()

    def test_saved_model_restores_the_same_answers(self, focus_model: FocusModel, fitted: FittedFocusModel) -> None:
        data = json.loads(json.dumps(fitted.to_dict()))
        restored = focus_model.from_dict(data)
        z = np.linspace(-0.1, 0.1, 5)
        sx, sy = zhuang_widths(z, AXIS_X), zhuang_widths(z, AXIS_Y)
        np.testing.assert_allclose(restored.z_from_widths(sx, sy).z_um, fitted.z_from_widths(sx, sy).z_um, atol=1e-9)
        assert restored.usable_range_um == pytest.approx(fitted.usable_range_um)

    def test_restoring_garbage_names_the_problem(self, focus_model: FocusModel) -> None:
        with pytest.raises(ValueError, match=r"\S"):
            focus_model.from_dict({})

    def test_too_few_samples_are_refused(self, focus_model: FocusModel) -> None:
        z, sx, sy = synthetic_sweep()
        with pytest.raises(ValueError, match=r"\S"):
            focus_model.fit(z[:3], sx[:3], sy[:3])

    def test_mirrored_optics_flip_the_slope(self, focus_model: FocusModel) -> None:
        z, sx, sy = synthetic_sweep()
        fitted = focus_model.fit(z, sy, sx, expected_slope="positive")
        assert fitted.slope_sign == 1
