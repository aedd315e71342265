"""Simulated Z and XY stages, with fault injection and systematic XY errors."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from scopeweave.errors import ComponentError
from scopeweave.kinds import Stage
from scopeweave_sim.params import SimXYParams, SimZParams

__all__ = ["SimXYStage", "SimZStage"]


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


class SimXYStage(Stage):
    """An XY stage; :meth:`position_um` is the commanded (metadata) position,
    :meth:`true_position_um` where the sample really is."""

    def __init__(self, params: SimXYParams) -> None:
        super().__init__(axes=("x", "y"), limits_um=params.limits_um)
        self.params = params
        self._commanded = np.asarray(params.start_um, dtype=float)
        self._backlash = np.zeros(2)
        self._noise = np.zeros(2)
        self._last_direction = np.asarray(params.start_direction, dtype=float)
        self._first_move = np.zeros(2)
        self._moved = np.zeros(2, dtype=bool)
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
        true = matrix @ self._commanded + self._backlash + self._first_move + self._noise + thermal
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
                self._backlash[1 - axis] -= direction[axis] * self.params.cross_backlash_um[axis]
            self._last_direction[axis] = direction[axis]
            self._first_move[axis] = 0.0 if self._moved[axis] else direction[axis] * self.params.first_move_error_um[axis]
            self._moved[axis] = True
        self._commanded = target
        if self.params.move_noise_um > 0:
            self._noise = self._rng.normal(0.0, self.params.move_noise_um, size=2)
        self._time_s += self.params.move_time_s
        self.n_moves += 1
