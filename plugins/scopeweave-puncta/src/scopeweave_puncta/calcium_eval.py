"""Calcium events at puncta against ground truth: event-level and frame-level scores.

Detected events carry the id of the track they were found on; tracks are
mapped to true puncta by :func:`~scopeweave_puncta.track_eval.track_identities`.
Only true events at puncta (``punctum_id >= 0``) are targets.

* Event level: on each punctum, detected and true onsets within
  ``frame_tolerance`` frames are paired by optimal assignment; precision,
  recall (sensitivity) and F1 follow.  Events on tracks that match no punctum
  are false positives.
* Frame level: every (punctum, frame) is a unit, positive while a true event
  is active (onset to onset + duration); it is called positive while a detected
  event mapped to that punctum is active.  Sensitivity = TP/(TP+FN),
  specificity = TN/(TN+FP), F1.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from scopeweave_puncta.ground_truth import CalciumEvents

__all__ = ["CalciumMetrics", "evaluate_calcium"]


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


@attrs.frozen(kw_only=True)
class CalciumMetrics:
    """Scores of :func:`evaluate_calcium`.

    Attributes
    ----------
    n_true_events, n_detected_events
        Events compared.
    tp, fp, fn
        Event-level counts.
    precision, sensitivity, f1
        Event-level scores (sensitivity = recall).
    frame_sensitivity, frame_specificity, frame_f1
        Frame-level scores over (punctum, frame) units.
    frame_tolerance
        Onset tolerance of the event pairing, frames.
    """

    n_true_events: int
    n_detected_events: int
    tp: int
    fp: int
    fn: int
    precision: float
    sensitivity: float
    f1: float
    frame_sensitivity: float
    frame_specificity: float
    frame_f1: float
    frame_tolerance: int

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return attrs.asdict(self)


def _active(events: CalciumEvents, punctum_index: NDArray[np.intp], n_puncta: int, n_frames: int) -> NDArray[np.bool_]:
    active = np.zeros((n_puncta, n_frames), dtype=bool)
    for row, onset, duration in zip(punctum_index, events.frame, events.duration_frames, strict=True):
        if row >= 0:
            active[row, max(onset, 0):min(onset + max(duration, 1), n_frames)] = True
    return active


def evaluate_calcium(
    detected: CalciumEvents,
    truth: CalciumEvents,
    *,
    identity: dict[int, int],
    true_puncta: NDArray[np.int64],
    n_frames: int,
    frame_tolerance: int = 1,
) -> CalciumMetrics:
    """Score detected events at puncta against the true ones.

    Parameters
    ----------
    detected
        Detected events; ``punctum_id`` is the track id.
    truth
        True events (background ones, ``punctum_id < 0``, are ignored).
    identity
        Track id -> true punctum id.
    true_puncta
        Ids of all true puncta (the frame-level units).
    n_frames
        Frames of the movie.
    frame_tolerance
        Largest onset difference of a matched event pair.
    """
    at_puncta = truth.select(truth.punctum_id >= 0)
    puncta = np.unique(np.asarray(true_puncta, dtype=np.int64))
    mapped = np.array([identity.get(int(t), -1) for t in detected.punctum_id], dtype=np.int64)
    det_index = np.where(np.isin(mapped, puncta), np.searchsorted(puncta, mapped), -1)
    true_index = np.where(np.isin(at_puncta.punctum_id, puncta), np.searchsorted(puncta, at_puncta.punctum_id), -1)
    tp = 0
    for row in range(len(puncta)):
        d_on = detected.frame[det_index == row]
        t_on = at_puncta.frame[true_index == row]
        if len(d_on) and len(t_on):
            gap = np.abs(d_on[:, None] - t_on[None, :]).astype(np.float64)
            blocked = (frame_tolerance + 1.0) ** 2 * (min(len(d_on), len(t_on)) + 1)
            cost = np.where(gap <= frame_tolerance, gap**2, blocked)
            r, c = linear_sum_assignment(cost)
            tp += int(np.sum(cost[r, c] < blocked))
    fp, fn = len(detected) - tp, len(at_puncta) - tp
    true_active = _active(at_puncta, true_index, len(puncta), n_frames)
    det_active = _active(detected, det_index, len(puncta), n_frames)
    ftp = int(np.sum(true_active & det_active))
    ffp = int(np.sum(~true_active & det_active))
    ffn = int(np.sum(true_active & ~det_active))
    ftn = int(np.sum(~true_active & ~det_active))
    return CalciumMetrics(
        n_true_events=len(at_puncta), n_detected_events=len(detected), tp=tp, fp=fp, fn=fn,
        precision=_ratio(tp, tp + fp), sensitivity=_ratio(tp, tp + fn), f1=_ratio(2 * tp, 2 * tp + fp + fn),
        frame_sensitivity=_ratio(ftp, ftp + ffn), frame_specificity=_ratio(ftn, ftn + ffp),
        frame_f1=_ratio(2 * ftp, 2 * ftp + ffp + ffn), frame_tolerance=frame_tolerance,
    )
