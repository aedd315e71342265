"""Moment-based spot estimates: the fitter's starting guess and the fallback when a fit fails."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scopeweave_psf._moment_kernels import moments_batch_parallel, moments_batch_serial
from scopeweave_psf._threads import run_batch
from scopeweave_psf.modes import PARAM_NAMES

__all__ = ["MomentEstimate", "SpotParameters", "as_roi_batch", "moment_estimate"]


def as_roi_batch(rois: ArrayLike, *, name: str = "rois") -> NDArray[np.float64]:
    """``rois`` as a C-contiguous float64 ``(n, h, w)`` array; ValueError if it is not one."""
    array = np.ascontiguousarray(rois, dtype=np.float64)
    if array.ndim != 3:
        raise ValueError(f"'{name}' must be a (n, height, width) array of ROIs (got shape {array.shape}).")
    if array.shape[1] < 3 or array.shape[2] < 3:
        raise ValueError(f"'{name}': each ROI must be at least 3 x 3 px (got {array.shape[1]} x {array.shape[2]}).")
    return array


@attrs.frozen(kw_only=True, eq=False)
class SpotParameters:
    """Seven spot parameters per ROI, one row each, columns as :data:`PARAM_NAMES`.

    Attributes
    ----------
    params
        ``(n, 7)`` float64: x_px, y_px, sigma_x_px, sigma_y_px, theta_rad,
        photons (integrated over the untruncated spot), background (photons/px).
    """

    params: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.params.shape[0])

    def column(self, name: str) -> NDArray[np.float64]:
        """One parameter for every ROI."""
        return self.params[:, PARAM_NAMES.index(name)]

    @property
    def x_px(self) -> NDArray[np.float64]:
        """Centre x (pixel (i, j) is centred at (y, x) = (i, j))."""
        return self.params[:, 0]

    @property
    def y_px(self) -> NDArray[np.float64]:
        """Centre y."""
        return self.params[:, 1]

    @property
    def sigma_x_px(self) -> NDArray[np.float64]:
        """Width along the PSF axis at ``theta_rad`` from the image x axis."""
        return self.params[:, 2]

    @property
    def sigma_y_px(self) -> NDArray[np.float64]:
        """Width along the perpendicular PSF axis."""
        return self.params[:, 3]

    @property
    def theta_rad(self) -> NDArray[np.float64]:
        """Rotation of the PSF axes, counter-clockwise, in [-pi/4, pi/4) for free-theta fits."""
        return self.params[:, 4]

    @property
    def photons(self) -> NDArray[np.float64]:
        """Photons of the untruncated spot."""
        return self.params[:, 5]

    @property
    def background(self) -> NDArray[np.float64]:
        """Background photons per pixel."""
        return self.params[:, 6]

    def as_dict(self) -> dict[str, Any]:
        """Columns by name (arrays)."""
        return {name: self.params[:, k] for k, name in enumerate(PARAM_NAMES)}


@attrs.frozen(kw_only=True, eq=False)
class MomentEstimate(SpotParameters):
    """Moment estimates; rows whose ROI holds no signal above the background are NaN
    (except the background)."""

    background_percentile: float


def moment_estimate(
    rois: ArrayLike, *, background_percentile: float = 20.0, n_threads: int | None = None
) -> MomentEstimate:
    """Estimate spot parameters from second moments after background subtraction.

    Parameters
    ----------
    rois
        ``(n, h, w)`` photons per pixel.
    background_percentile
        The background of each ROI is this percentile of its pixels (0-100).
    n_threads
        numba threads for the batch (None: numba's default); small batches run serially.

    Returns
    -------
    MomentEstimate
        Centre, principal-axis widths (pixel variance 1/12 removed), theta in
        [-pi/4, pi/4), photons above the background in a window of 3 sigma,
        and the background.  The widths are about 5 % low for a Gaussian
        (window truncation); good as a starting guess or a fallback.
    """
    if not 0.0 <= background_percentile <= 100.0:
        raise ValueError(f"'background_percentile' must be within 0-100 (got {background_percentile!r}).")
    batch = as_roi_batch(rois)
    out = np.empty((batch.shape[0], len(PARAM_NAMES)))
    run_batch(moments_batch_serial, moments_batch_parallel, batch.shape[0], n_threads,
              batch, float(background_percentile), out)
    return MomentEstimate(params=out, background_percentile=float(background_percentile))
