"""The FocusModel interface: turns astigmatic PSF widths into an axial position.

A :class:`FocusModel` is fitted to a calibration sweep (stage positions and
the fitted widths of the spot at each) and returns a
:class:`FittedFocusModel`, which inverts measured widths to z inside its
usable range and can be saved (``to_dict``) and restored (``from_dict``).

Conventions: widths are Gaussian sigmas in pixels along the PSF's two axes;
z is in micrometres, in the coordinates of the sweep's ``z_um``; the
ellipticity is ``(sigma_x - sigma_y) / (sigma_x + sigma_y)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ExpectedSlope", "FittedFocusModel", "FocusModel", "ZEstimateLike"]

#: Sign of d(ellipticity)/dz the optics should give; ``auto`` takes it from the data.
ExpectedSlope = Literal["auto", "positive", "negative"]


@runtime_checkable
class ZEstimateLike(Protocol):
    """What :meth:`FittedFocusModel.z_from_widths` returns (arrays broadcast like its inputs).

    ``in_domain`` is False wherever the widths are outside the usable range
    (or too far from the model to be trusted); ``z_um`` is then clamped to the
    range's end and must not be used as a position.
    """

    @property
    def z_um(self) -> NDArray[np.float64]:
        """Estimated z."""
        ...

    @property
    def z_err_um(self) -> NDArray[np.float64]:
        """One-sigma uncertainty of z."""
        ...

    @property
    def in_domain(self) -> NDArray[np.bool_]:
        """Whether z may be used."""
        ...


@runtime_checkable
class FittedFocusModel(Protocol):
    """A calibrated model.

    Attributes
    ----------
    focus_um
        z where the spot is round (sigma_x = sigma_y).
    usable_range_um
        ``(low, high)``: where widths map to z one-to-one; never extrapolated.
    slope_sign
        +1 if the ellipticity grows with z, -1 if it falls.
    """

    @property
    def focus_um(self) -> float:
        """z where sigma_x = sigma_y."""
        ...

    @property
    def usable_range_um(self) -> tuple[float, float]:
        """``(low, high)`` where widths map to z."""
        ...

    @property
    def slope_sign(self) -> int:
        """Sign of d ellipticity / dz."""
        ...

    def z_from_widths(
        self, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, *, width_covariance: ArrayLike | None = None
    ) -> ZEstimateLike:
        """z, its uncertainty and the in-domain flag for measured widths.

        ``width_covariance`` (``(..., 2, 2)``, px^2) is the measurement's
        covariance of (sigma_x, sigma_y); without it the uncertainty comes from
        the calibration's own scatter.
        """
        ...

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters; ``FocusModel.from_dict`` restores the model."""
        ...


@runtime_checkable
class FocusModel(Protocol):
    """Fits calibration sweeps; ``name`` is the registered plugin name."""

    @property
    def name(self) -> str:
        """The registered plugin name."""
        ...

    def fit(
        self,
        z_um: ArrayLike,
        sigma_x_px: ArrayLike,
        sigma_y_px: ArrayLike,
        *,
        expected_slope: ExpectedSlope = "auto",
    ) -> FittedFocusModel:
        """Fit the model to calibration samples (parametric fits only).

        Raises ValueError when the samples cannot define a model (too few,
        no focus crossing); quality judgements are left to the caller.
        """
        ...

    def from_dict(self, data: Mapping[str, Any]) -> FittedFocusModel:
        """Restore a fitted model from :meth:`FittedFocusModel.to_dict`; ValueError naming the bad key."""
        ...
