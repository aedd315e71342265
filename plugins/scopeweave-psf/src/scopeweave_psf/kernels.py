"""Numba-callable building blocks of the fitter, for other numba code.

These are ``@numba.njit`` functions: call them from your own jitted kernels
(a focus lock measuring one ROI per frame, a localizer fusing detection and
fitting) to avoid Python overhead per ROI.  All take float64 C-contiguous
arrays; parameter vectors have the 7 columns of :data:`PARAM_NAMES`.

``fit_one(roi, p0, var, free_idx, rotated, max_iterations, tolerance, p_out, cov_out)``
    Poisson-MLE fit of one ROI from ``p0``; writes the parameters and the
    7 x 7 inverse Fisher matrix, returns ``(iterations, converged,
    log_likelihood_ratio)``.  ``free_idx`` comes from :func:`free_indices`
    (``TIED_SIGMA`` = one sigma for both axes); ``rotated`` selects the
    quadrature model (needed when theta is free or not exactly 0).
``moments_one(roi, percentile, out)``
    The moment estimate (see :func:`~scopeweave_psf.moment_estimate`).
``start_from_moments(roi, estimate, percentile, out)``
    A safe starting point from a moment estimate (non-finite estimates start
    at the ROI centre with a 1 px spot; values clipped to physical bounds).
``percentile(values, q)``
    ``np.percentile`` by partial sorting.

And one plain-Python helper for batch drivers:

``run_batch(serial, parallel, n_items, n_threads, *args)``
    Runs ``parallel(*args)`` on ``n_threads`` numba threads, or ``serial(*args)``
    for small batches (a single ROI never starts the thread pool).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from scopeweave_psf._fit_kernels import SIGMA_MIN_PX, canonical_theta, fit_one
from scopeweave_psf._model_kernels import NPARAMS, TIED_SIGMA
from scopeweave_psf._moment_kernels import moments_one, percentile
from scopeweave_psf._threads import run_batch
from scopeweave_psf.modes import PARAM_NAMES, free_indices

__all__ = [
    "NPARAMS",
    "PARAM_NAMES",
    "SIGMA_MIN_PX",
    "TIED_SIGMA",
    "canonical_theta",
    "fit_one",
    "free_indices",
    "moments_one",
    "percentile",
    "run_batch",
    "start_from_moments",
]


@nb.njit(cache=True)
def start_from_moments(roi: np.ndarray, estimate: np.ndarray, q: float, out: np.ndarray) -> None:
    """A physical starting point for :func:`fit_one` from a moment estimate (or any guess)."""
    h, w = roi.shape
    finite = True
    for k in range(NPARAMS):
        if not math.isfinite(estimate[k]):
            finite = False
    if finite:
        out[:] = estimate
    else:
        out[0] = 0.5 * (w - 1)
        out[1] = 0.5 * (h - 1)
        out[2] = 1.0
        out[3] = 1.0
        out[4] = 0.0
        out[6] = percentile(roi, q)
        out[5] = roi.sum() - out[6] * h * w
    out[0] = min(max(out[0], -0.5), w - 0.5)
    out[1] = min(max(out[1], -0.5), h - 0.5)
    sigma_max = 2.0 * max(h, w)
    out[2] = min(max(out[2], SIGMA_MIN_PX), sigma_max)
    out[3] = min(max(out[3], SIGMA_MIN_PX), sigma_max)
    out[5] = max(out[5], 1.0)
    out[6] = max(out[6], 1e-2)


@nb.njit(cache=True)
def _starts_batch(rois: np.ndarray, estimates: np.ndarray, q: float, out: np.ndarray) -> None:
    for index in range(rois.shape[0]):
        start_from_moments(rois[index], estimates[index], q, out[index])
