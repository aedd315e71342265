"""Cramér-Rao lower bounds of the pixel-integrated Gaussian under Poisson noise."""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scopeweave_psf._fit_kernels import fisher_batch
from scopeweave_psf.modes import PARAM_NAMES, FitMode, free_indices, needs_rotation

__all__ = ["CRLBResult", "crlb"]


@attrs.frozen(kw_only=True, eq=False)
class CRLBResult:
    """Bounds for each parameter set (the inputs' broadcast shape ``s``).

    Attributes
    ----------
    std
        ``(*s, 7)`` CRLB standard deviations (columns :data:`PARAM_NAMES`);
        NaN for parameters the mode holds fixed, ``inf`` for theta of a round spot.
    covariance
        ``(*s, 7, 7)`` inverse Fisher information.
    fisher
        ``(*s, k, k)`` Fisher information of the ``k`` free parameters, in the
        order of ``free_parameters``.
    free_parameters
        Names of the free parameters (``sigma_px`` when one sigma is shared).
    """

    std: NDArray[np.float64]
    covariance: NDArray[np.float64]
    fisher: NDArray[np.float64]
    free_parameters: tuple[str, ...]

    def of(self, name: str) -> NDArray[np.float64]:
        """The bound (standard deviation) of one parameter."""
        return self.std[..., PARAM_NAMES.index(name)]


def crlb(
    shape_px: tuple[int, int],
    *,
    x_px: ArrayLike,
    y_px: ArrayLike,
    sigma_x_px: ArrayLike,
    sigma_y_px: ArrayLike,
    photons: ArrayLike,
    background: ArrayLike,
    theta_rad: ArrayLike = 0.0,
    mode: FitMode = "elliptical",
    readout_variance: ArrayLike = 0.0,
) -> CRLBResult:
    """Cramér-Rao lower bounds for spots in an ROI of ``shape_px``.

    The Fisher information of the pixelated Poisson model is
    ``I_ab = sum_k (d mu_k / d a)(d mu_k / d b) / mu_k`` over the ROI's pixels
    (Smith et al. 2010), with the same model, free parameters and readout
    variance as :func:`~scopeweave_psf.fit_spots` in ``mode``; the bounds are
    the diagonal of its inverse.  Parameters broadcast against each other.

    Parameters
    ----------
    shape_px
        ``(height, width)`` of the ROI.
    x_px, y_px, sigma_x_px, sigma_y_px, theta_rad, photons, background
        The spot (pixel (i, j) is centred at (y, x) = (i, j)).
    mode
        Which parameters are estimated (see :data:`FIT_MODES`).
    readout_variance
        Read-noise variance in photons^2 added to every pixel.

    Returns
    -------
    CRLBResult
    """
    height, width = (int(v) for v in shape_px)
    if height < 3 or width < 3:
        raise ValueError(f"'shape_px' must be at least (3, 3) (got {shape_px!r}).")
    free = free_indices(mode)
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in
                                   (x_px, y_px, sigma_x_px, sigma_y_px, theta_rad, photons, background,
                                    readout_variance)))
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    params = np.stack(flat[:7], axis=1)
    if not np.isfinite(params).all():
        raise ValueError("spot parameters must be finite.")
    if (params[:, 2:4] <= 0).any() or (params[:, 5] <= 0).any() or (params[:, 6] < 0).any():
        raise ValueError("sigmas and photons must be > 0 and background >= 0.")
    if mode == "symmetric":
        params[:, 3] = params[:, 2]
    variance = flat[7]
    n = params.shape[0]
    fisher = np.empty((n, free.size, free.size))
    covariance = np.empty((n, len(PARAM_NAMES), len(PARAM_NAMES)))
    fisher_batch((height, width), params, variance, free, needs_rotation(mode, params[:, 4]), fisher, covariance)
    std = np.sqrt(np.diagonal(covariance, axis1=1, axis2=2))
    names = tuple("sigma_px" if k == 7 else PARAM_NAMES[k] for k in free)
    return CRLBResult(
        std=std.reshape(*shape, len(PARAM_NAMES)),
        covariance=covariance.reshape(*shape, len(PARAM_NAMES), len(PARAM_NAMES)),
        fisher=fisher.reshape(*shape, free.size, free.size),
        free_parameters=names,
    )
