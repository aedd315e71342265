"""The Stage interface."""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence

from scopeweave.errors import StageLimitError
from scopeweave.kinds.component import Component

__all__ = ["Stage"]


class Stage(Component):
    """A motorised stage with one or more axes, positions in micrometres.

    ``axes`` names the axes (``("z",)`` for a focus drive, ``("x", "y")`` for
    an XY stage).  :meth:`move_to_um` refuses non-finite targets and targets
    outside :attr:`limits_um` *before* anything is sent to the device, so no
    caller can command NaN or leave the travel range.
    """

    def __init__(self, *, axes: Sequence[str], limits_um: Sequence[tuple[float, float]]) -> None:
        if len(axes) != len(limits_um):
            raise ValueError(f"'limits_um' needs one (low, high) pair per axis {tuple(axes)} (got {limits_um!r}).")
        for axis, (low, high) in zip(axes, limits_um, strict=True):
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"'limits_um' for axis {axis!r} must be finite with low < high (got {(low, high)}).")
        self._axes = tuple(axes)
        self._limits_um = tuple((float(low), float(high)) for low, high in limits_um)

    @property
    def axes(self) -> tuple[str, ...]:
        """Names of the axes, in the order positions are given."""
        return self._axes

    @property
    def limits_um(self) -> tuple[tuple[float, float], ...]:
        """``(low, high)`` travel limit of each axis in micrometres."""
        return self._limits_um

    def position_um(self) -> tuple[float, ...]:
        """Current position of every axis."""
        self._require_initialized()
        return tuple(float(v) for v in self._do_get_position_um())

    def move_to_um(self, position_um: Sequence[float]) -> None:
        """Move to an absolute position (one value per axis) and wait until settled."""
        self._require_initialized()
        target = self.check_target_um(position_um)
        self._do_move_to_um(target)

    def move_by_um(self, delta_um: Sequence[float]) -> None:
        """Move by a relative offset (one value per axis)."""
        current = self.position_um()
        delta = self._as_tuple(delta_um, "delta_um")
        self.move_to_um(tuple(c + d for c, d in zip(current, delta, strict=True)))

    def check_target_um(self, position_um: Sequence[float]) -> tuple[float, ...]:
        """Return the target as floats, or raise :class:`StageLimitError` naming the axis."""
        target = self._as_tuple(position_um, "position_um")
        for axis, value, (low, high) in zip(self._axes, target, self._limits_um, strict=True):
            if not math.isfinite(value):
                raise StageLimitError(f"refused to move axis {axis!r} to a non-finite position ({value}).")
            if not low <= value <= high:
                raise StageLimitError(
                    f"refused to move axis {axis!r} to {value:.4f} um: outside the limits [{low}, {high}] um."
                )
        return target

    def _as_tuple(self, values: Sequence[float], name: str) -> tuple[float, ...]:
        values = tuple(float(v) for v in values)
        if len(values) != len(self._axes):
            raise ValueError(f"'{name}' needs one value per axis {self._axes} (got {values!r}).")
        return values

    @abc.abstractmethod
    def _do_get_position_um(self) -> Sequence[float]:
        """Read the position from the device."""

    @abc.abstractmethod
    def _do_move_to_um(self, position_um: tuple[float, ...]) -> None:
        """Command a move to a checked target and return once it has settled."""
