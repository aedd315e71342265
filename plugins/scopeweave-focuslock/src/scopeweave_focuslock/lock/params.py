"""Parameters of the ``focus-lock`` workflow (light: attrs only)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs

from scopeweave_focuslock.lock.controller import LockSettings
from scopeweave_focuslock.lock.roi_tracking import TrackingSettings
from scopeweave_focuslock.params import CalibrateParams, DetectionOptions

__all__ = ["FocusLockParams"]


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"'{attribute.name}' must be a finite number > 0 (got {value!r}).")


def _optional_positive(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None:
        _positive(instance, attribute, value)


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"'{attribute.name}' must be a finite number >= 0 (got {value!r}).")


def _optional_roi_size(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 7:
        raise ValueError(f"'{attribute.name}' must be >= 7 px (got {value!r}).")


@attrs.frozen(kw_only=True)
class FocusLockParams(LockSettings):
    """Parameters of ``focus-lock`` (the control fields are those of :class:`LockSettings`).

    Attributes
    ----------
    duration_s
        How long the lock runs.
    loop_hz
        Control-loop rate.
    pace_to_loop_hz
        Sleep between iterations to hold ``loop_hz`` (off: run as fast as the camera delivers).
    calibration_csv
        A saved calibration (``calibration_sweep.csv``; its ``.meta.json`` beside it).
    calibrate_first
        Run a ``focus-calibrate`` sweep (``calibration``) before locking; its files go beside the lock's.
    calibration
        The sweep when ``calibrate_first`` (table, as ``focus-calibrate``'s params).
    allow_missing_calibration
        Run without a calibration: frames are measured and logged, but the lock never arms.
    roi_size_px
        Side of the lock ROI (default: the calibration's ROI size).
    roi_center_px
        ``[x, y]`` of the ROI centre on the sensor (default: the brightest spot of the first frame).
    detection
        Detection and fit options (table, as in ``focus-calibrate``).
    camera_offset_adu, camera_gain_adu_per_e
        Counts to photons, ``(counts - offset) / gain``; omitted: the camera's own ``counts_to_photons``.
    read_noise_e
        Read noise (electrons RMS), modelled in the fits.
    track_roi
        Move the ROI (never an XY stage) to follow the spot.
    track_gain, track_deadband_px, track_max_step_px
        XY ROI tracking (see :class:`~scopeweave_focuslock.lock.roi_tracking.TrackingSettings`).
    show_live
        Open the live GUI (extra ``scopeweave-focuslock[gui]``) instead of the timed headless run;
        the session ends when its window closes (``duration_s`` is ignored).
    """

    duration_s: float = attrs.field(default=10.0, validator=_positive)
    loop_hz: float = attrs.field(default=30.0, validator=_positive)
    pace_to_loop_hz: bool = True
    calibration_csv: Path | None = None
    calibrate_first: bool = False
    calibration: CalibrateParams = CalibrateParams()
    allow_missing_calibration: bool = False
    roi_size_px: int | None = attrs.field(default=None, validator=_optional_roi_size)
    roi_center_px: tuple[float, float] | None = None
    detection: DetectionOptions = DetectionOptions()
    camera_offset_adu: float | None = None
    camera_gain_adu_per_e: float | None = attrs.field(default=None, validator=_optional_positive)
    read_noise_e: float = attrs.field(default=0.0, validator=_non_negative)
    track_roi: bool = False
    track_gain: float = 0.4
    track_deadband_px: float = 1.0
    track_max_step_px: float = 5.0
    show_live: bool = False

    def __attrs_post_init__(self) -> None:
        if self.calibrate_first and self.calibration_csv is not None:
            raise ValueError("give either 'calibration_csv' or 'calibrate_first = true', not both.")
        self.tracking()  # validates the tracking fields

    def tracking(self) -> TrackingSettings:
        """The XY ROI tracking settings."""
        return TrackingSettings(track_gain=self.track_gain, track_deadband_px=self.track_deadband_px,
                                track_max_step_px=self.track_max_step_px)

    def lock_settings(self) -> LockSettings:
        """The control settings alone."""
        names = [field.name for field in attrs.fields(LockSettings)]
        return LockSettings(**{name: getattr(self, name) for name in names})
