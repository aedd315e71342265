"""From one camera frame to one focus :class:`Reading`: crop, convert, fit, invert, judge.

A reading is valid only when every check passes; otherwise it says why, in the
words of the seed's troubleshooting list, and the lock holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.kinds import Roi
from scopeweave_focuslock.calibration import Calibration
from scopeweave_focuslock.lock.controller import Reading
from scopeweave_focuslock.params import DetectionOptions
from scopeweave_focuslock.spotfit import SpotFit, fit_spot

__all__ = ["FocusReader", "Measurement"]

OUTSIDE_DOMAIN = "error outside calibration domain"


@attrs.frozen(kw_only=True, eq=False)
class Measurement:
    """A reading with what it was made from (for logs, plots and the GUI).

    Attributes
    ----------
    reading
        What the controller sees.
    spot
        The fitted spot (ROI coordinates), or ``None`` for frames not fitted.
    roi
        The ROI the frame was cropped to (sensor pixels).
    """

    reading: Reading
    spot: SpotFit | None
    roi: Roi


class FocusReader:
    """Measures the focus from frames with a fixed calibration.

    Parameters
    ----------
    calibration
        An armable calibration.
    detection
        Detection and fit options; ``fast_mode`` and ``use_gaussian_fit`` as in calibration.
    counts_to_photons
        Converts raw counts to photo-electrons.
    full_scale
        Counts at which a pixel is saturated.
    readout_variance
        Read-noise variance (photons^2) modelled in the fit.
    """

    def __init__(
        self,
        calibration: Calibration,
        *,
        detection: DetectionOptions,
        counts_to_photons: Callable[[NDArray[Any]], NDArray[np.float64]],
        full_scale: int,
        readout_variance: float = 0.0,
    ) -> None:
        self.calibration = calibration
        self.detection = detection
        self.counts_to_photons = counts_to_photons
        self.full_scale = full_scale
        self.readout_variance = readout_variance

    def measure(self, frame: NDArray[Any], roi: Roi) -> Measurement:
        """Measure the ROI of ``frame`` (``frame`` is the ROI when its shape matches)."""
        data = np.asarray(frame)
        if data.shape != roi.shape_px:
            data = data[roi.y_px:roi.y_px + roi.height_px, roi.x_px:roi.x_px + roi.width_px]
        if data.size == 0 or not np.all(np.isfinite(data)):
            return self._invalid("frame has no finite pixels", roi)
        peak = float(data.max())
        if peak <= 0:
            return self._invalid("blank frame", roi)
        saturated = peak >= self.full_scale
        photons = self.counts_to_photons(data)
        spot = fit_spot(photons, theta_rad=self.calibration.theta_rad, options=self.detection,
                        readout_variance=self.readout_variance, saturated=bool(saturated))
        if saturated:
            return self._invalid("saturated pixels in the ROI", roi, spot)
        if not spot.is_parametric:
            reason = {"low_signal": "low signal"}.get(spot.reason, spot.reason.replace("_", " ") or "fit failed")
            return self._invalid(reason, roi, spot)
        if spot.edge:
            return self._invalid("spot at the ROI edge", roi, spot)
        estimate = self.calibration.z_from_fit(spot)
        z_um = float(estimate.z_um)
        z_err_um = float(estimate.z_err_um)
        quality = 1.0 / max(1.0, spot.fit_quality) if math.isfinite(spot.fit_quality) else 0.0
        if not bool(estimate.in_domain):
            return Measurement(reading=Reading(z_um=z_um, z_uncertainty_um=z_err_um, quality=quality, valid=False,
                                               reason=OUTSIDE_DOMAIN), spot=spot, roi=roi)
        return Measurement(reading=Reading(z_um=z_um, z_uncertainty_um=z_err_um, quality=quality), spot=spot, roi=roi)

    @staticmethod
    def _invalid(reason: str, roi: Roi, spot: SpotFit | None = None) -> Measurement:
        return Measurement(reading=Reading(z_um=math.nan, valid=False, reason=reason, quality=0.0), spot=spot, roi=roi)
