"""Parameter classes of the simulated microscope (cheap to import: registration needs only these)."""

from __future__ import annotations

import math
from typing import Any, Literal

import attrs
from scopeweave_psf.astigmatism import ZhuangAxis

from scopeweave_sim.drift import DriftTerm

__all__ = ["FrameFault", "SimCameraParams", "SimXYParams", "SimZParams", "ZStackParams"]


def _at_least(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum} (got {value!r}).")

    return check


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


def _optional_positive_int(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 when given (got {value!r}).")


def _directions(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int]) -> None:
    if len(value) != 2 or any(v not in (-1, 0, 1) for v in value):
        raise ValueError(f"'{attribute.name}' must hold -1, 0 or 1 per axis (got {value!r}).")


def _limits(instance: object, attribute: attrs.Attribute[Any], value: tuple[float, float]) -> None:
    low, high = value
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"'{attribute.name}' must be finite with low < high (got {value!r}).")


@attrs.frozen(kw_only=True)
class SimZParams:
    """Parameters of ``sim-z``.

    Attributes
    ----------
    limits_um
        ``(low, high)`` travel range.
    start_um
        Position after initialisation.
    settle_ms
        Real time each move waits before it returns.
    step_um
        Position quantisation (0: continuous).
    fail_after_moves
        The move after this many raises a stage fault.
    stuck_after_moves
        After this many moves the stage silently stops moving.
    """

    limits_um: tuple[float, float] = attrs.field(default=(0.0, 200.0), validator=_limits)
    start_um: float = 100.0
    settle_ms: float = attrs.field(default=0.0, validator=_non_negative)
    step_um: float = attrs.field(default=0.0, validator=_non_negative)
    fail_after_moves: int | None = attrs.field(default=None, validator=_optional_positive_int)
    stuck_after_moves: int | None = attrs.field(default=None, validator=_optional_positive_int)

    def __attrs_post_init__(self) -> None:
        low, high = self.limits_um
        if not low <= self.start_um <= high:
            raise ValueError(f"'start_um' must lie inside limits_um {self.limits_um} (got {self.start_um}).")


@attrs.frozen(kw_only=True)
class SimXYParams:
    """Parameters of ``sim-xy``: a stage that reports where it was told to go.

    The stage's true position differs from the commanded one by systematic
    errors (for the stage-correction tests): ``true = M @ commanded +
    backlash + first-move error + per-move noise + thermal drift``, with
    ``M = [[scale_x, skew], [0, scale_y]]``.

    Attributes
    ----------
    limits_um
        ``((x_low, x_high), (y_low, y_high))``.
    start_um
        Position after initialisation.
    scale_x, scale_y
        Per-axis scale errors (1 = none).
    skew
        Shear of x with y (``true_x += skew * commanded_y``).
    backlash_um
        ``(x, y)`` lost motion after a direction reversal on that axis.
    cross_backlash_um
        ``(x, y)``: a reversal on X also shifts Y by the first value (gantry
        twist), a reversal on Y shifts X by the second, so a position depends
        on the direction the other axis last moved in.
    start_direction
        Direction (-1, 0 or 1 per axis) each axis last moved in before
        initialisation (0: unknown, no backlash on the first move).
    first_move_error_um
        ``(x, y)`` extra travel, along the move, of the first move on each
        axis (stiction break, lead-screw wind-up); the next move on that
        axis releases it.
    move_noise_um
        RMS of a fresh random error after each move (repeatability).
    thermal_drift_um_per_min
        ``(x, y)`` drift rate over the stage's simulated time.
    move_time_s
        Simulated time each move takes (drives the thermal drift).
    seed
        Seed of the move noise.
    """

    limits_um: tuple[tuple[float, float], tuple[float, float]] = ((-50000.0, 50000.0), (-50000.0, 50000.0))
    start_um: tuple[float, float] = (0.0, 0.0)
    scale_x: float = 1.0
    scale_y: float = 1.0
    skew: float = 0.0
    backlash_um: tuple[float, float] = (0.0, 0.0)
    cross_backlash_um: tuple[float, float] = (0.0, 0.0)
    start_direction: tuple[int, int] = attrs.field(default=(0, 0), validator=_directions)
    first_move_error_um: tuple[float, float] = (0.0, 0.0)
    move_noise_um: float = attrs.field(default=0.0, validator=_non_negative)
    thermal_drift_um_per_min: tuple[float, float] = (0.0, 0.0)
    move_time_s: float = attrs.field(default=1.0, validator=_non_negative)
    seed: int = 0


@attrs.frozen(kw_only=True)
class ZStackParams:
    """Parameters of ``sim-zstack``.

    Attributes
    ----------
    half_range_um
        The stack spans the current Z +- this.
    n_steps
        Number of planes.
    frames_per_step
        Frames averaged per plane.
    filename
        TIFF written into the run directory (axes ZYX).
    """

    half_range_um: float = attrs.field(default=1.0, validator=_positive)
    n_steps: int = attrs.field(default=21, validator=_at_least(2))
    frames_per_step: int = attrs.field(default=1, validator=_at_least(1))
    filename: str = "zstack.tif"


