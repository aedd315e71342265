"""Localization metrics against ground truth (SMLM challenge 2016, Sage et al. 2019).

Per frame, localizations are matched to true emitters within
``tolerance_nm`` (optimal assignment, :mod:`scopeweave_puncta.matching`).
TP = matched pairs, FP = unmatched localizations, FN = unmatched emitters;
precision = TP/(TP+FP), recall = TP/(TP+FN), Jaccard = TP/(TP+FP+FN),
F1 = 2PR/(P+R), lateral RMSE = sqrt(mean over TP of dx^2 + dy^2), and the
efficiency ``E = 1 - sqrt((1 - JI)^2 + (alpha * RMSE)^2)`` with
``alpha = 0.01 / nm``.  A ratio whose denominator is 0 is NaN.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_puncta.ground_truth import GroundTruth
from scopeweave_puncta.matching import match_per_frame
from scopeweave_puncta.table import LocalizationTable

__all__ = [
    "DetectionMetrics",
    "LocalizationEvaluation",
    "detection_metrics",
    "efficiency",
    "evaluate_localizations",
]

#: Lateral efficiency weight of Sage et al. (2019), per nm.
ALPHA_LATERAL_PER_NM = 0.01


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def efficiency(jaccard: float, rmse_nm: float, *, alpha_per_nm: float = ALPHA_LATERAL_PER_NM) -> float:
    """SMLM-challenge efficiency (fraction, 1 is perfect)."""
    if math.isnan(jaccard) or math.isnan(rmse_nm):
        return math.nan
    return 1.0 - math.sqrt((1.0 - jaccard) ** 2 + (alpha_per_nm * rmse_nm) ** 2)


@attrs.frozen(kw_only=True)
class DetectionMetrics:
    """Detection and localization quality of one frame or a whole movie.

    Attributes
    ----------
    n_true, n_predicted
        Emitters and localizations compared.
    tp, fp, fn
        Matched pairs, unmatched localizations, missed emitters.
    precision, recall, jaccard, f1
        Detection scores (fractions).
    rmse_lateral_nm, rmse_x_nm, rmse_y_nm
        Position errors of the matched pairs.
    bias_x_nm, bias_y_nm
        Mean signed error of the matched pairs.
    efficiency
        Lateral SMLM-challenge efficiency.
    """

    n_true: int
    n_predicted: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    jaccard: float
    f1: float
    rmse_lateral_nm: float
    rmse_x_nm: float
    rmse_y_nm: float
    bias_x_nm: float
    bias_y_nm: float
    efficiency: float

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return attrs.asdict(self)


def detection_metrics(n_true: int, n_predicted: int, dx_nm: NDArray[np.float64], dy_nm: NDArray[np.float64],
                      ) -> DetectionMetrics:
    """Metrics from counts and the errors ``dx_nm, dy_nm`` of the matched pairs."""
    tp = len(dx_nm)
    fp, fn = n_predicted - tp, n_true - tp
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    jaccard = _ratio(tp, tp + fp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    if tp:
        rmse_x = float(np.sqrt(np.mean(dx_nm**2)))
        rmse_y = float(np.sqrt(np.mean(dy_nm**2)))
        rmse = math.hypot(rmse_x, rmse_y)
        bias_x, bias_y = float(np.mean(dx_nm)), float(np.mean(dy_nm))
    else:
        rmse = rmse_x = rmse_y = bias_x = bias_y = math.nan
    return DetectionMetrics(
        n_true=n_true, n_predicted=n_predicted, tp=tp, fp=fp, fn=fn, precision=precision, recall=recall,
        jaccard=jaccard, f1=f1, rmse_lateral_nm=rmse, rmse_x_nm=rmse_x, rmse_y_nm=rmse_y, bias_x_nm=bias_x,
        bias_y_nm=bias_y, efficiency=efficiency(jaccard, rmse),
    )


@attrs.frozen(kw_only=True, eq=False)
class LocalizationEvaluation:
    """Result of :func:`evaluate_localizations`.

    Attributes
    ----------
    overall
        Metrics pooled over all frames.
    per_frame
        One :class:`DetectionMetrics` per frame, frame ``i`` at index ``i``.
    matched_predicted, matched_true
        Row indices of the matched pairs in the localization and truth tables.
    tolerance_nm
        Matching radius used.
    """

    overall: DetectionMetrics
    per_frame: list[DetectionMetrics]
    matched_predicted: NDArray[np.intp]
    matched_true: NDArray[np.intp]
    tolerance_nm: float

    def per_frame_columns(self) -> dict[str, NDArray[Any]]:
        """Per-frame metrics as columns (with a ``frame`` column) for a CSV."""
        names = [f.name for f in attrs.fields(DetectionMetrics)]
        columns: dict[str, NDArray[Any]] = {"frame": np.arange(len(self.per_frame))}
        for name in names:
            columns[name] = np.array([getattr(m, name) for m in self.per_frame], dtype=np.float64)
        return columns


def evaluate_localizations(
    predicted: LocalizationTable,
    truth: GroundTruth,
    *,
    tolerance_nm: float = 250.0,
    n_frames: int | None = None,
) -> LocalizationEvaluation:
    """Match ``predicted`` to ``truth`` per frame and score them.

    Parameters
    ----------
    predicted
        Localizations.
    truth
        True emitters in the same coordinates.
    tolerance_nm
        Matching radius.
    n_frames
        Frames of the movie (so that frames with nothing in them are counted);
        by default one past the last frame seen in either table.
    """
    if tolerance_nm <= 0:
        raise ValueError(f"tolerance_nm must be > 0 (got {tolerance_nm}).")
    ip, it = match_per_frame(
        predicted.frame, np.column_stack([predicted.x_nm, predicted.y_nm]),
        truth.frame, np.column_stack([truth.x_nm, truth.y_nm]), tolerance_nm,
    )
    dx = predicted.x_nm[ip] - truth.x_nm[it]
    dy = predicted.y_nm[ip] - truth.y_nm[it]
    overall = detection_metrics(len(truth), len(predicted), dx, dy)
    last = max(int(predicted.frame.max(initial=-1)), int(truth.frame.max(initial=-1)))
    frames = n_frames if n_frames is not None else last + 1
    if last >= frames:
        raise ValueError(f"a table has frame {last} but the movie has only {frames} frames.")
    n_true = np.bincount(truth.frame, minlength=frames)
    n_pred = np.bincount(predicted.frame, minlength=frames)
    matched_frame = truth.frame[it]
    order = np.argsort(matched_frame, kind="stable")
    splits = np.searchsorted(matched_frame[order], np.arange(1, frames))
    per_frame = [
        detection_metrics(int(n_true[f]), int(n_pred[f]), dx[idx], dy[idx])
        for f, idx in enumerate(np.split(order, splits))
    ]
    return LocalizationEvaluation(overall=overall, per_frame=per_frame, matched_predicted=ip, matched_true=it,
                                  tolerance_nm=tolerance_nm)
