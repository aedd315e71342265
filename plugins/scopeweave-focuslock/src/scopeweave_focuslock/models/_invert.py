"""Numba kernel: z from a pair of widths by bounded search on the tabulated Zhuang curves."""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _distance(sx: float, sy: float, wx: float, wy: float, weighted: bool, ixx: float, ixy: float, iyy: float) -> float:
    if weighted:
        rx, ry = sx - wx, sy - wy
        return rx * rx * ixx + 2.0 * rx * ry * ixy + ry * ry * iyy
    dx = math.sqrt(sx) - math.sqrt(wx)
    dy = math.sqrt(sy) - math.sqrt(wy)
    return dx * dx + dy * dy


@nb.njit(cache=True)
def _width_and_slope(axis: np.ndarray, z: float) -> tuple[float, float]:
    """Zhuang width and d width / dz; ``axis`` = (w0, c, d, a, b)."""
    w0, c, d, a, b = axis[0], axis[1], axis[2], axis[3], axis[4]
    x = (z - c) / d
    radicand = max(1.0 + x * x + a * x**3 + b * x**4, 1e-12)
    root = math.sqrt(radicand)
    return w0 * root, w0 * (2.0 * x + 3.0 * a * x * x + 4.0 * b * x**3) / (2.0 * root * d)


@nb.njit(cache=True)
def invert_widths(
    sx: np.ndarray, sy: np.ndarray, cov: np.ndarray, weighted: bool, grid_z: np.ndarray, grid_wx: np.ndarray,
    grid_wy: np.ndarray, axis_x: np.ndarray, axis_y: np.ndarray, residual_rms: float, max_chi2: float,
    max_relative: float, z_out: np.ndarray, err_out: np.ndarray, domain_out: np.ndarray, distance_out: np.ndarray,
) -> None:
    """For each measurement: z (grid minimum refined by a parabola), its error, the in-domain flag, the distance.

    Without ``weighted`` the distance is the sqrt-width distance of Huang et
    al. 2008 and the widths must lie within ``max_relative`` of the model;
    with it, the chi-square ``r' C^-1 r`` of the width residual (``cov`` holds
    ``(n, 2, 2)`` covariances) must stay below ``max_chi2``.  A minimum on the
    grid's first or last point (the widths belong outside the range) is out
    of domain.  The error is ``1 / sqrt(g' C^-1 g)`` with ``g`` = d widths / dz
    (``C`` = residual_rms^2 I without a covariance).
    """
    n_grid = grid_z.shape[0]
    step = grid_z[1] - grid_z[0]
    for index in range(sx.shape[0]):
        a, b = sx[index], sy[index]
        ixx = ixy = iyy = 0.0
        if weighted:
            cxx, cxy, cyy = cov[index, 0, 0], cov[index, 0, 1], cov[index, 1, 1]
            det = cxx * cyy - cxy * cxy
            if det > 0.0:
                ixx, ixy, iyy = cyy / det, -cxy / det, cxx / det
            else:
                a = math.nan
        if not (math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0):
            z_out[index] = math.nan
            err_out[index] = math.nan
            distance_out[index] = math.nan
            domain_out[index] = False
            continue
        best = 0
        best_d = np.inf
        for k in range(n_grid):
            d = _distance(a, b, grid_wx[k], grid_wy[k], weighted, ixx, ixy, iyy)
            if d < best_d:
                best_d = d
                best = k
        inside = 0 < best < n_grid - 1
        z = grid_z[best]
        distance = best_d
        if inside:
            d_lo = _distance(a, b, grid_wx[best - 1], grid_wy[best - 1], weighted, ixx, ixy, iyy)
            d_hi = _distance(a, b, grid_wx[best + 1], grid_wy[best + 1], weighted, ixx, ixy, iyy)
            curvature = d_lo - 2.0 * best_d + d_hi
            if curvature > 0:
                shift = 0.5 * (d_lo - d_hi) / curvature
                z += shift * step
                distance = max(best_d - 0.25 * (d_lo - d_hi) * shift, 0.0)
        wx, gx = _width_and_slope(axis_x, z)
        wy, gy = _width_and_slope(axis_y, z)
        if weighted:
            information = gx * gx * ixx + 2.0 * gx * gy * ixy + gy * gy * iyy
            inside = inside and distance <= max_chi2
        else:
            information = (gx * gx + gy * gy) / (residual_rms * residual_rms)
            inside = inside and max(abs(a - wx) / wx, abs(b - wy) / wy) <= max_relative
        z_out[index] = z
        err_out[index] = 1.0 / math.sqrt(information) if information > 0 else math.inf
        distance_out[index] = distance
        domain_out[index] = inside
