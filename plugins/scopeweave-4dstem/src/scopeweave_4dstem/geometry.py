"""Detector geometry: radii around the beam centre, radial bands, point reflection."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["band_mask", "radius_map", "reflect_about", "symmetrisation_centre"]


def radius_map(frame_shape: tuple[int, int], centre_yx: tuple[float, float]) -> NDArray[np.float64]:
    """Distance of every detector pixel centre from ``centre_yx`` (pixels)."""
    ky = np.arange(frame_shape[0], dtype=np.float64)[:, None] - centre_yx[0]
    kx = np.arange(frame_shape[1], dtype=np.float64)[None, :] - centre_yx[1]
    return np.hypot(ky, kx)


def band_mask(
    frame_shape: tuple[int, int], centre_yx: tuple[float, float], band_px: tuple[float, float] | None
) -> NDArray[np.bool_]:
    """Pixels with ``inner <= r <= outer`` around the centre (all pixels when ``band_px`` is None)."""
    if band_px is None:
        return np.ones(frame_shape, dtype=bool)
    r = radius_map(frame_shape, centre_yx)
    return (r >= band_px[0]) & (r <= band_px[1])


def symmetrisation_centre(centre_yx: tuple[float, float]) -> tuple[float, float]:
    """The half-pixel grid point nearest the centre: reflections about it are exact on the pixel grid."""
    return (round(2 * centre_yx[0]) / 2, round(2 * centre_yx[1]) / 2)


def reflect_about(image: NDArray[np.generic], centre_yx: tuple[float, float]) -> NDArray[np.generic]:
    """Point-reflect ``image`` through the half-pixel point nearest ``centre_yx``.

    ``out[y, x] = image[2 c_y - y, 2 c_x - x]``; pixels whose mirror falls
    outside the detector are zero.
    """
    c2y, c2x = round(2 * centre_yx[0]), round(2 * centre_yx[1])
    ny, nx = image.shape
    src_y = c2y - np.arange(ny)
    src_x = c2x - np.arange(nx)
    ok_y = (src_y >= 0) & (src_y < ny)
    ok_x = (src_x >= 0) & (src_x < nx)
    out = np.zeros_like(image)
    out[np.ix_(ok_y, ok_x)] = image[np.ix_(src_y[ok_y], src_x[ok_x])]
    return out
