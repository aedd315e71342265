"""The Localizer interface: finds and fits single emitters in the frames of a movie."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["LOCALIZATION_COLUMNS", "Localizer"]

#: Columns every localization table has, in this order (``localizations.csv``).
LOCALIZATION_COLUMNS: tuple[str, ...] = (
    "frame",
    "x_nm",
    "y_nm",
    "photons",
    "background",
    "sigma_nm",
    "uncertainty_nm",
)


@runtime_checkable
class Localizer(Protocol):
    """Localizes emitters in a ``(t, y, x)`` movie of camera counts.

    ``localize`` returns a table as a mapping of column name to equally long
    1D arrays with at least :data:`LOCALIZATION_COLUMNS`:

    - ``frame``: 0-based frame index (integer);
    - ``x_nm``, ``y_nm``: position measured from the top-left corner of the
      image, so the centre of pixel (0, 0) is at half a pixel
      (ThunderSTORM's convention: ``x_nm = (column + 0.5) * pixel_size_nm``);
    - ``photons``: photons in the spot; ``background``: photons per pixel;
    - ``sigma_nm``: fitted PSF width; ``uncertainty_nm``: lateral
      localization uncertainty (one standard deviation per axis).

    A movie with no emitters gives empty columns, never an error.  Camera
    settings (offset, gain) are the localizer's own parameters.
    """

    def localize(self, movie: NDArray[np.generic], *, pixel_size_nm: float) -> Mapping[str, NDArray[np.generic]]:
        """Localize every frame of ``movie``."""
        ...
