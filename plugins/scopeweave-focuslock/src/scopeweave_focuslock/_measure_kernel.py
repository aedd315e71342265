"""Numba kernel: measure the spot in one ROI (moments, fit, flags) in a single compiled call.

Used for batches (the calibration sweep) and for single frames (the focus
lock), so both classify samples identically and a frame costs one call.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scopeweave_psf.kernels import fit_one, moments_one, start_from_moments

#: Why a sample fell back to moments (index into :data:`REASONS`).
REASONS: tuple[str, ...] = (
    "", "low_signal", "saturated", "non_finite", "not_converged", "poor_fit", "width_out_of_range", "fit_disabled",
)
LOW_SIGNAL, SATURATED, NON_FINITE, NOT_CONVERGED, POOR_FIT, WIDTH_OUT_OF_RANGE, FIT_DISABLED = range(1, 8)

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
#: Columns of the ``scalars`` output.
S_QUALITY, S_SIGNAL_FRACTION, S_SNR, S_CLIPPED = range(4)
#: Columns of the ``flags`` output.
F_REASON, F_ITERATIONS, F_CONVERGED = range(3)


@nb.njit(cache=True)
def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x * _INV_SQRT2)


@nb.njit(cache=True)
def clipped_fraction_one(h: int, w: int, p: np.ndarray) -> float:
    """Fraction of the spot outside an ``h x w`` ROI (rotated spots by their projected widths)."""
    if not (math.isfinite(p[0]) and math.isfinite(p[1]) and p[2] > 0 and p[3] > 0):
        return math.nan
    c, s = math.cos(p[4]), math.sin(p[4])
    wx = math.sqrt(c * c * p[2] * p[2] + s * s * p[3] * p[3])
    wy = math.sqrt(s * s * p[2] * p[2] + c * c * p[3] * p[3])
    inside_x = _phi((w - 0.5 - p[0]) / wx) - _phi((-0.5 - p[0]) / wx)
    inside_y = _phi((h - 0.5 - p[1]) / wy) - _phi((-0.5 - p[1]) / wy)
    return 1.0 - inside_x * inside_y


@nb.njit(cache=True)
def signal_one(roi: np.ndarray) -> tuple[float, float]:
    """(share of the photons above the border-median background, spot photons / sqrt(ROI photons))."""
    h, w = roi.shape
    border = np.empty(2 * w + 2 * (h - 2))
    k = 0
    for j in range(w):
        border[k] = roi[0, j]
        border[k + 1] = roi[h - 1, j]
        k += 2
    for i in range(1, h - 1):
        border[k] = roi[i, 0]
        border[k + 1] = roi[i, w - 1]
        k += 2
    background = np.median(border)
    total = roi.sum()
    if not total > 0.0:
        return 0.0, 0.0
    spot = total - background * h * w
    return spot / total, spot / math.sqrt(total)


@nb.njit(cache=True)
def measure_one(
    roi: np.ndarray, theta: float, fix_theta: bool, var: float, saturated: bool, use_fit: bool,
    free_idx: np.ndarray, max_iterations: int, tolerance: float, options: np.ndarray,
    params: np.ndarray, cov: np.ndarray, scalars: np.ndarray, flags: np.ndarray,
) -> None:
    """Measure one ROI.

    ``options`` = (background percentile, min ROI intensity fraction, min SNR,
    max fit quality, min sigma, max sigma).  Writes the 7 parameters (moments
    for fallbacks), the 7 x 7 covariance (NaN for fallbacks), ``scalars``
    (fit quality, signal fraction, SNR, clipped fraction) and ``flags``
    (reason code, iterations, converged).
    """
    h, w = roi.shape
    q, min_fraction, min_snr, max_quality, min_sigma, max_sigma = (
        options[0], options[1], options[2], options[3], options[4], options[5])
    moments = np.empty(7)
    moments_one(roi, q, moments)
    fraction, snr = signal_one(roi)
    scalars[S_SIGNAL_FRACTION] = fraction
    scalars[S_SNR] = snr
    scalars[S_QUALITY] = math.nan
    flags[F_ITERATIONS] = 0
    flags[F_CONVERGED] = 0
    reason = 0
    if saturated:
        reason = SATURATED
    elif fraction < min_fraction or snr < min_snr:
        reason = LOW_SIGNAL
    if use_fit:
        start = np.empty(7)
        start_from_moments(roi, moments, q, start)
        if fix_theta:
            start[4] = theta
        rotated = (not fix_theta) or theta != 0.0
        iterations, converged, llr = fit_one(roi, start, var, free_idx, rotated, max_iterations, tolerance, params, cov)
        quality = llr / max(h * w - free_idx.shape[0], 1)
        scalars[S_QUALITY] = quality
        flags[F_ITERATIONS] = iterations
        flags[F_CONVERGED] = 1 if converged else 0
        finite = True
        for k in range(7):
            if not math.isfinite(params[k]):
                finite = False
        for k in range(4):
            if not math.isfinite(cov[k, k]):
                finite = False
        if reason == 0:
            if not finite:
                reason = NON_FINITE
            elif not converged:
                reason = NOT_CONVERGED
            elif quality > max_quality:
                reason = POOR_FIT
            elif not (min_sigma <= params[2] <= max_sigma and min_sigma <= params[3] <= max_sigma):
                reason = WIDTH_OUT_OF_RANGE
    elif reason == 0:
        reason = FIT_DISABLED
    if reason != 0:
        params[:] = moments
        cov[:, :] = math.nan
    flags[F_REASON] = reason
    scalars[S_CLIPPED] = clipped_fraction_one(h, w, params)


@nb.njit(cache=True)
def _measure_range(
    rois: np.ndarray, theta: np.ndarray, fix_theta: bool, var: float, saturated: np.ndarray, use_fit: bool,
    free_idx: np.ndarray, max_iterations: int, tolerance: float, options: np.ndarray, params: np.ndarray,
    cov: np.ndarray, scalars: np.ndarray, flags: np.ndarray, index: int,
) -> None:
    measure_one(rois[index], theta[index], fix_theta, var, saturated[index], use_fit, free_idx, max_iterations,
                tolerance, options, params[index], cov[index], scalars[index], flags[index])


@nb.njit(cache=True)
def measure_batch_serial(
    rois: np.ndarray, theta: np.ndarray, fix_theta: bool, var: float, saturated: np.ndarray, use_fit: bool,
    free_idx: np.ndarray, max_iterations: int, tolerance: float, options: np.ndarray, params: np.ndarray,
    cov: np.ndarray, scalars: np.ndarray, flags: np.ndarray,
) -> None:
    """:func:`measure_one` for every ROI."""
    for index in range(rois.shape[0]):
        _measure_range(rois, theta, fix_theta, var, saturated, use_fit, free_idx, max_iterations, tolerance,
                       options, params, cov, scalars, flags, index)


@nb.njit(cache=True, parallel=True)
def measure_batch_parallel(
    rois: np.ndarray, theta: np.ndarray, fix_theta: bool, var: float, saturated: np.ndarray, use_fit: bool,
    free_idx: np.ndarray, max_iterations: int, tolerance: float, options: np.ndarray, params: np.ndarray,
    cov: np.ndarray, scalars: np.ndarray, flags: np.ndarray,
) -> None:
    """:func:`measure_one` for every ROI on numba's thread pool."""
    for index in nb.prange(rois.shape[0]):
        _measure_range(rois, theta, fix_theta, var, saturated, use_fit, free_idx, max_iterations, tolerance,
                       options, params, cov, scalars, flags, index)
