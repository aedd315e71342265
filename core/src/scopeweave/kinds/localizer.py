"""The Localizer interface: finds and fits single emitters in frames."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["Localizer"]


@runtime_checkable
class Localizer(Protocol):
    """Localizes emitters in a ``(t, y, x)`` movie.

    Returns a table (mapping of column name to 1D array) with at least
    ``frame``, ``x_nm``, ``y_nm``, ``photons``, ``background``, ``sigma_nm``
    and ``uncertainty_nm``.
    """

    def localize(self, movie: NDArray[np.generic], *, pixel_size_nm: float) -> Any:
        """Localize every frame of ``movie``."""
        ...
