"""Finding a Madlib: the vendor library first, then a Python wrapper module.

The in-memory simulation is never a fallback; it is used only when asked for
with ``backend = "memory"``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import sys
from pathlib import Path
from typing import Any, Literal

import attrs

from scopeweave.errors import ComponentError
from scopeweave_mcl.madlib import CtypesMadlib, Madlib, WrapperMadlib
from scopeweave_mcl.memory import InMemoryNanoDrive

__all__ = [
    "DEFAULT_LIBRARY_PATHS",
    "DEFAULT_WRAPPER_MODULE",
    "INSTALL_HINT",
    "Backend",
    "OpenedMadlib",
    "library_candidates",
    "load_library",
    "open_madlib",
]

Backend = Literal["auto", "dll", "wrapper", "memory"]

#: Where the Nano-Drive installer puts the library.
DEFAULT_LIBRARY_PATHS: tuple[str, ...] = (
    (
        r"C:\Program Files\Mad City Labs\NanoDrive\Madlib.dll",
        r"C:\Program Files (x86)\Mad City Labs\NanoDrive\Madlib.dll",
    )
    if sys.platform == "win32"
    else ("/usr/local/lib/libmadlib.so", "/usr/lib/libmadlib.so")
)

#: Python wrapper tried when no library is found (Mad City Labs' example wrapper).
DEFAULT_WRAPPER_MODULE = "MCL_Madlib_Wrapper"

INSTALL_HINT = (
    "Install the Mad City Labs Nano-Drive software (it provides Madlib.dll on Windows, libmadlib.so on Linux), "
    "then set dll_path to the library, or set wrapper_module to a Python module exposing the MCL_* functions; "
    "for a simulated stage without hardware use backend = \"memory\"."
)


@attrs.frozen
class OpenedMadlib:
    """A working Madlib and a description of where it came from."""

    api: Madlib
    source: str


def load_library(path: str) -> Any:
    """Load a C library (the ``ctypes`` boundary the tests replace)."""
    return ctypes.CDLL(path)


def library_candidates(dll_path: str | None) -> list[str]:
    """The library paths to try, in order."""
    if dll_path is not None:
        return [dll_path]
    found = ctypes.util.find_library("madlib")
    candidates = [found] if found else []
    return candidates + [p for p in DEFAULT_LIBRARY_PATHS if Path(p).exists()]


def _from_library(dll_path: str | None, attempts: list[str]) -> OpenedMadlib | None:
    candidates = library_candidates(dll_path)
    if not candidates:
        attempts.append(f"no Madlib library found (searched {', '.join(DEFAULT_LIBRARY_PATHS)} and the system path)")
    for path in candidates:
        if dll_path is not None and not Path(path).exists():
            attempts.append(f"dll_path {path!r} does not exist")
            continue
        try:
            lib = load_library(path)
        except OSError as exc:
            attempts.append(f"could not load {path!r}: {exc}")
            continue
        try:
            return OpenedMadlib(CtypesMadlib(lib, source=f"library {path}"), f"library {path}")
        except ComponentError as exc:
            attempts.append(str(exc))
    return None


def _from_wrapper(wrapper_module: str | None, attempts: list[str]) -> OpenedMadlib | None:
    spec = wrapper_module or DEFAULT_WRAPPER_MODULE
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if wrapper_module is None:
            attempts.append(f"no wrapper module ({DEFAULT_WRAPPER_MODULE!r} is not installed)")
        else:
            attempts.append(f"could not import wrapper_module {module_name!r}: {exc}")
        return None
    target: Any = module
    if attribute:
        try:
            target = getattr(module, attribute)
        except AttributeError:
            attempts.append(f"wrapper module {module_name!r} has no attribute {attribute!r}")
            return None
        if isinstance(target, type):
            target = target()
    try:
        return OpenedMadlib(WrapperMadlib(target, source=spec), f"wrapper {spec}")
    except ComponentError as exc:
        attempts.append(str(exc))
        return None


def open_madlib(
    *, backend: Backend, dll_path: str | None, wrapper_module: str | None, serial_number: int | None = None
) -> OpenedMadlib:
    """Open Madlib in the seed's order: library, then wrapper module.

    ``backend = "memory"`` gives a simulated 200 um three-axis controller
    (with ``serial_number`` when given).

    Raises
    ------
    ComponentError
        Naming every attempt and how to install the library.
    """
    if backend == "memory":
        drive = InMemoryNanoDrive() if serial_number is None else InMemoryNanoDrive(serial=serial_number)
        return OpenedMadlib(drive, "in-memory simulation")
    attempts: list[str] = []
    if backend in ("auto", "dll"):
        opened = _from_library(dll_path, attempts)
        if opened is not None:
            return opened
    if backend in ("auto", "wrapper"):
        opened = _from_wrapper(wrapper_module, attempts)
        if opened is not None:
            return opened
    raise ComponentError(
        "Mad City Labs Madlib library not available: " + "; ".join(attempts) + ". " + INSTALL_HINT
    )
