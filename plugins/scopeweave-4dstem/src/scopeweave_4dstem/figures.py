"""Figures: template montage, HSV polarisation map, DPC quiver, cluster mean patterns.

Built on matplotlib's object API with the Agg canvas (no pyplot state, no
display needed); each writer saves one PNG atomically.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scopeweave.atomic import atomic_path

__all__ = ["hsv_image", "save_cluster_mean", "save_hsv_polarisation", "save_quiver", "save_template_montage"]


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=110)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: str | os.PathLike[str]) -> None:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", bbox_inches="tight")


def _log_display(image: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    values = np.asarray(image, dtype=np.float64)
    return np.log1p(np.maximum(values - values.min(), 0))


def save_cluster_mean(path: str | os.PathLike[str], pattern: NDArray[np.floating[Any]]) -> None:
    """One mean pattern as an image (contrast-stretched to its 0.5-99.5 percentiles)."""
    from matplotlib.image import imsave

    values = np.asarray(pattern, dtype=np.float64)
    low, high = np.percentile(values, [0.5, 99.5])
    with atomic_path(path) as tmp:
        imsave(tmp, values, cmap="magma", vmin=low, vmax=high if high > low else low + 1, format="png")


def save_template_montage(
    path: str | os.PathLike[str],
    *,
    cluster_ids: NDArray[np.integer[Any]],
    mu_cluster: NDArray[np.floating[Any]],
    templates: NDArray[np.floating[Any]],
    gates: NDArray[np.floating[Any]],
    coverage: NDArray[np.floating[Any]],
    centre_yx: tuple[float, float],
) -> None:
    """Per cluster: its mean pattern, differential template and gate (with coverage)."""
    n = len(cluster_ids)
    figure = _figure(9.0, 2.6 * n + 0.4)
    axes = figure.subplots(n, 3, squeeze=False)
    for row, c in enumerate(cluster_ids):
        limit = float(np.abs(templates[row]).max()) or 1.0
        panels = [
            (mu_cluster[row], "viridis", None, f"cluster {int(c)}: mean pattern"),
            (templates[row], "RdBu_r", (-limit, limit), f"template T_{int(c)}"),
            (gates[row], "gray", (0.0, 1.0), f"gate G_{int(c)} ({coverage[row]:.0%} of detector)"),
        ]
        for ax, (image, cmap, limits, title) in zip(axes[row], panels, strict=True):
            kwargs = {} if limits is None else {"vmin": limits[0], "vmax": limits[1]}
            shown = ax.imshow(image, cmap=cmap, interpolation="nearest", **kwargs)
            ax.plot([centre_yx[1]], [centre_yx[0]], "+", color="tab:red", markersize=8)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.02, format="%.2g")
    figure.suptitle("Cluster-guided templates and virtual-detector gates", fontsize=10)
    _save(figure, path)


def hsv_image(
    ey: NDArray[np.floating[Any]], ex: NDArray[np.floating[Any]], *, saturate_percentile: float = 99.0
) -> NDArray[np.float64]:
    """RGB image: hue = field direction, value = magnitude (clipped at a percentile); NaN is black."""
    from matplotlib.colors import hsv_to_rgb

    magnitude = np.hypot(ey, ex)
    finite = np.isfinite(magnitude)
    top = float(np.percentile(magnitude[finite], saturate_percentile)) if finite.any() else 1.0
    hue = (np.arctan2(ey, ex) / (2 * np.pi)) % 1.0
    value = np.clip(magnitude / (top if top > 0 else 1.0), 0, 1)
    hsv = np.stack([np.nan_to_num(hue), np.ones_like(hue), np.nan_to_num(value)], axis=-1)
    return np.asarray(hsv_to_rgb(hsv), dtype=np.float64)


def _colour_wheel(ax: Any) -> None:
    from matplotlib.colors import hsv_to_rgb

    n = 101
    yy, xx = np.mgrid[-1 : 1 : n * 1j, -1 : 1 : n * 1j]
    radius = np.hypot(yy, xx)
    hue = (np.arctan2(yy, xx) / (2 * np.pi)) % 1.0
    rgb = hsv_to_rgb(np.stack([hue, np.ones_like(hue), np.clip(radius, 0, 1)], axis=-1))
    rgba = np.concatenate([rgb, (radius <= 1)[..., None].astype(float)], axis=-1)
    ax.imshow(rgba, interpolation="bilinear")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("direction", fontsize=7)


def save_hsv_polarisation(
    path: str | os.PathLike[str],
    ey: NDArray[np.floating[Any]],
    ex: NDArray[np.floating[Any]],
    *,
    units: str,
    scan_step: tuple[float, str] | None = None,
) -> None:
    """HSV polarisation map with a colour wheel (y down: hue follows screen directions)."""
    figure = _figure(6.4, 5.0)
    ax = figure.add_axes((0.06, 0.08, 0.68, 0.84))
    extent = _extent(ey.shape, scan_step)
    ax.imshow(hsv_image(ey, ex), interpolation="nearest", extent=extent)
    magnitude = np.hypot(ey, ex)
    finite = np.isfinite(magnitude)
    top = float(np.percentile(magnitude[finite], 99)) if finite.any() else 0.0
    ax.set_title(f"Projected field: hue = direction, brightness = |E| (full at {top:.3g} {units})", fontsize=9)
    _label_axes(ax, scan_step)
    _colour_wheel(figure.add_axes((0.77, 0.6, 0.2, 0.25)))
    _save(figure, path)


def save_quiver(
    path: str | os.PathLike[str],
    ey: NDArray[np.floating[Any]],
    ex: NDArray[np.floating[Any]],
    *,
    units: str,
    step: int = 0,
    scan_step: tuple[float, str] | None = None,
) -> None:
    """Field arrows (every ``step`` positions; 0 picks about 24 arrows across) over ``|E|``."""
    sy, sx = ey.shape
    step = step or max(1, round(max(sy, sx) / 24))
    figure = _figure(6.4, 5.0 * sy / max(sx, 1) + 0.6)
    ax = figure.add_subplot(1, 1, 1)
    magnitude = np.hypot(ey, ex)
    shown = ax.imshow(magnitude, cmap="gray", interpolation="nearest")
    figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.02, label=f"|E| ({units})")
    rows, cols = np.mgrid[0:sy:step, 0:sx:step]
    u, v = ex[::step, ::step], ey[::step, ::step]
    length = float(np.nanpercentile(np.hypot(u, v), 95)) if np.isfinite(u).any() else 0.0
    # y is down on screen: angles="xy" with an inverted y axis draws v along +row.
    ax.quiver(cols, rows, u, v, color="tab:orange", angles="xy", scale_units="xy",
              scale=(length / step) if length > 0 else 1.0, width=0.004)
    ax.set_xlim(-0.5, sx - 0.5)
    ax.set_ylim(sy - 0.5, -0.5)
    title = "DPC field (arrows) over |E|"
    if scan_step is not None:
        title += f"; probe step {scan_step[0]:.3g} {scan_step[1]}"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("scan x (probe positions)")
    ax.set_ylabel("scan y (probe positions)")
    _save(figure, path)


def _extent(shape: tuple[int, ...], scan_step: tuple[float, str] | None) -> tuple[float, float, float, float] | None:
    if scan_step is None:
        return None
    size = scan_step[0]
    return (-0.5 * size, (shape[1] - 0.5) * size, (shape[0] - 0.5) * size, -0.5 * size)


def _label_axes(ax: Any, scan_step: tuple[float, str] | None) -> None:
    unit = "probe positions" if scan_step is None else scan_step[1]
    ax.set_xlabel(f"scan x ({unit})")
    ax.set_ylabel(f"scan y ({unit})")
