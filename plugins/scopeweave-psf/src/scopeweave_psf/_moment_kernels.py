"""Numba kernel: spot parameters from image moments.

Per ROI: the background is a percentile of the pixel values; the spot is the
background-subtracted image clipped at zero.  The centre starts at the
brightest 3 x 3 sum; centroid and second moments are then computed inside a
circular window around the current centre, four times: first of radius 4 px
(less for small ROIs), then ``3 * sigma_max`` (at least 2.5 px), so that the
window follows the spot and keeps most of the background noise out.  Second moments lose the pixel's own variance
(1/12 px^2); the principal axes give sigma_x, sigma_y and theta (in
[-pi/4, pi/4)), and the windowed sum of the background-subtracted image the
photons.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from scopeweave_psf._fit_kernels import canonical_theta

WINDOW_SIGMAS = 3.0
MIN_WINDOW_PX = 2.5
START_WINDOW_PX = 4.0
N_REFINEMENTS = 4
PIXEL_VARIANCE = 1.0 / 12.0


@nb.njit(cache=True)
def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) by partial sorting, O(n)."""
    flat = values.ravel()
    n = flat.size
    rank = (n - 1) * q / 100.0
    low = math.floor(rank)
    part = np.partition(flat, low)
    value = part[low]
    if low + 1 < n and rank > low:
        value += (rank - low) * (np.min(part[low + 1:]) - value)
    return value


@nb.njit(cache=True)
def _brightest_3x3(signal: np.ndarray) -> tuple[float, float]:
    h, w = signal.shape
    best = -1.0
    by, bx = 0.5 * (h - 1), 0.5 * (w - 1)
    for i in range(h):
        for j in range(w):
            acc = 0.0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    ii, jj = i + di, j + dj
                    if 0 <= ii < h and 0 <= jj < w:
                        acc += signal[ii, jj]
            if acc > best:
                best = acc
                by, bx = float(i), float(j)
    return by, bx


@nb.njit(cache=True)
def _window_box(cy: float, cx: float, radius: float, h: int, w: int) -> tuple[int, int, int, int]:
    """Row and column ranges covering a circle, clipped to the ROI (empty outside it)."""
    i0 = max(math.floor(cy - radius), 0)
    i1 = min(math.ceil(cy + radius) + 1, h)
    j0 = max(math.floor(cx - radius), 0)
    j1 = min(math.ceil(cx + radius) + 1, w)
    return i0, max(i1, i0), j0, max(j1, j0)


@nb.njit(cache=True)
def moments_one(roi: np.ndarray, q: float, out: np.ndarray) -> None:
    """Write (x, y, sigma_x, sigma_y, theta, photons, background) of one ROI into ``out``."""
    h, w = roi.shape
    background = percentile(roi, q)
    signal = np.maximum(roi - background, 0.0)
    cy, cx = _brightest_3x3(signal)
    radius = max(MIN_WINDOW_PX, min(START_WINDOW_PX, 0.25 * min(h, w)))
    out[:] = np.nan
    out[6] = background
    sxx = syy = sxy = 0.0
    total = 0.0
    for _ in range(N_REFINEMENTS):
        total = mx = my = 0.0
        r2 = radius * radius
        i0, i1, j0, j1 = _window_box(cy, cx, radius, h, w)
        for i in range(i0, i1):
            for j in range(j0, j1):
                if (i - cy) ** 2 + (j - cx) ** 2 <= r2:
                    v = signal[i, j]
                    total += v
                    mx += v * j
                    my += v * i
        if not total > 0.0:
            return
        cx, cy = mx / total, my / total
        i0, i1, j0, j1 = _window_box(cy, cx, radius, h, w)
        sxx = syy = sxy = 0.0
        for i in range(i0, i1):
            for j in range(j0, j1):
                if (i - cy) ** 2 + (j - cx) ** 2 <= r2:
                    v = signal[i, j]
                    sxx += v * (j - cx) ** 2
                    syy += v * (i - cy) ** 2
                    sxy += v * (j - cx) * (i - cy)
        sxx = max(sxx / total - PIXEL_VARIANCE, 1e-3)
        syy = max(syy / total - PIXEL_VARIANCE, 1e-3)
        sxy = sxy / total
        radius = max(MIN_WINDOW_PX, WINDOW_SIGMAS * math.sqrt(max(sxx, syy)))
    photons = 0.0
    r2 = radius * radius
    i0, i1, j0, j1 = _window_box(cy, cx, radius, h, w)
    for i in range(i0, i1):
        for j in range(j0, j1):
            if (i - cy) ** 2 + (j - cx) ** 2 <= r2:
                photons += roi[i, j] - background
    theta = 0.5 * math.atan2(2.0 * sxy, sxx - syy)
    c, s = math.cos(theta), math.sin(theta)
    var_u = c * c * sxx + 2.0 * c * s * sxy + s * s * syy
    var_v = s * s * sxx - 2.0 * c * s * sxy + c * c * syy
    out[0] = cx
    out[1] = cy
    out[2] = math.sqrt(max(var_u, 1e-3))
    out[3] = math.sqrt(max(var_v, 1e-3))
    out[4] = theta
    out[5] = photons
    canonical_theta(out)


@nb.njit(cache=True)
def moments_batch_serial(rois: np.ndarray, q: float, out: np.ndarray) -> None:
    """Moment estimates of every ROI, one after the other."""
    for index in range(rois.shape[0]):
        moments_one(rois[index], q, out[index])


@nb.njit(cache=True, parallel=True)
def moments_batch_parallel(rois: np.ndarray, q: float, out: np.ndarray) -> None:
    """Moment estimates of every ROI (numba thread pool)."""
    for index in nb.prange(rois.shape[0]):
        moments_one(rois[index], q, out[index])
