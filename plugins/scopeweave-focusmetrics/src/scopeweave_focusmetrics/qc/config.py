"""The frame-QC rules as frozen value objects (nested TOML tables of ``frame-qc``)."""

from __future__ import annotations

from typing import Any, Literal

import attrs

__all__ = ["DriftRule", "FocusRule", "MotionRule", "QcConfig"]


def _between(low: float, high: float) -> Any:
    def check(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
        if not low <= value <= high:
            raise ValueError(f"'{attribute.name}' must be between {low} and {high} (got {value!r}).")

    return check


def _positive_int(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 (got {value!r}).")


@attrs.frozen(kw_only=True)
class FocusRule:
    """Which frames are blurry (step 1 of the chain).

    Attributes
    ----------
    rule
        ``peak``: blurry when score < alpha * peak (self-normalising per stack; needs positive scores);
        ``mad``: blurry when score < median - k * 1.4826 * MAD; ``otsu``: Otsu's threshold on the scores
        (bimodal stacks); ``floor``: an absolute score threshold (what a calibrated QC profile sets);
        ``none``: no focus filter. For lower-is-sharper metrics every rule is mirrored.
    alpha
        Fraction of the peak score for ``peak`` (seed: 0.7; ImageJ Find_focused_slices: 0.8).
    k
        Robust standard deviations below the median for ``mad`` (seed: 1.5 to 2.5).
    floor
        The absolute threshold for ``floor`` (in the metric's units).
    """

    rule: Literal["peak", "mad", "otsu", "floor", "none"] = "peak"
    alpha: float = attrs.field(default=0.7, validator=_between(0.0, 1.0))
    k: float = attrs.field(default=2.0, validator=_between(0.0, 100.0))
    floor: float = 0.0


@attrs.frozen(kw_only=True)
class MotionRule:
    """Which frames moved (step 2): frame-to-frame Pearson correlation and focus-curve residuals.

    Attributes
    ----------
    rule
        ``mad``: a pair is bad when corr < median - max(k * 1.4826 * MAD, min_drop); ``floor``: when
        corr < floor; ``mean-std``: when corr < mean - k * std; ``none``: no motion filter.
    k
        Multiplier of the robust (or plain) standard deviation (seed: 3).
    min_drop
        Smallest drop below the median that can count as motion under ``mad`` (guards noise-free stacks
        whose MAD is ~0).
    floor
        Minimum acceptable correlation for ``floor`` (seed: 0.85).
    attribution
        ``both``: a bad corr(i, i+1) flags frames i and i+1 (the seed's safe rule); ``isolated``: a frame is
        flagged only when all of its pairs are bad (a single jittered frame, not its neighbours).
    scope
        ``candidates``: correlate consecutive frames that passed the focus filter (the seed's chain, so a
        focus transition is not mistaken for motion); ``all``: every consecutive pair.
    curve_fit
        ``gaussian`` or ``parabola``: fit the sharpness-vs-frame curve (z-stacks) and flag frames whose
        residual is an outlier; ``none``: no fit.
    curve_k
        Robust standard deviations of the residuals beyond which a frame is flagged.
    curve_min_residual
        Smallest |residual| (as a fraction of the peak score) that can be flagged.
    """

    rule: Literal["mad", "floor", "mean-std", "none"] = "mad"
    k: float = attrs.field(default=3.0, validator=_between(0.0, 100.0))
    min_drop: float = attrs.field(default=0.02, validator=_between(0.0, 2.0))
    floor: float = attrs.field(default=0.85, validator=_between(-1.0, 1.0))
    attribution: Literal["both", "isolated"] = "both"
    scope: Literal["candidates", "all"] = "candidates"
    curve_fit: Literal["none", "gaussian", "parabola"] = "none"
    curve_k: float = attrs.field(default=4.0, validator=_between(0.0, 100.0))
    curve_min_residual: float = attrs.field(default=0.05, validator=_between(0.0, 1.0))


@attrs.frozen(kw_only=True)
class DriftRule:
    """Which remaining frames drifted away from the stable group (step 3).

    Attributes
    ----------
    method
        ``anchor``: keep frames whose correlation with the anchor is >= min_corr; ``template``: the same
        against a golden template image (``template_path``); ``clique``: keep the largest group of mutually
        correlated frames (corr >= min_corr between every pair); ``dbscan``: cluster on correlation distance
        1 - r and keep the largest cluster; ``none``: no drift filter.
    anchor
        ``sharpest``: the sharpest remaining frame; ``top-k-mean``: the mean of the top_k sharpest (the
        seed's "center of mass anchor", steadier than one frame).
    top_k
        Frames averaged into the ``top-k-mean`` anchor.
    min_corr
        Correlation a frame needs with the anchor / template / the rest of its group (seed: 0.95).
    template_path
        Golden template image (TIFF, PNG or JPEG) for ``template``; it must have the frames' shape.
    min_samples
        DBSCAN ``min_samples``: frames needed to form a segment.
    """

    method: Literal["anchor", "template", "clique", "dbscan", "none"] = "anchor"
    anchor: Literal["sharpest", "top-k-mean"] = "top-k-mean"
    top_k: int = attrs.field(default=3, validator=_positive_int)
    min_corr: float = attrs.field(default=0.95, validator=_between(-1.0, 1.0))
    template_path: str = ""
    min_samples: int = attrs.field(default=2, validator=_positive_int)

    def __attrs_post_init__(self) -> None:
        if self.method == "template" and not self.template_path:
            raise ValueError("'template_path' is required when method = 'template'.")


@attrs.frozen(kw_only=True)
class QcConfig:
    """Everything the chain focus -> motion -> drift needs.

    Attributes
    ----------
    focus
        The blur rule.
    motion
        The motion rule.
    drift
        The drift rule.
    correlation_bin_px
        Block-bin frames by this before correlating (0: automatic, so the longer side is <= 512 px).
    max_saturated_fraction
        Frames with a larger saturated fraction are flagged ``is_saturated`` and not kept (1.0: off).
    """

    focus: FocusRule = FocusRule()
    motion: MotionRule = MotionRule()
    drift: DriftRule = DriftRule()
    correlation_bin_px: int = attrs.field(default=0, validator=_between(0, 64))
    max_saturated_fraction: float = attrs.field(default=1.0, validator=_between(0.0, 1.0))
