"""Figures of ``puncta-analyze`` (matplotlib's object API, Agg backend, written atomically)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scopeweave.atomic import atomic_path
from scopeweave_puncta.calcium import CalciumAnalysis
from scopeweave_puncta.ground_truth import GroundTruth
from scopeweave_puncta.msd import TrackSummary
from scopeweave_puncta.table import LocalizationTable
from scopeweave_puncta.tracking import Tracks

__all__ = ["plot_cooccurrence_heatmap", "plot_overlay", "plot_precision_histogram", "plot_trajectories"]

_MOBILITY_STYLE = {1: ("tab:red", "mobile"), 0: ("tab:blue", "immobile"), -1: ("0.6", "unclassified")}


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        fig.savefig(handle, format="png")
    return target


def _extent_um(shape: tuple[int, ...], pixel_size_nm: float) -> tuple[float, float, float, float]:
    height, width = shape[-2:]
    return (0.0, width * pixel_size_nm / 1000, height * pixel_size_nm / 1000, 0.0)


def plot_trajectories(path: str | os.PathLike[str], *, tracks: Tracks, summary: TrackSummary,
                      background: NDArray[np.floating[Any]], pixel_size_nm: float) -> Path:
    """Tracks over the movie's mean image, coloured mobile / immobile / unclassified."""
    fig = _figure(6.0, 5.6)
    ax = fig.add_subplot()
    ax.imshow(background, cmap="gray", extent=_extent_um(background.shape, pixel_size_nm), alpha=0.6)
    mobility = dict(zip(summary.track_id.tolist(), summary.mobile.tolist(), strict=True))
    loc = tracks.localizations
    seen: set[int] = set()
    for track in tracks.track_ids():
        rows = np.flatnonzero(tracks.track_id == track)
        rows = rows[np.argsort(loc.frame[rows])]
        cls = mobility.get(int(track), -1)
        colour, label = _MOBILITY_STYLE[cls]
        ax.plot(loc.x_nm[rows] / 1000, loc.y_nm[rows] / 1000, "-", color=colour, lw=1.0,
                label=label if cls not in seen else None)
        seen.add(cls)
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    counts = {label: int(np.sum(summary.mobile == cls)) for cls, (_, label) in _MOBILITY_STYLE.items()}
    ax.set_title(f"{tracks.n_tracks} tracks: {counts['mobile']} mobile, {counts['immobile']} immobile")
    if seen:
        ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path)


def plot_precision_histogram(path: str | os.PathLike[str], *, localizations: LocalizationTable) -> Path:
    """Histogram of the localization uncertainty (nm) with its median."""
    fig = _figure(5.0, 3.6)
    ax = fig.add_subplot()
    values = localizations.uncertainty_nm[np.isfinite(localizations.uncertainty_nm)]
    if values.size:
        upper = float(np.percentile(values, 99))
        ax.hist(values, bins=60, range=(0.0, max(upper, 1e-3)), color="tab:blue", alpha=0.8)
        median = float(np.median(values))
        ax.axvline(median, color="k", ls="--", lw=1)
        ax.set_title(f"localization precision: median {median:.1f} nm (n = {values.size})")
    else:
        ax.set_title("no localizations")
    ax.set_xlabel("uncertainty (nm)")
    ax.set_ylabel("localizations")
    return _save(fig, path)


def plot_cooccurrence_heatmap(path: str | os.PathLike[str], *, analysis: CalciumAnalysis, summary: TrackSummary,
                              frame_interval_ms: float) -> Path:
    """ΔF/F0 of every punctum over time (rows grouped mobile, immobile, unclassified), events marked."""
    fig = _figure(7.0, 4.8)
    ax = fig.add_subplot()
    mobility = dict(zip(summary.track_id.tolist(), summary.mobile.tolist(), strict=True))
    classes = np.array([mobility.get(int(t), -1) for t in analysis.track_ids])
    order = np.argsort(-classes, kind="stable")
    n_frames = analysis.dff.shape[1] if analysis.dff.ndim == 2 else 0
    duration_s = n_frames * frame_interval_ms / 1000
    if len(order):
        image = ax.imshow(analysis.dff[order], aspect="auto", cmap="magma", vmin=0.0,
                          vmax=max(float(np.percentile(analysis.dff, 99.5)), 0.1),
                          extent=(0.0, duration_s, len(order) - 0.5, -0.5), interpolation="nearest")
        fig.colorbar(image, ax=ax, label="ΔF/F0")
        row_of = {int(track): row for row, track in enumerate(analysis.track_ids[order])}
        ev = analysis.events
        ax.plot((ev.frame + 0.5) * frame_interval_ms / 1000, [row_of[int(t)] for t in ev.punctum_id], "c|", ms=7,
                label="detected events")
        for cls in (1, 0):
            boundary = int(np.sum(classes[order] >= cls)) - 0.5
            if 0 < boundary < len(order) - 0.5:
                ax.axhline(boundary, color="w", lw=0.8)
        ax.legend(loc="upper right", fontsize=8)
    stats = analysis.statistics
    ax.set_title(f"calcium at puncta: {stats['n_events']} events, enrichment over controls "
                 f"{stats['enrichment']:.1f}x")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("punctum (mobile first)")
    return _save(fig, path)


def plot_overlay(path: str | os.PathLike[str], *, frame_image: NDArray[np.floating[Any]], frame: int,
                 localizations: LocalizationTable, pixel_size_nm: float, truth: GroundTruth | None = None) -> Path:
    """One frame with its localizations (circles) and, when known, the true positions (crosses)."""
    fig = _figure(6.0, 5.6)
    ax = fig.add_subplot()
    ax.imshow(frame_image, cmap="gray", extent=_extent_um(frame_image.shape, pixel_size_nm))
    sel = localizations.frame == frame
    ax.plot(localizations.x_nm[sel] / 1000, localizations.y_nm[sel] / 1000, "o", mfc="none", mec="tab:orange",
            ms=9, label=f"localizations ({int(sel.sum())})")
    if truth is not None:
        true_sel = truth.frame == frame
        ax.plot(truth.x_nm[true_sel] / 1000, truth.y_nm[true_sel] / 1000, "+", color="tab:cyan", ms=8,
                label=f"ground truth ({int(true_sel.sum())})")
    ax.set_title(f"frame {frame}")
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path)
