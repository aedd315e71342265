"""Workflow ``sharpness-autofocus``: image-based autofocus with any FrameMetric (like OughtaFocus).

A coarse scan over the search range finds the bracket around the best
score; Brent's method (default) or golden-section search then refines the
position inside that bracket to ``tolerance_um``. Every position is scored on
a fresh frame snapped after the move (never a stale live frame, Micro-Manager
#862). The stage ends at the best position found.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import optimize

from scopeweave.atomic import write_text_atomic
from scopeweave.kinds import Camera, FrameMetric, Stage
from scopeweave.runs import RunContext
from scopeweave_focusmetrics.report.figures import plot_focus_curve
from scopeweave_focusmetrics.workflow_params import AutofocusParams
from scopeweave_focusmetrics.workflows._metrics import metric_by_name

__all__ = ["AutofocusParams", "SharpnessAutofocus", "golden_section_max"]


def golden_section_max(function: Any, low: float, high: float, *, tolerance: float, max_evaluations: int) -> float:
    """Maximise a unimodal ``function`` on [low, high] by golden-section search; returns the best point seen."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = function(c), function(d)
    evaluations = 2
    best_x, best_f = (c, fc) if fc >= fd else (d, fd)
    while b - a > tolerance and evaluations < max_evaluations:
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = function(c)
            x, f = c, fc
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = function(d)
            x, f = d, fd
        evaluations += 1
        if f > best_f:
            best_x, best_f = x, f
    return best_x


class SharpnessAutofocus:
    """Coarse scan, then Brent / golden refinement of a FrameMetric score on a Z stage."""

    def __init__(self, params: AutofocusParams, *, camera: Camera, stage: Stage, metric: FrameMetric | None) -> None:
        if len(stage.axes) != 1:
            raise ValueError(f"'stage' must be a single-axis Z stage (got axes {stage.axes}).")
        self.params = params
        self.camera = camera
        self.stage = stage
        self.metric = metric if metric is not None else metric_by_name(params.metric)
        self.metric_name = getattr(self.metric, "name", params.metric if metric is None else type(metric).__name__)
        self.evaluations: list[tuple[float, float, str]] = []
        self._phase = "coarse"

    def _frame(self) -> np.ndarray:
        frames = [np.asarray(self.camera.snap(), dtype=np.float64) for _ in range(self.params.frames_per_point)]
        frame = frames[0] if len(frames) == 1 else np.mean(frames, axis=0)
        fraction = self.params.crop_fraction
        if fraction < 1:
            h, w = frame.shape
            ch, cw = max(3, round(h * fraction)), max(3, round(w * fraction))
            frame = frame[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw]
        return frame

    def _sharpness(self, z_um: float) -> float:
        """Oriented score at ``z_um`` (higher is sharper whatever the metric's direction)."""
        self.stage.move_to_um((float(z_um),))
        score = float(self.metric(self._frame()))
        self.evaluations.append((float(z_um), score, self._phase))
        return score if self.metric.higher_is_sharper else -score

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        start_um = float(self.stage.position_um()[0])
        low_limit, high_limit = self.stage.limits_um[0]
        low = max(start_um - p.search_range_um / 2, low_limit)
        high = min(start_um + p.search_range_um / 2, high_limit)
        grid = np.linspace(low, high, p.coarse_steps)
        with context.progress("autofocus coarse scan", p.coarse_steps) as progress, context.timed("coarse"):
            coarse = []
            for z_um in grid:
                coarse.append(self._sharpness(float(z_um)))
                progress.advance()
        best = int(np.argmax(coarse))
        bracket = (float(grid[max(best - 1, 0)]), float(grid[min(best + 1, len(grid) - 1)]))
        context.events.emit("coarse_done", best_um=float(grid[best]), bracket_um=bracket)
        self._phase = "refine"
        with context.timed("refine"):
            if p.method == "brent":
                result = optimize.minimize_scalar(lambda z: -self._sharpness(z), bounds=bracket, method="bounded",
                                                  options={"xatol": p.tolerance_um, "maxiter": p.max_evaluations})
                context.events.emit("refined", z_um=float(result.x), evaluations=int(result.nfev))
            else:
                golden_section_max(self._sharpness, *bracket, tolerance=p.tolerance_um,
                                             max_evaluations=p.max_evaluations)
        positions = np.array([e[0] for e in self.evaluations])
        scores = np.array([e[1] for e in self.evaluations])
        oriented = scores if self.metric.higher_is_sharper else -scores
        best_um = float(positions[np.argmax(oriented)])
        final_um = start_um if p.return_to_start else best_um
        self.stage.move_to_um((final_um,))
        self._write_products(context, positions, scores, best_um)
        summary = (f"sharpness-autofocus ({self.metric_name}, {p.method}): best z = {best_um:.4f} um after "
                   f"{len(self.evaluations)} evaluations (start {start_um:.4f} um)")
        return {
            "summary": summary, "best_z_um": best_um, "start_z_um": start_um, "final_z_um": final_um,
            "n_evaluations": len(self.evaluations), "metric": self.metric_name, "method": p.method,
            "bracket_um": list(bracket),
            "evaluations": [{"z_um": z, "score": s, "phase": ph} for z, s, ph in self.evaluations],
        }

    def _write_products(self, context: RunContext, positions: np.ndarray, scores: np.ndarray, best_um: float) -> None:
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["evaluation", "phase", "z_um", "score"])
        for i, (z_um, score, phase) in enumerate(self.evaluations):
            writer.writerow([i, phase, f"{z_um:.6f}", f"{score:.10g}"])
        write_text_atomic(context.product_path("autofocus.csv"), table.getvalue())
        plot_focus_curve(positions, scores, best_um=best_um, metric_name=self.metric_name,
                         path=context.product_path("focus_curve.png"), phases=[e[2] for e in self.evaluations])
