"""Numba kernel: bounded search for z on a tabulated pair of width curves."""

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
def invert_widths(
    sx: np.ndarray, sy: np.ndarray, inv_cov: np.ndarray, weighted: bool, grid_z: np.ndarray, grid_wx: np.ndarray,
    grid_wy: np.ndarray, z_out: np.ndarray, distance_out: np.ndarray, edge_out: np.ndarray,
) -> None:
    """For each measurement, the z on the grid closest to the widths, refined by a parabola.

    Without ``weighted`` the distance is the sqrt-width distance of Huang et
    al. 2008; with it, the chi-square ``r' C^-1 r`` of the width residual
    (``inv_cov`` holds ``(n, 3)``: C^-1 xx, xy, yy).  ``edge_out`` is True
    when the minimum lies on the grid's first or last point (the widths
    belong outside the range).
    """
    n_grid = grid_z.shape[0]
    step = grid_z[1] - grid_z[0]
    for index in range(sx.shape[0]):
        a, b = sx[index], sy[index]
        ixx, ixy, iyy = inv_cov[index, 0], inv_cov[index, 1], inv_cov[index, 2]
        if not (math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0):
            z_out[index] = np.nan
            distance_out[index] = np.nan
            edge_out[index] = True
            continue
        best = 0
        best_d = np.inf
        for k in range(n_grid):
            d = _distance(a, b, grid_wx[k], grid_wy[k], weighted, ixx, ixy, iyy)
            if d < best_d:
                best_d = d
                best = k
        if best == 0 or best == n_grid - 1:
            z_out[index] = grid_z[best]
            distance_out[index] = best_d
            edge_out[index] = True
            continue
        d_lo = _distance(a, b, grid_wx[best - 1], grid_wy[best - 1], weighted, ixx, ixy, iyy)
        d_hi = _distance(a, b, grid_wx[best + 1], grid_wy[best + 1], weighted, ixx, ixy, iyy)
        curvature = d_lo - 2.0 * best_d + d_hi
        shift = 0.0
        if curvature > 0:
            shift = 0.5 * (d_lo - d_hi) / curvature
        z_out[index] = grid_z[best] + shift * step
        distance_out[index] = max(best_d - 0.25 * (d_lo - d_hi) * shift, 0.0)
        edge_out[index] = False
