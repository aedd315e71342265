"""Preprocessing of patterns before templates and matched filtering.

``P_i(k) = f(I_i(k)) - b_i`` with ``f`` the optional ``log(1 + max(I, 0))``
and ``b_i`` the pattern's mean over the pixels outside the central mask
(when background subtraction is on).  Pixels inside the central mask are
kept in ``P`` but carry zero template weight.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_4dstem.geometry import radius_map

__all__ = ["Preprocessor", "central_keep_mask"]


def central_keep_mask(
    frame_shape: tuple[int, int], centre_yx: tuple[float, float], central_mask_px: float
) -> NDArray[np.bool_]:
    """Pixels outside the central-beam mask (all pixels when the radius is 0)."""
    if central_mask_px <= 0:
        return np.ones(frame_shape, dtype=bool)
    return radius_map(frame_shape, centre_yx) > central_mask_px


@attrs.frozen(kw_only=True, eq=False)
class Preprocessor:
    """Applies the preprocessing to blocks of flattened patterns.

    Attributes
    ----------
    log_transform
        Apply ``log(1 + max(I, 0))``.
    background_subtract
        Subtract each pattern's mean over ``keep``.
    keep
        Flat boolean mask of the pixels outside the central mask.
    """

    log_transform: bool
    background_subtract: bool
    keep: NDArray[np.bool_]

    def transform(self, frames: Any, xp: ModuleType = np) -> Any:
        """``f(I)`` of ``(n, K)`` patterns as float32 (no background subtraction)."""
        values = xp.asarray(frames).astype(xp.float32, copy=False)
        if self.log_transform:
            values = xp.log1p(xp.maximum(values, 0))
        return values

    def apply(self, frames: Any, xp: ModuleType = np) -> Any:
        """``P = f(I) - b`` of ``(n, K)`` patterns as a new float32 array (for the statistics pass)."""
        values = self.transform(frames, xp)
        if values is frames or not values.flags.owndata:
            values = values.copy()
        if self.background_subtract:
            weights = xp.asarray(self.keep.astype(np.float32) / max(int(self.keep.sum()), 1))
            values -= (values @ weights)[:, None]
        return values
