"""The Madlib C API of Mad City Labs Nano-Drive controllers, as a small Python protocol.

Three implementations exist: :class:`CtypesMadlib` binds the vendor library
(``Madlib.dll`` on Windows, ``libmadlib.so`` on Linux) with ``ctypes``;
:class:`WrapperMadlib` calls a Python wrapper object that exposes the same C
functions by name; :class:`~scopeweave_mcl.memory.InMemoryNanoDrive` simulates a
controller.  Positions are in micrometres, axes are Madlib's 1-based indices
(X = 1, Y = 2, Z = 3, AUX = 4) and errors are Madlib's negative codes.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any, Protocol

from scopeweave.errors import ComponentError

__all__ = [
    "AXIS_INDEX",
    "ERROR_NAMES",
    "MCL_SUCCESS",
    "CtypesMadlib",
    "Madlib",
    "MadlibError",
    "WrapperMadlib",
    "describe_code",
    "is_error_code",
]

MCL_SUCCESS = 0

#: Madlib's error codes (Madlib.h).
ERROR_NAMES: dict[int, str] = {
    0: "MCL_SUCCESS",
    -1: "MCL_GENERAL_ERROR",
    -2: "MCL_DEV_ERROR",
    -3: "MCL_DEV_NOT_ATTACHED",
    -4: "MCL_USAGE_ERROR",
    -5: "MCL_DEV_NOT_READY",
    -6: "MCL_ARGUMENT_ERROR",
    -7: "MCL_INVALID_AXIS",
    -8: "MCL_INVALID_HANDLE",
}

#: Madlib axis numbers by name.
AXIS_INDEX: dict[str, int] = {"x": 1, "y": 2, "z": 3, "aux": 4}


def is_error_code(value: float) -> bool:
    """Whether a returned double is one of Madlib's error codes rather than a position."""
    return value < 0 and float(value).is_integer() and int(value) in ERROR_NAMES


def describe_code(code: float) -> str:
    """``'MCL_ARGUMENT_ERROR (-6)'`` for a Madlib return code."""
    as_int = int(code)
    return f"{ERROR_NAMES.get(as_int, 'unknown error')} ({as_int})"


class MadlibError(ComponentError):
    """A Madlib call returned an error code."""

    def __init__(self, call: str, code: float, *, hint: str = "") -> None:
        self.call = call
        self.code = int(code)
        super().__init__(f"{call} failed: {describe_code(code)}.{hint}")


class Madlib(Protocol):
    """The Madlib functions the Nano-Drive stage uses (Python types, Madlib semantics)."""

    def init_handle(self) -> int:
        """``MCL_InitHandle``: control of the first free Nano-Drive; 0 on failure."""

    def grab_all_handles(self) -> int:
        """``MCL_GrabAllHandles``: control of every free Nano-Drive; returns how many."""

    def get_all_handles(self) -> list[int]:
        """``MCL_GetAllHandles``: handles this process controls."""

    def get_handle_by_serial(self, serial: int) -> int:
        """``MCL_GetHandleBySerial``: the controlled device with that serial; 0 if none."""

    def release_handle(self, handle: int) -> None:
        """``MCL_ReleaseHandle``."""

    def get_calibration(self, axis: int, handle: int) -> float:
        """``MCL_GetCalibration``: range of ``axis`` in um (negative: error code)."""

    def single_read_n(self, axis: int, handle: int) -> float:
        """``MCL_SingleReadN``: position of ``axis`` in um (negative: error code)."""

    def single_write_n(self, position_um: float, axis: int, handle: int) -> int:
        """``MCL_SingleWriteN``: command ``axis`` to a position; 0 or an error code."""

    def get_serial_number(self, handle: int) -> int:
        """``MCL_GetSerialNumber`` (negative: error code)."""


#: C signatures (argtypes, restype) of the functions bound by :class:`CtypesMadlib`.
SIGNATURES: dict[str, tuple[list[Any], Any]] = {
    "MCL_InitHandle": ([], ctypes.c_int),
    "MCL_GrabAllHandles": ([], ctypes.c_int),
    "MCL_NumberOfCurrentHandles": ([], ctypes.c_int),
    "MCL_GetAllHandles": ([ctypes.POINTER(ctypes.c_int), ctypes.c_int], ctypes.c_int),
    "MCL_GetHandleBySerial": ([ctypes.c_short], ctypes.c_int),
    "MCL_ReleaseHandle": ([ctypes.c_int], None),
    "MCL_GetCalibration": ([ctypes.c_uint, ctypes.c_int], ctypes.c_double),
    "MCL_SingleReadN": ([ctypes.c_uint, ctypes.c_int], ctypes.c_double),
    "MCL_SingleWriteN": ([ctypes.c_double, ctypes.c_uint, ctypes.c_int], ctypes.c_int),
    "MCL_GetSerialNumber": ([ctypes.c_int], ctypes.c_int),
}


class CtypesMadlib:
    """Madlib through a loaded ``ctypes`` library object.

    Parameters
    ----------
    lib
        The object returned by ``ctypes.CDLL(path)``.
    source
        Where it was loaded from (for messages).
    """

    def __init__(self, lib: Any, *, source: str) -> None:
        self.source = source
        missing = [name for name in SIGNATURES if not hasattr(lib, name)]
        if missing:
            raise ComponentError(
                f"{source} does not export {', '.join(missing)}; it is not the Mad City Labs Madlib library."
            )
        self._fn: dict[str, Any] = {}
        for name, (argtypes, restype) in SIGNATURES.items():
            fn = getattr(lib, name)
            fn.argtypes = argtypes
            fn.restype = restype
            self._fn[name] = fn

    def init_handle(self) -> int:
        return int(self._fn["MCL_InitHandle"]())

    def grab_all_handles(self) -> int:
        return int(self._fn["MCL_GrabAllHandles"]())

    def get_all_handles(self) -> list[int]:
        size = int(self._fn["MCL_NumberOfCurrentHandles"]())
        if size <= 0:
            return []
        handles = (ctypes.c_int * size)()
        count = int(self._fn["MCL_GetAllHandles"](handles, size))
        return [int(handles[i]) for i in range(max(count, 0))]

    def get_handle_by_serial(self, serial: int) -> int:
        return int(self._fn["MCL_GetHandleBySerial"](serial))

    def release_handle(self, handle: int) -> None:
        self._fn["MCL_ReleaseHandle"](handle)

    def get_calibration(self, axis: int, handle: int) -> float:
        return float(self._fn["MCL_GetCalibration"](axis, handle))

    def single_read_n(self, axis: int, handle: int) -> float:
        return float(self._fn["MCL_SingleReadN"](axis, handle))

    def single_write_n(self, position_um: float, axis: int, handle: int) -> int:
        return int(self._fn["MCL_SingleWriteN"](position_um, axis, handle))

    def get_serial_number(self, handle: int) -> int:
        return int(self._fn["MCL_GetSerialNumber"](handle))


class WrapperMadlib:
    """Madlib through a Python wrapper object with the C functions as methods.

    The wrapper exposes ``MCL_InitHandle()``, ``MCL_GrabAllHandles()``,
    ``MCL_GetHandleBySerial(serial)``, ``MCL_ReleaseHandle(handle)``,
    ``MCL_GetCalibration(axis, handle)``, ``MCL_SingleReadN(axis, handle)``,
    ``MCL_SingleWriteN(position, axis, handle)`` and
    ``MCL_GetSerialNumber(handle)`` taking and returning plain Python numbers;
    ``MCL_GetAllHandles()`` returning a sequence of handles is optional.
    """

    REQUIRED = (
        "MCL_InitHandle",
        "MCL_GrabAllHandles",
        "MCL_GetHandleBySerial",
        "MCL_ReleaseHandle",
        "MCL_GetCalibration",
        "MCL_SingleReadN",
        "MCL_SingleWriteN",
        "MCL_GetSerialNumber",
    )

    def __init__(self, wrapper: Any, *, source: str) -> None:
        self.source = source
        missing = [name for name in self.REQUIRED if not callable(getattr(wrapper, name, None))]
        if missing:
            raise ComponentError(f"wrapper {source} lacks {', '.join(missing)}; see docs/hardware.md for the interface.")
        self._wrapper = wrapper

    def init_handle(self) -> int:
        return int(self._wrapper.MCL_InitHandle())

    def grab_all_handles(self) -> int:
        return int(self._wrapper.MCL_GrabAllHandles())

    def get_all_handles(self) -> list[int]:
        get_all = getattr(self._wrapper, "MCL_GetAllHandles", None)
        if not callable(get_all):
            return []
        handles: Sequence[int] = get_all()
        return [int(h) for h in handles]

    def get_handle_by_serial(self, serial: int) -> int:
        return int(self._wrapper.MCL_GetHandleBySerial(serial))

    def release_handle(self, handle: int) -> None:
        self._wrapper.MCL_ReleaseHandle(handle)

    def get_calibration(self, axis: int, handle: int) -> float:
        return float(self._wrapper.MCL_GetCalibration(axis, handle))

    def single_read_n(self, axis: int, handle: int) -> float:
        return float(self._wrapper.MCL_SingleReadN(axis, handle))

    def single_write_n(self, position_um: float, axis: int, handle: int) -> int:
        return int(self._wrapper.MCL_SingleWriteN(position_um, axis, handle))

    def get_serial_number(self, handle: int) -> int:
        return int(self._wrapper.MCL_GetSerialNumber(handle))
