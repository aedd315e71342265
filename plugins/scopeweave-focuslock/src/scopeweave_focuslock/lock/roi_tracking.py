"""XY ROI tracking: move the ROI (never an XY stage) to follow the spot."""

from __future__ import annotations

import math
from typing import Any

import attrs

from scopeweave.kinds import Roi

__all__ = ["RoiTracker", "TrackingSettings"]


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"'{attribute.name}' must be a finite number >= 0 (got {value!r}).")


def _fraction(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"'{attribute.name}' must be in (0, 1] (got {value!r}).")


@attrs.frozen(kw_only=True)
class TrackingSettings:
    """XY ROI tracking.

    Attributes
    ----------
    track_gain
        Fraction of the spot's offset from the ROI centre corrected per frame (0.3–0.5 is a good start).
    track_deadband_px
        Offsets smaller than this do not move the ROI.
    track_max_step_px
        Largest ROI move per frame.
    """

    track_gain: float = attrs.field(default=0.4, validator=_fraction)
    track_deadband_px: float = attrs.field(default=1.0, validator=_non_negative)
    track_max_step_px: float = attrs.field(default=5.0, validator=_non_negative)


class RoiTracker:
    """Keeps the spot near the ROI centre by moving the ROI inside the sensor."""

    def __init__(self, settings: TrackingSettings, *, sensor_shape_px: tuple[int, int]) -> None:
        self.settings = settings
        self.sensor_shape_px = sensor_shape_px
        self._residual_x = 0.0
        self._residual_y = 0.0

    def update(self, roi: Roi, *, spot_x_px: float, spot_y_px: float) -> Roi:
        """New ROI for a spot found at ``(spot_x_px, spot_y_px)`` inside ``roi`` (ROI coordinates).

        Non-finite spot positions leave the ROI where it is. Sub-pixel moves
        accumulate until they add up to a whole pixel.
        """
        if not (math.isfinite(spot_x_px) and math.isfinite(spot_y_px)):
            return roi
        dx = spot_x_px - (roi.width_px - 1) / 2
        dy = spot_y_px - (roi.height_px - 1) / 2
        move_x = self._move(dx, "x")
        move_y = self._move(dy, "y")
        height, width = self.sensor_shape_px
        new_x = min(max(roi.x_px + move_x, 0), width - roi.width_px)
        new_y = min(max(roi.y_px + move_y, 0), height - roi.height_px)
        if (new_x, new_y) == (roi.x_px, roi.y_px):
            return roi
        return Roi(x_px=new_x, y_px=new_y, width_px=roi.width_px, height_px=roi.height_px)

    def _move(self, offset_px: float, axis: str) -> int:
        s = self.settings
        if abs(offset_px) <= s.track_deadband_px:
            setattr(self, f"_residual_{axis}", 0.0)
            return 0
        step = max(-s.track_max_step_px, min(s.track_max_step_px, s.track_gain * offset_px))
        total = getattr(self, f"_residual_{axis}") + step
        whole = math.trunc(total)
        setattr(self, f"_residual_{axis}", total - whole)
        return whole
