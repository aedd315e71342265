"""Parameter classes of the workflows (import-light: the plugin module registers them)."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from scopeweave.parallel import scheduler_validator
from scopeweave_focusmetrics.qc.config import DriftRule, FocusRule, MotionRule, QcConfig

__all__ = ["AutofocusParams", "CalibrationParams", "FrameQcParams"]


def _non_negative_int(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


@attrs.frozen(kw_only=True)
class FrameQcParams:
    """Parameters of ``frame-qc``.

    Attributes
    ----------
    input
        A stack file (TIFF, ND2), a folder, or a glob pattern (``images/*/*.jpg``); 2D images are grouped
        into one stack per folder. Relative paths start at the session file's folder.
    metric
        Registered FrameMetric for sharpness when the ``metric`` role is not wired (any plugin's).
    extra_metrics
        More registered metrics to score (default parameters); each adds a column to frame_qc.csv.
    profile
        A QC profile TOML from ``focus-calibration``: its metric and threshold replace ``metric`` and ``focus``.
    focus
        Blur rule (``rule`` peak / mad / otsu / floor / none, ``alpha``, ``k``, ``floor``).
    motion
        Motion rule (``rule`` mad / floor / mean-std / none, ``k``, ``min_drop``, ``floor``, ``attribution``,
        ``scope``, ``curve_fit`` none / gaussian / parabola, ``curve_k``, ``curve_min_residual``).
    drift
        Drift rule (``method`` anchor / template / clique / dbscan / none, ``anchor``, ``top_k``, ``min_corr``,
        ``template_path``, ``min_samples``).
    correlation_bin_px
        Bin frames by this before correlating (0: automatic, longer side <= 512 px).
    max_saturated_fraction
        Frames with more saturated pixels are flagged and dropped (1.0: off).
    saturation_level
        Pixel value counted as saturated (0: the dtype's full scale).
    figures
        Write the PNG figures and the HTML report.
    scheduler
        Dask scheduler for several stacks: ``threads`` (default), ``processes``, ``synchronous``, ``local-cluster`` or a
        ``tcp://host:8786`` address of a running distributed scheduler.
    n_workers
        Local Dask workers (0: one per core).
    """

    input: str
    metric: str = "laplacian-variance"
    extra_metrics: tuple[str, ...] = ()
    profile: str = ""
    focus: FocusRule = FocusRule()
    motion: MotionRule = MotionRule()
    drift: DriftRule = DriftRule()
    correlation_bin_px: int = attrs.field(default=0, validator=_non_negative_int)
    max_saturated_fraction: float = 1.0
    saturation_level: float = 0.0
    figures: bool = True
    scheduler: str = attrs.field(default="threads", validator=scheduler_validator)
    n_workers: int = attrs.field(default=0, validator=_non_negative_int)

    def config(self) -> QcConfig:
        """The QC rules as one value object."""
        return QcConfig(focus=self.focus, motion=self.motion, drift=self.drift,
                        correlation_bin_px=self.correlation_bin_px, max_saturated_fraction=self.max_saturated_fraction)


def _positive_float(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def _at_least(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum} (got {value!r}).")

    return check


def _crop(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"'{attribute.name}' must be in (0, 1] (got {value!r}).")


@attrs.frozen(kw_only=True)
class AutofocusParams:
    """Parameters of ``sharpness-autofocus``.

    Attributes
    ----------
    search_range_um
        Full width of the search, centred on the current Z (OughtaFocus SearchRange).
    coarse_steps
        Positions of the coarse scan (>= 3).
    tolerance_um
        Refinement stops when the bracket is narrower than this (OughtaFocus Tolerance).
    method
        ``brent`` (default, as OughtaFocus) or ``golden`` section search.
    max_evaluations
        Most refinement evaluations.
    frames_per_point
        Frames averaged at each position (noise).
    crop_fraction
        Score the central fraction of the frame only (OughtaFocus CropFactor).
    metric
        Registered FrameMetric used when the ``metric`` role is not wired.
    return_to_start
        Move back to the starting Z instead of the best one at the end.
    """

    search_range_um: float = attrs.field(default=10.0, validator=_positive_float)
    coarse_steps: int = attrs.field(default=11, validator=_at_least(3))
    tolerance_um: float = attrs.field(default=0.05, validator=_positive_float)
    method: Literal["brent", "golden"] = "brent"
    max_evaluations: int = attrs.field(default=30, validator=_at_least(1))
    frames_per_point: int = attrs.field(default=1, validator=_at_least(1))
    crop_fraction: float = attrs.field(default=1.0, validator=_crop)
    metric: str = "normalized-variance"
    return_to_start: bool = False


@attrs.frozen(kw_only=True)
class CalibrationParams:
    """Parameters of ``focus-calibration``.

    Attributes
    ----------
    references
        CSV manifest (``path,label`` plus optional ``frame`` for frames of a stack file and ``stack`` to group
        frames of one stack) or a folder with one sub-folder per label. Relative paths start at the session
        file's folder.
    good_labels
        Labels that count as good (seed: okay and great); every other label is bad.
    metrics
        Registered FrameMetric names to compare (empty: every installed frame metric).
    normalisation
        ``absolute``: compare raw scores (profile rule ``floor``); ``peak``: divide each score by the peak
        of its ``stack`` group first (profile rule ``peak``: the calibrated alpha).
    profile_name
        File name of the QC profile written into the run directory.
    """

    references: str
    good_labels: tuple[str, ...] = ("okay", "great")
    metrics: tuple[str, ...] = ()
    normalisation: Literal["absolute", "peak"] = "absolute"
    profile_name: str = "qc_profile.toml"
