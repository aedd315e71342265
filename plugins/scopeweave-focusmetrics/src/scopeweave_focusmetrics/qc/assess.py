"""The seed's chained frame QC of one stack: focus -> motion -> drift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from scopeweave_focusmetrics._frames import saturated_fraction
from scopeweave_focusmetrics.correlation import all_vs_all, consecutive, standardise
from scopeweave_focusmetrics.qc.config import QcConfig
from scopeweave_focusmetrics.qc.groups import (
    GroupChoice,
    anchor_group,
    dbscan_segments,
    largest_clique,
    template_group,
)
from scopeweave_focusmetrics.qc.rules import (
    CurveFit,
    Threshold,
    blur_threshold,
    fit_focus_curve,
    motion_flags,
    motion_threshold,
)

from scopeweave.kinds.frame_metric import FrameMetric, score_frames

__all__ = ["StackQC", "assess_stack", "auto_bin_px"]

_MATRIX_MAX_FRAMES = 2000


@attrs.frozen(kw_only=True)
class StackQC:
    """Everything frame QC found in one stack (all per-frame arrays have one entry per frame)."""

    name: str
    metric_name: str
    higher_is_sharper: bool
    sharpness: NDArray[np.float64]
    extra: Mapping[str, NDArray[np.float64]]
    saturated: NDArray[np.float64]
    corr_prev: NDArray[np.float64]
    is_blurry: NDArray[np.bool_]
    is_shaken: NDArray[np.bool_]
    is_drift: NDArray[np.bool_]
    is_saturated: NDArray[np.bool_]
    focus_threshold: Threshold | None
    motion_threshold: Threshold | None
    motion_pairs: NDArray[np.int64]
    motion_corr: NDArray[np.float64]
    group: GroupChoice | None
    curve: CurveFit | None
    corr_matrix: NDArray[np.float64] | None
    bin_px: int
    frame_labels: tuple[str, ...] = ()
    thumbnails: Mapping[str, tuple[int, NDArray[np.float32]]] = attrs.field(factory=dict)

    @property
    def n_frames(self) -> int:
        """Frames in the stack."""
        return int(self.sharpness.size)

    @property
    def keep(self) -> NDArray[np.bool_]:
        """Frames that are neither blurry, shaken, drifted nor saturated."""
        return ~(self.is_blurry | self.is_shaken | self.is_drift | self.is_saturated)

    @property
    def best_frame(self) -> int:
        """The sharpest kept frame (the sharpest frame when none is kept)."""
        oriented = self.sharpness if self.higher_is_sharper else -self.sharpness
        oriented = np.where(np.isfinite(oriented), oriented, -np.inf)
        pool = np.flatnonzero(self.keep)
        if pool.size == 0:
            return int(np.argmax(oriented))
        return int(pool[np.argmax(oriented[pool])])


def auto_bin_px(shape: tuple[int, ...], requested: int, *, target_px: int = 512) -> int:
    """``requested`` if > 0, else the smallest bin that brings the longer side to <= ``target_px``."""
    if requested > 0:
        return requested
    return max(1, int(np.ceil(max(shape[-2:]) / target_px)))


def _thumbnail(frame: NDArray[np.generic], size_px: int = 256) -> NDArray[np.float32]:
    step = max(1, int(np.ceil(max(frame.shape) / size_px)))
    return np.asarray(frame[::step, ::step], dtype=np.float32)


def assess_stack(
    frames: NDArray[np.generic],
    *,
    metric: FrameMetric,
    metric_name: str,
    config: QcConfig,
    extra_metrics: Mapping[str, FrameMetric] | None = None,
    template: NDArray[np.generic] | None = None,
    name: str = "stack",
    frame_labels: tuple[str, ...] = (),
    saturation_level: float | None = None,
) -> StackQC:
    """Run the chain on a ``(n, y, x)`` stack.

    1. focus: ``is_blurry`` from the sharpness threshold;
    2. motion: pair correlations of consecutive frames (of the candidates, or of all frames) and, when
       asked, focus-curve residual outliers give ``is_shaken``;
    3. drift: among frames that passed 1 and 2, ``is_drift`` marks those outside the stable group
       (anchor, golden template, largest clique or largest DBSCAN segment).
    """
    stack = np.asarray(frames)
    if stack.ndim != 3 or len(stack) == 0:
        raise ValueError(f"stack {name!r} must be a non-empty (n, y, x) array (got shape {stack.shape}).")
    n = len(stack)
    higher = bool(metric.higher_is_sharper)
    sharpness = score_frames(metric, stack)
    oriented = np.where(np.isfinite(sharpness), sharpness if higher else -sharpness, -np.inf)
    extra = {key: score_frames(m, stack) for key, m in (extra_metrics or {}).items()}
    saturated = np.array([saturated_fraction(f, saturation_level) for f in stack])
    is_saturated = saturated > config.max_saturated_fraction

    # 1. focus
    focus = blur_threshold(sharpness, config.focus, higher_is_sharper=higher, metric_name=metric_name)
    is_blurry = focus.fails(sharpness) if focus is not None else np.zeros(n, dtype=bool)
    is_blurry |= ~np.isfinite(sharpness)

    # 2. motion
    bin_px = auto_bin_px(stack.shape, config.correlation_bin_px)
    z = standardise(stack, bin_px=bin_px)
    corr_prev = np.concatenate([[np.nan], consecutive(z)])
    rule = config.motion
    candidates = np.flatnonzero(~is_blurry & ~is_saturated)
    chain = candidates if rule.scope == "candidates" else np.arange(n)
    pairs = np.stack([chain[:-1], chain[1:]], axis=1) if chain.size > 1 else np.zeros((0, 2), dtype=np.int64)
    pair_corr = np.einsum("ij,ij->i", z[pairs[:, 0]].astype(np.float64), z[pairs[:, 1]].astype(np.float64)) \
        if len(pairs) else np.zeros(0)
    # The baseline (median, MAD) comes from every consecutive pair; the scope's pairs are judged against it.
    motion = motion_threshold(corr_prev[1:], rule)
    is_shaken = motion_flags(pairs, pair_corr, motion, n, attribution=rule.attribution)
    curve = fit_focus_curve(sharpness, rule, higher_is_sharper=higher)
    if curve is not None:
        is_shaken |= curve.outliers

    # 3. drift
    drift_rule = config.drift
    survivors = np.flatnonzero(~is_blurry & ~is_shaken & ~is_saturated)
    matrix = all_vs_all(z) if n <= _MATRIX_MAX_FRAMES else None
    group: GroupChoice | None
    if drift_rule.method == "anchor":
        group = anchor_group(z, survivors, oriented, anchor=drift_rule.anchor, top_k=drift_rule.top_k,
                             min_corr=drift_rule.min_corr)
    elif drift_rule.method == "template":
        if template is None:
            raise ValueError("drift method 'template' needs a template image.")
        group = template_group(z, survivors, template, bin_px=bin_px, min_corr=drift_rule.min_corr)
    elif drift_rule.method in ("clique", "dbscan"):
        if matrix is None:
            raise ValueError(f"stack {name!r} has {n} frames; the '{drift_rule.method}' method needs the all-vs-all "
                             f"matrix, computed for at most {_MATRIX_MAX_FRAMES} frames.")
        if drift_rule.method == "clique":
            group = largest_clique(matrix, survivors, oriented, min_corr=drift_rule.min_corr)
        else:
            group = dbscan_segments(matrix, survivors, oriented, min_corr=drift_rule.min_corr,
                                    min_samples=drift_rule.min_samples)
    else:
        group = None
    is_drift = np.zeros(n, dtype=bool)
    if group is not None:
        is_drift[survivors] = True
        is_drift[group.kept] = False

    thumbnails = _pick_thumbnails(stack, oriented)
    return StackQC(
        name=name, metric_name=metric_name, higher_is_sharper=higher, sharpness=sharpness, extra=extra,
        saturated=saturated, corr_prev=corr_prev, is_blurry=is_blurry, is_shaken=is_shaken, is_drift=is_drift,
        is_saturated=is_saturated, focus_threshold=focus, motion_threshold=motion, motion_pairs=pairs,
        motion_corr=pair_corr, group=group, curve=curve, corr_matrix=matrix, bin_px=bin_px,
        frame_labels=tuple(frame_labels), thumbnails=thumbnails,
    )


def _pick_thumbnails(stack: NDArray[np.generic], oriented: NDArray[np.float64]) -> dict[str, tuple[int, Any]]:
    order = np.argsort(oriented, kind="stable")
    picks = {"worst": int(order[0]), "median": int(order[len(order) // 2]), "best": int(order[-1])}
    return {key: (index, _thumbnail(stack[index])) for key, index in picks.items()}
