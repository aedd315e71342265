"""Weighted least-squares fit of the pixel-integrated Gaussian (ThunderSTORM's default estimator).

Levenberg-Marquardt on ``chi2 = sum_k (d_k - mu_k)^2 / max(d_k + var, 1)``
(Pearson weights from the data, as ThunderSTORM's weighted least squares),
with ``mu_k = b + N * Ex_k * Ey_k`` and ``Ex`` the fraction of a unit Gaussian
of width ``sigma`` falling in the pixel column (a difference of erfs).  Five
free parameters per spot: x, y, sigma (symmetric), photons N, background b.

Coordinates inside a box: pixel (i, j) is centred at (y, x) = (i, j).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numpy.typing import NDArray

__all__ = ["LSQ_PARAMS", "fit_lsq_batch"]

#: Columns of the parameter arrays returned by :func:`fit_lsq_batch`.
LSQ_PARAMS: tuple[str, ...] = ("x_px", "y_px", "sigma_px", "photons", "background")

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@nb.njit(cache=True, nogil=True)
def _axis(n: int, centre: float, sigma: float, e: NDArray[np.float64], de_dc: NDArray[np.float64],
          de_ds: NDArray[np.float64]) -> None:
    inv_s = 1.0 / sigma
    scale = _INV_SQRT2 * inv_s
    gnorm = _INV_SQRT_2PI * inv_s
    u0 = -0.5 - centre
    c0 = 0.5 * math.erf(u0 * scale)
    g0 = gnorm * math.exp(-0.5 * (u0 * inv_s) ** 2)
    for k in range(n):
        u1 = k + 0.5 - centre
        c1 = 0.5 * math.erf(u1 * scale)
        g1 = gnorm * math.exp(-0.5 * (u1 * inv_s) ** 2)
        e[k] = c1 - c0
        de_dc[k] = g0 - g1
        de_ds[k] = (u0 * g0 - u1 * g1) * inv_s
        u0, c0, g0 = u1, c1, g1


@nb.njit(cache=True, nogil=True)
def _solve5(a: NDArray[np.float64], b: NDArray[np.float64], out: NDArray[np.float64]) -> bool:
    """Solve the 5x5 system ``a @ out = b`` by Gaussian elimination with partial pivoting."""
    m = np.empty((5, 6))
    for i in range(5):
        for j in range(5):
            m[i, j] = a[i, j]
        m[i, 5] = b[i]
    for col in range(5):
        pivot = col
        for row in range(col + 1, 5):
            if abs(m[row, col]) > abs(m[pivot, col]):
                pivot = row
        if abs(m[pivot, col]) < 1e-300:
            return False
        if pivot != col:
            for j in range(6):
                m[col, j], m[pivot, j] = m[pivot, j], m[col, j]
        for row in range(col + 1, 5):
            f = m[row, col] / m[col, col]
            for j in range(col, 6):
                m[row, j] -= f * m[col, j]
    for i in range(4, -1, -1):
        acc = m[i, 5]
        for j in range(i + 1, 5):
            acc -= m[i, j] * out[j]
        out[i] = acc / m[i, i]
    return True


@nb.njit(cache=True, nogil=True)
def _chi2_and_normal(box: NDArray[np.float64], weight: NDArray[np.float64], p: NDArray[np.float64],
                     ex: NDArray[np.float64], dex: NDArray[np.float64], dsx: NDArray[np.float64],
                     ey: NDArray[np.float64], dey: NDArray[np.float64], dsy: NDArray[np.float64],
                     alpha: NDArray[np.float64], beta: NDArray[np.float64], want_normal: bool) -> float:
    ny, nx = box.shape
    _axis(nx, p[0], p[2], ex, dex, dsx)
    _axis(ny, p[1], p[2], ey, dey, dsy)
    n_ph, bg = p[3], p[4]
    chi2 = 0.0
    if want_normal:
        alpha[:, :] = 0.0
        beta[:] = 0.0
    j = np.empty(5)
    for i in range(ny):
        for k in range(nx):
            mu = bg + n_ph * ex[k] * ey[i]
            r = box[i, k] - mu
            w = weight[i, k]
            chi2 += w * r * r
            if want_normal:
                j[0] = n_ph * dex[k] * ey[i]
                j[1] = n_ph * ex[k] * dey[i]
                j[2] = n_ph * (dsx[k] * ey[i] + ex[k] * dsy[i])
                j[3] = ex[k] * ey[i]
                j[4] = 1.0
                for a in range(5):
                    beta[a] += w * r * j[a]
                    for b in range(a, 5):
                        alpha[a, b] += w * j[a] * j[b]
    if want_normal:
        for a in range(5):
            for b in range(a):
                alpha[a, b] = alpha[b, a]
    return chi2


@nb.njit(cache=True, nogil=True)
def _fit_one(box: NDArray[np.float64], var: float, sigma0: float, max_iterations: int, tolerance_px: float,
             out: NDArray[np.float64]) -> int:
    ny, nx = box.shape
    weight = np.empty((ny, nx))
    total = 0.0
    bg = box[0, 0]
    for i in range(ny):
        for k in range(nx):
            weight[i, k] = 1.0 / max(box[i, k] + var, 1.0)
            if box[i, k] < bg:
                bg = box[i, k]
    bg = max(bg, 0.0)
    sx = 0.0
    sy = 0.0
    for i in range(ny):
        for k in range(nx):
            v = box[i, k] - bg
            if v > 0:
                total += v
                sx += v * k
                sy += v * i
    p = np.empty(5)
    if total > 0:
        p[0], p[1] = sx / total, sy / total
    else:
        p[0], p[1] = 0.5 * (nx - 1), 0.5 * (ny - 1)
    p[2] = sigma0
    p[3] = max(total, 1.0)
    p[4] = bg
    ex, dex, dsx = np.empty(nx), np.empty(nx), np.empty(nx)
    ey, dey, dsy = np.empty(ny), np.empty(ny), np.empty(ny)
    alpha = np.empty((5, 5))
    beta = np.empty(5)
    damped = np.empty((5, 5))
    delta = np.empty(5)
    trial = np.empty(5)
    lam = 1e-3
    chi2 = _chi2_and_normal(box, weight, p, ex, dex, dsx, ey, dey, dsy, alpha, beta, True)
    iterations = 0
    converged = False
    while iterations < max_iterations:
        iterations += 1
        for a in range(5):
            for b in range(5):
                damped[a, b] = alpha[a, b]
            damped[a, a] = alpha[a, a] * (1.0 + lam)
        if not _solve5(damped, beta, delta):
            break
        for a in range(5):
            trial[a] = p[a] + delta[a]
        trial[2] = min(max(trial[2], 0.25 * sigma0), 4.0 * sigma0 + 1.0)
        trial[3] = max(trial[3], 1e-3)
        new_chi2 = _chi2_and_normal(box, weight, trial, ex, dex, dsx, ey, dey, dsy, alpha, beta, False)
        if new_chi2 <= chi2:
            step = max(abs(trial[0] - p[0]), abs(trial[1] - p[1]))
            p[:] = trial
            chi2 = _chi2_and_normal(box, weight, p, ex, dex, dsx, ey, dey, dsy, alpha, beta, True)
            lam = max(lam * 0.1, 1e-7)
            if step < tolerance_px:
                converged = True
                break
        else:
            lam *= 10.0
            if lam > 1e7:
                converged = True
                break
    out[:5] = p
    out[5] = chi2
    return iterations if converged else -iterations


@nb.njit(cache=True, nogil=True)
def _fit_all(boxes: NDArray[np.float64], var: float, sigma0: float, max_iterations: int, tolerance_px: float,
             params: NDArray[np.float64], iterations: NDArray[np.int64]) -> None:
    out = np.empty(6)
    for s in range(boxes.shape[0]):
        iterations[s] = _fit_one(boxes[s], var, sigma0, max_iterations, tolerance_px, out)
        for a in range(6):
            params[s, a] = out[a]


def fit_lsq_batch(
    boxes: NDArray[np.floating],
    *,
    sigma0_px: float,
    readout_variance: float = 0.0,
    max_iterations: int = 50,
    tolerance_px: float = 1e-4,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Fit every box of a ``(n, h, w)`` stack of photon images.

    Parameters
    ----------
    boxes
        Background-included photon counts, one spot per box.
    sigma0_px
        Starting PSF width.
    readout_variance
        Read-noise variance in photons^2, added to the data in the weights.
    max_iterations
        Levenberg-Marquardt iterations per spot.
    tolerance_px
        Converged when an accepted step moves x and y by less than this.

    Returns
    -------
    params
        ``(n, 5)``: x_px, y_px, sigma_px, photons, background (see :data:`LSQ_PARAMS`).
    chi2
        Weighted residual sum of squares of each fit.
    iterations
        Iterations used; negative when the fit did not converge.
    """
    stack = np.ascontiguousarray(boxes, dtype=np.float64)
    if stack.ndim != 3:
        raise ValueError(f"boxes must be (n, h, w) (got shape {stack.shape}).")
    n = stack.shape[0]
    result = np.empty((n, 6))
    iterations = np.empty(n, dtype=np.int64)
    if n:
        _fit_all(stack, float(readout_variance), float(sigma0_px), int(max_iterations), float(tolerance_px),
                 result, iterations)
    return result[:, :5].copy(), result[:, 5].copy(), iterations
