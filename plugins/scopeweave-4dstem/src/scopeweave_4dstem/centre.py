"""Beam-centre and bright-field disk detection, and sub-pixel refinement of picked points."""

from __future__ import annotations

from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from scopeweave_4dstem.geometry import radius_map

__all__ = ["BeamCentre", "detect_beam_centre", "refine_peak"]

CentreSource = Literal["auto", "given", "interactive"]


@attrs.frozen(kw_only=True)
class BeamCentre:
    """Where the unscattered beam hits the detector.

    Attributes
    ----------
    y_px, x_px
        Centre in detector pixels (pixel centres at integers).
    radius_px
        Radius of the bright-field disk (NaN when no disk was found).
    source
        ``"auto"``, ``"given"`` (parameters) or ``"interactive"``.
    """

    y_px: float
    x_px: float
    radius_px: float
    source: CentreSource

    @property
    def yx(self) -> tuple[float, float]:
        """``(y_px, x_px)``."""
        return (self.y_px, self.x_px)


def detect_beam_centre(pattern: NDArray[np.floating[Any]], *, smooth_sigma_px: float = 1.0) -> BeamCentre:
    """Find the bright-field disk of a mean pattern: its centre and radius.

    The pattern is smoothed; pixels above the half-way level between the
    background (median) and the disk plateau (99.5th percentile) form
    regions; the region holding the brightest pixel is the disk.  Its
    radius is ``sqrt(area / pi)`` and its centre the centre of mass of
    ``max(pattern - level, 0)`` over the region, which is unbiased for a
    symmetric disk whatever its edge profile.

    Raises
    ------
    ValueError
        The pattern is flat or not finite.
    """
    image = np.asarray(pattern, dtype=np.float64)
    if not np.all(np.isfinite(image)):
        raise ValueError("the mean pattern has non-finite values; cannot find the beam centre.")
    smooth = ndimage.gaussian_filter(image, smooth_sigma_px, mode="nearest") if smooth_sigma_px > 0 else image
    background = float(np.median(smooth))
    plateau = float(np.percentile(smooth, 99.5))
    if not plateau > background:
        raise ValueError("the mean pattern is flat; cannot find the beam centre (give center_y_px/center_x_px).")
    level = background + 0.5 * (plateau - background)
    regions, _ = ndimage.label(smooth > level)
    brightest = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    disk = regions == regions[brightest]
    weight = np.where(disk, smooth - level, 0.0)
    cy, cx = ndimage.center_of_mass(weight)
    return BeamCentre(y_px=float(cy), x_px=float(cx), radius_px=float(np.sqrt(disk.sum() / np.pi)), source="auto")


def refine_peak(
    pattern: NDArray[np.floating[Any]], y_px: float, x_px: float, radius_px: float, *, iterations: int = 5
) -> tuple[float, float]:
    """Refine a clicked reflection to the centre of mass of the local peak.

    Within a disk of ``radius_px`` around the current estimate, the local
    minimum is subtracted and the centre of mass taken; repeated until it
    moves less than 0.001 px.  ``radius_px = 0`` returns the point unchanged.
    """
    if radius_px <= 0:
        return (float(y_px), float(x_px))
    image = np.asarray(pattern, dtype=np.float64)
    y, x = float(y_px), float(x_px)
    for _ in range(iterations):
        window = radius_map(image.shape, (y, x)) <= radius_px
        if not window.any():
            break
        values = np.where(window, image - image[window].min(), 0.0)
        total = values.sum()
        if total <= 0:
            break
        ny = float((values.sum(axis=1) * np.arange(image.shape[0])).sum() / total)
        nx = float((values.sum(axis=0) * np.arange(image.shape[1])).sum() / total)
        moved = np.hypot(ny - y, nx - x)
        y, x = ny, nx
        if moved < 1e-3:
            break
    return (y, x)
