"""Running a validated session: build, start, run, shut down, report.

Components are built and initialised in dependency order and shut down in
reverse order whatever happens (success, error, Ctrl-C or SIGTERM).  The run
directory always ends with a ``report.json`` whose ``status`` is ``ok``,
``failed`` or ``interrupted``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import signal
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import tomli_w

from scopeweave import __version__
from scopeweave.atomic import write_json_atomic, write_text_atomic
from scopeweave.errors import ComponentError, ScopeweaveError
from scopeweave.kinds import INTERFACE_OF_KIND, Component
from scopeweave.registry import Registry
from scopeweave.runs import EventLog, RunContext, RunStatus, create_run_dir
from scopeweave.session.plan import PlannedComponent, SessionPlan

__all__ = ["RunOutcome", "run_session"]


@attrs.frozen(kw_only=True)
class RunOutcome:
    """Where a run went and how it ended."""

    run_dir: Path
    status: RunStatus
    report: Mapping[str, Any]


class RunFailed(ScopeweaveError):
    """A session run failed; the run directory holds its report."""

    def __init__(self, message: str, outcome: RunOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def run_session(
    plan: SessionPlan,
    registry: Registry,
    *,
    output_root: str | os.PathLike[str] | None = None,
) -> RunOutcome:
    """Run ``plan`` in a fresh run directory and return the outcome.

    Raises
    ------
    RunFailed
        When a component or the workflow raised; ``outcome`` has the report.
    KeyboardInterrupt
        Re-raised after the report was written with status ``interrupted``.
    """
    root = Path(output_root) if output_root is not None else Path(plan.info.output_dir)
    run_dir = create_run_dir(root, plan.info.name)
    write_text_atomic(run_dir / "session.toml", tomli_w.dumps(_toml_ready(plan.data)))
    events = EventLog(run_dir / "events.jsonl")
    report = _initial_report(plan, registry, run_dir)
    write_json_atomic(run_dir / "report.json", report)

    started: list[tuple[str, Any]] = []
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    context: RunContext | None = None
    status: RunStatus = "failed"
    error: BaseException | None = None
    events.emit("run_start", session=plan.info.name, run_dir=str(run_dir))
    try:
        with _sigterm_as_interrupt():
            t0 = time.perf_counter()
            by_label: dict[str, Any] = {}
            for item in plan.components:
                by_label[item.label] = _start(item, by_label, events)
                started.append((item.label, by_label[item.label]))
            workflow = _build(plan.workflow, by_label)
            timings["build_s"] = time.perf_counter() - t0
            context = RunContext(
                run_dir=run_dir,
                uses={role: by_label[label] for role, label in plan.workflow.uses.items()},
                params=plan.workflow.params,
                events=events,
                session_path=plan.path,
            )
            t0 = time.perf_counter()
            events.emit("workflow_start", workflow=plan.workflow.spec.name)
            results = workflow.run(context)
            timings["run_s"] = time.perf_counter() - t0
            report["results"] = dict(results or {})
            status = "ok"
            events.emit("workflow_end", workflow=plan.workflow.spec.name)
    except KeyboardInterrupt as exc:
        status, error = "interrupted", exc
        events.emit("interrupted")
    except Exception as exc:  # noqa: BLE001 - any failure ends in a report
        status, error = "failed", exc
        events.emit("error", type=type(exc).__name__, message=str(exc))
    finally:
        t0 = time.perf_counter()
        shutdown_errors = _shutdown(started, events)
        timings["shutdown_s"] = time.perf_counter() - t0
        timings["total_s"] = time.perf_counter() - t_start
        if context is not None:
            timings.update({f"workflow.{k}": v for k, v in context.timings_s.items()})
            report["products"] = list(context.products)
        report["timings_s"] = {k: round(v, 6) for k, v in timings.items()}
        report["status"] = status
        report["finished_at"] = _now()
        if error is not None:
            report["error"] = {
                "type": type(error).__name__,
                "message": str(error),
                "traceback": "".join(traceback.format_exception(error)),
            }
        if shutdown_errors:
            report["shutdown_errors"] = shutdown_errors
        report["n_events"] = len(events.records)
        events.emit("run_end", status=status)
        events.close()
        write_json_atomic(run_dir / "report.json", report)
    outcome = RunOutcome(run_dir=run_dir, status=status, report=report)
    if isinstance(error, KeyboardInterrupt):
        raise error
    if error is not None:
        message = error.args[0] if isinstance(error, ScopeweaveError) and error.args else f"{type(error).__name__}: {error}"
        raise RunFailed(f"run failed: {message} (report: {run_dir / 'report.json'})", outcome) from error
    return outcome


def _build(item: PlannedComponent, by_label: Mapping[str, Any]) -> Any:
    uses = {role: by_label[label] for role, label in item.uses.items()}
    where = f"{item.kind} {item.label!r} (plugin {item.spec.name!r})"
    try:
        component = item.spec.build(item.params, uses)
    except ScopeweaveError as exc:
        raise ComponentError(f"{where} could not be built: {exc}") from exc
    except Exception as exc:
        raise ComponentError(f"{where} could not be built: {type(exc).__name__}: {exc}") from exc
    interface = INTERFACE_OF_KIND[item.kind]
    if not isinstance(component, interface):
        raise ComponentError(f"{where}: its factory returned {type(component).__qualname__}, "
                             f"which is not a {interface.__name__}.")
    return component


def _start(item: PlannedComponent, by_label: Mapping[str, Any], events: EventLog) -> Any:
    component = _build(item, by_label)
    if isinstance(component, Component):
        try:
            component.initialize()
        except Exception as exc:
            with contextlib.suppress(Exception):
                component.shutdown()
            raise ComponentError(
                f"{item.kind} {item.label!r} (plugin {item.spec.name!r}) failed to initialize: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    events.emit("component_started", label=item.label, kind=item.kind, plugin=item.spec.name)
    return component


def _shutdown(started: list[tuple[str, Any]], events: EventLog) -> list[dict[str, str]]:
    errors = []
    for label, component in reversed(started):
        if not isinstance(component, Component):
            continue
        try:
            component.shutdown()
            events.emit("component_stopped", label=label)
        except Exception as exc:  # noqa: BLE001 - keep shutting the others down
            errors.append({"label": label, "type": type(exc).__name__, "message": str(exc)})
            events.emit("shutdown_error", label=label, type=type(exc).__name__, message=str(exc))
    return errors


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while the run is active (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _initial_report(plan: SessionPlan, registry: Registry, run_dir: Path) -> dict[str, Any]:
    def describe(item: PlannedComponent) -> dict[str, Any]:
        distribution, version = registry.distribution_of(item.kind, item.spec.name)
        return {
            "kind": item.kind,
            "plugin": item.spec.name,
            "distribution": distribution,
            "version": version,
            "uses": dict(item.uses),
        }

    items = [*plan.components, plan.workflow]
    return {
        "scopeweave_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "session": {"name": plan.info.name, "source": plan.source, "description": plan.info.description},
        "run_dir": str(run_dir),
        "started_at": _now(),
        "status": "running",
        "components": {item.label: describe(item) for item in items},
        "parameters": {item.label: attrs.asdict(item.params) for item in items},
        "results": {},
    }


def _toml_ready(value: Any) -> Any:
    """TOML cannot hold None; drop such keys so the resolved session stays valid TOML."""
    if isinstance(value, Mapping):
        return {k: _toml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_toml_ready(v) for v in value]
    return value
