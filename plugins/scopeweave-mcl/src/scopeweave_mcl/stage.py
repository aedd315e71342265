"""The Nano-Drive focus stage: one Madlib axis as a scopeweave Z stage."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from scopeweave.errors import ComponentError
from scopeweave.kinds import Stage
from scopeweave_mcl.loading import Backend, OpenedMadlib, open_madlib
from scopeweave_mcl.madlib import AXIS_INDEX, MCL_SUCCESS, MadlibError, is_error_code

__all__ = ["NanoDriveParams", "NanoDriveStage"]


def _limits(instance: object, attribute: attrs.Attribute[Any], value: tuple[float, float]) -> None:
    low, high = value
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low < high):
        raise ValueError(f"'{attribute.name}' must be finite with 0 <= low < high (got {value!r}).")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def _serial(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and not 0 < value < 2**15:
        raise ValueError(f"'{attribute.name}' must be a Nano-Drive serial number, 1..32767 (got {value!r}).")


@attrs.frozen(kw_only=True)
class NanoDriveParams:
    """Parameters of the ``mcl`` stage.

    Attributes
    ----------
    limits_um
        ``(low, high)`` travel you allow, inside the axis' calibrated range
        ``[0, range]`` (checked when the stage starts); moves outside are refused.
    axis
        Madlib axis driving focus: ``z`` (3) on multi-axis controllers, ``x``
        (1) on single-axis Nano-Z controllers.
    serial_number
        Controller to use; empty takes the first free Nano-Drive.
    backend
        ``auto`` tries the vendor library, then a Python wrapper module;
        ``dll`` or ``wrapper`` force one; ``memory`` simulates a 200 um
        three-axis controller (never chosen automatically).
    dll_path
        Path of ``Madlib.dll`` / ``libmadlib.so``; empty searches the
        installer's folders and the system library path.
    wrapper_module
        ``module`` or ``module:attribute`` exposing the ``MCL_*`` functions
        (a class is instantiated with no arguments); empty tries
        ``MCL_Madlib_Wrapper``.
    settle_ms
        Wait after each move before it returns (the closed loop settles in a
        few milliseconds).
    start_um
        Position to move to when the stage starts (inside ``limits_um``);
        empty leaves the piezo where it is.
    """

    limits_um: tuple[float, float] = attrs.field(validator=_limits)
    axis: Literal["x", "y", "z", "aux"] = "z"
    serial_number: int | None = attrs.field(default=None, validator=_serial)
    backend: Backend = "auto"
    dll_path: str | None = None
    wrapper_module: str | None = None
    settle_ms: float = attrs.field(default=5.0, validator=_non_negative)
    start_um: float | None = None

    def __attrs_post_init__(self) -> None:
        low, high = self.limits_um
        if self.start_um is not None and not low <= self.start_um <= high:
            raise ValueError(f"'start_um' must lie inside limits_um {self.limits_um} (got {self.start_um}).")


class NanoDriveStage(Stage):
    """A Mad City Labs Nano-Drive axis used as a focus (Z) stage."""

    def __init__(self, params: NanoDriveParams) -> None:
        super().__init__(axes=("z",), limits_um=(params.limits_um,))
        self.params = params
        self.axis_index = AXIS_INDEX[params.axis]
        self._opened: OpenedMadlib | None = None
        self._handle = 0
        self._grabbed: list[int] = []
        self._lock = threading.Lock()
        self.calibrated_range_um = math.nan
        self.serial_number: int | None = None

    @property
    def source(self) -> str:
        """Where Madlib came from (library path, wrapper or simulation)."""
        if self._opened is None:
            raise RuntimeError("NanoDriveStage is not initialized; call initialize() first.")
        return self._opened.source

    # --- lifecycle ------------------------------------------------------------
    def _do_initialize(self) -> None:
        p = self.params
        self._opened = open_madlib(backend=p.backend, dll_path=p.dll_path, wrapper_module=p.wrapper_module,
                                   serial_number=p.serial_number)
        try:
            self._handle = self._acquire_handle()
            self._check_range()
            if p.start_um is not None:
                self._do_move_to_um(self.check_target_um((p.start_um,)))
        except Exception:
            self._release()
            raise

    def _do_shutdown(self) -> None:
        self._release()

    def _acquire_handle(self) -> int:
        assert self._opened is not None
        api = self._opened.api
        serial = self.params.serial_number
        if serial is None:
            handle = api.init_handle()
            if handle <= 0:
                raise ComponentError(
                    f"no free Mad City Labs Nano-Drive found through {self._opened.source} "
                    "(MCL_InitHandle returned 0): is the controller on, connected by USB, and not held by "
                    "another program?"
                )
            self.serial_number = api.get_serial_number(handle)
            return handle
        before = set(api.get_all_handles())
        api.grab_all_handles()
        handle = api.get_handle_by_serial(serial)
        self._grabbed = [h for h in api.get_all_handles() if h not in before and h != handle]
        if handle <= 0:
            raise ComponentError(
                f"no Mad City Labs Nano-Drive with serial number {serial} found through {self._opened.source} "
                "(MCL_GetHandleBySerial returned 0): check serial_number and that the controller is on."
            )
        self.serial_number = serial
        for other in self._grabbed:
            api.release_handle(other)
        self._grabbed = []
        return handle

    def _check_range(self) -> None:
        assert self._opened is not None
        axis = self.params.axis
        value = self._opened.api.get_calibration(self.axis_index, self._handle)
        if is_error_code(value):
            hint = " Single-axis Nano-Z controllers drive axis 'x' (1)." if axis != "x" else ""
            raise MadlibError(f"MCL_GetCalibration(axis {axis!r} = {self.axis_index})", value, hint=hint)
        if not value > 0:
            raise ComponentError(f"axis {axis!r} of Nano-Drive serial {self.serial_number} reports no calibrated "
                                 f"range ({value} um).")
        self.calibrated_range_um = value
        if self.params.limits_um[1] > value:
            raise ComponentError(
                f"limits_um {self.params.limits_um} exceed the calibrated range [0, {value}] um of axis {axis!r} "
                f"on Nano-Drive serial {self.serial_number}."
            )

    def _release(self) -> None:
        if self._opened is not None:
            for handle in [*self._grabbed, self._handle]:
                if handle > 0:
                    self._opened.api.release_handle(handle)
        self._grabbed = []
        self._handle = 0
        self._opened = None

    # --- motion -----------------------------------------------------------------
    def _api(self) -> Any:
        assert self._opened is not None
        return self._opened.api

    def _do_get_position_um(self) -> Sequence[float]:
        with self._lock:
            value = self._api().single_read_n(self.axis_index, self._handle)
        if is_error_code(value):
            raise MadlibError(f"MCL_SingleReadN(axis {self.params.axis!r})", value)
        return (value,)

    def _do_move_to_um(self, position_um: tuple[float, ...]) -> None:
        target = position_um[0]
        with self._lock:
            code = self._api().single_write_n(target, self.axis_index, self._handle)
        if code != MCL_SUCCESS:
            raise MadlibError(f"MCL_SingleWriteN({target:.4f} um, axis {self.params.axis!r})", code)
        if self.params.settle_ms > 0:
            time.sleep(self.params.settle_ms / 1000.0)
