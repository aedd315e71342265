"""PNG figures (matplotlib, Agg, object API so that it is thread safe): score curve, matrix, montage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from scopeweave.atomic import atomic_path
from scopeweave_focusmetrics.qc.assess import StackQC

__all__ = ["plot_correlation_matrix", "plot_focus_curve", "plot_montage", "plot_score_curve", "save_figure"]

_COLOURS = {"blurry": "#d62728", "shaken": "#ff7f0e", "drift": "#9467bd", "saturated": "#8c564b", "kept": "#2ca02c"}


def save_figure(figure: Figure, path: Path) -> None:
    """Write ``figure`` as PNG atomically."""
    FigureCanvasAgg(figure)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)


def plot_score_curve(qc: StackQC, path: Path) -> None:
    """Sharpness per frame with the focus threshold, flags coloured, and corr(i-1, i) below."""
    figure = Figure(figsize=(8.0, 5.2), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    frames = np.arange(qc.n_frames)
    top.plot(frames, qc.sharpness, color="0.4", lw=1, zorder=1)
    for label, mask in (("blurry", qc.is_blurry), ("shaken", qc.is_shaken & ~qc.is_blurry),
                        ("drift", qc.is_drift), ("saturated", qc.is_saturated), ("kept", qc.keep)):
        if np.any(mask):
            top.scatter(frames[mask], qc.sharpness[mask], s=22, color=_COLOURS[label], label=label, zorder=2)
    if qc.focus_threshold is not None:
        top.axhline(qc.focus_threshold.value, color=_COLOURS["blurry"], ls="--", lw=1,
                    label=f"focus threshold ({qc.focus_threshold.reason.split(':')[0]})")
    top.axvline(qc.best_frame, color="k", lw=0.8, ls=":", label=f"best frame {qc.best_frame}")
    top.set_ylabel(qc.metric_name)
    top.set_title(f"{qc.name}: {int(qc.keep.sum())} of {qc.n_frames} frames kept")
    top.legend(fontsize=7, loc="best")
    bottom.plot(frames, qc.corr_prev, color="0.3", marker=".", lw=1)
    if qc.motion_threshold is not None:
        bottom.axhline(qc.motion_threshold.value, color=_COLOURS["shaken"], ls="--", lw=1, label="motion threshold")
        bottom.legend(fontsize=7, loc="lower left")
    bottom.set_ylabel("corr(i-1, i)")
    bottom.set_xlabel("frame")
    save_figure(figure, path)


def plot_correlation_matrix(qc: StackQC, path: Path) -> None:
    """All-vs-all Pearson matrix with the kept group outlined."""
    if qc.corr_matrix is None:
        return
    figure = Figure(figsize=(5.6, 4.8), layout="constrained")
    axes = figure.subplots()
    low = float(np.nanmin(qc.corr_matrix))
    image = axes.imshow(qc.corr_matrix, vmin=min(low, 0.9), vmax=1.0, cmap="magma", interpolation="nearest")
    figure.colorbar(image, ax=axes, label="Pearson r")
    kept = np.flatnonzero(qc.keep)
    if kept.size:
        axes.scatter(kept, kept, marker="s", s=12, facecolors="none", edgecolors="#2ca02c", label="kept")
        axes.legend(fontsize=7, loc="upper right")
    axes.set_xlabel("frame")
    axes.set_ylabel("frame")
    axes.set_title(f"{qc.name}: correlation (bin {qc.bin_px} px)")
    save_figure(figure, path)


def plot_montage(qc: StackQC, path: Path) -> None:
    """Worst, median and best frames by sharpness, each with its own contrast stretch."""
    keys = [k for k in ("worst", "median", "best") if k in qc.thumbnails]
    figure = Figure(figsize=(3.2 * len(keys), 3.4), layout="constrained")
    axes_list: Sequence = figure.subplots(1, len(keys), squeeze=False)[0]
    for axes, key in zip(axes_list, keys, strict=False):
        index, image = qc.thumbnails[key]
        low, high = np.percentile(image, (0.5, 99.5))
        axes.imshow(image, cmap="gray", vmin=low, vmax=high if high > low else low + 1)
        axes.set_title(f"{key}: frame {index}\n{qc.metric_name} {qc.sharpness[index]:.4g}", fontsize=9)
        axes.set_axis_off()
    save_figure(figure, path)


def plot_focus_curve(positions_um: NDArray[np.float64], scores: NDArray[np.float64], *, best_um: float,
                     metric_name: str, path: Path, phases: Sequence[str] = ()) -> None:
    """Autofocus evaluations: score against stage position, coarse and refine phases marked."""
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    axes = figure.subplots()
    phase = np.asarray(phases) if len(phases) else np.array(["scan"] * len(positions_um))
    for name, marker in (("coarse", "o"), ("refine", "x")):
        mask = phase == name
        if np.any(mask):
            axes.scatter(positions_um[mask], scores[mask], marker=marker, label=name)
    order = np.argsort(positions_um)
    axes.plot(positions_um[order], scores[order], color="0.6", lw=0.8, zorder=0)
    axes.axvline(best_um, color="k", ls=":", label=f"best {best_um:.3f} um")
    axes.set_xlabel("stage z (um)")
    axes.set_ylabel(metric_name)
    axes.legend(fontsize=8)
    save_figure(figure, path)
