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


@nb.njit(cache=True)
def _reduce_to_free(
    full: np.ndarray, gfull: np.ndarray, free_idx: np.ndarray, fisher: np.ndarray, grad: np.ndarray
) -> None:
    """Fisher matrix and gradient of the free parameters from those of all seven.

    The pseudo-index :data:`TIED_SIGMA` sums the rows and columns of both sigmas.
    """
    nfree = free_idx.shape[0]
    for a in range(nfree):
        ka = free_idx[a]
        grad[a] = gfull[2] + gfull[3] if ka == TIED_SIGMA else gfull[ka]
        for b in range(a, nfree):
            kb = free_idx[b]
            if ka == TIED_SIGMA and kb == TIED_SIGMA:
                value = full[2, 2] + 2.0 * full[2, 3] + full[3, 3]
            elif ka == TIED_SIGMA:
                value = full[2, kb] + full[3, kb]
            elif kb == TIED_SIGMA:
                value = full[ka, 2] + full[ka, 3]
            else:
                value = full[ka, kb]
            fisher[a, b] = value


@nb.njit(cache=True)
def _loglik_term(d: float, mu: float) -> float:
    """Poisson log-likelihood of one pixel without the ``log(d!)`` constant."""
    if d > 0.0:
        return d * math.log(mu) - mu
    return -mu


@nb.njit(cache=True)
def accumulate_separable(
    roi: np.ndarray, p: np.ndarray, var: float, free_idx: np.ndarray, fisher: np.ndarray, grad: np.ndarray,
    want_derivatives: bool, work: np.ndarray, scratch: np.ndarray,
) -> float:
    """Log-likelihood at ``p`` (theta taken as 0); fills ``fisher`` and ``grad`` when asked.

    The 21 Fisher entries and 6 gradient entries of (x, y, sigma_x, sigma_y,
    photons, background) are summed in scalars (registers) over the pixels,
    then reduced to the free parameters.
    """
    h, w = roi.shape
    ex = work[0, :w]
    dex_dc = work[1, :w]
    dex_ds = work[2, :w]
    ey = work[3, :h]
    dey_dc = work[4, :h]
    dey_ds = work[5, :h]
    _axis_terms(w, p[0], p[2], ex, dex_dc, dex_ds)
    _axis_terms(h, p[1], p[3], ey, dey_dc, dey_ds)
    photons = p[5]
    bg = p[6] + var
    f00 = 0.0
    f01 = 0.0
    f02 = 0.0
    f03 = 0.0
    f05 = 0.0
    f06 = 0.0
    f11 = 0.0
    f12 = 0.0
    f13 = 0.0
    f15 = 0.0
    f16 = 0.0
    f22 = 0.0
    f23 = 0.0
    f25 = 0.0
    f26 = 0.0
    f33 = 0.0
    f35 = 0.0
    f36 = 0.0
    f55 = 0.0
    f56 = 0.0
    f66 = 0.0
    g0 = 0.0
    g1 = 0.0
    g2 = 0.0
    g3 = 0.0
    g5 = 0.0
    g6 = 0.0
    loglik = 0.0
    for i in range(h):
        yi = ey[i]
        nyi = photons * yi
        ndy = photons * dey_dc[i]
        nds = photons * dey_ds[i]
        for j in range(w):
            m = nyi * ex[j] + bg
            mu = m if m > MODEL_FLOOR else MODEL_FLOOR
            d = roi[i, j] + var
            if d < 0.0:
                d = 0.0
            loglik += _loglik_term(d, mu)
            if not want_derivatives:
                continue
            wt = 1.0 / mu
            r = d * wt - 1.0
            d0 = nyi * dex_dc[j]
            d1 = ndy * ex[j]
            d2 = nyi * dex_ds[j]
            d3 = nds * ex[j]
            d5 = yi * ex[j]
            w0 = d0 * wt
            w1 = d1 * wt
            w2 = d2 * wt
            w3 = d3 * wt
            w5 = d5 * wt
            w6 = wt
            f00 += w0 * d0
            f01 += w0 * d1
            f02 += w0 * d2
            f03 += w0 * d3
            f05 += w0 * d5
            f06 += w0
            f11 += w1 * d1
            f12 += w1 * d2
            f13 += w1 * d3
            f15 += w1 * d5
            f16 += w1
            f22 += w2 * d2
            f23 += w2 * d3
            f25 += w2 * d5
            f26 += w2
            f33 += w3 * d3
            f35 += w3 * d5
            f36 += w3
            f55 += w5 * d5
            f56 += w5
            f66 += w6
            g0 += r * d0
            g1 += r * d1
            g2 += r * d2
            g3 += r * d3
            g5 += r * d5
            g6 += r
    if want_derivatives:
        full = scratch[:NPARAMS]
        gfull = scratch[NPARAMS]
        full[:, :] = 0.0
        gfull[:] = 0.0
        full[0, 0] = f00
        full[0, 1] = f01
        full[1, 0] = f01
        full[0, 2] = f02
        full[2, 0] = f02
        full[0, 3] = f03
        full[3, 0] = f03
        full[0, 5] = f05
        full[5, 0] = f05
        full[0, 6] = f06
        full[6, 0] = f06
        full[1, 1] = f11
        full[1, 2] = f12
        full[2, 1] = f12
        full[1, 3] = f13
        full[3, 1] = f13
        full[1, 5] = f15
        full[5, 1] = f15
        full[1, 6] = f16
        full[6, 1] = f16
        full[2, 2] = f22
        full[2, 3] = f23
        full[3, 2] = f23
        full[2, 5] = f25
        full[5, 2] = f25
        full[2, 6] = f26
        full[6, 2] = f26
        full[3, 3] = f33
        full[3, 5] = f35
        full[5, 3] = f35
        full[3, 6] = f36
        full[6, 3] = f36
        full[5, 5] = f55
        full[5, 6] = f56
        full[6, 5] = f56
        full[6, 6] = f66
        gfull[0] = g0
        gfull[1] = g1
        gfull[2] = g2
        gfull[3] = g3
        gfull[5] = g5
        gfull[6] = g6
        _reduce_to_free(full, gfull, free_idx, fisher, grad)
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
    want_derivatives: bool, work: np.ndarray, scratch: np.ndarray,
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
    deriv = work[0:5, :w]
    row = work[5, :w]
    g_sum = work[6, :w]
    f00 = 0.0
    f01 = 0.0
    f02 = 0.0
    f03 = 0.0
    f04 = 0.0
    f05 = 0.0
    f06 = 0.0
    f11 = 0.0
    f12 = 0.0
    f13 = 0.0
    f14 = 0.0
    f15 = 0.0
    f16 = 0.0
    f22 = 0.0
    f23 = 0.0
    f24 = 0.0
    f25 = 0.0
    f26 = 0.0
    f33 = 0.0
    f34 = 0.0
    f35 = 0.0
    f36 = 0.0
    f44 = 0.0
    f45 = 0.0
    f46 = 0.0
    f55 = 0.0
    f56 = 0.0
    f66 = 0.0
    g0 = 0.0
    g1 = 0.0
    g2 = 0.0
    g3 = 0.0
    g4 = 0.0
    g5 = 0.0
    g6 = 0.0
    loglik = 0.0
    for i in range(h):
        g_sum[:] = 0.0
        if want_derivatives:
            deriv[:, :] = 0.0
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
            m = photons * g_sum[j] + bg
            mu = m if m > MODEL_FLOOR else MODEL_FLOOR
            d = roi[i, j] + var
            if d < 0.0:
                d = 0.0
            loglik += _loglik_term(d, mu)
            if not want_derivatives:
                continue
            wt = 1.0 / mu
            r = d * wt - 1.0
            d0 = photons * deriv[0, j]
            d1 = photons * deriv[1, j]
            d2 = photons * deriv[2, j] / sx
            d3 = photons * deriv[3, j] / sy
            d4 = photons * dtheta_coef * deriv[4, j]
            d5 = g_sum[j]
            w0 = d0 * wt
            w1 = d1 * wt
            w2 = d2 * wt
            w3 = d3 * wt
            w4 = d4 * wt
            w5 = d5 * wt
            w6 = wt
            f00 += w0 * d0
            f01 += w0 * d1
            f02 += w0 * d2
            f03 += w0 * d3
            f04 += w0 * d4
            f05 += w0 * d5
            f06 += w0
            f11 += w1 * d1
            f12 += w1 * d2
            f13 += w1 * d3
            f14 += w1 * d4
            f15 += w1 * d5
            f16 += w1
            f22 += w2 * d2
            f23 += w2 * d3
            f24 += w2 * d4
            f25 += w2 * d5
            f26 += w2
            f33 += w3 * d3
            f34 += w3 * d4
            f35 += w3 * d5
            f36 += w3
            f44 += w4 * d4
            f45 += w4 * d5
            f46 += w4
            f55 += w5 * d5
            f56 += w5
            f66 += w6
            g0 += r * d0
            g1 += r * d1
            g2 += r * d2
            g3 += r * d3
            g4 += r * d4
            g5 += r * d5
            g6 += r
    if want_derivatives:
        full = scratch[:NPARAMS]
        gfull = scratch[NPARAMS]
        full[:, :] = 0.0
        gfull[:] = 0.0
        full[0, 0] = f00
        full[0, 1] = f01
        full[1, 0] = f01
        full[0, 2] = f02
        full[2, 0] = f02
        full[0, 3] = f03
        full[3, 0] = f03
        full[0, 4] = f04
        full[4, 0] = f04
        full[0, 5] = f05
        full[5, 0] = f05
        full[0, 6] = f06
        full[6, 0] = f06
        full[1, 1] = f11
        full[1, 2] = f12
        full[2, 1] = f12
        full[1, 3] = f13
        full[3, 1] = f13
        full[1, 4] = f14
        full[4, 1] = f14
        full[1, 5] = f15
        full[5, 1] = f15
        full[1, 6] = f16
        full[6, 1] = f16
        full[2, 2] = f22
        full[2, 3] = f23
        full[3, 2] = f23
        full[2, 4] = f24
        full[4, 2] = f24
        full[2, 5] = f25
        full[5, 2] = f25
        full[2, 6] = f26
        full[6, 2] = f26
        full[3, 3] = f33
        full[3, 4] = f34
        full[4, 3] = f34
        full[3, 5] = f35
        full[5, 3] = f35
        full[3, 6] = f36
        full[6, 3] = f36
        full[4, 4] = f44
        full[4, 5] = f45
        full[5, 4] = f45
        full[4, 6] = f46
        full[6, 4] = f46
        full[5, 5] = f55
        full[5, 6] = f56
        full[6, 5] = f56
        full[6, 6] = f66
        gfull[0] = g0
        gfull[1] = g1
        gfull[2] = g2
        gfull[3] = g3
        gfull[4] = g4
        gfull[5] = g5
        gfull[6] = g6
        _reduce_to_free(full, gfull, free_idx, fisher, grad)
    return loglik


@nb.njit(cache=True)
def accumulate(
    roi: np.ndarray, p: np.ndarray, var: float, free_idx: np.ndarray, rotated: bool, fisher: np.ndarray,
    grad: np.ndarray, want_derivatives: bool, work: np.ndarray, scratch: np.ndarray,
) -> float:
    """Dispatch to the axis-aligned or the rotated evaluation.

    ``work`` (7, max(h, w)) and ``scratch`` (8, 7) are caller-owned buffers, so
    an evaluation allocates nothing.
    """
    if rotated:
        return accumulate_rotated(roi, p, var, free_idx, fisher, grad, want_derivatives, work, scratch)
    return accumulate_separable(roi, p, var, free_idx, fisher, grad, want_derivatives, work, scratch)


@nb.njit(cache=True)
def workspace(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``work`` and ``scratch`` buffers of :func:`accumulate` for an ``h x w`` ROI."""
    return np.empty((7, max(h, w))), np.empty((NPARAMS + 1, NPARAMS))


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
