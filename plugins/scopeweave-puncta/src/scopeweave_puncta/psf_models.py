"""Pixel-integrated PSFs for synthetic movies: Gaussian (exact erf) and Airy (oversampled).

Both are parametrised by the Gaussian width ``sigma_px``; the Airy pattern
used is the one whose best-fitting Gaussian has that width
(sigma = 0.21 lambda / NA, Zhang et al. 2007), so the two PSFs are comparable.
Spots are rendered into a patch around the spot and added into the frame.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import j1
from scopeweave_psf import render_gaussian

from scopeweave_puncta.sim_params import PSF_TYPES

__all__ = ["PSF_TYPES", "PsfType", "add_spots", "airy_patch", "patch_radius_px"]

PsfType = Literal["gaussian", "airy"]

#: Airy wavenumber k = 2 pi NA / lambda in units of 1/sigma, with sigma = 0.21 lambda / NA.
_AIRY_K_SIGMA = 2.0 * math.pi * 0.21


def patch_radius_px(psf_type: str, sigma_px: float) -> int:
    """Half-size of the rendered patch: 4 sigma for a Gaussian, 10 sigma for the Airy tails."""
    factor = 4.0 if psf_type == "gaussian" else 10.0
    return max(2, math.ceil(factor * sigma_px))


def airy_patch(
    shape_px: tuple[int, int], *, x_px: float, y_px: float, sigma_px: float, photons: float, oversample: int = 5
) -> NDArray[np.float64]:
    """Expected photons per pixel of an Airy spot, integrated over pixels by oversampling.

    The pattern ``I(r) = k^2/(4 pi) * [2 J1(k r) / (k r)]^2`` integrates to one over
    the plane; ``photons`` is the total of the untruncated spot.
    """
    height, width = shape_px
    k = _AIRY_K_SIGMA / sigma_px
    step = 1.0 / oversample
    offsets = (np.arange(oversample) + 0.5) * step - 0.5
    ys = (np.arange(height)[:, None] + offsets[None, :]).reshape(-1) - y_px
    xs = (np.arange(width)[:, None] + offsets[None, :]).reshape(-1) - x_px
    kr = k * np.hypot(ys[:, None], xs[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(kr > 1e-9, 2.0 * j1(kr) / kr, 1.0)
    density = (k * k / (4.0 * math.pi)) * ratio * ratio
    pixels = density.reshape(height, oversample, width, oversample).sum(axis=(1, 3)) * step * step
    return photons * pixels


def add_spots(
    frame: NDArray[np.float64],
    *,
    x_px: NDArray[np.float64],
    y_px: NDArray[np.float64],
    photons: NDArray[np.float64],
    sigma_px: float,
    psf_type: str,
) -> None:
    """Add pixel-integrated spots to ``frame`` in place (positions: pixel centres at integers)."""
    if psf_type not in PSF_TYPES:
        raise ValueError(f"psf_type must be one of {PSF_TYPES} (got {psf_type!r}).")
    height, width = frame.shape
    radius = patch_radius_px(psf_type, sigma_px)
    for x, y, n in zip(x_px, y_px, photons, strict=True):
        x0, y0 = round(x) - radius, round(y) - radius
        size = 2 * radius + 1
        if x0 >= width or y0 >= height or x0 + size <= 0 or y0 + size <= 0:
            continue
        if psf_type == "gaussian":
            patch = render_gaussian((size, size), x_px=x - x0, y_px=y - y0, sigma_x_px=sigma_px,
                                    sigma_y_px=sigma_px, photons=float(n))
        else:
            patch = airy_patch((size, size), x_px=x - x0, y_px=y - y0, sigma_px=sigma_px, photons=float(n))
        ya, yb = max(y0, 0), min(y0 + size, height)
        xa, xb = max(x0, 0), min(x0 + size, width)
        frame[ya:yb, xa:xb] += patch[ya - y0 : yb - y0, xa - x0 : xb - x0]
