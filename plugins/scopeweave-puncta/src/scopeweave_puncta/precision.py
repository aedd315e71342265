"""Localization precision formulas of Mortensen et al. (Nat Methods 7:377, 2010).

Notation: ``s`` the PSF sigma, ``a`` the pixel size, ``N`` photons, ``b``
background photons per pixel, ``sa^2 = s^2 + a^2/12``,
``tau = 2 pi sa^2 b / (N a^2)`` and ``F^2`` the excess-noise factor (2 with EM gain).

* MLE (attains the Cramér-Rao bound of the pixelated Poisson model)::

      Var(x) = F^2 sa^2 / N * [1 + int_0^1 ln(t) / (1 + t / tau) dt]^-1

* Unweighted least squares::

      Var(x) = F^2 sa^2 / N * (16/9 + 8 pi sa^2 b / (N a^2))

The integral is evaluated with 64-point Gauss-Laguerre quadrature after
``t = exp(-u)`` (accurate to better than 1e-10 relative).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["mortensen_lsq_std", "mortensen_mle_std"]

_LAG_NODES, _LAG_WEIGHTS = np.polynomial.laguerre.laggauss(64)


def _terms(sigma: ArrayLike, pixel_size: float, photons: ArrayLike, background: ArrayLike
           ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    s = np.asarray(sigma, dtype=np.float64)
    n = np.asarray(photons, dtype=np.float64)
    b = np.maximum(np.asarray(background, dtype=np.float64), 0.0)
    sa2 = s * s + pixel_size * pixel_size / 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = 2.0 * np.pi * sa2 * b / (n * pixel_size * pixel_size)
    return sa2, n, tau


def mortensen_mle_std(
    sigma: ArrayLike, pixel_size: float, photons: ArrayLike, background: ArrayLike, *, excess_noise: float = 1.0
) -> NDArray[np.float64]:
    """Standard deviation of the MLE position along one axis (same length unit as ``sigma``).

    Parameters
    ----------
    sigma
        PSF Gaussian sigma.
    pixel_size
        Pixel size (same unit as ``sigma``).
    photons
        Photons in the spot.
    background
        Background photons per pixel.
    excess_noise
        ``F^2``: 1 for Poisson-limited cameras, 2 for EMCCDs.
    """
    sa2, n, tau = _terms(sigma, pixel_size, photons, background)
    tau_b = np.asarray(tau)[..., None]
    u = _LAG_NODES
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        integrand = np.where(tau_b > 0, -u / (1.0 + np.exp(-u) / np.where(tau_b > 0, tau_b, 1.0)), 0.0)
    integral = integrand @ _LAG_WEIGHTS
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = excess_noise * sa2 / n / (1.0 + integral)
    return np.sqrt(np.where(n > 0, variance, np.nan))


def mortensen_lsq_std(
    sigma: ArrayLike, pixel_size: float, photons: ArrayLike, background: ArrayLike, *, excess_noise: float = 1.0
) -> NDArray[np.float64]:
    """Standard deviation of the unweighted least-squares position along one axis."""
    sa2, n, tau = _terms(sigma, pixel_size, photons, background)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = excess_noise * sa2 / n * (16.0 / 9.0 + 4.0 * tau)
    return np.sqrt(np.where(n > 0, variance, np.nan))
