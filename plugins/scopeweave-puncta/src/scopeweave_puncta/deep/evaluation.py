"""The deep model against ground truth and against the classical pipeline, on the same simulated movies.

For each scenario (density, brightness, background, calcium activity) a few
test movies are simulated with seeds never used in training.  On every movie:

* localization: ``hybrid-unet`` and the baseline localizer (``gauss-mle``
  unless another is wired) are matched to the truth
  (:func:`~scopeweave_puncta.evaluate.evaluate_localizations`); counts and
  errors are pooled over the movies;
* tracking: both localization tables are linked
  (:func:`~scopeweave_puncta.tracking.link_tracks`) and scored
  (:func:`~scopeweave_puncta.track_eval.evaluate_tracks`, mean completeness);
* calcium: the calcium decoder's events (assigned to the deep tracks) and the
  classical ΔF/F0 events on the baseline's tracks
  (:func:`~scopeweave_puncta.calcium.analyze_calcium`) are scored against the
  true events at puncta (:func:`~scopeweave_puncta.calcium_eval.evaluate_calcium`);
  co-localization is the median distance between matched detected and true
  events (onsets within one frame);
* speed: frames per second of each localizer on the whole movie (after a warm-up).

:func:`performance_markdown` fills the seed's "Expected performance" tables
with the measured numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from scopeweave_puncta.calcium import analyze_calcium
from scopeweave_puncta.calcium_eval import CalciumMetrics, evaluate_calcium
from scopeweave_puncta.deep.inference import Predictor, assign_events_to_tracks
from scopeweave_puncta.deep.params import DeepEvaluateParams, Scenario
from scopeweave_puncta.evaluate import detection_metrics, evaluate_localizations
from scopeweave_puncta.ground_truth import CalciumEvents
from scopeweave_puncta.sim_params import SimulationParams
from scopeweave_puncta.simulate import SyntheticSample, simulate_sample
from scopeweave_puncta.table import LocalizationTable
from scopeweave_puncta.track_eval import evaluate_tracks, track_identities
from scopeweave_puncta.tracking import Tracks, link_tracks

__all__ = [
    "DEEP",
    "METHODS",
    "ScenarioResult",
    "evaluate_scenario",
    "event_distances",
    "performance_markdown",
    "scenario_simulation",
    "tier",
]

DEEP = "hybrid-unet"
#: Method keys of the result tables: the deep model and the baseline.
METHODS: tuple[str, ...] = (DEEP, "baseline")


@attrs.frozen(kw_only=True, eq=False)
class ScenarioResult:
    """Pooled results of one scenario.

    Attributes
    ----------
    scenario
        The condition.
    metrics
        ``metrics[method][name]``: numbers per method (``hybrid-unet``, ``baseline``).
    example
        One movie's frame and localizations for a figure: ``frame`` (photons), ``truth``, per-method ``(x_px, y_px)``.
    """

    scenario: Scenario
    metrics: dict[str, dict[str, float]]
    example: dict[str, Any]


def scenario_simulation(params: DeepEvaluateParams, scenario: Scenario) -> SimulationParams:
    """Simulation parameters of ``scenario``'s test movies."""
    sim = params.simulation
    height, width = params.image_size_px
    area_um2 = height * width * (sim.pixel_size_nm * 1e-3) ** 2
    return SimulationParams(
        num_samples=params.movies_per_scenario, frames_per_sample=params.frames, image_size_px=params.image_size_px,
        num_puncta_mean=scenario.density_per_um2 * area_um2, psf_type=sim.psf_type, seed=params.seed,
        pixel_size_nm=sim.pixel_size_nm, frame_interval_ms=sim.frame_interval_ms, psf_sigma_nm=params.psf_sigma_nm,
        photons_mean=scenario.photons_mean, photons_spread=sim.photons_spread,
        background_photons=scenario.background_photons, mobile_fraction=sim.mobile_fraction,
        diffusion_um2_s=sim.diffusion_um2_s, blinking=sim.blinking, camera=sim.camera,
        calcium=attrs.evolve(sim.calcium, enabled=True, event_rate_hz=scenario.calcium_event_rate_hz),
    )


def event_distances(detected: CalciumEvents, truth: CalciumEvents, *, max_distance_nm: float,
                    frame_tolerance: int = 1) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distances (nm) and onset differences (frames) of optimally matched detected/true events at puncta."""
    true = truth.select(truth.punctum_id >= 0)
    if len(detected) == 0 or len(true) == 0:
        return np.zeros(0), np.zeros(0)
    distance = np.hypot(detected.x_nm[:, None] - true.x_nm[None, :], detected.y_nm[:, None] - true.y_nm[None, :])
    onset = np.abs(detected.frame[:, None] - true.frame[None, :])
    allowed = (distance <= max_distance_nm) & (onset <= frame_tolerance)
    blocked = max_distance_nm * (min(distance.shape) + 1) + 1.0
    cost = np.where(allowed, distance, blocked)
    rows, cols = linear_sum_assignment(cost)
    keep = cost[rows, cols] < blocked
    return distance[rows[keep], cols[keep]], onset[rows[keep], cols[keep]].astype(np.float64)


def _calcium_sum(found: list[CalciumMetrics]) -> dict[str, float]:
    tp, fp, fn = (sum(getattr(m, k) for m in found) for k in ("tp", "fp", "fn"))

    def mean(name: str) -> float:
        values = [getattr(m, name) for m in found if not math.isnan(getattr(m, name))]
        return float(np.mean(values)) if values else math.nan

    return {
        "calcium_precision": tp / (tp + fp) if tp + fp else math.nan,
        "calcium_sensitivity": tp / (tp + fn) if tp + fn else math.nan,
        "calcium_f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan,
        "calcium_frame_sensitivity": mean("frame_sensitivity"),
        "calcium_frame_specificity": mean("frame_specificity"),
        "calcium_frame_f1": mean("frame_f1"),
        "calcium_events_true": float(sum(m.n_true_events for m in found)),
        "calcium_events_detected": float(sum(m.n_detected_events for m in found)),
    }


class _Pool:
    """Per-method accumulators over the movies of a scenario."""

    def __init__(self) -> None:
        self.n_true = 0
        self.n_pred = 0
        self.dx: list[NDArray[np.float64]] = []
        self.dy: list[NDArray[np.float64]] = []
        self.frames = 0
        self.seconds = 0.0
        self.completeness: list[float] = []
        self.calcium: list[CalciumMetrics] = []
        self.event_distance: list[NDArray[np.float64]] = []
        self.onset_error: list[NDArray[np.float64]] = []

    def add_localizations(self, table: LocalizationTable, sample: SyntheticSample, tolerance_nm: float,
                          seconds: float) -> None:
        truth = sample.truth
        ev = evaluate_localizations(table, truth, tolerance_nm=tolerance_nm, n_frames=sample.movie.shape[0])
        self.n_true += len(truth)
        self.n_pred += len(table)
        self.dx.append(table.x_nm[ev.matched_predicted] - truth.x_nm[ev.matched_true])
        self.dy.append(table.y_nm[ev.matched_predicted] - truth.y_nm[ev.matched_true])
        self.frames += sample.movie.shape[0]
        self.seconds += seconds

    def add_calcium(self, events: CalciumEvents, tracks: Tracks, sample: SyntheticSample,
                    params: DeepEvaluateParams) -> None:
        self.completeness.append(evaluate_tracks(tracks, sample.truth, tolerance_nm=params.tolerance_nm)
                                 .completeness_mean)
        identity = track_identities(tracks, sample.truth, tolerance_nm=params.tolerance_nm)
        self.calcium.append(evaluate_calcium(events, sample.calcium_events, identity=identity,
                                             true_puncta=sample.puncta["id"], n_frames=sample.movie.shape[0]))
        distance, onset = event_distances(events, sample.calcium_events, max_distance_nm=params.max_event_distance_nm)
        self.event_distance.append(distance)
        self.onset_error.append(onset)

    def metrics(self) -> dict[str, float]:
        m = detection_metrics(self.n_true, self.n_pred, np.concatenate(self.dx), np.concatenate(self.dy))
        distance = np.concatenate(self.event_distance) if self.event_distance else np.zeros(0)
        onset = np.concatenate(self.onset_error) if self.onset_error else np.zeros(0)
        completeness = [c for c in self.completeness if not math.isnan(c)]
        return {
            "n_true": float(m.n_true), "n_predicted": float(m.n_predicted), "precision": m.precision,
            "recall": m.recall, "jaccard": m.jaccard, "f1": m.f1, "rmse_nm": m.rmse_lateral_nm,
            "efficiency": m.efficiency, "frames_per_s": self.frames / self.seconds if self.seconds else math.nan,
            "track_completeness": float(np.mean(completeness)) if completeness else math.nan,
            "colocalization_nm": float(np.median(distance)) if distance.size else math.nan,
            "onset_error_frames": float(np.mean(onset)) if onset.size else math.nan,
            **_calcium_sum(self.calcium),
        }


def evaluate_scenario(predictor: Predictor, baseline: Any, params: DeepEvaluateParams, scenario: Scenario, *,
                      scenario_index: int, on_movie: Callable[[], None] | None = None) -> ScenarioResult:
    """Evaluate the deep model and ``baseline`` (a Localizer) on ``scenario``'s test movies."""
    sim_params = attrs.evolve(scenario_simulation(params, scenario), seed=params.seed + 7919 * scenario_index)
    camera = params.simulation.camera
    pixel = params.simulation.pixel_size_nm
    pools = {method: _Pool() for method in METHODS}
    example: dict[str, Any] = {}
    for index in range(params.movies_per_scenario):
        sample = simulate_sample(sim_params, index)
        assert sample.calcium is not None
        n_frames = sample.movie.shape[0]
        analysis = predictor.analyze(sample.movie, calcium=sample.calcium, camera=camera, pixel_size_nm=pixel)
        pools[DEEP].add_localizations(analysis.localizations, sample, params.tolerance_nm, analysis.elapsed_s)
        t0 = time.perf_counter()
        base = LocalizationTable.from_columns(baseline.localize(sample.movie, pixel_size_nm=pixel))
        pools["baseline"].add_localizations(base, sample, params.tolerance_nm, time.perf_counter() - t0)
        deep_tracks = link_tracks(analysis.localizations, params.tracking)
        events = assign_events_to_tracks(analysis.calcium_events, deep_tracks, n_frames=n_frames, pixel_size_nm=pixel,
                                         max_distance_nm=params.max_event_distance_nm)
        pools[DEEP].add_calcium(events, deep_tracks, sample, params)
        base_tracks = link_tracks(base, params.tracking)
        classical = (analyze_calcium(camera.to_photons(sample.calcium), base_tracks, pixel_size_nm=pixel,
                                     frame_interval_ms=params.simulation.frame_interval_ms,
                                     params=params.calcium).events
                     if len(base_tracks) else CalciumEvents.empty())
        pools["baseline"].add_calcium(classical, base_tracks, sample, params)
        if index == 0:
            frame = n_frames // 2
            truth = sample.truth.select(sample.truth.frame == frame)
            example = {"frame": camera.to_photons(sample.movie[frame]), "pixel_size_nm": pixel,
                       "truth": (truth.x_nm, truth.y_nm)}
            for method, table in ((DEEP, analysis.localizations), ("baseline", base)):
                rows = table.frame == frame
                example[method] = (table.x_nm[rows], table.y_nm[rows])
        if on_movie is not None:
            on_movie()
    return ScenarioResult(scenario=scenario, metrics={m: pool.metrics() for m, pool in pools.items()},
                          example=example)


# -- the seed's tables ---------------------------------------------------------------------------------------------
_THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "rmse_nm": (50, 30, 20), "precision": (0.85, 0.90, 0.95), "recall": (0.85, 0.90, 0.95),
    "frames_per_s": (20, 50, 100), "calcium_f1": (0.80, 0.85, 0.90), "calcium_sensitivity": (0.85, 0.90, 0.95),
    "calcium_frame_specificity": (0.80, 0.85, 0.90), "calcium_frame_f1": (0.70, 0.80, 0.90),
    "track_completeness": (0.60, 0.75, 0.85), "colocalization_nm": (200, 100, 50),
}
_LOWER_IS_BETTER = {"rmse_nm", "colocalization_nm"}
_TABLES: tuple[tuple[str, tuple[tuple[str, str, str, tuple[str, str, str]], ...]], ...] = (
    ("Localization (vs ground truth)", (
        ("RMSE (nm)", "rmse_nm", "{:.1f}", ("< 50", "< 30", "< 20")),
        ("Precision", "precision", "{:.1%}", ("> 85%", "> 90%", "> 95%")),
        ("Recall", "recall", "{:.1%}", ("> 85%", "> 90%", "> 95%")),
        ("Speed (fps)", "frames_per_s", "{:.1f}", ("> 20", "> 50", "> 100")),
        ("Jaccard (not in the seed)", "jaccard", "{:.1%}", ("", "", "")),
        ("Efficiency (not in the seed)", "efficiency", "{:.1%}", ("", "", "")),
    )),
    ("Calcium detection (vs simulated events at puncta)", (
        ("F1-score (events)", "calcium_f1", "{:.1%}", ("> 80%", "> 85%", "> 90%")),
        ("Sensitivity (events)", "calcium_sensitivity", "{:.1%}", ("> 85%", "> 90%", "> 95%")),
        ("Specificity (punctum-frames)", "calcium_frame_specificity", "{:.1%}", ("> 80%", "> 85%", "> 90%")),
        ("Temporal res (mean onset error, frames)", "onset_error_frames", "{:.2f}", ("Frame rate", "Frame rate",
                                                                                       "Sub-frame")),
    )),
    ("Combined system", (
        ("Puncta-Ca co-occurrence (punctum-frame F1)", "calcium_frame_f1", "{:.1%}", ("> 70%", "> 80%", "> 90%")),
        ("Track completeness", "track_completeness", "{:.1%}", ("> 60%", "> 75%", "> 85%")),
        ("Co-localization (median, nm)", "colocalization_nm", "{:.0f}", ("< 200 nm", "< 100 nm", "< 50 nm")),
    )),
)


def tier(metric: str, value: float) -> str:
    """Highest seed tier ``value`` reaches: ``excellent``, ``good``, ``target`` or ``-`` (none or no tier)."""
    if metric not in _THRESHOLDS or not math.isfinite(value):
        return "-"
    target, good, excellent = _THRESHOLDS[metric]
    better = (lambda v, t: v < t) if metric in _LOWER_IS_BETTER else (lambda v, t: v > t)
    for name, threshold in (("excellent", excellent), ("good", good), ("target", target)):
        if better(value, threshold):
            return name
    return "-"


def _cell(fmt: str, value: float, metric: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    grade = tier(metric, value)
    return fmt.format(value) + ("" if grade == "-" else f" ({grade})")


def performance_markdown(results: Sequence[ScenarioResult], *, baseline_name: str,
                         notes: Mapping[str, str] | None = None) -> str:
    """The seed's "Expected performance" tables per scenario, with measured values and the tier each reaches."""
    lines: list[str] = []
    for result in results:
        s = result.scenario
        lines += [f"### {s.name}: {s.density_per_um2:g} puncta/µm², {s.photons_mean:g} photons, "
                  f"background {s.background_photons:g} photons/px, {s.calcium_event_rate_hz:g} Ca events/s/punctum",
                  ""]
        for title, rows in _TABLES:
            lines += [f"**{title}**", "",
                      f"| Metric | Target | Good | Excellent | {DEEP} | {baseline_name} |",
                      "|---|---|---|---|---|---|"]
            for label, key, fmt, seed in rows:
                deep, base = result.metrics[DEEP][key], result.metrics["baseline"][key]
                lines.append(f"| {label} | {seed[0]} | {seed[1]} | {seed[2]} | {_cell(fmt, deep, key)} | "
                             f"{_cell(fmt, base, key)} |")
            lines.append("")
    for key, text in (notes or {}).items():
        lines.append(f"- {key}: {text}")
    return "\n".join(lines).rstrip() + "\n"
