"""Synthetic tile scans: a large textured specimen, scanned by an XY stage, tiles cut at the true positions.

The stage's ``position_um()`` is what the metadata records; tiles are cut
where ``true_position_um()`` says the stage really was (scopeweave-sim's
``sim-xy`` provides both).  The stage position names the tile's top-left
pixel; right = +X, down = +Y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from scopeweave.errors import ScopeweaveError

__all__ = ["Scan", "SimulatedScanError", "cut_tile", "grid_targets_um", "make_specimen", "scan_stage"]


class SimulatedScanError(ScopeweaveError):
    """A simulated scan cannot be made (no true position, tiles off the specimen)."""


def make_specimen(shape_yx: tuple[int, int], *, seed: int = 0) -> NDArray[np.float32]:
    """A textured specimen: fine and coarse smoothed noise plus blobs on an offset (counts ~1000)."""
    rng = np.random.default_rng(seed)
    fine = ndimage.gaussian_filter(rng.normal(size=shape_yx), 1.5)
    coarse = ndimage.gaussian_filter(rng.normal(size=shape_yx), 12.0)
    texture = fine / (fine.std() + 1e-12) + 0.5 * coarse / (coarse.std() + 1e-12)
    blobs = np.zeros(shape_yx)
    n_blobs = max(1, int(shape_yx[0] * shape_yx[1] / 3000))
    blobs[rng.integers(0, shape_yx[0], n_blobs), rng.integers(0, shape_yx[1], n_blobs)] = rng.uniform(1, 4, n_blobs)
    blobs = ndimage.gaussian_filter(blobs, 3.0)
    blobs /= blobs.max() + 1e-12
    return np.clip(1000.0 + 250.0 * texture + 600.0 * blobs, 1.0, None).astype(np.float32)


def cut_tile(specimen: NDArray[np.floating], top_left_xy_px: tuple[float, float],
             shape_yx: tuple[int, int]) -> NDArray[np.float32]:
    """The tile whose top-left pixel sits at ``top_left_xy_px`` (rounded to whole pixels)."""
    x, y = (round(v) for v in top_left_xy_px)
    h, w = shape_yx
    if x < 0 or y < 0 or y + h > specimen.shape[0] or x + w > specimen.shape[1]:
        raise SimulatedScanError(
            f"a tile at ({x}, {y}) px falls off the {specimen.shape[1]}x{specimen.shape[0]} px specimen "
            "(stage errors larger than the specimen margin)"
        )
    return np.asarray(specimen[y : y + h, x : x + w], dtype=np.float32)


def grid_targets_um(
    *, cols: int, rows: int, step_um: tuple[float, float], origin_um: tuple[float, float], pattern: str
) -> list[tuple[float, float]]:
    """Commanded tile positions in acquisition order.

    ``raster``: every row left to right (a diagonal flyback between rows);
    ``serpentine``: alternate rows right to left (a pure down move between rows).
    """
    if pattern not in ("raster", "serpentine"):
        raise ValueError(f"pattern must be 'raster' or 'serpentine' (got {pattern!r})")
    targets = []
    for row in range(rows):
        order = range(cols) if pattern == "raster" or row % 2 == 0 else range(cols - 1, -1, -1)
        for col in order:
            targets.append((origin_um[0] + col * step_um[0], origin_um[1] + row * step_um[1]))
    return targets


@attrs.frozen(kw_only=True)
class Scan:
    """One scan: where the metadata says each tile is, and where it really was (um)."""

    metadata_um: tuple[tuple[float, float], ...]
    truth_um: tuple[tuple[float, float], ...]


def scan_stage(stage: Any, targets_um: Sequence[tuple[float, float]], *, park_um: tuple[float, float]) -> Scan:
    """Move to ``park_um``, then to every target; record the commanded and the true position of each."""
    if not callable(getattr(stage, "true_position_um", None)):
        raise SimulatedScanError(
            f"{type(stage).__name__} reports no true position: a simulated scan needs a stage with "
            "true_position_um() (e.g. sim-xy)"
        )
    stage.move_to_um(park_um)
    metadata, truth = [], []
    for target in targets_um:
        stage.move_to_um(target)
        metadata.append(tuple(float(v) for v in stage.position_um()))
        truth.append(tuple(float(v) for v in stage.true_position_um()))
        if not all(math.isfinite(v) for v in truth[-1]):
            raise SimulatedScanError(f"the stage reported a non-finite true position {truth[-1]}")
    return Scan(metadata_um=tuple(metadata), truth_um=tuple(truth))  # type: ignore[arg-type]
