"""One Micro-Manager core per configuration file, shared by the components that use it.

A camera, a focus stage and an XY stage of one session name the same
configuration file; they must drive one ``UniMMCore`` (a device adapter can be
opened only once).  :data:`CORES` opens the core when the first component
starts, counts its users and unloads every device when the last one shuts
down.  Cores still open at interpreter exit are closed by an ``atexit`` hook,
while Python is still fully alive (a CMMCore destroyed during interpreter
teardown can abort the process).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from scopeweave.errors import ComponentError

__all__ = ["CORES", "CoreCache", "SharedCore", "config_key"]

INSTALL_PYMMCORE = "install it with `pip install 'pymmcore-plus>=0.18.1,<0.19'`"
ADAPTER_HINT = (
    "C++ device adapters come from a Micro-Manager installation: set mm_path (or the MICROMANAGER_PATH "
    "environment variable) to its folder, or download one with `mmcore install`"
)


def config_key(config_path: str) -> str:
    """The cache key of a configuration file: its absolute path when it exists here, else the name as given."""
    path = Path(config_path).expanduser()
    return str(path.resolve()) if path.exists() else config_path


class SharedCore:
    """A loaded core and the lock its users take around compound calls."""

    def __init__(self, key: str, mm_path: str | None, core: Any) -> None:
        self.key = key
        self.mm_path = mm_path
        self.core = core
        self.lock = threading.RLock()
        self.users = 0

    def dispose(self) -> None:
        """Stop acquisitions, forget the role devices and unload every device."""
        core, self.core = self.core, None
        if core is None:
            return
        with contextlib.suppress(Exception):
            if core.isSequenceRunning():
                core.stopSequenceAcquisition()
        for setter in ("setCameraDevice", "setFocusDevice", "setXYStageDevice", "setShutterDevice",
                       "setAutoFocusDevice"):
            with contextlib.suppress(Exception):
                getattr(core, setter)("")
        with contextlib.suppress(Exception):
            core.unloadAllDevices()
        # Detach the core's Python event relay now: a CMMCore destroyed late (its last reference may sit in an
        # exception traceback until interpreter teardown) must not call back into a half-finalised Python.
        with contextlib.suppress(Exception):
            import pymmcore

            pymmcore.CMMCore.registerCallback(core, None)


def _new_core(mm_path: str | None) -> Any:
    try:
        from pymmcore_plus.experimental.unicore import UniMMCore
    except ImportError as exc:
        raise ComponentError(f"pymmcore-plus with UniMMCore is not installed ({exc}); {INSTALL_PYMMCORE}.") from exc
    if mm_path is not None:
        if not Path(mm_path).is_dir():
            raise ComponentError(f"mm_path {mm_path!r} is not a folder (it should be a Micro-Manager installation).")
        return UniMMCore(mm_path=mm_path)
    return UniMMCore()


def _load(shared: SharedCore, config_path: str) -> None:
    core = shared.core
    where = f"Micro-Manager config {config_path!r}"
    try:
        core.loadSystemConfiguration(config_path)
    except FileNotFoundError:
        from pymmcore_plus import find_micromanager

        folder = shared.mm_path or find_micromanager()
        searched = f"then in the Micro-Manager folder {folder}" if folder else (
            "and no Micro-Manager folder is installed: run `mmcore install` or set mm_path")
        raise ComponentError(f"{where} not found (relative names are looked up in the working directory "
                             f"{os.getcwd()}, {searched}).") from None
    except Exception as exc:  # MMCore raises RuntimeError, Python devices anything
        message = " ".join(str(exc).split())
        hint = f"; {ADAPTER_HINT}" if "adapter" in message.lower() else ""
        raise ComponentError(f"{where} could not be loaded: {message}{hint}") from exc
    from pymmcore_plus import DeviceInitializationState

    failed = [label for label in core.getLoadedDevices() if label != "Core"
              and core.getDeviceInitializationState(label) == DeviceInitializationState.InitializationFailed]
    if failed:
        raise ComponentError(f"{where}: device(s) {', '.join(failed)} failed to initialize; see the pymmcore-plus log.")


class CoreCache:
    """Cores by configuration file, with a user count each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cores: dict[str, SharedCore] = {}
        self._atexit_registered = False

    def __contains__(self, config_path: str) -> bool:
        return config_key(config_path) in self._cores

    def __len__(self) -> int:
        return len(self._cores)

    def acquire(self, config_path: str, mm_path: str | None) -> SharedCore:
        """The core of ``config_path``, loading it on first use."""
        key = config_key(config_path)
        with self._lock:
            shared = self._cores.get(key)
            if shared is not None:
                if shared.mm_path != mm_path:
                    raise ComponentError(
                        f"config {config_path!r} is already open with mm_path {shared.mm_path!r}; every component "
                        f"using it must give the same mm_path (got {mm_path!r})."
                    )
            else:
                shared = SharedCore(key, mm_path, _new_core(mm_path))
                try:
                    _load(shared, key)
                except BaseException:
                    shared.dispose()
                    raise
                self._cores[key] = shared
                if not self._atexit_registered:
                    atexit.register(self.close_all)
                    self._atexit_registered = True
            shared.users += 1
            return shared

    def release(self, shared: SharedCore) -> None:
        """One user is done; the last one unloads the devices."""
        with self._lock:
            shared.users -= 1
            if shared.users > 0:
                return
            self._cores.pop(shared.key, None)
        shared.dispose()

    def close_all(self) -> None:
        """Unload every open core (at interpreter exit)."""
        with self._lock:
            cores, self._cores = list(self._cores.values()), {}
        for shared in cores:
            shared.dispose()


#: The process-wide cache every Micro-Manager component uses.
CORES = CoreCache()
