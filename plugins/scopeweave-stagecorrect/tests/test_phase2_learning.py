"""Seed testing strategy, phase 2: error extraction, convergence over sessions, confidence weighting."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import replace

import pytest
from scopeweave_stagecorrect.corrector import LearningError, StoredCorrector
from scopeweave_stagecorrect.pure import classify_moves, get_model, learn, lut_mask, predict, status_message
from scopeweave_stagecorrect.pure.profile import Profile


def raster(cols: int = 6, rows: int = 5) -> list[tuple[float, float]]:
    return [(300.0 * c, 250.0 * r) for r in range(rows) for c in range(cols)]


def serpentine(cols: int = 6, rows: int = 5) -> list[tuple[float, float]]:
    return [(300.0 * (c if r % 2 == 0 else cols - 1 - c), 250.0 * r) for r in range(rows) for c in range(cols)]


INJECTED = {2: (2.0, -3.0), 3: (5.0, 4.0), 5: (-9.0, 6.0), 10: (8.0, -3.0), 13: (-12.0, 9.0)}


def lut_truth(meta: list[tuple[float, float]], *, noise_px: float = 0.0, seed: int = 0,
              offsets: dict[int, tuple[float, float]] = INJECTED) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    out = []
    for (x, y), move in zip(meta, classify_moves(meta), strict=False):
        mask = lut_mask(move, idle_axis="hold")
        ox, oy = offsets.get(mask, (0.0, 0.0)) if mask is not None else (0.0, 0.0)
        out.append((1.01 * x - 0.002 * y + ox + rng.gauss(0, noise_px) + 100.0,
                    0.003 * x + 0.998 * y + oy + rng.gauss(0, noise_px) - 50.0))
    return out


def hold_profile() -> Profile:
    profile = get_model("lut-affine").new_profile("seed-v2-251")
    return replace(profile, settings={**profile.settings, "idle_axis": "hold"})


def test_errors_are_extracted_per_movement_class() -> None:
    meta = raster()
    _learned, report = learn(hold_profile(), meta, lut_truth(meta), [1.0] * len(meta), learn_thermal=False)
    for mask, (x, y) in INJECTED.items():
        estimate = report["classes"][str(mask)]["session_estimate_px"]
        assert estimate == pytest.approx([x, y], abs=0.01), mask
    assert report["classes"]["2"]["tiles"] == 4  # row 0: tiles 2..5
    assert report["classes"]["3"]["tiles"] == 20  # rows 1..4, five right moves each
    assert report["session_estimate"]["scale_x"] == pytest.approx(1.01, abs=1e-6)
    assert report["session_estimate"]["skew_xy"] == pytest.approx(0.002, abs=1e-6)


def _offset_error(profile: Profile) -> float:
    return max(abs(profile.offsets[str(m)].x_px - x) + abs(profile.offsets[str(m)].y_px - y)
               for m, (x, y) in INJECTED.items() if m not in (10, 13))


def test_learning_converges_over_noisy_sessions() -> None:
    meta = raster()
    profile = hold_profile()
    errors = []
    for session in range(8):
        truth = lut_truth(meta, noise_px=1.0, seed=session)
        profile, _ = learn(profile, meta, truth, [1.0] * len(meta), learn_thermal=False)
        errors.append(_offset_error(profile))
    assert errors[0] < 3.0  # the seed's values are gone after one session
    assert sum(errors[-3:]) / 3 < 0.75 * errors[0]  # later sessions average the registration noise down
    assert profile.num_sessions == 8


def test_learning_tracks_a_changed_stage_at_the_learning_rate() -> None:
    meta = raster()
    profile = hold_profile()
    for session in range(6):
        profile, _ = learn(profile, meta, lut_truth(meta, seed=session), [1.0] * len(meta), learn_thermal=False,
                           learning_rate=0.3)
    changed = {**INJECTED, 3: (15.0, 4.0)}
    values = [profile.offsets["3"].x_px]
    for session in range(10):
        profile, _ = learn(profile, meta, lut_truth(meta, seed=session, offsets=changed), [1.0] * len(meta),
                           learn_thermal=False, learning_rate=0.3)
        values.append(profile.offsets["3"].x_px)
    assert values[0] == pytest.approx(5.0, abs=1e-3)
    assert all(b > a for a, b in itertools.pairwise(values))  # moves steadily towards the new value
    first_step = (values[1] - values[0]) / 10.0
    assert 0.25 < first_step < 0.6  # about the learning rate once the evidence has built up
    assert values[-1] == pytest.approx(15.0, abs=0.5)


def test_low_confidence_tiles_weigh_less_within_a_session() -> None:
    meta = raster()
    truth = lut_truth(meta)
    rows = [(i, move) for i, move in enumerate(classify_moves(meta)) if lut_mask(move, idle_axis="hold") == 3]
    corrupted = list(truth)
    confidence = [1.0] * len(meta)
    for k, (i, _) in enumerate(rows):
        if k % 2:  # every other DIAG_RIGHT_DOWN tile registered 12 px off, with low confidence
            corrupted[i] = (truth[i][0] + 12.0, truth[i][1])
            confidence[i] = 0.05
    learned, _ = learn(hold_profile(), meta, corrupted, confidence, learn_thermal=False)
    equal, _ = learn(hold_profile(), meta, corrupted, [1.0] * len(meta), learn_thermal=False)
    low = abs(learned.offsets["3"].x_px - 5.0)
    assert low < 1.0
    assert abs(equal.offsets["3"].x_px - 5.0) > 3.0 * low


def test_low_confidence_sessions_move_the_profile_less() -> None:
    meta = raster()
    profile, _ = learn(hold_profile(), meta, lut_truth(meta), [1.0] * len(meta), learn_thermal=False)
    shifted = lut_truth(meta, offsets={**INJECTED, 3: (11.0, 4.0)})
    confident, _ = learn(profile, meta, shifted, [1.0] * len(meta), learn_thermal=False)
    doubtful, _ = learn(profile, meta, shifted, [0.1] * len(meta), learn_thermal=False)
    moved_confident = confident.offsets["3"].x_px - 5.0
    moved_doubtful = doubtful.offsets["3"].x_px - 5.0
    assert 0 < moved_doubtful < 0.5 * moved_confident


def test_first_down_confidence_builds_per_session() -> None:
    meta = raster()
    profile = hold_profile()
    assert status_message(profile).startswith("No corrections learned yet")
    for session, expected in enumerate((25, 50, 75, 100, 100), start=1):
        profile, _ = learn(profile, meta, lut_truth(meta), [1.0] * len(meta), learn_thermal=False,
                           confidence_step=0.25, now=f"2026-03-0{session}T10:00:00")
        message = status_message(profile)
        assert f"Corrections from {session} session(s)." in message
        assert f"First-down confidence: {expected}%." in message
        assert f"Last updated: 2026-03-0{session}." in message


def test_thermal_drift_is_learned() -> None:
    meta = serpentine()
    truth = [(x + 0.3 * i, y - 0.2 * i) for i, (x, y) in enumerate(meta)]
    profile = get_model("backlash-state").new_profile("neutral")
    learned, report = learn(profile, meta, truth, [1.0] * len(meta))
    thermal = learned.thermal_for("unknown")
    assert thermal.decay_per_tile == pytest.approx(1.0)
    assert (thermal.drift_x_px_per_tile, thermal.drift_y_px_per_tile) == pytest.approx((0.3, -0.2), abs=1e-3)
    assert report["residual_rms_px"]["updated_profile"] < 1e-3
    # Learned for the cold state only: a preheated session is not corrected for it.
    assert learned.thermal_for("preheated").drift_x_px_per_tile == 0.0
    assert predict(learned, meta, thermal_state="cold")[-1][0] == pytest.approx(truth[-1][0] + predict(
        learned, meta)[0][0] - truth[0][0], abs=1e-3)


def test_corrector_learns_resets_and_refuses_bad_sessions(make_corrector: Callable[..., StoredCorrector]) -> None:
    corrector = make_corrector("backlash-state")
    meta = serpentine()
    truth = [(1.02 * x + 3.0, y) for x, y in meta]
    report = corrector.learn(meta, truth, [0.9] * len(meta))
    assert report["residual_rms_px"]["updated_profile"] < report["residual_rms_px"]["metadata"]
    assert "Corrections from 1 session(s)" in corrector.status()
    with pytest.raises(LearningError, match="at least 3 tiles"):
        corrector.learn(meta, truth, [0.0] * (len(meta) - 2) + [1.0, 1.0])
    corrector.reset()
    assert corrector.status().startswith("No corrections learned yet")
