"""Workflow ``frame-qc``: score, flag and keep frames of one stack or a folder / glob of stacks."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave.kinds import FrameMetric
from scopeweave.parallel import map_tasks
from scopeweave.runs import RunContext
from scopeweave_focusmetrics.profile import read_profile
from scopeweave_focusmetrics.qc.assess import StackQC, assess_stack
from scopeweave_focusmetrics.qc.config import FocusRule
from scopeweave_focusmetrics.readers import StackSource, load_stack, read_image, resolve_stacks
from scopeweave_focusmetrics.report.figures import plot_correlation_matrix, plot_montage, plot_score_curve
from scopeweave_focusmetrics.report.html import index_html, stack_html
from scopeweave_focusmetrics.report.tables import qc_csv, qc_json
from scopeweave_focusmetrics.workflow_params import FrameQcParams
from scopeweave_focusmetrics.workflows._metrics import metric_by_name

__all__ = ["FrameQc", "FrameQcParams"]


def _folder_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "stack"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


class FrameQc:
    """Frame QC of stacks, on Dask; per stack a CSV, a JSON verdict, figures and an HTML report."""

    def __init__(self, params: FrameQcParams, *, metric: FrameMetric | None = None) -> None:
        self.params = params
        self._base: Path | None = None
        self.config = params.config()
        self.metric_name = params.metric
        if params.profile:
            profile = read_profile(params.profile)
            self.metric_name = profile.metric
            self.config = attrs.evolve(self.config, focus=FocusRule(
                rule="floor" if profile.rule == "floor" else "peak",
                floor=profile.threshold if profile.rule == "floor" else 0.0,
                alpha=profile.threshold if profile.rule == "peak" else self.config.focus.alpha))
            metric = metric if metric is not None else metric_by_name(profile.metric, profile.metric_params,
                                                                      field="profile.metric")
        self.metric = metric if metric is not None else metric_by_name(params.metric)
        if metric is not None and not params.profile:
            self.metric_name = getattr(metric, "name", type(metric).__name__)
        self.extra = {name: metric_by_name(name, field="extra_metrics") for name in params.extra_metrics}

    def _assess(self, source: StackSource) -> StackQC:
        template = None
        if self.config.drift.method == "template":
            template = read_image(self._resolve(self.config.drift.template_path))
        return assess_stack(
            load_stack(source), metric=self.metric, metric_name=self.metric_name, config=self.config,
            extra_metrics=self.extra, template=template, name=source.name, frame_labels=source.frame_labels(),
            saturation_level=self.params.saturation_level or None,
        )

    def _resolve(self, path: str) -> Path:
        file = Path(path).expanduser()
        return file if file.is_absolute() or self._base is None else self._base / file

    def run(self, context: RunContext) -> Mapping[str, Any]:
        self._base = context.session_path.parent if context.session_path is not None else None
        try:
            sources = resolve_stacks(self.params.input, base=self._base)
        except (FileNotFoundError, ValueError) as exc:
            raise ScopeweaveError(f"frame-qc input: {exc}") from exc
        context.events.emit("stacks_found", n=len(sources), names=[s.name for s in sources])
        taken: set[str] = set()
        folders = [_folder_name(s.name, taken) for s in sources]
        rows: list[dict[str, Any]] = [{} for _ in sources]

        with context.progress("frame-qc", len(sources)) as progress, context.timed("frame_qc"):
            def write(index: int, qc: StackQC) -> None:
                rows[index] = self._write_stack(context, qc, folders[index], sources[index])
                progress.advance()

            map_tasks(self._assess, sources, scheduler=self.params.scheduler,
                      max_workers=self.params.n_workers or None, on_done=write)

        self._write_summary(context, rows)
        kept = sum(r["n_kept"] for r in rows)
        total = sum(r["n_frames"] for r in rows)
        summary = f"frame-qc: {len(rows)} stack(s), kept {kept} of {total} frames (metric {self.metric_name})"
        return {"summary": summary, "n_stacks": len(rows), "n_frames": total, "n_kept": kept, "stacks": rows}

    def _write_stack(self, context: RunContext, qc: StackQC, folder: str, source: StackSource) -> dict[str, Any]:
        write_text_atomic(context.product_path(f"{folder}/frame_qc.csv"), qc_csv(qc))
        verdict = qc_json(qc, source=", ".join(str(p) for p in source.paths[:3]))
        context.write_json(f"{folder}/frame_qc.json", verdict)
        if self.params.figures:
            names = ["score_curve.png", "montage.png"]
            plot_score_curve(qc, context.product_path(f"{folder}/score_curve.png"))
            plot_montage(qc, context.product_path(f"{folder}/montage.png"))
            if qc.corr_matrix is not None:
                plot_correlation_matrix(qc, context.product_path(f"{folder}/correlation_matrix.png"))
                names.insert(1, "correlation_matrix.png")
            write_text_atomic(context.product_path(f"{folder}/report.html"), stack_html(verdict, names))
        context.events.emit("stack_done", stack=qc.name, n_frames=qc.n_frames, n_kept=len(verdict["kept"]),
                            best_frame=qc.best_frame)
        return {"stack": qc.name, "folder": folder, "n_frames": qc.n_frames, "n_kept": len(verdict["kept"]),
                "best_frame": qc.best_frame, "kept": verdict["kept"]}

    def _write_summary(self, context: RunContext, rows: list[dict[str, Any]]) -> None:
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["stack", "folder", "n_frames", "n_kept", "best_frame"])
        for row in rows:
            writer.writerow([row["stack"], row["folder"], row["n_frames"], row["n_kept"], row["best_frame"]])
        write_text_atomic(context.product_path("summary.csv"), table.getvalue())
        if self.params.figures:
            write_text_atomic(context.product_path("index.html"), index_html(rows))

