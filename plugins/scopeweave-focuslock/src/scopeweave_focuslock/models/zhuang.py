"""The ``zhuang`` focus model: per-axis w(z) = w0 sqrt(1 + X^2 + A X^3 + B X^4), X = (z - c) / d.

Fitted as storm-analysis does (Huang et al., Science 2008): each axis first
with A = B = 0 (order 0), samples further than ``outlier_sd`` standard
deviations from that curve removed (``outlier_rounds`` times), then the full
model from the order-0 result.  z is recovered by a bounded search over the
usable range: the sqrt-width distance of Huang et al. without a measurement
covariance, the chi-square of the width residual with one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares
from scopeweave_psf import ZhuangAxis, zhuang_width

from scopeweave.kinds.focus_model import ExpectedSlope
from scopeweave_focuslock.models._invert import invert_widths
from scopeweave_focuslock.models.base import (
    MAX_RELATIVE_WIDTH_ERROR,
    ZEstimate,
    calibration_samples,
    ellipticity,
    expected_sign,
    focus_crossing,
    read_float,
    read_range,
    read_sign,
)
from scopeweave_focuslock.params import CHI2_1DOF_999, ZhuangParams

__all__ = ["ZhuangCalibration", "ZhuangFocusModel", "ZhuangParams", "zhuang_calibration", "zhuang_width_slope"]

_NO_COVARIANCE = np.zeros((1, 2, 2))











def _axis_residuals(theta: NDArray[np.float64], z: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    w0, c, d = theta[:3]
    a, b = (theta[3], theta[4]) if theta.size == 5 else (0.0, 0.0)
    return zhuang_width(z, w0_px=w0, c_um=c, d_um=d, a=a, b=b) - w


def _fit_axis(z: NDArray[np.float64], w: NDArray[np.float64], params: ZhuangParams, axis: str) -> ZhuangAxis:
    """storm-analysis style: order 0, outliers out, then the full model."""
    k_min = int(np.argmin(w))
    w0 = float(w[k_min])
    span = float(z[-1] - z[0])
    starts = [np.array([w0, float(z[k_min]), max(span / 4, 1e-3)]),
              np.array([w0, -float(z[k_min]), max(span / 4, 1e-3)])]
    lower, upper = [1e-3, -np.inf, 1e-4], [np.inf, np.inf, np.inf]
    keep = np.ones(z.size, dtype=bool)

    def order0_fit(starts: list[NDArray[np.float64]]) -> NDArray[np.float64]:
        fits = [least_squares(_axis_residuals, start, args=(z[keep], w[keep]), bounds=(lower, upper))
                for start in starts]
        return np.asarray(min(fits, key=lambda f: f.cost).x)

    order0 = order0_fit(starts)
    for _ in range(params.outlier_rounds):
        residual = _axis_residuals(order0, z, w)
        sd = float(np.std(residual[keep]))
        new_keep = np.abs(residual) <= params.outlier_sd * sd
        if sd == 0 or new_keep.sum() < 5 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
        order0 = order0_fit([order0])
    theta = order0
    if params.order == 2:
        start = np.concatenate([order0, [0.0, 0.0]])
        full = least_squares(_axis_residuals, start, args=(z[keep], w[keep]),
                             bounds=([*lower, -np.inf, -np.inf], [*upper, np.inf, np.inf]))
        theta = full.x
    if not np.isfinite(theta).all():
        raise ValueError(f"the Zhuang fit of sigma_{axis} did not converge")
    a, b = (float(theta[3]), float(theta[4])) if theta.size == 5 else (0.0, 0.0)
    return ZhuangAxis(w0_px=float(theta[0]), c_um=float(theta[1]), d_um=float(theta[2]), a=a, b=b)


@attrs.frozen(kw_only=True, eq=False)
class ZhuangCalibration:
    """A fitted Zhuang model (a :class:`~scopeweave.kinds.focus_model.FittedFocusModel`).

    Attributes
    ----------
    psf_x, psf_y
        Width model of each axis.
    focus_um
        Where sigma_x = sigma_y.
    usable_range_um
        ``(low, high)`` where z is recovered.
    slope_sign
        Sign of d ellipticity / dz.
    width_residual_rms_px
        RMS of the calibration's width residuals (sets z_err without a covariance).
    max_chi2
        Out-of-domain threshold with a covariance (without one, widths more
        than :data:`MAX_RELATIVE_WIDTH_ERROR` from the model are out of domain).
    z_step_nm
        Grid step of the inversion.
    """

    psf_x: ZhuangAxis
    psf_y: ZhuangAxis
    focus_um: float
    usable_range_um: tuple[float, float]
    slope_sign: int
    width_residual_rms_px: float
    max_chi2: float = CHI2_1DOF_999
    z_step_nm: float = 1.0
    _grid_z: NDArray[np.float64] = attrs.field(init=False, repr=False)
    _grid_wx: NDArray[np.float64] = attrs.field(init=False, repr=False)
    _grid_wy: NDArray[np.float64] = attrs.field(init=False, repr=False)
    _axis_x: NDArray[np.float64] = attrs.field(init=False, repr=False)
    _axis_y: NDArray[np.float64] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        low, high = self.usable_range_um
        n = max(math.ceil((high - low) / (self.z_step_nm * 1e-3)) + 1, 3)
        grid = np.linspace(low, high, n)
        object.__setattr__(self, "_grid_z", grid)
        object.__setattr__(self, "_grid_wx", self.psf_x.width_px(grid))
        object.__setattr__(self, "_grid_wy", self.psf_y.width_px(grid))
        for name, axis in (("_axis_x", self.psf_x), ("_axis_y", self.psf_y)):
            object.__setattr__(self, name, np.array([axis.w0_px, axis.c_um, axis.d_um, axis.a, axis.b]))

    def widths_px(self, z_um: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Model widths (sigma_x, sigma_y) at ``z_um``."""
        return self.psf_x.width_px(z_um), self.psf_y.width_px(z_um)

    def ellipticity_at(self, z_um: ArrayLike) -> NDArray[np.float64]:
        """Model ellipticity at ``z_um``."""
        return ellipticity(*self.widths_px(z_um))

    def width_slopes(self, z_um: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """d sigma_x / dz and d sigma_y / dz (px per um)."""
        return zhuang_width_slope(self.psf_x, z_um), zhuang_width_slope(self.psf_y, z_um)

    def z_from_widths(
        self, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, *, width_covariance: ArrayLike | None = None
    ) -> ZEstimate:
        """Bounded search over the usable range (see the module docstring)."""
        if np.ndim(sigma_x_px) == 0 and np.ndim(sigma_y_px) == 0:
            shape: tuple[int, ...] = ()
            sx = np.array([sigma_x_px], dtype=np.float64)
            sy = np.array([sigma_y_px], dtype=np.float64)
        else:
            bx, by = np.broadcast_arrays(np.asarray(sigma_x_px, dtype=np.float64),
                                         np.asarray(sigma_y_px, dtype=np.float64))
            shape = bx.shape
            sx, sy = np.ascontiguousarray(bx).reshape(-1), np.ascontiguousarray(by).reshape(-1)
        n = sx.size
        weighted = width_covariance is not None
        if weighted:
            cov = np.ascontiguousarray(
                np.broadcast_to(np.asarray(width_covariance, dtype=np.float64), (*shape, 2, 2)).reshape(n, 2, 2))
        else:
            cov = _NO_COVARIANCE
        z = np.empty(n)
        err = np.empty(n)
        domain = np.empty(n, dtype=np.bool_)
        distance = np.empty(n)
        invert_widths(sx, sy, cov, weighted, self._grid_z, self._grid_wx, self._grid_wy, self._axis_x, self._axis_y,
                      self.width_residual_rms_px, self.max_chi2, MAX_RELATIVE_WIDTH_ERROR, z, err, domain, distance)
        return ZEstimate(z_um=z.reshape(shape), z_err_um=err.reshape(shape), in_domain=domain.reshape(shape),
                         distance=distance.reshape(shape))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (widths in px, z in um)."""
        return {
            "psf_x": self.psf_x.as_dict(),
            "psf_y": self.psf_y.as_dict(),
            "focus_um": self.focus_um,
            "usable_range_um": list(self.usable_range_um),
            "slope_sign": self.slope_sign,
            "width_residual_rms_px": self.width_residual_rms_px,
            "max_chi2": self.max_chi2,
            "z_step_nm": self.z_step_nm,
        }


def zhuang_width_slope(axis: ZhuangAxis, z_um: ArrayLike) -> NDArray[np.float64]:
    """d w / dz of one axis (px per um)."""
    x = (np.asarray(z_um, dtype=np.float64) - axis.c_um) / axis.d_um
    radicand = np.maximum(1.0 + x**2 + axis.a * x**3 + axis.b * x**4, 1e-12)
    return np.asarray(axis.w0_px * (2 * x + 3 * axis.a * x**2 + 4 * axis.b * x**3) / (2 * np.sqrt(radicand) * axis.d_um))


def zhuang_calibration(
    psf_x: ZhuangAxis,
    psf_y: ZhuangAxis,
    *,
    z_min_um: float,
    z_max_um: float,
    expected_slope: str = "auto",
    width_residual_rms_px: float,
    params: ZhuangParams | None = None,
) -> ZhuangCalibration:
    """Focus, slope and usable range of a pair of width models over ``[z_min_um, z_max_um]``.

    The usable range is the interval around focus where the model
    ellipticity is monotonic and its slope stays above
    ``min_relative_slope`` times the slope at focus.
    """
    p = params or ZhuangParams()
    if not z_max_um > z_min_um:
        raise ValueError(f"z_max_um ({z_max_um}) must exceed z_min_um ({z_min_um}).")
    grid = np.linspace(z_min_um, z_max_um, max(int((z_max_um - z_min_um) / 1e-3) + 1, 101))
    signal = ellipticity(psf_x.width_px(grid), psf_y.width_px(grid))
    focus = focus_crossing(grid, signal, sign=expected_sign(expected_slope), centre_um=0.5 * (z_min_um + z_max_um))
    slope = np.gradient(signal, grid)
    k_focus = int(np.clip(np.searchsorted(grid, focus), 1, grid.size - 2))
    sign = 1 if slope[k_focus] > 0 else -1
    good = slope * sign > p.min_relative_slope * abs(slope[k_focus])
    lo = hi = k_focus
    while lo > 0 and good[lo - 1]:
        lo -= 1
    while hi < grid.size - 1 and good[hi + 1]:
        hi += 1
    if hi - lo < 2:
        raise ValueError("the Zhuang model has no usable range around focus (the ellipticity is flat there)")
    return ZhuangCalibration(
        psf_x=psf_x, psf_y=psf_y, focus_um=float(focus), usable_range_um=(float(grid[lo]), float(grid[hi])),
        slope_sign=sign, width_residual_rms_px=float(width_residual_rms_px), max_chi2=p.max_chi2,
        z_step_nm=p.z_step_nm,
    )


class ZhuangFocusModel:
    """The ``zhuang`` FocusModel component."""

    name = "zhuang"

    def __init__(self, params: ZhuangParams | None = None) -> None:
        self.params = params or ZhuangParams()

    def fit(
        self, z_um: ArrayLike, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, *, expected_slope: ExpectedSlope = "auto"
    ) -> ZhuangCalibration:
        """Fit both axes and locate focus and the usable range within the sampled z span."""
        expected_sign(expected_slope)
        z, sx, sy = calibration_samples(z_um, sigma_x_px, sigma_y_px)
        psf_x = _fit_axis(z, sx, self.params, "x")
        psf_y = _fit_axis(z, sy, self.params, "y")
        residual = np.concatenate([psf_x.width_px(z) - sx, psf_y.width_px(z) - sy])
        # Robust scatter (MAD), so the outliers the fit ignored do not inflate it.
        rms = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
        return zhuang_calibration(psf_x, psf_y, z_min_um=float(z[0]), z_max_um=float(z[-1]),
                                  expected_slope=expected_slope, width_residual_rms_px=max(rms, 1e-6),
                                  params=self.params)

    def from_dict(self, data: Mapping[str, Any]) -> ZhuangCalibration:
        """Restore a fitted model saved by :meth:`ZhuangCalibration.to_dict`."""
        where = "zhuang model"
        axes = {}
        for key in ("psf_x", "psf_y"):
            table = data.get(key)
            if not isinstance(table, Mapping):
                raise ValueError(f"{where}: {key!r} must be a table of w0_px, c_um, d_um, a, b")
            try:
                axes[key] = ZhuangAxis(**{name: read_float(table, name, where=f"{where}.{key}")
                                          for name in ("w0_px", "c_um", "d_um", "a", "b")})
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where}.{key}: {exc}") from None
        return ZhuangCalibration(
            psf_x=axes["psf_x"], psf_y=axes["psf_y"], focus_um=read_float(data, "focus_um", where=where),
            usable_range_um=read_range(data, "usable_range_um", where=where),
            slope_sign=read_sign(data, "slope_sign", where=where),
            width_residual_rms_px=read_float(data, "width_residual_rms_px", where=where),
            max_chi2=read_float(data, "max_chi2", where=where), z_step_nm=read_float(data, "z_step_nm", where=where),
        )
