"""The global theta of the two-pass calibration: a weighted circular mean of the free-theta fits."""

from __future__ import annotations

import math

import attrs
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["GlobalTheta", "global_theta"]


@attrs.frozen(kw_only=True)
class GlobalTheta:
    """The PSF rotation shared by a sweep.

    Attributes
    ----------
    theta_rad
        The rotation used for the second (fixed-theta) pass.
    mean_rad
        The weighted circular mean before snapping.
    standard_error_rad
        Its standard error (from the fits' CRLBs).
    snapped
        ``mean_rad`` was within ``snap_rad`` of 0 and ``theta_rad`` is exactly 0
        (the exact, faster axis-aligned model).
    n_fits
        Fits that carried weight.
    """

    theta_rad: float
    mean_rad: float
    standard_error_rad: float
    snapped: bool
    n_fits: int


def global_theta(theta_rad: ArrayLike, theta_err_rad: ArrayLike, *, snap_rad: float = 0.0175) -> GlobalTheta:
    """Weighted circular mean of theta over good fits (ThunderSTORM's mean of 4 theta).

    Theta of an elliptical spot is defined modulo pi/2 (the axes may swap),
    so the mean is taken over ``4 * theta``; each fit is weighted by the
    inverse variance of its theta, which gives round spots (no information
    on theta) no weight.

    Parameters
    ----------
    theta_rad, theta_err_rad
        Free-theta fits and their CRLBs; non-finite entries are ignored.
    snap_rad
        A mean within this of 0 becomes exactly 0 (default 1 degree: ignoring
        such a rotation biases the widths by < 0.1 % of their difference).

    Raises
    ------
    ValueError
        When no fit carries information on theta.
    """
    theta = np.asarray(theta_rad, dtype=np.float64).ravel()
    err = np.asarray(theta_err_rad, dtype=np.float64).ravel()
    good = np.isfinite(theta) & np.isfinite(err) & (err > 0)
    if not good.any():
        raise ValueError("no fit constrains theta (all spots round or all fits failed): cannot estimate a global theta")
    weights = 1.0 / err[good] ** 2
    s = float(np.sum(weights * np.sin(4 * theta[good])))
    c = float(np.sum(weights * np.cos(4 * theta[good])))
    mean = 0.25 * math.atan2(s, c)
    standard_error = float(1.0 / math.sqrt(np.sum(weights)))
    snapped = abs(mean) <= snap_rad
    return GlobalTheta(theta_rad=0.0 if snapped else mean, mean_rad=mean, standard_error_rad=standard_error,
                       snapped=snapped, n_fits=int(good.sum()))
