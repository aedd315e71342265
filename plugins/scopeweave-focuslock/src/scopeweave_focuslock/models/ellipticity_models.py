"""Focus models on the ellipticity signal e = (sigma_x - sigma_y) / (sigma_x + sigma_y).

``linear`` (e = m z + q), ``poly2`` (e = a z^2 + b z + c) and ``piecewise``
(linear interpolation between the sweep's per-step means) all start the same
way: the per-step mean ellipticity, its zero crossing nearest the sweep centre
(the focus; a crossing in the ``expected_slope`` direction is preferred) and
the interval around it where the means move monotonically.  ``linear`` and
``poly2`` then shrink that interval from its worse end until the model
reproduces every step mean within ``max_model_error_um`` of z; that interval
is the usable range.  Inversion is analytic and never leaves the range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scopeweave.kinds.focus_model import ExpectedSlope
from scopeweave_focuslock.models.base import (
    SizeCurve,
    ZEstimate,
    calibration_samples,
    ellipticity,
    ellipticity_variance,
    expected_sign,
    focus_crossing,
    monotonic_interval,
    read_float,
    read_range,
    read_sign,
    step_means,
)
from scopeweave_focuslock.params import PolynomialParams

__all__ = [
    "LinearFocusModel",
    "PiecewiseCalibration",
    "PiecewiseFocusModel",
    "Poly2FocusModel",
    "PolynomialCalibration",
    "PolynomialParams",
]

MIN_STEPS = 4




def _robust_sd(values: NDArray[np.float64]) -> float:
    return max(1.4826 * float(np.median(np.abs(values - np.median(values)))), 1e-9)


def _monotonic_steps(
    z: NDArray[np.float64], e: NDArray[np.float64], expected_slope: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, int]:
    """Per-step means inside the monotonic interval around the focus crossing, the crossing and the sign."""
    zs, es = step_means(z, e)
    if zs.size < MIN_STEPS:
        raise ValueError(f"the ellipticity models need >= {MIN_STEPS} distinct z steps (got {zs.size})")
    crossing = focus_crossing(zs, es, sign=expected_sign(expected_slope), centre_um=0.5 * (zs[0] + zs[-1]))
    k = int(np.clip(np.searchsorted(zs, crossing), 1, zs.size - 1))
    sign = 1 if es[k] > es[k - 1] else -1
    low, high = monotonic_interval(zs, es, around_um=crossing, sign=sign)
    inside = (zs >= low) & (zs <= high)
    if inside.sum() < MIN_STEPS - 1:
        raise ValueError(
            f"the ellipticity is monotonic over only {int(inside.sum())} steps around focus "
            f"(z = {low:.3f}..{high:.3f} um): too noisy or too coarse a sweep"
        )
    return zs[inside], es[inside], crossing, sign


@attrs.frozen(kw_only=True, eq=False)
class PolynomialCalibration:
    """A fitted ``linear`` or ``poly2`` model: e(z) = sum(coefficients[k] * z**k).

    Attributes
    ----------
    degree
        1 or 2.
    coefficients
        ``(c0, c1[, c2])``.
    focus_um, usable_range_um, slope_sign
        As :class:`~scopeweave.kinds.focus_model.FittedFocusModel`.
    ellipticity_residual_sd
        Scatter of the calibration's ellipticity about the model (robust).
    size_curve
        Mean width against z: widths whose size does not fit the recovered z
        are out of domain.
    """

    degree: int
    coefficients: tuple[float, ...]
    focus_um: float
    usable_range_um: tuple[float, float]
    slope_sign: int
    ellipticity_residual_sd: float
    size_curve: SizeCurve

    def ellipticity_at(self, z_um: ArrayLike) -> NDArray[np.float64]:
        """Model ellipticity at ``z_um``."""
        z = np.asarray(z_um, dtype=np.float64)
        return np.asarray(sum(c * z**k for k, c in enumerate(self.coefficients)))

    def _slope(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(sum(k * c * z ** (k - 1) for k, c in enumerate(self.coefficients) if k > 0))

    def z_of_ellipticity(self, e: ArrayLike) -> NDArray[np.float64]:
        """The z on the calibrated branch where the model takes the value ``e`` (NaN if none)."""
        c = self.coefficients
        e = np.asarray(e, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.degree == 1:
                return np.asarray((e - c[0]) / c[1])
            a, b, c0 = c[2], c[1], c[0] - e
            root = np.sqrt(b * b - 4 * a * c0)
            # The root on the branch whose slope 2az + b has the calibrated sign.
            return np.asarray(np.where(abs(a) > 1e-12, (-b + self.slope_sign * root) / (2 * a), -c0 / b))

    def z_from_widths(
        self, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, *, width_covariance: ArrayLike | None = None
    ) -> ZEstimate:
        """Analytic inversion inside the usable range."""
        e = ellipticity(sigma_x_px, sigma_y_px)
        z = self.z_of_ellipticity(e)
        low, high = self.usable_range_um
        in_range = np.isfinite(z) & (z >= low) & (z <= high)
        nearer_low = np.abs(e - self.ellipticity_at(low)) < np.abs(e - self.ellipticity_at(high))
        z_clamped = np.where(in_range, z, np.where(nearer_low, low, high))
        inside = in_range & self.size_curve.consistent(z_clamped, sigma_x_px, sigma_y_px)
        variance = (ellipticity_variance(sigma_x_px, sigma_y_px, width_covariance) if width_covariance is not None
                    else np.full(np.shape(e), self.ellipticity_residual_sd**2))
        with np.errstate(divide="ignore", invalid="ignore"):
            z_err = np.sqrt(variance) / np.abs(self._slope(z_clamped))
        residual = np.where(in_range, 0.0, e - self.ellipticity_at(z_clamped))
        return ZEstimate(z_um=np.asarray(z_clamped), z_err_um=np.asarray(z_err), in_domain=np.asarray(inside),
                         distance=np.asarray(np.abs(residual)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {
            "degree": self.degree,
            "coefficients": list(self.coefficients),
            "focus_um": self.focus_um,
            "usable_range_um": list(self.usable_range_um),
            "slope_sign": self.slope_sign,
            "ellipticity_residual_sd": self.ellipticity_residual_sd,
            "size_curve": self.size_curve.to_dict(),
        }


class _PolynomialFocusModel:
    """Shared fitting of ``linear`` and ``poly2``."""

    name = ""
    degree = 1

    def __init__(self, params: PolynomialParams | None = None) -> None:
        self.params = params or PolynomialParams()

    def fit(
        self, z_um: ArrayLike, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, *, expected_slope: ExpectedSlope = "auto"
    ) -> PolynomialCalibration:
        """Fit on the monotonic steps around focus, shrinking the range to the model's accuracy."""
        z, sx, sy = calibration_samples(z_um, sigma_x_px, sigma_y_px)
        e = ellipticity(sx, sy)
        zs, es, crossing, sign = _monotonic_steps(z, e, expected_slope)
        lo, hi = 0, zs.size - 1
        while True:
            window = slice(lo, hi + 1)
            coefficients = np.polynomial.polynomial.polyfit(zs[window], es[window], self.degree)
            model = np.polynomial.polynomial.polyval(zs[window], coefficients)
            slope = np.polynomial.polynomial.polyval(zs[window], np.polynomial.polynomial.polyder(coefficients))
            with np.errstate(divide="ignore", invalid="ignore"):
                z_error = np.abs(model - es[window]) / np.abs(slope)
            monotonic = bool(np.all(slope * sign > 0))
            if (monotonic and np.max(z_error) <= self.params.max_model_error_um) or hi - lo + 1 <= self.degree + 2:
                break
            # Drop the end that the model misses more (the outer, more curved part of the signal).
            if z_error[0] >= z_error[-1]:
                lo += 1
            else:
                hi -= 1
        low, high = float(zs[lo]), float(zs[hi])
        inside = (z >= low) & (z <= high)
        residual = e[inside] - np.polynomial.polynomial.polyval(z[inside], coefficients)
        fitted = PolynomialCalibration(
            degree=self.degree, coefficients=tuple(float(c) for c in coefficients), focus_um=crossing,
            usable_range_um=(low, high), slope_sign=sign, ellipticity_residual_sd=_robust_sd(residual),
            size_curve=SizeCurve.from_samples(z, sx, sy, low, high),
        )
        root = float(fitted.z_of_ellipticity(0.0))
        return attrs.evolve(fitted, focus_um=root if math.isfinite(root) else crossing)

    def from_dict(self, data: Mapping[str, Any]) -> PolynomialCalibration:
        """Restore a model saved by :meth:`PolynomialCalibration.to_dict`."""
        where = f"{self.name} model"
        coefficients = data.get("coefficients")
        if (not isinstance(coefficients, list) or len(coefficients) != self.degree + 1
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
                           for c in coefficients)):
            raise ValueError(f"{where}: 'coefficients' must be {self.degree + 1} finite numbers (got {coefficients!r})")
        if data.get("degree") != self.degree:
            raise ValueError(f"{where}: 'degree' must be {self.degree} (got {data.get('degree')!r})")
        return PolynomialCalibration(
            degree=self.degree, coefficients=tuple(float(c) for c in coefficients),
            focus_um=read_float(data, "focus_um", where=where),
            usable_range_um=read_range(data, "usable_range_um", where=where),
            slope_sign=read_sign(data, "slope_sign", where=where),
            ellipticity_residual_sd=read_float(data, "ellipticity_residual_sd", where=where),
            size_curve=SizeCurve.from_dict(data.get("size_curve"), where=where),
        )


class LinearFocusModel(_PolynomialFocusModel):
    """The ``linear`` FocusModel component."""

    name = "linear"
    degree = 1


class Poly2FocusModel(_PolynomialFocusModel):
    """The ``poly2`` FocusModel component."""

    name = "poly2"
    degree = 2


@attrs.frozen(kw_only=True, eq=False)
class PiecewiseCalibration:
    """A fitted ``piecewise`` model: linear interpolation between per-step means.

    Attributes
    ----------
    knots_z_um, knots_ellipticity
        The monotonic per-step means (z ascending).
    focus_um, usable_range_um, slope_sign
        As :class:`~scopeweave.kinds.focus_model.FittedFocusModel`.
    ellipticity_residual_sd
        Scatter of single samples about the knots (robust).
    size_curve
        Mean width against z (see :class:`PolynomialCalibration`).
    """

    knots_z_um: tuple[float, ...]
    knots_ellipticity: tuple[float, ...]
    focus_um: float
    usable_range_um: tuple[float, float]
    slope_sign: int
    ellipticity_residual_sd: float
    size_curve: SizeCurve

    def ellipticity_at(self, z_um: ArrayLike) -> NDArray[np.float64]:
        """Interpolated ellipticity (flat beyond the knots)."""
        return np.asarray(np.interp(np.asarray(z_um, dtype=np.float64), self.knots_z_um, self.knots_ellipticity))

    def z_from_widths(
        self, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, *, width_covariance: ArrayLike | None = None
    ) -> ZEstimate:
        """Inverse interpolation inside the knots."""
        e = ellipticity(sigma_x_px, sigma_y_px)
        ke = np.asarray(self.knots_ellipticity)
        kz = np.asarray(self.knots_z_um)
        if self.slope_sign < 0:
            ke, kz = ke[::-1], kz[::-1]
        z = np.interp(e, ke, kz)
        inside = np.isfinite(e) & (e >= ke[0]) & (e <= ke[-1]) & self.size_curve.consistent(z, sigma_x_px, sigma_y_px)
        segment = np.clip(np.searchsorted(ke, e) - 1, 0, ke.size - 2)
        slope = (ke[segment + 1] - ke[segment]) / (kz[segment + 1] - kz[segment])
        variance = (ellipticity_variance(sigma_x_px, sigma_y_px, width_covariance) if width_covariance is not None
                    else np.full(np.shape(e), self.ellipticity_residual_sd**2))
        with np.errstate(divide="ignore", invalid="ignore"):
            z_err = np.sqrt(variance) / np.abs(slope)
        distance = np.where(inside, 0.0, np.minimum(np.abs(e - ke[0]), np.abs(e - ke[-1])))
        return ZEstimate(z_um=np.asarray(z), z_err_um=np.asarray(z_err), in_domain=np.asarray(inside),
                         distance=np.asarray(distance))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {
            "knots_z_um": list(self.knots_z_um),
            "knots_ellipticity": list(self.knots_ellipticity),
            "focus_um": self.focus_um,
            "usable_range_um": list(self.usable_range_um),
            "slope_sign": self.slope_sign,
            "ellipticity_residual_sd": self.ellipticity_residual_sd,
            "size_curve": self.size_curve.to_dict(),
        }


class PiecewiseFocusModel:
    """The ``piecewise`` FocusModel component."""

    name = "piecewise"

    def fit(
        self, z_um: ArrayLike, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, *, expected_slope: ExpectedSlope = "auto"
    ) -> PiecewiseCalibration:
        """Knots at the monotonic per-step means around focus."""
        z, sx, sy = calibration_samples(z_um, sigma_x_px, sigma_y_px)
        e = ellipticity(sx, sy)
        zs, es, crossing, sign = _monotonic_steps(z, e, expected_slope)
        inside = (z >= zs[0]) & (z <= zs[-1])
        residual = e[inside] - np.interp(z[inside], zs, es)
        return PiecewiseCalibration(
            knots_z_um=tuple(float(v) for v in zs), knots_ellipticity=tuple(float(v) for v in es), focus_um=crossing,
            usable_range_um=(float(zs[0]), float(zs[-1])), slope_sign=sign,
            ellipticity_residual_sd=_robust_sd(residual),
            size_curve=SizeCurve.from_samples(z, sx, sy, float(zs[0]), float(zs[-1])),
        )

    def from_dict(self, data: Mapping[str, Any]) -> PiecewiseCalibration:
        """Restore a model saved by :meth:`PiecewiseCalibration.to_dict`."""
        where = "piecewise model"
        kz, ke = data.get("knots_z_um"), data.get("knots_ellipticity")
        ok = (isinstance(kz, list) and isinstance(ke, list) and len(kz) == len(ke) >= 2
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in kz + ke))
        if not ok:
            raise ValueError(f"{where}: 'knots_z_um' and 'knots_ellipticity' must be equally long lists of "
                             f">= 2 finite numbers")
        assert isinstance(kz, list)
        assert isinstance(ke, list)
        sign = read_sign(data, "slope_sign", where=where)
        if not (np.all(np.diff(kz) > 0) and np.all(np.diff(ke) * sign > 0)):
            raise ValueError(f"{where}: the knots must be strictly monotonic (z ascending, ellipticity with slope_sign)")
        return PiecewiseCalibration(
            knots_z_um=tuple(float(v) for v in kz), knots_ellipticity=tuple(float(v) for v in ke),
            focus_um=read_float(data, "focus_um", where=where),
            usable_range_um=read_range(data, "usable_range_um", where=where), slope_sign=sign,
            ellipticity_residual_sd=read_float(data, "ellipticity_residual_sd", where=where),
            size_curve=SizeCurve.from_dict(data.get("size_curve"), where=where),
        )
