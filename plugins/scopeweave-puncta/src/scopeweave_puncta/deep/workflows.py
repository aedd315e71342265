"""The deep workflows: ``puncta-train``, ``puncta-infer`` and ``puncta-deep-evaluate``.

``puncta-train``
    Writes ``checkpoints/best.pt``, ``checkpoints/last.pt``, ``metrics.csv``
    (one row per validation), ``training_curves.png`` and, with TensorBoard
    installed, ``tensorboard/``.
``puncta-infer``
    Per sample ``<name>/localizations.csv`` (the table of the classical
    localizers), ``<name>/tracks.csv``, ``<name>/puncta_events.csv`` (calcium
    events at puncta from the calcium decoder, ``punctum_id`` = track id; same
    columns as the classical ``puncta-analyze`` events) and ``<name>/sample.json``
    (so ``puncta-track`` / ``puncta-analyze`` can continue from the run folder),
    plus ``inference.json``.
``puncta-deep-evaluate``
    ``evaluation.json``, ``metrics.csv`` (scenario, method, metric, value),
    ``performance.md`` (the seed's "Expected performance" tables, measured)
    and ``comparison_<k>.png`` (one frame per scenario, truth and both methods).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave.runs import RunContext
from scopeweave_puncta.deep.evaluation import DEEP, METHODS, ScenarioResult, evaluate_scenario, performance_markdown
from scopeweave_puncta.deep.figures import plot_comparison
from scopeweave_puncta.deep.inference import Predictor, assign_events_to_tracks
from scopeweave_puncta.deep.movies import open_movie
from scopeweave_puncta.deep.params import DeepEvaluateParams, InferParams, TrainParams
from scopeweave_puncta.deep.trainer import Trainer
from scopeweave_puncta.ground_truth import write_calcium_events
from scopeweave_puncta.localization_io import write_localizations
from scopeweave_puncta.localizers import GaussFitLocalizer, GaussFitParams
from scopeweave_puncta.pipeline import write_tracks
from scopeweave_puncta.samples import discover_samples, write_sample_record
from scopeweave_puncta.sim_params import SimulationParams
from scopeweave_puncta.simulate import simulate_dataset, simulate_sample
from scopeweave_puncta.tracking import link_tracks

__all__ = ["DeepEvaluateWorkflow", "InferWorkflow", "TrainWorkflow"]


def _finite(value: Any) -> Any:
    """NaN and infinities become ``None`` (valid JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _write_long_csv(path: Path, results: Sequence[ScenarioResult], baseline_name: str) -> None:
    """``scenario, method, metric, value`` rows of every number measured."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scenario", "method", "metric", "value"])
    for result in results:
        for method in METHODS:
            for key, value in result.metrics[method].items():
                writer.writerow([result.scenario.name, DEEP if method == DEEP else baseline_name, key, f"{value:.6g}"])
    write_text_atomic(path, buffer.getvalue())


class TrainWorkflow:
    """Train, fine-tune or resume a hybrid U-Net (see :class:`~scopeweave_puncta.deep.trainer.Trainer`)."""

    def __init__(self, params: TrainParams) -> None:
        self.params = params

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        with context.progress("training steps", p.total_steps) as bar, context.timed("training"):
            result = Trainer(p, context.run_dir, emit=context.events.emit, on_step=bar.advance).run()
        for name in ("checkpoints/best.pt", "checkpoints/last.pt", "metrics.csv", "training_curves.png"):
            if (context.run_dir / name).exists():
                context.product_path(name)
        final = result.history[-1] if result.history else {}
        best = result.best
        summary = (f"trained {p.total_steps} steps in {result.elapsed_s:.0f} s; best {best['metric']} "
                   f"{best['value']:.3g} at step {best['step']}; final validation: Jaccard {final.get('jaccard', math.nan):.3f}, "
                   f"RMSE {final.get('rmse_nm', math.nan):.1f} nm, calcium F1 {final.get('calcium_f1', math.nan):.3f}")
        return _finite({
            "summary": summary, "steps": result.steps, "elapsed_s": result.elapsed_s, "best": best,
            "final_validation": final,
            "checkpoints": {"best": str(result.best_checkpoint), "last": str(result.last_checkpoint)},
        })


class InferWorkflow:
    """Analyse TIFF movies with one model or an ensemble."""

    def __init__(self, params: InferParams) -> None:
        self.params = params

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        predictor = Predictor(p.checkpoints, p.prediction)
        inputs: list[str | Path] = list(p.inputs)
        if not inputs:
            root = context.run_dir / "samples"
            with context.timed("simulate"):
                simulate_dataset(p.synthetic, root)
            inputs = [root]
        samples = [s for s in discover_samples(inputs) if s.get("movie") is not None]
        if not samples:
            raise ScopeweaveError(f"inputs: no movie found in {list(p.inputs)}.")
        movies = {s.name: open_movie(s.require("movie", "inference")) for s in samples}
        rows: list[dict[str, Any]] = []
        context.events.emit("inference_start", device=str(predictor.device), samples=len(samples),
                            ensemble=len(predictor.members))
        with context.progress("frames", sum(m.shape[0] for m in movies.values())) as bar:
            for sample in samples:
                movie = movies[sample.name]
                calcium_path = sample.get("calcium")
                calcium = open_movie(calcium_path) if calcium_path is not None and predictor.config.has_calcium else None
                pixel = sample.resolved_pixel_size_nm(p.pixel_size_nm)
                trained = predictor.trained_pixel_size_nm
                if trained is not None and abs(pixel / trained - 1.0) > 0.1:
                    context.events.emit("warning", sample=sample.name,
                                        message=f"pixel size {pixel:g} nm differs from the {trained:g} nm the model was "
                                                "trained for; PSF widths in pixels differ from training")
                camera = sample.camera if p.camera_from_metadata and sample.camera is not None else p.camera
                with context.timed("inference"):
                    analysis = predictor.analyze(movie, calcium=calcium, camera=camera, pixel_size_nm=pixel,
                                                 on_frames=bar.advance)
                files = {"localizations": context.product_path(f"{sample.name}/localizations.csv")}
                write_localizations(analysis.localizations, files["localizations"])
                events = analysis.calcium_events
                n_tracks = 0
                if p.link_tracks:
                    tracks = link_tracks(analysis.localizations, p.tracking)
                    n_tracks = tracks.n_tracks
                    files["tracks"] = context.product_path(f"{sample.name}/tracks.csv")
                    write_tracks(tracks, files["tracks"])
                    events = assign_events_to_tracks(events, tracks, n_frames=movie.shape[0], pixel_size_nm=pixel,
                                                     max_distance_nm=p.max_event_distance_nm)
                if calcium is not None:
                    write_calcium_events(events, context.product_path(f"{sample.name}/puncta_events.csv"))
                context.product_path(f"{sample.name}/sample.json")
                write_sample_record(context.run_dir / sample.name, sample, extra_files=files, pixel_size_nm=pixel,
                                    frame_interval_ms=sample.frame_interval_ms)
                rows.append({"sample": sample.name, "frames": analysis.n_frames,
                             "localizations": len(analysis.localizations), "tracks": n_tracks,
                             "calcium_events": len(events) if calcium is not None else None,
                             "events_on_tracks": int(np.sum(events.punctum_id >= 0)) if calcium is not None else None,
                             "frames_per_s": analysis.frames_per_s, "pixel_size_nm": pixel})
        results = {"device": str(predictor.device), "checkpoints": [str(c) for c in p.checkpoints], "samples": rows}
        context.write_json("inference.json", _finite(results))
        frames = sum(r["frames"] for r in rows)
        seconds = sum(r["frames"] / r["frames_per_s"] for r in rows if r["frames_per_s"] > 0)
        events_total = sum(r["calcium_events"] or 0 for r in rows)
        results["summary"] = (f"{len(rows)} movie(s), {frames} frames: {sum(r['localizations'] for r in rows)} "
                              f"localizations, {events_total} calcium events; {frames / seconds:.1f} frames/s on "
                              f"{predictor.device} ({len(predictor.members)} model(s))")
        return _finite(results)


class DeepEvaluateWorkflow:
    """The deep model against ground truth and a baseline localizer on simulated movies."""

    def __init__(self, params: DeepEvaluateParams, *, baseline: Any = None) -> None:
        self.params = params
        self.baseline = baseline

    def _baseline(self) -> tuple[Any, str]:
        p = self.params
        if self.baseline is not None:
            return self.baseline, p.baseline_name
        params = GaussFitParams(psf_sigma_nm=p.psf_sigma_nm, camera=p.simulation.camera)
        return GaussFitLocalizer(params, method="mle"), p.baseline_name

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        predictor = Predictor(p.checkpoints, p.prediction)
        baseline, baseline_name = self._baseline()
        warm = simulate_sample(SimulationParams(frames_per_sample=3, image_size_px=(32, 32), seed=p.seed - 1,
                                                camera=p.simulation.camera), 0)
        predictor.analyze(warm.movie, calcium=warm.calcium, camera=p.simulation.camera,
                          pixel_size_nm=p.simulation.pixel_size_nm)
        baseline.localize(warm.movie, pixel_size_nm=p.simulation.pixel_size_nm)
        results = []
        with context.progress("test movies", len(p.scenarios) * p.movies_per_scenario) as bar:
            for k, scenario in enumerate(p.scenarios):
                with context.timed(f"scenario {scenario.name}"):
                    result = evaluate_scenario(predictor, baseline, p, scenario, scenario_index=k,
                                               on_movie=bar.advance)
                results.append(result)
                plot_comparison(context.product_path(f"comparison_{k}.png"), result.example,
                                title=f"{scenario.name}: middle frame of test movie 0", baseline_name=baseline_name)
                context.events.emit("scenario_done", scenario=scenario.name,
                                    **{f"{m}_{key}": result.metrics[m][key] for m in METHODS
                                       for key in ("jaccard", "rmse_nm", "calcium_f1")})
        notes = {
            "hybrid-unet": f"{', '.join(str(c) for c in p.checkpoints)} on {predictor.device}",
            baseline_name: "calcium columns: classical ΔF/F0 events on its tracks (puncta-analyze's method)",
            "test movies": f"{p.movies_per_scenario} x {p.frames} frames of {p.image_size_px[0]} x {p.image_size_px[1]} px "
                           f"per scenario, seed {p.seed}, matching tolerance {p.tolerance_nm:g} nm",
        }
        write_text_atomic(context.product_path("performance.md"),
                          performance_markdown(results, baseline_name=baseline_name, notes=notes))
        by_scenario = {r.scenario.name: {DEEP if m == DEEP else baseline_name: r.metrics[m] for m in METHODS}
                       for r in results}
        context.write_json("evaluation.json", _finite({"baseline": baseline_name, "scenarios": by_scenario,
                                                        "device": str(predictor.device)}))
        _write_long_csv(context.product_path("metrics.csv"), results, baseline_name)
        summary = "; ".join(
            f"{r.scenario.name}: Jaccard {r.metrics[DEEP]['jaccard']:.2f} vs {r.metrics['baseline']['jaccard']:.2f}, "
            f"RMSE {r.metrics[DEEP]['rmse_nm']:.1f} vs {r.metrics['baseline']['rmse_nm']:.1f} nm"
            for r in results)
        return _finite({"summary": f"hybrid-unet vs {baseline_name}: {summary}", "baseline": baseline_name,
                        "scenarios": by_scenario})
