"""Run directories: where a session run leaves its resolved session, report and products.

Layout of one run::

    <output>/<session-name>-<YYYYmmdd-HHMMSS>[-N]/
        session.toml     the session as run (overrides applied)
        report.json      versions, parameters, timings, results, status
        events.jsonl     one JSON object per line, in order
        ...              the workflow's products
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import attrs

from scopeweave.atomic import _json_default, write_json_atomic

__all__ = ["EventLog", "Progress", "RunContext", "RunStatus", "create_run_dir"]

RunStatus = Literal["running", "ok", "failed", "interrupted"]


def create_run_dir(output_root: str | os.PathLike[str], session_name: str) -> Path:
    """Create a fresh, uniquely named run directory under ``output_root``."""
    root = Path(output_root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{session_name}-{stamp}"
    for attempt in range(1000):
        candidate = root / (base if attempt == 0 else f"{base}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RuntimeError(f"could not create a run directory under {root}")


class EventLog:
    """Appends events as JSON lines, flushed as they happen (thread-safe).

    Each line holds ``t_s`` (seconds since the log opened), ``event`` and the
    fields given.  Listeners (a GUI, a progress display) may subscribe.
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self._handle: IO[str] | None = open(self.path, "a", encoding="utf-8") if self.path else None  # noqa: SIM115
        self._t0 = time.perf_counter()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Mapping[str, Any]], None]] = []
        self.records: list[dict[str, Any]] = []

    def subscribe(self, listener: Callable[[Mapping[str, Any]], None]) -> None:
        """Call ``listener(record)`` for every event emitted from now on."""
        self._listeners.append(listener)

    def emit(self, event: str, **fields: Any) -> dict[str, Any]:
        """Record one event and return the record."""
        record = {"t_s": round(time.perf_counter() - self._t0, 6), "event": event, **fields}
        line = json.dumps(record, default=_json_default)
        with self._lock:
            self.records.append(record)
            if self._handle is not None:
                self._handle.write(line + "\n")
                self._handle.flush()
        for listener in self._listeners:
            listener(record)
        return record

    def close(self) -> None:
        """Flush to disk and close the file."""
        with self._lock:
            if self._handle is not None:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()
                self._handle = None


class Progress:
    """Progress of one long step: a bar on a terminal, events in the log.

    Use as a context manager; call :meth:`advance` as work completes.
    """

    def __init__(self, events: EventLog, label: str, total: int, *, stream: IO[str] | None = None) -> None:
        self.events = events
        self.label = label
        self.total = max(int(total), 0)
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._last_decile = -1
        self._t0 = time.perf_counter()

    def __enter__(self) -> Progress:
        self.events.emit("progress_start", label=self.label, total=self.total)
        return self

    def advance(self, n: int = 1) -> None:
        """Mark ``n`` more units as done."""
        self.done += n
        fraction = self.done / self.total if self.total else 1.0
        if self._tty:
            width = 30
            filled = round(width * min(fraction, 1.0))
            self._stream.write(
                f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
            )
            self._stream.flush()
        decile = int(min(fraction, 1.0) * 10)
        if decile != self._last_decile:
            self._last_decile = decile
            self.events.emit("progress", label=self.label, done=self.done, total=self.total)

    def __exit__(self, *exc: object) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
        self.events.emit(
            "progress_end", label=self.label, done=self.done, elapsed_s=round(time.perf_counter() - self._t0, 6)
        )


@attrs.define(kw_only=True)
class RunContext:
    """What a running workflow sees.

    Attributes
    ----------
    run_dir
        The directory for this run's products.
    uses
        The workflow's roles, each bound to a started component.
    params
        The workflow's validated parameters.
    events
        The run's event log.
    session_path
        The session file, or ``None`` when the session was built in code.
    """

    run_dir: Path
    uses: Mapping[str, Any]
    params: Any
    events: EventLog
    session_path: Path | None = None
    timings_s: dict[str, float] = attrs.field(factory=dict)
    products: list[str] = attrs.field(factory=list)

    def product_path(self, name: str) -> Path:
        """Path of a product file in the run directory; it is listed in the report."""
        path = self.run_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        relative = path.relative_to(self.run_dir).as_posix()
        if relative not in self.products:
            self.products.append(relative)
        return path

    def progress(self, label: str, total: int) -> Progress:
        """A progress reporter for ``total`` units of work."""
        return Progress(self.events, label, total)

    def timed(self, label: str) -> _Timer:
        """Context manager adding the block's wall time to ``timings_s[label]``."""
        return _Timer(self.timings_s, label)

    def write_json(self, name: str, data: Any) -> Path:
        """Write a JSON product atomically and return its path."""
        path = self.product_path(name)
        write_json_atomic(path, data)
        return path


class _Timer:
    def __init__(self, sink: dict[str, float], label: str) -> None:
        self._sink = sink
        self._label = label

    def __enter__(self) -> None:
        self._t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self._sink[self._label] = self._sink.get(self._label, 0.0) + time.perf_counter() - self._t0
