"""The known scene every fake pylablib camera images, and the frames a camera must return of it."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["OFFSET_ADU", "expected_frame", "scene"]

OFFSET_ADU = 100.0


def scene(height: int, width: int, exposure_s: float) -> NDArray[np.float64]:
    """Counts of the full, unbinned sensor: ``offset + pattern(y, x) * exposure_ms / 10``."""
    y, x = np.mgrid[0:height, 0:width]
    return OFFSET_ADU + ((7 * x + 13 * y) % 1000) * (exposure_s * 1000.0 / 10.0)


def expected_frame(height: int, width: int, exposure_s: float, roi: tuple[int, int, int, int], binning: int
                   ) -> NDArray[np.uint16]:
    """What a camera must return for ``roi = (x, y, width, height)`` (test-side ground truth).

    The scene of a ``height`` x ``width`` sensor, cropped to the ROI and
    summed over ``binning`` x ``binning`` blocks.
    """
    x, y, w, h = roi
    crop = scene(height, width, exposure_s)[y:y + h, x:x + w]
    binned = crop.reshape(h // binning, binning, w // binning, binning).sum(axis=(1, 3))
    return np.clip(np.rint(binned), 0, 65535).astype(np.uint16)
