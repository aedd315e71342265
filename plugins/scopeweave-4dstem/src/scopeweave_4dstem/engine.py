"""The polarisation-mapping pipeline: sample, statistics pass, templates, mapping pass, maps.

1. A sample of blocks spread over the scan gives the mean pattern: the beam
   centre (auto, given or picked) and the bright-field disk radius, used by
   the preprocessing and the CoM alike, and the k calibration.
2. Statistics pass (clusters only): per (cluster, half) moments of the
   preprocessed patterns, merged in any order.
3. Templates, gates, coverage, split-half SSIM.
4. Mapping pass: one matrix product per block gives the CoM mask responses
   of every gate set and the matched-filter scores.
5. Assignment and confidence, gated CoM, baseline, rotation, fields.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave_4dstem.baseline import subtract_baseline
from scopeweave_4dstem.calibration import FieldMaps, KCalibration, field_from_shifts, resolve_k_calibration
from scopeweave_4dstem.centre import BeamCentre, detect_beam_centre
from scopeweave_4dstem.execution import Executor, array_module, resolve_backend
from scopeweave_4dstem.geometry import band_mask
from scopeweave_4dstem.kernel import MapKernel, com_columns, com_from_moments, filter_weights, matched_filter_scores
from scopeweave_4dstem.labels import check_labels, cluster_ids
from scopeweave_4dstem.matched_filter import confidence_report, softmax
from scopeweave_4dstem.params import CalibrationParams, ComputeParams, PolarSettings
from scopeweave_4dstem.preprocess import Preprocessor, central_keep_mask
from scopeweave_4dstem.rotation import RotationEstimate, apply_rotation, estimate_rotation
from scopeweave_4dstem.source import Block, FrameSource, close_cached_files, frame_buffer
from scopeweave_4dstem.stats import GroupMoments, GroupSums, group_index, merge_all
from scopeweave_4dstem.templates import (
    ClusterStats,
    cluster_stats,
    differential_templates,
    gate_coverage,
    make_gates,
    split_half_ssim,
)

__all__ = [
    "AnalysisWarning",
    "Partition",
    "PolarResult",
    "ProgressFactory",
    "analyse",
    "plan_partitions",
    "sample_mean_pattern",
]

_MIB = 1024 * 1024
_STATS_TILE_BYTES = 4 * _MIB


class AnalysisWarning(UserWarning):
    """A check of the analysis found something the user should look at (also listed in ``run.json``)."""


class _Advance(Protocol):
    def advance(self, n: int = 1) -> None: ...


#: ``factory(label, total)`` returns a context manager whose value has ``advance()``
#: (``RunContext.progress`` is one).
ProgressFactory = Callable[[str, int], contextlib.AbstractContextManager[_Advance]]
CentrePicker = Callable[[NDArray[np.float64], BeamCentre], "tuple[float, float] | None"]
KSpacePicker = Callable[[NDArray[np.float64], BeamCentre], "KCalibration | None"]


class _NoProgress:
    def advance(self, n: int = 1) -> None:
        """Ignore progress."""


@contextlib.contextmanager
def _no_progress(label: str, total: int) -> Iterator[_Advance]:
    yield _NoProgress()


@attrs.frozen(kw_only=True)
class Partition:
    """Blocks one task reads one after the other."""

    blocks: tuple[Block, ...]

    @property
    def n_frames(self) -> int:
        """Probe positions in the partition."""
        return sum(block.n_frames for block in self.blocks)


def plan_partitions(blocks: Sequence[Block], *, frame_bytes: int, partition_bytes: int, n_workers: int) -> list[Partition]:
    """Group consecutive blocks into partitions of about ``partition_bytes``.

    There are at least ``4 n_workers`` partitions when there are enough
    blocks, so every worker has work and the progress bar moves.
    """
    total = sum(block.n_frames for block in blocks) * frame_bytes
    wanted = max(math.ceil(total / max(partition_bytes, 1)), 4 * n_workers)
    n_parts = max(1, min(len(blocks), wanted))
    groups = np.array_split(np.arange(len(blocks)), n_parts)
    return [Partition(blocks=tuple(blocks[i] for i in group)) for group in groups if len(group)]


def sample_mean_pattern(source: FrameSource, *, max_frames: int = 512, block_bytes: int = 16 * _MIB) -> NDArray[np.float64]:
    """Mean pattern over blocks spread evenly across the scan (at most about ``max_frames`` patterns)."""
    blocks = source.blocks(block_bytes)
    per_block = max(1, blocks[0].n_frames)
    n_pick = max(1, min(len(blocks), max_frames // per_block))
    total = np.zeros(source.frame_shape[0] * source.frame_shape[1])
    count = 0
    for index in np.unique(np.linspace(0, len(blocks) - 1, n_pick).round().astype(int)):
        frames = source.read(blocks[index])
        total += frames.reshape(frames.shape[0], -1).sum(axis=0, dtype=np.float64)
        count += frames.shape[0]
    return (total / count).reshape(source.frame_shape)


@attrs.frozen(kw_only=True, eq=False)
class _StatsTask:
    source: FrameSource
    preprocessor: Preprocessor
    groups: NDArray[np.int32]
    n_groups: int
    backend: str


def _stats_partition(partition: Partition, task: _StatsTask) -> GroupMoments:
    xp = array_module(task.backend)
    scan_x = task.source.scan_shape[1]
    n_pixels = task.source.frame_shape[0] * task.source.frame_shape[1]
    sums = GroupSums(task.n_groups, n_pixels, xp)
    buffer = frame_buffer(task.source, partition.blocks)
    step = max(1, _STATS_TILE_BYTES // (4 * n_pixels))
    for block in partition.blocks:
        frames = task.source.read(block, buffer).reshape(block.n_frames, n_pixels)
        groups = task.groups[block.flat_indices(scan_x)]
        for start in range(0, block.n_frames, step):
            values = task.preprocessor.apply(frames[start : start + step], xp)
            sums.add(values, groups[start : start + step])
    return sums.moments().to_numpy()


@attrs.frozen(kw_only=True, eq=False)
class _MapTask:
    source: FrameSource
    kernel: MapKernel
    backend: str


def _map_partition(partition: Partition, task: _MapTask) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    xp = array_module(task.backend)
    scan_x = task.source.scan_shape[1]
    indices, outputs = [], []
    buffer = frame_buffer(task.source, partition.blocks)
    for block in partition.blocks:
        responses = task.kernel.apply(task.source.read(block, buffer), xp)
        outputs.append(responses if isinstance(responses, np.ndarray) else responses.get())
        indices.append(block.flat_indices(scan_x))
    return np.concatenate(indices), np.concatenate(outputs).astype(np.float32, copy=False)


@attrs.frozen(kw_only=True, eq=False)
class PolarResult:
    """Everything the pipeline produced (k-space arrays are ``(k_y, k_x)``, maps ``(scan_y, scan_x)``).

    Attributes
    ----------
    cluster_ids
        Label value of each cluster (empty without labels).
    centre, kcal
        Beam centre and k calibration used.
    mu_cluster, mu_global, sigma_global, templates, gates
        k-space arrays (``None`` without labels).
    coverage, ssim
        Gate coverage and split-half SSIM per cluster.
    scores, assignment, confidence
        Matched-filter maps ``(C, sy, sx)``, label map and winning probability.
    com_y, com_x
        Raw CoM (detector pixels from the beam centre; NaN for empty patterns).
    shift_y, shift_x
        CoM after baseline, flip and rotation (scan-aligned, detector pixels).
    field
        Field maps and units.
    """

    scan_shape: tuple[int, int]
    frame_shape: tuple[int, int]
    cluster_ids: NDArray[np.int64]
    centre: BeamCentre
    kcal: KCalibration
    mu_cluster: NDArray[np.float64] | None
    mu_global: NDArray[np.float64] | None
    sigma_global: NDArray[np.float64] | None
    templates: NDArray[np.float64] | None
    gates: NDArray[np.float32] | None
    coverage: NDArray[np.float64] | None
    ssim: list[float] | None
    scores: NDArray[np.float64] | None
    assignment: NDArray[np.int64] | None
    confidence: NDArray[np.float64] | None
    com_y: NDArray[np.float64]
    com_x: NDArray[np.float64]
    shift_y: NDArray[np.float64]
    shift_x: NDArray[np.float64]
    field: FieldMaps
    baseline: dict[str, Any]
    rotation: dict[str, Any]
    confidence_summary: dict[str, Any] | None
    n_empty: int
    warnings: list[str]
    timings_s: dict[str, float]
    throughput: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers for ``run.json`` and ``report.json``."""
        finite = np.isfinite(self.field.magnitude)
        out: dict[str, Any] = {
            "scan_shape": list(self.scan_shape),
            "frame_shape": list(self.frame_shape),
            "beam_centre_px": {"y": self.centre.y_px, "x": self.centre.x_px, "source": self.centre.source},
            "bright_field_radius_px": self.centre.radius_px,
            "k_calibration": attrs.asdict(self.kcal),
            "field_units": self.field.units,
            "field_magnitude": {
                "median": float(np.median(self.field.magnitude[finite])) if finite.any() else None,
                "p99": float(np.percentile(self.field.magnitude[finite], 99)) if finite.any() else None,
            },
            "baseline": self.baseline,
            "rotation": self.rotation,
            "n_empty_patterns": self.n_empty,
            "warnings": self.warnings,
            "timings_s": {k: round(v, 6) for k, v in self.timings_s.items()},
            "throughput": self.throughput,
        }
        if self.cluster_ids.size:
            out["clusters"] = {
                str(int(c)): {
                    "gate_coverage": float(self.coverage[i]) if self.coverage is not None else None,
                    "split_half_ssim": None if self.ssim is None or math.isnan(self.ssim[i]) else self.ssim[i],
                    "n_assigned": int(np.sum(self.assignment == c)) if self.assignment is not None else None,
                }
                for i, c in enumerate(self.cluster_ids)
            }
            out["confidence"] = self.confidence_summary
        return out


def analyse(
    source: FrameSource,
    labels: NDArray[np.integer[Any]] | None,
    settings: PolarSettings,
    compute: ComputeParams,
    *,
    progress: ProgressFactory | None = None,
    pick_centre: CentrePicker | None = None,
    pick_kspace: KSpacePicker | None = None,
) -> PolarResult:
    """Run the pipeline on ``source``.

    Parameters
    ----------
    source
        The 4D-STEM data.
    labels
        One cluster label per probe position (negative: unassigned), or
        ``None`` for a CoM-only analysis (``gate_mode = "roi"``).
    settings
        The seed's configuration sections.
    compute
        Scheduler, workers, backend and block sizes.
    progress
        ``progress(label, total)`` context-manager factory for progress bars.
    pick_centre, pick_kspace
        Interactive pickers, called when the calibration asks for them.
    """
    progress = progress or _no_progress
    timings: dict[str, float] = {}
    notes: list[str] = []
    dpc = settings.dpc
    if labels is None and dpc.gate_mode != "roi":
        raise ScopeweaveError(f"gate_mode = {dpc.gate_mode!r} needs cluster labels; without labels use gate_mode = 'roi'.")
    flat_labels = None if labels is None else check_labels(labels, source.scan_shape)
    backend = resolve_backend(compute.backend)
    block_bytes = int(compute.block_mib * _MIB)
    frame_shape = source.frame_shape
    frame_bytes = frame_shape[0] * frame_shape[1] * source.dtype.itemsize
    n_frames = source.scan_shape[0] * source.scan_shape[1]
    data_bytes = n_frames * frame_bytes

    t0 = time.perf_counter()
    calibration = settings.calibration
    cy, cx = calibration.center_y_px, calibration.center_x_px
    if cy is not None and cx is not None and not _needs_mean_pattern(calibration):
        # Everything is given: no need to read a sample.
        centre = BeamCentre(y_px=cy, x_px=cx, radius_px=math.nan, source="given")
        picked = None
    else:
        pattern = sample_mean_pattern(source, block_bytes=block_bytes)
        centre = _beam_centre(pattern, calibration, pick_centre)
        picked = pick_kspace(pattern, centre) if calibration.interactive_kspace and pick_kspace else None
    try:
        kcal = resolve_k_calibration(settings.calibration, disk_radius_px=centre.radius_px, picked=picked)
    except ValueError as exc:
        raise ScopeweaveError(f"calibration: {exc}") from None
    timings["sample_s"] = time.perf_counter() - t0

    keep = central_keep_mask(frame_shape, centre.yx, settings.preprocess.central_mask_px).ravel()
    ids = np.zeros(0, dtype=np.int64) if flat_labels is None else cluster_ids(flat_labels)
    throughput: dict[str, Any] = {"data_bytes": data_bytes, "backend": backend}
    stats: ClusterStats | None = None
    templates = gates = coverage = None
    ssim: list[float] | None = None
    with Executor(compute.scheduler, compute.n_workers) as executor:
        # Small datasets get smaller (still chunk-aligned) blocks so every worker has work.
        blocks = source.blocks(min(block_bytes, max(frame_bytes, data_bytes // (4 * executor.n_workers))))
        partitions = plan_partitions(
            blocks, frame_bytes=frame_bytes, partition_bytes=int(compute.partition_mib * _MIB), n_workers=executor.n_workers
        )
        throughput["n_blocks"], throughput["n_partitions"] = len(blocks), len(partitions)
        if flat_labels is not None:
            t0 = time.perf_counter()
            stats = _statistics(source, flat_labels, ids, keep, settings, backend, executor, partitions, progress)
            timings["statistics_pass_s"] = time.perf_counter() - t0
            throughput["statistics_pass_gb_s"] = data_bytes / timings["statistics_pass_s"] / 1e9
            prep = settings.preprocess
            templates = differential_templates(
                stats.mu_cluster, stats.mu, stats.sigma, keep=keep, whiten=prep.whiten, epsilon=prep.epsilon
            )
            try:
                gates = make_gates(
                    templates,
                    frame_shape,
                    centre.yx,
                    top_percent=settings.templates.top_percent,
                    smooth_sigma_px=settings.templates.smooth_sigma_px,
                    roi_r_px=settings.templates.roi_r_px,
                    keep=keep,
                )
            except ValueError as exc:
                raise ScopeweaveError(f"templates: {exc}") from None
            coverage = gate_coverage(gates)
            notes += _coverage_notes(ids, coverage)
            if settings.validation.enable_split_half:
                ssim = list(split_half_ssim(stats, frame_shape, keep=keep, whiten=prep.whiten, epsilon=prep.epsilon))
                notes += [
                    f"cluster {int(c)}: split-half template SSIM {value:.3f} < {settings.validation.ssim_warn_below} "
                    "(templates may be dominated by noise or over-fit)"
                    for c, value in zip(ids, ssim, strict=True)
                    if value < settings.validation.ssim_warn_below
                ]
        kernel, weights = _kernel(frame_shape, centre, gates, templates, stats, keep, settings)
        t0 = time.perf_counter()
        responses = np.empty((n_frames, kernel.n_com_columns + (0 if weights is None else weights.shape[1])), np.float32)

        def store(result: tuple[NDArray[np.intp], NDArray[np.float32]]) -> None:
            indices, values = result
            responses[indices] = values

        task = _MapTask(source=source, kernel=kernel, backend=backend)
        with progress("maps", len(partitions)) as bar:
            executor.map(_map_partition, partitions, task, store, bar.advance)
        timings["mapping_pass_s"] = time.perf_counter() - t0
        throughput["mapping_pass_gb_s"] = data_bytes / timings["mapping_pass_s"] / 1e9
    close_cached_files()

    t0 = time.perf_counter()
    result = _finish(
        source, responses, kernel, weights, stats, ids, centre, kcal, settings, templates, gates, coverage, ssim, notes
    )
    timings["postprocess_s"] = time.perf_counter() - t0
    for note in result["warnings"]:
        warnings.warn(note, AnalysisWarning, stacklevel=2)
    return PolarResult(**result, timings_s=timings, throughput=throughput)


def _needs_mean_pattern(calibration: CalibrationParams) -> bool:
    """Whether the centre, the disk radius or a picker needs the sample mean pattern."""
    k_given = calibration.pixel_size_ky is not None or bool(calibration.bragg_pairs_px) or calibration.pixel_size_k is not None
    return (
        calibration.center_y_px is None
        or calibration.interactive_center
        or calibration.interactive_kspace
        or (calibration.convergence_angle_mrad is not None and not k_given)
    )


def _beam_centre(pattern: NDArray[np.float64], calibration: CalibrationParams, pick: CentrePicker | None) -> BeamCentre:
    try:
        detected = detect_beam_centre(pattern)
    except ValueError as exc:
        if calibration.center_y_px is None:
            raise ScopeweaveError(f"beam centre: {exc}") from None
        detected = BeamCentre(y_px=math.nan, x_px=math.nan, radius_px=math.nan, source="auto")
    if calibration.interactive_center and pick is not None:
        start = detected
        if calibration.center_y_px is not None and calibration.center_x_px is not None:
            start = attrs.evolve(detected, y_px=calibration.center_y_px, x_px=calibration.center_x_px)
        chosen = pick(pattern, start)
        if chosen is not None:
            return attrs.evolve(detected, y_px=float(chosen[0]), x_px=float(chosen[1]), source="interactive")
    if calibration.center_y_px is not None and calibration.center_x_px is not None:
        return attrs.evolve(detected, y_px=calibration.center_y_px, x_px=calibration.center_x_px, source="given")
    return detected


def _statistics(
    source: FrameSource,
    labels: NDArray[np.int64],
    ids: NDArray[np.int64],
    keep: NDArray[np.bool_],
    settings: PolarSettings,
    backend: str,
    executor: Executor,
    partitions: list[Partition],
    progress: ProgressFactory,
) -> ClusterStats:
    n_clusters = ids.size
    index = np.searchsorted(ids, labels)
    label_index = np.where(labels >= 0, index, n_clusters)
    half = np.random.default_rng(settings.validation.split_seed).integers(0, 2, labels.size)
    task = _StatsTask(
        source=source,
        preprocessor=Preprocessor(
            log_transform=settings.preprocess.log_transform,
            background_subtract=settings.preprocess.background_subtract,
            keep=keep,
        ),
        groups=group_index(label_index, half),
        n_groups=2 * (n_clusters + 1),
        backend=backend,
    )
    with progress("templates", len(partitions)) as bar:
        moments = executor.reduce(_stats_partition, partitions, task, merge_all, bar.advance)
    return cluster_stats(moments, n_clusters)


def _coverage_notes(ids: NDArray[np.int64], coverage: NDArray[np.float64]) -> list[str]:
    notes = []
    for c, value in zip(ids, coverage, strict=True):
        if value >= 0.99:
            notes.append(f"cluster {int(c)}: the gate covers {value:.0%} of the detector (no discrimination)")
        elif value == 0:
            notes.append(f"cluster {int(c)}: the gate is empty")
    return notes


def _kernel(
    frame_shape: tuple[int, int],
    centre: BeamCentre,
    gates: NDArray[np.float32] | None,
    templates: NDArray[np.float64] | None,
    stats: ClusterStats | None,
    keep: NDArray[np.bool_],
    settings: PolarSettings,
) -> tuple[MapKernel, NDArray[np.float64] | None]:
    dpc = settings.dpc
    roi = band_mask(frame_shape, centre.yx, dpc.roi_px).astype(np.float32)
    if dpc.gate_mode == "roi" or gates is None:
        sets = roi[None]
    elif dpc.gate_mode == "union":
        sets = gates.max(axis=0)[None] * roi
    else:
        sets = gates * roi
    weights = None
    if templates is not None and stats is not None:
        prep = settings.preprocess
        weights = filter_weights(templates, stats.sigma, keep=keep, whiten=prep.whiten, epsilon=prep.epsilon)
    kernel = MapKernel(
        com_weights=com_columns(sets, centre.yx),
        filter_weights=None if weights is None else weights.astype(np.float32),
        log_transform=settings.preprocess.log_transform,
    )
    return kernel, weights


def _finish(
    source: FrameSource,
    responses: NDArray[np.float32],
    kernel: MapKernel,
    weights: NDArray[np.float64] | None,
    stats: ClusterStats | None,
    ids: NDArray[np.int64],
    centre: BeamCentre,
    kcal: KCalibration,
    settings: PolarSettings,
    templates: NDArray[np.float64] | None,
    gates: NDArray[np.float32] | None,
    coverage: NDArray[np.float64] | None,
    ssim: list[float] | None,
    notes: list[str],
) -> dict[str, Any]:
    scan_shape, frame_shape = source.scan_shape, source.frame_shape
    dpc = settings.dpc
    moments = responses[:, : kernel.n_com_columns]
    scores = assignment = confidence = None
    confidence_summary = None
    choice = None
    if weights is not None and stats is not None:
        raw_scores = matched_filter_scores(
            responses[:, kernel.n_com_columns :], weights, stats.mu,
            background_subtract=settings.preprocess.background_subtract,
        )
        winner = np.argmax(raw_scores, axis=1)
        probabilities = softmax(raw_scores, settings.matched_filter.softmax_temp)
        confidence = probabilities[np.arange(winner.size), winner].reshape(scan_shape)
        scores = raw_scores.T.reshape(ids.size, *scan_shape)
        assignment = ids[winner].reshape(scan_shape)
        confidence_summary = confidence_report(confidence, ids.size)
        if dpc.gate_mode == "adaptive":
            choice = winner
    com_y, com_x = (m.reshape(scan_shape) for m in com_from_moments(moments, choice))
    n_empty = int(np.sum(~np.isfinite(com_y)))
    if n_empty:
        notes.append(f"{n_empty} of {com_y.size} patterns have no gated intensity: their CoM and field are NaN")
    corrected_y, corrected_x, baseline = subtract_baseline(
        com_y, com_x, mode=dpc.baseline, roi_px=dpc.baseline_roi_px,
        robust_steps=dpc.robust_steps, robust_thresh=dpc.robust_thresh,
    )
    angle, flip = dpc.rotation_deg, dpc.flip_y
    rotation: dict[str, Any] = {"angle_deg": angle, "flip_y": flip, "estimated": False}
    if dpc.estimate_rotation:
        try:
            estimate: RotationEstimate = estimate_rotation(corrected_y, corrected_x, divergence_sign=dpc.divergence_sign)
        except ValueError as exc:
            raise ScopeweaveError(f"dpc.estimate_rotation: {exc}") from None
        angle, flip = estimate.angle_deg, estimate.flip_y
        rotation = {"estimated": True, **attrs.asdict(estimate)}
        if estimate.rms_curl_ratio > 0.3:
            notes.append(
                f"scan-rotation estimate is uncertain: the RMS curl is {estimate.rms_curl_ratio:.2f} of the RMS "
                "divergence after correction"
            )
    shift_y, shift_x = apply_rotation(corrected_y, corrected_x, angle, flip)
    field = field_from_shifts(shift_y, shift_x, kcal, settings.calibration, field_scale=dpc.field_scale)
    return {
        "scan_shape": scan_shape,
        "frame_shape": frame_shape,
        "cluster_ids": ids,
        "centre": centre,
        "kcal": kcal,
        "mu_cluster": None if stats is None else stats.mu_cluster.reshape(-1, *frame_shape),
        "mu_global": None if stats is None else stats.mu.reshape(frame_shape),
        "sigma_global": None if stats is None else stats.sigma.reshape(frame_shape),
        "templates": None if templates is None else templates.reshape(-1, *frame_shape),
        "gates": gates,
        "coverage": coverage,
        "ssim": ssim,
        "scores": scores,
        "assignment": assignment,
        "confidence": confidence,
        "com_y": com_y,
        "com_x": com_x,
        "shift_y": shift_y,
        "shift_x": shift_x,
        "field": field,
        "baseline": baseline,
        "rotation": rotation,
        "confidence_summary": confidence_summary,
        "n_empty": n_empty,
        "warnings": notes,
    }
