"""Poisson maximum-likelihood fits of the pixel-integrated Gaussian to a batch of ROIs."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scopeweave_psf._fit_kernels import fit_batch_parallel, fit_batch_serial
from scopeweave_psf._threads import run_batch
from scopeweave_psf.kernels import _starts_batch
from scopeweave_psf.modes import PARAM_NAMES, FitMode, check_mode, free_indices, needs_rotation
from scopeweave_psf.moments import SpotParameters, as_roi_batch, moment_estimate

__all__ = ["DEFAULT_MAX_ITERATIONS", "FitResult", "fit_spots", "per_roi"]

#: Iteration caps per mode; ``elliptical_fixed_theta`` is the fast mode.
DEFAULT_MAX_ITERATIONS: dict[str, int] = {
    "elliptical": 60,
    "elliptical_fixed_theta": 25,
    "symmetric": 30,
    "fixed_sigma": 20,
}
#: Convergence: predicted remaining log-likelihood gain; 1e-3 leaves parameters within about 4 % of their
#: CRLB of the optimum (RMSE inflated by about 0.1 %).
DEFAULT_TOLERANCE = 1e-3


@attrs.frozen(kw_only=True, eq=False)
class FitResult(SpotParameters):
    """Fitted parameters of a batch of ROIs, with their Cramér-Rao bounds.

    Attributes
    ----------
    params
        ``(n, 7)`` fitted parameters (columns :data:`PARAM_NAMES`); fixed
        parameters hold the values they were fixed at.
    crlb
        ``(n, 7)`` Cramér-Rao lower bounds as standard deviations, from the
        Fisher information of the pixelated Poisson model at the fit; NaN
        for fixed parameters, ``inf`` for theta of a round spot.
    covariance
        ``(n, 7, 7)`` inverse Fisher information (NaN rows for fixed
        parameters), or ``None`` unless asked for.
    log_likelihood_ratio
        ``2 * sum(mu - d + d * log(d / mu))``: the deviance against a perfect
        model; about ``n_pixels - n_free`` for a good fit.
    fit_quality
        ``log_likelihood_ratio / (n_pixels - n_free)``: about 1 for a good
        fit, larger when the model misses (neighbours, clipping, wrong PSF).
    iterations
        Levenberg-Marquardt steps taken.
    converged
        The predicted remaining log-likelihood gain fell below the tolerance.
    mode
        The fit mode.
    """

    crlb: NDArray[np.float64]
    covariance: NDArray[np.float64] | None
    log_likelihood_ratio: NDArray[np.float64]
    fit_quality: NDArray[np.float64]
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_]
    mode: str

    def crlb_of(self, name: str) -> NDArray[np.float64]:
        """The CRLB (standard deviation) of one parameter for every ROI."""
        return self.crlb[:, PARAM_NAMES.index(name)]


def per_roi(value: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    """A scalar or an ``(n,)`` array as an ``(n,)`` float64 array."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return np.full(n, float(array))
    if array.shape != (n,):
        raise ValueError(f"'{name}' must be a number or an array of shape ({n},) (got shape {array.shape}).")
    return np.ascontiguousarray(array)


def _starting_params(
    batch: NDArray[np.float64], initial: Any, background_percentile: float, n_threads: int | None
) -> NDArray[np.float64]:
    n = batch.shape[0]
    if initial is None:
        guess = moment_estimate(batch, background_percentile=background_percentile, n_threads=n_threads).params
    else:
        source = initial.params if isinstance(initial, SpotParameters) else initial
        guess = np.ascontiguousarray(source, dtype=np.float64)
        if guess.shape != (n, len(PARAM_NAMES)):
            raise ValueError(f"'initial' must have shape ({n}, {len(PARAM_NAMES)}) (got {guess.shape}).")
    start = np.empty((n, len(PARAM_NAMES)))
    _starts_batch(batch, guess, float(background_percentile), start)
    return start


def fit_spots(
    rois: ArrayLike,
    *,
    mode: FitMode = "elliptical",
    initial: SpotParameters | ArrayLike | None = None,
    theta_rad: ArrayLike | None = None,
    sigma_px: ArrayLike | None = None,
    readout_variance: ArrayLike = 0.0,
    max_iterations: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    background_percentile: float = 20.0,
    n_threads: int | None = None,
    return_covariance: bool = False,
) -> FitResult:
    """Fit one pixel-integrated Gaussian to each ROI by Poisson maximum likelihood.

    Parameters
    ----------
    rois
        ``(n, h, w)`` photons per pixel (offset removed, gain applied).
    mode
        ``elliptical`` (x, y, sigma_x, sigma_y, theta, photons, background),
        ``elliptical_fixed_theta`` (theta held: the fast mode),
        ``symmetric`` (one sigma) or ``fixed_sigma`` (widths held).
    initial
        Starting parameters ``(n, 7)`` or a :class:`SpotParameters` (e.g. a
        :class:`MomentEstimate` or an earlier :class:`FitResult`); default: the
        moment estimate.  Non-finite rows start at the ROI centre.
    theta_rad
        The theta of ``elliptical_fixed_theta`` and ``fixed_sigma`` fits (a
        number or one per ROI); default 0 (PSF axes along the image axes,
        evaluated exactly with erf).  Ignored by the other modes.
    sigma_px
        The widths of ``fixed_sigma`` fits: a number, ``(sigma_x, sigma_y)``,
        or an ``(n, 2)`` array.  Required for that mode, ignored otherwise.
    readout_variance
        Read-noise variance in photons^2 (a number or one per ROI), added to
        model and data (sCMOS approximation).
    max_iterations
        Levenberg-Marquardt step cap; default :data:`DEFAULT_MAX_ITERATIONS`.
    tolerance
        Convergence: the predicted remaining log-likelihood gain (Newton
        decrement / 2).  1e-3 leaves the parameters within about 4 % of their
        CRLB of the optimum (the RMSE grows by about 0.1 %).
    background_percentile
        Percentile used by the moment estimate when ``initial`` is None.
    n_threads
        numba threads for the batch (None: numba's default).  Small batches
        run serially.
    return_covariance
        Also return the ``(n, 7, 7)`` inverse Fisher matrices.

    Returns
    -------
    FitResult
    """
    check_mode(mode)
    batch = as_roi_batch(rois)
    n, h, w = batch.shape
    free = free_indices(mode)
    if h * w <= free.size:
        raise ValueError(f"a {h} x {w} ROI has too few pixels for {free.size} free parameters.")
    if not tolerance > 0:
        raise ValueError(f"'tolerance' must be > 0 (got {tolerance!r}).")
    iterations_cap = DEFAULT_MAX_ITERATIONS[mode] if max_iterations is None else int(max_iterations)
    if iterations_cap < 1:
        raise ValueError(f"'max_iterations' must be >= 1 (got {max_iterations!r}).")
    start = _starting_params(batch, initial, background_percentile, n_threads)
    if mode in ("elliptical_fixed_theta", "fixed_sigma"):
        start[:, 4] = 0.0 if theta_rad is None else per_roi(theta_rad, n, "theta_rad")
    elif mode == "symmetric":
        start[:, 2:4] = np.sqrt(start[:, 2] * start[:, 3])[:, None]
        start[:, 4] = 0.0
    if mode == "fixed_sigma":
        if sigma_px is None:
            raise ValueError("mode 'fixed_sigma' needs 'sigma_px' (a number, (sigma_x, sigma_y) or an (n, 2) array).")
        sigmas = np.asarray(sigma_px, dtype=np.float64)
        if sigmas.ndim == 0 or sigmas.shape == (2,) or sigmas.shape == (n, 2):
            start[:, 2:4] = np.broadcast_to(sigmas if sigmas.ndim else np.full(2, float(sigmas)), (n, 2))
        else:
            raise ValueError(f"'sigma_px' must be a number, a pair or an ({n}, 2) array (got shape {sigmas.shape}).")
        if not (np.isfinite(start[:, 2:4]).all() and (start[:, 2:4] > 0).all()):
            raise ValueError("'sigma_px' must be finite and > 0.")
    variance = per_roi(readout_variance, n, "readout_variance")
    if (variance < 0).any() or not np.isfinite(variance).all():
        raise ValueError("'readout_variance' must be finite and >= 0.")
    rotated = needs_rotation(mode, start[:, 4])

    params = np.empty_like(start)
    covariance = np.empty((n, len(PARAM_NAMES), len(PARAM_NAMES)))
    iterations = np.zeros(n, dtype=np.int64)
    converged = np.zeros(n, dtype=np.bool_)
    llr = np.empty(n)
    run_batch(fit_batch_serial, fit_batch_parallel, n, n_threads, batch, start, variance, free, rotated,
              iterations_cap, float(tolerance), params, covariance, iterations, converged, llr)
    crlb = np.sqrt(np.diagonal(covariance, axis1=1, axis2=2))
    dof = max(h * w - free.size, 1)
    return FitResult(
        params=params,
        crlb=crlb,
        covariance=covariance if return_covariance else None,
        log_likelihood_ratio=llr,
        fit_quality=llr / dof,
        iterations=iterations,
        converged=converged,
        mode=mode,
    )
