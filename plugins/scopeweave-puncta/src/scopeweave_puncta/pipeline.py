"""Per-sample processing behind the workflows: localize, track, evaluate, analyze.

:func:`process_sample` takes one :class:`Job` (a sample, where to write, what
to do) and returns a :class:`SampleResult`; it is a plain module-level
function of picklable arguments so Dask can run it on threads, processes or a
cluster.  A stage reuses a product the sample already has (e.g. the
``localizations.csv`` of an earlier run) and computes it otherwise.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import attrs
import numpy as np
import tifffile
from numpy.typing import NDArray

from scopeweave.atomic import write_json_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.calcium import CalciumAnalysis, CalciumParams, analyze_calcium
from scopeweave_puncta.calcium_eval import evaluate_calcium
from scopeweave_puncta.csv_tables import read_numeric_csv, write_numeric_csv
from scopeweave_puncta.evaluate import evaluate_localizations
from scopeweave_puncta.figures import (
    plot_cooccurrence_heatmap,
    plot_overlay,
    plot_precision_histogram,
    plot_trajectories,
)
from scopeweave_puncta.ground_truth import GroundTruth, read_calcium_events, read_ground_truth, write_calcium_events
from scopeweave_puncta.localization_io import read_localizations, write_localizations
from scopeweave_puncta.msd import MotionParams, TrackSummary, summarize_tracks
from scopeweave_puncta.samples import Sample, write_sample_record
from scopeweave_puncta.table import LOCALIZATION_COLUMNS, LocalizationTable
from scopeweave_puncta.track_eval import evaluate_tracks, track_identities
from scopeweave_puncta.tracking import TrackingParams, Tracks, link_tracks

__all__ = ["Goal", "Job", "SampleResult", "process_sample", "read_tracks", "write_tracks"]

Goal = Literal["localize", "track", "evaluate", "analyze"]


@attrs.frozen(kw_only=True)
class Job:
    """What to do with one sample.

    Attributes
    ----------
    sample
        The sample's files.
    run_dir
        The run directory; products go to ``run_dir / sample.name``.
    goal
        The workflow's stage.
    localizer
        Localizer used when localizations must be computed (or None).
    camera_from_metadata
        Give the localizer the camera of the sample's ``metadata.json``.
    pixel_size_nm, frame_interval_ms
        Overrides (0: from the sample).
    tracking, motion, calcium
        Stage parameters.
    tolerance_nm
        Matching radius of the evaluation.
    calcium_frame_tolerance
        Onset tolerance of calcium-event matching, frames.
    figures
        Draw the figures (``analyze``).
    """

    sample: Sample
    run_dir: Path
    goal: Goal
    localizer: Any = None
    camera_from_metadata: bool = True
    pixel_size_nm: float = 0.0
    frame_interval_ms: float = 0.0
    tracking: TrackingParams = attrs.field(factory=TrackingParams)
    motion: MotionParams = attrs.field(factory=MotionParams)
    calcium: CalciumParams = attrs.field(factory=CalciumParams)
    tolerance_nm: float = 250.0
    calcium_frame_tolerance: int = 1
    figures: bool = True


@attrs.frozen(kw_only=True)
class SampleResult:
    """What :func:`process_sample` did.

    Attributes
    ----------
    name
        The sample.
    products
        Files written, relative to the run directory.
    results
        Numbers for ``report.json``.
    """

    name: str
    products: list[str]
    results: dict[str, Any]


class _Writer:
    def __init__(self, job: Job) -> None:
        self.folder = job.run_dir / job.sample.name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.run_dir = job.run_dir
        self.products: list[str] = []
        self.files: dict[str, Path] = {}

    def path(self, name: str, role: str | None = None) -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.products.append(path.relative_to(self.run_dir).as_posix())
        if role is not None:
            self.files[role] = path
        return path


def write_tracks(tracks: Tracks, path: Path) -> Path:
    """Write ``tracks.csv``: ``track_id`` then the localization columns."""
    return write_numeric_csv(path, tracks.columns(), integer_columns=("track_id", "frame"), float_format="%.4f")


def read_tracks(path: Path) -> Tracks:
    """Read ``tracks.csv``."""
    columns = read_numeric_csv(path, required=("track_id", *LOCALIZATION_COLUMNS))
    try:
        return Tracks(localizations=LocalizationTable.from_columns(columns), track_id=columns["track_id"])
    except ValueError as exc:
        raise ScopeweaveError(f"{path}: {exc}") from None


def _read_movie(path: Path) -> NDArray[Any]:
    try:
        movie = tifffile.imread(path)
    except (OSError, ValueError, tifffile.TiffFileError) as exc:
        raise ScopeweaveError(f"{path}: cannot read the TIFF ({exc}).") from None
    movie = np.asarray(movie)
    if movie.ndim == 2:
        movie = movie[None]
    if movie.ndim != 3:
        raise ScopeweaveError(f"{path}: expected a (t, y, x) movie, got shape {movie.shape}.")
    return movie


def _localizer_for(job: Job) -> Any:
    if job.localizer is None:
        raise ScopeweaveError(
            f"sample {job.sample.name!r} has no localizations.csv; wire a localizer (uses.localizer) to compute them."
        )
    if job.camera_from_metadata and job.sample.camera is not None and hasattr(job.localizer, "with_camera"):
        return job.localizer.with_camera(job.sample.camera)
    return job.localizer


def _localizations(job: Job, writer: _Writer, pixel_size_nm: float, *, force: bool) -> tuple[LocalizationTable, int]:
    existing = job.sample.get("localizations")
    movie_path = job.sample.get("movie")
    if existing is not None and not (force and movie_path is not None):
        table = read_localizations(existing, pixel_size_nm=pixel_size_nm)
        n_frames = _read_movie(movie_path).shape[0] if movie_path is not None else int(table.frame.max(initial=-1)) + 1
        writer.files["localizations"] = existing
        return table, n_frames
    movie = _read_movie(job.sample.require("movie", "localization"))
    columns = _localizer_for(job).localize(movie, pixel_size_nm=pixel_size_nm)
    try:
        table = columns if isinstance(columns, LocalizationTable) else LocalizationTable.from_columns(columns)
    except ValueError as exc:
        raise ScopeweaveError(f"sample {job.sample.name!r}: the localizer returned a bad table ({exc}).") from None
    write_localizations(table, writer.path("localizations.csv", "localizations"))
    return table, movie.shape[0]


def _tracks(job: Job, writer: _Writer, table: LocalizationTable, frame_interval_ms: float, *, force: bool
            ) -> tuple[Tracks, TrackSummary]:
    existing = job.sample.get("tracks")
    if existing is not None and not force:
        tracks = read_tracks(existing)
        writer.files["tracks"] = existing
    else:
        tracks = link_tracks(table, job.tracking)
        write_tracks(tracks, writer.path("tracks.csv", "tracks"))
    summary = summarize_tracks(tracks, job.motion, frame_interval_ms=frame_interval_ms)
    write_numeric_csv(writer.path("track_summary.csv", "track_summary"), summary.columns(),
                      integer_columns=("track_id", "n_points", "first_frame", "last_frame", "mobile"))
    return tracks, summary


def _calcium_photons(job: Job) -> NDArray[np.float32]:
    movie = _read_movie(job.sample.require("calcium", "the calcium analysis")).astype(np.float32)
    baseline = job.calcium.camera_baseline_adu
    camera = job.sample.camera
    if baseline < 0:
        return camera.to_photons(movie).astype(np.float32) if camera is not None else movie
    gain = camera.e_per_adu / camera.em_gain if camera is not None else 1.0
    return (movie - baseline) * np.float32(gain)


def _calcium(job: Job, writer: _Writer, tracks: Tracks, summary: TrackSummary, pixel_size_nm: float,
             frame_interval_ms: float) -> CalciumAnalysis:
    analysis = analyze_calcium(
        _calcium_photons(job), tracks, pixel_size_nm=pixel_size_nm, frame_interval_ms=frame_interval_ms,
        params=job.calcium, mobile_by_track=dict(zip(summary.track_id.tolist(), summary.mobile.tolist(), strict=True)),
    )
    traces = {"frame": np.arange(analysis.dff.shape[1] if analysis.dff.ndim == 2 else 0)}
    traces.update({f"track_{int(t)}": row for t, row in zip(analysis.track_ids, analysis.dff, strict=True)})
    write_numeric_csv(writer.path("dff_traces.csv"), traces, integer_columns=("frame",), float_format="%.5f")
    write_calcium_events(analysis.events, writer.path("puncta_events.csv", "puncta_events"))
    return analysis


def _pixel_size(job: Job) -> float:
    return job.sample.resolved_pixel_size_nm(job.pixel_size_nm)


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


def process_sample(job: Job) -> SampleResult:
    """Run ``job.goal`` on one sample and write its products."""
    writer = _Writer(job)
    pixel_size_nm = _pixel_size(job)
    results: dict[str, Any] = {"pixel_size_nm": pixel_size_nm}
    table, n_frames = _localizations(job, writer, pixel_size_nm, force=job.goal == "localize")
    results.update(n_frames=n_frames, n_localizations=len(table))
    truth: GroundTruth | None = None
    if job.goal in ("evaluate", "analyze") and job.sample.get("ground_truth") is not None:
        truth = read_ground_truth(job.sample.require("ground_truth", "evaluation"))
    if job.goal == "evaluate":
        truth = truth if truth is not None else read_ground_truth(job.sample.require("ground_truth", "evaluation"))
        evaluation = evaluate_localizations(table, truth, tolerance_nm=job.tolerance_nm, n_frames=n_frames)
        write_numeric_csv(writer.path("metrics_per_frame.csv"), evaluation.per_frame_columns(),
                          integer_columns=("frame",))
        errors = np.hypot(table.x_nm[evaluation.matched_predicted] - truth.x_nm[evaluation.matched_true],
                          table.y_nm[evaluation.matched_predicted] - truth.y_nm[evaluation.matched_true])
        results["localization"] = _finite(evaluation.overall.as_dict())
        results["sum_squared_error_nm2"] = float(np.sum(errors**2))
    frame_interval_ms = 0.0
    if job.goal in ("track", "evaluate", "analyze"):
        frame_interval_ms = job.sample.resolved_frame_interval_ms(job.frame_interval_ms)
        tracks, summary = _tracks(job, writer, table, frame_interval_ms, force=job.goal == "track")
        results["n_tracks"] = tracks.n_tracks
        results["n_mobile"] = int(np.sum(summary.mobile == 1))
        results["n_immobile"] = int(np.sum(summary.mobile == 0))
        if job.goal == "evaluate" and truth is not None:
            results["tracking"] = _finite(evaluate_tracks(tracks, truth, tolerance_nm=job.tolerance_nm).as_dict())
        has_calcium = job.sample.get("calcium") is not None
        if job.goal == "analyze" or (job.goal == "evaluate" and has_calcium
                                     and job.sample.get("calcium_events") is not None):
            analysis = _calcium(job, writer, tracks, summary, pixel_size_nm, frame_interval_ms) if has_calcium else None
            if analysis is not None:
                results["cooccurrence"] = _finite(analysis.statistics)
            if job.goal == "evaluate" and analysis is not None and truth is not None:
                metrics = evaluate_calcium(
                    analysis.events, read_calcium_events(job.sample.require("calcium_events", "calcium evaluation")),
                    identity=track_identities(tracks, truth, tolerance_nm=job.tolerance_nm),
                    true_puncta=np.unique(truth.id), n_frames=n_frames, frame_tolerance=job.calcium_frame_tolerance,
                )
                results["calcium"] = _finite(metrics.as_dict())
            if job.goal == "analyze":
                if analysis is not None:
                    write_json_atomic(writer.path("cooccurrence.json"), results["cooccurrence"])
                if job.figures:
                    _figures(job, writer, table, tracks, summary, analysis, truth, pixel_size_nm, frame_interval_ms)
    if job.goal == "evaluate":
        write_json_atomic(writer.path("metrics.json"), results)
    write_sample_record(writer.folder, job.sample, extra_files=writer.files, pixel_size_nm=pixel_size_nm,
                        frame_interval_ms=frame_interval_ms or job.sample.frame_interval_ms)
    writer.products.append((writer.folder / "sample.json").relative_to(job.run_dir).as_posix())
    return SampleResult(name=job.sample.name, products=writer.products, results=results)


def _figures(job: Job, writer: _Writer, table: LocalizationTable, tracks: Tracks, summary: TrackSummary,
             analysis: CalciumAnalysis | None, truth: GroundTruth | None, pixel_size_nm: float,
             frame_interval_ms: float) -> None:
    movie_path = job.sample.get("movie")
    movie = _read_movie(movie_path).astype(np.float32) if movie_path is not None else None
    if movie is not None:
        plot_trajectories(writer.path("figures/trajectories.png"), tracks=tracks, summary=summary,
                          background=movie.mean(axis=0), pixel_size_nm=pixel_size_nm)
        counts = np.bincount(table.frame, minlength=movie.shape[0]) if len(table) else np.zeros(movie.shape[0])
        busiest = int(np.argmax(counts))
        plot_overlay(writer.path("figures/overlay.png"), frame_image=movie[busiest], frame=busiest,
                     localizations=table, pixel_size_nm=pixel_size_nm, truth=truth)
    plot_precision_histogram(writer.path("figures/precision_histogram.png"), localizations=table)
    if analysis is not None:
        plot_cooccurrence_heatmap(writer.path("figures/cooccurrence_heatmap.png"), analysis=analysis,
                                  summary=summary, frame_interval_ms=frame_interval_ms)
