"""Matching and metrics on hand-built cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scopeweave_puncta.evaluate import efficiency, evaluate_localizations
from scopeweave_puncta.ground_truth import GroundTruth
from scopeweave_puncta.matching import match_points
from scopeweave_puncta.table import LocalizationTable


def _loc(frame, x, y) -> LocalizationTable:
    n = len(frame)
    return LocalizationTable(frame=frame, x_nm=x, y_nm=y, photons=np.ones(n), background=np.zeros(n),
                             sigma_nm=np.ones(n), uncertainty_nm=np.ones(n))


def _truth(frame, x, y) -> GroundTruth:
    return GroundTruth(frame=frame, x_nm=x, y_nm=y, photons=np.ones(len(frame)), id=np.arange(len(frame)))


def test_optimal_matching_beats_greedy() -> None:
    # Greedy nearest-first pairs a0-b0 (90 nm) and leaves a1 unmatched (b1 is 330 nm from a1);
    # the optimal assignment pairs a0-b1 and a1-b0: two matches.
    a = np.array([[0.0, 0.0], [180.0, 0.0]])
    b = np.array([[90.0, 0.0], [-150.0, 0.0]])
    ia, ib = match_points(a, b, 250.0)
    assert sorted(zip(ia.tolist(), ib.tolist(), strict=True)) == [(0, 1), (1, 0)]


def test_matching_respects_the_tolerance() -> None:
    ia, ib = match_points(np.array([[0.0, 0.0]]), np.array([[250.1, 0.0]]), 250.0)
    assert ia.size == ib.size == 0


def test_metrics_of_a_hand_built_case() -> None:
    truth = _truth([0, 0, 0, 1, 2], [100, 1000, 2000, 100, 500], [100, 100, 100, 100, 500])
    # frame 0: two hits (errors 30 and 40 nm) + one miss; frame 1: one hit (0 nm) + one false positive far away;
    # frame 2: a false positive 400 nm from the true emitter, which is missed.
    pred = _loc([0, 0, 1, 1, 2], [130, 1000, 100, 5000, 900], [100, 140, 100, 5000, 500])
    result = evaluate_localizations(pred, truth, tolerance_nm=250.0, n_frames=4)
    o = result.overall
    assert (o.tp, o.fp, o.fn) == (3, 2, 2)
    assert o.precision == pytest.approx(3 / 5)
    assert o.recall == pytest.approx(3 / 5)
    assert o.jaccard == pytest.approx(3 / 7)
    assert o.f1 == pytest.approx(0.6)
    assert o.rmse_lateral_nm == pytest.approx(math.sqrt((30**2 + 40**2) / 3))
    assert o.rmse_x_nm == pytest.approx(math.sqrt(30**2 / 3))
    assert o.efficiency == pytest.approx(1 - math.sqrt((1 - 3 / 7) ** 2 + (0.01 * o.rmse_lateral_nm) ** 2))
    frames = result.per_frame
    assert len(frames) == 4
    assert (frames[0].tp, frames[0].fn, frames[1].fp, frames[2].fp, frames[2].fn) == (2, 1, 1, 1, 1)
    assert math.isnan(frames[3].precision)
    assert math.isnan(frames[3].jaccard)  # empty frame: 0/0
    assert result.per_frame_columns()["tp"].tolist() == [2, 1, 0, 0]


def test_efficiency_reference_example() -> None:
    assert efficiency(0.8, 20.0) == pytest.approx(0.717, abs=1e-3)


def test_empty_tables() -> None:
    empty = evaluate_localizations(LocalizationTable.empty(), _truth([], [], []), n_frames=3).overall
    assert (empty.tp, empty.fp, empty.fn) == (0, 0, 0)
    assert math.isnan(empty.jaccard)
    nothing_found = evaluate_localizations(LocalizationTable.empty(), _truth([1], [0], [0])).overall
    assert nothing_found.recall == 0.0
    assert nothing_found.jaccard == 0.0
