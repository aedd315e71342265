"""``calibration_sweep.png``: widths and ellipticity vs z with the fit, residuals, usable range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scopeweave.atomic import atomic_path
from scopeweave_focuslock.calibration import Calibration
from scopeweave_focuslock.gates import z_residuals_um
from scopeweave_focuslock.models.base import ellipticity

__all__ = ["calibration_figure", "save_calibration_figure"]

_X, _Y = "#1f77b4", "#d62728"


def calibration_figure(calibration: Calibration) -> Any:
    """A matplotlib Figure (Agg) of the calibration."""
    from matplotlib.figure import Figure

    s = calibration.samples
    model = calibration.model
    fig = Figure(figsize=(8.0, 9.0), layout="constrained")
    ax_w, ax_e, ax_r = fig.subplots(3, 1, sharex=True, height_ratios=(3, 2, 2))
    used, edge_out = s.in_model_fit, s.parametric & ~s.in_model_fit
    fallback = ~s.parametric
    for values, colour, label in ((s.sigma_x_px, _X, "sigma_x"), (s.sigma_y_px, _Y, "sigma_y")):
        ax_w.plot(s.z_um[used], values[used], "o", ms=4, color=colour, label=f"{label} (parametric fit)")
        if edge_out.any():
            ax_w.plot(s.z_um[edge_out], values[edge_out], "o", ms=5, mfc="none", color=colour,
                      label=f"{label} (touches ROI edge, not fitted)")
        if fallback.any():
            ax_w.plot(s.z_um[fallback], values[fallback], "x", ms=5, color=colour, alpha=0.6,
                      label=f"{label} (moment fallback)")
    e = ellipticity(s.sigma_x_px, s.sigma_y_px)
    ax_e.plot(s.z_um[used], e[used], "o", ms=4, color="k", label="parametric fit")
    if fallback.any():
        ax_e.plot(s.z_um[fallback], e[fallback], "x", ms=5, color="0.5", label="moment fallback")
    z_fine = np.linspace(float(s.z_um.min()), float(s.z_um.max()), 400)
    title = f"{calibration.model_name}: "
    if model is not None:
        widths = getattr(model, "widths_px", None)
        if widths is not None:
            wx, wy = widths(z_fine)
            ax_w.plot(z_fine, wx, "-", color=_X, lw=1.5, label="model sigma_x")
            ax_w.plot(z_fine, wy, "-", color=_Y, lw=1.5, label="model sigma_y")
        signal = getattr(model, "ellipticity_at", None)
        if signal is not None:
            ax_e.plot(z_fine, signal(z_fine), "-", color="k", lw=1.5, label="model")
        low, high = model.usable_range_um
        inside = used & (s.z_um >= low) & (s.z_um <= high)
        residual, ok = z_residuals_um(model, s.z_um[inside], s.sigma_x_px[inside], s.sigma_y_px[inside])
        ax_r.plot(s.z_um[inside][ok], residual[ok] * 1e3, "o", ms=4, color="k")
        if ok.any():
            rms = float(np.sqrt(np.mean(residual[ok] ** 2)) * 1e3)
            for level in (-rms, rms):
                ax_r.axhline(level, color="0.4", ls=":", lw=1)
            ax_r.text(0.01, 0.95, f"RMS {rms:.1f} nm", transform=ax_r.transAxes, va="top")
        for ax in (ax_w, ax_e, ax_r):
            ax.axvspan(low, high, color="#2ca02c", alpha=0.08, lw=0, label="usable range" if ax is ax_e else None)
            ax.axvline(model.focus_um, color="#2ca02c", ls="--", lw=1, label="focus" if ax is ax_e else None)
        title += f"focus {model.focus_um:+.3f} um, usable {low:+.3f}..{high:+.3f} um, "
    title += "armable" if calibration.armable else "NOT armable"
    fig.suptitle(title)
    failed = calibration.failed_gates
    if failed:
        ax_r.text(0.01, 0.05, "\n".join(g.message for g in failed), transform=ax_r.transAxes, fontsize=7,
                  va="bottom", color="#d62728", wrap=True)
    ax_w.set_ylabel("PSF sigma (px)")
    ax_e.set_ylabel("ellipticity (sx - sy)/(sx + sy)")
    ax_r.set_ylabel("z residual (nm)")
    ax_r.set_xlabel("z relative to the sweep centre (um)")
    ax_r.axhline(0.0, color="0.6", lw=0.8)
    ax_w.legend(fontsize=7, ncol=2, loc="upper center")
    ax_e.legend(fontsize=7, loc="best")
    return fig


def save_calibration_figure(calibration: Calibration, path: str | Path) -> Path:
    """Render :func:`calibration_figure` to a PNG atomically."""
    target = Path(path)
    fig = calibration_figure(calibration)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return target
