"""An in-memory Nano-Drive: the Madlib protocol without hardware.

Used only when a session asks for ``backend = "memory"``; never as a silent
fallback.  It behaves like a single three-axis controller: positions are
quantised to the DAC resolution, writes outside ``[0, range]`` return
``MCL_ARGUMENT_ERROR`` and unknown handles ``MCL_INVALID_HANDLE``.
"""

from __future__ import annotations

__all__ = ["InMemoryNanoDrive"]

_INVALID_AXIS = -7
_INVALID_HANDLE = -8
_ARGUMENT_ERROR = -6


class InMemoryNanoDrive:
    """A simulated three-axis Nano-Drive.

    Parameters
    ----------
    range_um
        Calibrated travel of every axis.
    serial
        Serial number the device reports.
    dac_bits
        Position resolution: a write lands on a multiple of ``range_um / 2**dac_bits``.
    """

    HANDLE = 1

    def __init__(self, *, range_um: float = 200.0, serial: int = 1000, dac_bits: int = 20) -> None:
        self.range_um = float(range_um)
        self.serial = int(serial)
        self.step_um = self.range_um / 2**dac_bits
        self.positions_um = {1: 0.0, 2: 0.0, 3: 0.0}
        self._owned = False

    def _valid(self, handle: int) -> bool:
        return self._owned and handle == self.HANDLE

    def init_handle(self) -> int:
        if self._owned:
            return 0
        self._owned = True
        return self.HANDLE

    def grab_all_handles(self) -> int:
        return 1 if self.init_handle() else 0

    def get_all_handles(self) -> list[int]:
        return [self.HANDLE] if self._owned else []

    def get_handle_by_serial(self, serial: int) -> int:
        return self.HANDLE if self._owned and serial == self.serial else 0

    def release_handle(self, handle: int) -> None:
        if handle == self.HANDLE:
            self._owned = False

    def get_calibration(self, axis: int, handle: int) -> float:
        if not self._valid(handle):
            return float(_INVALID_HANDLE)
        return self.range_um if axis in self.positions_um else float(_INVALID_AXIS)

    def single_read_n(self, axis: int, handle: int) -> float:
        if not self._valid(handle):
            return float(_INVALID_HANDLE)
        return self.positions_um[axis] if axis in self.positions_um else float(_INVALID_AXIS)

    def single_write_n(self, position_um: float, axis: int, handle: int) -> int:
        if not self._valid(handle):
            return _INVALID_HANDLE
        if axis not in self.positions_um:
            return _INVALID_AXIS
        if not 0.0 <= position_um <= self.range_um:
            return _ARGUMENT_ERROR
        self.positions_um[axis] = round(position_um / self.step_um) * self.step_um
        return 0

    def get_serial_number(self, handle: int) -> int:
        return self.serial if self._valid(handle) else _INVALID_HANDLE
