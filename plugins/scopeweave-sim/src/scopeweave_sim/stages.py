"""Simulated Z and XY stages, with fault injection and systematic XY errors."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from scopeweave.errors import ComponentError
from scopeweave.kinds import Stage

__all__ = ["SimXYParams", "SimXYStage", "SimZParams", "SimZStage"]


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def _optional_positive_int(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 when given (got {value!r}).")


def _limits(instance: object, attribute: attrs.Attribute[Any], value: tuple[float, float]) -> None:
    low, high = value
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"'{attribute.name}' must be finite with low < high (got {value!r}).")


@attrs.frozen(kw_only=True)
class SimZParams:
    """Parameters of ``sim-z``.

    Attributes
    ----------
    limits_um
        ``(low, high)`` travel range.
    start_um
        Position after initialisation.
    settle_ms
        Real time each move waits before it returns.
    step_um
        Position quantisation (0: continuous).
    fail_after_moves
        The move after this many raises a stage fault.
    stuck_after_moves
        After this many moves the stage silently stops moving.
    """

    limits_um: tuple[float, float] = attrs.field(default=(0.0, 200.0), validator=_limits)
    start_um: float = 100.0
    settle_ms: float = attrs.field(default=0.0, validator=_non_negative)
    step_um: float = attrs.field(default=0.0, validator=_non_negative)
    fail_after_moves: int | None = attrs.field(default=None, validator=_optional_positive_int)
    stuck_after_moves: int | None = attrs.field(default=None, validator=_optional_positive_int)

    def __attrs_post_init__(self) -> None:
        low, high = self.limits_um
        if not low <= self.start_um <= high:
            raise ValueError(f"'start_um' must lie inside limits_um {self.limits_um} (got {self.start_um}).")


class SimZStage(Stage):
    """A focus drive: one axis ``z``."""

    def __init__(self, params: SimZParams) -> None:
        super().__init__(axes=("z",), limits_um=(params.limits_um,))
        self.params = params
        self._z_um = params.start_um
        self.n_moves = 0
        self.history_um: list[float] = []

    def _do_get_position_um(self) -> Sequence[float]:
        return (self._z_um,)

    def _do_move_to_um(self, position_um: tuple[float, ...]) -> None:
        p = self.params
        if p.fail_after_moves is not None and self.n_moves >= p.fail_after_moves:
            raise ComponentError(f"simulated stage fault: sim-z failed on move {self.n_moves + 1}")
        self.n_moves += 1
        self.history_um.append(position_um[0])
        if p.stuck_after_moves is not None and self.n_moves > p.stuck_after_moves:
            return
        target = position_um[0]
        if p.step_um > 0:
            target = round(target / p.step_um) * p.step_um
        self._z_um = float(target)
        if p.settle_ms > 0:
            time.sleep(p.settle_ms / 1000.0)


@attrs.frozen(kw_only=True)
class SimXYParams:
    """Parameters of ``sim-xy``: a stage that reports where it was told to go.

    The stage's true position differs from the commanded one by systematic
    errors (for the stage-correction tests): ``true = M @ commanded +
    backlash + per-move noise + thermal drift``, with ``M = [[scale_x, skew],
    [0, scale_y]]``.

    Attributes
    ----------
    limits_um
        ``((x_low, x_high), (y_low, y_high))``.
    start_um
        Position after initialisation.
    scale_x, scale_y
        Per-axis scale errors (1 = none).
    skew
        Shear of x with y (``true_x += skew * commanded_y``).
    backlash_um
        ``(x, y)`` lost motion after a direction reversal on that axis.
    move_noise_um
        RMS of a fresh random error after each move (repeatability).
    thermal_drift_um_per_min
        ``(x, y)`` drift rate over the stage's simulated time.
    move_time_s
        Simulated time each move takes (drives the thermal drift).
    seed
        Seed of the move noise.
    """

    limits_um: tuple[tuple[float, float], tuple[float, float]] = ((-50000.0, 50000.0), (-50000.0, 50000.0))
    start_um: tuple[float, float] = (0.0, 0.0)
    scale_x: float = 1.0
    scale_y: float = 1.0
    skew: float = 0.0
    backlash_um: tuple[float, float] = (0.0, 0.0)
    move_noise_um: float = attrs.field(default=0.0, validator=_non_negative)
    thermal_drift_um_per_min: tuple[float, float] = (0.0, 0.0)
    move_time_s: float = attrs.field(default=1.0, validator=_non_negative)
    seed: int = 0


class SimXYStage(Stage):
    """An XY stage; :meth:`position_um` is the commanded (metadata) position,
    :meth:`true_position_um` where the sample really is."""

    def __init__(self, params: SimXYParams) -> None:
        super().__init__(axes=("x", "y"), limits_um=params.limits_um)
        self.params = params
        self._commanded = np.asarray(params.start_um, dtype=float)
        self._backlash = np.zeros(2)
        self._noise = np.zeros(2)
        self._last_direction = np.zeros(2)
        self._time_s = 0.0
        self._rng = np.random.default_rng(params.seed)
        self.n_moves = 0

    def _do_get_position_um(self) -> Sequence[float]:
        return tuple(self._commanded)

    def true_position_um(self) -> tuple[float, float]:
        """Where the stage really is."""
        p = self.params
        matrix = np.array([[p.scale_x, p.skew], [0.0, p.scale_y]])
        thermal = np.asarray(p.thermal_drift_um_per_min) * self._time_s / 60.0
        true = matrix @ self._commanded + self._backlash + self._noise + thermal
        return (float(true[0]), float(true[1]))

    def _do_move_to_um(self, position_um: tuple[float, ...]) -> None:
        target = np.asarray(position_um, dtype=float)
        direction = np.sign(target - self._commanded)
        for axis in range(2):
            if direction[axis] == 0:
                continue
            if self._last_direction[axis] != 0 and direction[axis] != self._last_direction[axis]:
                # The stage travels less by the lost motion: it lags behind the command.
                self._backlash[axis] -= direction[axis] * self.params.backlash_um[axis]
            self._last_direction[axis] = direction[axis]
        self._commanded = target
        if self.params.move_noise_um > 0:
            self._noise = self._rng.normal(0.0, self.params.move_noise_um, size=2)
        self._time_s += self.params.move_time_s
        self.n_moves += 1
