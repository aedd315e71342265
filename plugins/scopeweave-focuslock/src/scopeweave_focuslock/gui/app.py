"""Opening the live GUI: from ``focus-feedback --show-live``, a session's ``show_live``, or Python.

:func:`launch` runs a validated ``focus-lock`` session through the core's
session runner with ``show_live = true``: the runner builds and initialises
the components in dependency order, creates the run directory (resolved
session, ``report.json``, ``events.jsonl``) and shuts everything down in
reverse order on close or error; the workflow hands over to :func:`run_live`,
which opens the window and, once it is closed, writes the same
``autofocus_*`` files as a headless run.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from pyqtgraph.Qt import QtCore, QtWidgets

from scopeweave.errors import ComponentError, Problem, SessionError
from scopeweave.registry import Registry
from scopeweave.runs import RunContext
from scopeweave.session import SessionPlan
from scopeweave_focuslock.gui.session import LiveSession
from scopeweave_focuslock.gui.window import FocusLockWindow

if TYPE_CHECKING:
    from scopeweave_focuslock.lock.workflow import FocusLock

__all__ = ["launch", "live_plan", "require_display", "run_live"]


def require_display() -> None:
    """Raise a clear error when no window can be shown (``QT_QPA_PLATFORM=offscreen`` counts as one)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and not platform and no_display:
        raise ComponentError("show_live needs a display (no DISPLAY or WAYLAND_DISPLAY here); run without "
                             "--show-live / show_live for a headless lock")


def live_plan(plan: SessionPlan) -> SessionPlan:
    """``plan`` with the ``focus-lock`` workflow's ``show_live`` on (also in the session recorded in the run)."""
    params = plan.workflow.params
    if not hasattr(params, "show_live"):
        raise SessionError(plan.source, [Problem("$.workflow.plugin", f"the live GUI drives the focus-lock workflow, "
                                                                      f"not {plan.workflow.spec.name!r}")])
    data: dict[str, Any] = copy.deepcopy(dict(plan.data))
    data.setdefault("workflow", {}).setdefault("params", {})["show_live"] = True
    workflow = attrs.evolve(plan.workflow, params=attrs.evolve(params, show_live=True))
    return attrs.evolve(plan, data=data, workflow=workflow)


def launch(plan: SessionPlan, registry: Registry, *, output: str | os.PathLike[str] | None = None) -> None:
    """Run ``plan`` (a ``focus-lock`` session) with the live GUI, as ``scopeweave session run`` would.

    Prints the run's summary and directory like the headless command; a failed
    run prints one line and exits with status 2.
    """
    from scopeweave.cli import run_plan

    run_plan(live_plan(plan), registry, Path(output) if output is not None else None)


@contextlib.contextmanager
def _ctrl_c_closes(window: QtWidgets.QWidget) -> Iterator[None]:
    """Ctrl-C (and SIGTERM) close the window, so the run still writes its files."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: window.close())
    wake = QtCore.QTimer()
    wake.timeout.connect(lambda: None)  # lets Python run its signal handlers while Qt waits
    wake.start(200)
    try:
        yield
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_APPLICATION: list[Any] = []  # the QApplication this module created lives as long as the process


def _application() -> Any:
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([sys.argv[0] if sys.argv else "focus-lock"])
        _APPLICATION.append(app)
    return app


def run_live(workflow: FocusLock, context: RunContext, *, settings_path: Path | None = None) -> Mapping[str, Any]:
    """Open the window for ``workflow`` in ``context``; when it closes, write the lock files and return the results."""
    require_display()
    _application()
    session = LiveSession(workflow, context, settings_path=settings_path)
    window = FocusLockWindow(session)
    loop = QtCore.QEventLoop()
    window.closed.connect(loop.quit)
    window.show()
    with _ctrl_c_closes(window):
        loop.exec()
    runner = window.worker.runner
    if runner is None:
        raise ComponentError("the live GUI could not start: " + ("; ".join(window.errors) or "unknown error"))
    return session.finish(runner, n_corrections=window.worker.total_corrections)
