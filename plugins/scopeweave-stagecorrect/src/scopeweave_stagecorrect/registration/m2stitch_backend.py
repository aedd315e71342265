"""Registration by m2stitch (a Python port of NIST MIST), started from the priors.

m2stitch needs grid indices (taken from the priors' layout) and restricts its
correlation-peak search to ``overlap_diff_threshold`` percent of the tile
around ``position_initial_guess``.  Its NCC divides by un-centred norms, so
tiles are mean-subtracted first (otherwise DC offsets make every pair "bad").
Install it with ``pip install scopeweave-stagecorrect[m2stitch]`` (it pins old
numpy/pandas: use a separate environment).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from scopeweave.errors import ScopeweaveError
from scopeweave_stagecorrect.pure.movement import grid_indices
from scopeweave_stagecorrect.registration.register import Registration, TileSource

__all__ = ["register_with_m2stitch"]


def register_with_m2stitch(
    source: TileSource,
    priors_px: Sequence[tuple[float, float]],
    *,
    search_radius_px: float,
    ncc_threshold: float = 0.1,
) -> Registration:
    """Register with ``m2stitch.stitch_images``; positions come back in the frame of the priors.

    The per-tile confidence is the best refined NCC of the links the tile takes
    part in (clipped to [0, 1]).
    """
    try:
        import m2stitch
    except ImportError as exc:
        raise ScopeweaveError(
            "method 'm2stitch' needs the m2stitch package (pip install m2stitch, in its own environment: "
            f"it pins old numpy): {exc}"
        ) from exc
    n = len(source)
    t0 = time.perf_counter()
    images = np.stack([np.asarray(source.image(i), dtype=np.float32) for i in range(n)])
    images -= images.mean(axis=(1, 2), keepdims=True)
    cells = grid_indices(priors_px)
    cols = [c for c, _ in cells]
    rows = [r for _, r in cells]
    if len(set(cells)) != n:
        raise ScopeweaveError("m2stitch needs one tile per grid cell; the priors put two tiles in one cell")
    size = min(images.shape[1:])
    guess = np.array([[y, x] for x, y in priors_px], dtype=float)
    grid, _ = m2stitch.stitch_images(
        images, rows=rows, cols=cols, row_col_transpose=False,
        position_initial_guess=guess, overlap_diff_threshold=max(1.0, 100.0 * search_radius_px / size),
        ncc_threshold=ncc_threshold, full_output=True,
    )
    found = np.column_stack([grid["x_pos"].to_numpy(float), grid["y_pos"].to_numpy(float)])
    priors = np.asarray(priors_px, dtype=float)
    found += (priors - found).mean(axis=0)
    def ncc(index: int, direction: str) -> float:
        value = grid.iloc[index].get(f"{direction}_ncc")
        return float(value) if value is not None and math.isfinite(float(value)) else 0.0

    at = {cell: i for i, cell in enumerate(cells)}
    confidence = []
    for i, (col, row) in enumerate(cells):
        values = [ncc(i, "left"), ncc(i, "top")]  # the links to its left and upper neighbours ...
        if (col + 1, row) in at:  # ... and those from its right and lower neighbours
            values.append(ncc(at[(col + 1, row)], "left"))
        if (col, row + 1) in at:
            values.append(ncc(at[(col, row + 1)], "top"))
        confidence.append(min(1.0, max(0.0, *values)))
    return Registration(
        positions_px=tuple((float(x), float(y)) for x, y in found),
        confidence=tuple(confidence), pairs=(), search_radius_px=float(search_radius_px),
        time_s=time.perf_counter() - t0,
    )
