"""The simulated astigmatic camera: renders what the stages see."""

from __future__ import annotations

import time
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray
from scopeweave_psf import ZhuangAxis, render_gaussian

from scopeweave.kinds import Camera, Roi, Stage
from scopeweave_sim.drift import DriftTerm, FocusDrift

__all__ = ["FrameFault", "SimAstigmaticCamera", "SimCameraParams"]


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def _sensor_shape(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int]) -> None:
    if min(value) < 4:
        raise ValueError(f"'{attribute.name}' must be at least 4 x 4 px (got {value!r}).")


def _bit_depth(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 8 <= value <= 16:
        raise ValueError(f"'{attribute.name}' must be between 8 and 16 (got {value!r}).")


@attrs.frozen(kw_only=True)
class FrameFault:
    """Frames ``start_frame .. start_frame + n_frames - 1`` (0-based) come out wrong.

    Attributes
    ----------
    kind
        ``blank`` (all zero counts), ``saturated`` (every pixel at full scale)
        or ``dark`` (the beads vanish; background and noise remain).
    """

    kind: Literal["blank", "saturated", "dark"]
    start_frame: int = attrs.field(validator=_non_negative)
    n_frames: int = attrs.field(default=1, validator=_positive)


@attrs.frozen(kw_only=True)
class SimCameraParams:
    """Parameters of ``sim-astigmatic``.

    Attributes
    ----------
    exposure_ms
        Exposure time; with ``realtime = false`` the simulated clock advances
        by ``exposure_ms + readout_ms`` per frame.
    sensor_shape_px
        ``(height, width)`` of the sensor.
    pixel_size_um
        Pixel size in the sample plane.
    bit_depth
        Digitiser depth; counts saturate at ``2**bit_depth - 1``.
    photons
        Photons collected from each bead per frame.
    background_photons
        Background photons per pixel per frame.
    read_noise_e
        Gaussian read noise (electrons RMS).
    offset_adu
        Camera baseline in counts.
    gain_adu_per_e
        Counts per photo-electron.
    psf_x, psf_y
        Zhuang width model of each axis (widths in pixels, z in um, z = 0 at focus).
    theta_rad
        Rotation of the astigmatic axes relative to the sensor.
    focus_z_um
        Z-stage position at which the beads are at z = 0 of the width model.
    beads_xy_um
        Bead positions in the sample plane (um, relative to the sensor's top-left
        corner when the XY stage is at 0, 0); empty puts one bead at the centre.
    focus_drift
        Terms of the focus drift (ramp, sine, steps, random_walk), added up.
    lateral_drift_um_per_min
        Constant lateral drift of the sample, ``(x, y)``.
    frame_faults
        Frames that come out blank, saturated or dark.
    seed
        Seed of the noise; equal seeds give equal movies.
    realtime
        Sleep for the exposure and use the wall clock (hardware-like timing).
    readout_ms
        Extra simulated time per frame.
    """

    exposure_ms: float = attrs.field(default=10.0, validator=_positive)
    sensor_shape_px: tuple[int, int] = attrs.field(default=(64, 64), validator=_sensor_shape)
    pixel_size_um: float = attrs.field(default=0.1, validator=_positive)
    bit_depth: int = attrs.field(default=16, validator=_bit_depth)
    photons: float = attrs.field(default=20000.0, validator=_non_negative)
    background_photons: float = attrs.field(default=10.0, validator=_non_negative)
    read_noise_e: float = attrs.field(default=1.5, validator=_non_negative)
    offset_adu: float = attrs.field(default=100.0, validator=_non_negative)
    gain_adu_per_e: float = attrs.field(default=1.0, validator=_positive)
    psf_x: ZhuangAxis = ZhuangAxis(w0_px=1.5, c_um=0.2, d_um=0.4, a=0.05, b=0.02)
    psf_y: ZhuangAxis = ZhuangAxis(w0_px=1.5, c_um=-0.2, d_um=0.4, a=-0.05, b=0.02)
    theta_rad: float = 0.0
    focus_z_um: float = 100.0
    beads_xy_um: tuple[tuple[float, float], ...] = ()
    focus_drift: tuple[DriftTerm, ...] = ()
    lateral_drift_um_per_min: tuple[float, float] = (0.0, 0.0)
    frame_faults: tuple[FrameFault, ...] = ()
    seed: int = 0
    realtime: bool = False
    readout_ms: float = attrs.field(default=0.0, validator=_non_negative)


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

    def _apply_exposure_ms(self, exposure_ms: float) -> None:
        """The simulation reads ``exposure_ms`` at each frame."""

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


def render_noise_free(params: SimCameraParams, *, z_um: float, x_px: float, y_px: float, shape_px: tuple[int, int]) -> NDArray[np.float64]:
    """Expected photons of one bead at defocus ``z_um`` (test and benchmark helper)."""
    sigma_x, sigma_y = float(params.psf_x.width_px(z_um)), float(params.psf_y.width_px(z_um))
    image = render_gaussian(shape_px, x_px=x_px, y_px=y_px, sigma_x_px=sigma_x, sigma_y_px=sigma_y,
                            photons=params.photons, theta_rad=params.theta_rad)
    return image + params.background_photons


