"""The workflows ``puncta-simulate``, ``-localize``, ``-track``, ``-evaluate`` and ``-analyze``.

Every workflow but ``puncta-simulate`` takes ``inputs``: movies, tables or
folders of samples (see :mod:`~scopeweave_puncta.samples`), typically the
``samples/`` folder of a ``puncta-simulate`` run or the folder of an earlier
run.  With no inputs it first simulates the ``synthetic`` dataset into the
run (a self-contained check on known ground truth).  Samples run on Dask
(``scheduler``) with a progress bar; each sample's products go to
``<run>/<sample name>/``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave.parallel import check_scheduler, map_tasks
from scopeweave.runs import RunContext
from scopeweave_puncta.calcium import CalciumParams
from scopeweave_puncta.evaluate import efficiency
from scopeweave_puncta.msd import MotionParams
from scopeweave_puncta.samples import Sample, discover_samples
from scopeweave_puncta.sim_params import SimulationParams
from scopeweave_puncta.tracking import TrackingParams

if TYPE_CHECKING:
    from scopeweave_puncta.pipeline import Goal, Job, SampleResult

__all__ = [
    "AnalyzeParams",
    "EvaluateParams",
    "LocalizeParams",
    "PunctaWorkflow",
    "SimulateParams",
    "SimulateWorkflow",
    "TrackParams",
]


def _scheduler(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_scheduler(value)


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def _small_synthetic() -> SimulationParams:
    return SimulationParams(num_samples=1, frames_per_sample=40, image_size_px=(64, 64), num_puncta_mean=8.0)


@attrs.frozen(kw_only=True)
class SimulateParams(SimulationParams):
    """Parameters of ``puncta-simulate``: the simulation, and where and how to run it.

    Attributes
    ----------
    output_dir
        Folder for the samples; empty: ``samples/`` in the run directory.
    scheduler
        Dask scheduler: ``threads``, ``processes``, ``synchronous`` or ``tcp://host:port``.
    n_workers
        Dask workers (0: Dask's default).
    """

    output_dir: str = ""
    scheduler: str = attrs.field(default="threads", validator=_scheduler)
    n_workers: int = attrs.field(default=0, validator=_non_negative)


def _simulate_one(task: tuple[SimulationParams, int, Path]) -> Path:
    from scopeweave_puncta.simulate import simulate_sample, write_sample

    params, index, folder = task
    return write_sample(simulate_sample(params, index), folder)


def _simulate_into(context: RunContext, params: SimulationParams, root: Path, *, scheduler: str, n_workers: int
                   ) -> list[Path]:
    sim = SimulationParams(**{f.name: getattr(params, f.name) for f in attrs.fields(SimulationParams)})
    tasks = [(sim, index, root / f"sample_{index:05d}") for index in range(sim.num_samples)]
    with context.progress("simulate", len(tasks)) as progress, context.timed("simulate"):
        folders = map_tasks(_simulate_one, tasks, scheduler=scheduler, max_workers=n_workers or None,
                              on_done=lambda index, folder: progress.advance())
    return folders


class SimulateWorkflow:
    """``puncta-simulate``: write synthetic samples with ground truth."""

    def __init__(self, params: SimulateParams) -> None:
        self.params = params

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        root = Path(p.output_dir).expanduser() if p.output_dir else context.run_dir / "samples"
        folders = _simulate_into(context, p, root, scheduler=p.scheduler, n_workers=p.n_workers)
        if not p.output_dir:
            for folder in folders:
                for file in sorted(folder.iterdir()):
                    context.product_path(file.relative_to(context.run_dir).as_posix())
        samples = discover_samples([root])
        n_emitters = sum(len(np.loadtxt(s.files["ground_truth"], delimiter=",", skiprows=1, ndmin=2))
                         for s in samples)
        return {
            "summary": f"puncta-simulate: {len(folders)} samples of {p.frames_per_sample} frames "
                       f"({p.image_size_px[0]} x {p.image_size_px[1]} px, {p.psf_type} PSF) in {root}",
            "samples_dir": str(root),
            "n_samples": len(folders),
            "n_emitter_frames": n_emitters,
        }


@attrs.frozen(kw_only=True)
class _SampleWorkflowParams:
    inputs: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    pixel_size_nm: float = attrs.field(default=0.0, validator=_non_negative)
    frame_interval_ms: float = attrs.field(default=0.0, validator=_non_negative)
    camera_from_metadata: bool = True
    scheduler: str = attrs.field(default="threads", validator=_scheduler)
    n_workers: int = attrs.field(default=0, validator=_non_negative)
    synthetic: SimulationParams = attrs.field(factory=_small_synthetic)


_COMMON_DOC = """
    inputs
        Movies, tables or folders of samples; empty: simulate ``synthetic`` first.
    pixel_size_nm
        Pixel size (0: from each sample's metadata.json / sample.json).
    frame_interval_ms
        Time between frames (0: from the sample's metadata).
    camera_from_metadata
        Give the localizer the camera settings found in a sample's metadata.json.
    scheduler
        Dask scheduler: ``threads``, ``processes``, ``synchronous`` or ``tcp://host:port``.
    n_workers
        Dask workers (0: Dask's default).
    synthetic
        The dataset simulated when ``inputs`` is empty."""


@attrs.frozen(kw_only=True)
class LocalizeParams(_SampleWorkflowParams):
    __doc__ = f"""Parameters of ``puncta-localize``.

    Attributes
    ----------{_COMMON_DOC}
    """


@attrs.frozen(kw_only=True)
class TrackParams(_SampleWorkflowParams):
    __doc__ = f"""Parameters of ``puncta-track``.

    Attributes
    ----------{_COMMON_DOC}
    tracking
        LAP linking.
    motion
        MSD analysis and mobile / immobile classification.
    """

    tracking: TrackingParams = attrs.field(factory=TrackingParams)
    motion: MotionParams = attrs.field(factory=MotionParams)


@attrs.frozen(kw_only=True)
class EvaluateParams(TrackParams):
    __doc__ = f"""Parameters of ``puncta-evaluate``.

    Attributes
    ----------{_COMMON_DOC}
    tracking
        LAP linking (when tracks must be computed).
    motion
        MSD analysis.
    calcium
        Calcium traces and event detection (when the sample has a calcium channel).
    tolerance_nm
        Matching radius of localizations and track points (SMLM challenge: 250 nm).
    calcium_frame_tolerance
        Largest onset difference of a matched calcium event, frames.
    """

    calcium: CalciumParams = attrs.field(factory=CalciumParams)
    tolerance_nm: float = attrs.field(default=250.0)
    calcium_frame_tolerance: int = attrs.field(default=1, validator=_non_negative)

    @tolerance_nm.validator
    def _check_tolerance(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not value > 0:
            raise ValueError(f"'tolerance_nm' must be > 0 (got {value!r}).")


@attrs.frozen(kw_only=True)
class AnalyzeParams(TrackParams):
    __doc__ = f"""Parameters of ``puncta-analyze``.

    Attributes
    ----------{_COMMON_DOC}
    tracking
        LAP linking (when tracks must be computed).
    motion
        MSD analysis and mobile / immobile classification.
    calcium
        ΔF/F0 traces, event detection and the control ROIs.
    figures
        Draw trajectories, the precision histogram, the co-occurrence heatmap and an overlay.
    """

    calcium: CalciumParams = attrs.field(factory=CalciumParams)
    figures: bool = True


_POOLED = ("tp", "fp", "fn", "n_true", "n_predicted")


class PunctaWorkflow:
    """``puncta-localize``, ``-track``, ``-evaluate`` and ``-analyze``: one goal over every sample."""

    def __init__(self, params: _SampleWorkflowParams, *, goal: Goal, localizer: Any = None) -> None:
        if goal not in ("localize", "track", "evaluate", "analyze"):
            raise ValueError(f"unknown goal {goal!r}")
        self.params = params
        self.goal = goal
        self.localizer = localizer

    def _samples(self, context: RunContext) -> list[Sample]:
        p = self.params
        inputs = list(p.inputs)
        if not inputs:
            root = context.run_dir / "samples"
            _simulate_into(context, p.synthetic, root, scheduler=p.scheduler, n_workers=p.n_workers)
            inputs = [str(root)]
        samples = discover_samples(inputs)
        if self.goal == "localize":
            samples = [s for s in samples if s.get("movie") is not None]
        if not samples:
            raise ScopeweaveError(f"no samples found in {inputs} (looked for movies, localizations.csv, ...).")
        return samples

    def _job(self, sample: Sample, run_dir: Path) -> Job:
        from scopeweave_puncta.pipeline import Job

        p = self.params
        extra: dict[str, Any] = {}
        if isinstance(p, TrackParams):
            extra.update(tracking=p.tracking, motion=p.motion)
        if isinstance(p, (EvaluateParams, AnalyzeParams)):
            extra["calcium"] = p.calcium
        if isinstance(p, EvaluateParams):
            extra.update(tolerance_nm=p.tolerance_nm, calcium_frame_tolerance=p.calcium_frame_tolerance)
        if isinstance(p, AnalyzeParams):
            extra["figures"] = p.figures
        return Job(sample=sample, run_dir=run_dir, goal=self.goal, localizer=self.localizer,
                   camera_from_metadata=p.camera_from_metadata, pixel_size_nm=p.pixel_size_nm,
                   frame_interval_ms=p.frame_interval_ms, **extra)

    def run(self, context: RunContext) -> Mapping[str, Any]:
        from scopeweave_puncta.pipeline import process_sample

        samples = self._samples(context)
        jobs = [self._job(sample, context.run_dir) for sample in samples]

        def done(index: int, result: SampleResult) -> None:
            context.events.emit("sample_done", sample=result.name, **{
                k: v for k, v in result.results.items() if isinstance(v, (int, float, str))})
            progress.advance()

        with context.progress(self.goal, len(jobs)) as progress, context.timed(self.goal):
            outcomes = map_tasks(process_sample, jobs, scheduler=self.params.scheduler,
                                   max_workers=self.params.n_workers or None, on_done=done)
        for outcome in outcomes:
            for product in outcome.products:
                context.product_path(product)
        per_sample = {outcome.name: outcome.results for outcome in outcomes}
        results: dict[str, Any] = {"n_samples": len(outcomes), "samples": per_sample}
        results["n_localizations"] = sum(o.results["n_localizations"] for o in outcomes)
        summary = f"{self.goal}: {len(outcomes)} samples, {results['n_localizations']} localizations"
        if self.goal in ("track", "evaluate", "analyze"):
            results["n_tracks"] = sum(o.results["n_tracks"] for o in outcomes)
            summary += f", {results['n_tracks']} tracks"
        if self.goal == "evaluate":
            overall = self._pooled(outcomes)
            results["overall"] = overall
            context.write_json("metrics.json", results)
            write_text_atomic(context.product_path("metrics.md"), _metrics_table(outcomes, overall))
            summary += (f"; Jaccard {overall['jaccard']:.3f}, RMSE {overall['rmse_lateral_nm']:.1f} nm, "
                        f"efficiency {overall['efficiency']:.3f}")
        results["summary"] = summary
        return results

    @staticmethod
    def _pooled(outcomes: list[SampleResult]) -> dict[str, Any]:
        totals = {k: sum(o.results["localization"][k] for o in outcomes) for k in _POOLED}
        sq = sum(o.results["sum_squared_error_nm2"] for o in outcomes)
        tp, fp, fn = totals["tp"], totals["fp"], totals["fn"]
        jaccard = tp / (tp + fp + fn) if tp + fp + fn else math.nan
        rmse = math.sqrt(sq / tp) if tp else math.nan
        return {
            **totals,
            "precision": tp / (tp + fp) if tp + fp else math.nan,
            "recall": tp / (tp + fn) if tp + fn else math.nan,
            "jaccard": jaccard,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan,
            "rmse_lateral_nm": rmse,
            "efficiency": efficiency(jaccard, rmse),
        }


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _metrics_table(outcomes: list[SampleResult], overall: Mapping[str, Any]) -> str:
    header = ("| sample | true | found | precision | recall | Jaccard | F1 | RMSE (nm) | efficiency | "
              "track completeness | Ca F1 | Ca sensitivity | Ca specificity |\n" + "|---" * 13 + "|\n")
    lines = []
    for o in outcomes:
        loc = o.results["localization"]
        trk = o.results.get("tracking", {})
        ca = o.results.get("calcium", {})
        lines.append(
            f"| {o.name} | {loc['n_true']} | {loc['n_predicted']} | {_fmt(loc['precision'])} | {_fmt(loc['recall'])} | "
            f"{_fmt(loc['jaccard'])} | {_fmt(loc['f1'])} | {_fmt(loc['rmse_lateral_nm'], 1)} | "
            f"{_fmt(loc['efficiency'])} | {_fmt(trk.get('completeness_mean'))} | {_fmt(ca.get('f1'))} | "
            f"{_fmt(ca.get('frame_sensitivity'))} | {_fmt(ca.get('frame_specificity'))} |"
        )
    lines.append(
        f"| **all** | {overall['n_true']} | {overall['n_predicted']} | {_fmt(overall['precision'])} | "
        f"{_fmt(overall['recall'])} | {_fmt(overall['jaccard'])} | {_fmt(overall['f1'])} | "
        f"{_fmt(overall['rmse_lateral_nm'], 1)} | {_fmt(overall['efficiency'])} | | | | |"
    )
    return header + "\n".join(lines) + "\n"
