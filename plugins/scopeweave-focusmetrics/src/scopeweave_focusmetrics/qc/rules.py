"""Threshold rules: blur (peak-relative, MAD, Otsu, floor), motion (correlation), focus-curve residuals."""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from scopeweave_focusmetrics.qc.config import FocusRule, MotionRule

__all__ = [
    "CurveFit",
    "Threshold",
    "blur_threshold",
    "fit_focus_curve",
    "motion_flags",
    "motion_threshold",
    "robust_sigma",
]

MAD_TO_SIGMA = 1.4826


def robust_sigma(values: NDArray[np.float64]) -> float:
    """1.4826 * median absolute deviation: the standard deviation of normal data, robust to outliers."""
    if values.size == 0:
        return 0.0
    return MAD_TO_SIGMA * float(np.median(np.abs(values - np.median(values))))


@attrs.frozen(kw_only=True)
class Threshold:
    """A threshold, the side that fails it, and why it has its value."""

    value: float
    fails_below: bool
    reason: str

    def fails(self, values: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which values fail the threshold."""
        return values < self.value if self.fails_below else values > self.value

    def to_json(self) -> dict[str, object]:
        """JSON form for ``frame_qc.json``."""
        return {"value": self.value, "fails": "below" if self.fails_below else "above", "reason": self.reason}


def blur_threshold(scores: NDArray[np.float64], rule: FocusRule, *, higher_is_sharper: bool,
                   metric_name: str = "the metric") -> Threshold | None:
    """The focus threshold of ``rule`` for one stack's scores (``None`` for rule ``none``)."""
    finite = scores[np.isfinite(scores)]
    if rule.rule == "none" or finite.size == 0:
        return None
    if rule.rule == "peak":
        if np.any(finite < 0) or (higher_is_sharper and not finite.max() > 0):
            raise ValueError(f"the peak-relative rule needs positive scores, but {metric_name} gave values down to "
                             f"{finite.min():.4g}; use rule = 'mad' or 'otsu'.")
        if higher_is_sharper:
            peak = float(finite.max())
            return Threshold(value=rule.alpha * peak, fails_below=True,
                             reason=f"peak-relative: alpha {rule.alpha} x peak {peak:.6g}")
        best = float(finite.min())
        return Threshold(value=best / rule.alpha if rule.alpha > 0 else np.inf, fails_below=False,
                         reason=f"peak-relative (lower is sharper): best {best:.6g} / alpha {rule.alpha}")
    if rule.rule == "mad":
        median, sigma = float(np.median(finite)), robust_sigma(finite)
        sign = -1.0 if higher_is_sharper else 1.0
        return Threshold(value=median + sign * rule.k * sigma, fails_below=higher_is_sharper,
                         reason=f"robust: median {median:.6g} {'-' if higher_is_sharper else '+'} "
                                f"{rule.k} x 1.4826 x MAD ({sigma:.6g})")
    if rule.rule == "otsu":
        from skimage.filters import threshold_otsu

        value = float(threshold_otsu(finite)) if np.ptp(finite) > 0 else float(finite[0])
        return Threshold(value=value, fails_below=higher_is_sharper, reason="Otsu threshold of the stack's scores")
    return Threshold(value=rule.floor, fails_below=higher_is_sharper,
                     reason=f"absolute threshold {rule.floor:.6g} (QC profile or floor)")


def motion_threshold(corr: NDArray[np.float64], rule: MotionRule) -> Threshold | None:
    """The correlation threshold of ``rule`` for a stack's pair correlations."""
    finite = corr[np.isfinite(corr)]
    if rule.rule == "none" or finite.size == 0:
        return None
    if rule.rule == "floor":
        return Threshold(value=rule.floor, fails_below=True, reason=f"correlation floor {rule.floor}")
    if rule.rule == "mean-std":
        mean, std = float(finite.mean()), float(finite.std())
        return Threshold(value=mean - rule.k * std, fails_below=True,
                         reason=f"mean {mean:.6g} - {rule.k} x std {std:.6g}")
    median, sigma = float(np.median(finite)), robust_sigma(finite)
    drop = max(rule.k * sigma, rule.min_drop)
    return Threshold(value=median - drop, fails_below=True,
                     reason=f"robust: median {median:.6g} - max({rule.k} x 1.4826 x MAD = {rule.k * sigma:.4g}, "
                            f"min_drop {rule.min_drop})")


def motion_flags(pairs: NDArray[np.int64], corr: NDArray[np.float64], threshold: Threshold | None,
                 n_frames: int, *, attribution: str) -> NDArray[np.bool_]:
    """Frames flagged by bad pairs; ``pairs[j] = (a, b)`` has correlation ``corr[j]``."""
    flags = np.zeros(n_frames, dtype=bool)
    if threshold is None or len(pairs) == 0:
        return flags
    bad = threshold.fails(corr)
    if attribution == "both":
        for (a, b) in pairs[bad]:
            flags[a] = flags[b] = True
        return flags
    n_pairs = np.zeros(n_frames, dtype=int)
    n_bad = np.zeros(n_frames, dtype=int)
    for (a, b), is_bad in zip(pairs, bad, strict=False):
        n_pairs[[a, b]] += 1
        n_bad[[a, b]] += int(is_bad)
    return (n_pairs > 0) & (n_bad == n_pairs)


@attrs.frozen(kw_only=True)
class CurveFit:
    """A fitted focus curve.

    ``residual`` is (score - fit) / peak for every frame (NaN outside the fitted frames);
    ``reliability_db`` follows Pertuz's fstack: 20 log10(P * peak / sum |residual|).
    """

    model: str
    peak_position: float
    width: float
    residual: NDArray[np.float64]
    outliers: NDArray[np.bool_]
    reliability_db: float

    def to_json(self) -> dict[str, object]:
        """JSON form for ``frame_qc.json``."""
        return {"model": self.model, "peak_position": self.peak_position, "width": self.width,
                "reliability_db": self.reliability_db, "outliers": np.flatnonzero(self.outliers).tolist()}


def fit_focus_curve(scores: NDArray[np.float64], rule: MotionRule, *, higher_is_sharper: bool) -> CurveFit | None:
    """Fit a Gaussian (+ offset) or a parabola to the focus curve, robustly; flag frames far below it.

    The parabola is fitted between the first and the last frame scoring in the top half of the range (a
    parabola only describes the top of a focus curve; frames inside that window are fitted even when low).
    Returns ``None`` with fewer than 5 points.
    """
    oriented = scores if higher_is_sharper else -scores
    index = np.arange(len(scores), dtype=np.float64)
    ok = np.isfinite(oriented)
    if rule.curve_fit == "none" or np.count_nonzero(ok) < 5:
        return None
    low, high = float(oriented[ok].min()), float(oriented[ok].max())
    span = high - low
    if not span > 0:
        return None
    y = (oriented - low) / span
    peak_at = float(index[ok][np.argmax(y[ok])])
    if rule.curve_fit == "gaussian":
        def model(p: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
            return p[0] + p[1] * np.exp(-0.5 * ((x - p[2]) / p[3]) ** 2)

        start = np.array([0.0, 1.0, peak_at, max(len(scores) / 6.0, 1.0)])
        n = len(scores)
        fitted = optimize.least_squares(lambda p: model(p, index[ok]) - y[ok], start, loss="soft_l1", f_scale=0.05,
                                        bounds=([-1, 0, -n, 0.3], [1, 3, 2 * n, 10 * n]))
        params = fitted.x
        fit = model(params, index)
        used = ok
        position, width = float(params[2]), float(params[3])
    else:
        above = np.flatnonzero(ok & (y >= 0.5))
        used = ok & (index >= above.min()) & (index <= above.max())
        if np.count_nonzero(used) < 3:
            return None
        weights = np.ones(np.count_nonzero(used))
        coefficients = np.zeros(3)
        for _ in range(10):
            coefficients = np.polyfit(index[used], y[used], 2, w=weights)
            residual = y[used] - np.polyval(coefficients, index[used])
            scale = max(robust_sigma(residual), 1e-6)
            weights = np.sqrt(np.minimum(1.0, 1.5 * scale / np.maximum(np.abs(residual), 1e-12)))
        fit = np.asarray(np.polyval(coefficients, index), dtype=np.float64)
        a, b = coefficients[0], coefficients[1]
        position = float(-b / (2 * a)) if a < 0 else peak_at
        width = float(np.sqrt(-1.0 / (2 * a))) if a < 0 else float("nan")
    residual = np.full(len(scores), np.nan)
    residual[used] = (y[used] - fit[used]) * span / max(abs(high), 1e-300)
    sigma = robust_sigma(residual[used])
    outliers = np.zeros(len(scores), dtype=bool)
    # Motion (blur during the exposure, a shaken frame) only ever lowers sharpness below the curve.
    below = -residual[used]
    outliers[used] = (below > rule.curve_k * sigma) & (below > rule.curve_min_residual)
    error = float(np.abs(residual[used]).sum())
    reliability = 20 * np.log10(np.count_nonzero(used) / error) if error > 0 else float("inf")
    return CurveFit(model=rule.curve_fit, peak_position=position, width=width, residual=residual,
                    outliers=outliers, reliability_db=float(reliability))
