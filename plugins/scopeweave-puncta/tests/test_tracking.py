"""LAP tracking with gaps, MSD classification and track metrics against ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_puncta.ground_truth import GroundTruth
from scopeweave_puncta.msd import MotionParams, msd_curve, summarize_tracks
from scopeweave_puncta.table import LocalizationTable
from scopeweave_puncta.track_eval import evaluate_tracks, track_identities
from scopeweave_puncta.tracking import TrackingParams, link_tracks


def _diffusing(n: int, frames: int, *, d_um2_s: np.ndarray, dt_s: float, drop: float, seed: int,
               noise_nm: float = 15.0) -> tuple[LocalizationTable, GroundTruth]:
    rng = np.random.default_rng(seed)
    step = np.sqrt(2 * d_um2_s * 1e6 * dt_s)[:, None]
    start = rng.uniform(0, 20000, (n, 2))
    x = start[:, :1] + np.cumsum(step * rng.standard_normal((n, frames)), axis=1)
    y = start[:, 1:] + np.cumsum(step * rng.standard_normal((n, frames)), axis=1)
    ids, frame = np.meshgrid(np.arange(n), np.arange(frames), indexing="ij")
    keep = rng.random((n, frames)) >= drop  # missed detections / blinking: gaps of 1-2 frames
    keep[:, 0] = True
    truth = GroundTruth(frame=frame[keep], x_nm=x[keep], y_nm=y[keep], photons=np.ones(keep.sum()), id=ids[keep])
    m = int(keep.sum())
    table = LocalizationTable(
        frame=frame[keep], x_nm=x[keep] + rng.normal(0, noise_nm, m), y_nm=y[keep] + rng.normal(0, noise_nm, m),
        photons=np.ones(m), background=np.zeros(m), sigma_nm=np.ones(m), uncertainty_nm=np.full(m, noise_nm),
    )
    return table, truth


def test_recovers_diffusing_tracks_with_gaps() -> None:
    d = np.full(25, 0.05)
    table, truth = _diffusing(25, 60, d_um2_s=d, dt_s=0.05, drop=0.15, seed=1)
    gaps = [np.diff(truth.frame[truth.id == i]) for i in range(25)]
    assert max(g.max() for g in gaps) >= 3  # there are real gaps to close
    tracks = link_tracks(table, TrackingParams(max_link_distance_nm=400.0, max_gap_frames=4))
    result = evaluate_tracks(tracks, truth)
    assert result.completeness_mean >= 0.95
    assert result.purity_mean >= 0.95
    assert result.fragments_mean <= 1.25
    without_gap_closing = evaluate_tracks(link_tracks(table, TrackingParams(max_gap_frames=0)), truth)
    assert without_gap_closing.fragments_mean > 3 * (result.fragments_mean - 1) + 1.5


def test_identities_follow_the_majority() -> None:
    table, truth = _diffusing(5, 20, d_um2_s=np.full(5, 0.01), dt_s=0.05, drop=0.0, seed=2)
    tracks = link_tracks(table, TrackingParams())
    identity = track_identities(tracks, truth)
    assert sorted(identity.values()) == [0, 1, 2, 3, 4]


def test_hand_built_gap_is_closed_and_crossing_is_resolved() -> None:
    # Two puncta moving in parallel 1 um apart; the first vanishes for frames 3-4.
    frame = np.array([0, 1, 2, 5, 6, 0, 1, 2, 3, 4, 5, 6])
    x = np.array([0, 50, 100, 250, 300, 0, 50, 100, 150, 200, 250, 300], dtype=float)
    y = np.array([0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000, 1000, 1000], dtype=float)
    n = len(frame)
    table = LocalizationTable(frame=frame, x_nm=x, y_nm=y, photons=np.ones(n), background=np.zeros(n),
                              sigma_nm=np.ones(n), uncertainty_nm=np.ones(n))
    tracks = link_tracks(table, TrackingParams(max_link_distance_nm=300.0, max_gap_frames=2))
    assert tracks.n_tracks == 2
    for track in tracks.track_ids():
        rows = tracks.track_id == track
        assert np.ptp(tracks.localizations.y_nm[rows]) == 0  # never jumps to the other punctum
    short_gap = link_tracks(table, TrackingParams(max_link_distance_nm=300.0, max_gap_frames=1))
    assert short_gap.n_tracks == 3  # a 2-frame gap is not closed with max_gap_frames = 1
    assert link_tracks(table, TrackingParams(min_track_length=3, max_gap_frames=1)).n_tracks == 2


def test_empty_localizations_give_no_tracks() -> None:
    tracks = link_tracks(LocalizationTable.empty(), TrackingParams())
    assert tracks.n_tracks == 0
    assert len(tracks) == 0


def test_msd_of_a_known_walk() -> None:
    frame = np.array([0, 1, 2, 4])
    x = np.array([0.0, 10.0, 20.0, 40.0])
    msd, counts = msd_curve(frame, x, np.zeros(4), 3)
    np.testing.assert_allclose(msd, [100.0, 400.0, 900.0])
    np.testing.assert_array_equal(counts, [2, 2, 1])


def test_mobile_and_immobile_are_told_apart() -> None:
    d = np.array([0.0] * 10 + [0.08] * 10)
    table, truth = _diffusing(20, 80, d_um2_s=d, dt_s=0.05, drop=0.0, seed=4)
    tracks = link_tracks(table, TrackingParams())
    summary = summarize_tracks(tracks, MotionParams(), frame_interval_ms=50.0)
    identity = track_identities(tracks, truth)
    truly_mobile = np.array([d[identity[int(t)]] > 0 for t in summary.track_id])
    assert np.array_equal(summary.mobile == 1, truly_mobile)
    assert np.median(summary.diffusion_um2_s[truly_mobile]) == pytest.approx(0.08, rel=0.25)
    assert np.median(summary.localization_error_nm[~truly_mobile]) == pytest.approx(15.0, rel=0.3)
