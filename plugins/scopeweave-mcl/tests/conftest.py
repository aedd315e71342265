"""A faithful fake of the Madlib C library, at the ``ctypes`` boundary.

:class:`FakeMadlibLibrary` stands in for the object ``ctypes.CDLL(path)``
returns.  Its functions behave like ctypes foreign functions: callers set
``argtypes``/``restype`` (checked against Madlib.h), arguments are converted
with ``from_param`` (a float passed for an ``int`` fails as in ctypes) and
results come back as Python values.  Behind it, :class:`FakeController`
objects keep state the way Nano-Drive controllers do: handles, ownership,
calibrated ranges, 20-bit position quantisation and Madlib's error codes.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from scopeweave_mcl import loading

# Madlib.h, for the functions the plugin binds.
HEADER: dict[str, tuple[list[Any], Any]] = {
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

DEV_NOT_ATTACHED, ARGUMENT_ERROR, INVALID_AXIS, INVALID_HANDLE = -3, -6, -7, -8


@attrs.define
class FakeController:
    """One Nano-Drive: serial, calibrated range per axis, positions."""

    serial: int
    ranges_um: dict[int, float]
    dac_bits: int = 20
    attached: bool = True
    positions_um: dict[int, float] = attrs.field(factory=dict)
    handle: int = 0

    def step_um(self, axis: int) -> float:
        return self.ranges_um[axis] / 2**self.dac_bits


class FakeCFunction:
    """A foreign function: checks the declared signature, converts like ctypes."""

    def __init__(self, name: str, impl: Callable[..., Any], calls: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.__name__ = name
        self.argtypes: list[Any] | None = None
        self.restype: Any = ctypes.c_int  # the ctypes default
        self._impl = impl
        self._calls = calls

    def __call__(self, *args: Any) -> Any:
        argtypes, restype = HEADER[self.__name__]
        if self.argtypes is None:
            for arg in args:
                if isinstance(arg, float):
                    raise ctypes.ArgumentError(f"{self.__name__}: Don't know how to convert parameter {arg!r}")
        elif list(self.argtypes) != argtypes or self.restype != restype:
            raise AssertionError(f"{self.__name__} declared as {self.argtypes} -> {self.restype}; "
                                 f"Madlib.h says {argtypes} -> {restype}")
        if len(args) != len(argtypes):
            raise TypeError(f"{self.__name__} takes {len(argtypes)} arguments ({len(args)} given)")
        values = []
        for argtype, arg in zip(argtypes, args, strict=True):
            argtype.from_param(arg)  # the type check ctypes makes (TypeError on a mismatch)
            values.append(argtype(arg).value if hasattr(argtype, "_type_") and isinstance(argtype._type_, str)
                          else arg)
        self._calls.append((self.__name__, tuple(values)))
        result = self._impl(*values)
        return None if restype is None else restype(result).value


class FakeMadlibLibrary:
    """What ``ctypes.CDLL("Madlib.dll")`` returns, over a set of controllers."""

    def __init__(self, controllers: list[FakeController]) -> None:
        self.controllers = controllers
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._next_handle = 1
        impls = {
            "MCL_InitHandle": self._init_handle,
            "MCL_GrabAllHandles": self._grab_all,
            "MCL_NumberOfCurrentHandles": lambda: len(self._owned()),
            "MCL_GetAllHandles": self._get_all,
            "MCL_GetHandleBySerial": self._by_serial,
            "MCL_ReleaseHandle": self._release,
            "MCL_GetCalibration": self._calibration,
            "MCL_SingleReadN": self._read,
            "MCL_SingleWriteN": self._write,
            "MCL_GetSerialNumber": self._serial,
        }
        for name, impl in impls.items():
            setattr(self, name, FakeCFunction(name, impl, self.calls))

    def _owned(self) -> list[FakeController]:
        return [c for c in self.controllers if c.handle]

    def _take(self, controller: FakeController) -> int:
        controller.handle = self._next_handle
        self._next_handle += 1
        return controller.handle

    def _init_handle(self) -> int:
        free = [c for c in self.controllers if not c.handle and c.attached]
        return self._take(free[0]) if free else 0

    def _grab_all(self) -> int:
        for controller in self.controllers:
            if not controller.handle and controller.attached:
                self._take(controller)
        return len(self._owned())

    def _get_all(self, array: Any, size: int) -> int:
        owned = self._owned()[:size]
        for i, controller in enumerate(owned):
            array[i] = controller.handle
        return len(owned)

    def _by_serial(self, serial: int) -> int:
        return next((c.handle for c in self._owned() if c.serial == serial), 0)

    def _device(self, handle: int) -> FakeController | None:
        return next((c for c in self.controllers if c.handle and c.handle == handle), None)

    def _release(self, handle: int) -> None:
        device = self._device(handle)
        if device is not None:
            device.handle = 0

    def _check(self, axis: int, handle: int) -> tuple[FakeController | None, int]:
        device = self._device(handle)
        if device is None:
            return None, INVALID_HANDLE
        if not device.attached:
            return None, DEV_NOT_ATTACHED
        if axis not in device.ranges_um:
            return None, INVALID_AXIS
        return device, 0

    def _calibration(self, axis: int, handle: int) -> float:
        device, code = self._check(axis, handle)
        return device.ranges_um[axis] if device is not None else float(code)

    def _read(self, axis: int, handle: int) -> float:
        device, code = self._check(axis, handle)
        return device.positions_um.get(axis, 0.0) if device is not None else float(code)

    def _write(self, position_um: float, axis: int, handle: int) -> int:
        device, code = self._check(axis, handle)
        if device is None:
            return code
        if not 0.0 <= position_um <= device.ranges_um[axis]:
            return ARGUMENT_ERROR
        step = device.step_um(axis)
        device.positions_um[axis] = round(position_um / step) * step
        return 0

    def _serial(self, handle: int) -> int:
        device = self._device(handle)
        return device.serial if device is not None else INVALID_HANDLE

    def writes(self) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == "MCL_SingleWriteN"]


@attrs.define
class InstalledLibrary:
    """The fake library and the path the plugin was told to load."""

    lib: FakeMadlibLibrary
    path: Path
    loaded_paths: list[str]


@pytest.fixture
def install_fake_madlib(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., InstalledLibrary]:
    """Make ``load_library`` return a fake over the given controllers (a file stands for the DLL)."""

    def install(*controllers: tuple[int, dict[int, float]]) -> InstalledLibrary:
        """Each controller is ``(serial, {axis: calibrated range um})``."""
        path = tmp_path / "Madlib.dll"
        path.write_bytes(b"")
        fakes = [FakeController(serial=serial, ranges_um=dict(ranges)) for serial, ranges in controllers]
        installed = InstalledLibrary(FakeMadlibLibrary(fakes), path, [])

        def fake_load(requested: str) -> FakeMadlibLibrary:
            installed.loaded_paths.append(requested)
            if Path(requested) != path:
                raise OSError(f"{requested}: cannot open shared object file")
            return installed.lib

        monkeypatch.setattr(loading, "load_library", fake_load)
        return installed

    return install


@pytest.fixture
def no_installed_madlib(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine without the Nano-Drive software: nothing to discover."""
    monkeypatch.setattr(loading, "DEFAULT_LIBRARY_PATHS", (str(tmp_path / "absent" / "Madlib.dll"),))
    monkeypatch.setattr(loading.ctypes.util, "find_library", lambda name: None)
