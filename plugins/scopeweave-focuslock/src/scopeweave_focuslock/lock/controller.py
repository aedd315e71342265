"""The focus-lock state machine: readings in, safe relative Z commands out.

The controller is pure: it sees one :class:`Reading` per loop iteration and
the stage's position, and returns a :class:`Decision` — hold, or move the Z
stage to a target. It never touches hardware, so every safety property can be
tested exhaustively.

Sign convention: a reading's ``z_um`` is the defocus measured through the
calibration, which was recorded against the stage, so moving the stage by
``+d`` changes the reading by ``+d``.  The lock holds the reading found when
it engaged (a relative setpoint); the correction for an error ``e`` is ``-e``.

Safety properties (each tested with hypothesis):

- every commanded target is finite and inside ``engage_z ± max_excursion_um``
  and inside the stage limits;
- a reading that is not valid never moves the stage;
- no step is larger than ``max_step_um``;
- once stopped, the controller never moves the stage again.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections import deque
from typing import Any

import attrs
import numpy as np

__all__ = ["Decision", "FocusLockController", "LockSettings", "LockState", "Reading"]


class LockState(str, enum.Enum):
    """States of the focus lock."""

    IDLE = "idle"
    ENGAGING = "engaging"
    LOCKED = "locked"
    DEGRADED = "degraded"
    LOST = "lost"
    RECOVERING = "recovering"
    STOPPED = "stopped"


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"'{attribute.name}' must be a finite number > 0 (got {value!r}).")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"'{attribute.name}' must be a finite number >= 0 (got {value!r}).")


def _count(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 (got {value!r}).")


@attrs.frozen(kw_only=True)
class LockSettings:
    """Tuning and safety limits of the focus lock.

    Attributes
    ----------
    kp, ki
        Proportional and integral gains (per reading; ``ki`` acts on the sum of errors).
    max_step_um
        Largest single Z move.
    command_deadband_um
        Errors smaller than this (or than ``deadband_noise_factor`` times the
        measured noise, whichever is larger) do not move the stage.
    deadband_noise_factor
        Dynamic deadband: multiples of the reading noise (robust std of the
        last ``noise_window`` errors).
    noise_window
        Readings used to estimate the noise.
    max_excursion_um
        The stage never leaves engage position ± this.
    integral_limit_um
        Anti-windup: the integral term's contribution is clamped to ± this.
    engage_readings
        Consecutive valid readings needed to take the setpoint.
    engage_stability_um
        Their standard deviation must be below this.
    engage_ramp_readings
        After engaging, the gains ramp from 1/N to full over N readings.
    good_lock_tolerance_um, good_lock_readings
        The lock is "good" after this many consecutive readings within tolerance.
    min_quality
        Readings with a fit quality below this are invalid.
    reference_uncertainty_um
        Confidence weighting: a reading with this z uncertainty gets weight 1/2.
    degraded_after, lost_after
        Consecutive invalid readings before the state becomes degraded, then lost.
    runaway_readings, runaway_growth
        Anti-runaway: if |error| grows by more than ``runaway_growth`` times over
        ``runaway_readings`` consecutive corrections (and is above the deadband),
        the lock stops and holds.
    excursion_pinned_readings
        Stop when the controller has wanted to go beyond the excursion window for
        this many consecutive readings.
    recovery_step_um, recovery_range_um
        Lost-lock recovery scans last-good-z ± range in these steps.
    recovery_dwell_readings
        Readings taken at each scan position.
    """

    kp: float = attrs.field(default=0.7, validator=_positive)
    ki: float = attrs.field(default=0.15, validator=_non_negative)
    max_step_um: float = attrs.field(default=0.2, validator=_positive)
    command_deadband_um: float = attrs.field(default=0.01, validator=_non_negative)
    deadband_noise_factor: float = attrs.field(default=1.0, validator=_non_negative)
    noise_window: int = attrs.field(default=30, validator=_count)
    max_excursion_um: float = attrs.field(default=5.0, validator=_positive)
    integral_limit_um: float = attrs.field(default=0.5, validator=_non_negative)
    engage_readings: int = attrs.field(default=5, validator=_count)
    engage_stability_um: float = attrs.field(default=0.05, validator=_positive)
    engage_ramp_readings: int = attrs.field(default=10, validator=_count)
    good_lock_tolerance_um: float = attrs.field(default=0.03, validator=_positive)
    good_lock_readings: int = attrs.field(default=5, validator=_count)
    min_quality: float = attrs.field(default=0.2, validator=_non_negative)
    reference_uncertainty_um: float = attrs.field(default=0.05, validator=_positive)
    degraded_after: int = attrs.field(default=1, validator=_count)
    lost_after: int = attrs.field(default=15, validator=_count)
    runaway_readings: int = attrs.field(default=8, validator=_count)
    runaway_growth: float = attrs.field(default=3.0, validator=_positive)
    excursion_pinned_readings: int = attrs.field(default=10, validator=_count)
    recovery_step_um: float = attrs.field(default=0.1, validator=_positive)
    recovery_range_um: float = attrs.field(default=1.0, validator=_non_negative)
    recovery_dwell_readings: int = attrs.field(default=2, validator=_count)


@attrs.frozen(kw_only=True)
class Reading:
    """One measurement of the focus.

    Attributes
    ----------
    z_um
        Defocus from the calibration (NaN when there is none).
    z_uncertainty_um
        Its one-sigma uncertainty.
    quality
        Fit quality in [0, 1].
    valid
        False for a reading that must not drive the stage.
    reason
        Why it is invalid ("low signal", "spot at ROI edge", "outside calibration domain", ...).
    """

    z_um: float
    z_uncertainty_um: float = 0.0
    quality: float = 1.0
    valid: bool = True
    reason: str = ""

    @property
    def usable(self) -> bool:
        """Valid, finite and with a finite uncertainty."""
        return self.valid and math.isfinite(self.z_um) and math.isfinite(self.z_uncertainty_um)


@attrs.frozen(kw_only=True)
class Decision:
    """What the controller wants after one reading."""

    state: LockState
    target_z_um: float | None
    error_um: float
    lock_good: bool
    weight: float = 0.0
    deadband_um: float = 0.0
    note: str = ""


class FocusLockController:
    """Holds the focus found at engage time by relative Z corrections.

    Parameters
    ----------
    settings
        Gains and limits.
    stage_limits_um
        ``(low, high)`` travel of the Z stage; commands stay inside it.
    """

    def __init__(self, settings: LockSettings, *, stage_limits_um: tuple[float, float]) -> None:
        self.settings = settings
        self.stage_limits_um = (float(stage_limits_um[0]), float(stage_limits_um[1]))
        self.state = LockState.IDLE
        self.setpoint_um = math.nan
        self.engage_z_um = math.nan
        self.last_good_z_um: float | None = None
        self.stop_reason = ""
        self._integral = 0.0
        self._engage_buffer: deque[float] = deque(maxlen=settings.engage_readings)
        self._errors: deque[float] = deque(maxlen=settings.noise_window)
        self._runaway: deque[float] = deque(maxlen=settings.runaway_readings)
        self._good_count = 0
        self._bad_count = 0
        self._pinned_count = 0
        self._locked_steps = 0
        self._scan: list[float] = []
        self._scan_dwell = 0
        self.n_corrections = 0

    # --- commands from the operator -----------------------------------------
    def engage(self, stage_z_um: float) -> None:
        """Start locking at the current stage position (the excursion window is centred here)."""
        if not math.isfinite(stage_z_um):
            raise ValueError(f"cannot engage at a non-finite stage position ({stage_z_um}).")
        self.state = LockState.ENGAGING
        self.engage_z_um = float(stage_z_um)
        self.setpoint_um = math.nan
        self.stop_reason = ""
        self._reset_loop()
        self._engage_buffer.clear()
        self._errors.clear()
        self.last_good_z_um = None

    def stop(self, reason: str = "stopped by the operator") -> None:
        """Stop and hold; only :meth:`engage` starts again."""
        self.state = LockState.STOPPED
        self.stop_reason = reason
        self._reset_loop()

    @property
    def window_um(self) -> tuple[float, float]:
        """The positions the stage may be commanded to."""
        low = max(self.stage_limits_um[0], self.engage_z_um - self.settings.max_excursion_um)
        high = min(self.stage_limits_um[1], self.engage_z_um + self.settings.max_excursion_um)
        return low, high

    # --- one loop iteration ----------------------------------------------------
    def step(self, reading: Reading, stage_z_um: float) -> Decision:
        """Consume one reading taken with the stage at ``stage_z_um``."""
        s = self.settings
        if self.state in (LockState.IDLE, LockState.STOPPED):
            return self._hold(math.nan, note=self.stop_reason)
        if not math.isfinite(stage_z_um):
            self.stop("the stage reported a non-finite position")
            return self._hold(math.nan, note=self.stop_reason)
        usable = reading.usable and reading.quality >= s.min_quality
        if self.state == LockState.RECOVERING:
            return self._recover(reading, usable, stage_z_um)
        if self.state == LockState.ENGAGING and math.isnan(self.setpoint_um):
            return self._acquire_setpoint(reading, usable)
        if not usable:
            return self._bad_reading(reading, stage_z_um)
        self._bad_count = 0
        error = reading.z_um - self.setpoint_um
        if self.state in (LockState.DEGRADED, LockState.LOST):
            self.state = LockState.LOCKED
        return self._control(error, reading, stage_z_um)

    # --- pieces ----------------------------------------------------------------
    def _reset_loop(self) -> None:
        self._integral = 0.0
        self._runaway.clear()
        self._good_count = 0
        self._bad_count = 0
        self._pinned_count = 0
        self._locked_steps = 0

    def _hold(self, error_um: float, *, note: str = "", deadband_um: float = 0.0) -> Decision:
        return Decision(state=self.state, target_z_um=None, error_um=error_um, lock_good=self.lock_good,
                        deadband_um=deadband_um, note=note)

    @property
    def lock_good(self) -> bool:
        """N consecutive readings within tolerance while locked."""
        return self.state == LockState.LOCKED and self._good_count >= self.settings.good_lock_readings

    def _acquire_setpoint(self, reading: Reading, usable: bool) -> Decision:
        s = self.settings
        if not usable:
            self._engage_buffer.clear()
            self._bad_count += 1
            reason = reading.reason or "invalid reading"
            if self._bad_count >= s.lost_after:
                self.stop(f"could not engage: {self._bad_count} readings in a row were unusable ({reason})")
                return self._hold(math.nan, note=self.stop_reason)
            return self._hold(math.nan, note=f"engaging: waiting for a valid reading ({reason})")
        self._bad_count = 0
        self._engage_buffer.append(reading.z_um)
        if len(self._engage_buffer) < s.engage_readings:
            return self._hold(math.nan, note="engaging: collecting readings")
        values = np.asarray(self._engage_buffer)
        if float(np.std(values)) > s.engage_stability_um:
            return self._hold(math.nan, note=f"engaging: readings not stable (std {np.std(values) * 1000:.1f} nm)")
        self.setpoint_um = float(np.mean(values))
        return self._hold(0.0, note=f"engaged: holding z = {self.setpoint_um:.4f} um of the calibration")

    def _bad_reading(self, reading: Reading, stage_z_um: float) -> Decision:
        s = self.settings
        self._bad_count += 1
        self._good_count = 0
        self._integral = 0.0  # the signal dropped out: never let the integrator act on stale errors
        self._runaway.clear()
        reason = reading.reason or ("low fit quality" if reading.usable else "invalid reading")
        if self._bad_count >= s.lost_after:
            self.state = LockState.LOST
            if self.last_good_z_um is not None:
                self._start_recovery()
                return self._hold(math.nan, note=f"lock lost ({reason}); scanning around the last good z")
            self.stop(f"lock lost ({reason}) and no good lock to return to")
            return self._hold(math.nan, note=self.stop_reason)
        if self._bad_count >= s.degraded_after and self.state != LockState.ENGAGING:
            self.state = LockState.DEGRADED
        return self._hold(math.nan, note=f"holding: {reason}")

    def _noise_um(self) -> float:
        if len(self._errors) < 5:
            return 0.0
        diffs = np.diff(np.asarray(self._errors))
        mad = float(np.median(np.abs(diffs - np.median(diffs))))
        return 1.4826 * mad / math.sqrt(2.0)

    def _control(self, error: float, reading: Reading, stage_z_um: float) -> Decision:
        s = self.settings
        self._errors.append(error)
        if abs(error) <= s.good_lock_tolerance_um:
            self._good_count += 1
        else:
            self._good_count = 0
        if self.state == LockState.LOCKED and self._good_count >= s.good_lock_readings:
            self.last_good_z_um = stage_z_um
        deadband = max(s.command_deadband_um, s.deadband_noise_factor * self._noise_um())
        ramp = 1.0
        if self.state == LockState.ENGAGING:
            self._locked_steps += 1
            ramp = self._locked_steps / s.engage_ramp_readings
            if self._locked_steps >= s.engage_ramp_readings:
                self.state = LockState.LOCKED
        weight = min(1.0, max(0.0, reading.quality)) / (1.0 + (reading.z_uncertainty_um / s.reference_uncertainty_um) ** 2)
        if abs(error) <= deadband:
            self._runaway.clear()
            return self._hold(error, note="inside the deadband", deadband_um=deadband)
        proportional = s.kp * error
        integral_candidate = self._integral + s.ki * error
        integral_candidate = max(-s.integral_limit_um, min(s.integral_limit_um, integral_candidate))
        raw = -(ramp * weight) * (proportional + integral_candidate)
        delta = max(-s.max_step_um, min(s.max_step_um, raw))
        if delta == raw:  # conditional integration: do not wind up while the step is clamped
            self._integral = integral_candidate
        low, high = self.window_um
        target = stage_z_um + delta
        clamped = min(high, max(low, target))
        if clamped != target:
            self._pinned_count += 1
            self._runaway.clear()
            if self._pinned_count >= s.excursion_pinned_readings:
                self.stop(f"excursion limit: the lock kept asking for more than ±{s.max_excursion_um} um "
                          f"around the engage position {self.engage_z_um:.3f} um")
                return self._hold(error, note=self.stop_reason, deadband_um=deadband)
        else:
            self._pinned_count = 0
            if self._runaway_detected(error, deadband):
                self.stop(f"anti-runaway: the error grew from {self._runaway[0] * 1000:.0f} nm to "
                          f"{abs(error) * 1000:.0f} nm while correcting")
                return self._hold(error, note=self.stop_reason, deadband_um=deadband)
        if not math.isfinite(clamped) or clamped == stage_z_um:
            return self._hold(error, note="no move needed", deadband_um=deadband)
        self.n_corrections += 1
        return Decision(state=self.state, target_z_um=clamped, error_um=error, lock_good=self.lock_good,
                        weight=weight, deadband_um=deadband)

    def _runaway_detected(self, error: float, deadband: float) -> bool:
        s = self.settings
        self._runaway.append(abs(error))
        if len(self._runaway) < s.runaway_readings:
            return False
        values = list(self._runaway)
        growing = all(b > a for a, b in itertools.pairwise(values))
        return growing and values[-1] > s.runaway_growth * max(values[0], deadband)

    def _start_recovery(self) -> None:
        s = self.settings
        assert self.last_good_z_um is not None
        low, high = self.window_um
        n = math.floor(s.recovery_range_um / s.recovery_step_um + 1e-9)
        offsets = [0.0]
        for k in range(1, n + 1):
            offsets += [k * s.recovery_step_um, -k * s.recovery_step_um]
        self._scan = [self.last_good_z_um + o for o in offsets if low <= self.last_good_z_um + o <= high]
        self._scan_dwell = 0
        self.state = LockState.RECOVERING
        self._reset_loop()

    def _recover(self, reading: Reading, usable: bool, stage_z_um: float) -> Decision:
        s = self.settings
        if usable:
            self.state = LockState.LOCKED
            self._reset_loop()
            return self._hold(reading.z_um - self.setpoint_um, note="signal found: lock resumed")
        if not self._scan:
            self.stop("recovery scan around the last good z found no usable signal")
            return self._hold(math.nan, note=self.stop_reason)
        target = self._scan[0]
        if abs(stage_z_um - target) > 1e-9:
            self._scan_dwell = 0
            step = max(-s.max_step_um, min(s.max_step_um, target - stage_z_um))
            return Decision(state=self.state, target_z_um=stage_z_um + step, error_um=math.nan, lock_good=False,
                            note=f"recovery: moving to {target:.3f} um")
        self._scan_dwell += 1
        if self._scan_dwell >= s.recovery_dwell_readings:
            self._scan.pop(0)
            self._scan_dwell = 0
        return self._hold(math.nan, note=f"recovery: no signal at {target:.3f} um")
