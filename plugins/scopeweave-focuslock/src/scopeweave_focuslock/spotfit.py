"""Measuring the astigmatic spot in an ROI: elliptical MLE fit, moment fallback, detection flags.

Every measured sample is labelled ``parametric_fit`` (the Poisson-MLE fit of
the integrated elliptical Gaussian converged to a plausible spot) or
``moment_fallback`` (the moment estimate, kept for diagnostics; a focus model
never fits it).  ``reason`` says why a sample fell back; ``edge`` flags a spot
whose model puts more than ``max_clipped_fraction`` of its photons outside
the ROI (the spot touches the border).
"""

from __future__ import annotations

import math
from typing import Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scopeweave_psf import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, FitMode
from scopeweave_psf.kernels import free_indices, run_batch

from scopeweave_focuslock._measure_kernel import (
    F_CONVERGED,
    F_ITERATIONS,
    F_REASON,
    REASONS,
    S_CLIPPED,
    S_QUALITY,
    S_SIGNAL_FRACTION,
    S_SNR,
    clipped_fraction_one,
    measure_batch_parallel,
    measure_batch_serial,
    measure_one,
)
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

SampleClass = Literal["parametric_fit", "moment_fallback"]
PARAMETRIC: SampleClass = "parametric_fit"
FALLBACK: SampleClass = "moment_fallback"
_DEFAULT_OPTIONS = DetectionOptions()


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
    theta_rad: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Fraction of each spot's photons outside an ROI of ``shape_px`` (what sets the ``edge`` flag).

    A rotated spot is replaced by the axis-aligned spot with the same
    projected widths; arguments broadcast.
    """
    h, w = shape_px
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in
                                   (x_px, y_px, sigma_x_px, sigma_y_px, theta_rad)))
    out = np.empty(arrays[0].shape)
    p = np.zeros(7)
    for index in np.ndindex(out.shape):
        p[:5] = [a[index] for a in arrays]
        out[index] = clipped_fraction_one(h, w, p)
    return out


def _kernel_inputs(
    options: DetectionOptions, theta_rad: float | None
) -> tuple[bool, float, NDArray[np.int64], int, NDArray[np.float64]]:
    """(fix theta?, theta, free indices, iteration cap, option vector) for the measuring kernel."""
    fixed = theta_rad is not None or options.fast_mode
    mode: FitMode = "elliptical_fixed_theta" if fixed else "elliptical"
    theta = float(theta_rad) if theta_rad is not None else 0.0
    if not math.isfinite(theta):
        raise ValueError(f"'theta_rad' must be finite (got {theta_rad!r}).")
    vector = np.array([options.background_percentile, options.min_roi_intensity_fraction, options.min_snr,
                       options.max_fit_quality, options.min_sigma_px, options.max_sigma_px])
    return fixed, theta, free_indices(mode), DEFAULT_MAX_ITERATIONS[mode], vector


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
    if batch.ndim != 3 or batch.shape[1] < 3 or batch.shape[2] < 3:
        raise ValueError(f"'rois' must be an (n, height, width) array of ROIs >= 3 x 3 px (got shape {batch.shape}).")
    n = batch.shape[0]
    mask = np.zeros(n, dtype=np.bool_) if saturated is None else np.asarray(saturated, dtype=np.bool_)
    if mask.shape != (n,):
        raise ValueError(f"'saturated' must have shape ({n},) (got {mask.shape}).")
    fixed, theta, free, cap, vector = _kernel_inputs(opts, theta_rad)
    params = np.empty((n, 7))
    cov = np.empty((n, 7, 7))
    scalars = np.empty((n, 4))
    flags = np.empty((n, 3), dtype=np.int64)
    run_batch(measure_batch_serial, measure_batch_parallel, n, n_threads, batch, np.full(n, theta), fixed,
              float(readout_variance), mask, opts.use_gaussian_fit, free, cap, DEFAULT_TOLERANCE, vector, params,
              cov, scalars, flags)
    crlb = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    reason = np.asarray(REASONS, dtype=str)[flags[:, 0]]
    fallback = flags[:, 0] != 0
    return SpotTable(
        x_px=params[:, 0], y_px=params[:, 1], sigma_x_px=params[:, 2], sigma_y_px=params[:, 3],
        theta_rad=params[:, 4], photons=params[:, 5], background=params[:, 6],
        x_err_px=crlb[:, 0], y_err_px=crlb[:, 1], sigma_x_err_px=crlb[:, 2], sigma_y_err_px=crlb[:, 3],
        theta_err_rad=crlb[:, 4], width_covariance=np.ascontiguousarray(cov[:, 2:4, 2:4]),
        fit_quality=scalars[:, S_QUALITY], iterations=flags[:, F_ITERATIONS], converged=flags[:, F_CONVERGED] == 1,
        sample_class=np.where(fallback, FALLBACK, PARAMETRIC).astype(str), reason=reason,
        edge=np.nan_to_num(scalars[:, S_CLIPPED], nan=0.0) > opts.max_clipped_fraction,
        signal_fraction=scalars[:, S_SIGNAL_FRACTION], snr=scalars[:, S_SNR],
    )


def fit_spot(
    roi_photons: ArrayLike,
    *,
    theta_rad: float | None = 0.0,
    options: DetectionOptions | None = None,
    readout_variance: float = 0.0,
    saturated: bool = False,
) -> SpotFit:
    """Measure one ROI (``(h, w)`` photons): the per-frame call of a focus lock.

    One compiled call (moments, fit, flags).  By default theta is fixed at 0
    (the exact, fast erf model); pass the calibration's theta, or ``None`` to
    fit it freely.
    """
    roi = np.ascontiguousarray(roi_photons, dtype=np.float64)
    if roi.ndim != 2 or roi.shape[0] < 3 or roi.shape[1] < 3:
        raise ValueError(f"'roi_photons' must be a 2D (height, width) array >= 3 x 3 px (got shape {roi.shape}).")
    opts = options or _DEFAULT_OPTIONS
    fixed, theta, free, cap, vector = _kernel_inputs(opts, theta_rad)
    params = np.empty(7)
    cov = np.empty((7, 7))
    scalars = np.empty(4)
    flags = np.empty(3, dtype=np.int64)
    measure_one(roi, theta, fixed, float(readout_variance), saturated, opts.use_gaussian_fit, free, cap,
                DEFAULT_TOLERANCE, vector, params, cov, scalars, flags)
    code = int(flags[F_REASON])
    sample_class: SampleClass = FALLBACK if code else PARAMETRIC
    return SpotFit(
        x_px=float(params[0]), y_px=float(params[1]), sigma_x_px=float(params[2]), sigma_y_px=float(params[3]),
        theta_rad=float(params[4]), photons=float(params[5]), background=float(params[6]),
        x_err_px=math.sqrt(cov[0, 0]), y_err_px=math.sqrt(cov[1, 1]), sigma_x_err_px=math.sqrt(cov[2, 2]),
        sigma_y_err_px=math.sqrt(cov[3, 3]), theta_err_rad=math.sqrt(cov[4, 4]),
        width_covariance=cov[2:4, 2:4].copy(), fit_quality=float(scalars[S_QUALITY]),
        iterations=int(flags[F_ITERATIONS]), converged=bool(flags[F_CONVERGED]),
        sample_class=sample_class, reason=REASONS[code],
        edge=bool(scalars[S_CLIPPED] > opts.max_clipped_fraction), signal_fraction=float(scalars[S_SIGNAL_FRACTION]),
        snr=float(scalars[S_SNR]),
    )
