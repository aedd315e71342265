"""Cramér-Rao bound of z (and x, y) for an astigmatic spot.

The spot's widths follow the Zhuang curves, so the image depends on
(x, y, z, photons, background).  The Fisher information of those five
parameters is ``J' I J``, where ``I`` is the pixelated-Poisson Fisher
information of (x, y, sigma_x, sigma_y, photons, background) from
:func:`scopeweave_psf.crlb` and ``J`` maps z to the widths (d sigma / dz).
"""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scopeweave_psf import ZhuangAxis, crlb

from scopeweave_focuslock.models.zhuang import zhuang_width_slope

__all__ = ["AxialCRLB", "z_crlb"]


@attrs.frozen(kw_only=True, eq=False)
class AxialCRLB:
    """Bounds (standard deviations) in the input's broadcast shape.

    Attributes
    ----------
    z_um
        Bound on z.
    x_px, y_px
        Bounds on the centre when z (not the two widths) is the unknown.
    """

    z_um: NDArray[np.float64]
    x_px: NDArray[np.float64]
    y_px: NDArray[np.float64]


def z_crlb(
    psf_x: ZhuangAxis,
    psf_y: ZhuangAxis,
    z_um: ArrayLike,
    *,
    shape_px: tuple[int, int],
    photons: ArrayLike,
    background: ArrayLike,
    x_px: ArrayLike | None = None,
    y_px: ArrayLike | None = None,
    theta_rad: float = 0.0,
    readout_variance: ArrayLike = 0.0,
) -> AxialCRLB:
    """CRLB of z, x and y for a spot at defocus ``z_um`` in an ROI of ``shape_px``.

    ``x_px``/``y_px`` default to the ROI centre.
    """
    h, w = shape_px
    z = np.asarray(z_um, dtype=np.float64)
    x = np.asarray((w - 1) / 2 if x_px is None else x_px, dtype=np.float64)
    y = np.asarray((h - 1) / 2 if y_px is None else y_px, dtype=np.float64)
    z, x, y, n, b, v = np.broadcast_arrays(z, x, y, np.asarray(photons, dtype=np.float64),
                                           np.asarray(background, dtype=np.float64),
                                           np.asarray(readout_variance, dtype=np.float64))
    bounds = crlb(shape_px, x_px=x, y_px=y, sigma_x_px=psf_x.width_px(z), sigma_y_px=psf_y.width_px(z), photons=n,
                  background=b, theta_rad=theta_rad, mode="elliptical_fixed_theta", readout_variance=v)
    fisher6 = bounds.fisher  # order: x, y, sigma_x, sigma_y, photons, background
    jac = np.zeros((*z.shape, 6, 5))
    jac[..., 0, 0] = 1.0
    jac[..., 1, 1] = 1.0
    jac[..., 2, 2] = zhuang_width_slope(psf_x, z)
    jac[..., 3, 2] = zhuang_width_slope(psf_y, z)
    jac[..., 4, 3] = 1.0
    jac[..., 5, 4] = 1.0
    fisher5 = np.swapaxes(jac, -1, -2) @ fisher6 @ jac
    covariance = np.linalg.inv(fisher5)
    std = np.sqrt(np.diagonal(covariance, axis1=-2, axis2=-1))
    return AxialCRLB(z_um=std[..., 2], x_px=std[..., 0], y_px=std[..., 1])
