"""The simulated astigmatic camera: renders what the stages see."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scopeweave_psf import render_gaussian

from scopeweave.kinds import Camera, Roi, Stage
from scopeweave_sim.drift import FocusDrift
from scopeweave_sim.params import SimCameraParams

__all__ = ["SimAstigmaticCamera", "render_noise_free"]


class SimAstigmaticCamera(Camera):
    """A camera looking at fluorescent beads through a cylindrical lens.

    Each frame is rendered from the current Z position (and XY position, when
    an XY stage is wired) plus the drift at the simulated time.
    """

    def __init__(self, params: SimCameraParams, *, z_stage: Stage | None = None, xy_stage: Stage | None = None) -> None:
        super().__init__(exposure_ms=params.exposure_ms, sensor_shape_px=params.sensor_shape_px)
        self.params = params
        self.z_stage = z_stage
        self.xy_stage = xy_stage
        self._drift = FocusDrift(params.focus_drift)
        self._rng = np.random.default_rng(params.seed)
        height, width = params.sensor_shape_px
        beads = params.beads_xy_um or (((width - 1) / 2 * params.pixel_size_um, (height - 1) / 2 * params.pixel_size_um),)
        self._beads_um = np.asarray(beads, dtype=float)
        self.frame_index = 0
        self._t0_wall = 0.0
        self.last_truth: dict[str, Any] = {}

    @property
    def pixel_size_um(self) -> float:
        return self.params.pixel_size_um

    @property
    def bit_depth(self) -> int:
        return self.params.bit_depth

    def _apply_exposure_ms(self, exposure_ms: float) -> float:
        """The simulation reads ``exposure_ms`` at each frame, so it accepts any exposure."""
        return exposure_ms

    def _apply_roi(self, roi: Roi) -> None:
        """The simulation renders the current ROI at each frame."""

    def _do_initialize(self) -> None:
        super()._do_initialize()
        self._t0_wall = time.perf_counter()

    # --- the simulated world ------------------------------------------------
    @property
    def time_s(self) -> float:
        """Simulated time of the next frame, seconds since initialisation."""
        if self.params.realtime:
            return time.perf_counter() - self._t0_wall
        return self.frame_index * (self.exposure_ms + self.params.readout_ms) / 1000.0

    def focus_drift_um(self, t_s: float) -> float:
        """How far the sample's focal plane has moved at ``t_s``."""
        return self._drift.dz_um(t_s)

    def defocus_um(self, t_s: float) -> float:
        """z of the beads in the width model: stage Z minus focus minus drift."""
        stage_z = self.z_stage.position_um()[0] if self.z_stage is not None else self.params.focus_z_um
        return stage_z - self.params.focus_z_um - self.focus_drift_um(t_s)

    def _xy_offset_um(self, t_s: float) -> NDArray[np.float64]:
        position = np.zeros(2)
        if self.xy_stage is not None:
            true_position = getattr(self.xy_stage, "true_position_um", self.xy_stage.position_um)
            position = np.asarray(true_position(), dtype=float)
        drift = np.asarray(self.params.lateral_drift_um_per_min) * t_s / 60.0
        return drift - position

    def expected_photons(self, t_s: float) -> NDArray[np.float64]:
        """Noise-free photons per pixel of the current ROI at ``t_s``."""
        p = self.params
        roi = self.roi
        z_um = self.defocus_um(t_s)
        sigma_x, sigma_y = float(p.psf_x.width_px(z_um)), float(p.psf_y.width_px(z_um))
        beads_px = (self._beads_um + self._xy_offset_um(t_s)) / p.pixel_size_um
        image = np.full(roi.shape_px, p.background_photons)
        centres = []
        for x_px, y_px in beads_px:
            x_local, y_local = x_px - roi.x_px, y_px - roi.y_px
            centres.append((x_local, y_local))
            reach = 6 * max(sigma_x, sigma_y)
            if -reach < x_local < roi.width_px + reach and -reach < y_local < roi.height_px + reach:
                image += render_gaussian(
                    roi.shape_px, x_px=x_local, y_px=y_local, sigma_x_px=sigma_x, sigma_y_px=sigma_y,
                    photons=p.photons, theta_rad=p.theta_rad,
                )
        self.last_truth = {
            "t_s": t_s, "z_um": z_um, "sigma_x_px": sigma_x, "sigma_y_px": sigma_y, "beads_px": centres,
        }
        return image

    def _fault(self) -> str | None:
        for fault in self.params.frame_faults:
            if fault.start_frame <= self.frame_index < fault.start_frame + fault.n_frames:
                return fault.kind
        return None

    def _do_snap(self) -> NDArray[np.uint16]:
        p = self.params
        t_s = self.time_s
        if p.realtime:
            time.sleep(self.exposure_ms / 1000.0)
        fault = self._fault()
        full_scale = 2**p.bit_depth - 1
        if fault == "blank":
            frame = np.zeros(self.roi.shape_px, dtype=np.uint16)
        elif fault == "saturated":
            frame = np.full(self.roi.shape_px, full_scale, dtype=np.uint16)
        else:
            photons = self.expected_photons(t_s)
            if fault == "dark":
                photons = np.full(self.roi.shape_px, p.background_photons)
            electrons = self._rng.poisson(photons).astype(float)
            counts = electrons * p.gain_adu_per_e + p.offset_adu
            counts += self._rng.normal(0.0, p.read_noise_e * p.gain_adu_per_e, size=counts.shape)
            frame = np.clip(np.rint(counts), 0, full_scale).astype(np.uint16)
        self.frame_index += 1
        return frame

    def counts_to_photons(self, frame: NDArray[np.generic]) -> NDArray[np.float64]:
        """Convert counts to photo-electrons with this camera's offset and gain."""
        return (np.asarray(frame, dtype=float) - self.params.offset_adu) / self.params.gain_adu_per_e


def render_noise_free(
    params: SimCameraParams, *, z_um: float, x_px: float, y_px: float, shape_px: tuple[int, int]
) -> NDArray[np.float64]:
    """Expected photons of one bead at defocus ``z_um`` (test and benchmark helper)."""
    sigma_x, sigma_y = float(params.psf_x.width_px(z_um)), float(params.psf_y.width_px(z_um))
    image = render_gaussian(shape_px, x_px=x_px, y_px=y_px, sigma_x_px=sigma_x, sigma_y_px=sigma_y,
                            photons=params.photons, theta_rad=params.theta_rad)
    return image + params.background_photons


