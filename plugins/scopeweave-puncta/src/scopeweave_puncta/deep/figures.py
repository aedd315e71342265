"""Figures of the deep workflows (matplotlib object API, Agg, written atomically)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scopeweave.atomic import atomic_path

__all__ = ["plot_comparison", "plot_training_curves"]


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        fig.savefig(handle, format="png")
    return target


def _series(history: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    return [float(row.get(key, math.nan)) for row in history]


def plot_training_curves(path: str | os.PathLike[str], history: Sequence[Mapping[str, Any]]) -> Path:
    """Loss, validation detection scores, RMSE and calcium F1 against the training step."""
    steps = _series(history, "step")
    fig = _figure(13.0, 3.6)
    ax_loss, ax_det, ax_rmse = fig.subplots(1, 3)
    ax_loss.plot(steps, _series(history, "train_loss"), label="train")
    ax_loss.plot(steps, _series(history, "val_loss"), label="validation")
    ax_loss.set(xlabel="step", ylabel="loss (symmetric log scale)", title="Loss")
    ax_loss.set_yscale("symlog")
    ax_loss.legend()
    for key in ("jaccard", "recall", "precision", "efficiency"):
        ax_det.plot(steps, _series(history, key), label=key)
    ax_det.set(xlabel="step", ylim=(0, 1), title="Localization (validation)")
    ax_det.legend(fontsize=8)
    ax_rmse.plot(steps, _series(history, "rmse_nm"), color="C3", label="RMSE")
    ax_rmse.set(xlabel="step", ylabel="lateral RMSE (nm)", title="RMSE and calcium F1 (validation)")
    twin = ax_rmse.twinx()
    twin.plot(steps, _series(history, "calcium_f1"), color="C2", label="calcium F1")
    twin.set(ylabel="calcium F1", ylim=(0, 1))
    return _save(fig, path)


def plot_comparison(path: str | os.PathLike[str], example: Mapping[str, Any], *, title: str,
                    baseline_name: str) -> Path:
    """One frame with the true emitters and both methods' localizations."""
    frame = example["frame"]
    pixel_um = example["pixel_size_nm"] / 1000.0
    height, width = frame.shape
    fig = _figure(6.0, 5.8)
    ax = fig.add_subplot()
    ax.imshow(frame, cmap="gray", extent=(0.0, width * pixel_um, height * pixel_um, 0.0))
    tx, ty = example["truth"]
    ax.plot(tx / 1000, ty / 1000, "o", mfc="none", mec="yellow", ms=10, label="truth")
    dx, dy = example["hybrid-unet"]
    ax.plot(dx / 1000, dy / 1000, "x", color="tab:red", ms=7, label="hybrid-unet")
    bx, by = example["baseline"]
    ax.plot(bx / 1000, by / 1000, "+", color="tab:cyan", ms=9, label=baseline_name)
    ax.set(xlabel="x (µm)", ylabel="y (µm)", title=title)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.7)
    return _save(fig, path)
