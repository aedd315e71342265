"""Synthetic spots with known parameters for the PSF tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scopeweave_psf import render_gaussian


def spots(
    rng: np.random.Generator,
    n: int,
    *,
    shape_px: tuple[int, int] = (15, 15),
    sigma_x_px: float = 1.3,
    sigma_y_px: float = 1.8,
    theta_rad: float = 0.0,
    photons: float = 3000.0,
    background: float = 10.0,
    noise: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(rois, truth)``: spots centred within 0.5 px of the ROI centre."""
    h, w = shape_px
    truth = np.empty((n, 7))
    rois = np.empty((n, h, w))
    for k in range(n):
        x = (w - 1) / 2 + rng.uniform(-0.5, 0.5)
        y = (h - 1) / 2 + rng.uniform(-0.5, 0.5)
        truth[k] = (x, y, sigma_x_px, sigma_y_px, theta_rad, photons, background)
        expected = background + render_gaussian(shape_px, x_px=x, y_px=y, sigma_x_px=sigma_x_px,
                                                 sigma_y_px=sigma_y_px, photons=photons, theta_rad=theta_rad,
                                                 oversample=8)
        rois[k] = rng.poisson(expected) if noise else expected
    return rois, truth


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20260521)


@pytest.fixture
def make_spots() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The :func:`spots` generator (test modules cannot import conftest under importlib mode)."""
    return spots
