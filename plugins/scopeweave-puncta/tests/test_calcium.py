"""ΔF/F0 traces, event detection, co-occurrence and calcium metrics."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_puncta.calcium import CalciumParams, analyze_calcium, delta_f_over_f, detect_trace_events
from scopeweave_puncta.calcium_eval import evaluate_calcium
from scopeweave_puncta.ground_truth import CalciumEvents
from scopeweave_puncta.localizers import GaussFitLocalizer, GaussFitParams
from scopeweave_puncta.sim_params import CalciumSimParams, SimulationParams
from scopeweave_puncta.simulate import simulate_sample
from scopeweave_puncta.track_eval import track_identities
from scopeweave_puncta.tracking import TrackingParams, link_tracks


def _events(frame, duration, punctum) -> CalciumEvents:
    n = len(frame)
    return CalciumEvents(event_id=np.arange(n), frame=frame, x_nm=np.zeros(n), y_nm=np.zeros(n),
                         amplitude_dff=np.ones(n), duration_frames=duration, punctum_id=punctum)


def test_dff_and_event_detection_on_a_known_trace() -> None:
    rng = np.random.default_rng(0)
    trace = 200.0 + rng.normal(0, 2.0, 100)
    trace[30:33] += 200.0  # ΔF/F0 = 1 for 3 frames
    trace[70] += 100.0  # ΔF/F0 = 0.5 for 1 frame
    dff, f0 = delta_f_over_f(trace[None], CalciumParams())
    assert f0[0, 0] == pytest.approx(200.0, abs=3.0)
    _, onsets, durations, peaks = detect_trace_events(dff, CalciumParams(merge_gap_frames=0))
    assert onsets.tolist() == [30, 70]
    assert durations.tolist() == [3, 1]
    np.testing.assert_allclose(peaks, [1.0, 0.5], atol=0.05)


def test_running_baseline_follows_a_drift() -> None:
    trace = np.linspace(100.0, 200.0, 300)[None]
    dff, _ = delta_f_over_f(trace, CalciumParams(baseline_window_frames=21, baseline_percentile=50))
    assert np.max(np.abs(dff[:, 20:-20])) < 0.01


def test_calcium_metrics_on_a_hand_built_case() -> None:
    truth = _events([10, 40, 20, 5], [3, 3, 3, 3], [0, 0, 1, -1])  # the last one is a background event
    detected = _events([11, 60, 20, 30], [3, 2, 3, 1], [7, 7, 8, 9])  # tracks 7, 8 -> puncta 0, 1; 9 -> none
    metrics = evaluate_calcium(detected, truth, identity={7: 0, 8: 1}, true_puncta=np.array([0, 1, 2]),
                               n_frames=100, frame_tolerance=1)
    assert (metrics.tp, metrics.fp, metrics.fn) == (2, 2, 1)
    assert metrics.precision == pytest.approx(0.5)
    assert metrics.sensitivity == pytest.approx(2 / 3)
    assert metrics.f1 == pytest.approx(4 / 7)
    # frames: true active 6 + 3 = 9; detected active at puncta: 3 + 2 + 3 = 8, overlapping 2 + 3 = 5.
    assert metrics.frame_sensitivity == pytest.approx(5 / 9)
    assert metrics.frame_specificity == pytest.approx((300 - 9 - 3) / (300 - 9))


def test_simulated_calcium_is_found_at_puncta() -> None:
    params = SimulationParams(frames_per_sample=120, image_size_px=(96, 96), num_puncta_mean=10, seed=21,
                              calcium=CalciumSimParams(event_rate_hz=0.5, background_rate_hz_per_um2=0.02))
    sample = simulate_sample(params, 0)
    table = GaussFitLocalizer(GaussFitParams(), method="mle").localize_table(sample.movie, pixel_size_nm=100.0)
    tracks = link_tracks(table, TrackingParams(max_gap_frames=5, min_track_length=10))
    assert sample.calcium is not None
    photons = params.camera.to_photons(sample.calcium)
    analysis = analyze_calcium(photons, tracks, pixel_size_nm=100.0, frame_interval_ms=50.0, params=CalciumParams())
    metrics = evaluate_calcium(analysis.events, sample.calcium_events, identity=track_identities(tracks, sample.truth),
                               true_puncta=np.unique(sample.truth.id), n_frames=120)
    assert metrics.n_true_events >= 15
    assert metrics.sensitivity >= 0.8
    assert metrics.frame_specificity >= 0.98
    stats = analysis.statistics
    assert stats["n_events"] >= 10
    assert stats["event_rate_hz_per_punctum"] > 3 * stats["control_event_rate_hz"]
