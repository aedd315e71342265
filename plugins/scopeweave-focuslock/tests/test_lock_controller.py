"""The focus-lock state machine on a simple plant, including hypothesis safety properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scopeweave_focuslock.lock.controller import FocusLockController, LockSettings, LockState, Reading

LIMITS_UM = (0.0, 200.0)


def _run(settings_: LockSettings, drift_um, noise_um=0.0, *, start_um=100.0, bad=None, seed=0, engage_at=0):
    """Close the loop on a plant whose reading is stage_z - focus(t) + noise."""
    rng = np.random.default_rng(seed)
    controller = FocusLockController(settings_, stage_limits_um=LIMITS_UM)
    stage = start_um
    log = []
    for i, drift in enumerate(drift_um):
        if i == engage_at:
            controller.engage(stage)
        z = stage - 100.0 - drift + rng.normal(0, noise_um)
        reading = Reading(z_um=z, z_uncertainty_um=max(noise_um, 1e-3))
        if bad is not None and bad[i] is not None:
            reading = bad[i]
        decision = controller.step(reading, stage)
        log.append((i, stage, reading, decision, controller.state))
        if decision.target_z_um is not None:
            stage = decision.target_z_um
    return controller, log


def test_holds_the_engaged_position_not_the_calibration_focus() -> None:
    # Engaged 0.3 um away from the calibration's focus: the lock must keep that offset.
    drift = np.zeros(200)
    controller, log = _run(LockSettings(), drift, noise_um=0.005, start_um=100.3)
    assert controller.state == LockState.LOCKED
    assert controller.setpoint_um == pytest.approx(0.3, abs=0.01)
    assert log[-1][1] == pytest.approx(100.3, abs=0.02)


def test_tracks_ramp_plus_sine_drift() -> None:
    t = np.arange(1800) / 30.0  # 60 s at 30 Hz
    drift = 1.0 * t / 60.0 + 0.2 * np.sin(2 * np.pi * t / 20.0)
    controller, log = _run(LockSettings(), drift, noise_um=0.01)
    errors = np.array([d.error_um for *_, d, _s in log[60:] if math.isfinite(d.error_um)])
    assert controller.state == LockState.LOCKED
    assert np.sqrt(np.mean(errors**2)) < 0.02
    assert controller.lock_good


def test_step_is_recovered_within_stated_frames() -> None:
    drift = np.zeros(300)
    drift[150:] = 0.5
    _, log = _run(LockSettings(), drift, noise_um=0.005)
    errors = np.array([abs(d.error_um) for *_, d, _s in log])
    assert errors[150] == pytest.approx(0.5, abs=0.03)
    recovered = next(i for i in range(151, 300) if errors[i] < 0.03)
    assert recovered - 150 <= 12  # max_step 0.2 um: three clamped steps, then PI convergence


def test_invalid_readings_hold_then_degrade_then_lose_and_recover() -> None:
    n = 200
    bad = [None] * n
    invalid = Reading(z_um=math.nan, valid=False, reason="low signal")
    for i in range(100, 130):
        bad[i] = invalid
    controller, log = _run(LockSettings(lost_after=15), np.zeros(n), noise_um=0.003, bad=bad)
    states = [s for *_, s in log]
    assert states[100] == LockState.DEGRADED
    assert LockState.RECOVERING in states[114:130]
    assert controller.state == LockState.LOCKED
    for _i, _stage, reading, decision, state in log:
        if not reading.valid and state != LockState.RECOVERING:
            assert decision.target_z_um is None


def test_stops_when_no_good_lock_to_return_to() -> None:
    bad = [Reading(z_um=0.0, valid=False, reason="blank frame")] * 40
    controller, log = _run(LockSettings(lost_after=10), np.zeros(40), bad=bad)
    assert controller.state == LockState.STOPPED
    assert controller.stop_reason == "could not engage: 10 readings in a row were unusable (blank frame)"
    assert all(d.target_z_um is None for *_, d, _s in log)


def test_anti_runaway_stops_a_wrong_sign_lock() -> None:
    """A calibration with the wrong sign makes every correction worse: the lock must stop and hold."""
    controller = FocusLockController(LockSettings(), stage_limits_um=LIMITS_UM)
    stage = 100.0
    controller.engage(stage)
    moves = []
    for i in range(200):
        drift = 0.3 if i > 20 else 0.0
        reading = Reading(z_um=-(stage - 100.0 - drift), z_uncertainty_um=0.005)  # sign flipped
        decision = controller.step(reading, stage)
        if decision.target_z_um is not None:
            moves.append(decision.target_z_um)
            stage = decision.target_z_um
        if controller.state == LockState.STOPPED:
            break
    assert controller.state == LockState.STOPPED
    assert "anti-runaway" in controller.stop_reason or "excursion" in controller.stop_reason
    assert abs(stage - 100.0) < LockSettings().max_excursion_um


def test_excursion_limit_stops_the_lock() -> None:
    drift = np.linspace(0, 20.0, 2000)  # far more than the 2 um window
    controller, log = _run(LockSettings(max_excursion_um=2.0, max_step_um=0.5), drift, noise_um=0.001)
    assert controller.state == LockState.STOPPED
    assert "excursion limit" in controller.stop_reason
    assert max(abs(stage - 100.0) for _, stage, *_ in log) <= 2.0 + 1e-9


def test_engage_waits_for_stable_readings() -> None:
    controller = FocusLockController(LockSettings(engage_readings=5, engage_stability_um=0.01), stage_limits_um=LIMITS_UM)
    controller.engage(100.0)
    for z in (0.0, 0.2, -0.2, 0.1, 0.0):
        controller.step(Reading(z_um=z), 100.0)
    assert math.isnan(controller.setpoint_um)
    for _ in range(5):
        controller.step(Reading(z_um=0.05), 100.0)
    assert controller.setpoint_um == pytest.approx(0.05)


def test_engage_ramp_starts_gently() -> None:
    controller = FocusLockController(LockSettings(engage_readings=1, engage_ramp_readings=10, ki=0.0), stage_limits_um=LIMITS_UM)
    controller.engage(100.0)
    controller.step(Reading(z_um=0.0), 100.0)
    first = controller.step(Reading(z_um=0.1), 100.0)
    assert first.target_z_um == pytest.approx(100.0 - 0.7 * 0.1 / 10)
    assert first.state == LockState.ENGAGING


def test_low_confidence_readings_move_less() -> None:
    def first_move(uncertainty_um: float, quality: float) -> float:
        controller = FocusLockController(LockSettings(engage_readings=1, engage_ramp_readings=1, ki=0.0), stage_limits_um=LIMITS_UM)
        controller.engage(100.0)
        controller.step(Reading(z_um=0.0), 100.0)
        decision = controller.step(Reading(z_um=0.1, z_uncertainty_um=uncertainty_um, quality=quality), 100.0)
        assert decision.target_z_um is not None
        return 100.0 - decision.target_z_um

    assert first_move(0.0, 1.0) == pytest.approx(0.07)
    assert first_move(0.05, 1.0) == pytest.approx(0.035)
    assert first_move(0.0, 0.5) == pytest.approx(0.035)


def test_dynamic_deadband_follows_the_noise() -> None:
    _, log = _run(LockSettings(command_deadband_um=0.001), np.zeros(400), noise_um=0.03, seed=2)
    deadbands = [d.deadband_um for *_, d, _s in log[100:]]
    assert np.median(deadbands) == pytest.approx(0.03, rel=0.35)


def test_integrator_does_not_wind_up_while_clamped() -> None:
    drift = np.zeros(200)
    drift[50:] = 3.0  # a big step: many clamped steps
    _controller, log = _run(LockSettings(max_step_um=0.1, ki=0.3), drift, noise_um=0.001)
    stages = np.array([stage for _, stage, *_ in log])
    overshoot = stages[60:].max() - 103.0
    assert overshoot < 0.1


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="'kp' must be a finite number > 0"):
        LockSettings(kp=0.0)
    with pytest.raises(ValueError, match="'max_excursion_um'"):
        LockSettings(max_excursion_um=float("nan"))


readings = st.one_of(
    st.builds(Reading, z_um=st.floats(-5, 5), z_uncertainty_um=st.floats(0, 1), quality=st.floats(0, 1)),
    st.builds(Reading, z_um=st.sampled_from([math.nan, math.inf, -math.inf]), valid=st.booleans()),
    st.builds(Reading, z_um=st.floats(-5, 5), valid=st.just(False), reason=st.just("blank frame")),
    st.builds(Reading, z_um=st.floats(-1e6, 1e6), z_uncertainty_um=st.sampled_from([math.nan, 0.0, 1e9])),
)


@settings(max_examples=150, deadline=None)
@given(
    sequence=st.lists(readings, min_size=1, max_size=120),
    start_um=st.floats(1.0, 199.0),
    excursion_um=st.floats(0.05, 10.0),
    max_step_um=st.floats(0.01, 1.0),
    kp=st.floats(0.05, 3.0),
    ki=st.floats(0.0, 1.0),
    lost_after=st.integers(1, 20),
)
def test_safety_properties_under_arbitrary_readings(sequence, start_um, excursion_um, max_step_um, kp, ki, lost_after) -> None:
    s = LockSettings(max_excursion_um=excursion_um, max_step_um=max_step_um, kp=kp, ki=ki, lost_after=lost_after,
                     engage_readings=1, engage_stability_um=10.0)
    controller = FocusLockController(s, stage_limits_um=LIMITS_UM)
    controller.engage(start_um)
    stage = start_um
    stopped = False
    for reading in sequence:
        state_before = controller.state
        decision = controller.step(reading, stage)
        if decision.target_z_um is None:
            continue
        target = decision.target_z_um
        assert math.isfinite(target)
        assert start_um - excursion_um - 1e-9 <= target <= start_um + excursion_um + 1e-9
        assert LIMITS_UM[0] <= target <= LIMITS_UM[1]
        assert abs(target - stage) <= max_step_um + 1e-9
        assert not stopped
        if not (reading.usable and reading.quality >= s.min_quality):
            # Only the lost-lock recovery scan may move on a bad reading, and only near the last good z.
            assert state_before == LockState.RECOVERING or controller.state == LockState.RECOVERING
            assert controller.last_good_z_um is not None
            assert abs(target - controller.last_good_z_um) <= s.recovery_range_um + max_step_um + 1e-9
        stopped = controller.state == LockState.STOPPED
        stage = target


def test_recovery_scan_that_finds_nothing_stops_near_the_last_good_z() -> None:
    n = 300
    bad = [None] * 100 + [Reading(z_um=math.nan, valid=False, reason="spot lost")] * (n - 100)
    s = LockSettings(lost_after=10, recovery_range_um=0.3, recovery_step_um=0.1, recovery_dwell_readings=2)
    controller, log = _run(s, np.zeros(n), noise_um=0.002, bad=bad)
    assert controller.state == LockState.STOPPED
    assert "recovery scan" in controller.stop_reason
    scanned = sorted({round(stage, 6) for _, stage, _, _, state in log if state == LockState.RECOVERING})
    last_good = controller.last_good_z_um
    assert last_good is not None
    assert min(scanned) >= last_good - 0.3 - 1e-6
    assert max(scanned) <= last_good + 0.3 + 1e-6
    assert len(scanned) >= 5  # 0, ±0.1, ±0.2, ±0.3 visited
