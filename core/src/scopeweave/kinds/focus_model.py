"""The FocusModel interface: maps PSF widths to an axial position."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["FocusModel"]


@runtime_checkable
class FocusModel(Protocol):
    """Fits a calibration sweep and inverts widths to z.

    ``fit`` takes the sweep's stage positions and the fitted PSF widths (in
    pixels) and returns a fitted model object that ``z_from_widths`` uses.
    """

    def fit(
        self,
        z_um: NDArray[np.floating[Any]],
        sigma_x_px: NDArray[np.floating[Any]],
        sigma_y_px: NDArray[np.floating[Any]],
    ) -> Any:
        """Fit the model to calibration samples and return the fitted model."""
        ...
