"""Measuring the astigmatic spot in an ROI: elliptical MLE fit, moment fallback, detection flags.

Every measured sample is labelled ``parametric_fit`` (the Poisson-MLE fit of
the integrated elliptical Gaussian converged to a plausible spot) or
``moment_fallback`` (the moment estimate, kept for diagnostics; a focus model
never fits it).  ``reason`` says why a sample fell back; ``edge`` flags a spot
whose model puts more than ``max_clipped_fraction`` of its photons outside
the ROI (the spot touches the border).
"""

from __future__ import annotations

from typing import Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr
from scopeweave_psf import FitMode, fit_spots, moment_estimate

from scopeweave_focuslock.params import DetectionOptions

__all__ = [
    "FALLBACK",
    "PARAMETRIC",
    "DetectionOptions",
    "SpotFit",
    "SpotTable",
    "clipped_fraction",
    "fit_spot",
    "measure_spots",
]

PARAMETRIC = "parametric_fit"
FALLBACK = "moment_fallback"
SampleClass = Literal["parametric_fit", "moment_fallback"]








@attrs.frozen(kw_only=True, eq=False)
class SpotTable:
    """Measurements of a batch of ROIs (arrays of length n).

    Attributes
    ----------
    x_px, y_px, sigma_x_px, sigma_y_px, theta_rad, photons, background
        The spot (photons: integral of the untruncated spot; background per pixel).
    x_err_px, y_err_px, sigma_x_err_px, sigma_y_err_px, theta_err_rad
        Cramér-Rao bounds of the fit (NaN for fallback samples and fixed theta).
    width_covariance
        ``(n, 2, 2)`` covariance of (sigma_x, sigma_y) from the Fisher
        information (NaN for fallback samples).
    fit_quality
        Deviance per degree of freedom (NaN when not fitted).
    iterations, converged
        Of the fit.
    sample_class
        ``parametric_fit`` or ``moment_fallback``.
    reason
        Why a sample fell back (empty for parametric fits).
    edge
        The spot touches the ROI border.
    signal_fraction
        Share of the ROI's photons above the background (median of the ROI border).
    snr
        Spot photons over the Poisson noise of the whole ROI.
    """

    x_px: NDArray[np.float64]
    y_px: NDArray[np.float64]
    sigma_x_px: NDArray[np.float64]
    sigma_y_px: NDArray[np.float64]
    theta_rad: NDArray[np.float64]
    photons: NDArray[np.float64]
    background: NDArray[np.float64]
    x_err_px: NDArray[np.float64]
    y_err_px: NDArray[np.float64]
    sigma_x_err_px: NDArray[np.float64]
    sigma_y_err_px: NDArray[np.float64]
    theta_err_rad: NDArray[np.float64]
    width_covariance: NDArray[np.float64]
    fit_quality: NDArray[np.float64]
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_]
    sample_class: NDArray[np.str_]
    reason: NDArray[np.str_]
    edge: NDArray[np.bool_]
    signal_fraction: NDArray[np.float64]
    snr: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.x_px.shape[0])

    @property
    def parametric(self) -> NDArray[np.bool_]:
        """Mask of the ``parametric_fit`` samples."""
        return np.asarray(self.sample_class == PARAMETRIC)

    def row(self, index: int) -> SpotFit:
        """One measurement as a :class:`SpotFit`."""
        return SpotFit(
            x_px=float(self.x_px[index]), y_px=float(self.y_px[index]),
            sigma_x_px=float(self.sigma_x_px[index]), sigma_y_px=float(self.sigma_y_px[index]),
            theta_rad=float(self.theta_rad[index]), photons=float(self.photons[index]),
            background=float(self.background[index]), x_err_px=float(self.x_err_px[index]),
            y_err_px=float(self.y_err_px[index]), sigma_x_err_px=float(self.sigma_x_err_px[index]),
            sigma_y_err_px=float(self.sigma_y_err_px[index]), theta_err_rad=float(self.theta_err_rad[index]),
            width_covariance=self.width_covariance[index].copy(), fit_quality=float(self.fit_quality[index]),
            iterations=int(self.iterations[index]), converged=bool(self.converged[index]),
            sample_class=str(self.sample_class[index]), reason=str(self.reason[index]),  # type: ignore[arg-type]
            edge=bool(self.edge[index]), signal_fraction=float(self.signal_fraction[index]),
            snr=float(self.snr[index]),
        )


@attrs.frozen(kw_only=True, eq=False)
class SpotFit:
    """One measurement (fields as :class:`SpotTable`, scalars)."""

    x_px: float
    y_px: float
    sigma_x_px: float
    sigma_y_px: float
    theta_rad: float
    photons: float
    background: float
    x_err_px: float
    y_err_px: float
    sigma_x_err_px: float
    sigma_y_err_px: float
    theta_err_rad: float
    width_covariance: NDArray[np.float64]
    fit_quality: float
    iterations: int
    converged: bool
    sample_class: SampleClass
    reason: str
    edge: bool
    signal_fraction: float
    snr: float

    @property
    def is_parametric(self) -> bool:
        """Whether the widths come from a successful parametric fit."""
        return self.sample_class == PARAMETRIC


def clipped_fraction(
    shape_px: tuple[int, int], x_px: ArrayLike, y_px: ArrayLike, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike,
    theta_rad: ArrayLike,
) -> NDArray[np.float64]:
    """Fraction of each spot's photons outside an ROI of ``shape_px``.

    A rotated spot is replaced by the axis-aligned spot with the same
    projected widths.
    """
    h, w = shape_px
    c, s = np.cos(theta_rad), np.sin(theta_rad)
    sx2, sy2 = np.square(sigma_x_px), np.square(sigma_y_px)
    wx = np.sqrt(c * c * sx2 + s * s * sy2)
    wy = np.sqrt(s * s * sx2 + c * c * sy2)
    x, y = np.asarray(x_px, dtype=float), np.asarray(y_px, dtype=float)
    inside_x = ndtr((w - 0.5 - x) / wx) - ndtr((-0.5 - x) / wx)
    inside_y = ndtr((h - 0.5 - y) / wy) - ndtr((-0.5 - y) / wy)
    return np.asarray(1.0 - inside_x * inside_y)


def _signal(rois: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Share of each ROI's photons above its background, and the spot's signal-to-noise ratio.

    The background is the median of the ROI's border pixels; the noise the
    Poisson noise of the whole ROI, ``sqrt(total)``.  Empty ROIs give 0, 0.
    """
    _, h, w = rois.shape
    border = np.concatenate([rois[:, 0, :], rois[:, -1, :], rois[:, 1:-1, 0], rois[:, 1:-1, -1]], axis=1)
    background = np.median(border, axis=1)
    total = rois.sum(axis=(1, 2))
    spot = total - background * (h * w)
    positive = total > 0
    safe = np.where(positive, total, 1.0)
    return np.where(positive, spot / safe, 0.0), np.where(positive, spot / np.sqrt(safe), 0.0)


def measure_spots(
    rois: ArrayLike,
    *,
    options: DetectionOptions | None = None,
    theta_rad: float | None = None,
    readout_variance: float = 0.0,
    saturated: ArrayLike | None = None,
    n_threads: int | None = None,
) -> SpotTable:
    """Measure the spot in each ROI of ``rois`` (``(n, h, w)`` photons).

    Parameters
    ----------
    rois
        Photons per pixel (camera offset removed, gain applied).
    options
        Detection options (defaults: :class:`DetectionOptions`).
    theta_rad
        Fix theta at this value (the second pass of the two-pass calibration,
        and the runtime lock); ``None`` fits theta freely unless
        ``options.fast_mode`` (then theta is fixed at 0).
    readout_variance
        Read-noise variance in photons^2 (plus 1/12 for the ADC rounding).
    saturated
        Optional ``(n,)`` mask of ROIs holding saturated pixels; they fall back.
    n_threads
        numba threads for the batch.
    """
    opts = options or DetectionOptions()
    batch = np.ascontiguousarray(rois, dtype=np.float64)
    if batch.ndim != 3:
        raise ValueError(f"'rois' must be an (n, height, width) array (got shape {batch.shape}).")
    n, h, w = batch.shape
    moments = moment_estimate(batch, background_percentile=opts.background_percentile)
    signal_fraction, snr = _signal(batch)
    reason = np.full(n, "", dtype=object)
    reason[(signal_fraction < opts.min_roi_intensity_fraction) | (snr < opts.min_snr)] = "low_signal"
    if saturated is not None:
        mask = np.asarray(saturated, dtype=bool)
        if mask.shape != (n,):
            raise ValueError(f"'saturated' must have shape ({n},) (got {mask.shape}).")
        reason[mask] = "saturated"

    nan = np.full(n, np.nan)
    if opts.use_gaussian_fit:
        fixed = theta_rad is not None or opts.fast_mode
        mode: FitMode = "elliptical_fixed_theta" if fixed else "elliptical"
        fit = fit_spots(batch, mode=mode, initial=moments, theta_rad=theta_rad if fixed else None,
                        readout_variance=readout_variance, n_threads=n_threads, return_covariance=True)
        assert fit.covariance is not None
        params = fit.params.copy()
        crlb = fit.crlb
        covariance = fit.covariance[:, 2:4, 2:4].copy()
        quality = fit.fit_quality
        iterations, converged = fit.iterations, fit.converged
        fitted_ok = np.isfinite(params).all(axis=1) & np.isfinite(crlb[:, [0, 1, 2, 3]]).all(axis=1)
        in_range = ((params[:, 2:4] >= opts.min_sigma_px) & (params[:, 2:4] <= opts.max_sigma_px)).all(axis=1)
        open_rows = reason == ""
        reason[open_rows & ~fitted_ok] = "non_finite"
        reason[open_rows & fitted_ok & ~converged] = "not_converged"
        reason[open_rows & fitted_ok & converged & (quality > opts.max_fit_quality)] = "poor_fit"
        reason[(reason == "") & ~in_range] = "width_out_of_range"
    else:
        params = np.full((n, 7), np.nan)
        crlb = np.full((n, 7), np.nan)
        covariance = np.full((n, 2, 2), np.nan)
        quality = nan.copy()
        iterations, converged = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        reason[reason == ""] = "fit_disabled"

    fallback = reason != ""
    params[fallback] = moments.params[fallback]
    crlb = crlb.copy()
    crlb[fallback] = np.nan
    covariance[fallback] = np.nan
    with np.errstate(invalid="ignore"):
        clipped = clipped_fraction((h, w), params[:, 0], params[:, 1], params[:, 2], params[:, 3], params[:, 4])
    edge = np.nan_to_num(clipped, nan=0.0) > opts.max_clipped_fraction
    return SpotTable(
        x_px=params[:, 0], y_px=params[:, 1], sigma_x_px=params[:, 2], sigma_y_px=params[:, 3],
        theta_rad=params[:, 4], photons=params[:, 5], background=params[:, 6],
        x_err_px=crlb[:, 0], y_err_px=crlb[:, 1], sigma_x_err_px=crlb[:, 2], sigma_y_err_px=crlb[:, 3],
        theta_err_rad=crlb[:, 4], width_covariance=covariance, fit_quality=quality, iterations=iterations, converged=converged,
        sample_class=np.where(fallback, FALLBACK, PARAMETRIC).astype(str), reason=reason.astype(str),
        edge=edge, signal_fraction=signal_fraction, snr=snr,
    )


def fit_spot(
    roi_photons: ArrayLike,
    *,
    theta_rad: float | None = 0.0,
    options: DetectionOptions | None = None,
    readout_variance: float = 0.0,
) -> SpotFit:
    """Measure one ROI (``(h, w)`` photons): the per-frame call of a focus lock.

    By default theta is fixed at 0 (the exact, fast erf model); pass the
    calibration's theta, or ``None`` to fit it freely.
    """
    roi = np.asarray(roi_photons, dtype=np.float64)
    if roi.ndim != 2:
        raise ValueError(f"'roi_photons' must be a 2D (height, width) array (got shape {roi.shape}).")
    table = measure_spots(roi[None], options=options, theta_rad=theta_rad, readout_variance=readout_variance,
                          n_threads=None)
    return table.row(0)
