"""Regenerate the figures of docs/plugins/focuslock.md (run by hand from the repository root).

    .venv/bin/python plugins/scopeweave-focuslock/tools/make_doc_figures.py

Writes docs/images/focuslock/calibration_sweep.png (the example session's
calibration), calibration_rejected.png (a sweep started 0.7 um from focus) and
z_precision.png (single-frame z spread against the CRLB on the simulator).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scopeweave_focuslock.figure import save_calibration_figure
from scopeweave_focuslock.models import zhuang_calibration
from scopeweave_focuslock.params import CalibrateParams
from scopeweave_focuslock.precision import z_crlb
from scopeweave_focuslock.spotfit import measure_spots
from scopeweave_focuslock.sweep import CalibrationSweep
from scopeweave_psf import render_gaussian
from scopeweave_sim import SimAstigmaticCamera, SimCameraParams, SimZParams, SimZStage

from scopeweave.atomic import atomic_path
from scopeweave.registry import Registry
from scopeweave.session import load_session, run_session

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "docs" / "images" / "focuslock"


def example_calibration() -> None:
    registry = Registry.discover(strict=True, blocked=())
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_session(load_session(ROOT / "examples/sessions/focus-calibrate-sim.toml", registry), registry,
                              output_root=tmp)
        shutil.copyfile(outcome.run_dir / "calibration_sweep.png", OUT / "calibration_sweep.png")


def rejected_calibration() -> None:
    stage = SimZStage(SimZParams(start_um=100.7))
    camera = SimAstigmaticCamera(SimCameraParams(sensor_shape_px=(32, 32), seed=2), z_stage=stage)
    with stage, camera:
        workflow = CalibrationSweep(CalibrateParams(settle_ms=0.0, read_noise_e=1.5), camera=camera, stage=stage,
                                    model=None)
        calibration = workflow.process(workflow.acquire())
    save_calibration_figure(calibration, OUT / "calibration_rejected.png")


def z_precision() -> None:
    truth = SimCameraParams()
    shape = (15, 15)
    model = zhuang_calibration(truth.psf_x, truth.psf_y, z_min_um=-0.8, z_max_um=0.8, width_residual_rms_px=0.01)
    low, high = model.usable_range_um
    z_grid = np.linspace(low + 0.04, high - 0.04, 11)
    rng = np.random.default_rng(4)
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.subplots()
    for photons, colour in ((1e3, "#1f77b4"), (1e4, "#ff7f0e"), (1e5, "#2ca02c")):
        spread = []
        for z in z_grid:
            sx, sy = float(truth.psf_x.width_px(z)), float(truth.psf_y.width_px(z))
            mu = 10.0 + render_gaussian(shape, x_px=7.0, y_px=7.0, sigma_x_px=sx, sigma_y_px=sy, photons=photons)
            frames = rng.poisson(mu, size=(300, *shape)).astype(float)
            spots = measure_spots(frames, theta_rad=0.0)
            estimate = model.z_from_widths(spots.sigma_x_px, spots.sigma_y_px, width_covariance=spots.width_covariance)
            ok = estimate.in_domain
            spread.append(np.std(estimate.z_um[ok]) * 1e3)
        bound = z_crlb(truth.psf_x, truth.psf_y, z_grid, shape_px=shape, photons=photons, background=10.0).z_um * 1e3
        ax.semilogy(z_grid, spread, "o", color=colour, label=f"{photons:.0e} photons: single-frame SD")
        ax.semilogy(z_grid, bound, "-", color=colour, label=f"{photons:.0e} photons: CRLB")
    ax.minorticks_off()
    ax.set_xlabel("z (um)")
    ax.set_ylabel("z precision (nm)")
    ticks = [1, 2, 5, 10, 20, 50, 100]
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.set_ylim(1, 100)
    ax.set_title("Single-frame z, 15 x 15 ROI, 10 background photons/px (300 frames per point)", fontsize=10)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    with atomic_path(OUT / "z_precision.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    example_calibration()
    rejected_calibration()
    z_precision()


if __name__ == "__main__":
    main()
