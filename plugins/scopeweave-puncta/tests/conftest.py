"""Shared fixtures: small synthetic movies with known ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_psf import render_gaussian
from scopeweave_puncta.camera_model import CameraModel


def isolated_spot_movie(*, photons: float, background: float, sigma_px: float, n_frames: int, spacing_px: int,
                        grid: int, seed: int, camera: CameraModel | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A movie of well-separated spots on a grid with random sub-pixel offsets.

    Returns counts ``(t, y, x)`` and the true ``frame``, ``x_px``, ``y_px`` (pixel-centre coordinates).
    """
    rng = np.random.default_rng(seed)
    size = spacing_px * grid
    camera = camera or CameraModel(read_noise_e=0.0)
    frames, xs, ys = [], [], []
    movie = np.empty((n_frames, size, size), dtype=np.uint16)
    for t in range(n_frames):
        expected = np.full((size, size), background)
        for i in range(grid):
            for j in range(grid):
                x = j * spacing_px + spacing_px / 2 + rng.uniform(-0.5, 0.5)
                y = i * spacing_px + spacing_px / 2 + rng.uniform(-0.5, 0.5)
                expected += render_gaussian((size, size), x_px=x, y_px=y, sigma_x_px=sigma_px, sigma_y_px=sigma_px,
                                            photons=photons)
                frames.append(t)
                xs.append(x)
                ys.append(y)
        movie[t] = camera.expose(expected, rng)
    return movie, np.asarray(frames), np.asarray(xs), np.asarray(ys)


@pytest.fixture
def isolated_spots():
    return isolated_spot_movie


@pytest.fixture
def puncta_registry(monkeypatch: pytest.MonkeyPatch):
    """A strict registry with the built-ins and this plugin only (other plugins may be mid-install)."""
    from scopeweave_puncta import plugin

    from scopeweave.registry import STRICT_ENV, Registry
    from scopeweave.testing import isolated_registry

    monkeypatch.setenv(STRICT_ENV, "1")
    registry = Registry(strict=True, blocked=())
    registry.register_builtins()
    registry.register(plugin, name="puncta", distribution="scopeweave-puncta")
    with isolated_registry(registry):
        yield registry
