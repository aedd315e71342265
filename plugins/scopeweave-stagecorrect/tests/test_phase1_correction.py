"""Seed testing strategy, phase 1: known injected backlash, the state machine, the first-down case."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from scopeweave_stagecorrect.pure import classify_moves, get_model, grid_layout, learn, predict, state_sequence
from scopeweave_stagecorrect.pure.models import SEED_V2_LUT
from scopeweave_stagecorrect.pure.movement import debug_report, lut_mask, mask_name, state_code
from scopeweave_stagecorrect.pure.profile import Affine, Offset, Profile

PIXEL_UM = 0.345


def serpentine(cols: int = 6, rows: int = 5, step: float = 400.0) -> list[tuple[float, float]]:
    return [(step * (c if r % 2 == 0 else cols - 1 - c), 300.0 * r) for r in range(rows) for c in range(cols)]


def with_x_backlash(meta: list[tuple[float, float]], backlash_px: float) -> list[tuple[float, float]]:
    """Truth of a stage that lags ``backlash_px`` behind after reversing to the left."""
    out, state = [], 0
    for i, (x, y) in enumerate(meta):
        if i and abs(x - meta[i - 1][0]) > 0.5:
            state = 1 if x > meta[i - 1][0] else -1
        out.append((x + (backlash_px if state < 0 else 0.0) + 7.0, y - 4.0))
    return out


def rms(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    n = len(a)
    mx = sum(q[0] - p[0] for p, q in zip(a, b, strict=False)) / n
    my = sum(q[1] - p[1] for p, q in zip(a, b, strict=False)) / n
    return math.sqrt(sum((q[0] - p[0] - mx) ** 2 + (q[1] - p[1] - my) ** 2 for p, q in zip(a, b, strict=False)) / n)


def test_injected_10um_x_backlash_is_detected_and_corrected() -> None:
    meta = serpentine()
    backlash_px = 10.0 / PIXEL_UM
    truth = with_x_backlash(meta, backlash_px)
    profile = get_model("backlash-state").new_profile("neutral")
    learned, report = learn(profile, meta, truth, [1.0] * len(meta), learn_thermal=False)
    detected = learned.offsets["left"].x_px - learned.offsets["right"].x_px
    assert detected == pytest.approx(backlash_px, abs=1e-3)
    assert rms(meta, truth) > 10.0
    assert rms(predict(learned, meta), truth) < 1e-3
    assert report["residual_rms_px"]["updated_profile"] < 1e-3


def test_lut_hold_corrects_serpentine_backlash_but_the_literal_mask_cannot() -> None:
    meta = serpentine()
    truth = with_x_backlash(meta, 10.0 / PIXEL_UM)
    model = get_model("lut-affine")
    errors = {}
    for idle_axis in ("hold", "literal"):
        profile = model.new_profile("identity")
        profile = replace(profile, settings={**profile.settings, "idle_axis": idle_axis})
        learned, _ = learn(profile, meta, truth, [1.0] * len(meta), learn_thermal=False, confidence_step=1.0)
        errors[idle_axis] = rms(predict(learned, meta), truth)
    assert errors["hold"] < 1e-3
    # The seed's literal mask gives the pure down moves one entry whatever X did before: it must miss.
    assert errors["literal"] > 1.0


MOVES = [(0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (200.0, 100.0), (100.0, 100.0), (0.0, 100.0), (0.0, 200.0)]


def test_state_sequence_right_right_down_left_left_down() -> None:
    moves = classify_moves(MOVES)
    assert state_sequence(moves) == "start, right, right, down, left, left, down"
    assert [state_code(m) for m in moves] == ["START", "RIGHT", "RIGHT", "Y_FIRST", "R_TO_L", "LEFT", "Y_SUBSEQ"]
    literal = [mask_name(lut_mask(m)) for m in moves]
    assert literal == ["START", "FIRST_RIGHT", "RIGHT", "FIRST_DOWN", "LEFT", "LEFT", "DOWN_LEFT"]
    assert [lut_mask(m) for m in moves] == [None, 10, 2, 9, 0, 0, 1]
    assert [lut_mask(m, idle_axis="hold") for m in moves] == [None, 10, 2, 11, 1, 1, 1]


def test_corrections_applied_at_each_transition() -> None:
    offsets = {
        "right": Offset(x_px=1.0, evidence=1.0), "left": Offset(x_px=-2.0, evidence=1.0),
        "down": Offset(y_px=3.0, evidence=1.0), "first_down": Offset(y_px=5.0, evidence=1.0, confidence=1.0),
        "backlash_x": Offset(x_px=0.5, evidence=1.0), "reversal": Offset(x_px=0.25, evidence=1.0),
        "backlash_y": Offset(y_px=0.7, evidence=1.0),
    }
    profile = Profile(model="backlash-state", offsets=offsets, num_sessions=1)
    corrected = predict(profile, MOVES)
    applied = [(c[0] - m[0], c[1] - m[1]) for c, m in zip(corrected, MOVES, strict=False)]
    expected = [
        (0.0, 0.0),  # START
        (1.0, 0.0),  # RIGHT
        (1.0, 0.0),  # RIGHT
        (1.0, 3.0 + 5.0),  # Y_FIRST: X still approached from the left side (right state) + down + first down
        (-2.0 + 0.5 + 0.25, 3.0),  # R_TO_L at a row change: left + backlash + reversal
        (-2.0, 3.0),  # LEFT
        (-2.0, 3.0),  # Y_SUBSEQ: no first-down offset any more
    ]
    assert [v for pair in applied for v in pair] == pytest.approx([v for pair in expected for v in pair])


def test_first_down_offset_is_scaled_by_its_confidence() -> None:
    base = {"down": Offset(y_px=3.0, evidence=1.0)}
    for confidence in (0.0, 0.4, 1.0):
        offsets = {**base, "first_down": Offset(y_px=10.0, evidence=1.0, confidence=confidence)}
        corrected = predict(Profile(model="backlash-state", offsets=offsets, num_sessions=2), MOVES)
        assert corrected[3][1] - MOVES[3][1] == pytest.approx(3.0 + 10.0 * confidence)
        assert corrected[6][1] - MOVES[6][1] == pytest.approx(3.0)


def test_default_lut_profile_is_the_seed_calibration() -> None:
    profile = get_model("lut-affine").new_profile("seed-v2-251")
    assert profile.affine == Affine(scale_x=1.03265, scale_y=1.00210, skew_xy=0.0066, skew_yx=0.0066)
    assert {k: (v.x_px, v.y_px) for k, v in profile.offsets.items()} == SEED_V2_LUT
    assert profile.thermal_for("unknown").decay_per_tile == 0.95
    meta = [(0.0, 0.0), (400.0, 0.0), (800.0, 0.0), (800.0, 300.0), (400.0, 300.0), (0.0, 300.0), (800.0, 600.0)]
    corrected = predict(profile, meta)
    # P = M @ P_meta + LUT[mask], relative to the first tile (the seed's formula).
    assert corrected[1] == pytest.approx((1.03265 * 400 + 18.37, 0.0066 * 400 - 5.20))  # FIRST_RIGHT
    assert corrected[2] == pytest.approx((1.03265 * 800 + 0.84, 0.0066 * 800 - 5.20))  # RIGHT
    # FIRST_DOWN (9): straight down, so not right.
    assert corrected[3] == pytest.approx((1.03265 * 800 - 0.0066 * 300 - 30.40, 0.0066 * 800 + 1.0021 * 300 + 18.60))
    assert corrected[4] == pytest.approx((1.03265 * 400 - 0.0066 * 300 - 5.12, 0.0066 * 400 + 1.0021 * 300 - 3.80))
    # An 800 px right + down jump is a sweep (> 500 px): SWEEP_RIGHT_DOWN (7).
    assert corrected[6] == pytest.approx((1.03265 * 800 - 0.0066 * 600 + 14.50, 0.0066 * 800 + 1.0021 * 600 + 12.20))


def test_first_down_lut_entry_only_on_the_first_down() -> None:
    profile = get_model("lut-affine").new_profile("identity")
    offsets = {"1": Offset(x_px=-1.0, y_px=2.0, evidence=1.0), "9": Offset(x_px=-8.0, y_px=6.0, evidence=1.0,
                                                                            confidence=1.0)}
    profile = replace(profile, offsets=offsets, num_sessions=1)
    corrected = predict(profile, MOVES)
    assert (corrected[3][0] - MOVES[3][0], corrected[3][1] - MOVES[3][1]) == pytest.approx((-8.0, 6.0))
    assert (corrected[6][0] - MOVES[6][0], corrected[6][1] - MOVES[6][1]) == pytest.approx((-1.0, 2.0))
    half = replace(profile, offsets={**offsets, "9": replace(offsets["9"], confidence=0.5)})
    assert predict(half, MOVES)[3][0] - MOVES[3][0] == pytest.approx(0.5 * -8.0 + 0.5 * -1.0)


def test_sweep_and_long_moves() -> None:
    meta = [(0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (800.0, 0.0), (0.0, 100.0), (0.0, 600.0)]
    moves = classify_moves(meta, sweep_limit_px=500.0, long_move_factor=2.0, step_px=(100.0, 100.0))
    assert [m.is_sweep for m in moves] == [False, False, False, True, True, False]
    assert [m.label for m in moves] == ["start", "right", "right", "long_right", "long", "long_down"]
    assert [state_code(m) for m in moves] == ["START", "RIGHT", "RIGHT", "LONG_R", "LONG_DIAG", "LONG_Y"]
    assert [lut_mask(m) for m in moves][3:] == [6, 13, 1]


def test_grid_layout_and_debug_output_as_in_the_seed() -> None:
    # The seed's example: 10 tiles in a 4 x 5 bounding box.
    cells = [(1, 0), (0, 1), (1, 1), (2, 1), (3, 1), (2, 2), (3, 2), (2, 3), (3, 3), (3, 4)]
    positions = [(250.0 * c, 200.0 * r) for c, r in cells]
    assert grid_layout(positions) == ["0x00", "xxxx", "00xx", "00xx", "000x"]
    report = debug_report(positions, classify_moves(positions), codes=["A"] * 10)
    lines = report.splitlines()
    assert lines[0] == "=== GRID LAYOUT ==="
    assert lines[6] == "=== STATE SEQUENCE ==="
    assert lines[7].startswith("start, ")
    assert lines[8] == "=== STATE CODES ==="
