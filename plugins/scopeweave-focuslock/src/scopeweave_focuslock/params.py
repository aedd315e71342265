"""Parameter classes of the focuslock components (light: attrs only, safe to import at registration)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = ["CalibrateParams", "DetectionOptions", "GateThresholds", "PolynomialParams", "ZhuangParams"]

CHI2_1DOF_999 = 10.83


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"'{attribute.name}' must be a finite number > 0 (got {value!r}).")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"'{attribute.name}' must be a finite number >= 0 (got {value!r}).")


def _fraction(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"'{attribute.name}' must be within 0-1 (got {value!r}).")


def _open_fraction(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"'{attribute.name}' must be within [0, 1) (got {value!r}).")


def _percent(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"'{attribute.name}' must be within 0-100 (got {value!r}).")


def _at_least(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum} (got {value!r}).")

    return check


def _optional_positive(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None:
        _positive(instance, attribute, value)


def _check_order(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value not in (0, 2):
        raise ValueError(f"'{attribute.name}' must be 0 (w0, c, d) or 2 (plus A, B) (got {value!r}).")


def _stem(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value or "/" in value or "\\" in value or value.startswith("."):
        raise ValueError(f"'{attribute.name}' must be a plain file name stem (got {value!r}).")


@attrs.frozen(kw_only=True)
class DetectionOptions:
    """How a spot is measured and when a measurement counts as a parametric fit.

    Attributes
    ----------
    background_percentile
        Percentile of the ROI taken as background by the moment estimate (0-100).
    min_roi_intensity_fraction
        Minimum share of the ROI's photons above the background (the median
        of the ROI's border pixels); below it the sample is ``low_signal``
        and falls back to moments.
    min_snr
        Minimum spot photons over the Poisson noise of the whole ROI
        (``sqrt`` of its photons); below it the sample is ``low_signal``.
    max_clipped_fraction
        A spot whose fitted model puts more than this fraction of its photons
        outside the ROI is flagged ``edge`` (it touches the ROI border).
    max_fit_quality
        Largest deviance per degree of freedom of a parametric fit (about 1 for
        a clean spot); worse fits fall back (``poor_fit``).
    min_sigma_px, max_sigma_px
        Plausible PSF widths; fits outside fall back (``width_out_of_range``).
    use_gaussian_fit
        ``false`` measures with moments only (every sample a fallback).
    fast_mode
        Fit with theta fixed (at the given theta) and the short iteration cap,
        instead of theta free.
    """

    background_percentile: float = attrs.field(default=20.0, validator=_percent)
    min_roi_intensity_fraction: float = attrs.field(default=0.02, validator=_fraction)
    min_snr: float = attrs.field(default=5.0, validator=_non_negative)
    max_clipped_fraction: float = attrs.field(default=0.02, validator=_fraction)
    max_fit_quality: float = attrs.field(default=3.0, validator=_positive)
    min_sigma_px: float = attrs.field(default=0.5, validator=_positive)
    max_sigma_px: float = attrs.field(default=10.0, validator=_positive)
    use_gaussian_fit: bool = True
    fast_mode: bool = False

    def __attrs_post_init__(self) -> None:
        if self.min_sigma_px >= self.max_sigma_px:
            raise ValueError(
                f"'min_sigma_px' ({self.min_sigma_px}) must be below 'max_sigma_px' ({self.max_sigma_px})."
            )


@attrs.frozen(kw_only=True)
class GateThresholds:
    """Thresholds of the calibration quality gates.

    Attributes
    ----------
    min_parametric_samples
        ``parametric_samples``: fewest parametric fits the model may be fitted on.
    max_residual_rms_nm
        ``residual_rms``: largest RMS of (z from the sample's widths - stage z)
        over the model's samples inside the usable range.
    min_half_range_um
        ``usable_range``: the usable range must reach at least this far on
        both sides of focus.
    min_sign_agreement
        ``sign_consistency``: least fraction of consecutive per-step
        ellipticity changes inside the usable range that follow the model's
        slope (also: the slope matches the expected one, and the two widths
        change in opposite directions at focus).
    max_edge_fraction
        ``roi_clipping``: largest fraction of the samples inside the usable
        range whose spot touches the ROI border.
    """

    min_parametric_samples: int = attrs.field(default=10, validator=_at_least(2))
    max_residual_rms_nm: float = attrs.field(default=40.0, validator=_positive)
    min_half_range_um: float = attrs.field(default=0.15, validator=_positive)
    min_sign_agreement: float = attrs.field(default=0.8, validator=_fraction)
    max_edge_fraction: float = attrs.field(default=0.1, validator=_fraction)


@attrs.frozen(kw_only=True)
class ZhuangParams:
    """Parameters of the ``zhuang`` focus model.

    Attributes
    ----------
    order
        0 fits w0, c, d per axis; 2 adds the A (X^3) and B (X^4) terms.
    outlier_sd
        Samples further than this many standard deviations from the order-0
        curve are dropped before the final fit (storm-analysis ``outliers``).
    outlier_rounds
        How many times the outlier removal is repeated.
    min_relative_slope
        The usable range ends where |d ellipticity / dz| falls below this
        fraction of its value at focus (the z sensitivity vanishes at the
        turning points).
    max_chi2
        With a measurement covariance, widths whose chi-square distance to the
        model exceeds this are out of domain (10.83: 0.1 % for one degree of freedom).
    z_step_nm
        Step of the z grid searched by the inversion (refined by a parabola).
    """

    order: int = attrs.field(default=2, validator=_check_order)
    outlier_sd: float = attrs.field(default=2.0, validator=_positive)
    outlier_rounds: int = attrs.field(default=2, validator=_at_least(0))
    min_relative_slope: float = attrs.field(default=0.2, validator=_open_fraction)
    max_chi2: float = attrs.field(default=CHI2_1DOF_999, validator=_positive)
    z_step_nm: float = attrs.field(default=1.0, validator=_positive)


@attrs.frozen(kw_only=True)
class PolynomialParams:
    """Parameters of the ``linear`` and ``poly2`` focus models.

    Attributes
    ----------
    max_model_error_um
        The usable range shrinks until the polynomial reproduces every
        per-step mean ellipticity within this distance in z.
    """

    max_model_error_um: float = attrs.field(default=0.02, validator=_positive)


@attrs.frozen(kw_only=True)
class CalibrateParams:
    """Parameters of ``focus-calibrate``.

    Attributes
    ----------
    half_range_um
        The sweep spans the current Z +- this.
    n_steps
        Z positions in the sweep.
    frames_per_step
        Frames taken at each position (each is one sample).
    settle_ms
        Wait after each move before the first frame.
    roi_size_px
        Side of the square ROI around the spot.
    roi_center_px
        ``[x, y]`` of the ROI centre on the frame; omitted: the brightest spot
        of a frame taken at the start.
    expected_slope
        ``auto``, ``positive`` or ``negative``: the sign d ellipticity / dz must have.
    detection
        Detection and fit options (table, see :class:`DetectionOptions`);
        ``fast_mode = true`` skips the free-theta pass and fixes theta at 0.
    gates
        Quality-gate thresholds (table, see :class:`GateThresholds`).
    exclude_edge_samples
        Leave spots that touch the ROI border out of the model fit.
    theta_snap_rad
        A global theta within this of 0 is taken as exactly 0.
    camera_offset_adu, camera_gain_adu_per_e
        Counts to photons: ``(counts - offset) / gain``; omitted, the camera's
        own ``counts_to_photons`` is used (an error if it has none).
    read_noise_e
        Read noise (electrons RMS), modelled in the fits.
    filename_stem
        Stem of the files written (``<stem>.csv``, ``.meta.json``, ``.png``,
        ``_frames.tif``).
    save_frames
        Also write the ROI of every frame to ``<stem>_frames.tif``.
    save_to
        A directory that also receives the CSV, meta and PNG (for reuse by a
        focus lock); omitted: the run directory only.
    fail_on_gates
        End the run with an error when a gate fails (the files are written first).
    """

    half_range_um: float = attrs.field(default=0.8, validator=_positive)
    n_steps: int = attrs.field(default=41, validator=_at_least(5))
    frames_per_step: int = attrs.field(default=1, validator=_at_least(1))
    settle_ms: float = attrs.field(default=50.0, validator=_non_negative)
    roi_size_px: int = attrs.field(default=21, validator=_at_least(7))
    roi_center_px: tuple[float, float] | None = None
    expected_slope: Literal["auto", "positive", "negative"] = "auto"
    detection: DetectionOptions = DetectionOptions()
    gates: GateThresholds = GateThresholds()
    exclude_edge_samples: bool = True
    theta_snap_rad: float = attrs.field(default=0.0175, validator=_non_negative)
    camera_offset_adu: float | None = None
    camera_gain_adu_per_e: float | None = attrs.field(default=None, validator=_optional_positive)
    read_noise_e: float = attrs.field(default=0.0, validator=_non_negative)
    filename_stem: str = attrs.field(default="calibration_sweep", validator=_stem)
    save_frames: bool = True
    save_to: Path | None = None
    fail_on_gates: bool = True
