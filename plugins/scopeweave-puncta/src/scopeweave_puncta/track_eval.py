"""Tracks against ground-truth trajectories: completeness, purity, fragmentation.

Track points are matched to true emitters frame by frame (optimal assignment
within ``tolerance_nm``).  For a true punctum, *completeness* is the largest
fraction of its true points matched by a single track; for a track, *purity*
is the largest fraction of its points matched to a single punctum (unmatched
points count against it).  *Fragments* counts the distinct tracks that
matched a punctum.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_puncta.ground_truth import GroundTruth
from scopeweave_puncta.matching import match_per_frame
from scopeweave_puncta.tracking import Tracks

__all__ = ["TrackEvaluation", "evaluate_tracks", "track_identities"]


@attrs.frozen(kw_only=True)
class TrackEvaluation:
    """Summary of :func:`evaluate_tracks`.

    Attributes
    ----------
    n_true_tracks, n_tracks
        Puncta in the truth and tracks compared.
    completeness_mean
        Mean completeness over true puncta.
    completeness_weighted
        Completeness pooled over points (long trajectories weigh more).
    purity_mean
        Mean purity over tracks.
    fragments_mean
        Mean number of tracks per matched punctum (1 is ideal).
    fraction_complete
        Fraction of true puncta with completeness >= 0.8.
    """

    n_true_tracks: int
    n_tracks: int
    completeness_mean: float
    completeness_weighted: float
    purity_mean: float
    fragments_mean: float
    fraction_complete: float

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return attrs.asdict(self)


def _contingency(tracks: Tracks, truth: GroundTruth, tolerance_nm: float
                 ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Matched (track_id, true id) pairs as unique ids and a count matrix."""
    loc = tracks.localizations
    ip, it = match_per_frame(loc.frame, np.column_stack([loc.x_nm, loc.y_nm]),
                             truth.frame, np.column_stack([truth.x_nm, truth.y_nm]), tolerance_nm)
    track_ids, true_ids = tracks.track_ids(), np.unique(truth.id)
    counts = np.zeros((len(track_ids), len(true_ids)), dtype=np.int64)
    np.add.at(counts, (np.searchsorted(track_ids, tracks.track_id[ip]), np.searchsorted(true_ids, truth.id[it])), 1)
    return track_ids, true_ids, counts


def track_identities(tracks: Tracks, truth: GroundTruth, *, tolerance_nm: float = 250.0) -> dict[int, int]:
    """The true punctum id most of each track's points match (tracks matching nothing are left out)."""
    track_ids, true_ids, counts = _contingency(tracks, truth, tolerance_nm)
    out: dict[int, int] = {}
    for row, track in enumerate(track_ids):
        if counts[row].sum():
            out[int(track)] = int(true_ids[int(np.argmax(counts[row]))])
    return out


def evaluate_tracks(tracks: Tracks, truth: GroundTruth, *, tolerance_nm: float = 250.0) -> TrackEvaluation:
    """Completeness, purity and fragmentation of ``tracks`` against ``truth``."""
    track_ids, true_ids, counts = _contingency(tracks, truth, tolerance_nm)
    true_points = np.bincount(np.searchsorted(true_ids, truth.id), minlength=len(true_ids))
    track_points = np.bincount(np.searchsorted(track_ids, tracks.track_id), minlength=len(track_ids))
    best_per_true = counts.max(axis=0) if len(track_ids) else np.zeros(len(true_ids), dtype=np.int64)
    completeness = best_per_true / np.maximum(true_points, 1)
    purity = counts.max(axis=1) / np.maximum(track_points, 1) if len(true_ids) else np.zeros(len(track_ids))
    fragments = np.count_nonzero(counts, axis=0)
    matched = fragments > 0
    return TrackEvaluation(
        n_true_tracks=len(true_ids),
        n_tracks=len(track_ids),
        completeness_mean=float(completeness.mean()) if len(true_ids) else math.nan,
        completeness_weighted=float(best_per_true.sum() / true_points.sum()) if true_points.sum() else math.nan,
        purity_mean=float(purity.mean()) if len(track_ids) else math.nan,
        fragments_mean=float(fragments[matched].mean()) if matched.any() else math.nan,
        fraction_complete=float(np.mean(completeness >= 0.8)) if len(true_ids) else math.nan,
    )
