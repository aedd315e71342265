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
def _add_pixel(
    d: float, mu: float, dmu: np.ndarray, free_idx: np.ndarray, jac: np.ndarray, fisher: np.ndarray, grad: np.ndarray
) -> None:
    """Add one pixel's contribution to the Fisher matrix and the log-likelihood gradient."""
    nfree = free_idx.shape[0]
    for a in range(nfree):
        jac[a] = dmu[free_idx[a]]
    w = 1.0 / mu
    r = d * w - 1.0
    for a in range(nfree):
        ja = jac[a] * w
        grad[a] += r * jac[a]
        for b in range(a, nfree):
            fisher[a, b] += ja * jac[b]


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
    dmu = np.zeros(NPARAMS + 1)
    dmu[6] = 1.0
    jac = np.empty(free_idx.shape[0])
    if want_derivatives:
        fisher[:, :] = 0.0
        grad[:] = 0.0
    loglik = 0.0
    for i in range(h):
        yi = ey[i]
        nyi = photons * yi
        for j in range(w):
            mu = nyi * ex[j] + bg
            if mu < MODEL_FLOOR:
                mu = MODEL_FLOOR
            d = roi[i, j] + var
            if d < 0.0:
                d = 0.0
            loglik += _loglik_term(d, mu)
            if want_derivatives:
                dmu[0] = nyi * dex_dc[j]
                dmu[1] = photons * dey_dc[i] * ex[j]
                dmu[2] = nyi * dex_ds[j]
                dmu[3] = photons * dey_ds[i] * ex[j]
                dmu[5] = yi * ex[j]
                dmu[7] = dmu[2] + dmu[3]
                _add_pixel(d, mu, dmu, free_idx, jac, fisher, grad)
    return loglik


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
    norm = 1.0 / (2.0 * math.pi * sx * sy)
    dtheta_coef = isy2 - isx2
    nq = QUAD_NODES.shape[0]
    dmu = np.zeros(NPARAMS + 1)
    dmu[6] = 1.0
    jac = np.empty(free_idx.shape[0])
    if want_derivatives:
        fisher[:, :] = 0.0
        grad[:] = 0.0
    loglik = 0.0
    for i in range(h):
        for j in range(w):
            g_sum = 0.0
            gx_sum = 0.0
            gy_sum = 0.0
            gsx_sum = 0.0
            gsy_sum = 0.0
            gth_sum = 0.0
            for k in range(nq):
                dy = i + QUAD_NODES[k] - y0
                wk = QUAD_WEIGHTS[k]
                for m in range(nq):
                    dx = j + QUAD_NODES[m] - x0
                    u = c * dx + s * dy
                    v = -s * dx + c * dy
                    uu = u * u * isx2
                    vv = v * v * isy2
                    g = wk * QUAD_WEIGHTS[m] * norm * math.exp(-0.5 * (uu + vv))
                    g_sum += g
                    if want_derivatives:
                        ux = u * isx2
                        vy = v * isy2
                        gx_sum += g * (ux * c - vy * s)
                        gy_sum += g * (ux * s + vy * c)
                        gsx_sum += g * (uu - 1.0)
                        gsy_sum += g * (vv - 1.0)
                        gth_sum += g * u * v
            mu = photons * g_sum + bg
            if mu < MODEL_FLOOR:
                mu = MODEL_FLOOR
            d = roi[i, j] + var
            if d < 0.0:
                d = 0.0
            loglik += _loglik_term(d, mu)
            if want_derivatives:
                dmu[0] = photons * gx_sum
                dmu[1] = photons * gy_sum
                dmu[2] = photons * gsx_sum / sx
                dmu[3] = photons * gsy_sum / sy
                dmu[4] = photons * gth_sum * dtheta_coef
                dmu[5] = g_sum
                dmu[7] = dmu[2] + dmu[3]
                _add_pixel(d, mu, dmu, free_idx, jac, fisher, grad)
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
def deviance(roi: np.ndarray, p: np.ndarray, var: float, rotated: bool) -> float:
    """Log-likelihood ratio ``2 * sum(mu - d + d * log(d / mu))`` against the saturated model."""
    free_idx = np.zeros(1, dtype=np.int64)
    dummy_f = np.zeros((1, 1))
    dummy_g = np.zeros(1)
    loglik = accumulate(roi, p, var, free_idx, rotated, dummy_f, dummy_g, False)
    saturated = 0.0
    h, w = roi.shape
    for i in range(h):
        for j in range(w):
            d = roi[i, j] + var
            if d > 0.0:
                saturated += d * math.log(d) - d
    return 2.0 * (saturated - loglik)


@nb.njit(cache=True)
def fill_lower(matrix: np.ndarray) -> None:
    """Copy the upper triangle of a square matrix into its lower triangle."""
    n = matrix.shape[0]
    for a in range(n):
        for b in range(a):
            matrix[a, b] = matrix[b, a]
