"""The DiffractionMapper interface: 4D-STEM data to real-space maps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["DiffractionMapper"]


@runtime_checkable
class DiffractionMapper(Protocol):
    """Maps a ``(scan_y, scan_x, k_y, k_x)`` dataset to named real-space maps.

    ``data`` is any 4D array-like: a NumPy array or an ``h5py.Dataset``
    (implementations stream large datasets block by block instead of loading
    them); a mapper never modifies it and gives the same maps for both.
    Patterns with no usable signal give NaN in the maps, not an error.
    """

    def map(self, data: Any) -> Mapping[str, NDArray[np.generic]]:
        """Return maps of shape ``(scan_y, scan_x)`` keyed by name."""
        ...
