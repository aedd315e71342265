"""Workflow ``focus-calibrate``: sweep Z through focus, fit the spot, fit the focus model, gate it.

Acquisition comes first (move, settle, snap; nothing else in the loop, so the
sweep stays smooth), fitting after it, and the stage returns to where it
started whatever happens.  The fitting is the seed's two-pass theta: free
theta, one global theta from the good fits, then theta fixed.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import tifffile
from numpy.typing import NDArray
from scipy import ndimage

from scopeweave.atomic import atomic_path
from scopeweave.kinds import Camera, Stage
from scopeweave.kinds.focus_model import FocusModel
from scopeweave.runs import RunContext
from scopeweave_focuslock.calibration import Calibration, CalibrationError, CalibrationSamples, build_calibration
from scopeweave_focuslock.calibration_io import save_calibration, versions
from scopeweave_focuslock.figure import save_calibration_figure
from scopeweave_focuslock.models import ZhuangFocusModel
from scopeweave_focuslock.params import CalibrateParams, DetectionOptions
from scopeweave_focuslock.spotfit import SpotTable, measure_spots
from scopeweave_focuslock.theta import GlobalTheta, global_theta

__all__ = ["CalibrateParams", "CalibrationSweep", "RawSweep", "fit_sweep", "roi_around"]












@attrs.frozen(kw_only=True, eq=False)
class RawSweep:
    """What the acquisition recorded (before any fitting).

    Attributes
    ----------
    rois_counts
        ``(n, h, w)`` raw counts of the ROI in every frame.
    stage_z_um
        The stage's reported position at each frame.
    step
        Index of the Z step of each frame.
    start_um
        Stage position before the sweep (and after it).
    roi
        ``(x, y, width, height)`` of the ROI on the frame, px.
    saturated
        Frames whose ROI holds a pixel at the camera's full scale.
    """

    rois_counts: NDArray[np.uint16]
    stage_z_um: NDArray[np.float64]
    step: NDArray[np.int64]
    start_um: float
    roi: tuple[int, int, int, int]
    saturated: NDArray[np.bool_]


def roi_around(frame: NDArray[np.generic], size_px: int, centre_px: tuple[float, float] | None) -> tuple[int, ...]:
    """``(x, y, width, height)`` of a square ROI on the spot (brightest smoothed pixel when no centre)."""
    height, width = frame.shape
    if size_px > min(height, width):
        raise ValueError(f"'roi_size_px' {size_px} does not fit the {width} x {height} px frame")
    if centre_px is None:
        smooth = ndimage.gaussian_filter(np.asarray(frame, dtype=np.float64), 1.5)
        row, col = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
        cx, cy = float(col), float(row)
    else:
        cx, cy = centre_px
        if not (0 <= cx < width and 0 <= cy < height):
            raise ValueError(f"'roi_center_px' {centre_px} lies outside the {width} x {height} px frame")
    x0 = int(np.clip(round(cx - (size_px - 1) / 2), 0, width - size_px))
    y0 = int(np.clip(round(cy - (size_px - 1) / 2), 0, height - size_px))
    return (x0, y0, size_px, size_px)


def _photons_converter(params: CalibrateParams, camera: Camera) -> Any:
    if params.camera_offset_adu is not None or params.camera_gain_adu_per_e is not None:
        offset = params.camera_offset_adu or 0.0
        gain = params.camera_gain_adu_per_e or 1.0
        return lambda counts: (np.asarray(counts, dtype=np.float64) - offset) / gain
    convert = getattr(camera, "counts_to_photons", None)
    if convert is None:
        raise CalibrationError(
            f"camera {type(camera).__name__} has no counts_to_photons(); set camera_offset_adu and "
            "camera_gain_adu_per_e in the focus-calibrate params"
        )
    return convert


def fit_sweep(
    photons: NDArray[np.float64],
    *,
    detection: DetectionOptions,
    readout_variance: float = 0.0,
    saturated: NDArray[np.bool_] | None = None,
    theta_snap_rad: float = 0.0175,
) -> tuple[SpotTable, GlobalTheta]:
    """Two-pass fit of the sweep's ROIs: free theta, global theta, theta fixed."""
    if detection.fast_mode or not detection.use_gaussian_fit:
        theta = GlobalTheta(theta_rad=0.0, mean_rad=0.0, standard_error_rad=math.nan, snapped=True, n_fits=0)
    else:
        first = measure_spots(photons, options=detection, readout_variance=readout_variance, saturated=saturated)
        good = first.parametric & ~first.edge
        try:
            theta = global_theta(first.theta_rad[good], first.theta_err_rad[good], snap_rad=theta_snap_rad)
        except ValueError:
            theta = GlobalTheta(theta_rad=0.0, mean_rad=math.nan, standard_error_rad=math.nan, snapped=True, n_fits=0)
    second = measure_spots(photons, options=detection, theta_rad=theta.theta_rad, readout_variance=readout_variance,
                           saturated=saturated)
    return second, theta


class CalibrationSweep:
    """The ``focus-calibrate`` workflow."""

    def __init__(self, params: CalibrateParams, *, camera: Camera, stage: Stage, model: FocusModel | None) -> None:
        if stage.axes != ("z",):
            raise ValueError(f"'stage' must be a Z stage with axes ('z',) (got {stage.axes}).")
        self.params = params
        self.camera = camera
        self.stage = stage
        self.model: FocusModel = model if model is not None else ZhuangFocusModel()

    def acquire(self, context: RunContext | None = None) -> RawSweep:
        """Move through the planes and record the ROI; back to the start afterwards."""
        p = self.params
        start_um = self.stage.position_um()[0]
        planes_um = start_um + np.linspace(-p.half_range_um, p.half_range_um, p.n_steps)
        low, high = self.stage.limits_um[0]
        if planes_um[0] < low or planes_um[-1] > high:
            raise CalibrationError(
                f"the sweep {planes_um[0]:.3f}..{planes_um[-1]:.3f} um leaves the stage limits [{low}, {high}] um; "
                "reduce half_range_um or move the stage"
            )
        first = self.camera.snap()
        x0, y0, w, h = roi_around(first, p.roi_size_px, p.roi_center_px)
        full_scale = 2**self.camera.bit_depth - 1
        n = p.n_steps * p.frames_per_step
        rois = np.empty((n, h, w), dtype=first.dtype)
        stage_z = np.empty(n)
        step = np.repeat(np.arange(p.n_steps), p.frames_per_step)
        progress = context.progress("calibration sweep", p.n_steps) if context is not None else None
        try:
            with progress if progress is not None else contextlib.nullcontext():
                k = 0
                for z_um in planes_um:
                    self.stage.move_to_um((float(z_um),))
                    if p.settle_ms > 0:
                        time.sleep(p.settle_ms / 1000.0)
                    position = self.stage.position_um()[0]
                    for _ in range(p.frames_per_step):
                        frame = self.camera.snap()
                        rois[k] = frame[y0:y0 + h, x0:x0 + w]
                        stage_z[k] = position
                        k += 1
                    if progress is not None:
                        progress.advance()
        finally:
            self.stage.move_to_um((start_um,))
        saturated = rois.reshape(n, -1).max(axis=1) >= full_scale
        return RawSweep(rois_counts=rois, stage_z_um=stage_z, step=step, start_um=float(start_um),
                        roi=(x0, y0, w, h), saturated=saturated)

    def process(self, raw: RawSweep) -> Calibration:
        """Fit every frame (two-pass theta), then the focus model and the gates."""
        p = self.params
        photons = _photons_converter(p, self.camera)(raw.rois_counts)
        gain = p.camera_gain_adu_per_e or 1.0
        readout_variance = p.read_noise_e**2 + 1.0 / (12.0 * gain**2)
        spots, theta = fit_sweep(photons, detection=p.detection, readout_variance=readout_variance,
                                 saturated=raw.saturated, theta_snap_rad=p.theta_snap_rad)
        samples = CalibrationSamples.from_spots(spots, z_um=raw.stage_z_um - raw.start_um, stage_z_um=raw.stage_z_um,
                                                step=raw.step, exclude_edge_samples=p.exclude_edge_samples)
        x0, y0, w, h = raw.roi
        metadata = {
            "sweep": {"half_range_um": p.half_range_um, "n_steps": p.n_steps, "frames_per_step": p.frames_per_step,
                      "settle_ms": p.settle_ms, "start_um": raw.start_um},
            "roi": {"x_px": x0, "y_px": y0, "width_px": w, "height_px": h},
            "detection": attrs.asdict(p.detection),
            "theta": attrs.asdict(theta),
            "readout_variance_photons2": readout_variance,
            "versions": versions(),
        }
        return build_calibration(
            samples, model=self.model, theta_rad=theta.theta_rad, pixel_size_nm=self.camera.pixel_size_um * 1e3,
            thresholds=p.gates, expected_slope=p.expected_slope, sweep_center_stage_um=raw.start_um,
            metadata=metadata,
        )

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        with context.timed("acquire"):
            raw = self.acquire(context)
        context.events.emit("sweep_acquired", frames=int(raw.rois_counts.shape[0]), roi=list(raw.roi),
                            returned_to_um=self.stage.position_um()[0])
        with context.timed("fit"):
            calibration = self.process(raw)
        for gate in calibration.gates:
            context.events.emit("calibration_gate", name=gate.name, passed=gate.passed, value=gate.value,
                                threshold=gate.threshold, message=gate.message)
        with context.timed("write"):
            self._write(calibration, raw, context)
        results = self._results(calibration, raw)
        if p.fail_on_gates and not calibration.armable:
            raise CalibrationError(
                "calibration rejected: " + "; ".join(g.message for g in calibration.failed_gates)
                + f" (files in {context.run_dir})"
            )
        return results

    def _write(self, calibration: Calibration, raw: RawSweep, context: RunContext) -> None:
        p = self.params
        stem = p.filename_stem
        save_calibration(calibration, context.product_path(f"{stem}.csv"), thresholds=p.gates)
        context.product_path(f"{stem}.meta.json")
        save_calibration_figure(calibration, context.product_path(f"{stem}.png"))
        if p.save_frames:
            with atomic_path(context.product_path(f"{stem}_frames.tif")) as tmp:
                tifffile.imwrite(tmp, raw.rois_counts, metadata={"axes": "ZYX"})
        if p.save_to is not None:
            directory = Path(p.save_to)
            directory.mkdir(parents=True, exist_ok=True)
            save_calibration(calibration, directory / f"{stem}.csv", thresholds=p.gates)
            save_calibration_figure(calibration, directory / f"{stem}.png")

    def _results(self, calibration: Calibration, raw: RawSweep) -> dict[str, Any]:
        s = calibration.samples
        model = calibration.model
        return {
            "summary": calibration.summary(),
            "armable": calibration.armable,
            "model": calibration.model_name,
            "model_parameters": model.to_dict() if model is not None else None,
            "focus_um": model.focus_um if model is not None else None,
            "usable_range_um": list(model.usable_range_um) if model is not None else None,
            "theta_rad": calibration.theta_rad,
            "gates": [gate.to_dict() for gate in calibration.gates],
            "n_samples": len(s),
            "n_parametric": int(s.parametric.sum()),
            "n_in_model_fit": int(s.in_model_fit.sum()),
            "n_edge": int(s.edge.sum()),
            "roi": list(raw.roi),
            "returned_to_um": self.stage.position_um()[0],
        }
