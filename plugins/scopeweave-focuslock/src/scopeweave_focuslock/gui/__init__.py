"""The live focus-lock GUI (PyQtGraph / PySide6, extra ``scopeweave-focuslock[gui]``).

Open it with ``focus-feedback --show-live``, with ``show_live = true`` in a
``focus-lock`` session, or from Python with :func:`launch`.  It drives the
same :class:`~scopeweave_focuslock.lock.runner.FocusLockRunner` and
calibration sweep as the headless run, in a worker thread; the window only
draws and forwards commands.  Importing this package imports pyqtgraph (an
``ImportError`` without the extra).
"""

from __future__ import annotations

from scopeweave_focuslock.gui.app import launch, live_plan, require_display, run_live
from scopeweave_focuslock.gui.session import CalibrationCandidate, LiveSession
from scopeweave_focuslock.gui.settings import GuiSettings, load_settings, save_settings
from scopeweave_focuslock.gui.window import FocusLockWindow

__all__ = [
    "CalibrationCandidate",
    "FocusLockWindow",
    "GuiSettings",
    "LiveSession",
    "launch",
    "live_plan",
    "load_settings",
    "require_display",
    "run_live",
    "save_settings",
]
