"""Numba kernels: Levenberg-Marquardt Poisson maximum-likelihood fits and the CRLB.

The step solves ``(I + lambda * diag(I)) delta = g`` where ``I`` is the Fisher
information of the pixelated Poisson model at the current parameters (Fisher
scoring) and ``g`` the gradient of the log-likelihood.  A step is kept only if
the log-likelihood does not decrease; the fit has converged when the Newton
decrement ``g' I^-1 g / 2`` (the predicted remaining gain in log-likelihood)
falls below ``tolerance``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from scopeweave_psf._model_kernels import NPARAMS, TIED_SIGMA, accumulate, fill_lower, saturated_loglik, workspace

LAMBDA_START = 1e-3
LAMBDA_MIN = 1e-9
LAMBDA_MAX = 1e9
SIGMA_MIN_PX = 0.2


@nb.njit(cache=True)
def cholesky_solve(matrix: np.ndarray, rhs: np.ndarray, out: np.ndarray, work: np.ndarray) -> bool:
    """Solve ``matrix @ out = rhs`` for a symmetric positive definite ``matrix``; False if it is not."""
    n = matrix.shape[0]
    for a in range(n):
        for b in range(a + 1):
            acc = matrix[a, b]
            for k in range(b):
                acc -= work[a, k] * work[b, k]
            if a == b:
                if not acc > 1e-300 * (1.0 + abs(matrix[a, a])) or not math.isfinite(acc):
                    return False
                work[a, a] = math.sqrt(acc)
            else:
                work[a, b] = acc / work[b, b]
    for a in range(n):
        acc = rhs[a]
        for k in range(a):
            acc -= work[a, k] * out[k]
        out[a] = acc / work[a, a]
    for a in range(n - 1, -1, -1):
        acc = out[a]
        for k in range(a + 1, n):
            acc -= work[k, a] * out[k]
        out[a] = acc / work[a, a]
    return True


@nb.njit(cache=True)
def invert_spd(matrix: np.ndarray, out: np.ndarray) -> bool:
    """Inverse of a symmetric positive definite matrix into ``out``; False if it is singular."""
    n = matrix.shape[0]
    work = np.empty((n, n))
    rhs = np.zeros(n)
    col = np.empty(n)
    for b in range(n):
        rhs[:] = 0.0
        rhs[b] = 1.0
        if not cholesky_solve(matrix, rhs, col, work):
            return False
        for a in range(n):
            out[a, b] = col[a]
    return True


@nb.njit(cache=True)
def _apply_step(p: np.ndarray, delta: np.ndarray, free_idx: np.ndarray, h: int, w: int, out: np.ndarray) -> None:
    """``out = p + delta`` on the free parameters, kept inside the physical bounds."""
    out[:] = p
    sigma_max = 2.0 * max(h, w)
    for a in range(free_idx.shape[0]):
        k = free_idx[a]
        step = delta[a]
        if k == 0 or k == 1:
            limit = max(1.0, 0.5 * max(p[2], p[3]))
            step = min(max(step, -limit), limit)
            hi = (w if k == 0 else h) - 0.5
            out[k] = min(max(p[k] + step, -0.5), hi)
        elif k == 2 or k == 3 or k == TIED_SIGMA:
            targets = (2, 3) if k == TIED_SIGMA else (k, k)
            for t in targets:
                value = p[t] + step
                value = min(max(value, 0.5 * p[t]), 2.0 * p[t])
                out[t] = min(max(value, SIGMA_MIN_PX), sigma_max)
        elif k == 4:
            out[4] = p[4] + min(max(step, -0.5), 0.5)
        elif k == 5:
            value = p[5] + step
            out[5] = value if value > 0.1 * p[5] else 0.1 * p[5]
        else:
            value = p[6] + step
            out[6] = value if value > 0.1 * p[6] else 0.1 * p[6]


@nb.njit(cache=True)
def _covariance_into(
    fisher: np.ndarray, free_idx: np.ndarray, theta_free_at: int, cov7: np.ndarray
) -> None:
    """Invert the Fisher matrix into the full 7 x 7 covariance (NaN for fixed parameters).

    When the information on theta vanishes (a round spot) theta's variance is
    infinite and the others come from the matrix without theta.
    """
    nfree = free_idx.shape[0]
    cov7[:, :] = np.nan
    inverse = np.empty((nfree, nfree))
    keep = np.arange(nfree)
    ok = invert_spd(fisher, inverse)
    if not ok and theta_free_at >= 0:
        keep = np.empty(nfree - 1, dtype=np.int64)
        n = 0
        for a in range(nfree):
            if a != theta_free_at:
                keep[n] = a
                n += 1
        reduced = np.empty((nfree - 1, nfree - 1))
        for a in range(nfree - 1):
            for b in range(nfree - 1):
                reduced[a, b] = fisher[keep[a], keep[b]]
        inverse = np.empty((nfree - 1, nfree - 1))
        ok = invert_spd(reduced, inverse)
        if ok:
            cov7[4, 4] = np.inf
    if not ok:
        return
    for ia in range(keep.shape[0]):
        ka = free_idx[keep[ia]]
        rows = (2, 3) if ka == TIED_SIGMA else (ka, ka)
        for ib in range(keep.shape[0]):
            kb = free_idx[keep[ib]]
            cols = (2, 3) if kb == TIED_SIGMA else (kb, kb)
            for r in rows:
                for c in cols:
                    cov7[r, c] = inverse[ia, ib]


@nb.njit(cache=True)
def canonical_theta(p: np.ndarray) -> bool:
    """Bring theta into [-pi/4, pi/4); True (and sigmas swapped) after an odd number of quarter turns."""
    quarter = 0.5 * math.pi
    turns = math.floor((p[4] + 0.25 * math.pi) / quarter)
    p[4] -= turns * quarter
    swapped = turns % 2 != 0
    if swapped:
        sx = p[2]
        p[2] = p[3]
        p[3] = sx
    return swapped


@nb.njit(cache=True)
def fit_one(
    roi: np.ndarray, p0: np.ndarray, var: float, free_idx: np.ndarray, rotated: bool, max_iterations: int,
    tolerance: float, p_out: np.ndarray, cov_out: np.ndarray,
) -> tuple[int, bool, float]:
    """Fit one ROI from ``p0``; returns (iterations, converged, log-likelihood ratio)."""
    h, w = roi.shape
    nfree = free_idx.shape[0]
    theta_free_at = -1
    for a in range(nfree):
        if free_idx[a] == 4:
            theta_free_at = a
    p = p0.copy()
    trial = np.empty(NPARAMS)
    fisher = np.empty((nfree, nfree))
    grad = np.empty(nfree)
    fisher_t = np.empty((nfree, nfree))
    grad_t = np.empty(nfree)
    damped = np.empty((nfree, nfree))
    delta = np.empty(nfree)
    work = np.empty((nfree, nfree))
    buffers, scratch = workspace(h, w)
    loglik = accumulate(roi, p, var, free_idx, rotated, fisher, grad, True, buffers, scratch)
    fill_lower(fisher)
    lam = LAMBDA_START
    converged = False
    iterations = 0
    while iterations < max_iterations:
        if cholesky_solve(fisher, grad, delta, work):
            decrement = 0.0
            for a in range(nfree):
                decrement += delta[a] * grad[a]
            if 0.5 * decrement < tolerance:
                converged = True
                break
        iterations += 1
        for a in range(nfree):
            for b in range(nfree):
                damped[a, b] = fisher[a, b]
            damped[a, a] = fisher[a, a] * (1.0 + lam) + 1e-12
        if not cholesky_solve(damped, grad, delta, work):
            lam *= 10.0
            if lam > LAMBDA_MAX:
                break
            continue
        _apply_step(p, delta, free_idx, h, w, trial)
        loglik_t = accumulate(roi, trial, var, free_idx, rotated, fisher_t, grad_t, True, buffers, scratch)
        if math.isfinite(loglik_t) and loglik_t >= loglik:
            p[:] = trial
            loglik = loglik_t
            fisher[:, :] = fisher_t
            fill_lower(fisher)
            grad[:] = grad_t
            lam = max(lam * 0.1, LAMBDA_MIN)
        else:
            lam *= 10.0
            if lam > LAMBDA_MAX:
                break
    if not converged and cholesky_solve(fisher, grad, delta, work):
        # A final check: the last accepted point may already satisfy the criterion.
        decrement = 0.0
        for a in range(nfree):
            decrement += delta[a] * grad[a]
        converged = 0.5 * decrement < tolerance
    _covariance_into(fisher, free_idx, theta_free_at, cov_out)
    # Deviance: twice the log-likelihood gap to the perfect model (mu = data).
    llr = 2.0 * (saturated_loglik(roi, var) - loglik)
    if theta_free_at >= 0 and canonical_theta(p):
        # A quarter turn swaps the roles of sigma_x and sigma_y in the covariance too.
        _swap_sigma_axes(cov_out)
    p_out[:] = p
    return iterations, converged, llr


@nb.njit(cache=True)
def _swap_sigma_axes(cov: np.ndarray) -> None:
    """Exchange rows and columns 2 and 3 of a 7 x 7 covariance."""
    for k in range(NPARAMS):
        tmp = cov[2, k]
        cov[2, k] = cov[3, k]
        cov[3, k] = tmp
    for k in range(NPARAMS):
        tmp = cov[k, 2]
        cov[k, 2] = cov[k, 3]
        cov[k, 3] = tmp


@nb.njit(cache=True)
def _fit_range(
    rois: np.ndarray, p0: np.ndarray, var: np.ndarray, free_idx: np.ndarray, rotated: np.ndarray,
    max_iterations: int, tolerance: float, params: np.ndarray, cov: np.ndarray, iterations: np.ndarray,
    converged: np.ndarray, llr: np.ndarray, index: int,
) -> None:
    it, ok, ratio = fit_one(rois[index], p0[index], var[index], free_idx, rotated[index], max_iterations, tolerance,
                            params[index], cov[index])
    iterations[index] = it
    converged[index] = ok
    llr[index] = ratio


@nb.njit(cache=True)
def fit_batch_serial(
    rois: np.ndarray, p0: np.ndarray, var: np.ndarray, free_idx: np.ndarray, rotated: np.ndarray,
    max_iterations: int, tolerance: float, params: np.ndarray, cov: np.ndarray, iterations: np.ndarray,
    converged: np.ndarray, llr: np.ndarray,
) -> None:
    """Fit every ROI, one after the other."""
    for index in range(rois.shape[0]):
        _fit_range(rois, p0, var, free_idx, rotated, max_iterations, tolerance, params, cov, iterations, converged,
                   llr, index)


@nb.njit(cache=True, parallel=True)
def fit_batch_parallel(
    rois: np.ndarray, p0: np.ndarray, var: np.ndarray, free_idx: np.ndarray, rotated: np.ndarray,
    max_iterations: int, tolerance: float, params: np.ndarray, cov: np.ndarray, iterations: np.ndarray,
    converged: np.ndarray, llr: np.ndarray,
) -> None:
    """Fit every ROI on numba's thread pool."""
    for index in nb.prange(rois.shape[0]):
        _fit_range(rois, p0, var, free_idx, rotated, max_iterations, tolerance, params, cov, iterations, converged,
                   llr, index)


@nb.njit(cache=True)
def fisher_batch(
    shape: tuple[int, int], p: np.ndarray, var: np.ndarray, free_idx: np.ndarray, rotated: np.ndarray,
    fisher_out: np.ndarray, cov_out: np.ndarray,
) -> None:
    """Expected Fisher information (free parameters) and the CRLB covariance (7 x 7) of each parameter set."""
    nfree = free_idx.shape[0]
    theta_free_at = -1
    for a in range(nfree):
        if free_idx[a] == 4:
            theta_free_at = a
    grad = np.empty(nfree)
    # The Fisher matrix does not depend on the data: any image of the right shape serves.
    placeholder = np.zeros(shape)
    buffers, scratch = workspace(shape[0], shape[1])
    for index in range(p.shape[0]):
        fisher = fisher_out[index]
        accumulate(placeholder, p[index], var[index], free_idx, rotated[index], fisher, grad, True, buffers, scratch)
        fill_lower(fisher)
        _covariance_into(fisher, free_idx, theta_free_at, cov_out[index])
