"""Numba kernels: the pixel-integrated Gaussian, its derivatives and the Poisson likelihood.

Parameter vector (always 7 entries, float64)::

    0 x_px   1 y_px   2 sigma_x_px   3 sigma_y_px   4 theta_rad   5 photons   6 background

Pixel (i, j) covers y in [i - 0.5, i + 0.5] and x in [j - 0.5, j + 0.5].  The
spot is ``photons`` times a unit Gaussian with standard deviations
``sigma_x_px``, ``sigma_y_px`` along axes rotated by ``theta_rad``
(counter-clockwise from the image x axis, as in :func:`render_gaussian`).

The free parameters of a fit are given by ``free_idx``: indices into the 7
parameters, where the pseudo-index :data:`TIED_SIGMA` (7) stands for one sigma
shared by both axes (the derivative is ``d/dsigma_x + d/dsigma_y``).

Two evaluation paths:

* axis-aligned (theta fixed at exactly 0): exact, a product of erf differences;
* rotated (theta free or non-zero): 3 x 3 Gauss-Legendre quadrature of the
  Gaussian over each pixel (relative error ~1e-5 of the pixel value at sigma = 1 px).

The likelihood adds an optional readout variance ``var`` (photons^2) to the
model and the data (the sCMOS approximation of Huang et al. 2013); data below
``-var`` are treated as 0.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

NPARAMS = 7
TIED_SIGMA = 7
MODEL_FLOOR = 1e-10

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_GL_HALF = 0.5 * math.sqrt(0.6)
QUAD_NODES = np.array([-_GL_HALF, 0.0, _GL_HALF])
QUAD_WEIGHTS = np.array([5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0])


@nb.njit(cache=True, inline="always")
def _axis_terms(n: int, centre: float, sigma: float, e: np.ndarray, de_dc: np.ndarray, de_ds: np.ndarray) -> None:
    """Fraction of a 1D Gaussian in each of ``n`` unit pixels, and its derivatives."""
    inv_s = 1.0 / sigma
    scale = _INV_SQRT2 * inv_s
    gnorm = _INV_SQRT_2PI * inv_s
    u_prev = -0.5 - centre
    cdf_prev = 0.5 * math.erf(u_prev * scale)
    g_prev = gnorm * math.exp(-0.5 * (u_prev * inv_s) ** 2)
    for k in range(n):
        u = k + 0.5 - centre
        cdf = 0.5 * math.erf(u * scale)
        g = gnorm * math.exp(-0.5 * (u * inv_s) ** 2)
        e[k] = cdf - cdf_prev
        de_dc[k] = g_prev - g
        de_ds[k] = (u_prev * g_prev - u * g) * inv_s
        u_prev = u
        cdf_prev = cdf
        g_prev = g


@nb.njit(cache=True, inline="always")
def _dot(x: np.ndarray, y: np.ndarray, n: int) -> float:
    """``sum(x[:n] * y[:n])`` with four independent partial sums (no serial dependency chain)."""
    s0 = s1 = s2 = s3 = 0.0
    j = 0
    while j + 4 <= n:
        s0 += x[j] * y[j]
        s1 += x[j + 1] * y[j + 1]
        s2 += x[j + 2] * y[j + 2]
        s3 += x[j + 3] * y[j + 3]
        j += 4
    while j < n:
        s0 += x[j] * y[j]
        j += 1
    return (s0 + s1) + (s2 + s3)


@nb.njit(cache=True)
def _add_row(
    data: np.ndarray, mu: np.ndarray, deriv: np.ndarray, free_idx: np.ndarray, weight: np.ndarray,
    residual: np.ndarray, scaled: np.ndarray, fisher: np.ndarray, grad: np.ndarray,
) -> None:
    """Add one image row to the Fisher matrix (upper triangle) and the log-likelihood gradient.

    ``deriv[k, j]`` is d mu / d parameter k at column j (k = 7: the tied sigma).
    """
    w = mu.shape[0]
    nfree = free_idx.shape[0]
    for j in range(w):
        weight[j] = 1.0 / mu[j]
        residual[j] = data[j] * weight[j] - 1.0
    for a in range(nfree):
        da = deriv[free_idx[a]]
        for j in range(w):
            scaled[j] = da[j] * weight[j]
        grad[a] += _dot(residual, da, w)
        for b in range(a, nfree):
            fisher[a, b] += _dot(scaled, deriv[free_idx[b]], w)


@nb.njit(cache=True)
def _loglik_term(d: float, mu: float) -> float:
    """Poisson log-likelihood of one pixel without the ``log(d!)`` constant."""
    if d > 0.0:
        return d * math.log(mu) - mu
    return -mu


@nb.njit(cache=True)
def accumulate_separable(
    roi: np.ndarray, p: np.ndarray, var: float, free_idx: np.ndarray, fisher: np.ndarray, grad: np.ndarray,
    want_derivatives: bool,
) -> float:
    """Log-likelihood at ``p`` (theta taken as 0); fills ``fisher`` and ``grad`` when asked."""
    h, w = roi.shape
    ex = np.empty(w)
    dex_dc = np.empty(w)
    dex_ds = np.empty(w)
    ey = np.empty(h)
    dey_dc = np.empty(h)
    dey_ds = np.empty(h)
    _axis_terms(w, p[0], p[2], ex, dex_dc, dex_ds)
    _axis_terms(h, p[1], p[3], ey, dey_dc, dey_ds)
    photons = p[5]
    bg = p[6] + var
    mu = np.empty(w)
    data = np.empty(w)
    deriv = np.zeros((NPARAMS + 1, w))
    deriv[6, :] = 1.0
    weight = np.empty(w)
    residual = np.empty(w)
    scaled = np.empty(w)
    if want_derivatives:
        fisher[:, :] = 0.0
        grad[:] = 0.0
    loglik = 0.0
    for i in range(h):
        yi = ey[i]
        nyi = photons * yi
        for j in range(w):
            m = nyi * ex[j] + bg
            mu[j] = m if m > MODEL_FLOOR else MODEL_FLOOR
            d = roi[i, j] + var
            data[j] = d if d > 0.0 else 0.0
            loglik += _loglik_term(data[j], mu[j])
        if want_derivatives:
            ndy = photons * dey_dc[i]
            nds = photons * dey_ds[i]
            for j in range(w):
                deriv[0, j] = nyi * dex_dc[j]
                deriv[1, j] = ndy * ex[j]
                deriv[2, j] = nyi * dex_ds[j]
                deriv[3, j] = nds * ex[j]
                deriv[5, j] = yi * ex[j]
                deriv[7, j] = deriv[2, j] + deriv[3, j]
            _add_row(data, mu, deriv, free_idx, weight, residual, scaled, fisher, grad)
    return loglik


@nb.njit(cache=True)
def _gaussian_row(
    w: int, dx0: float, dy: float, a_coef: float, b_coef: float, c_coef: float, out: np.ndarray
) -> None:
    """``exp(-(A dx^2 + 2 B dx dy + C dy^2) / 2)`` at ``dx = dx0 + j`` for j < w, by recurrence.

    Successive ratios form a geometric sequence, so one row needs four exp
    calls.  The recurrence starts at the column nearest the row's maximum and
    runs outwards, where values only shrink (no overflow; underflow is harmless).
    """
    q = math.exp(-a_coef)
    j_peak = round(-b_coef * dy / a_coef - dx0)
    j_peak = min(max(j_peak, 0), w - 1)
    dxs = dx0 + j_peak
    g_peak = math.exp(-0.5 * (a_coef * dxs * dxs + 2.0 * b_coef * dxs * dy + c_coef * dy * dy))
    g = g_peak
    ratio = math.exp(-0.5 * (a_coef * (2.0 * dxs + 1.0) + 2.0 * b_coef * dy))
    for j in range(j_peak, w):
        out[j] = g
        g *= ratio
        ratio *= q
    g = g_peak
    ratio = math.exp(0.5 * (a_coef * (2.0 * dxs - 1.0) + 2.0 * b_coef * dy))
    for j in range(j_peak - 1, -1, -1):
        g *= ratio
        out[j] = g
        ratio *= q


@nb.njit(cache=True)
def accumulate_rotated(
    roi: np.ndarray, p: np.ndarray, var: float, free_idx: np.ndarray, fisher: np.ndarray, grad: np.ndarray,
    want_derivatives: bool,
) -> float:
    """Log-likelihood at ``p`` for any theta (quadrature); fills ``fisher`` and ``grad`` when asked."""
    h, w = roi.shape
    x0, y0, sx, sy, theta, photons = p[0], p[1], p[2], p[3], p[4], p[5]
    bg = p[6] + var
    c = math.cos(theta)
    s = math.sin(theta)
    isx2 = 1.0 / (sx * sx)
    isy2 = 1.0 / (sy * sy)
    a_coef = c * c * isx2 + s * s * isy2
    b_coef = c * s * (isx2 - isy2)
    c_coef = s * s * isx2 + c * c * isy2
    norm = 1.0 / (2.0 * math.pi * sx * sy)
    dtheta_coef = isy2 - isx2
    nq = QUAD_NODES.shape[0]
    mu = np.empty(w)
    data = np.empty(w)
    deriv = np.zeros((NPARAMS + 1, w))
    deriv[6, :] = 1.0
    weight = np.empty(w)
    residual = np.empty(w)
    scaled = np.empty(w)
    row = np.empty(w)
    g_sum = np.empty(w)
    if want_derivatives:
        fisher[:, :] = 0.0
        grad[:] = 0.0
    loglik = 0.0
    for i in range(h):
        g_sum[:] = 0.0
        if want_derivatives:
            deriv[0:6, :] = 0.0
        for k in range(nq):
            dy = i + QUAD_NODES[k] - y0
            for m in range(nq):
                dx0 = QUAD_NODES[m] - x0
                wkm = QUAD_WEIGHTS[k] * QUAD_WEIGHTS[m] * norm
                _gaussian_row(w, dx0, dy, a_coef, b_coef, c_coef, row)
                if not want_derivatives:
                    for j in range(w):
                        g_sum[j] += wkm * row[j]
                    continue
                for j in range(w):
                    g = wkm * row[j]
                    dx = dx0 + j
                    u = c * dx + s * dy
                    v = -s * dx + c * dy
                    ux = u * isx2
                    vy = v * isy2
                    g_sum[j] += g
                    deriv[0, j] += g * (ux * c - vy * s)
                    deriv[1, j] += g * (ux * s + vy * c)
                    deriv[2, j] += g * (u * ux - 1.0)
                    deriv[3, j] += g * (v * vy - 1.0)
                    deriv[4, j] += g * u * v
        for j in range(w):
            m_ = photons * g_sum[j] + bg
            mu[j] = m_ if m_ > MODEL_FLOOR else MODEL_FLOOR
            d = roi[i, j] + var
            data[j] = d if d > 0.0 else 0.0
            loglik += _loglik_term(data[j], mu[j])
        if want_derivatives:
            for j in range(w):
                deriv[0, j] *= photons
                deriv[1, j] *= photons
                deriv[2, j] *= photons / sx
                deriv[3, j] *= photons / sy
                deriv[4, j] *= photons * dtheta_coef
                deriv[5, j] = g_sum[j]
                deriv[7, j] = deriv[2, j] + deriv[3, j]
            _add_row(data, mu, deriv, free_idx, weight, residual, scaled, fisher, grad)
    return loglik


@nb.njit(cache=True)
def accumulate(
    roi: np.ndarray, p: np.ndarray, var: float, free_idx: np.ndarray, rotated: bool, fisher: np.ndarray,
    grad: np.ndarray, want_derivatives: bool,
) -> float:
    """Dispatch to the axis-aligned or the rotated evaluation."""
    if rotated:
        return accumulate_rotated(roi, p, var, free_idx, fisher, grad, want_derivatives)
    return accumulate_separable(roi, p, var, free_idx, fisher, grad, want_derivatives)


@nb.njit(cache=True)
def saturated_loglik(roi: np.ndarray, var: float) -> float:
    """Log-likelihood of the perfect model (mu = d), without the ``log(d!)`` constant."""
    total = 0.0
    h, w = roi.shape
    for i in range(h):
        for j in range(w):
            d = roi[i, j] + var
            if d > 0.0:
                total += d * math.log(d) - d
    return total


@nb.njit(cache=True)
def fill_lower(matrix: np.ndarray) -> None:
    """Copy the upper triangle of a square matrix into its lower triangle."""
    n = matrix.shape[0]
    for a in range(n):
        for b in range(a):
            matrix[a, b] = matrix[b, a]
